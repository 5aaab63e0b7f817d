#include <time.h>
#include "clock.h"

int64_t mcpc_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mcpc_clock_left(int64_t deadline)
{
    int64_t left = deadline - mcpc_clock_ms();
    if (left < 0)
        return 0;
    if (left > INT32_MAX)
        return INT32_MAX;
    return (int)left;
}

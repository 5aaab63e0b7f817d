/* Monotonic time in milliseconds, and deadline arithmetic. */
#ifndef MCPC_CLOCK_H
#define MCPC_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock (not wall time). */
int64_t mcpc_clock_ms(void);

/* Milliseconds left until `deadline` (an mcpc_clock_ms value), never negative, capped to INT32. */
int mcpc_clock_left(int64_t deadline);

#endif

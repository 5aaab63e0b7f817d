#include <stdio.h>
#include <errno.h>

#include "ledger.h"

long mcpc_ledger_count(const char *path)
{
    char buf[65536];
    long lines = 0;
    size_t total = 0, n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && total < (64u << 20)) {
        total += n;
        for (size_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    fclose(f);
    return lines;
}

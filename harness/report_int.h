/* Helpers shared by the report writers (internal to harness/report*.c). */
#ifndef MCPC_REPORT_INT_H
#define MCPC_REPORT_INT_H

#include <stddef.h>
#include <stdio.h>
#include "error.h"

/* Length of the valid UTF-8 sequence at s (stores its code point), or 0 when invalid. */
size_t mcpc_report_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp);
/* Write path via path.tmp + rename, so a reader never sees half a file. */
mcpc_err mcpc_report_write_atomic(const char *path, mcpc_err (*emit)(FILE *fp, void *arg),
                                  void *arg);
/* Current UTC time as ISO-8601 with milliseconds. */
void mcpc_report_utc_now(char *buf, size_t size);

#endif

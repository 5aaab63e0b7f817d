/* stdio transport: run the implementation under test as a child in its own process group and
 * exchange newline-delimited messages over its stdin/stdout. Every line, every byte count and
 * every wait is bounded; stderr is always drained (a tail is kept for the transcript), so a
 * child that floods stderr can neither block itself nor grow our memory. */
#ifndef MCPC_TRANSPORT_STDIO_H
#define MCPC_TRANSPORT_STDIO_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

typedef struct {
    size_t max_line;      /* longest stdout line accepted (bytes, without '\n') */
    size_t max_total;     /* stdout bytes read over the child's life before we call it a flood */
    size_t stderr_keep;   /* bytes of stderr tail kept */
    int term_grace_ms;    /* SIGTERM → SIGKILL grace */
} mcpc_stdio_limits;

/* Defaults: 4 MiB line, 64 MiB total, 64 KiB stderr tail, 1000 ms grace. */
void mcpc_stdio_limits_default(mcpc_stdio_limits *lim);

typedef struct mcpc_stdio mcpc_stdio;

/* Process-wide setup, once, before any spawn: ignore SIGPIPE and become a child subreaper, so
 * descendants that escape the process group (setsid + fork) are re-parented to us and can be
 * found and killed. */
void mcpc_stdio_global_init(void);

/* Start argv[0] (PATH lookup) with `env_extra` ("NAME=value" strings, NULL-terminated, may be
 * NULL) added to our environment. On failure *out is NULL and errbuf says why (exec errors are
 * reported here, not later). */
mcpc_err mcpc_stdio_spawn(char *const argv[], char *const env_extra[], const mcpc_stdio_limits *lim,
                          mcpc_stdio **out, char *errbuf, size_t errlen);

/* Write all of buf to the child's stdin within timeout_ms, draining its output meanwhile. */
mcpc_err mcpc_stdio_write(mcpc_stdio *s, const char *buf, size_t len, int timeout_ms);

/* Next stdout line (without '\n') within timeout_ms. *line stays valid until the next call.
 * MCPC_ERR_TOO_BIG: the line exceeded max_line (it is skipped up to its newline; *len is the
 * bytes seen) or the total bound was reached (mcpc_stdio_flooded() is then true).
 * MCPC_ERR_EOF: stdout closed; line and len hold any unterminated tail (a partial message). */
mcpc_err mcpc_stdio_read_line(mcpc_stdio *s, int timeout_ms, const char **line, size_t *len);

/* Without waiting: read whatever the child has written to stdout (discarded) and stderr (kept
 * in the tail). For children nobody reads line by line (an HTTP server we started). */
void mcpc_stdio_pump(mcpc_stdio *s);

/* Close the child's stdin (end of input, the polite shutdown request). */
void mcpc_stdio_close_stdin(mcpc_stdio *s);

/* Wait up to timeout_ms for the child to exit by itself. MCPC_OK when it did. */
mcpc_err mcpc_stdio_wait_exit(mcpc_stdio *s, int timeout_ms);

/* 1 if the child has exited (reaps it if needed). */
int mcpc_stdio_exited(mcpc_stdio *s);

/* Stop everything: close stdin, SIGTERM the process group, wait the grace, SIGKILL the group,
 * then kill and reap any re-parented descendants. Idempotent. */
void mcpc_stdio_stop(mcpc_stdio *s);

/* How the child ended, e.g. "exited with status 3", "killed by signal 11 (SIGSEGV)", or
 * "running". Static or s-owned text. `crashed` is set to 1 for death by a signal we did not send
 * or a non-zero exit we did not ask for. */
const char *mcpc_stdio_exit_text(mcpc_stdio *s, int *crashed);

/* Drained stderr: the kept tail and the total count seen. */
const char *mcpc_stdio_stderr_tail(mcpc_stdio *s, size_t *len, size_t *total);
/* Bytes of stdout received so far. */
size_t mcpc_stdio_stdout_total(const mcpc_stdio *s);
int mcpc_stdio_flooded(const mcpc_stdio *s);
pid_t mcpc_stdio_pid(const mcpc_stdio *s);

/* Stop (if needed) and free. NULL-safe. */
void mcpc_stdio_free(mcpc_stdio *s);

/* Kill and reap every process re-parented to us (subreaper orphans). Returns how many. */
int mcpc_stdio_reap_orphans(void);

#endif

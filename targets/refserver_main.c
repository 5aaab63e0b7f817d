/* refserver: the reference MCP server on stdio or streamable HTTP (2025-11-25 and 2026-07-28).
 *
 *   refserver [--flaw NAME]... [--page-size N]     serve newline-delimited JSON-RPC on stdio
 *   refserver --http PORT [--flaw NAME]...         serve http://127.0.0.1:PORT/mcp (0: any port)
 *   refserver --list-flaws                          print every flaw name, one per line
 *
 * This file is the command line and the stdio loop only (HTTP is refserver_http.c): it reads
 * stdin in chunks, splits lines itself (bounded at MCPC_REF_MAX_LINE bytes; a longer line is
 * answered with one parse error and skipped up to its newline), hands each line to
 * mcpc_ref_handle_line() and writes what comes back to stdout, flushed per line. Logs go to
 * stderr. */
#include "refserver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)64 * 1024)

/* Where answers go: stdout, flushed per call. */
struct out_sink {
    int failed;                    /* stdout is gone; stop serving */
};

/* The input line being assembled. */
struct line_buf {
    char *p;                       /* owned */
    size_t len, cap;
    bool discarding;               /* skipping the rest of an over-long line */
};

/* mcpc_ref_emit_fn for stdout; ctx is a struct out_sink. bytes borrowed. */
static void stdout_emit(void *ctx, const char *bytes, size_t len)
{
    struct out_sink *o = ctx;

    if (o->failed)
        return;
    if (fwrite(bytes, 1, len, stdout) != len || fflush(stdout) != 0) {
        fprintf(stderr, "refserver: writing stdout: %s\n", strerror(errno));
        o->failed = 1;
    }
}

/* Add seg[0..n) (borrowed) to the line in b. A line that would pass MCPC_REF_MAX_LINE is
 * answered with a parse error at once and discarded up to its newline. */
static mcpc_err take(struct mcpc_ref_server *s, struct out_sink *o, struct line_buf *b,
                     const char *seg, size_t n)
{
    if (b->discarding || n == 0)
        return MCPC_OK;
    if (n > MCPC_REF_MAX_LINE - b->len) {
        b->discarding = true;
        b->len = 0;
        return mcpc_ref_handle_overlong(s, stdout_emit, o);
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : READ_CHUNK;
        char *np;
        while (cap < b->len + n)
            cap *= 2;
        if (cap > MCPC_REF_MAX_LINE)
            cap = MCPC_REF_MAX_LINE;
        if (!(np = realloc(b->p, cap))) {
            b->discarding = true;             /* drop the line rather than serve half of it */
            b->len = 0;
            return MCPC_ERR_NOMEM;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, seg, n);
    b->len += n;
    return MCPC_OK;
}

/* Serve stdin until EOF, a write failure or a requested exit. Returns the exit status. */
static int serve(struct mcpc_ref_server *s, struct out_sink *o)
{
    struct line_buf b = { NULL, 0, 0, false };
    char *chunk = malloc(READ_CHUNK);
    int status = 0;

    if (!chunk) {
        fprintf(stderr, "refserver: out of memory\n");
        return 1;
    }
    for (;;) {
        ssize_t got = read(STDIN_FILENO, chunk, READ_CHUNK);
        size_t pos = 0, n, served = 0;

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "refserver: reading stdin: %s\n", strerror(errno));
            status = 1;
            goto out;
        }
        if (got == 0) {
            /* EOF: an unterminated last line is still a message. */
            if (b.len > 0 && !b.discarding &&
                mcpc_ref_handle_line(s, b.p, b.len, stdout_emit, o) != MCPC_OK)
                fprintf(stderr, "refserver: out of memory answering a request\n");
            goto out;
        }
        n = (size_t)got;
        while (pos < n) {
            char *nl = memchr(chunk + pos, '\n', n - pos);
            size_t seg = nl ? (size_t)(nl - (chunk + pos)) : n - pos;

            if (take(s, o, &b, chunk + pos, seg) != MCPC_OK)
                fprintf(stderr, "refserver: out of memory reading a line\n");
            pos += seg;
            if (!nl)
                break;
            pos++;
            if (!b.discarding && b.len > 0) {
                /* pipeline-drop flaw: only the first line of each read() is served. */
                if (!(s->flaw[MCPC_REF_FLAW_PIPELINE_DROP] && served > 0) &&
                    mcpc_ref_handle_line(s, b.p, b.len, stdout_emit, o) != MCPC_OK)
                    fprintf(stderr, "refserver: out of memory answering a request\n");
                served++;
            }
            b.len = 0;
            b.discarding = false;
            if (s->exit_status >= 0 || o->failed)
                goto out;
        }
        if (s->exit_status >= 0 || o->failed)
            goto out;
    }
out:
    if (s->exit_status >= 0)
        status = s->exit_status;
    else if (o->failed)
        status = 1;
    free(chunk);
    free(b.p);
    return status;
}

/* 1 if any flaw is switched on in s. */
static int any_flaw(const struct mcpc_ref_server *s)
{
    for (size_t k = 0; k < MCPC_REF_FLAW__COUNT; k++)
        if (s->flaw[k])
            return 1;
    return 0;
}

/* Print usage to f. */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: refserver [--http PORT] [--flaw NAME]... [--page-size N]\n"
            "       refserver --list-flaws\n"
            "The reference MCP server of mcpcert, on stdio or streamable HTTP (%s and %s).\n"
            "  --http PORT      serve http://127.0.0.1:PORT%s instead of stdio (0: any free\n"
            "                   port); prints \"listening on <url>\" on stdout, stops on\n"
            "                   SIGTERM, SIGINT or EOF on stdin\n"
            "  --flaw NAME      break one requirement on purpose (repeatable)\n"
            "  --page-size N    items per list page, 1..%d (default %d)\n"
            "  --list-flaws     print the flaw names and exit\n"
            "Environment: MCPCERT_LEDGER=FILE appends one JSON line per tool side effect;\n"
            "with --http, MCPCERT_AUTH_ISSUER=URL makes it an OAuth resource server\n"
            "(docs/auth.md, docs/refserver.md).\n",
            MCPC_REF_LEGACY_VERSION, MCPC_REF_MODERN_VERSION, MCPC_REF_HTTP_PATH,
            MCPC_REF_MAX_PAGE_SIZE, MCPC_REF_DEFAULT_PAGE_SIZE);
}

/* Parse a decimal number in lo..hi from val; -1 if it is not one. */
static long parse_number(const char *val, long lo, long hi)
{
    char *end = NULL;
    unsigned long n;

    errno = 0;
    n = strtoul(val, &end, 10);
    if (errno || !end || *end || val[0] < '0' || val[0] > '9' || n < (unsigned long)lo ||
        n > (unsigned long)hi)
        return -1;
    return (long)n;
}

/* Parse argv into s and *http_port (-1: stdio). Returns -1 to go on serving, else the exit
 * status (0 after --list-flaws or --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, struct mcpc_ref_server *s, long *http_port)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        enum mcpc_ref_flaw f;

        if (strcmp(arg, "--list-flaws") == 0) {
            for (size_t k = 0; k < MCPC_REF_FLAW__COUNT; k++)
                printf("%s\n", mcpc_ref_flaw_name((enum mcpc_ref_flaw)k));
            return 0;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(arg, "--flaw=", 7) == 0 || strncmp(arg, "--page-size=", 12) == 0 ||
            strncmp(arg, "--http=", 7) == 0) {
            val = strchr(arg, '=') + 1;
        } else if (strcmp(arg, "--flaw") == 0 || strcmp(arg, "--page-size") == 0 ||
                   strcmp(arg, "--http") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "refserver: %s needs a value\n", arg);
                return 2;
            }
            val = argv[++i];
        } else {
            fprintf(stderr, "refserver: unknown argument: %s\n", arg);
            usage(stderr);
            return 2;
        }
        if (strncmp(arg, "--flaw", 6) == 0) {
            if (mcpc_ref_flaw_find(val, &f) != MCPC_OK) {
                fprintf(stderr, "refserver: unknown flaw: %s (see --list-flaws)\n", val);
                return 2;
            }
            s->flaw[f] = true;
        } else if (strncmp(arg, "--http", 6) == 0) {
            if ((*http_port = parse_number(val, 0, 65535)) < 0) {
                fprintf(stderr, "refserver: --http wants a port 0..65535, not %s\n", val);
                return 2;
            }
        } else {
            long n = parse_number(val, 1, MCPC_REF_MAX_PAGE_SIZE);
            if (n < 0) {
                fprintf(stderr, "refserver: --page-size wants 1..%d, not %s\n",
                        MCPC_REF_MAX_PAGE_SIZE, val);
                return 2;
            }
            s->page_size = (size_t)n;
        }
    }
    return -1;
}

/* Parse the command line, announce ourselves on stderr, serve stdin or HTTP. */
int main(int argc, char **argv)
{
    struct mcpc_ref_server s;
    struct out_sink o = { 0 };
    const char *ledger = getenv("MCPCERT_LEDGER");
    long http_port = -1;
    int status;

    mcpc_ref_server_init(&s);
    status = parse_args(argc, argv, &s, &http_port);
    if (status >= 0)
        goto out;
    if (ledger && *ledger)
        s.ledger_path = ledger;
    /* A vanished reader must not kill us mid-write; write errors end the loop instead. */
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "refserver: %s %s on %s (%s, %s), page size %zu, ledger %s, flaws:",
            MCPC_REF_SERVER_NAME, MCPC_REF_SERVER_VERSION, http_port >= 0 ? "http" : "stdio",
            MCPC_REF_LEGACY_VERSION, MCPC_REF_MODERN_VERSION, s.page_size,
            s.ledger_path ? s.ledger_path : "(none)");
    for (size_t k = 0; k < MCPC_REF_FLAW__COUNT; k++)
        if (s.flaw[k])
            fprintf(stderr, " %s", mcpc_ref_flaw_name((enum mcpc_ref_flaw)k));
    if (!any_flaw(&s))
        fprintf(stderr, " none");
    fprintf(stderr, "\n");

    if (http_port >= 0) {
        /* stdout carries only the "listening on" line there: stdout-banner, like the other
         * stdio framing flaws, has no HTTP meaning. */
        status = mcpc_ref_http_serve(&s, (unsigned)http_port);
        goto out;
    }
    if (s.flaw[MCPC_REF_FLAW_STDOUT_BANNER])
        stdout_emit(&o, "refserver ready\n", 16);

    status = serve(&s, &o);

    /* ignore-eof flaw: stay alive after stdin closed, until a signal ends us. */
    if (s.flaw[MCPC_REF_FLAW_IGNORE_EOF] && s.exit_status < 0 && !o.failed)
        for (;;)
            pause();
out:
    mcpc_ref_server_fini(&s);
    return status;
}

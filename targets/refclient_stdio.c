/* refclient: the stdio transport. The server is our child (mcpc_stdio_spawn: its own process
 * group, stderr drained and not echoed); every message is one line on its stdin, and its
 * stdout lines are read until the response with our id arrives. Notifications, responses to
 * other ids and lines that are not JSON-RPC are skipped (the last with a note on stderr);
 * server requests go to the protocol layer. At the end the server's stdin is closed, it gets a
 * moment to exit by itself, and is then stopped (TERM, then KILL). */
#include "refclient.h"
#include "clock.h"
#include "jsonrpc.h"
#include "transport_stdio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_GRACE_MS 2000         /* after closing its stdin, before we stop the server */

struct stdio_conn {
    struct mcpc_rc_conn base;      /* first: the conn pointer is the stdio_conn pointer */
    mcpc_stdio *child;
};

/* One message, one line. */
static mcpc_err write_msg(struct stdio_conn *s, const json_t *msg, char *err, size_t errlen)
{
    size_t len;
    char *line = mcpc_jsonrpc_dump(msg, 1, &len);
    mcpc_err rc;

    if (!line) {
        snprintf(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    rc = mcpc_stdio_write(s->child, line, len, MCPC_RC_REQUEST_MS);
    if (rc == MCPC_ERR_EOF)
        snprintf(err, errlen, "the server closed its stdin (%s)",
                 mcpc_stdio_exit_text(s->child, NULL));
    else if (rc != MCPC_OK)
        snprintf(err, errlen, "writing to the server: %s", mcpc_strerror(rc));
    free(line);
    return rc;
}

/* 1 if line[0..len) is only whitespace. */
static int blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return 0;
    return 1;
}

static mcpc_err stdio_request(struct mcpc_rc_conn *c, const json_t *msg, json_int_t id,
                              const struct mcpc_rc_hdrs *hd, int timeout_ms,
                              struct mcpc_rc_reply *r, char *err, size_t errlen)
{
    struct stdio_conn *s = (struct stdio_conn *)c;
    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    mcpc_err rc;

    r->msg = NULL;
    r->status = 0;
    if ((rc = write_msg(s, msg, err, errlen)) != MCPC_OK)
        return rc;
    for (;;) {
        const char *line;
        size_t len;
        mcpc_msg m;

        rc = mcpc_stdio_read_line(s->child, mcpc_clock_left(deadline), &line, &len);
        if (rc == MCPC_ERR_TIMEOUT) {
            snprintf(err, errlen, "no response from the server within %d ms", timeout_ms);
            return rc;
        }
        if (rc == MCPC_ERR_EOF) {
            snprintf(err, errlen, "the server closed its stdout (%s)",
                     mcpc_stdio_exit_text(s->child, NULL));
            return rc;
        }
        if (rc == MCPC_ERR_TOO_BIG && !mcpc_stdio_flooded(s->child)) {
            fprintf(stderr, "refclient: skipping a %zu-byte line from the server\n", len);
            continue;
        }
        if (rc != MCPC_OK) {
            snprintf(err, errlen, "reading from the server: %s", mcpc_strerror(rc));
            return rc;
        }
        if (blank(line, len))
            continue;
        if (mcpc_jsonrpc_parse(line, len, 0, &m) != MCPC_OK) {
            fprintf(stderr, "refclient: ignoring a line that is not a JSON-RPC message: %s\n",
                    m.reason);
        } else if ((m.kind == MCPC_MSG_RESULT || m.kind == MCPC_MSG_ERROR) &&
                   json_is_integer(m.id) && json_integer_value(m.id) == id) {
            r->msg = json_incref(m.root);
            mcpc_msg_clear(&m);
            return MCPC_OK;
        } else if (m.kind == MCPC_MSG_REQUEST && c->on_request) {
            c->on_request(c->on_request_ctx, m.root);
        }
        mcpc_msg_clear(&m);
    }
}

static mcpc_err stdio_send(struct mcpc_rc_conn *c, const json_t *msg,
                           const struct mcpc_rc_hdrs *hd, long *status, char *err,
                           size_t errlen)
{
    *status = 0;
    return write_msg((struct stdio_conn *)c, msg, err, errlen);
}

static void stdio_close(struct mcpc_rc_conn *c)
{
    struct stdio_conn *s = (struct stdio_conn *)c;

    if (!s)
        return;
    if (s->child) {
        /* the polite shutdown first: end of input, then a moment to leave by itself */
        mcpc_stdio_close_stdin(s->child);
        (void)mcpc_stdio_wait_exit(s->child, EXIT_GRACE_MS);
        mcpc_stdio_free(s->child);                /* stops it if it is still there */
    }
    free(s);
}

mcpc_err mcpc_rc_stdio_open(char *const argv[], const bool *flaw, struct mcpc_rc_conn **out,
                            char *err, size_t errlen)
{
    struct stdio_conn *s = calloc(1, sizeof *s);
    mcpc_stdio_limits lim;
    mcpc_err rc;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    mcpc_stdio_global_init();
    mcpc_stdio_limits_default(&lim);
    lim.max_line = MCPC_RC_MAX_RESPONSE;
    rc = mcpc_stdio_spawn(argv, NULL, &lim, &s->child, err, errlen);
    if (rc != MCPC_OK) {
        free(s);
        return rc;
    }
    s->base.request = stdio_request;
    s->base.send = stdio_send;
    s->base.close = stdio_close;
    s->base.flaw = flaw;
    *out = &s->base;
    return MCPC_OK;
}

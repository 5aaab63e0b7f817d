/* Start and reach the implementation under test for one case, over stdio or streamable HTTP.
 *
 *   stdio:               spawn COMMAND; the conn is its stdin/stdout.
 *   http + COMMAND:      spawn COMMAND; if an argument contains "{port}", a free loopback port is
 *                        substituted and the URL is http://127.0.0.1:PORT/mcp (or --url with
 *                        "{port}" in it); otherwise the first "http://..." its stdout prints is
 *                        the URL. The conn is an HTTP client for that URL.
 *   http + URL only:     nothing is spawned (the implementation is managed elsewhere). */
#ifndef MCPC_TARGET_H
#define MCPC_TARGET_H

#include "conn.h"
#include "error.h"
#include "transcript.h"
#include "transport_http.h"
#include "transport_stdio.h"

typedef struct {
    char **argv;            /* NULL-terminated, or NULL with a URL */
    const char *transport;  /* "stdio" | "http" */
    const char *url;        /* NULL, or the endpoint (may contain "{port}") */
    int timeout_ms;         /* startup deadline */
    int allow_remote;       /* HTTP: permit a non-loopback host */
    const char *protocol_version; /* HTTP: MCP-Protocol-Version before any initialize (the
                                   * modern era), or NULL */
    char *const *env_extra; /* "NAME=value" added to the implementation's environment, "{port}"
                             * substituted; NULL-terminated or NULL (at most 16) */
    /* HTTP: OAuth for the client (see mcpc_http_opts): the Authorization value of every
     * request, and the per-call token callback; NULL when the run has no authorization server */
    const char *authorization;
    int (*call_token)(void *arg, const char *tool, json_t *arguments, char **authorization,
                      char **dpop);
    void *call_token_arg;
} mcpc_target_opts;

typedef struct {
    mcpc_stdio *io;         /* the child we started, or NULL */
    mcpc_http *http;        /* the HTTP client, or NULL on stdio */
    mcpc_conn *conn;        /* what the session talks to */
    char url[512];
} mcpc_target;

/* Start (ledger: path for MCPCERT_LEDGER or NULL). On failure everything started is stopped and
 * err says why; MCPC_ERR_SPAWN means "could not be started or reached". */
mcpc_err mcpc_target_start(const mcpc_target_opts *o, const char *ledger, mcpc_target *t,
                           char *err, size_t errlen);

/* Stop the child (TERM, then KILL), record its stderr tail and exit into tr (may be NULL), free
 * everything. Idempotent. */
void mcpc_target_stop(mcpc_target *t, mcpc_transcript *tr);

#endif

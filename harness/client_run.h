/* The client role's run of one case: start the mock server (over HTTP here, or as
 * `mcpcert serve` launched by the client on stdio), launch the client under test with the
 * scenario in its environment, wait for it (bounded), and collect what it did: the record of
 * every message it sent, its exit, its stdout. A scenario with "auth" (HTTP) also gets an
 * authorization server (authserver.h) and a browser (`mcpcert browse`) for the run, and their
 * records. The case's steps then judge all that (step_client.c). See docs/client-role.md. */
#ifndef MCPC_CLIENT_RUN_H
#define MCPC_CLIENT_RUN_H

#include <stddef.h>
#include <jansson.h>
#include "case.h"
#include "error.h"
#include "session.h"
#include "transcript.h"

#define MCPC_CLIENT_MAX_STDOUT (1u << 20)   /* client stdout kept for client_output */

/* What the client did. */
typedef struct mcpc_client_obs {
    json_t *record;         /* owned: array of record entries, in arrival order */
    json_t *as_record;      /* owned: what the authorization server received (mcpc_as_requests
                             * entries), or NULL when the case has no "auth" */
    json_t *browser_record; /* owned: what the client asked the browser to open, one entry per
                             * invocation (browse.h), or NULL when the case has no "auth" */
    json_t *sink_record;    /* owned: what reached the other server a tools/call was redirected
                             * to (auth.redirect_call, mock_http.h), or NULL without one */
    char url[128];          /* the mock's endpoint on HTTP, "" on stdio */
    size_t dropped;         /* entries not kept (bound) */
    json_t *scenario;       /* borrowed: the case's scenario */
    mcpc_era era;
    const char *transport;  /* "stdio" | "http" */
    char nonce[24];
    int exited;             /* 1 when the client ended by itself within the bound */
    int exit_code;          /* its exit status when exited (else -1) */
    char exit_text[160];    /* how it ended, for messages */
    char *out;              /* owned: its stdout (at most MCPC_CLIENT_MAX_STDOUT bytes) */
    size_t out_len;
    char err_tail[512];     /* the end of its stderr, for messages */
} mcpc_client_obs;

typedef struct {
    char **argv;            /* the client's command; "{url}" substituted in every argument */
    const char *transport;
    mcpc_era era;
    int timeout_ms;         /* per message; the whole client run gets a multiple of it */
    const char *tmpdir;     /* for the stdio record file */
    const char *data_dir;   /* passed to `mcpcert serve --data` */
} mcpc_client_run_opts;

/* In every entry of records (borrowed; mock, authorization server or browser entries) whose
 * URL (http.path and http.query, path and query, or url) holds an access token that verifies
 * against jwks (borrowed), set "token_in_url": true. Returns how many were marked. */
size_t mcpc_client_mark_tokens(json_t *records, const json_t *jwks);

/* Run the client once for case c. Fills obs (clear it with mcpc_client_obs_clear) and adds the
 * record and the client's exit and stderr to tr. MCPC_OK when the client could be started and
 * observed (whatever it did); otherwise err says why (the mock or the client did not start). */
mcpc_err mcpc_client_run(const mcpc_client_run_opts *o, const mcpc_case *c, mcpc_client_obs *obs,
                         mcpc_transcript *tr, char *err, size_t errlen);

void mcpc_client_obs_clear(mcpc_client_obs *obs);

#endif

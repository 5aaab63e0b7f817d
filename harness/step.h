/* The step vocabulary: each step kind ("do") is implemented once here and validated here. */
#ifndef MCPC_STEP_H
#define MCPC_STEP_H

#include <jansson.h>
#include "error.h"
#include "report.h"
#include "session.h"
#include "transcript.h"
#include "transport_stdio.h"

typedef struct mcpc_step_ctx_s {
    mcpc_session *s;          /* borrowed; NULL for session "none" until a step opens one */
    mcpc_stdio *io;           /* borrowed: the child we started, or NULL (--url) */
    struct mcpc_http *http;   /* borrowed: the HTTP client on the HTTP transport, else NULL */
    mcpc_transcript *tr;      /* borrowed */
    const char *level;        /* the case's level: MUST fails, SHOULD warns */
    const char *ledger_path;  /* NULL when no ledger */
    json_t *vars;             /* owned: captured variables */
    json_t *sent_id;          /* owned: id of the last request */
    json_t *checks;           /* owned: array of per-step results */
    long ledger_mark;         /* ledger line count at the last ledger_mark step */
    /* a new connection to the implementation (the runner's), replacing s/io; NULL: none */
    mcpc_verdict (*reconnect)(struct mcpc_step_ctx_s *ctx);
    void *runner;             /* borrowed: the runner's state for reconnect */
    /* server role over HTTP: the run's OAuth environment (borrowed), or NULL */
    struct mcpc_auth_env *auth;
    /* client role: what the client under test did (borrowed); NULL in the other roles */
    struct mcpc_client_obs *client;
    /* the deciding step's details, for the report */
    mcpc_verdict verdict;
    char expected[512];
    char arrived[512];
    char message[512];
} mcpc_step_ctx;

/* Check one step object is well-formed for its kind. */
mcpc_err mcpc_step_validate(json_t *step, char *err, size_t errlen);

/* Run one step; returns its verdict and records a check entry. Execution stops at the first
 * verdict worse than WARN. */
mcpc_verdict mcpc_step_run(mcpc_step_ctx *ctx, size_t index, json_t *step);

/* The names of every step kind, NULL-terminated (for docs and `mcpcert list --steps`). */
const char *const *mcpc_step_names(void);

#endif

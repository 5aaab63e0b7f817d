/* Internal to the step files (step.c, step_schema.c, step_http.c): shared helpers and the
 * primitives each file contributes to the one vocabulary table in step.c. */
#ifndef MCPC_STEP_INT_H
#define MCPC_STEP_INT_H

#include <jansson.h>
#include "step.h"

/* A failed expectation grades FAIL in a MUST case and WARN in a SHOULD case. */
mcpc_verdict mcpc_step_miss(const mcpc_step_ctx *ctx);
/* Record the deciding details of a step (expected / arrived / message); returns v. */
mcpc_verdict mcpc_step_say(mcpc_step_ctx *ctx, mcpc_verdict v, const char *expected,
                           const char *arrived, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Compact, printable text of a value (borrowed), cut to fit. */
void mcpc_step_show(const json_t *v, char *out, size_t outlen);
/* Integer / string member of a step, or the default. */
int mcpc_step_ms(json_t *step, const char *key, int dflt);
const char *mcpc_step_str(json_t *step, const char *key, const char *dflt);
/* Verdict for a transport failure while a message was awaited. */
mcpc_verdict mcpc_step_transport(mcpc_step_ctx *ctx, mcpc_err rc, const char *expected);

/* step_schema.c */
mcpc_verdict mcpc_step_call_invalid(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_call_unlisted(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_lint_schemas(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_check_structured(mcpc_step_ctx *ctx, json_t *step);

/* step_http.c (streamable HTTP only; NOT_TESTABLE elsewhere) */
mcpc_verdict mcpc_step_http_request(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_http_delete(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_session_ids(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_upstream_check(mcpc_step_ctx *ctx, json_t *step);
/* step_auth.c (HTTP only) */
mcpc_verdict mcpc_step_auth_metadata(mcpc_step_ctx *ctx, json_t *step);
/* Shape checks of http_request (headers, method/body, and its outcomes as expect's) and
 * session_ids; MCPC_OK for every other kind. */
mcpc_err mcpc_step_http_validate(json_t *step, char *err, size_t errlen);
/* Judge session ids minted one after another (ids[0..n), borrowed, in order): 0 when they look
 * unguessable, 1 when not; why says which (or sums up), *bits is the estimate. */
int mcpc_step_http_judge_ids(char *const *ids, size_t n, double *bits, char *why, size_t whylen);

/* step_client.c (client role only) */
mcpc_verdict mcpc_step_client_exit(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_client_sequence(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_client_each(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_client_never(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_client_output(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_client_unique_ids(mcpc_step_ctx *ctx, json_t *step);
mcpc_verdict mcpc_step_client_headers(mcpc_step_ctx *ctx, json_t *step);
/* Shape checks of the client_* steps; MCPC_OK for every other kind. */
mcpc_err mcpc_step_client_validate(const char *name, json_t *step, char *err, size_t errlen);

#endif

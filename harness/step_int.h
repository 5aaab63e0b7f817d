/* Internal to the step files (step.c, step_schema.c): shared helpers and the primitives each
 * file contributes to the one vocabulary table in step.c. */
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

#endif

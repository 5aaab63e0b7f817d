/* Wire-schema validation: every message an implementation sends is checked against the official
 * MCP JSON schema of the negotiated era (../shared/spec/mcp-<era>.schema.json), the envelope and,
 * for a response, its result against the result type of the request it answers. A violation is
 * reported with the failing instance path and schema keyword, on every case. */
#ifndef MCPC_WIRE_H
#define MCPC_WIRE_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"
#include "jsonrpc.h"

typedef struct mcpc_wire mcpc_wire;

/* Load the schema of era ("2025-11-25" | "2026-07-28") from spec_dir. MCPC_ERR_NOT_FOUND when the
 * file is absent (err names the path). */
mcpc_err mcpc_wire_load(const char *spec_dir, const char *era, mcpc_wire **out, char *err,
                        size_t errlen);
void mcpc_wire_free(mcpc_wire *w);

/* The schema definition a result of `method` must satisfy in this era, or NULL when the schema
 * names none (static text). */
const char *mcpc_wire_result_def(const mcpc_wire *w, const char *method, json_t *result);

/* Check one received message (borrowed). method: the request this answers, or NULL. Returns 0
 * when it conforms, 1 on a violation (why: "<definition>: <instance path>: <message>"). */
int mcpc_wire_check(mcpc_wire *w, const mcpc_msg *m, const char *method, char *why, size_t whylen);

/* Check one message a client sent (the client role): a request against ClientRequest, a
 * notification against ClientNotification, both with their envelope. 0 or 1 as above. */
int mcpc_wire_check_client(mcpc_wire *w, const mcpc_msg *m, char *why, size_t whylen);

#endif

/* The mock upstream API of docs/auth.md §1 (MCPCERT_UPSTREAM_URL): an HTTP API that a tool of
 * the implementation under test may call, so the token-passthrough case (AUTH-06) can see which
 * credential reached it. GET or POST /api answers 200 {"ok":true,"report":"..."}; anything else
 * 404 (405 for another method). Every request is recorded with its Authorization header bytes
 * exactly as received.
 *
 * Thread safety: the record is read under the listener's lock, from any thread.
 * Ownership: json_t * results are new references the caller json_decref()s; const char * results
 * are borrowed and live until mcpc_upstream_stop. */
#ifndef MCPC_UPSTREAM_MOCK_H
#define MCPC_UPSTREAM_MOCK_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"

#define MCPC_UPSTREAM_REPORT "mcpcert upstream report: 3 open items, nothing urgent"

typedef struct mcpc_upstream mcpc_upstream;

/* Serve on 127.0.0.1:port (0: ephemeral). MCPC_ERR_IO (port in use...), MCPC_ERR_NOMEM;
 * err says why. */
mcpc_err mcpc_upstream_start(unsigned port, mcpc_upstream **out, char *err, size_t errlen);

/* Stop and free. NULL is a no-op. Take the record first. */
void mcpc_upstream_stop(mcpc_upstream *u);

unsigned mcpc_upstream_port(const mcpc_upstream *u);

/* "http://127.0.0.1:<port>/api" (borrowed): the value of MCPCERT_UPSTREAM_URL. */
const char *mcpc_upstream_url(const mcpc_upstream *u);

/* A copy of the record, one object per request in arrival order:
 * {"method", "path", "query", "status",
 *  "authorization": [value, ...]  every Authorization field in arrival order (usually 0 or 1),
 *                                 each a string when UTF-8, else {"base64url": bytes}}.
 * New reference, or NULL. */
json_t *mcpc_upstream_record(mcpc_upstream *u);

/* How many recorded requests carried bytes[0..len) anywhere: in a header value, the query or
 * the body (a token smuggled in X-Api-Key or ?token= is still passthrough). */
size_t mcpc_upstream_count_containing(mcpc_upstream *u, const void *bytes, size_t len);

/* Number of requests received so far. */
size_t mcpc_upstream_count(mcpc_upstream *u);

#endif

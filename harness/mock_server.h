/* The scripted MCP server the client role runs against: it answers a client under test from a
 * case's `scenario`, in one protocol era, and records every message the client sends (with its
 * HTTP method, path and headers when it came over HTTP). It judges nothing while it runs: the
 * case's steps judge the record once the client is done (docs/client-role.md).
 *
 * Transport-free: mock_http.c puts it behind the HTTP listener, `mcpcert serve` behind stdio.
 * Not thread-safe; the HTTP front end calls it under the listener's handler mutex. */
#ifndef MCPC_MOCK_SERVER_H
#define MCPC_MOCK_SERVER_H

#include <stddef.h>
#include <jansson.h>
#include "authserver.h"
#include "error.h"
#include "session.h"

#define MCPC_MOCK_MAX_RECORDS 4096        /* messages kept; later ones are counted, not kept */
#define MCPC_MOCK_MAX_RAW (64u << 10)     /* bytes of a message's raw text kept in the record */

typedef struct mcpc_mock mcpc_mock;

/* How the front end should deliver a reply. */
typedef struct {
    json_t *reply;          /* new reference: the JSON-RPC message to send back, or NULL */
    unsigned status;        /* HTTP status: 200, 202 (nothing to send), 400, 404 */
    int sse;                /* 1: send the reply as an SSE stream (HTTP only) */
    char session_id[72];    /* HTTP 2025-11-25: Mcp-Session-Id to set on this response, or "" */
} mcpc_mock_answer;

/* A mock for scenario (borrowed; copied, with every "${nonce}" in its strings replaced by nonce)
 * speaking era. Scenario members used: tools (array, default: one `echo` tool), results
 * (object: tool name -> CallToolResult), page_size (integer, tools per tools/list page),
 * responses ("json" | "sse" | "alternate"). MCPC_ERR_CASE when they have the wrong types. */
mcpc_err mcpc_mock_new(json_t *scenario, mcpc_era era, const char *nonce, mcpc_mock **out,
                       char *err, size_t errlen);

/* Check a case's scenario: the members above, "auth" (below), and "actions" (what the client
 * is asked to do: {"do":"list_tools"} or {"do":"call_tool","name":S,"arguments":{...}}). err
 * says what is wrong. */
mcpc_err mcpc_mock_validate(json_t *scenario, char *err, size_t errlen);

/* The scenario's "auth" member (HTTP only): the mock is then an OAuth protected resource whose
 * authorization server the client role runs for the case (docs/client-role.md, "OAuth").
 *   {"metadata": "normal" | "no-pkce-methods" | "issuer-mismatch" | "dangerous-authz",
 *    "authz_endpoint": URL (dangerous-authz only) ["javascript:alert(1)"],
 *    "iss": "correct" | "omit" | "wrong" | "casefold",
 *    "prm_resource": the "resource" the protected resource metadata claims [the endpoint],
 *    "challenge_metadata": whether the 401 challenge names resource_metadata [true],
 *    "redirect_call": a tools/call with a valid token is answered 307 to another origin, the
 *                     sink, which records what reaches it [false]} */
typedef struct {
    int enabled;                     /* 0: no "auth" member */
    mcpc_as_meta_variant metadata;
    const char *authz_endpoint;      /* borrowed from the scenario, or NULL */
    mcpc_as_iss_mode iss;
    const char *prm_resource;        /* borrowed from the scenario, or NULL */
    int challenge_metadata;
    int redirect_call;
} mcpc_mock_auth;

/* Read (and check) scenario.auth into *out (strings borrowed from scenario). MCPC_OK, also when
 * there is none (out->enabled 0); MCPC_ERR_CASE with err saying what is wrong. */
mcpc_err mcpc_mock_auth_parse(json_t *scenario, mcpc_mock_auth *out, char *err, size_t errlen);

/* Handle the bytes of one message. http is NULL on stdio, else a borrowed object
 * {"method","path","headers":{lower-case name: first value},"header_count":{name: n}} that the
 * record keeps a copy of. Fills *ans (ans->reply must be released by the caller). */
mcpc_err mcpc_mock_handle(mcpc_mock *m, const char *bytes, size_t len, json_t *http,
                          mcpc_mock_answer *ans);

/* Record a message without answering it: a POST the HTTP front end refused (no valid access
 * token). http as above. */
mcpc_err mcpc_mock_note_only(mcpc_mock *m, const char *bytes, size_t len, json_t *http);

/* Record an HTTP request that carries no message (GET, DELETE, ...); http as above. Answers
 * it: DELETE 200 in 2025-11-25 (the session ends), everything else 405. */
mcpc_err mcpc_mock_handle_other(mcpc_mock *m, json_t *http, mcpc_mock_answer *ans);

/* The record so far: an array of entries (docs/client-role.md, "The record"). Borrowed. */
json_t *mcpc_mock_record(const mcpc_mock *m);
/* Messages seen but not kept (the record was full). */
size_t mcpc_mock_dropped(const mcpc_mock *m);

/* A fresh random nonce for a run ("n" + 16 hex digits) into buf (at least 24 bytes). */
void mcpc_mock_nonce(char *buf, size_t len);

void mcpc_mock_free(mcpc_mock *m);

#endif

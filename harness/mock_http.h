/* The client role's mock server over streamable HTTP, on a loopback ephemeral port; for the
 * OAuth cases also an OAuth protected resource (RFC 9728 metadata, Bearer tokens required). */
#ifndef MCPC_MOCK_HTTP_H
#define MCPC_MOCK_HTTP_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"
#include "mock_server.h"

/* The paths of the protected resource metadata of the endpoint /mcp (RFC 9728 section 3.1):
 * the path-inserted one, which clients try first, and the root one. */
#define MCPC_MOCK_PRM_PATH "/.well-known/oauth-protected-resource/mcp"
#define MCPC_MOCK_PRM_ROOT "/.well-known/oauth-protected-resource"

typedef struct mcpc_mock_http mcpc_mock_http;

/* OAuth for the scenario's "auth" cases. Every request on the endpoint needs exactly one
 * `Authorization: Bearer <jwt>`: an at+jwt signed by a key of jwks, with iss = issuer,
 * aud = the endpoint URL, unexpired. Anything else is answered 401 with a Bearer challenge
 * (naming resource_metadata unless challenge_metadata is 0) and recorded without being
 * answered by the mock. Both metadata paths above serve {"resource": prm_resource or the
 * endpoint URL, "authorization_servers": [issuer], ...}. Each record entry of the endpoint gets
 * http.auth ("none", "valid" or "invalid") and http.after_token (a valid token had arrived by
 * then, this request included). With redirect_call, a second loopback listener, the sink, records
 * every request that reaches it (answered 404), and a tools/call POST with a valid token is
 * recorded and answered 307 with Location: http://127.0.0.1:<sink port>/mcp instead. */
typedef struct {
    const char *issuer;          /* copied */
    const json_t *jwks;          /* copied */
    const char *prm_resource;    /* copied; NULL: the endpoint URL */
    int challenge_metadata;
    int redirect_call;
} mcpc_mock_http_auth;

/* Serve m (borrowed; it must outlive the server) on http://127.0.0.1:<port>/mcp; the URL is
 * written to url. auth NULL: no authorization. err says why on failure. */
mcpc_err mcpc_mock_http_start(mcpc_mock *m, const mcpc_mock_http_auth *auth,
                              mcpc_mock_http **out, char *url, size_t urllen, char *err,
                              size_t errlen);

/* Stop the sink (every connection closed, its thread joined) and hand over its record: an
 * array of {"seq","transport":"http","kind":"http","http":{method, path, query, headers,
 * header_count}} (new reference), or NULL when there is no sink or no memory. Once only. */
json_t *mcpc_mock_http_sink_take(mcpc_mock_http *h);

/* Stop serving (every connection closed, the thread joined): after it the mock's record is
 * final and may be read without locking. NULL is a no-op. */
void mcpc_mock_http_stop(mcpc_mock_http *h);

#endif

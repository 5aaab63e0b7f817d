/* The reference MCP client (dual-era): the interface between its command line and actions
 * (refclient_main.c), its protocol layer (refclient_proto.c: era negotiation, requests,
 * `_meta`, the headers of each request), its header values (refclient_headers.c:
 * `x-mcp-header` declarations and the `=?base64?...?=` encoding) and its two transports
 * (refclient_stdio.c, refclient_http.c).
 *
 * It follows docs/client-role.md: the harness plays the server and judges what this client
 * sends. Every `--flaw` breaks exactly one client requirement; the list below is the single
 * source of flaw names. */
#ifndef MCPC_REFCLIENT_H
#define MCPC_REFCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "error.h"

#define MCPC_RC_NAME "mcpcert-refclient"
#define MCPC_RC_VERSION "0.1.0"
#define MCPC_RC_MODERN "2026-07-28"
#define MCPC_RC_LEGACY "2025-11-25"

#define MCPC_RC_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCPC_RC_META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCPC_RC_META_INFO "io.modelcontextprotocol/clientInfo"

#define MCPC_RC_MAX_RESPONSE ((size_t)16 * 1024 * 1024)  /* bytes of one response */
#define MCPC_RC_REQUEST_MS 10000        /* whole request, send to response */
#define MCPC_RC_CONNECT_MS 3000         /* HTTP connect */
#define MCPC_RC_PROBE_MS 2000           /* stdio: silence after server/discover means legacy */
#define MCPC_RC_MAX_PAGES 1000          /* tools/list pages of one listing */

/* X(ENUM_SUFFIX, "cli-name", "what it breaks"): every deliberate defect. */
#define MCPC_RC_FLAWS(X) \
    X(NO_INITIALIZED, "no-initialized", \
      "2025-11-25: never sends notifications/initialized") \
    X(INITIALIZE_AFTER_DISCOVER, "initialize-after-discover", \
      "sends initialize even after a successful server/discover") \
    X(NO_META, "no-meta", "2026-07-28: tools/call without params._meta") \
    X(ACCEPT_JSON_ONLY, "accept-json-only", "(HTTP) Accept: application/json only") \
    X(NO_VERSION_HEADER, "no-version-header", "(HTTP) no MCP-Protocol-Version header") \
    X(NO_MCP_NAME, "no-mcp-name", "(HTTP) 2026-07-28: no Mcp-Name header on tools/call") \
    X(RAW_PARAM_HEADER, "raw-param-header", \
      "(HTTP) Mcp-Param-* values without base64: non-ASCII raw, CR/LF stripped, whitespace kept") \
    X(DROP_ARGUMENTS, "drop-arguments", "tools/call with arguments {} instead of the action's") \
    X(STRAY_RESPONSE, "stray-response", \
      "after the first tools/list listing, sends a JSON-RPC response frame to the server") \
    X(REUSE_ID, "reuse-id", "every request uses id 1") \
    X(JSON_ONLY, "json-only", "(HTTP) cannot read SSE: a text/event-stream response is an error") \
    X(NO_RESOURCE_PARAM, "no-resource-param", \
      "(OAuth) no resource parameter in the authorization and token requests") \
    X(PKCE_PLAIN, "pkce-plain", \
      "(OAuth) code_challenge_method=plain (the verifier as challenge), although S256 is offered") \
    X(PKCE_WITHOUT_SUPPORT, "pkce-without-support", \
      "(OAuth) authorizes with S256 although the AS metadata does not advertise it") \
    X(PRM_RESOURCE_UNCHECKED, "prm-resource-unchecked", \
      "(OAuth) uses protected resource metadata whose resource is another server's") \
    X(WELLKNOWN_ROOT_FIRST, "wellknown-root-first", \
      "(OAuth) probes the root well-known metadata URI before the path-inserted one") \
    X(ISSUER_UNCHECKED, "issuer-unchecked", \
      "(OAuth) uses AS metadata whose issuer is not the one it was fetched for") \
    X(ISS_UNCHECKED, "iss-unchecked", \
      "(OAuth) redeems the code whatever the authorization response's iss says") \
    X(TOKEN_IN_QUERY, "token-in-query", \
      "(OAuth) also sends the access token as ?access_token= in the MCP URL") \
    X(REDIRECT_WITH_TOKEN, "redirect-with-token", \
      "(OAuth) follows a 307/308 once, re-sending the request and its Authorization to the Location") \
    X(DANGEROUS_AUTHZ_SCHEME, "dangerous-authz-scheme", \
      "(OAuth) hands any authorization_endpoint to the browser (javascript:, file:, data:, ...)") \
    X(MCPS_PROFILE_IGNORED, "mcps-profile-ignored", \
      "(MCP-S) goes on with a server that advertises a lower MCP-S profile than required, or none")

/* The MCP-S extension identifier (SEP-2133 negotiation; the security catalogue's placeholder). */
#define MCPC_RC_MCPS "com.example.mcps/security"

enum mcpc_rc_flaw {
#define MCPC_RC_FLAW_ENUM(e, name, what) MCPC_RC_FLAW_##e,
    MCPC_RC_FLAWS(MCPC_RC_FLAW_ENUM)
#undef MCPC_RC_FLAW_ENUM
    MCPC_RC_FLAW__COUNT
};

/* ---- headers of one HTTP request (HTTP only; stdio ignores them) ------------------------ */

/* Extra request headers, as curl lines: "Name: value", or "Name;" for an empty value. */
struct mcpc_rc_hdrs {
    char **line;                   /* owned, each malloc'd */
    size_t n, cap;
};

/* Append name: value (both borrowed; value must hold no CR or LF). MCPC_ERR_NOMEM. */
mcpc_err mcpc_rc_hdrs_add(struct mcpc_rc_hdrs *h, const char *name, const char *value);
/* Free every line; h is empty and reusable afterwards. */
void mcpc_rc_hdrs_clear(struct mcpc_rc_hdrs *h);

/* ---- transports --------------------------------------------------------------------------- */

/* What came back for one request. */
struct mcpc_rc_reply {
    json_t *msg;                   /* new ref: the response (result or error) for our id, or an
                                    * error without id (HTTP refusals); NULL when none came */
    long status;                   /* HTTP status, 0 on stdio */
};

/* A server request seen while waiting for a response (mcpc_rc_conn.on_request). */
typedef void (*mcpc_rc_request_fn)(void *ctx, json_t *request);

/* One connection to the server under test. */
struct mcpc_rc_conn {
    /* Send msg (borrowed) and wait up to timeout_ms for the response whose id is `id`.
     * MCPC_OK with *r filled (r->msg may be NULL over HTTP: a status without a response);
     * MCPC_ERR_TIMEOUT (no response in time), MCPC_ERR_EOF (server gone), MCPC_ERR_IO,
     * MCPC_ERR_TOO_BIG, MCPC_ERR_UNSUPPORTED (json-only flaw met SSE): err says why. */
    mcpc_err (*request)(struct mcpc_rc_conn *c, const json_t *msg, json_int_t id,
                        const struct mcpc_rc_hdrs *h, int timeout_ms, struct mcpc_rc_reply *r,
                        char *err, size_t errlen);
    /* Send a message that gets no response (a notification, or a response frame).
     * HTTP: any 2xx is success; *status gets the HTTP status (0 on stdio). */
    mcpc_err (*send)(struct mcpc_rc_conn *c, const json_t *msg, const struct mcpc_rc_hdrs *h,
                     long *status, char *err, size_t errlen);
    /* Shut down and free the connection (stdio: close the server's stdin, then stop it). */
    void (*close)(struct mcpc_rc_conn *c);

    const bool *flaw;              /* borrowed: the client's flaws */
    mcpc_rc_request_fn on_request; /* server requests; NULL: ignored */
    void *on_request_ctx;
    /* HTTP session (2025-11-25): capture Mcp-Session-Id from the next response and send it
     * back from then on. Set by the protocol layer before initialize. */
    bool want_session;
};

/* ---- refclient_auth.c: OAuth (streamable HTTP) ------------------------------------------ */

struct mcpc_rc_auth;

/* The authorization state for the server at server_url, from the context's "oauth"
 * ({"client_id", "redirect_uri"}) and "browser" ({"command", "args"}) members (ctx borrowed;
 * flaw borrowed, must outlive it). MCPC_OK with *out NULL when the context has no "oauth": a
 * 401 then ends the run. MCPC_ERR_USAGE for a malformed context, MCPC_ERR_NOMEM. */
mcpc_err mcpc_rc_auth_new(json_t *ctx, const char *server_url, const bool *flaw,
                          struct mcpc_rc_auth **out, char *err, size_t errlen);
void mcpc_rc_auth_free(struct mcpc_rc_auth *a);

/* Run the authorization code flow after an HTTP 401 whose WWW-Authenticate value was challenge
 * (NULL: none): metadata discovery and checks, the browser, the token request. MCPC_OK when a
 * token was obtained (mcpc_rc_auth_token); otherwise err says why (a refusal included). At most
 * two flows per client. */
mcpc_err mcpc_rc_auth_authorize(struct mcpc_rc_auth *a, const char *challenge, char *err,
                                size_t errlen);

/* The access token (borrowed), or NULL before the first successful flow. */
const char *mcpc_rc_auth_token(const struct mcpc_rc_auth *a);

/* Launch argv[0] (argv NULL-terminated, borrowed) as the MCP server over its stdin/stdout. */
mcpc_err mcpc_rc_stdio_open(char *const argv[], const bool *flaw, struct mcpc_rc_conn **out,
                            char *err, size_t errlen);

/* A streamable HTTP client for url (loopback http:// only, never redirected). auth (owned by
 * the connection from here on, also on failure; may be NULL) answers 401 challenges. */
mcpc_err mcpc_rc_http_open(const char *url, const bool *flaw, struct mcpc_rc_auth *auth,
                           struct mcpc_rc_conn **out, char *err, size_t errlen);

/* ---- refclient_headers.c: x-mcp-header ---------------------------------------------------- */

/* Check every x-mcp-header annotation in a tool's inputSchema (borrowed). MCPC_OK with
 * *decls a new array of {"header": NAME, "path": [property, ...]} (maybe empty);
 * MCPC_ERR_INVALID with why (the tool must be excluded); MCPC_ERR_NOMEM. */
mcpc_err mcpc_rc_xheaders_scan(json_t *input_schema, json_t **decls, char *why, size_t whylen);

/* A header value for s[0..len): as-is when it is plain visible ASCII (0x20..0x7E) without
 * leading or trailing space and not itself shaped like the sentinel, else
 * "=?base64?<base64 of the bytes>?=". raw (raw-param-header flaw): the bytes as they are, CR
 * and LF dropped. Returns malloc'd text or NULL (no memory). */
char *mcpc_rc_header_encode(const char *s, size_t len, bool raw);

/* The Mcp-Param value of an argument (borrowed): strings encoded as above, integers in
 * decimal (within the JavaScript safe range), booleans true/false. MCPC_OK with *out
 * malloc'd; MCPC_ERR_INVALID (why says it) for any other value; MCPC_ERR_NOMEM. */
mcpc_err mcpc_rc_param_value(json_t *v, bool raw, char **out, char *why, size_t whylen);

/* The value at path (an array of property names) in args (both borrowed); NULL when absent. */
json_t *mcpc_rc_path_value(json_t *args, json_t *path);

/* ---- refclient_proto.c: the client -------------------------------------------------------- */

enum mcpc_rc_era { MCPC_RC_ERA_AUTO = 0, MCPC_RC_ERA_LEGACY, MCPC_RC_ERA_MODERN };

struct mcpc_rc {
    bool flaw[MCPC_RC_FLAW__COUNT];
    bool http;                     /* the transport is streamable HTTP */
    enum mcpc_rc_era era;          /* AUTO until negotiated (or forced by --era) */
    char version[32];              /* negotiated protocol version */
    struct mcpc_rc_conn *conn;     /* owned */
    json_int_t next_id;
    json_t *tools;                 /* new ref: the usable tools of the last listing, or NULL */
    json_t *xheaders;              /* new ref: tool name -> x-mcp-header decls (HTTP, modern) */
    bool strayed;                  /* stray-response flaw: the stray frame was sent */
    char mcps_profile[16];         /* the MCP-S profile the server advertised, "" for none */
    char err[512];                 /* why the last operation failed */
};

/* Zero c and set defaults. */
void mcpc_rc_init(struct mcpc_rc *c);
/* Close the connection and free what c owns. */
void mcpc_rc_fini(struct mcpc_rc *c);

/* Negotiate the era on c->conn (unless c->era is forced) and, in 2025-11-25, initialize.
 * MCPC_OK, or an error with c->err set. */
mcpc_err mcpc_rc_connect(struct mcpc_rc *c);

/* tools/list, following nextCursor; keeps the usable tools in c->tools. */
mcpc_err mcpc_rc_list_tools(struct mcpc_rc *c);

/* tools/call name(arguments) (both borrowed; arguments may be NULL: none sent). The tool must
 * be in the listing (one is made first when there is none). MCPC_OK with *text a new string:
 * the concatenated text of the result's text blocks, and *is_error its isError. Errors after
 * which the caller goes on to the next action (c->err says why): MCPC_ERR_NOT_FOUND (the tool
 * is not in the listing or was excluded), MCPC_ERR_INVALID (an argument cannot be mirrored
 * into its Mcp-Param header), MCPC_ERR_PROTOCOL (a JSON-RPC error or an unusable result).
 * Any other error is a transport failure. */
mcpc_err mcpc_rc_call_tool(struct mcpc_rc *c, const char *name, json_t *arguments,
                           json_t **text, bool *is_error);

#endif

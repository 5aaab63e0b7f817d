/* The reference server as an OAuth resource server (docs/auth.md): the interface between the
 * HTTP front end (refserver_http.c), the fixtures (refserver_tools.c) and the files that do the
 * work:
 *
 * - refserver_auth.c: configuration from MCPCERT_AUTH_* / MCPCERT_RESOURCE_URI /
 *   MCPCERT_UPSTREAM_URL, the JWKS, access-token verification, the protected resource
 *   metadata (RFC 9728) and the gate every MCP request passes (401 / 403 with their
 *   WWW-Authenticate challenges);
 * - refserver_calltoken.c: per-call tokens (mcps-call+jwt) with their DPoP proof (RFC 9449) and
 *   the jti replay cache;
 * - refserver_upstream.c: the fetch_report tool's outbound call, with a token of the server's
 *   own (client credentials), never the inbound one;
 * - refserver_fetch.c: one bounded libcurl exchange with a loopback server.
 *
 * All of it is on only in --http mode with MCPCERT_AUTH_ISSUER set; everything runs on the
 * listener's thread with its mutex held, so nothing here locks. */
#ifndef MCPC_REFSERVER_AUTH_H
#define MCPC_REFSERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "error.h"
#include "http_listener.h"
#include "jose.h"
#include "refserver.h"
#include "token_battery.h"

#define MCPC_REF_SCOPE_TOOLS "mcp:tools"              /* list tools, call read-class tools */
#define MCPC_REF_SCOPE_WRITE "mcp:write"              /* call write-class tools */
#define MCPC_REF_SCOPES_ALL MCPC_REF_SCOPE_TOOLS " " MCPC_REF_SCOPE_WRITE
#define MCPC_REF_TYP_ACCESS "at+jwt"                  /* RFC 9068 */
#define MCPC_REF_TYP_CALL "mcps-call+jwt"             /* MCP-S per-call token */
#define MCPC_REF_TYP_DPOP "dpop+jwt"                  /* RFC 9449 proof */
#define MCPC_REF_CALL_TOKEN_META "com.example.mcps/callToken"
/* static-key-accepted flaw: the server is configured with the key the token battery presents,
 * as a server with a static key in its configuration would be */
#define MCPC_REF_STATIC_KEY MCPC_BATTERY_STATIC_KEY
#define MCPC_REF_PRM_PATH "/.well-known/oauth-protected-resource"
#define MCPC_REF_AS_META_PATH "/.well-known/oauth-authorization-server"

/* JSON-RPC codes of refused requests. No MCP code exists for an HTTP 401/403; -32001 is in the
 * implementation-defined server range. -31002 is MCP-S CallTokenRejected. */
#define MCPC_REF_RPC_UNAUTHORIZED (-32001)
#define MCPC_REF_RPC_CALL_TOKEN_REJECTED (-31002)

#define MCPC_REF_JWKS_REFRESH_MS 10000     /* an unknown kid refetches the JWKS at most so often */
#define MCPC_REF_FETCH_MAX ((size_t)256 * 1024)   /* bytes of a JWKS, metadata, token answer */
#define MCPC_REF_UPSTREAM_MAX ((size_t)64 * 1024) /* bytes of the upstream's answer */
#define MCPC_REF_JTI_MAX 4096              /* call-token ids remembered (each until its exp) */
#define MCPC_REF_JTI_LEN 256               /* bytes of one jti we accept */
#define MCPC_REF_PROOF_WINDOW 300          /* seconds a DPoP proof's iat may be off */

/* A per-call token id seen, kept until the token expires. */
struct mcpc_ref_jti {
    char id[MCPC_REF_JTI_LEN + 1];
    long long exp;
};

/* The resource server's configuration and state; one per process, owned by the HTTP front. */
struct mcpc_ref_auth {
    const bool *flaw;              /* borrowed: the command line's flaws (shared state's) */
    char *issuer;                  /* owned; MCPCERT_AUTH_ISSUER */
    char *jwks_uri;                /* owned; MCPCERT_AUTH_JWKS_URI, else from the AS metadata */
    char *resource;                /* owned; MCPCERT_RESOURCE_URI, else our /mcp URL */
    char *prm_url;                 /* owned; the PRM URL named in challenges */
    char *prm_path;                /* owned; its path (/.well-known/oauth-protected-resource/mcp) */
    char *client_id, *client_secret;   /* owned or NULL: our own credentials at the AS */
    char *upstream;                /* owned or NULL: MCPCERT_UPSTREAM_URL */
    json_t *jwks;                  /* the last JWKS fetched, or NULL */
    int64_t jwks_at;               /* mcpc_clock_ms() of the last fetch attempt; 0: none */
    bool jwks_ok;                  /* the last attempt succeeded */
    struct mcpc_ref_jti jti[MCPC_REF_JTI_MAX];
    size_t n_jti;
};

/* What a token verification concluded. */
enum mcpc_ref_verdict {
    MCPC_REF_TOKEN_OK = 0,
    MCPC_REF_TOKEN_INVALID,        /* 401 invalid_token */
    MCPC_REF_TOKEN_SCOPE,          /* valid, but a scope is missing: 403 insufficient_scope */
};

/* How the gate treats a tool (refserver_tools.c decides, from its own table). */
enum mcpc_ref_tool_class {
    MCPC_REF_TOOL_READ = 0,        /* mcp:tools (also unknown tools: they run nothing) */
    MCPC_REF_TOOL_WRITE,           /* mcp:tools mcp:write */
    MCPC_REF_TOOL_CALL_TOKEN,      /* write-class, and a per-call token is required */
};

/* ---- refserver_tools.c -------------------------------------------------------------------- */

/* The class of the tool that a tools/call of name runs on s (found as the dispatcher finds it,
 * flaws included). */
enum mcpc_ref_tool_class mcpc_ref_tool_class(const struct mcpc_ref_server *s, const char *name);

/* ---- refserver_auth.c --------------------------------------------------------------------- */

/* Read the configuration from the environment. *out is NULL (and MCPC_OK returned) when
 * MCPCERT_AUTH_ISSUER is unset or empty: auth is off. s (borrowed, must outlive the state)
 * gives the flaws. port: our port, for the default resource URI (0 when not known yet: call
 * mcpc_ref_auth_set_port later). Fetches the JWKS once (a failure is only logged: the first
 * token retries). MCPC_ERR_USAGE (err says why) for a bad URL or a non-loopback one. */
mcpc_err mcpc_ref_auth_new(const struct mcpc_ref_server *s, unsigned port,
                           struct mcpc_ref_auth **out, char *err, size_t errlen);

/* Our port is now known: derive the default resource URI and the PRM URL from it. */
mcpc_err mcpc_ref_auth_set_port(struct mcpc_ref_auth *a, unsigned port);

void mcpc_ref_auth_free(struct mcpc_ref_auth *a);

/* When req asks for the protected resource metadata, answer it (GET: 200 JSON; under the
 * no-resource-metadata flaw 404) and return 1 (*rc set); else 0. */
int mcpc_ref_auth_metadata(struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                           mcpc_listener_response *res, mcpc_err *rc);

/* The gate in front of the MCP endpoint: decide whether req may be served on s (its flaws and
 * tool table). *refused false: serve it, and *token (new string or NULL) is the credential it
 * came with, for the tools that need to know (token-passthrough flaw). *refused true: res
 * holds the 401/403 answer (JSON-RPC error, WWW-Authenticate) and nothing may run. */
mcpc_err mcpc_ref_auth_gate(struct mcpc_ref_auth *a, const struct mcpc_ref_server *s,
                            const mcpc_listener_request *req, mcpc_listener_response *res,
                            bool *refused, char **token);

/* Verify token (compact JWS) as one our issuer minted: signature against the JWKS (ES256 and
 * EdDSA only; an unknown kid refetches it), typ (NULL: not checked), iss, aud (the resource
 * URI), exp (required), nbf and iat, then scope (space-separated, NULL: none needed). The
 * verification flaws (signature-, kid-, issuer-, aud-, exp-, nbf-, scope-unchecked) act here.
 * On MCPC_REF_TOKEN_OK and _SCOPE *claims (when non-NULL) is a new reference; *status (when
 * non-NULL) is the first check that failed (MCPC_JOSE_OK if none), why tells what it was. */
enum mcpc_ref_verdict mcpc_ref_auth_verify(struct mcpc_ref_auth *a, const char *token,
                                           const char *typ, const char *scope, json_t **claims,
                                           mcpc_jose_status *status, char *why, size_t whylen);

/* The RFC 8414 metadata of issuer (loopback only). New reference, or NULL (err says why). */
json_t *mcpc_ref_as_metadata(const char *issuer, char *err, size_t errlen);

/* 1 if the typ header value t equals want as RFC 7515 4.1.9 compares media types. */
int mcpc_ref_typ_is(const char *t, const char *want);

/* ---- refserver_calltoken.c ---------------------------------------------------------------- */

/* What a per-call token check concluded; reason is the -31002 data.reason. */
struct mcpc_ref_call_verdict {
    enum mcpc_ref_verdict verdict;
    const char *reason;            /* static: replay, binding, expired, audience, typ, invalid */
    char why[300];
};

/* Check `Authorization: DPoP <token>` for req, a tools/call of tool (params.name), as
 * docs/auth.md section 3 lists: the token (typ, signature, iss, aud, exp, lifetime <= 60 s,
 * scope), its authorization_details (tool = params.name, args_sha256; Mcp-Name is the
 * transport's to compare with params.name), the DPoP proof of req and that its key is cnf.jkt,
 * and finally the jti (remembered on success). */
void mcpc_ref_call_token_check(struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                               const char *token, const char *tool,
                               struct mcpc_ref_call_verdict *v);

/* ---- refserver_upstream.c ----------------------------------------------------------------- */

/* fetch_report: GET MCPCERT_UPSTREAM_URL with a token obtained from the AS (client credentials,
 * resource = the upstream URL), or, under the token-passthrough flaw, with inbound (the token
 * the client presented; may be NULL). On MCPC_OK *text is the upstream's answer (new string);
 * otherwise why says what went wrong. */
mcpc_err mcpc_ref_upstream_fetch(struct mcpc_ref_auth *a, const char *inbound, char **text,
                                 char *why, size_t whylen);

/* ---- refserver_fetch.c -------------------------------------------------------------------- */

/* curl_global_init; call once before any thread starts. */
mcpc_err mcpc_ref_fetch_init(void);

/* MCPC_OK if url is http:// on a loopback host (localhost, 127/8, ::1), else MCPC_ERR_USAGE
 * with the reason in err. */
mcpc_err mcpc_ref_url_check(const char *url, char *err, size_t errlen);

struct mcpc_ref_fetched {
    long status;                   /* HTTP status */
    char *body;                    /* owned, NUL-terminated; len bytes */
    size_t len;
};

/* GET url (post_body NULL) or POST post_body (application/x-www-form-urlencoded unless headers
 * say otherwise), with extra headers ("Name: value"), keeping at most max body bytes (more:
 * MCPC_ERR_TOO_BIG). Loopback only, no redirects, 2 s to connect, 5 s in all. On MCPC_OK out
 * holds the answer (any status); free it with mcpc_ref_fetched_clear. */
mcpc_err mcpc_ref_fetch(const char *url, const char *post_body, const char *const *headers,
                        size_t n_headers, size_t max, struct mcpc_ref_fetched *out, char *err,
                        size_t errlen);
void mcpc_ref_fetched_clear(struct mcpc_ref_fetched *f);

/* s form-encoded (RFC 3986 unreserved characters kept, the rest %XX). New string or NULL. */
char *mcpc_ref_form_escape(const char *s);

/* printf into buf (len bytes): the one-line reasons of the resource-server files. */
void mcpc_ref_say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* The embedded OAuth 2.1 authorization server of docs/auth.md §4: loopback only, keys generated at
 * start, scripted consent, every request recorded. It serves the implementation under test over
 * HTTP (metadata, JWKS, /authorize, /token) and mints tokens for the harness in-process.
 *
 * - Metadata (RFC 8414) at /.well-known/oauth-authorization-server; JWKS at /jwks with one ES256
 *   and one Ed25519 key; tokens are signed with opts.sign_alg (ES256 by default).
 * - /authorize: response_type=code, PKCE S256 required, redirect_uri a loopback http URL (any port)
 *   or one registered for the client; auto-approved: 302 with code, state and (per opts) iss.
 * - /token: authorization_code (+ code_verifier, resource), client_credentials
 *   (client_secret_basic or client_secret_post), RFC 8693 token exchange (a subject access token of
 *   this AS, resource, one mcps_tool_call authorization detail and a DPoP proof: a per-call token).
 *   Errors are RFC 6749 section 5.2 JSON with 400 (401 invalid_client).
 * - Form and query parameters are parsed strictly: percent-escapes must be well formed, a decoded
 *   NUL is refused, and so is any parameter given twice (RFC 6749 section 3.1).
 *
 * Thread safety: handlers run on the listener's thread; minting and the accessors may be called
 * from any thread while it runs (keys and strings are fixed at start; the record is read under
 * the listener's lock).
 *
 * Ownership: char * results are new strings the caller frees with free(); const char * results
 * are borrowed from the server and live until mcpc_as_stop; json_t * results are new references
 * the caller json_decref()s; json_t * arguments are borrowed and never modified. */
#ifndef MCPC_AUTHSERVER_H
#define MCPC_AUTHSERVER_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"
#include "jose.h"

#define MCPC_AS_PUBLIC_CLIENT "mcpcert-client"       /* authorization_code + PKCE, no secret */
#define MCPC_AS_CONFIDENTIAL_CLIENT "mcpcert-server" /* client_credentials, random secret */
#define MCPC_AS_SCOPES "mcp:tools mcp:write"          /* scopes_supported by default */
#define MCPC_AS_USER "mcpcert-user"                   /* sub of tokens the scripted user approved */
#define MCPC_AS_CALL_TYP "mcps-call+jwt"
#define MCPC_AS_ACCESS_TYP "at+jwt"
#define MCPC_AS_GRANT_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define MCPC_AS_TT_ACCESS "urn:ietf:params:oauth:token-type:access_token"
#define MCPC_AS_TT_JWT "urn:ietf:params:oauth:token-type:jwt"
#define MCPC_AS_MAX_CLIENTS 16

/* Which metadata document is served (client-role cases judge what a client does with it). */
typedef enum {
    MCPC_AS_META_NORMAL = 0,
    MCPC_AS_META_NO_PKCE_METHODS = 1, /* code_challenge_methods_supported left out (AUTH-09) */
    MCPC_AS_META_ISSUER_MISMATCH = 2, /* "issuer" is <issuer>/other-issuer (AUTH-11) */
    MCPC_AS_META_DANGEROUS_AUTHZ = 3, /* authorization_endpoint = opts.dangerous_authz (AUTH-14) */
} mcpc_as_meta_variant;

/* What the authorization response says in "iss" (RFC 9207). */
typedef enum {
    MCPC_AS_ISS_CORRECT = 0,  /* the issuer */
    MCPC_AS_ISS_OMIT = 1,     /* none (while the metadata still advertises it) */
    MCPC_AS_ISS_WRONG = 2,    /* <issuer>/other-issuer */
    MCPC_AS_ISS_CASEFOLD = 3, /* the issuer upper-cased: equal only to a case-insensitive compare */
} mcpc_as_iss_mode;

/* A registered client. Strings are copied at start. */
typedef struct {
    const char *id;
    const char *secret;         /* confidential: NULL = 32 random bytes, base64url */
    int confidential;           /* 1: must authenticate (basic or post); 0: public, no secret */
    const char *redirect_uris;  /* space-separated registered redirect URIs, or NULL; loopback
                                 * http URLs are accepted on any port regardless (RFC 8252) */
} mcpc_as_client;

typedef struct {
    unsigned port;              /* 0: ephemeral [0] */
    long long access_lifetime;  /* seconds [300] */
    long long call_lifetime;    /* seconds [60] */
    long long code_lifetime;    /* seconds an authorization code may be redeemed in [60] */
    mcpc_jose_alg sign_alg;     /* tokens' signing key [ES256] */
    const char *scopes;         /* space-separated scopes_supported [MCPC_AS_SCOPES] */
    const char *default_scope;  /* granted when a request names none ["mcp:tools"] */
    const char *default_resource; /* aud when a request names no resource; NULL: such a request
                                   * is refused with invalid_target [NULL] */
    const mcpc_as_client *clients; /* n_clients > 0 replaces the two defaults */
    size_t n_clients;
    mcpc_as_meta_variant metadata; /* [NORMAL] */
    const char *dangerous_authz;   /* for MCPC_AS_META_DANGEROUS_AUTHZ ["javascript:alert(1)"] */
    const json_t *metadata_override; /* borrowed, copied at start: merged over the variant, member
                                      * by member; a JSON null deletes the member [NULL] */
    mcpc_as_iss_mode iss;          /* [CORRECT] */
} mcpc_as_opts;

/* Fill o with the defaults in brackets. */
void mcpc_as_opts_default(mcpc_as_opts *o);

typedef struct mcpc_as mcpc_as;

/* Generate the keys and start serving on 127.0.0.1:o->port (o NULL: defaults). On success *out
 * is the running server. MCPC_ERR_USAGE (bad options), MCPC_ERR_IO (port in use...),
 * MCPC_ERR_NOMEM, MCPC_ERR_INVALID (key generation failed); err says why. */
mcpc_err mcpc_as_start(const mcpc_as_opts *o, mcpc_as **out, char *err, size_t errlen);

/* Stop the listener and free everything. NULL is a no-op. Take the record first. */
void mcpc_as_stop(mcpc_as *as);

unsigned mcpc_as_port(const mcpc_as *as);
/* "http://127.0.0.1:<port>" (borrowed). */
const char *mcpc_as_issuer(const mcpc_as *as);
/* "<issuer>/jwks" (borrowed). */
const char *mcpc_as_jwks_uri(const mcpc_as *as);
/* "<issuer>/token" (borrowed): the htu of a token-exchange DPoP proof. */
const char *mcpc_as_token_endpoint(const mcpc_as *as);
/* The secret of client_id (NULL: MCPC_AS_CONFIDENTIAL_CLIENT), borrowed; NULL for an unknown or
 * public client. */
const char *mcpc_as_client_secret(const mcpc_as *as, const char *client_id);

/* The published JWKS {"keys":[ES256, Ed25519]}. New reference, or NULL. */
json_t *mcpc_as_jwks(const mcpc_as *as);

/* The metadata document as served. New reference, or NULL. */
json_t *mcpc_as_metadata(const mcpc_as *as);

/* Which of the server's keys. */
typedef enum {
    MCPC_AS_KEY_SIGNING = 0, /* the one tokens are signed with (opts.sign_alg) */
    MCPC_AS_KEY_ES256 = 1,   /* published */
    MCPC_AS_KEY_EDDSA = 2,   /* published */
    MCPC_AS_KEY_FOREIGN = 3, /* an ES256 key the AS never publishes (foreign-issuer tokens) */
} mcpc_as_key_which;

/* The key (borrowed; has its private part). */
const mcpc_jose_key *mcpc_as_key(const mcpc_as *as, mcpc_as_key_which which);

/* The issuer of foreign-issuer tokens, "https://foreign-issuer.invalid": one no resource of a run
 * trusts. Static. */
const char *mcpc_as_foreign_issuer(void);

/* ---- in-process minting (no HTTP round trip) ---------------------------------------------- */

/* Access-token claims {iss, sub (MCPC_AS_USER), client_id (MCPC_AS_PUBLIC_CLIENT), aud (resource),
 * scope, iat (now), nbf (now), exp (now + lifetime_s), jti (random)}: what the battery edits
 * before signing. scope NULL: the default scope. New reference, or NULL. */
json_t *mcpc_as_access_claims(const mcpc_as *as, const char *resource, const char *scope,
                              long long lifetime_s, long long now);

/* Per-call claims: the access claims (scope: every supported scope) plus cnf.jkt and
 * authorization_details [{"type":"mcps_tool_call","tool","args_sha256"}], where args_sha256 is
 * mcpc_jcs_sha256_b64url(arguments), arguments NULL counting as {}. New reference, or NULL
 * (also when arguments cannot be canonicalized). */
json_t *mcpc_as_call_claims(const mcpc_as *as, const char *resource, const char *tool,
                            const json_t *arguments, const char *jkt, long long lifetime_s,
                            long long now);

/* Sign claims with the signing key under {"alg","typ","kid"}. New string, or NULL. */
char *mcpc_as_sign(const mcpc_as *as, const char *typ, const json_t *claims);

/* An access token (typ at+jwt). New string, or NULL. */
char *mcpc_as_mint_access(const mcpc_as *as, const char *resource, const char *scope,
                          long long lifetime_s, long long now);

/* A per-call token (typ mcps-call+jwt) bound to the DPoP key thumbprint jkt. New string, or
 * NULL. */
char *mcpc_as_mint_call(const mcpc_as *as, const char *resource, const char *tool,
                        const json_t *arguments, const char *jkt, long long lifetime_s,
                        long long now);

/* ---- what it received --------------------------------------------------------------------- */

/* A copy of the record, one object per request in arrival order:
 * {"seq", "method", "path", "query" (raw), "client", "headers": [[name, value], ...],
 *  "params": {decoded query} | null, "form": {decoded urlencoded body} | null,
 *  "form_error": why params/form failed to parse (only then), "body": text (when UTF-8),
 *  "status": the status answered}.
 * A header value or body that is not UTF-8 is recorded as {"base64url": ...}. The first 4096
 * requests are kept (a flood cannot exhaust memory). New reference, or NULL. */
json_t *mcpc_as_requests(mcpc_as *as);

/* Parse an application/x-www-form-urlencoded string (or a query) strictly: '&'-separated
 * name[=value] pairs, '+' is a space, %XX escapes well formed, no decoded NUL, no empty pair,
 * no name twice, every decoded byte string valid UTF-8. On MCPC_OK *out is a new object of
 * strings. MCPC_ERR_INVALID (err says why; *out NULL) or MCPC_ERR_NOMEM. */
mcpc_err mcpc_as_form_parse(const char *s, size_t n, json_t **out, char *err, size_t errlen);

#endif

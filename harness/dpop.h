/* DPoP (RFC 9449) for MCP-S per-call tokens: the proof a caller sends in the `DPoP` header next
 * to `Authorization: DPoP <token>`, and its verification (for the embedded AS's token exchange,
 * and for any harness part that plays a resource server).
 *
 * A DPoP key is an mcpc_jose_key with a private part; the proof carries its public JWK in the
 * header, so the verifier needs no key beforehand: it checks the proof against the key the proof
 * names, then binds that key to the token through the RFC 7638 thumbprint (`cnf.jkt`).
 *
 * Ownership: char * results are new strings the caller frees with free(); json_t * results are
 * new references the caller json_decref()s; arguments are borrowed. */
#ifndef MCPC_DPOP_H
#define MCPC_DPOP_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"
#include "jose.h"

#define MCPC_DPOP_TYP "dpop+jwt"
#define MCPC_DPOP_MAX_SKEW 300 /* seconds a proof's iat may be off from now (docs/auth.md §3) */

/* A fresh ES256 DPoP key (alg ES256 is what every DPoP implementation supports). New key (free
 * with mcpc_jose_key_free), or NULL. */
mcpc_jose_key *mcpc_dpop_key_new(void);

/* RFC 7638 thumbprint of the key's public JWK into out (43 characters and a NUL): what a bound
 * token carries as cnf.jkt. MCPC_OK, or MCPC_ERR_NOMEM / MCPC_ERR_INVALID (out is then ""). */
mcpc_err mcpc_dpop_thumbprint(const mcpc_jose_key *k, char out[44]);

/* base64url(SHA-256(token)): the proof's "ath" for an access token. 43 characters and a NUL. */
void mcpc_dpop_ath(const char *token, char out[44]);

/* The proof header {"typ":"dpop+jwt","alg":<k's alg>,"jwk":<k's public JWK without kid>}.
 * New reference, or NULL. */
json_t *mcpc_dpop_header(const mcpc_jose_key *k);

/* The proof claims {"jti","htm","htu","iat"[,"ath"]}: jti NULL = 16 random bytes, base64url;
 * access_token non-NULL adds ath. New reference, or NULL. */
json_t *mcpc_dpop_claims(const char *htm, const char *htu, const char *access_token,
                         long long iat, const char *jti);

/* A signed proof: mcpc_dpop_header(k) and mcpc_dpop_claims(...) signed by k. New string, or
 * NULL (no private key, out of memory). */
char *mcpc_dpop_proof(const mcpc_jose_key *k, const char *htm, const char *htu,
                      const char *access_token, long long iat, const char *jti);

/* Why a proof was refused. Stable values: append only. */
typedef enum {
    MCPC_DPOP_OK = 0,
    MCPC_DPOP_E_MISSING = 1,   /* no proof (NULL or empty) */
    MCPC_DPOP_E_SYNTAX = 2,    /* not a compact JWS, header or claims not JSON objects */
    MCPC_DPOP_E_JWK = 3,       /* no "jwk" header, or not a public ES256/EdDSA key */
    MCPC_DPOP_E_JWS = 4,       /* typ, alg (none, HMAC, ...) or signature refused: see jose */
    MCPC_DPOP_E_CLAIMS = 5,    /* jti, htm, htu or iat missing or of the wrong type */
    MCPC_DPOP_E_HTM = 6,
    MCPC_DPOP_E_HTU = 7,
    MCPC_DPOP_E_IAT = 8,       /* iat more than max_skew away from now */
    MCPC_DPOP_E_ATH = 9,       /* ath missing (a token was presented) or not its hash */
    MCPC_DPOP_E_JKT = 10,      /* the proof's key is not the one the token is bound to */
} mcpc_dpop_status;

/* Stable short name ("ok", "dpop-missing", "htm", ...). Static; never NULL. */
const char *mcpc_dpop_status_name(mcpc_dpop_status st);

typedef struct {
    const char *htm;           /* the request's method, compared exactly */
    const char *htu;           /* the request's URL; compared without query and fragment, scheme
                                * and host case-insensitively, default port ignored (RFC 9449
                                * section 4.3 step 9) */
    const char *access_token;  /* non-NULL: ath must be its hash (and present) */
    const char *jkt;           /* non-NULL: the proof's key thumbprint must equal it */
    long long now;             /* seconds since the epoch */
    long long max_skew;        /* |iat - now| bound; <= 0 means MCPC_DPOP_MAX_SKEW */
} mcpc_dpop_rules;

/* Verify proof against rules. On MCPC_DPOP_OK jkt_out (when non-NULL) receives the proof key's
 * thumbprint and *claims_out (when non-NULL) a new reference to the claims; on failure *claims_out
 * is NULL and err (when errlen > 0) says why. The jose status behind MCPC_DPOP_E_JWS goes to
 * *jose_st when non-NULL (MCPC_JOSE_OK otherwise). jti uniqueness is the caller's business. */
mcpc_dpop_status mcpc_dpop_verify(const char *proof, const mcpc_dpop_rules *rules,
                                  char jkt_out[44], json_t **claims_out,
                                  mcpc_jose_status *jose_st, char *err, size_t errlen);

/* 1 when the two URLs are the same DPoP htu (the comparison described at mcpc_dpop_rules). */
int mcpc_dpop_htu_equal(const char *a, const char *b);

#endif

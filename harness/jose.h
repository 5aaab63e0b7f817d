/* JOSE for MCP-S: ES256 and EdDSA (Ed25519) keys, JWK/JWKS, compact JWS signing and strict
 * verification, JWT claim checks, and the malformed tokens the AUTH-04/TOK-03 batteries send.
 *
 * Why our own small layer over OpenSSL 3 EVP, not a JOSE library: Debian 12's libjwt-dev
 * (1.10.2) has no EdDSA and no JWK/JWKS at all (keys are PEM); libcjose-dev (0.6.2.1) has EC but
 * no OKP key type, so no Ed25519 either (cjose gained it only in 2026). Both would still leave
 * us writing JWK thumbprints and Ed25519 by hand. More to the point, a conformance harness must
 * produce what a JOSE library exists to refuse: alg "none" with an empty signature, HS256 keyed
 * with the AS's public key bytes, signatures under a header that lies about alg, kid or typ,
 * tampered payloads, duplicate header members. That needs byte-level control of every part, which
 * a library's sign API hides. JWS compact serialization is small (RFC 7515 section 7.1), OpenSSL
 * is already required, and one dependency fewer is one less version skew across distributions.
 *
 * Verification is deliberately narrow (RFC 8725): ES256 and EdDSA only, the key chosen by kid
 * from a JWKS whose key must match the alg (kty/crv), no "crit" extensions, strict base64url,
 * duplicate JSON members refused, bounded sizes. Every refusal has a stable status
 * (mcpc_jose_status, named by mcpc_jose_status_name) and a human detail in err.
 *
 * Ownership: functions returning char * return a new malloc'd string the caller frees with
 * free(); json_t * results are new references the caller json_decref()s; json_t * arguments are
 * borrowed and never modified. Keys are freed with mcpc_jose_key_free. */
#ifndef MCPC_JOSE_H
#define MCPC_JOSE_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"

#define MCPC_JOSE_MAX_TOKEN (16u * 1024)  /* bytes of a compact JWS we accept */
#define MCPC_JOSE_MAX_DEPTH 32            /* nesting of header and payload JSON */
#define MCPC_JOSE_MAX_JWKS_KEYS 64        /* keys in a JWKS we look through */
#define MCPC_JOSE_MAX_LIFETIME 60         /* MCP-S: exp - iat of a call token, seconds */

typedef enum {
    MCPC_JOSE_ES256 = 1, /* ECDSA P-256 SHA-256, signature R||S (RFC 7518 section 3.4) */
    MCPC_JOSE_EDDSA = 2, /* Ed25519 (RFC 8037) */
} mcpc_jose_alg;

/* Why a token (or its claims) was refused. Values are stable: append only. */
typedef enum {
    MCPC_JOSE_OK = 0,
    MCPC_JOSE_E_TOO_BIG = 1,         /* token over MCPC_JOSE_MAX_TOKEN, JSON too deep */
    MCPC_JOSE_E_FORMAT = 2,          /* not three '.'-separated parts, or an empty header */
    MCPC_JOSE_E_BASE64 = 3,          /* a part is not strict base64url */
    MCPC_JOSE_E_HEADER = 4,          /* header not a JSON object, duplicate members, bad types */
    MCPC_JOSE_E_ALG_NONE = 5,        /* alg "none" (any case) */
    MCPC_JOSE_E_ALG_HMAC = 6,        /* alg HS256/HS384/HS512 */
    MCPC_JOSE_E_ALG_UNSUPPORTED = 7, /* alg missing or anything but ES256 and EdDSA */
    MCPC_JOSE_E_CRIT = 8,            /* a "crit" header: we understand no extensions */
    MCPC_JOSE_E_TYP = 9,             /* typ missing or not the expected one */
    MCPC_JOSE_E_KID_MISSING = 10,    /* no kid, but the key must be chosen from a JWKS */
    MCPC_JOSE_E_KID_UNKNOWN = 11,    /* no JWKS key has this kid */
    MCPC_JOSE_E_KEY_MISMATCH = 12,   /* the key's kty/crv does not fit the alg */
    MCPC_JOSE_E_SIGNATURE = 13,      /* wrong length or does not verify */
    MCPC_JOSE_E_PAYLOAD = 14,        /* payload not a JSON object, duplicate members */
    MCPC_JOSE_E_JWKS = 15,           /* the JWKS (or a JWK) is malformed */
    MCPC_JOSE_E_INTERNAL = 16,       /* out of memory, OpenSSL failure */
    /* claims (mcpc_jose_claims_verify) */
    MCPC_JOSE_E_CLAIM_TYPE = 17,     /* a registered claim has the wrong JSON type */
    MCPC_JOSE_E_EXP_MISSING = 18,
    MCPC_JOSE_E_EXPIRED = 19,
    MCPC_JOSE_E_NBF = 20,            /* nbf in the future */
    MCPC_JOSE_E_IAT_MISSING = 21,    /* iat absent while a lifetime bound is asked */
    MCPC_JOSE_E_IAT_FUTURE = 22,     /* issued in the future */
    MCPC_JOSE_E_LIFETIME = 23,       /* exp - iat over the bound */
    MCPC_JOSE_E_ISSUER = 24,
    MCPC_JOSE_E_AUDIENCE = 25,
    MCPC_JOSE_E_SCOPE = 26,          /* a required scope is not granted */
} mcpc_jose_status;

/* Stable short name of a status ("ok", "alg-none", "expired", ...): what cases and reports
 * print and tests compare. Static; never NULL. */
const char *mcpc_jose_status_name(mcpc_jose_status st);

/* "ES256" or "EdDSA". Static; never NULL ("?" for anything else). */
const char *mcpc_jose_alg_name(mcpc_jose_alg alg);

/* ---- keys --------------------------------------------------------------------------------- */

typedef struct mcpc_jose_key mcpc_jose_key;

/* A fresh key pair (P-256 for ES256, Ed25519 for EdDSA); its kid is the RFC 7638 thumbprint.
 * New key, or NULL (OpenSSL failure). */
mcpc_jose_key *mcpc_jose_key_generate(mcpc_jose_alg alg);

/* A key from a JWK (borrowed): {"kty":"EC","crv":"P-256","x","y"} or
 * {"kty":"OKP","crv":"Ed25519","x"}, plus "d" (private part) when allow_private (a JWK with "d"
 * is refused otherwise: a verifier has no business with private keys). "alg", when present,
 * must fit the key; "use", when present, must be "sig"; "kid", when present, must be a string
 * and is kept, otherwise the thumbprint is the kid. Points must be on the curve; a "d" must
 * match "x"/"y". New key, or NULL with the reason in err (errlen may be 0). */
mcpc_jose_key *mcpc_jose_key_from_jwk(const json_t *jwk, int allow_private, char *err,
                                      size_t errlen);

void mcpc_jose_key_free(mcpc_jose_key *k);

mcpc_jose_alg mcpc_jose_key_alg(const mcpc_jose_key *k);
/* 1 when the key can sign. */
int mcpc_jose_key_has_private(const mcpc_jose_key *k);
/* The key id (borrowed; valid until the key is freed or its kid set). */
const char *mcpc_jose_key_kid(const mcpc_jose_key *k);
/* Replace the kid (copied), e.g. to publish the same key under another name. MCPC_OK, or
 * MCPC_ERR_NOMEM / MCPC_ERR_INVALID (NULL or over 256 bytes). */
mcpc_err mcpc_jose_key_set_kid(mcpc_jose_key *k, const char *kid);

/* The public JWK: {"kty","crv","x"[,"y"],"kid","alg","use":"sig"}. New reference, or NULL. */
json_t *mcpc_jose_key_public_jwk(const mcpc_jose_key *k);

/* {"keys":[public JWK, ...]} of n keys. New reference, or NULL. */
json_t *mcpc_jose_jwks(const mcpc_jose_key *const *keys, size_t n);

/* Encodings of the public key, the HMAC "secrets" an alg-confusion attacker tries. */
typedef enum {
    MCPC_JOSE_PUB_RAW = 1, /* EC: 0x04||x||y (65 bytes); Ed25519: the 32 key bytes */
    MCPC_JOSE_PUB_DER = 2, /* SubjectPublicKeyInfo, DER */
    MCPC_JOSE_PUB_PEM = 3, /* SubjectPublicKeyInfo, PEM text ("-----BEGIN PUBLIC KEY-----...") */
    MCPC_JOSE_PUB_JWK = 4, /* the public JWK as compact JSON text (members as exported) */
} mcpc_jose_pub_form;

/* The public key in the given form. New buffer (caller frees with free()) of *len bytes plus a
 * NUL not counted, or NULL. */
unsigned char *mcpc_jose_key_public_bytes(const mcpc_jose_key *k, mcpc_jose_pub_form form,
                                          size_t *len);

/* RFC 7638 JWK thumbprint with SHA-256, base64url: 43 characters and a NUL into out. The JWK
 * (borrowed) must be an EC P-256 or OKP Ed25519 key whose x (and y) are strict base64url of the
 * right length; other members are ignored. MCPC_OK or MCPC_ERR_INVALID (out is then ""). */
mcpc_err mcpc_jose_thumbprint(const json_t *jwk, char out[44]);

/* ---- signing (also of deliberately wrong tokens) ------------------------------------------ */

/* {"alg":<the key's alg>,"typ":typ,"kid":<the key's kid>} ("typ" left out when typ is NULL).
 * New reference, or NULL. */
json_t *mcpc_jose_header(const mcpc_jose_key *k, const char *typ);

/* Compact JWS: base64url(compact JSON of header) "." base64url(compact JSON of payload) "."
 * base64url(signature by k with the key's own algorithm). The header is used as given, and not
 * checked against the key: a case may sign under a header that lies (wrong kid, wrong typ, alg
 * of another key type). header and payload are borrowed (payload any JSON value). New string,
 * or NULL (no private key, OpenSSL failure). */
char *mcpc_jose_sign(const mcpc_jose_key *k, const json_t *header, const json_t *payload);

/* Same over raw bytes, for headers or payloads that are not what jansson would write
 * (duplicate members, odd spacing, non-JSON payloads). */
char *mcpc_jose_sign_bytes(const mcpc_jose_key *k, const void *header, size_t hlen,
                           const void *payload, size_t plen);

/* The "HS256 keyed with the AS public key" attack: an HMAC-SHA-256 JWS with key[0..keylen)
 * (e.g. from mcpc_jose_key_public_bytes). The header is used as given (normally
 * {"alg":"HS256",...}). New string, or NULL. */
char *mcpc_jose_mint_hs256_with(const void *key, size_t keylen, const json_t *header,
                                const json_t *payload);

/* An unsecured JWS (RFC 7515 appendix A.5): header "." payload "." with an empty signature.
 * The header is used as given (normally {"alg":"none",...}). New string, or NULL. */
char *mcpc_jose_unsigned(const json_t *header, const json_t *payload);

typedef enum {
    MCPC_JOSE_TAMPER_SIGNATURE = 1, /* flip one bit of one signature byte */
    MCPC_JOSE_TAMPER_PAYLOAD = 2,   /* flip one bit of one payload byte */
} mcpc_jose_tamper_what;

/* A copy of compact with one base64url character of the chosen part changed to another
 * character (never the part's last one, so the result stays canonical base64url and decodes
 * to bytes that differ in one bit). New string, or NULL (part empty or too short, not three
 * parts). */
char *mcpc_jose_tamper(const char *compact, mcpc_jose_tamper_what what);

/* A copy of compact whose payload is replaced by payload (borrowed; compact JSON), header and
 * signature kept: the "edit the claims, keep the signature" attack. New string, or NULL. */
char *mcpc_jose_swap_payload(const char *compact, const json_t *payload);

/* ---- verification ------------------------------------------------------------------------- */

/* Verify compact against a JWKS ({"keys":[...]}, borrowed): three strict base64url parts, a
 * header JSON object (duplicates refused) with alg ES256 or EdDSA (none, HS*, RS* and the rest
 * refused), no crit, typ equal to expected_typ when that is non-NULL (compared as RFC 7515
 * section 4.1.9 says: case-insensitively, "application/" optional), a kid naming a JWKS key of
 * the alg's kty/crv, a valid signature, then a payload that is a JSON object (duplicates
 * refused). On MCPC_JOSE_OK *payload_out is a new reference; otherwise it is NULL and err (when
 * errlen > 0) holds "<status name>: <detail>". Claims are not checked here: see below. */
mcpc_jose_status mcpc_jose_verify(const char *compact, const json_t *jwks,
                                  const char *expected_typ, json_t **payload_out, char *err,
                                  size_t errlen);

/* The same checks against one given key (the header's kid is ignored): for DPoP proofs, whose
 * key travels in the header, and for test vectors without kid. The payload is returned as bytes,
 * not parsed: a new buffer (caller frees with free()) of *payload_len bytes plus a NUL, when
 * payload_out is non-NULL. header_out, when non-NULL, receives the header (new reference). */
mcpc_jose_status mcpc_jose_verify_with_key(const char *compact, const mcpc_jose_key *k,
                                           const char *expected_typ, json_t **header_out,
                                           unsigned char **payload_out, size_t *payload_len,
                                           char *err, size_t errlen);

/* Decode without verifying anything but the syntax (three parts, strict base64url, JSON objects
 * without duplicates, bounds): for looking inside a token, never for trusting it. header_out and
 * payload_out (either may be NULL) receive new references on MCPC_JOSE_OK. */
mcpc_jose_status mcpc_jose_peek(const char *compact, json_t **header_out, json_t **payload_out,
                                char *err, size_t errlen);

/* ---- claims (RFC 7519 section 4.1, RFC 9068) ---------------------------------------------- */

typedef struct {
    const char *issuer;    /* "iss" must equal it (when non-NULL) */
    const char *audience;  /* "aud" (string, or array of strings) must contain it (when non-NULL) */
    const char *scope;     /* space-separated scopes that "scope" must all grant (when non-NULL) */
    long long max_lifetime;/* exp - iat must be <= this, seconds (when > 0; iat then required) */
    long long leeway;      /* clock skew tolerated on exp, nbf and iat, seconds (>= 0) */
} mcpc_jose_claims_rules;

/* Check the claims of a verified payload (borrowed) at time now (seconds since the epoch):
 * exp required and now < exp + leeway; nbf, when present, <= now + leeway; iat, when present,
 * <= now + leeway; the lifetime bound (no leeway: a 61-second token is refused with any
 * leeway); iss, aud and scope as the rules ask. NumericDates may be integers or reals. The
 * first failing check is returned, in the order listed; err as for mcpc_jose_verify. */
mcpc_jose_status mcpc_jose_claims_verify(const json_t *payload, long long now,
                                         const mcpc_jose_claims_rules *rules, char *err,
                                         size_t errlen);

#endif

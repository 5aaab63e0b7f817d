/* DPoP proofs (RFC 9449): minting, including the deliberately wrong ones the token battery
 * needs (built from mcpc_dpop_header/mcpc_dpop_claims), and verification. */
#include "dpop.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64url.h"

mcpc_jose_key *mcpc_dpop_key_new(void)
{
    return mcpc_jose_key_generate(MCPC_JOSE_ES256);
}

mcpc_err mcpc_dpop_thumbprint(const mcpc_jose_key *k, char out[44])
{
    json_t *jwk = mcpc_jose_key_public_jwk(k);
    mcpc_err rc;

    out[0] = '\0';
    if (!jwk)
        return MCPC_ERR_NOMEM;
    rc = mcpc_jose_thumbprint(jwk, out);
    json_decref(jwk);
    return rc;
}

void mcpc_dpop_ath(const char *token, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;

    if (EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        /* SHA-256 of memory cannot fail short of a broken OpenSSL; an empty ath never matches */
        ERR_clear_error();
        out[0] = '\0';
        return;
    }
    mcpc_b64url_encode_to(md, 32, out);
}

json_t *mcpc_dpop_header(const mcpc_jose_key *k)
{
    json_t *jwk = mcpc_jose_key_public_jwk(k);

    if (!jwk)
        return NULL;
    /* the proof's jwk is the key itself; kid, alg and use add nothing and some verifiers
     * compare the member set, so only the RFC 7638 members travel */
    json_object_del(jwk, "kid");
    json_object_del(jwk, "alg");
    json_object_del(jwk, "use");
    return json_pack("{s:s, s:s, s:o}", "typ", MCPC_DPOP_TYP, "alg",
                     mcpc_jose_alg_name(mcpc_jose_key_alg(k)), "jwk", jwk);
}

json_t *mcpc_dpop_claims(const char *htm, const char *htu, const char *access_token,
                         long long iat, const char *jti)
{
    unsigned char rnd[16];
    char jbuf[32], ath[44];
    json_t *c;

    if (!jti) {
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            ERR_clear_error();
            return NULL;
        }
        mcpc_b64url_encode_to(rnd, sizeof rnd, jbuf);
        jti = jbuf;
    }
    c = json_pack("{s:s, s:s, s:s, s:I}", "jti", jti, "htm", htm, "htu", htu, "iat",
                  (json_int_t)iat);
    if (c && access_token) {
        mcpc_dpop_ath(access_token, ath);
        if (json_object_set_new(c, "ath", json_string(ath))) {
            json_decref(c);
            c = NULL;
        }
    }
    return c;
}

char *mcpc_dpop_proof(const mcpc_jose_key *k, const char *htm, const char *htu,
                      const char *access_token, long long iat, const char *jti)
{
    json_t *h = mcpc_dpop_header(k), *c = mcpc_dpop_claims(htm, htu, access_token, iat, jti);
    char *s = NULL;

    if (h && c)
        s = mcpc_jose_sign(k, h, c);
    json_decref(h);
    json_decref(c);
    return s;
}

const char *mcpc_dpop_status_name(mcpc_dpop_status st)
{
    switch (st) {
    case MCPC_DPOP_OK: return "ok";
    case MCPC_DPOP_E_MISSING: return "dpop-missing";
    case MCPC_DPOP_E_SYNTAX: return "dpop-syntax";
    case MCPC_DPOP_E_JWK: return "dpop-jwk";
    case MCPC_DPOP_E_JWS: return "dpop-jws";
    case MCPC_DPOP_E_CLAIMS: return "dpop-claims";
    case MCPC_DPOP_E_HTM: return "dpop-htm";
    case MCPC_DPOP_E_HTU: return "dpop-htu";
    case MCPC_DPOP_E_IAT: return "dpop-iat";
    case MCPC_DPOP_E_ATH: return "dpop-ath";
    case MCPC_DPOP_E_JKT: return "dpop-jkt";
    }
    return "unknown";
}

/* The htu comparison form of url: scheme and host lower-cased, default port dropped, empty
 * path as "/", query and fragment cut. New string, or NULL (not an absolute http(s) URL). */
static char *htu_normal(const char *url)
{
    const char *p = url, *auth, *end, *host_end, *port = NULL;
    size_t path_len, n;
    char *s;
    int https;

    if (strncasecmp(p, "http://", 7) == 0) {
        https = 0;
        auth = p + 7;
    } else if (strncasecmp(p, "https://", 8) == 0) {
        https = 1;
        auth = p + 8;
    } else {
        return NULL;
    }
    end = auth + strcspn(auth, "/?#");
    if (memchr(auth, '@', (size_t)(end - auth)))
        return NULL; /* userinfo has no place in an htu */
    host_end = end;
    /* the port is after the last ':' that is not inside an IPv6 literal */
    for (const char *q = end; q > auth; q--) {
        if (q[-1] == ']')
            break;
        if (q[-1] == ':') {
            port = q;
            host_end = q - 1;
            break;
        }
    }
    if (port && port == end)
        port = NULL; /* "host:" with an empty port is the default port */
    if (port && ((!https && (size_t)(end - port) == 2 && memcmp(port, "80", 2) == 0) ||
                 (https && (size_t)(end - port) == 3 && memcmp(port, "443", 3) == 0)))
        port = NULL;
    path_len = strcspn(end, "?#");
    n = 8 + (size_t)(host_end - auth) + 1 + (port ? (size_t)(end - port) : 0) + path_len + 2;
    s = malloc(n);
    if (!s)
        return NULL;
    snprintf(s, n, "%s://%.*s%s%.*s%.*s", https ? "https" : "http", (int)(host_end - auth), auth,
             port ? ":" : "", port ? (int)(end - port) : 0, port ? port : "",
             path_len ? (int)path_len : 1, path_len ? end : "/");
    for (char *c = s; *c && c < s + (https ? 8 : 7) + (host_end - auth); c++)
        *c = (char)tolower((unsigned char)*c);
    return s;
}

int mcpc_dpop_htu_equal(const char *a, const char *b)
{
    char *na = htu_normal(a), *nb = htu_normal(b);
    int eq = na && nb && strcmp(na, nb) == 0;

    free(na);
    free(nb);
    return eq;
}

#define FAIL(st, ...)                                                                              \
    do {                                                                                           \
        if (errlen)                                                                                \
            snprintf(err, errlen, __VA_ARGS__);                                                    \
        rc = (st);                                                                                 \
        goto out;                                                                                  \
    } while (0)

mcpc_dpop_status mcpc_dpop_verify(const char *proof, const mcpc_dpop_rules *rules,
                                  char jkt_out[44], json_t **claims_out,
                                  mcpc_jose_status *jose_st, char *err, size_t errlen)
{
    mcpc_dpop_status rc = MCPC_DPOP_OK;
    json_t *hdr = NULL, *claims = NULL, *jwk;
    mcpc_jose_key *k = NULL;
    mcpc_jose_status js;
    char jerr[200], jkt[44], ath[44];
    const char *jti, *htm, *htu, *got_ath;
    json_t *iat;
    double skew, max_skew = rules->max_skew > 0 ? (double)rules->max_skew : MCPC_DPOP_MAX_SKEW;

    if (claims_out)
        *claims_out = NULL;
    if (jose_st)
        *jose_st = MCPC_JOSE_OK;
    if (jkt_out)
        jkt_out[0] = '\0';
    if (errlen)
        err[0] = '\0';
    if (!proof || !*proof)
        FAIL(MCPC_DPOP_E_MISSING, "no DPoP proof");
    js = mcpc_jose_peek(proof, &hdr, &claims, jerr, sizeof jerr);
    if (js != MCPC_JOSE_OK) {
        if (jose_st)
            *jose_st = js;
        FAIL(MCPC_DPOP_E_SYNTAX, "proof: %s", jerr);
    }
    jwk = json_object_get(hdr, "jwk");
    if (!json_is_object(jwk))
        FAIL(MCPC_DPOP_E_JWK, "proof header has no jwk object");
    /* a private key in the header is refused by from_jwk (allow_private 0) */
    k = mcpc_jose_key_from_jwk(jwk, 0, jerr, sizeof jerr);
    if (!k)
        FAIL(MCPC_DPOP_E_JWK, "proof jwk: %s", jerr);
    if (mcpc_jose_thumbprint(jwk, jkt) != MCPC_OK)
        FAIL(MCPC_DPOP_E_JWK, "proof jwk has no thumbprint");
    js = mcpc_jose_verify_with_key(proof, k, MCPC_DPOP_TYP, NULL, NULL, NULL, jerr, sizeof jerr);
    if (js != MCPC_JOSE_OK) {
        if (jose_st)
            *jose_st = js;
        FAIL(MCPC_DPOP_E_JWS, "proof: %s", jerr);
    }
    jti = json_string_value(json_object_get(claims, "jti"));
    htm = json_string_value(json_object_get(claims, "htm"));
    htu = json_string_value(json_object_get(claims, "htu"));
    iat = json_object_get(claims, "iat");
    if (!jti || !*jti || !htm || !htu || !json_is_number(iat))
        FAIL(MCPC_DPOP_E_CLAIMS, "proof claims jti, htm, htu (strings) and iat (number) required");
    if (rules->htm && strcmp(htm, rules->htm) != 0)
        FAIL(MCPC_DPOP_E_HTM, "htm \"%.16s\", \"%.16s\" expected", htm, rules->htm);
    if (rules->htu && !mcpc_dpop_htu_equal(htu, rules->htu))
        FAIL(MCPC_DPOP_E_HTU, "htu \"%.200s\", \"%.200s\" expected", htu, rules->htu);
    skew = json_number_value(iat) - (double)rules->now;
    if (skew > max_skew || -skew > max_skew)
        FAIL(MCPC_DPOP_E_IAT, "iat is %.0f s from now, at most %.0f s allowed", skew, max_skew);
    if (rules->access_token) {
        got_ath = json_string_value(json_object_get(claims, "ath"));
        mcpc_dpop_ath(rules->access_token, ath);
        if (!got_ath || strcmp(got_ath, ath) != 0)
            FAIL(MCPC_DPOP_E_ATH, "ath %s the token's hash", got_ath ? "is not" : "missing, needs");
    }
    if (rules->jkt && strcmp(rules->jkt, jkt) != 0)
        FAIL(MCPC_DPOP_E_JKT, "proof key thumbprint %s, token bound to %.64s", jkt, rules->jkt);
    if (jkt_out)
        memcpy(jkt_out, jkt, 44);
    if (claims_out) {
        *claims_out = claims;
        claims = NULL;
    }
out:
    mcpc_jose_key_free(k);
    json_decref(hdr);
    json_decref(claims);
    return rc;
}

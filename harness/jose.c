/* JOSE over OpenSSL 3 EVP (see jose.h for why not a JOSE library). Only non-deprecated OpenSSL
 * 3.0 interfaces; every OpenSSL object is freed on every path and the OpenSSL error queue is
 * cleared after an expected failure, so it does not leak into unrelated code (libcurl shares it). */
#include "jose.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "b64url.h"

#define KID_MAX 256
#define SIG_LEN 64   /* both algorithms: ES256 R||S, Ed25519 */
#define COORD_LEN 32 /* P-256 coordinates, Ed25519 keys */

struct mcpc_jose_key {
    EVP_PKEY *pkey;
    mcpc_jose_alg alg;
    int priv;
    char *kid;
};

/* ---- small helpers ------------------------------------------------------------------------ */

const char *mcpc_jose_status_name(mcpc_jose_status st)
{
    switch (st) {
    case MCPC_JOSE_OK: return "ok";
    case MCPC_JOSE_E_TOO_BIG: return "too-big";
    case MCPC_JOSE_E_FORMAT: return "format";
    case MCPC_JOSE_E_BASE64: return "base64";
    case MCPC_JOSE_E_HEADER: return "header";
    case MCPC_JOSE_E_ALG_NONE: return "alg-none";
    case MCPC_JOSE_E_ALG_HMAC: return "alg-hmac";
    case MCPC_JOSE_E_ALG_UNSUPPORTED: return "alg-unsupported";
    case MCPC_JOSE_E_CRIT: return "crit";
    case MCPC_JOSE_E_TYP: return "typ";
    case MCPC_JOSE_E_KID_MISSING: return "kid-missing";
    case MCPC_JOSE_E_KID_UNKNOWN: return "kid-unknown";
    case MCPC_JOSE_E_KEY_MISMATCH: return "key-mismatch";
    case MCPC_JOSE_E_SIGNATURE: return "signature";
    case MCPC_JOSE_E_PAYLOAD: return "payload";
    case MCPC_JOSE_E_JWKS: return "jwks";
    case MCPC_JOSE_E_INTERNAL: return "internal";
    case MCPC_JOSE_E_CLAIM_TYPE: return "claim-type";
    case MCPC_JOSE_E_EXP_MISSING: return "exp-missing";
    case MCPC_JOSE_E_EXPIRED: return "expired";
    case MCPC_JOSE_E_NBF: return "nbf";
    case MCPC_JOSE_E_IAT_MISSING: return "iat-missing";
    case MCPC_JOSE_E_IAT_FUTURE: return "iat-future";
    case MCPC_JOSE_E_LIFETIME: return "lifetime";
    case MCPC_JOSE_E_ISSUER: return "issuer";
    case MCPC_JOSE_E_AUDIENCE: return "audience";
    case MCPC_JOSE_E_SCOPE: return "scope";
    }
    return "unknown";
}

const char *mcpc_jose_alg_name(mcpc_jose_alg alg)
{
    switch (alg) {
    case MCPC_JOSE_ES256: return "ES256";
    case MCPC_JOSE_EDDSA: return "EdDSA";
    }
    return "?";
}

__attribute__((format(printf, 4, 5)))
static mcpc_jose_status fail(char *err, size_t errlen, mcpc_jose_status st, const char *fmt, ...)
{
    if (err && errlen > 0) {
        int n = snprintf(err, errlen, "%s: ", mcpc_jose_status_name(st));
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* 1 when v nests no deeper than left more levels. */
static int depth_ok(const json_t *v, int left)
{
    if (left < 0)
        return 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!depth_ok(json_array_get(v, i), left - 1))
                return 0;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
            if (!depth_ok(m, left - 1))
                return 0;
    }
    return 1;
}

/* Strictly base64url-decode the n characters at s into exactly want bytes. */
static int decode_exact(const char *s, size_t n, unsigned char *out, size_t want)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int ok = mcpc_b64url_decode(s, n, &buf, &len) == MCPC_OK && len == want;
    if (ok)
        memcpy(out, buf, want);
    free(buf);
    return ok;
}

static char *dump_compact(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* ---- keys --------------------------------------------------------------------------------- */

/* The public coordinates of a P-256 key, big-endian, zero-padded. */
static int ec_xy(const EVP_PKEY *pkey, unsigned char x[COORD_LEN], unsigned char y[COORD_LEN])
{
    BIGNUM *bx = NULL, *by = NULL;
    int ok = 0;
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by))
        goto out;
    if (BN_bn2binpad(bx, x, COORD_LEN) != COORD_LEN || BN_bn2binpad(by, y, COORD_LEN) != COORD_LEN)
        goto out;
    ok = 1;
out:
    BN_free(bx);
    BN_free(by);
    return ok;
}

static int ed_raw(const EVP_PKEY *pkey, unsigned char x[COORD_LEN])
{
    size_t len = COORD_LEN;
    return EVP_PKEY_get_raw_public_key(pkey, x, &len) == 1 && len == COORD_LEN;
}

/* The RFC 7638 thumbprint input has the required members in lexicographic order and no
 * whitespace; base64url needs no JSON escaping, so plain formatting is exact. */
static mcpc_err thumbprint_of(mcpc_jose_alg alg, const char *x, const char *y, char out[44])
{
    char in[256];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n;

    out[0] = '\0';
    if (alg == MCPC_JOSE_ES256)
        n = snprintf(in, sizeof in, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
                     y);
    else
        n = snprintf(in, sizeof in, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
    if (n < 0 || (size_t)n >= sizeof in)
        return MCPC_ERR_INVALID;
    if (!EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return MCPC_ERR_NOMEM;
    mcpc_b64url_encode_to(md, mdlen, out);
    return MCPC_OK;
}

/* x and y of a key as base64url (43 characters each; y "" for Ed25519). */
static int key_coords(const mcpc_jose_key *k, char x[44], char y[44])
{
    unsigned char bx[COORD_LEN], by[COORD_LEN];
    y[0] = '\0';
    if (k->alg == MCPC_JOSE_ES256) {
        if (!ec_xy(k->pkey, bx, by))
            return 0;
        mcpc_b64url_encode_to(by, COORD_LEN, y);
    } else if (!ed_raw(k->pkey, bx)) {
        return 0;
    }
    mcpc_b64url_encode_to(bx, COORD_LEN, x);
    return 1;
}

static mcpc_jose_key *key_wrap(EVP_PKEY *pkey, mcpc_jose_alg alg, int priv, const char *kid)
{
    mcpc_jose_key *k = calloc(1, sizeof *k);
    char x[44], y[44], thumb[44];
    if (!k)
        goto fail;
    k->pkey = pkey;
    k->alg = alg;
    k->priv = priv;
    if (!kid) {
        if (!key_coords(k, x, y) || thumbprint_of(alg, x, y, thumb) != MCPC_OK)
            goto fail;
        kid = thumb;
    }
    k->kid = strdup(kid);
    if (!k->kid)
        goto fail;
    return k;
fail:
    if (k)
        free(k->kid);
    free(k);
    EVP_PKEY_free(pkey);
    return NULL;
}

mcpc_jose_key *mcpc_jose_key_generate(mcpc_jose_alg alg)
{
    EVP_PKEY *pkey = NULL;
    if (alg == MCPC_JOSE_ES256)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
    else if (alg == MCPC_JOSE_EDDSA)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey) {
        ERR_clear_error();
        return NULL;
    }
    return key_wrap(pkey, alg, 1, NULL);
}

void mcpc_jose_key_free(mcpc_jose_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->kid);
    free(k);
}

mcpc_jose_alg mcpc_jose_key_alg(const mcpc_jose_key *k)
{
    return k->alg;
}

int mcpc_jose_key_has_private(const mcpc_jose_key *k)
{
    return k->priv;
}

const char *mcpc_jose_key_kid(const mcpc_jose_key *k)
{
    return k->kid;
}

mcpc_err mcpc_jose_key_set_kid(mcpc_jose_key *k, const char *kid)
{
    char *c;
    if (!kid || strlen(kid) > KID_MAX)
        return MCPC_ERR_INVALID;
    c = strdup(kid);
    if (!c)
        return MCPC_ERR_NOMEM;
    free(k->kid);
    k->kid = c;
    return MCPC_OK;
}

/* An EC P-256 EVP_PKEY from its coordinates (and private scalar when d is non-NULL), checked:
 * the point is on the curve and d matches it. NULL otherwise. */
static EVP_PKEY *ec_from_coords(const unsigned char x[COORD_LEN], const unsigned char y[COORD_LEN],
                                const unsigned char *d)
{
    unsigned char pub[1 + 2 * COORD_LEN];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bd = NULL;
    int ok = 0;

    pub[0] = 0x04; /* uncompressed point */
    memcpy(pub + 1, x, COORD_LEN);
    memcpy(pub + 1 + COORD_LEN, y, COORD_LEN);
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub))
        goto out;
    if (d) {
        bd = BN_bin2bn(d, COORD_LEN, NULL);
        if (!bd || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bd))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    /* fromdata already refuses points off the curve; the checks make it explicit, and the
     * pairwise check is what catches a d that belongs to another point */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!check || (d ? EVP_PKEY_pairwise_check(check) : EVP_PKEY_public_check(check)) != 1)
        goto out;
    ok = 1;
out:
    if (!ok) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bd);
    return pkey;
}

/* An Ed25519 EVP_PKEY from x (and d when non-NULL, which must yield x). */
static EVP_PKEY *ed_from_raw(const unsigned char x[COORD_LEN], const unsigned char *d)
{
    EVP_PKEY *pkey;
    unsigned char derived[COORD_LEN];

    if (!d) {
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, COORD_LEN);
    } else {
        pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, COORD_LEN);
        if (pkey && (!ed_raw(pkey, derived) || memcmp(derived, x, COORD_LEN) != 0)) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (!pkey)
        ERR_clear_error();
    return pkey;
}

/* Decode and check the members of an EC P-256 or OKP Ed25519 JWK: its alg, x (and y), and d
 * when want_d and present (*has_d says so). 0 with a message in err otherwise. */
static int jwk_members(const json_t *jwk, mcpc_jose_alg *alg, unsigned char x[COORD_LEN],
                       unsigned char y[COORD_LEN], int want_d, unsigned char d[COORD_LEN],
                       int *has_d, char *err, size_t errlen)
{
    const char *kty, *crv;
    json_t *jx, *jy, *jd;

    *has_d = 0;
    if (!json_is_object(jwk)) {
        set_err(err, errlen, "JWK is not an object");
        return 0;
    }
    kty = json_string_value(json_object_get(jwk, "kty"));
    crv = json_string_value(json_object_get(jwk, "crv"));
    if (!kty || !crv) {
        set_err(err, errlen, "JWK kty or crv missing or not a string");
        return 0;
    }
    if (strcmp(kty, "EC") == 0 && strcmp(crv, "P-256") == 0) {
        *alg = MCPC_JOSE_ES256;
    } else if (strcmp(kty, "OKP") == 0 && strcmp(crv, "Ed25519") == 0) {
        *alg = MCPC_JOSE_EDDSA;
    } else {
        set_err(err, errlen, "JWK is neither EC P-256 nor OKP Ed25519");
        return 0;
    }
    jx = json_object_get(jwk, "x");
    if (!json_is_string(jx) ||
        !decode_exact(json_string_value(jx), json_string_length(jx), x, COORD_LEN)) {
        set_err(err, errlen, "JWK x is not 32 bytes of base64url");
        return 0;
    }
    if (*alg == MCPC_JOSE_ES256) {
        jy = json_object_get(jwk, "y");
        if (!json_is_string(jy) ||
            !decode_exact(json_string_value(jy), json_string_length(jy), y, COORD_LEN)) {
            set_err(err, errlen, "JWK y is not 32 bytes of base64url");
            return 0;
        }
    }
    jd = json_object_get(jwk, "d");
    if (jd && want_d) {
        if (!json_is_string(jd) ||
            !decode_exact(json_string_value(jd), json_string_length(jd), d, COORD_LEN)) {
            set_err(err, errlen, "JWK d is not 32 bytes of base64url");
            return 0;
        }
        *has_d = 1;
    }
    return 1;
}

mcpc_jose_key *mcpc_jose_key_from_jwk(const json_t *jwk, int allow_private, char *err,
                                      size_t errlen)
{
    unsigned char x[COORD_LEN], y[COORD_LEN], d[COORD_LEN];
    mcpc_jose_alg alg = MCPC_JOSE_ES256;
    int has_d = 0;
    json_t *jalg, *juse, *jkid;
    EVP_PKEY *pkey = NULL;
    mcpc_jose_key *k = NULL;

    set_err(err, errlen, "");
    if (!jwk_members(jwk, &alg, x, y, allow_private, d, &has_d, err, errlen))
        goto out;
    if (!allow_private && json_object_get(jwk, "d")) {
        set_err(err, errlen, "JWK holds private key material (d)");
        goto out;
    }
    jalg = json_object_get(jwk, "alg");
    if (jalg && (!json_is_string(jalg) ||
                 strcmp(json_string_value(jalg), mcpc_jose_alg_name(alg)) != 0)) {
        set_err(err, errlen, "JWK alg does not fit its key type");
        goto out;
    }
    juse = json_object_get(jwk, "use");
    if (juse && (!json_is_string(juse) || strcmp(json_string_value(juse), "sig") != 0)) {
        set_err(err, errlen, "JWK use is not \"sig\"");
        goto out;
    }
    jkid = json_object_get(jwk, "kid");
    if (jkid && (!json_is_string(jkid) || json_string_length(jkid) > KID_MAX ||
                 strlen(json_string_value(jkid)) != json_string_length(jkid))) {
        set_err(err, errlen, "JWK kid is not a string of at most 256 bytes");
        goto out;
    }
    pkey = alg == MCPC_JOSE_ES256 ? ec_from_coords(x, y, has_d ? d : NULL)
                                  : ed_from_raw(x, has_d ? d : NULL);
    if (!pkey) {
        set_err(err, errlen, has_d ? "JWK d does not match its public key, or the point is invalid"
                                   : "JWK public key is not a valid point");
        goto out;
    }
    k = key_wrap(pkey, alg, has_d, jkid ? json_string_value(jkid) : NULL);
    if (!k)
        set_err(err, errlen, "out of memory");
out:
    OPENSSL_cleanse(d, sizeof d);
    return k;
}

mcpc_err mcpc_jose_thumbprint(const json_t *jwk, char out[44])
{
    unsigned char x[COORD_LEN], y[COORD_LEN], d[COORD_LEN];
    char bx[44], by[44] = "";
    mcpc_jose_alg alg = MCPC_JOSE_ES256;
    int has_d;

    out[0] = '\0';
    if (!jwk_members(jwk, &alg, x, y, 0, d, &has_d, NULL, 0))
        return MCPC_ERR_INVALID;
    mcpc_b64url_encode_to(x, COORD_LEN, bx);
    if (alg == MCPC_JOSE_ES256)
        mcpc_b64url_encode_to(y, COORD_LEN, by);
    return thumbprint_of(alg, bx, by, out);
}

json_t *mcpc_jose_key_public_jwk(const mcpc_jose_key *k)
{
    char x[44], y[44];
    if (!key_coords(k, x, y))
        return NULL;
    if (k->alg == MCPC_JOSE_ES256)
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x,
                         "y", y, "kid", k->kid, "alg", "ES256", "use", "sig");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x,
                     "kid", k->kid, "alg", "EdDSA", "use", "sig");
}

json_t *mcpc_jose_jwks(const mcpc_jose_key *const *keys, size_t n)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(arr, mcpc_jose_key_public_jwk(keys[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return json_pack("{s:o}", "keys", arr);
}

/* A malloc'd copy of n bytes plus a NUL. */
static unsigned char *copy_bytes(const void *p, size_t n, size_t *len)
{
    unsigned char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, p, n);
    c[n] = '\0';
    *len = n;
    return c;
}

unsigned char *mcpc_jose_key_public_bytes(const mcpc_jose_key *k, mcpc_jose_pub_form form,
                                          size_t *len)
{
    unsigned char raw[1 + 2 * COORD_LEN], *der = NULL, *res = NULL;
    BIO *bio = NULL;
    char *pem = NULL, *text = NULL;
    long pemlen;
    int derlen;

    *len = 0;
    switch (form) {
    case MCPC_JOSE_PUB_RAW:
        if (k->alg == MCPC_JOSE_ES256) {
            raw[0] = 0x04;
            if (ec_xy(k->pkey, raw + 1, raw + 1 + COORD_LEN))
                res = copy_bytes(raw, sizeof raw, len);
        } else if (ed_raw(k->pkey, raw)) {
            res = copy_bytes(raw, COORD_LEN, len);
        }
        break;
    case MCPC_JOSE_PUB_DER:
        derlen = i2d_PUBKEY(k->pkey, &der);
        if (derlen > 0)
            res = copy_bytes(der, (size_t)derlen, len);
        break;
    case MCPC_JOSE_PUB_PEM:
        bio = BIO_new(BIO_s_mem());
        if (bio && PEM_write_bio_PUBKEY(bio, k->pkey) == 1) {
            pemlen = BIO_get_mem_data(bio, &pem);
            if (pemlen > 0)
                res = copy_bytes(pem, (size_t)pemlen, len);
        }
        break;
    case MCPC_JOSE_PUB_JWK: {
        json_t *jwk = mcpc_jose_key_public_jwk(k);
        text = dump_compact(jwk);
        json_decref(jwk);
        if (text)
            res = copy_bytes(text, strlen(text), len);
        break;
    }
    }
    OPENSSL_free(der);
    BIO_free(bio);
    free(text);
    if (!res)
        ERR_clear_error();
    return res;
}

/* ---- signing ------------------------------------------------------------------------------ */

json_t *mcpc_jose_header(const mcpc_jose_key *k, const char *typ)
{
    if (typ)
        return json_pack("{s:s, s:s, s:s}", "alg", mcpc_jose_alg_name(k->alg), "typ", typ, "kid",
                         k->kid);
    return json_pack("{s:s, s:s}", "alg", mcpc_jose_alg_name(k->alg), "kid", k->kid);
}

/* base64url(header) "." base64url(payload), with room for extra more bytes. New string. */
static char *signing_input(const void *h, size_t hlen, const void *p, size_t plen, size_t extra,
                           size_t *len)
{
    size_t eh = mcpc_b64url_encoded_len(hlen), ep = mcpc_b64url_encoded_len(plen);
    char *s = malloc(eh + 1 + ep + extra + 1);
    if (!s)
        return NULL;
    mcpc_b64url_encode_to(h, hlen, s);
    s[eh] = '.';
    mcpc_b64url_encode_to(p, plen, s + eh + 1);
    *len = eh + 1 + ep;
    return s;
}

/* The 64-byte JWS signature of in[0..n) with k. */
static int sign_raw(const mcpc_jose_key *k, const void *in, size_t n, unsigned char sig[SIG_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    const unsigned char *p;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r, *s;
    size_t len = 0;
    int ok = 0;

    if (!md || !k->priv)
        goto out;
    if (k->alg == MCPC_JOSE_ES256) {
        /* OpenSSL writes ECDSA signatures as DER SEQUENCE{r, s}; JWS wants R||S, 32 bytes each
         * (RFC 7518 section 3.4) */
        if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
            EVP_DigestSign(md, NULL, &len, in, n) != 1)
            goto out;
        der = malloc(len);
        if (!der || EVP_DigestSign(md, der, &len, in, n) != 1)
            goto out;
        p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        if (!es)
            goto out;
        ECDSA_SIG_get0(es, &r, &s);
        if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
            goto out;
    } else {
        len = SIG_LEN;
        /* Ed25519 is one-shot: no digest */
        if (EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) != 1 ||
            EVP_DigestSign(md, sig, &len, in, n) != 1 || len != SIG_LEN)
            goto out;
    }
    ok = 1;
out:
    if (!ok)
        ERR_clear_error();
    ECDSA_SIG_free(es);
    free(der);
    EVP_MD_CTX_free(md);
    return ok;
}

char *mcpc_jose_sign_bytes(const mcpc_jose_key *k, const void *header, size_t hlen,
                           const void *payload, size_t plen)
{
    unsigned char sig[SIG_LEN];
    size_t n = 0;
    char *s = signing_input(header, hlen, payload, plen, 1 + mcpc_b64url_encoded_len(SIG_LEN), &n);
    if (!s)
        return NULL;
    if (!sign_raw(k, s, n, sig)) {
        free(s);
        return NULL;
    }
    s[n] = '.';
    mcpc_b64url_encode_to(sig, SIG_LEN, s + n + 1);
    return s;
}

char *mcpc_jose_sign(const mcpc_jose_key *k, const json_t *header, const json_t *payload)
{
    char *h = dump_compact(header), *p = dump_compact(payload), *res = NULL;
    if (h && p)
        res = mcpc_jose_sign_bytes(k, h, strlen(h), p, strlen(p));
    free(h);
    free(p);
    return res;
}

char *mcpc_jose_mint_hs256_with(const void *key, size_t keylen, const json_t *header,
                                const json_t *payload)
{
    static const unsigned char empty[1];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char *h = dump_compact(header), *p = dump_compact(payload), *s = NULL;
    size_t n = 0;

    if (!h || !p || keylen > INT32_MAX)
        goto out;
    s = signing_input(h, strlen(h), p, strlen(p), 1 + mcpc_b64url_encoded_len(32), &n);
    if (!s)
        goto out;
    if (!HMAC(EVP_sha256(), keylen ? key : empty, (int)keylen, (const unsigned char *)s, n, mac,
              &maclen) ||
        maclen != 32) {
        ERR_clear_error();
        free(s);
        s = NULL;
        goto out;
    }
    s[n] = '.';
    mcpc_b64url_encode_to(mac, maclen, s + n + 1);
out:
    free(h);
    free(p);
    return s;
}

char *mcpc_jose_unsigned(const json_t *header, const json_t *payload)
{
    char *h = dump_compact(header), *p = dump_compact(payload), *s = NULL;
    size_t n = 0;
    if (h && p)
        s = signing_input(h, strlen(h), p, strlen(p), 1, &n);
    if (s) {
        s[n] = '.';
        s[n + 1] = '\0';
    }
    free(h);
    free(p);
    return s;
}

/* Offsets of the two dots of a compact JWS; 0 unless there are exactly two. */
static int split_dots(const char *s, size_t n, size_t *d1, size_t *d2)
{
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '.')
            continue;
        if (dots == 0)
            *d1 = i;
        else if (dots == 1)
            *d2 = i;
        dots++;
    }
    return dots == 2;
}

char *mcpc_jose_tamper(const char *compact, mcpc_jose_tamper_what what)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n, d1 = 0, d2 = 0, start, len, pos;
    char *c;
    int v;

    if (!compact)
        return NULL;
    n = strlen(compact);
    if (!split_dots(compact, n, &d1, &d2))
        return NULL;
    if (what == MCPC_JOSE_TAMPER_SIGNATURE)
        start = d2 + 1, len = n - d2 - 1;
    else if (what == MCPC_JOSE_TAMPER_PAYLOAD)
        start = d1 + 1, len = d2 - d1 - 1;
    else
        return NULL;
    /* the middle character, never the last: the last one's unused low bits must stay zero */
    if (len < 2)
        return NULL;
    pos = start + (len - 1) / 2;
    v = mcpc_b64url_value((unsigned char)compact[pos]);
    if (v < 0)
        return NULL;
    c = strdup(compact);
    if (c)
        c[pos] = alphabet[v ^ 1]; /* the lowest bit of this sextet: one bit of one byte */
    return c;
}

char *mcpc_jose_swap_payload(const char *compact, const json_t *payload)
{
    size_t n, d1 = 0, d2 = 0, pl, ep, o;
    char *p = NULL, *s = NULL;

    if (!compact)
        return NULL;
    n = strlen(compact);
    if (!split_dots(compact, n, &d1, &d2))
        return NULL;
    p = dump_compact(payload);
    if (!p)
        return NULL;
    pl = strlen(p);
    ep = mcpc_b64url_encoded_len(pl);
    s = malloc(d1 + 1 + ep + (n - d2) + 1);
    if (s) {
        memcpy(s, compact, d1 + 1);
        o = d1 + 1 + mcpc_b64url_encode_to((const unsigned char *)p, pl, s + d1 + 1);
        memcpy(s + o, compact + d2, n - d2 + 1); /* ".signature" and the NUL */
    }
    free(p);
    return s;
}

/* ---- verification ------------------------------------------------------------------------- */

typedef struct {
    size_t input_len;      /* bytes of "header.payload": the signing input */
    json_t *header;
    unsigned char *payload;
    size_t plen;
    unsigned char *sig;
    size_t slen;
    mcpc_jose_alg alg;
} parsed;

static void parsed_free(parsed *p)
{
    json_decref(p->header);
    free(p->payload);
    free(p->sig);
    memset(p, 0, sizeof *p);
}

/* Parse a JSON object from n bytes: duplicates refused, depth bounded. New reference or NULL. */
static json_t *load_object(const unsigned char *s, size_t n, int *too_deep)
{
    json_error_t jerr;
    json_t *v = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES, &jerr);
    *too_deep = 0;
    if (v && (!json_is_object(v) || !depth_ok(v, MCPC_JOSE_MAX_DEPTH))) {
        *too_deep = json_is_object(v);
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* The syntax: size, three parts, strict base64url, a header JSON object. */
static mcpc_jose_status parse_syntax(const char *compact, parsed *p, char *err, size_t errlen)
{
    size_t n, d1 = 0, d2 = 0, hl = 0;
    unsigned char *h = NULL;
    int deep;
    mcpc_jose_status st = MCPC_JOSE_OK;

    memset(p, 0, sizeof *p);
    if (!compact)
        return fail(err, errlen, MCPC_JOSE_E_FORMAT, "no token");
    n = strnlen(compact, MCPC_JOSE_MAX_TOKEN + 1);
    if (n > MCPC_JOSE_MAX_TOKEN)
        return fail(err, errlen, MCPC_JOSE_E_TOO_BIG, "token longer than %u bytes",
                    MCPC_JOSE_MAX_TOKEN);
    if (!split_dots(compact, n, &d1, &d2))
        return fail(err, errlen, MCPC_JOSE_E_FORMAT, "not three '.'-separated parts");
    if (d1 == 0)
        return fail(err, errlen, MCPC_JOSE_E_FORMAT, "empty header");
    if (mcpc_b64url_decode(compact, d1, &h, &hl) != MCPC_OK) {
        st = fail(err, errlen, MCPC_JOSE_E_BASE64, "header is not strict base64url");
        goto out;
    }
    if (mcpc_b64url_decode(compact + d1 + 1, d2 - d1 - 1, &p->payload, &p->plen) != MCPC_OK) {
        st = fail(err, errlen, MCPC_JOSE_E_BASE64, "payload is not strict base64url");
        goto out;
    }
    if (mcpc_b64url_decode(compact + d2 + 1, n - d2 - 1, &p->sig, &p->slen) != MCPC_OK) {
        st = fail(err, errlen, MCPC_JOSE_E_BASE64, "signature is not strict base64url");
        goto out;
    }
    p->header = load_object(h, hl, &deep);
    if (!p->header) {
        st = deep ? fail(err, errlen, MCPC_JOSE_E_TOO_BIG, "header nests too deep")
                  : fail(err, errlen, MCPC_JOSE_E_HEADER,
                         "header is not a JSON object without duplicate members");
        goto out;
    }
    p->input_len = d2;
out:
    free(h);
    if (st != MCPC_JOSE_OK)
        parsed_free(p);
    return st;
}

/* The media type of a typ value without its optional "application/" prefix (RFC 7515 4.1.9). */
static const char *typ_subtype(const char *t, int *application)
{
    if (strncasecmp(t, "application/", 12) == 0) {
        *application = 1;
        return t + 12;
    }
    *application = strchr(t, '/') == NULL;
    return t;
}

static int typ_equal(const char *a, const char *b)
{
    int aa, ab;
    const char *sa = typ_subtype(a, &aa), *sb = typ_subtype(b, &ab);
    return aa == ab && strcasecmp(sa, sb) == 0;
}

/* The header rules that do not need a key: alg, crit, typ, member types. */
static mcpc_jose_status check_header(parsed *p, const char *expected_typ, char *err, size_t errlen)
{
    json_t *jalg = json_object_get(p->header, "alg"), *jtyp, *jkid;
    const char *alg;

    if (!json_is_string(jalg))
        return fail(err, errlen, MCPC_JOSE_E_ALG_UNSUPPORTED, "alg missing or not a string");
    alg = json_string_value(jalg);
    if (strcasecmp(alg, "none") == 0)
        return fail(err, errlen, MCPC_JOSE_E_ALG_NONE, "alg \"%s\" (unsecured JWS) refused", alg);
    if (strncasecmp(alg, "HS", 2) == 0)
        return fail(err, errlen, MCPC_JOSE_E_ALG_HMAC, "alg \"%.32s\" (shared-secret MAC) refused",
                    alg);
    if (strcmp(alg, "ES256") == 0)
        p->alg = MCPC_JOSE_ES256;
    else if (strcmp(alg, "EdDSA") == 0)
        p->alg = MCPC_JOSE_EDDSA;
    else
        return fail(err, errlen, MCPC_JOSE_E_ALG_UNSUPPORTED,
                    "alg \"%.32s\" refused (ES256 and EdDSA only)", alg);
    if (json_object_get(p->header, "crit"))
        return fail(err, errlen, MCPC_JOSE_E_CRIT, "crit header: no extension is understood");
    jkid = json_object_get(p->header, "kid");
    if (jkid && !json_is_string(jkid))
        return fail(err, errlen, MCPC_JOSE_E_HEADER, "kid is not a string");
    jtyp = json_object_get(p->header, "typ");
    if (jtyp && !json_is_string(jtyp))
        return fail(err, errlen, MCPC_JOSE_E_HEADER, "typ is not a string");
    if (expected_typ) {
        if (!jtyp)
            return fail(err, errlen, MCPC_JOSE_E_TYP, "typ missing, \"%.64s\" expected",
                        expected_typ);
        if (!typ_equal(json_string_value(jtyp), expected_typ))
            return fail(err, errlen, MCPC_JOSE_E_TYP, "typ \"%.64s\", \"%.64s\" expected",
                        json_string_value(jtyp), expected_typ);
    }
    return MCPC_JOSE_OK;
}

/* The signature of the signing input under k. */
static mcpc_jose_status check_signature(const parsed *p, const char *input, const mcpc_jose_key *k,
                                        char *err, size_t errlen)
{
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int derlen, ok = 0;

    if (k->alg != p->alg)
        return fail(err, errlen, MCPC_JOSE_E_KEY_MISMATCH, "alg %s with a %s key",
                    mcpc_jose_alg_name(p->alg), mcpc_jose_alg_name(k->alg));
    if (p->slen != SIG_LEN)
        return fail(err, errlen, MCPC_JOSE_E_SIGNATURE, "signature is %zu bytes, %d expected",
                    p->slen, SIG_LEN);
    md = EVP_MD_CTX_new();
    if (!md)
        goto out;
    if (k->alg == MCPC_JOSE_ES256) {
        /* back from R||S to the DER OpenSSL verifies */
        es = ECDSA_SIG_new();
        r = BN_bin2bn(p->sig, 32, NULL);
        s = BN_bin2bn(p->sig + 32, 32, NULL);
        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
            goto out;
        r = s = NULL; /* owned by es now */
        derlen = i2d_ECDSA_SIG(es, &der);
        if (derlen <= 0 || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1)
            goto out;
        ok = EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input,
                              p->input_len) == 1;
    } else {
        if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) != 1)
            goto out;
        ok = EVP_DigestVerify(md, p->sig, SIG_LEN, (const unsigned char *)input, p->input_len) == 1;
    }
out:
    ERR_clear_error();
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    if (!ok)
        return fail(err, errlen, MCPC_JOSE_E_SIGNATURE, "signature does not verify");
    return MCPC_JOSE_OK;
}

/* The JWKS key named by the header's kid that fits the alg. *out is a new key on OK. */
static mcpc_jose_status find_key(const parsed *p, const json_t *jwks, mcpc_jose_key **out,
                                 char *err, size_t errlen)
{
    json_t *keys = json_is_object(jwks) ? json_object_get(jwks, "keys") : NULL;
    const char *kid = json_string_value(json_object_get(p->header, "kid"));
    int mismatch = 0;
    char kerr[128];

    *out = NULL;
    if (!json_is_array(keys))
        return fail(err, errlen, MCPC_JOSE_E_JWKS, "JWKS has no \"keys\" array");
    if (json_array_size(keys) > MCPC_JOSE_MAX_JWKS_KEYS)
        return fail(err, errlen, MCPC_JOSE_E_JWKS, "JWKS holds more than %d keys",
                    MCPC_JOSE_MAX_JWKS_KEYS);
    if (!kid)
        return fail(err, errlen, MCPC_JOSE_E_KID_MISSING, "no kid to choose a JWKS key with");
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *jwk = json_array_get(keys, i);
        const char *k_kid = json_string_value(json_object_get(jwk, "kid"));
        mcpc_jose_key *k;
        if (!k_kid || strcmp(k_kid, kid) != 0)
            continue;
        k = mcpc_jose_key_from_jwk(jwk, 0, kerr, sizeof kerr);
        if (!k)
            return fail(err, errlen, MCPC_JOSE_E_JWKS, "JWKS key \"%.64s\": %s", kid, kerr);
        if (k->alg == p->alg) {
            *out = k;
            return MCPC_JOSE_OK;
        }
        mismatch = 1; /* another key may share the kid: keep looking */
        mcpc_jose_key_free(k);
    }
    if (mismatch)
        return fail(err, errlen, MCPC_JOSE_E_KEY_MISMATCH, "JWKS key \"%.64s\" is not a %s key",
                    kid, mcpc_jose_alg_name(p->alg));
    return fail(err, errlen, MCPC_JOSE_E_KID_UNKNOWN, "no JWKS key has kid \"%.64s\"", kid);
}

mcpc_jose_status mcpc_jose_verify_with_key(const char *compact, const mcpc_jose_key *k,
                                           const char *expected_typ, json_t **header_out,
                                           unsigned char **payload_out, size_t *payload_len,
                                           char *err, size_t errlen)
{
    parsed p;
    mcpc_jose_status st;

    if (header_out)
        *header_out = NULL;
    if (payload_out)
        *payload_out = NULL;
    if (payload_len)
        *payload_len = 0;
    set_err(err, errlen, "");
    st = parse_syntax(compact, &p, err, errlen);
    if (st != MCPC_JOSE_OK)
        return st;
    st = check_header(&p, expected_typ, err, errlen);
    if (st == MCPC_JOSE_OK)
        st = check_signature(&p, compact, k, err, errlen);
    if (st == MCPC_JOSE_OK) {
        if (header_out)
            *header_out = json_incref(p.header);
        if (payload_out) {
            *payload_out = p.payload;
            p.payload = NULL;
        }
        if (payload_len)
            *payload_len = p.plen;
    }
    parsed_free(&p);
    return st;
}

mcpc_jose_status mcpc_jose_verify(const char *compact, const json_t *jwks,
                                  const char *expected_typ, json_t **payload_out, char *err,
                                  size_t errlen)
{
    parsed p;
    mcpc_jose_key *k = NULL;
    mcpc_jose_status st;
    json_t *payload = NULL;
    int deep;

    *payload_out = NULL;
    set_err(err, errlen, "");
    st = parse_syntax(compact, &p, err, errlen);
    if (st != MCPC_JOSE_OK)
        return st;
    st = check_header(&p, expected_typ, err, errlen);
    if (st == MCPC_JOSE_OK)
        st = find_key(&p, jwks, &k, err, errlen);
    if (st == MCPC_JOSE_OK)
        st = check_signature(&p, compact, k, err, errlen);
    if (st == MCPC_JOSE_OK) {
        payload = load_object(p.payload, p.plen, &deep);
        if (!payload)
            st = deep ? fail(err, errlen, MCPC_JOSE_E_TOO_BIG, "payload nests too deep")
                      : fail(err, errlen, MCPC_JOSE_E_PAYLOAD,
                             "payload is not a JSON object without duplicate members");
    }
    *payload_out = payload;
    mcpc_jose_key_free(k);
    parsed_free(&p);
    return st;
}

mcpc_jose_status mcpc_jose_peek(const char *compact, json_t **header_out, json_t **payload_out,
                                char *err, size_t errlen)
{
    parsed p;
    mcpc_jose_status st;
    json_t *payload;
    int deep;

    if (header_out)
        *header_out = NULL;
    if (payload_out)
        *payload_out = NULL;
    set_err(err, errlen, "");
    st = parse_syntax(compact, &p, err, errlen);
    if (st != MCPC_JOSE_OK)
        return st;
    payload = load_object(p.payload, p.plen, &deep);
    if (!payload) {
        st = deep ? fail(err, errlen, MCPC_JOSE_E_TOO_BIG, "payload nests too deep")
                  : fail(err, errlen, MCPC_JOSE_E_PAYLOAD,
                         "payload is not a JSON object without duplicate members");
    } else {
        if (header_out)
            *header_out = json_incref(p.header);
        if (payload_out)
            *payload_out = json_incref(payload);
        json_decref(payload);
    }
    parsed_free(&p);
    return st;
}

/* ---- claims ------------------------------------------------------------------------------- */

/* A NumericDate claim: 0 absent, 1 present (*out set), -1 present but not a number. */
static int numeric_date(const json_t *payload, const char *name, double *out)
{
    json_t *v = json_object_get(payload, name);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 1;
}

/* 1 when the space-separated list granted holds the scope tok[0..n). */
static int scope_granted(const char *granted, const char *tok, size_t n)
{
    const char *g = granted;
    while (*g) {
        size_t len;
        while (*g == ' ')
            g++;
        len = strcspn(g, " ");
        if (len == n && len > 0 && memcmp(g, tok, n) == 0)
            return 1;
        g += len;
    }
    return 0;
}

mcpc_jose_status mcpc_jose_claims_verify(const json_t *payload, long long now,
                                         const mcpc_jose_claims_rules *rules, char *err,
                                         size_t errlen)
{
    double exp = 0, nbf = 0, iat = 0, t = (double)now;
    double leeway = rules && rules->leeway > 0 ? (double)rules->leeway : 0;
    int has_exp, has_nbf, has_iat;

    set_err(err, errlen, "");
    if (!json_is_object(payload))
        return fail(err, errlen, MCPC_JOSE_E_PAYLOAD, "claims are not a JSON object");
    has_exp = numeric_date(payload, "exp", &exp);
    has_nbf = numeric_date(payload, "nbf", &nbf);
    has_iat = numeric_date(payload, "iat", &iat);
    if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
        return fail(err, errlen, MCPC_JOSE_E_CLAIM_TYPE, "exp, nbf or iat is not a number");
    if (!has_exp)
        return fail(err, errlen, MCPC_JOSE_E_EXP_MISSING, "exp missing");
    /* RFC 7519 4.1.4: the current time must be before exp */
    if (t >= exp + leeway)
        return fail(err, errlen, MCPC_JOSE_E_EXPIRED, "exp %.0f is not after now %lld (leeway %.0f)",
                    exp, now, leeway);
    if (has_nbf && nbf > t + leeway)
        return fail(err, errlen, MCPC_JOSE_E_NBF, "nbf %.0f is after now %lld (leeway %.0f)", nbf,
                    now, leeway);
    if (has_iat && iat > t + leeway)
        return fail(err, errlen, MCPC_JOSE_E_IAT_FUTURE, "iat %.0f is after now %lld (leeway %.0f)",
                    iat, now, leeway);
    if (rules && rules->max_lifetime > 0) {
        if (!has_iat)
            return fail(err, errlen, MCPC_JOSE_E_IAT_MISSING,
                        "iat missing: the lifetime cannot be checked");
        /* no leeway here: the bound is on the token as issued, not on our clock */
        if (exp - iat > (double)rules->max_lifetime)
            return fail(err, errlen, MCPC_JOSE_E_LIFETIME, "exp - iat = %.0f s, at most %lld s",
                        exp - iat, rules->max_lifetime);
    }
    if (rules && rules->issuer) {
        json_t *iss = json_object_get(payload, "iss");
        if (iss && !json_is_string(iss))
            return fail(err, errlen, MCPC_JOSE_E_CLAIM_TYPE, "iss is not a string");
        if (!iss || strcmp(json_string_value(iss), rules->issuer) != 0 ||
            strlen(json_string_value(iss)) != json_string_length(iss))
            return fail(err, errlen, MCPC_JOSE_E_ISSUER, "iss \"%.128s\", \"%.128s\" expected",
                        iss ? json_string_value(iss) : "(missing)", rules->issuer);
    }
    if (rules && rules->audience) {
        json_t *aud = json_object_get(payload, "aud");
        int found = 0;
        if (json_is_string(aud)) {
            found = strcmp(json_string_value(aud), rules->audience) == 0 &&
                    strlen(json_string_value(aud)) == json_string_length(aud);
        } else if (json_is_array(aud)) {
            for (size_t i = 0; i < json_array_size(aud); i++) {
                json_t *a = json_array_get(aud, i);
                if (!json_is_string(a))
                    return fail(err, errlen, MCPC_JOSE_E_CLAIM_TYPE, "aud holds a non-string");
                if (strcmp(json_string_value(a), rules->audience) == 0 &&
                    strlen(json_string_value(a)) == json_string_length(a))
                    found = 1;
            }
        } else if (aud) {
            return fail(err, errlen, MCPC_JOSE_E_CLAIM_TYPE, "aud is neither string nor array");
        }
        if (!found)
            return fail(err, errlen, MCPC_JOSE_E_AUDIENCE, "aud does not name \"%.128s\"",
                        rules->audience);
    }
    if (rules && rules->scope) {
        json_t *scope = json_object_get(payload, "scope");
        const char *want = rules->scope;
        if (scope && !json_is_string(scope))
            return fail(err, errlen, MCPC_JOSE_E_CLAIM_TYPE, "scope is not a string");
        while (*want) {
            size_t len;
            while (*want == ' ')
                want++;
            len = strcspn(want, " ");
            if (len > 0 && (!scope || !scope_granted(json_string_value(scope), want, len)))
                return fail(err, errlen, MCPC_JOSE_E_SCOPE, "scope \"%.*s\" not granted",
                            (int)(len > 128 ? 128 : len), want);
            want += len;
        }
    }
    return MCPC_JOSE_OK;
}

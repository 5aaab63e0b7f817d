/* refserver: per-call tokens (MCP-S; docs/auth.md section 3). A tool whose tools/list entry
 * says `_meta["com.example.mcps/callToken"]: "required"` runs only with
 * `Authorization: DPoP <mcps-call+jwt>` and a DPoP proof (RFC 9449) that binds the token to the
 * caller's key. The token authorises exactly one call: the tool and the digest of its
 * arguments are in authorization_details, it lives at most 60 s, and its jti is remembered until
 * it expires so that it cannot be presented twice.
 *
 * The checks run in a fixed order, and the jti is remembered only once every other check has
 * passed (a refused presentation must not burn the id of a token that is still good). */
#include "refserver_auth.h"
#include "b64url.h"
#include "jcs.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fail(struct mcpc_ref_call_verdict *v, const char *reason, const char *fmt, ...)
{
    va_list ap;

    v->verdict = MCPC_REF_TOKEN_INVALID;
    v->reason = reason;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
}

/* The -31002 reason for a token that failed verification with status st. */
static const char *reason_of(mcpc_jose_status st)
{
    switch (st) {
    case MCPC_JOSE_E_TYP: return "typ";
    case MCPC_JOSE_E_AUDIENCE: return "audience";
    case MCPC_JOSE_E_EXPIRED:
    case MCPC_JOSE_E_NBF:
    case MCPC_JOSE_E_IAT_FUTURE:
    case MCPC_JOSE_E_LIFETIME: return "expired";
    default: return "invalid";
    }
}

/* base64url(SHA-256(s)) into out (44 bytes). */
static int sha256_b64url(const char *s, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;

    if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1 || n != sizeof md)
        return -1;
    mcpc_b64url_encode_to(md, sizeof md, out);
    return 0;
}

/* A NumericDate claim as whole seconds: 1 and *out, or 0 when absent or not a finite number. */
static int date_claim(const json_t *claims, const char *name, long long *out)
{
    json_t *v = json_object_get(claims, name);
    double d;

    if (!json_is_number(v))
        return 0;
    d = json_number_value(v);
    if (!isfinite(d) || d < -9.0e15 || d > 9.0e15)
        return 0;
    *out = (long long)floor(d);
    return 1;
}

/* ---- binding to the call ------------------------------------------------------------------ */

/* authorization_details names exactly this call: one mcps_tool_call entry, its tool equal to
 * params.name, its args_sha256 equal to the digest of the RFC 8785 form of params.arguments.
 * Mcp-Name is not compared here: the transport compares it with params.name (400 and -32020 in
 * 2026-07-28, refserver_http.c), so for every call that runs tool = params.name = Mcp-Name, and a
 * header that disagrees with the body gets the transport's answer, not a token refusal.
 * 0, or -1 with v filled. */
static int check_binding(const mcpc_listener_request *req, const json_t *claims,
                         const char *tool, struct mcpc_ref_call_verdict *v)
{
    json_t *details = json_object_get(claims, "authorization_details"), *entry = NULL;
    json_t *body = NULL, *args;
    const char *want_tool, *want_digest;
    char digest[44];
    size_t n_entries = 0;
    int ret = -1;

    for (size_t i = 0; i < json_array_size(details); i++) {
        json_t *e = json_array_get(details, i);
        const char *type = json_string_value(json_object_get(e, "type"));
        if (type && strcmp(type, "mcps_tool_call") == 0) {
            entry = e;
            n_entries++;
        }
    }
    if (n_entries != 1) {
        fail(v, "binding", "authorization_details must hold exactly one mcps_tool_call entry, "
             "it holds %zu", n_entries);
        return -1;
    }
    want_tool = json_string_value(json_object_get(entry, "tool"));
    want_digest = json_string_value(json_object_get(entry, "args_sha256"));
    if (!want_tool || strcmp(want_tool, tool) != 0) {
        fail(v, "binding", "the token is for tool '%.80s', the call is of '%.80s'",
             want_tool ? want_tool : "(none)", tool);
        return -1;
    }
    /* Numbers as JSON.parse reads them (doubles), which is what the digest was made over. */
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
                      NULL);
    args = json_object_get(json_object_get(body, "params"), "arguments");
    if (!body || (args && !json_is_object(args))) {
        fail(v, "binding", "the call's arguments cannot be read");
        goto out;
    }
    if (!args) {
        /* no arguments: the call runs with {} and is bound as {} */
        json_object_set_new(json_object_get(body, "params"), "arguments", json_object());
        args = json_object_get(json_object_get(body, "params"), "arguments");
    }
    if (!args || mcpc_jcs_sha256_b64url(args, digest) != MCPC_OK) {
        fail(v, "binding", "the call's arguments have no canonical form");
        goto out;
    }
    if (!want_digest || strcmp(want_digest, digest) != 0) {
        fail(v, "binding", "args_sha256 is not the digest of these arguments");
        goto out;
    }
    ret = 0;
out:
    json_decref(body);
    return ret;
}

/* ---- the DPoP proof ----------------------------------------------------------------------- */

/* 1 if htu names this endpoint: the resource URI, or the URL the request was sent to (Host +
 * path). Query and fragment are not part of the comparison (RFC 9449 section 4.3). */
static int htu_matches(const struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                       const char *htu)
{
    const mcpc_listener_header *host = mcpc_listener_header_find(req, "Host", NULL);
    size_t n = strcspn(htu, "?#");
    char sent[512];

    if (strlen(a->resource) == n && memcmp(a->resource, htu, n) == 0)
        return 1;
    if (!host || host->value_len > 256)
        return 0;
    snprintf(sent, sizeof sent, "http://%.*s%s", (int)host->value_len, host->value, req->path);
    return strlen(sent) == n && memcmp(sent, htu, n) == 0;
}

/* The DPoP proof of req for token: one DPoP header, a dpop+jwt signed (ES256 or EdDSA) by the
 * public jwk in its header, htm, htu, a recent iat, a jti, ath = hash of the token, and the
 * key's thumbprint equal to jkt (the token's cnf.jkt). 0, or -1 with v filled. */
static int check_proof(const struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                       const char *token, const char *jkt, struct mcpc_ref_call_verdict *v)
{
    const mcpc_listener_header *h;
    json_t *header = NULL, *claims = NULL;
    mcpc_jose_key *key = NULL;
    unsigned char *bytes = NULL;
    size_t n = 0, len = 0;
    char *proof = NULL, err[200], thumb[44], ath[44];
    const char *htm, *htu, *jti, *got_ath;
    long long iat, now = (long long)time(NULL);
    mcpc_jose_status st;
    int ret = -1;

    h = mcpc_listener_header_find(req, "DPoP", &n);
    if (n != 1) {
        fail(v, "binding", n ? "%zu DPoP headers" : "no DPoP proof (the DPoP header)", n);
        return -1;
    }
    if (h->value_len > MCPC_JOSE_MAX_TOKEN || !(proof = strndup(h->value, h->value_len)) ||
        strlen(proof) != h->value_len) {
        fail(v, "binding", "the DPoP proof is too long or holds a NUL");
        goto out;
    }
    if (mcpc_jose_peek(proof, &header, NULL, err, sizeof err) != MCPC_JOSE_OK) {
        fail(v, "binding", "DPoP proof: %s", err);
        goto out;
    }
    if (!(key = mcpc_jose_key_from_jwk(json_object_get(header, "jwk"), 0, err, sizeof err))) {
        fail(v, "binding", "DPoP proof: no usable public jwk in its header (%s)", err);
        goto out;
    }
    st = mcpc_jose_verify_with_key(proof, key, MCPC_REF_TYP_DPOP, NULL, &bytes, &len, err,
                                   sizeof err);
    if (st != MCPC_JOSE_OK) {
        fail(v, "binding", "DPoP proof: %s", err);
        goto out;
    }
    claims = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, NULL);
    htm = json_string_value(json_object_get(claims, "htm"));
    htu = json_string_value(json_object_get(claims, "htu"));
    jti = json_string_value(json_object_get(claims, "jti"));
    got_ath = json_string_value(json_object_get(claims, "ath"));
    if (!json_is_object(claims)) {
        fail(v, "binding", "DPoP proof: the payload is not a JSON object");
        goto out;
    }
    if (!htm || strcmp(htm, req->method) != 0) {
        fail(v, "binding", "DPoP proof: htm '%.16s' is not %s", htm ? htm : "(none)",
             req->method);
        goto out;
    }
    if (!htu || !htu_matches(a, req, htu)) {
        fail(v, "binding", "DPoP proof: htu '%.120s' is not this endpoint", htu ? htu : "(none)");
        goto out;
    }
    if (!date_claim(claims, "iat", &iat) || iat > now + MCPC_REF_PROOF_WINDOW ||
        iat < now - MCPC_REF_PROOF_WINDOW) {
        fail(v, "binding", "DPoP proof: iat missing or more than %d s away from now",
             MCPC_REF_PROOF_WINDOW);
        goto out;
    }
    if (!jti || !*jti) {
        fail(v, "binding", "DPoP proof: no jti");
        goto out;
    }
    if (sha256_b64url(token, ath) != 0 || !got_ath || strcmp(got_ath, ath) != 0) {
        fail(v, "binding", "DPoP proof: ath is not the hash of the presented token");
        goto out;
    }
    if (mcpc_jose_thumbprint(json_object_get(header, "jwk"), thumb) != MCPC_OK || !jkt ||
        strcmp(thumb, jkt) != 0) {
        fail(v, "binding", "DPoP proof: its key is not the token's cnf.jkt");
        goto out;
    }
    ret = 0;
out:
    free(proof);
    free(bytes);
    mcpc_jose_key_free(key);
    json_decref(header);
    json_decref(claims);
    return ret;
}

/* ---- replay ------------------------------------------------------------------------------- */

/* The token's jti, unseen: remember it until exp (at least a minute, so that a token our clock
 * already calls expired is not forgotten at once). 0, or -1 with v filled. */
static int check_jti(struct mcpc_ref_auth *a, const json_t *claims, struct mcpc_ref_call_verdict *v)
{
    json_t *j = json_object_get(claims, "jti");
    long long now = (long long)time(NULL), exp = 0;
    size_t keep = 0;

    if (!json_is_string(j) || json_string_length(j) == 0 ||
        json_string_length(j) > MCPC_REF_JTI_LEN ||
        strlen(json_string_value(j)) != json_string_length(j)) {
        fail(v, "replay", "jti missing, empty, longer than %d bytes or not text",
             MCPC_REF_JTI_LEN);
        return -1;
    }
    for (size_t i = 0; i < a->n_jti; i++) {
        if (a->jti[i].exp <= now)
            continue;                     /* expired: forgotten below */
        if (strcmp(a->jti[i].id, json_string_value(j)) == 0) {
            fail(v, "replay", "this per-call token (jti %.64s) was used before",
                 json_string_value(j));
            return -1;
        }
        a->jti[keep++] = a->jti[i];
    }
    a->n_jti = keep;
    if (a->n_jti == MCPC_REF_JTI_MAX) {
        /* fail closed: a token we could not remember could be replayed */
        fail(v, "replay", "too many live per-call tokens (%d) to remember another",
             MCPC_REF_JTI_MAX);
        return -1;
    }
    if (!date_claim(claims, "exp", &exp) || exp < now + 60)
        exp = now + 60;
    snprintf(a->jti[a->n_jti].id, sizeof a->jti[a->n_jti].id, "%s", json_string_value(j));
    a->jti[a->n_jti++].exp = exp;
    return 0;
}

/* ---- the whole check ---------------------------------------------------------------------- */

void mcpc_ref_call_token_check(struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                               const char *token, const char *tool,
                               struct mcpc_ref_call_verdict *v)
{
    json_t *claims = NULL, *header = NULL;
    mcpc_jose_status st = MCPC_JOSE_OK;
    long long iat, exp;

    memset(v, 0, sizeof *v);
    v->verdict = MCPC_REF_TOKEN_INVALID;
    v->reason = "invalid";
    /* call-typ-unchecked flaw: a server that takes any valid token of its issuer where a
     * per-call token is required, here an access token presented with the DPoP scheme */
    if (a->flaw[MCPC_REF_FLAW_CALL_TYP_UNCHECKED] &&
        mcpc_jose_peek(token, &header, NULL, NULL, 0) == MCPC_JOSE_OK &&
        !mcpc_ref_typ_is(json_string_value(json_object_get(header, "typ")), MCPC_REF_TYP_CALL)) {
        v->verdict = mcpc_ref_auth_verify(a, token, NULL, MCPC_REF_SCOPES_ALL, NULL, &st,
                                          v->why, sizeof v->why);
        v->reason = reason_of(st);
        goto out;
    }
    v->verdict = mcpc_ref_auth_verify(a, token, MCPC_REF_TYP_CALL, MCPC_REF_SCOPES_ALL, &claims,
                                      &st, v->why, sizeof v->why);
    v->reason = reason_of(st);
    if (v->verdict != MCPC_REF_TOKEN_OK)
        goto out;
    v->verdict = MCPC_REF_TOKEN_INVALID;
    /* call-lifetime-unchecked flaw: exp - iat is not bounded */
    if (!a->flaw[MCPC_REF_FLAW_CALL_LIFETIME_UNCHECKED] &&
        (!date_claim(claims, "iat", &iat) || !date_claim(claims, "exp", &exp) ||
         exp - iat > MCPC_JOSE_MAX_LIFETIME)) {
        fail(v, "expired", "a per-call token lives at most %d s (exp - iat), with iat",
             MCPC_JOSE_MAX_LIFETIME);
        goto out;
    }
    /* call-binding-unchecked flaw: the token is not compared with the call it comes with */
    if (!a->flaw[MCPC_REF_FLAW_CALL_BINDING_UNCHECKED] && check_binding(req, claims, tool, v) != 0)
        goto out;
    /* dpop-unchecked flaw: the DPoP header is never looked at (nor cnf.jkt) */
    if (!a->flaw[MCPC_REF_FLAW_DPOP_UNCHECKED] &&
        check_proof(a, req, token,
                    json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt")),
                    v) != 0)
        goto out;
    /* call-token-replay flaw: no memory of the ids seen */
    if (!a->flaw[MCPC_REF_FLAW_CALL_TOKEN_REPLAY] && check_jti(a, claims, v) != 0)
        goto out;
    v->verdict = MCPC_REF_TOKEN_OK;
    v->reason = "ok";
    v->why[0] = '\0';
out:
    json_decref(header);
    json_decref(claims);
}

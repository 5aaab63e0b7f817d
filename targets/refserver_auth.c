/* refserver as an OAuth resource server (docs/auth.md): configuration, the issuer's JWKS,
 * token verification and the protected resource metadata (RFC 9728). The gate that uses them
 * is refserver_gate.c.
 *
 * Verification is mcpc_jose_verify (ES256/EdDSA only, the key chosen by kid from the issuer's
 * JWKS, refetched at most every 10 s when a kid is unknown) and mcpc_jose_claims_verify (exp
 * required, nbf, iat, iss, aud = our resource URI, scope). Each verification flaw disables
 * exactly one of these checks; the comment at each flaw says what a server with that defect
 * does. */
#include "refserver_auth.h"
#include "clock.h"
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define JWKS_RETRY_MS 1000         /* after a failed fetch, the next attempt waits this long */

/* ---- small helpers ------------------------------------------------------------------------ */

/* printf into buf (len bytes), for the one-line reasons the resource-server files return. */
void mcpc_ref_say(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The environment variable name, copied, or NULL when unset or empty (*nomem set when the copy
 * failed). */
static char *env_copy(const char *name, bool *nomem)
{
    const char *v = getenv(name);
    char *c;

    if (!v || !*v)
        return NULL;
    if (!(c = strdup(v)))
        *nomem = true;
    return c;
}

int mcpc_ref_typ_is(const char *t, const char *want)
{
    /* RFC 7515 4.1.9: media types compare case-insensitively, "application/" may be left out */
    if (!t)
        return 0;
    if (strncasecmp(t, "application/", 12) == 0)
        t += 12;
    return strcasecmp(t, want) == 0;
}

/* The length of the origin ("scheme://authority") at the start of url, or 0 if it has none. */
static size_t origin_len(const char *url)
{
    const char *sep = strstr(url, "://"), *end;

    if (!sep)
        return 0;
    end = sep + 3 + strcspn(sep + 3, "/?#");
    return (size_t)(end - url);
}

/* ---- the authorization server's documents ------------------------------------------------- */

/* GET url and parse the answer as one JSON object. New reference, or NULL (err says why). */
static json_t *fetch_object(const char *url, char *err, size_t errlen)
{
    static const char *const accept[] = { "Accept: application/json" };
    struct mcpc_ref_fetched f;
    json_error_t je;
    json_t *v;

    if (mcpc_ref_fetch(url, NULL, accept, 1, MCPC_REF_FETCH_MAX, &f, err, errlen) != MCPC_OK)
        return NULL;
    if (f.status != 200) {
        mcpc_ref_say(err, errlen, "%.200s answered %ld", url, f.status);
        mcpc_ref_fetched_clear(&f);
        return NULL;
    }
    v = json_loadb(f.body, f.len, JSON_REJECT_DUPLICATES, &je);
    mcpc_ref_fetched_clear(&f);
    if (!json_is_object(v)) {
        mcpc_ref_say(err, errlen, "%.200s: not a JSON object", url);
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *mcpc_ref_as_metadata(const char *issuer, char *err, size_t errlen)
{
    /* RFC 8414 section 3.1: the well-known segment goes between the origin and the path */
    size_t o = origin_len(issuer);
    const char *path = issuer + o;
    char *url;
    json_t *meta;

    if (o == 0) {
        mcpc_ref_say(err, errlen, "issuer '%.200s' is not a URL", issuer);
        return NULL;
    }
    if (strcmp(path, "/") == 0)
        path = "";
    if (!(url = malloc(o + sizeof MCPC_REF_AS_META_PATH + strlen(path)))) {
        mcpc_ref_say(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(url, issuer, o);
    strcpy(url + o, MCPC_REF_AS_META_PATH);
    strcat(url, path);
    meta = fetch_object(url, err, errlen);
    free(url);
    return meta;
}

/* The JWKS of issuer: from jwks_uri when given, else from the issuer's metadata. New
 * reference, or NULL (err says why). *found_uri (when non-NULL and the URI was discovered)
 * receives it as a new string. */
static json_t *load_jwks(const char *issuer, const char *jwks_uri, char **found_uri, char *err,
                         size_t errlen)
{
    json_t *meta = NULL, *jwks = NULL, *keys;
    const char *uri = jwks_uri;

    if (!uri) {
        if (!(meta = mcpc_ref_as_metadata(issuer, err, errlen)))
            return NULL;
        if (!(uri = json_string_value(json_object_get(meta, "jwks_uri")))) {
            mcpc_ref_say(err, errlen, "the metadata of %.200s has no jwks_uri", issuer);
            goto out;
        }
    }
    if (!(jwks = fetch_object(uri, err, errlen)))
        goto out;
    keys = json_object_get(jwks, "keys");
    if (!json_is_array(keys) || json_array_size(keys) > MCPC_JOSE_MAX_JWKS_KEYS) {
        mcpc_ref_say(err, errlen, "%.200s: no \"keys\" array of at most %d keys", uri,
            MCPC_JOSE_MAX_JWKS_KEYS);
        json_decref(jwks);
        jwks = NULL;
        goto out;
    }
    if (found_uri && !jwks_uri)
        *found_uri = strdup(uri);
out:
    json_decref(meta);
    return jwks;
}

/* Fetch the issuer's JWKS again, unless the last attempt was too recent (10 s after a success,
 * 1 s after a failure: an unknown kid must not turn every request into a fetch). Returns 1 when
 * new keys were loaded. */
static int jwks_refresh(struct mcpc_ref_auth *a)
{
    int64_t now = mcpc_clock_ms();
    char err[300];
    json_t *jwks;

    if (a->jwks_at != 0 &&
        now - a->jwks_at < (a->jwks_ok ? MCPC_REF_JWKS_REFRESH_MS : JWKS_RETRY_MS))
        return 0;
    a->jwks_at = now != 0 ? now : 1;
    jwks = load_jwks(a->issuer, a->jwks_uri, a->jwks_uri ? NULL : &a->jwks_uri, err, sizeof err);
    a->jwks_ok = jwks != NULL;
    if (!jwks) {
        fprintf(stderr, "refserver: JWKS not loaded: %s\n", err);
        return 0;
    }
    json_decref(a->jwks);
    a->jwks = jwks;
    fprintf(stderr, "refserver: JWKS loaded: %zu keys\n",
            json_array_size(json_object_get(jwks, "keys")));
    return 1;
}

/* ---- configuration ------------------------------------------------------------------------ */

mcpc_err mcpc_ref_auth_set_port(struct mcpc_ref_auth *a, unsigned port)
{
    char buf[64];
    size_t o, plen;
    const char *path;

    if (!a->resource) {
        snprintf(buf, sizeof buf, "http://127.0.0.1:%u%s", port, MCPC_REF_HTTP_PATH);
        if (!(a->resource = strdup(buf)))
            return MCPC_ERR_NOMEM;
    }
    /* RFC 9728 section 3.1: the metadata of http://host/mcp is at
     * http://host/.well-known/oauth-protected-resource/mcp (no suffix for a bare origin) */
    o = origin_len(a->resource);
    path = a->resource + o;
    plen = strcspn(path, "?#");
    if (plen == 1)
        plen = 0;                         /* "/" alone */
    free(a->prm_path);
    free(a->prm_url);
    a->prm_url = NULL;
    if (!(a->prm_path = malloc(sizeof MCPC_REF_PRM_PATH + plen)))
        return MCPC_ERR_NOMEM;
    memcpy(a->prm_path, MCPC_REF_PRM_PATH, sizeof MCPC_REF_PRM_PATH - 1);
    memcpy(a->prm_path + sizeof MCPC_REF_PRM_PATH - 1, path, plen);
    a->prm_path[sizeof MCPC_REF_PRM_PATH - 1 + plen] = '\0';
    if (!(a->prm_url = malloc(o + strlen(a->prm_path) + 1)))
        return MCPC_ERR_NOMEM;
    memcpy(a->prm_url, a->resource, o);
    strcpy(a->prm_url + o, a->prm_path);
    return MCPC_OK;
}

mcpc_err mcpc_ref_auth_new(const struct mcpc_ref_server *s, unsigned port,
                           struct mcpc_ref_auth **out, char *err, size_t errlen)
{
    struct mcpc_ref_auth *a;
    bool nomem = false;
    mcpc_err rc = MCPC_ERR_NOMEM;
    const char *issuer = getenv("MCPCERT_AUTH_ISSUER");

    *out = NULL;
    if (!issuer || !*issuer)
        return MCPC_OK;
    if (mcpc_ref_fetch_init() != MCPC_OK) {
        mcpc_ref_say(err, errlen, "libcurl initialisation failed");
        return MCPC_ERR_IO;
    }
    if (!(a = calloc(1, sizeof *a))) {
        mcpc_ref_say(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    a->flaw = s->flaw;
    a->issuer = env_copy("MCPCERT_AUTH_ISSUER", &nomem);
    a->jwks_uri = env_copy("MCPCERT_AUTH_JWKS_URI", &nomem);
    a->resource = env_copy("MCPCERT_RESOURCE_URI", &nomem);
    a->client_id = env_copy("MCPCERT_AUTH_CLIENT_ID", &nomem);
    a->client_secret = env_copy("MCPCERT_AUTH_CLIENT_SECRET", &nomem);
    a->upstream = env_copy("MCPCERT_UPSTREAM_URL", &nomem);
    if (nomem) {
        mcpc_ref_say(err, errlen, "out of memory");
        goto fail;
    }
    /* Everything we fetch from is played by mcpcert on this machine. */
    if ((rc = mcpc_ref_url_check(a->issuer, err, errlen)) != MCPC_OK ||
        (a->jwks_uri && (rc = mcpc_ref_url_check(a->jwks_uri, err, errlen)) != MCPC_OK) ||
        (a->upstream && (rc = mcpc_ref_url_check(a->upstream, err, errlen)) != MCPC_OK))
        goto fail;
    if (a->resource && origin_len(a->resource) == 0) {
        mcpc_ref_say(err, errlen, "MCPCERT_RESOURCE_URI '%.200s' is not an absolute URI", a->resource);
        rc = MCPC_ERR_USAGE;
        goto fail;
    }
    if ((a->resource || port != 0) && (rc = mcpc_ref_auth_set_port(a, port)) != MCPC_OK) {
        mcpc_ref_say(err, errlen, "out of memory");
        goto fail;
    }
    jwks_refresh(a);
    /* The 10 s bound is between refetches for unknown kids; the fetch at start is not one, so
     * keys rotated just after we started are still picked up at once. */
    a->jwks_at = 0;
    *out = a;
    return MCPC_OK;
fail:
    mcpc_ref_auth_free(a);
    return rc;
}

void mcpc_ref_auth_free(struct mcpc_ref_auth *a)
{
    if (!a)
        return;
    free(a->issuer);
    free(a->jwks_uri);
    free(a->resource);
    free(a->prm_url);
    free(a->prm_path);
    free(a->client_id);
    free(a->client_secret);
    free(a->upstream);
    json_decref(a->jwks);
    free(a);
}

/* ---- token verification ------------------------------------------------------------------- */

/* kid-unchecked flaw: a server that ignores the kid and tries each key it trusts in turn, so a
 * token signed by a trusted key under a kid nobody published still passes. On MCPC_JOSE_OK
 * *payload is a new reference. */
static mcpc_jose_status try_every_key(const json_t *jwks, const char *token, const char *typ,
                                      json_t **payload, char *err, size_t errlen)
{
    json_t *keys = json_object_get(jwks, "keys");
    mcpc_jose_status st = MCPC_JOSE_E_SIGNATURE;

    for (size_t i = 0; i < json_array_size(keys); i++) {
        mcpc_jose_key *k = mcpc_jose_key_from_jwk(json_array_get(keys, i), 0, NULL, 0);
        unsigned char *bytes = NULL;
        size_t len = 0;

        if (!k)
            continue;
        st = mcpc_jose_verify_with_key(token, k, typ, NULL, &bytes, &len, err, errlen);
        mcpc_jose_key_free(k);
        if (st == MCPC_JOSE_OK) {
            *payload = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, NULL);
            free(bytes);
            if (json_is_object(*payload))
                return MCPC_JOSE_OK;
            json_decref(*payload);
            *payload = NULL;
            mcpc_ref_say(err, errlen, "payload is not a JSON object");
            return MCPC_JOSE_E_PAYLOAD;
        }
        free(bytes);
    }
    return st;
}

/* Header and signature of token against the issuer's keys. On MCPC_JOSE_OK *payload is a new
 * reference. */
static mcpc_jose_status verify_signed(struct mcpc_ref_auth *a, const char *token, const char *typ,
                                      json_t **payload, char *err, size_t errlen)
{
    mcpc_jose_status st;

    *payload = NULL;
    if (!a->jwks)
        jwks_refresh(a);
    if (!a->jwks) {
        mcpc_ref_say(err, errlen, "the issuer's keys could not be loaded");
        st = MCPC_JOSE_E_JWKS;
    } else {
        st = mcpc_jose_verify(token, a->jwks, typ, payload, err, errlen);
        /* keys rotate: a kid we do not know may be one published since our last fetch */
        if (st == MCPC_JOSE_E_KID_UNKNOWN && jwks_refresh(a))
            st = mcpc_jose_verify(token, a->jwks, typ, payload, err, errlen);
    }
    if ((st == MCPC_JOSE_E_KID_UNKNOWN || st == MCPC_JOSE_E_KID_MISSING) && a->jwks &&
        a->flaw[MCPC_REF_FLAW_KID_UNCHECKED])
        st = try_every_key(a->jwks, token, typ, payload, err, errlen);
    return st;
}

/* issuer-unchecked flaw: 1 if token (not verified) names issuer as its iss. A server with this
 * flaw trusts every issuer: it does not compare iss, and takes a token that names another issuer
 * on its claims, having no keys of that issuer to check it with (tokens naming our issuer are
 * verified as ever). */
static int names_issuer(const char *token, const char *issuer)
{
    json_t *claims = NULL;
    const char *iss;
    int same;

    if (mcpc_jose_peek(token, NULL, &claims, NULL, 0) != MCPC_JOSE_OK)
        return 1;                         /* not even decodable: the normal path refuses it */
    iss = json_string_value(json_object_get(claims, "iss"));
    same = !iss || strcmp(iss, issuer) == 0;
    json_decref(claims);
    return same;
}

/* signature-unchecked flaw: a server that decodes the token and never looks at alg, kid or
 * signature (alg none and HS256 pass). typ is still compared. */
static mcpc_jose_status decode_only(const char *token, const char *typ, json_t **payload,
                                    char *err, size_t errlen)
{
    json_t *header = NULL;
    mcpc_jose_status st = mcpc_jose_peek(token, &header, payload, err, errlen);

    if (st == MCPC_JOSE_OK && typ &&
        !mcpc_ref_typ_is(json_string_value(json_object_get(header, "typ")), typ)) {
        mcpc_ref_say(err, errlen, "typ: \"%s\" expected", typ);
        json_decref(*payload);
        *payload = NULL;
        st = MCPC_JOSE_E_TYP;
    }
    json_decref(header);
    return st;
}

enum mcpc_ref_verdict mcpc_ref_auth_verify(struct mcpc_ref_auth *a, const char *token,
                                           const char *typ, const char *scope, json_t **claims,
                                           mcpc_jose_status *status, char *why, size_t whylen)
{
    json_t *payload = NULL, *judged = NULL;
    long long now = (long long)time(NULL);
    mcpc_jose_claims_rules rules;
    mcpc_jose_status st;
    enum mcpc_ref_verdict v = MCPC_REF_TOKEN_INVALID;

    if (claims)
        *claims = NULL;
    if (strlen(token) > MCPC_JOSE_MAX_TOKEN) {
        mcpc_ref_say(why, whylen, "the token is over %u bytes", MCPC_JOSE_MAX_TOKEN);
        st = MCPC_JOSE_E_TOO_BIG;
        goto out;
    }
    if (a->flaw[MCPC_REF_FLAW_SIGNATURE_UNCHECKED] ||
        (a->flaw[MCPC_REF_FLAW_ISSUER_UNCHECKED] && !names_issuer(token, a->issuer)))
        st = decode_only(token, typ, &payload, why, whylen);
    else
        st = verify_signed(a, token, typ, &payload, why, whylen);
    if (st != MCPC_JOSE_OK)
        goto out;
    /* The claims are judged on a copy that the date flaws may edit: exp-unchecked is a server
     * that never reads exp (it is made to lie in the future), nbf-unchecked one that never
     * reads nbf (it is dropped). */
    if (!(judged = json_deep_copy(payload))) {
        mcpc_ref_say(why, whylen, "out of memory");
        st = MCPC_JOSE_E_INTERNAL;
        goto out;
    }
    if (a->flaw[MCPC_REF_FLAW_EXP_UNCHECKED])
        json_object_set_new(judged, "exp", json_integer(now + 1));
    if (a->flaw[MCPC_REF_FLAW_NBF_UNCHECKED])
        json_object_del(judged, "nbf");
    memset(&rules, 0, sizeof rules);
    rules.issuer = a->flaw[MCPC_REF_FLAW_ISSUER_UNCHECKED] ? NULL : a->issuer;
    rules.audience = a->flaw[MCPC_REF_FLAW_AUD_UNCHECKED] ? NULL : a->resource;
    rules.scope = a->flaw[MCPC_REF_FLAW_SCOPE_UNCHECKED] ? NULL : scope;
    rules.leeway = 0;             /* same machine, same clock */
    st = mcpc_jose_claims_verify(judged, now, &rules, why, whylen);
    if (st == MCPC_JOSE_OK)
        v = MCPC_REF_TOKEN_OK;
    else if (st == MCPC_JOSE_E_SCOPE)
        v = MCPC_REF_TOKEN_SCOPE;   /* the last check: everything else holds */
    if (v != MCPC_REF_TOKEN_INVALID && claims) {
        *claims = payload;
        payload = NULL;
    }
out:
    if (status)
        *status = st;
    json_decref(payload);
    json_decref(judged);
    return v;
}

/* ---- protected resource metadata ---------------------------------------------------------- */

int mcpc_ref_auth_metadata(struct mcpc_ref_auth *a, const mcpc_listener_request *req,
                           mcpc_listener_response *res, mcpc_err *rc)
{
    json_t *doc = NULL;
    char *text = NULL, *wrong = NULL;

    if (strcmp(req->path, MCPC_REF_PRM_PATH) != 0 && strcmp(req->path, a->prm_path) != 0)
        return 0;
    if (a->flaw[MCPC_REF_FLAW_NO_RESOURCE_METADATA]) {
        static const char text404[] = "404 not found\n";
        *rc = mcpc_listener_response_set(res, 404, "text/plain; charset=utf-8", text404,
                                         sizeof text404 - 1);
        return 1;
    }
    if (strcmp(req->method, "GET") != 0) {
        static const char text405[] = "405 method not allowed: GET the metadata\n";
        *rc = mcpc_listener_response_header(res, "Allow", "GET");
        if (*rc == MCPC_OK)
            *rc = mcpc_listener_response_set(res, 405, "text/plain; charset=utf-8", text405,
                                             sizeof text405 - 1);
        return 1;
    }
    /* prm-wrong-resource flaw: the server names its origin, not the MCP endpoint, as the
     * resource, so that the resource a client asks tokens for is not the canonical URI */
    if (a->flaw[MCPC_REF_FLAW_PRM_WRONG_RESOURCE])
        wrong = strndup(a->resource, origin_len(a->resource));
    doc = json_pack("{s:s, s:[s], s:[s, s], s:[s], s:[s, s]}",
                    "resource", wrong ? wrong : a->resource,
                    "authorization_servers", a->issuer,
                    "scopes_supported", MCPC_REF_SCOPE_TOOLS, MCPC_REF_SCOPE_WRITE,
                    "bearer_methods_supported", "header",
                    "dpop_signing_alg_values_supported", "ES256", "EdDSA");
    *rc = MCPC_ERR_NOMEM;
    if (doc && (text = json_dumps(doc, JSON_COMPACT)))
        *rc = mcpc_listener_response_set(res, 200, "application/json", text, strlen(text));
    free(text);
    free(wrong);
    json_decref(doc);
    return 1;
}

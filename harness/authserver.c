/* The embedded authorization server (docs/auth.md §4). One listener thread serves HTTP; the
 * mutable state (authorization codes, seen DPoP proof ids, the record) is touched only by the
 * handler, which the listener serialises, or under mcpc_listener_lock. Everything else is fixed
 * before the first request can arrive. */
#include "authserver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "dpop.h"
#include "hex.h"
#include "http_listener.h"
#include "jcs.h"

#define MAX_CODES 256        /* outstanding authorization codes (oldest overwritten) */
#define MAX_PROOF_JTIS 512   /* DPoP proof ids remembered at the token endpoint */
#define MAX_RECORD 4096      /* requests recorded; later ones are only counted */
#define MAX_BODY (64u * 1024) /* an OAuth request is a handful of short parameters */
#define FOREIGN_ISSUER "https://foreign-issuer.invalid"
#define META_PATH "/.well-known/oauth-authorization-server"

struct client {
    char *id, *secret, *redirect_uris;
    int confidential;
};

struct code {
    char code[44];
    char *client_id, *redirect_uri, *challenge, *scope, *resource;
    long long expires;
    int used;
};

struct mcpc_as {
    mcpc_http_listener *l;
    unsigned port;
    char issuer[40], jwks_uri[64], token_endpoint[64], authz_endpoint[64];
    long long access_lifetime, call_lifetime, code_lifetime;
    char *scopes, *default_scope, *default_resource;
    mcpc_as_iss_mode iss_mode;
    mcpc_jose_key *es, *ed, *foreign;
    const mcpc_jose_key *signing;
    json_t *jwks, *metadata;
    struct client clients[MCPC_AS_MAX_CLIENTS];
    size_t n_clients;
    /* below: under the listener mutex */
    int ready;
    struct code codes[MAX_CODES];
    size_t n_codes;
    char *proof_jtis[MAX_PROOF_JTIS];
    size_t n_proof_jtis;
    json_t *record;
    size_t seq, dropped;
};

/* ---- small helpers ------------------------------------------------------------------------ */

void mcpc_as_opts_default(mcpc_as_opts *o)
{
    memset(o, 0, sizeof *o);
    o->access_lifetime = 300;
    o->call_lifetime = 60;
    o->code_lifetime = 60;
    o->sign_alg = MCPC_JOSE_ES256;
    o->scopes = MCPC_AS_SCOPES;
    o->default_scope = "mcp:tools";
    o->dangerous_authz = "javascript:alert(1)";
}

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* bytes (at most 32) random bytes as base64url into out. 0 on failure. */
static int random_id(char out[44], size_t bytes)
{
    unsigned char rnd[32];

    if (bytes > sizeof rnd || RAND_bytes(rnd, (int)bytes) != 1) {
        ERR_clear_error();
        out[0] = '\0';
        return 0;
    }
    mcpc_b64url_encode_to(rnd, bytes, out);
    return 1;
}

/* 1 when the space-separated list holds a token equal to tok[0..n). */
static int list_has(const char *list, const char *tok, size_t n)
{
    const char *p = list;

    while (*p) {
        size_t len;
        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == n && n > 0 && memcmp(p, tok, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* 1 when every space-separated token of want is in list (an empty want is not a scope). */
static int scopes_subset(const char *want, const char *list)
{
    int any = 0;

    while (*want) {
        size_t len;
        if (*want == ' ') {
            want++;
            continue;
        }
        len = strcspn(want, " ");
        if (!list_has(list, want, len))
            return 0;
        any = 1;
        want += len;
    }
    return any;
}

/* An RFC 8707 resource we accept: an absolute http(s) URI with a host, no fragment, no
 * whitespace or control characters. */
static int resource_ok(const char *r)
{
    const char *host;

    if (strncasecmp(r, "http://", 7) == 0)
        host = r + 7;
    else if (strncasecmp(r, "https://", 8) == 0)
        host = r + 8;
    else
        return 0;
    if (!*host || *host == '/' || strchr(r, '#'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)r; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* An http redirect URI on a loopback host (127.0.0.1, localhost, [::1]) with any port, no
 * userinfo, no fragment (RFC 8252 section 7.3 lets native clients pick the port). */
static int loopback_redirect(const char *u)
{
    static const char *const hosts[] = { "127.0.0.1", "localhost", "[::1]" };
    const char *h, *end;
    size_t hl;

    if (strncmp(u, "http://", 7) != 0 || strchr(u, '#'))
        return 0;
    h = u + 7;
    end = h + strcspn(h, "/?");
    hl = strcspn(h, ":/?");
    if (h[0] == '[') {
        const char *rb = strchr(h, ']');
        hl = rb && rb < end ? (size_t)(rb - h + 1) : 0;
    }
    if (!hl)
        return 0;
    for (const char *p = h + hl; p < end; p++) {
        if (p == h + hl) {
            if (*p != ':')
                return 0;
        } else if (*p < '0' || *p > '9') {
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (strlen(hosts[i]) == hl && memcmp(h, hosts[i], hl) == 0) {
            for (const unsigned char *p = (const unsigned char *)u; *p; p++)
                if (*p <= 0x20 || *p == 0x7f)
                    return 0;
            return 1;
        }
    return 0;
}

static const struct client *find_client(const mcpc_as *as, const char *id)
{
    for (size_t i = 0; id && i < as->n_clients; i++)
        if (strcmp(as->clients[i].id, id) == 0)
            return &as->clients[i];
    return NULL;
}

/* ---- strict form parsing ------------------------------------------------------------------ */

/* Percent-decode s[0..n) ('+' is a space) into a new NUL-terminated string of *outlen bytes.
 * NULL (err filled) on a malformed escape, a decoded NUL, a raw control character. */
static char *form_decode(const char *s, size_t n, size_t *outlen, char *err, size_t errlen)
{
    char *o = malloc(n + 1);
    size_t j = 0;

    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            o[j++] = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? mcpc_hex_value((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? mcpc_hex_value((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, errlen, "malformed percent-escape");
                free(o);
                return NULL;
            }
            if (hi == 0 && lo == 0) {
                snprintf(err, errlen, "percent-escape decodes to NUL");
                free(o);
                return NULL;
            }
            o[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "raw control character 0x%02x", c);
            free(o);
            return NULL;
        } else {
            o[j++] = (char)c;
        }
    }
    o[j] = '\0';
    *outlen = j;
    return o;
}

mcpc_err mcpc_as_form_parse(const char *s, size_t n, json_t **out, char *err, size_t errlen)
{
    json_t *obj = json_object(), *jv = NULL;
    char *name = NULL, *value = NULL, derr[96];
    size_t i = 0, nl, vl;
    mcpc_err rc = MCPC_ERR_INVALID;

    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!obj)
        return MCPC_ERR_NOMEM;
    while (i < n) {
        const char *seg = s + i, *eq;
        const char *amp = memchr(seg, '&', n - i);
        size_t sl = amp ? (size_t)(amp - seg) : n - i;
        i += sl + (amp ? 1 : 0);
        if (sl == 0 || (amp && i == n)) {
            snprintf(err, errlen, "empty parameter");
            goto out;
        }
        eq = memchr(seg, '=', sl);
        name = form_decode(seg, eq ? (size_t)(eq - seg) : sl, &nl, derr, sizeof derr);
        value = name ? form_decode(eq ? eq + 1 : seg + sl, eq ? sl - (size_t)(eq - seg) - 1 : 0,
                                   &vl, derr, sizeof derr)
                     : NULL;
        if (!name || !value) {
            snprintf(err, errlen, "%s", derr);
            goto out;
        }
        if (nl == 0) {
            snprintf(err, errlen, "parameter without a name");
            goto out;
        }
        jv = json_stringn(name, nl);
        if (!jv) {
            snprintf(err, errlen, "parameter name is not UTF-8");
            goto out;
        }
        json_decref(jv);
        if (json_object_get(obj, name)) {
            snprintf(err, errlen, "parameter \"%.64s\" given more than once", name);
            goto out;
        }
        jv = json_stringn(value, vl);
        if (!jv) {
            snprintf(err, errlen, "value of \"%.64s\" is not UTF-8", name);
            goto out;
        }
        if (json_object_set_new(obj, name, jv)) {
            rc = MCPC_ERR_NOMEM;
            goto out;
        }
        free(name);
        free(value);
        name = value = NULL;
    }
    *out = obj;
    obj = NULL;
    rc = MCPC_OK;
out:
    free(name);
    free(value);
    json_decref(obj);
    return rc;
}

/* ---- minting ------------------------------------------------------------------------------ */

json_t *mcpc_as_access_claims(const mcpc_as *as, const char *resource, const char *scope,
                              long long lifetime_s, long long now)
{
    char jti[44];

    if (!random_id(jti, 16))
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", as->issuer, "sub",
                     MCPC_AS_USER, "client_id", MCPC_AS_PUBLIC_CLIENT, "aud", resource, "scope",
                     scope ? scope : as->default_scope, "iat", (json_int_t)now, "nbf",
                     (json_int_t)now, "exp", (json_int_t)(now + lifetime_s), "jti", jti);
}

json_t *mcpc_as_call_claims(const mcpc_as *as, const char *resource, const char *tool,
                            const json_t *arguments, const char *jkt, long long lifetime_s,
                            long long now)
{
    json_t *c, *empty = NULL;
    char digest[44];

    if (!arguments)
        arguments = empty = json_object();
    if (!arguments || mcpc_jcs_sha256_b64url(arguments, digest) != MCPC_OK) {
        json_decref(empty);
        return NULL;
    }
    json_decref(empty);
    c = mcpc_as_access_claims(as, resource, as->scopes, lifetime_s, now);
    if (c && (json_object_set_new(c, "cnf", json_pack("{s:s}", "jkt", jkt)) ||
              json_object_set_new(c, "authorization_details",
                                  json_pack("[{s:s, s:s, s:s}]", "type", "mcps_tool_call", "tool",
                                            tool, "args_sha256", digest)))) {
        json_decref(c);
        c = NULL;
    }
    return c;
}

char *mcpc_as_sign(const mcpc_as *as, const char *typ, const json_t *claims)
{
    json_t *h = mcpc_jose_header(as->signing, typ);
    char *s = h && claims ? mcpc_jose_sign(as->signing, h, claims) : NULL;

    json_decref(h);
    return s;
}

char *mcpc_as_mint_access(const mcpc_as *as, const char *resource, const char *scope,
                          long long lifetime_s, long long now)
{
    json_t *c = mcpc_as_access_claims(as, resource, scope, lifetime_s, now);
    char *s = mcpc_as_sign(as, MCPC_AS_ACCESS_TYP, c);

    json_decref(c);
    return s;
}

char *mcpc_as_mint_call(const mcpc_as *as, const char *resource, const char *tool,
                        const json_t *arguments, const char *jkt, long long lifetime_s,
                        long long now)
{
    json_t *c = mcpc_as_call_claims(as, resource, tool, arguments, jkt, lifetime_s, now);
    char *s = mcpc_as_sign(as, MCPC_AS_CALL_TYP, c);

    json_decref(c);
    return s;
}

/* ---- responses ---------------------------------------------------------------------------- */

/* Answer status with body (stolen) as JSON, uncacheable as RFC 6749 section 5.1 asks. */
static mcpc_err reply_json(mcpc_listener_response *res, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    mcpc_err rc;

    json_decref(body);
    if (!text)
        return MCPC_ERR_NOMEM;
    rc = mcpc_listener_response_set(res, status, "application/json", text, strlen(text));
    free(text);
    if (!rc)
        rc = mcpc_listener_response_header(res, "Cache-Control", "no-store");
    return rc;
}

/* An RFC 6749 section 5.2 error. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static mcpc_err oauth_error(mcpc_listener_response *res, unsigned status, const char *error,
                            const char *fmt, ...)
{
    char desc[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    /* error_description must be printable ASCII without '"' or '\' (RFC 6749 5.2) */
    for (char *p = desc; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
            *p = '\'';
    return reply_json(res, status,
                      json_pack("{s:s, s:s}", "error", error, "error_description", desc));
}

/* ---- /authorize --------------------------------------------------------------------------- */

static void code_clear(struct code *c)
{
    free(c->client_id);
    free(c->redirect_uri);
    free(c->challenge);
    free(c->scope);
    free(c->resource);
    memset(c, 0, sizeof *c);
}

/* The redirect back to the client: redirect_uri plus the given parameters and state/iss. */
static mcpc_err redirect(mcpc_as *as, mcpc_listener_response *res, const char *redirect_uri,
                         const char *state, const char *k1, const char *v1, const char *k2,
                         const char *v2)
{
    char loc[4096], iss[64];
    size_t len;
    const char *pairs[4][2] = { { k1, v1 }, { k2, v2 }, { "state", state }, { "iss", NULL } };
    mcpc_err rc;

    switch (as->iss_mode) {
    case MCPC_AS_ISS_CORRECT:
        pairs[3][1] = as->issuer;
        break;
    case MCPC_AS_ISS_OMIT:
        break;
    case MCPC_AS_ISS_WRONG:
        snprintf(iss, sizeof iss, "%s/other-issuer", as->issuer);
        pairs[3][1] = iss;
        break;
    case MCPC_AS_ISS_CASEFOLD:
        snprintf(iss, sizeof iss, "%s", as->issuer);
        for (char *p = iss; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        pairs[3][1] = iss;
        break;
    }
    len = (size_t)snprintf(loc, sizeof loc, "%s", redirect_uri);
    if (len >= sizeof loc - 8)
        return oauth_error(res, 400, "invalid_request", "redirect_uri too long");
    for (size_t i = 0; i < 4; i++) {
        if (!pairs[i][0] || !pairs[i][1])
            continue;
        if (len + 8 >= sizeof loc)
            break; /* refused below */
        loc[len++] = strchr(loc, '?') ? '&' : '?';
        loc[len] = '\0';
        (void)mcpc_pct_encode(loc, sizeof loc, &len, pairs[i][0]);
        if (len + 2 < sizeof loc) {
            loc[len++] = '=';
            loc[len] = '\0';
        }
        (void)mcpc_pct_encode(loc, sizeof loc, &len, pairs[i][1]);
    }
    if (len + 8 >= sizeof loc)
        return oauth_error(res, 400, "invalid_request", "redirect too long");
    rc = mcpc_listener_response_set(res, 302, NULL, NULL, 0);
    if (!rc)
        rc = mcpc_listener_response_header(res, "Location", loc);
    if (!rc)
        rc = mcpc_listener_response_header(res, "Cache-Control", "no-store");
    return rc;
}

/* 1 when s is 43 base64url characters (a SHA-256 digest, as a PKCE S256 challenge is). */
static int is_digest(const char *s)
{
    unsigned char *d = NULL;
    size_t n = 0;
    int ok = s && strlen(s) == 43 && mcpc_b64url_decode(s, 43, &d, &n) == MCPC_OK && n == 32;

    free(d);
    return ok;
}

static mcpc_err handle_authorize(mcpc_as *as, json_t *params, const char *perr,
                                 mcpc_listener_response *res)
{
    const char *client_id, *ruri, *state, *rtype, *chal, *method, *scope, *resource;
    const struct client *cl;
    struct code *c;
    char code[44];

    /* until client and redirect_uri are trusted, errors go to the user agent, never to a
     * redirect (RFC 6749 section 4.1.2.1) */
    if (!params)
        return oauth_error(res, 400, "invalid_request", "%s", perr);
    client_id = json_string_value(json_object_get(params, "client_id"));
    if (!client_id)
        return oauth_error(res, 400, "invalid_request", "client_id missing");
    cl = find_client(as, client_id);
    if (!cl)
        return oauth_error(res, 400, "invalid_client", "unknown client_id");
    ruri = json_string_value(json_object_get(params, "redirect_uri"));
    if (ruri) {
        if (!loopback_redirect(ruri) &&
            !(cl->redirect_uris && list_has(cl->redirect_uris, ruri, strlen(ruri))))
            return oauth_error(res, 400, "invalid_request",
                               "redirect_uri is neither loopback http nor registered");
    } else if (cl->redirect_uris && strcspn(cl->redirect_uris, " ") == strlen(cl->redirect_uris)) {
        ruri = cl->redirect_uris; /* the one registered */
    } else {
        return oauth_error(res, 400, "invalid_request", "redirect_uri missing");
    }
    state = json_string_value(json_object_get(params, "state"));
    rtype = json_string_value(json_object_get(params, "response_type"));
    chal = json_string_value(json_object_get(params, "code_challenge"));
    method = json_string_value(json_object_get(params, "code_challenge_method"));
    scope = json_string_value(json_object_get(params, "scope"));
    resource = json_string_value(json_object_get(params, "resource"));
    if (!rtype || strcmp(rtype, "code") != 0)
        return redirect(as, res, ruri, state, "error", "unsupported_response_type",
                        "error_description", "response_type must be code");
    /* OAuth 2.1: PKCE is required, and only S256 (a missing method would mean plain) */
    if (!chal)
        return redirect(as, res, ruri, state, "error", "invalid_request", "error_description",
                        "code_challenge required (PKCE)");
    if (!method || strcmp(method, "S256") != 0)
        return redirect(as, res, ruri, state, "error", "invalid_request", "error_description",
                        "code_challenge_method must be S256");
    if (!is_digest(chal))
        return redirect(as, res, ruri, state, "error", "invalid_request", "error_description",
                        "code_challenge is not a base64url SHA-256 digest");
    if (scope && !scopes_subset(scope, as->scopes))
        return redirect(as, res, ruri, state, "error", "invalid_scope", "error_description",
                        "unknown scope");
    if (resource && !resource_ok(resource))
        return redirect(as, res, ruri, state, "error", "invalid_target", "error_description",
                        "resource must be an absolute http(s) URI without fragment");
    if (!random_id(code, 32))
        return MCPC_ERR_NOMEM;
    c = &as->codes[as->n_codes++ % MAX_CODES];
    code_clear(c);
    memcpy(c->code, code, sizeof code);
    c->client_id = strdup(client_id);
    c->redirect_uri = dupstr(json_string_value(json_object_get(params, "redirect_uri")));
    c->challenge = strdup(chal);
    c->scope = strdup(scope ? scope : as->default_scope);
    c->resource = dupstr(resource);
    c->expires = (long long)time(NULL) + as->code_lifetime;
    if (!c->client_id || !c->challenge || !c->scope || (resource && !c->resource)) {
        code_clear(c);
        return MCPC_ERR_NOMEM;
    }
    return redirect(as, res, ruri, state, "code", code, NULL, NULL);
}

/* ---- /token ------------------------------------------------------------------------------- */

/* Strict standard base64 (RFC 4648 section 4, padded) of the Basic credentials. New string of
 * *outlen bytes, or NULL. */
static char *base64_std_decode(const char *s, size_t n, size_t *outlen)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o;
    size_t j = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;

    if (n % 4)
        return NULL;
    o = malloc(n / 4 * 3 + 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        if (s[i] == '=') {
            if (i < n - 2)
                goto bad;
            pad++;
            continue;
        }
        if (pad || !s[i] || !(p = strchr(alpha, s[i])))
            goto bad;
        acc = (acc << 6) | (unsigned)(p - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[j++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (acc & ((1u << bits) - 1))
        goto bad; /* non-canonical: unused bits set */
    o[j] = '\0';
    *outlen = j;
    return o;
bad:
    free(o);
    return NULL;
}

struct client_auth {
    const struct client *client; /* identified client, or NULL (anonymous) */
    int authenticated;           /* a confidential client proved its secret */
};

static int secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* Who is calling the token endpoint (RFC 6749 section 2.3). MCPC_OK with *ca filled, or the
 * error already answered (*answered 1). */
static mcpc_err authenticate(mcpc_as *as, const mcpc_listener_request *req, json_t *form,
                             struct client_auth *ca, int *answered, mcpc_listener_response *res)
{
    const mcpc_listener_header *h;
    size_t count = 0, cred_len, idl, secl;
    const char *form_id = json_string_value(json_object_get(form, "client_id"));
    const char *form_secret = json_string_value(json_object_get(form, "client_secret"));
    char *cred = NULL, *id = NULL, *secret = NULL, derr[96];
    const char *colon;
    mcpc_err rc = MCPC_OK;

    memset(ca, 0, sizeof *ca);
    *answered = 1;
    h = mcpc_listener_header_find(req, "authorization", &count);
    if (count > 1)
        return oauth_error(res, 400, "invalid_request", "more than one Authorization header");
    if (h && h->value_len > 6 && strncasecmp(h->value, "Basic ", 6) == 0) {
        if (form_secret)
            return oauth_error(res, 400, "invalid_request",
                               "client authenticated twice (Basic and client_secret)");
        cred = base64_std_decode(h->value + 6, h->value_len - 6, &cred_len);
        colon = cred && strlen(cred) == cred_len ? strchr(cred, ':') : NULL;
        if (colon) {
            id = form_decode(cred, (size_t)(colon - cred), &idl, derr, sizeof derr);
            secret = form_decode(colon + 1, strlen(colon + 1), &secl, derr, sizeof derr);
        }
        ca->client = id && secret ? find_client(as, id) : NULL;
        if (!ca->client || !ca->client->confidential || !secret_equal(secret, ca->client->secret) ||
            (form_id && strcmp(form_id, id) != 0)) {
            rc = oauth_error(res, 401, "invalid_client", "client authentication failed");
            if (!rc)
                rc = mcpc_listener_response_header(res, "WWW-Authenticate",
                                                   "Basic realm=\"mcpcert\"");
            goto out;
        }
        ca->authenticated = 1;
    } else if (form_secret) {
        ca->client = find_client(as, form_id);
        if (!ca->client || !ca->client->confidential ||
            !secret_equal(form_secret, ca->client->secret)) {
            rc = oauth_error(res, 401, "invalid_client", "client authentication failed");
            goto out;
        }
        ca->authenticated = 1;
    } else if (form_id) {
        ca->client = find_client(as, form_id);
        if (!ca->client || ca->client->confidential) {
            rc = oauth_error(res, 401, "invalid_client",
                             ca->client ? "confidential client must authenticate"
                                        : "unknown client_id");
            goto out;
        }
    }
    *answered = 0;
out:
    free(cred);
    free(id);
    free(secret);
    return rc;
}

/* The access-token response of RFC 6749 section 5.1 (plus RFC 8693's issued_token_type). */
static mcpc_err token_response(mcpc_listener_response *res, char *token, const char *token_type,
                               long long expires_in, const char *scope, const char *issued_type)
{
    json_t *body;

    if (!token)
        return MCPC_ERR_NOMEM;
    body = json_pack("{s:s, s:s, s:I}", "access_token", token, "token_type", token_type,
                     "expires_in", (json_int_t)expires_in);
    free(token);
    if (body && scope)
        json_object_set_new(body, "scope", json_string(scope));
    if (body && issued_type)
        json_object_set_new(body, "issued_token_type", json_string(issued_type));
    return reply_json(res, 200, body);
}

/* The aud of a token: the request's resource, a fallback, or the run's default. NULL after
 * answering invalid_target. */
static const char *audience(mcpc_as *as, const char *asked, const char *fallback,
                            mcpc_listener_response *res, mcpc_err *rc)
{
    const char *aud = asked ? asked : fallback ? fallback : as->default_resource;

    if (!aud) {
        *rc = oauth_error(res, 400, "invalid_target", "resource required");
        return NULL;
    }
    if (!resource_ok(aud)) {
        *rc = oauth_error(res, 400, "invalid_target",
                          "resource must be an absolute http(s) URI without fragment");
        return NULL;
    }
    return aud;
}

/* Sign claims (stolen) into a token response. */
static mcpc_err issue(mcpc_as *as, mcpc_listener_response *res, json_t *claims, const char *typ,
                      const char *token_type, long long lifetime, const char *issued_type)
{
    char *tok = claims ? mcpc_as_sign(as, typ, claims) : NULL;
    const char *scope = json_string_value(json_object_get(claims, "scope"));
    mcpc_err rc = token_response(res, tok, token_type, lifetime, scope, issued_type);

    json_decref(claims);
    return rc;
}

static mcpc_err grant_code(mcpc_as *as, json_t *form, const struct client_auth *ca,
                           mcpc_listener_response *res)
{
    const char *code = json_string_value(json_object_get(form, "code"));
    const char *verifier = json_string_value(json_object_get(form, "code_verifier"));
    const char *ruri = json_string_value(json_object_get(form, "redirect_uri"));
    const char *resource = json_string_value(json_object_get(form, "resource"));
    const char *aud;
    struct code *c = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    char want[44];
    size_t vl;
    long long now = (long long)time(NULL);
    json_t *claims;
    mcpc_err rc = MCPC_OK;

    if (!ca->client)
        return oauth_error(res, 401, "invalid_client", "client_id missing");
    if (!code)
        return oauth_error(res, 400, "invalid_request", "code missing");
    for (size_t i = 0; i < MAX_CODES && i < as->n_codes; i++)
        if (as->codes[i].client_id && strcmp(as->codes[i].code, code) == 0)
            c = &as->codes[i];
    if (!c)
        return oauth_error(res, 400, "invalid_grant", "unknown authorization code");
    if (c->used)
        return oauth_error(res, 400, "invalid_grant", "authorization code already used");
    /* one attempt per code, successful or not: a wrong verifier must not be retried */
    c->used = 1;
    if (now >= c->expires)
        return oauth_error(res, 400, "invalid_grant", "authorization code expired");
    if (strcmp(c->client_id, ca->client->id) != 0)
        return oauth_error(res, 400, "invalid_grant", "code was issued to another client");
    if (c->redirect_uri && (!ruri || strcmp(ruri, c->redirect_uri) != 0))
        return oauth_error(res, 400, "invalid_grant", "redirect_uri differs from authorization");
    if (!verifier)
        return oauth_error(res, 400, "invalid_request", "code_verifier missing");
    vl = strlen(verifier);
    if (vl < 43 || vl > 128 || strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                                                "xyz0123456789-._~") != vl)
        return oauth_error(res, 400, "invalid_request",
                           "code_verifier must be 43 to 128 unreserved characters");
    if (EVP_Digest(verifier, vl, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        ERR_clear_error();
        return MCPC_ERR_NOMEM;
    }
    mcpc_b64url_encode_to(md, 32, want);
    if (strcmp(want, c->challenge) != 0)
        return oauth_error(res, 400, "invalid_grant", "code_verifier does not match the challenge");
    if (resource && c->resource && strcmp(resource, c->resource) != 0)
        return oauth_error(res, 400, "invalid_target",
                           "resource differs from the authorization request");
    if (!(aud = audience(as, resource, c->resource, res, &rc)))
        return rc;
    claims = mcpc_as_access_claims(as, aud, c->scope, as->access_lifetime, now);
    if (claims && json_object_set_new(claims, "client_id", json_string(c->client_id))) {
        json_decref(claims);
        claims = NULL;
    }
    return issue(as, res, claims, MCPC_AS_ACCESS_TYP, "Bearer", as->access_lifetime, NULL);
}

static mcpc_err grant_client_credentials(mcpc_as *as, json_t *form, const struct client_auth *ca,
                                         mcpc_listener_response *res)
{
    const char *scope = json_string_value(json_object_get(form, "scope"));
    const char *resource = json_string_value(json_object_get(form, "resource"));
    const char *aud;
    json_t *claims;
    mcpc_err rc = MCPC_OK;

    if (!ca->authenticated)
        return oauth_error(res, 401, "invalid_client",
                           "client_credentials needs an authenticated confidential client");
    if (scope && !scopes_subset(scope, as->scopes))
        return oauth_error(res, 400, "invalid_scope", "unknown scope");
    if (!(aud = audience(as, resource, NULL, res, &rc)))
        return rc;
    claims = mcpc_as_access_claims(as, aud, scope, as->access_lifetime, (long long)time(NULL));
    if (claims && (json_object_set_new(claims, "sub", json_string(ca->client->id)) ||
                   json_object_set_new(claims, "client_id", json_string(ca->client->id)))) {
        json_decref(claims);
        claims = NULL;
    }
    return issue(as, res, claims, MCPC_AS_ACCESS_TYP, "Bearer", as->access_lifetime, NULL);
}

/* The one mcps_tool_call entry of an authorization_details parameter (RFC 9396). New
 * reference, or NULL. */
static json_t *tool_call_details(const char *text, char *why, size_t whylen)
{
    json_error_t je;
    json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, &je), *d, *res = NULL;
    const char *tool, *digest, *type;

    if (!json_is_array(arr) || json_array_size(arr) != 1) {
        snprintf(why, whylen, "authorization_details must be a JSON array of one entry");
        goto out;
    }
    d = json_array_get(arr, 0);
    tool = json_string_value(json_object_get(d, "tool"));
    digest = json_string_value(json_object_get(d, "args_sha256"));
    type = json_string_value(json_object_get(d, "type"));
    if (!json_is_object(d) || !type || strcmp(type, "mcps_tool_call") != 0 || !tool || !*tool ||
        !is_digest(digest)) {
        snprintf(why, whylen,
                 "the entry must be {type: mcps_tool_call, tool, args_sha256 (base64url)}");
        goto out;
    }
    res = json_incref(d);
out:
    json_decref(arr);
    return res;
}

/* Remember a DPoP proof id; 0 when it was seen before (a replayed proof). */
static int proof_jti_fresh(mcpc_as *as, const char *jti)
{
    size_t n = as->n_proof_jtis < MAX_PROOF_JTIS ? as->n_proof_jtis : MAX_PROOF_JTIS;
    char **slot;

    for (size_t i = 0; i < n; i++)
        if (as->proof_jtis[i] && strcmp(as->proof_jtis[i], jti) == 0)
            return 0;
    slot = &as->proof_jtis[as->n_proof_jtis++ % MAX_PROOF_JTIS];
    free(*slot);
    *slot = strdup(jti);
    return 1;
}

static mcpc_err grant_exchange(mcpc_as *as, const mcpc_listener_request *req, json_t *form,
                               const struct client_auth *ca, mcpc_listener_response *res)
{
    const char *subject = json_string_value(json_object_get(form, "subject_token"));
    const char *stype = json_string_value(json_object_get(form, "subject_token_type"));
    const char *rtype = json_string_value(json_object_get(form, "requested_token_type"));
    const char *resource = json_string_value(json_object_get(form, "resource"));
    const char *scope = json_string_value(json_object_get(form, "scope"));
    const char *details = json_string_value(json_object_get(form, "authorization_details"));
    const char *aud, *granted;
    const mcpc_listener_header *dh;
    json_t *sub_claims = NULL, *claims = NULL, *detail = NULL, *proof_claims = NULL;
    mcpc_jose_claims_rules rules = { 0 };
    long long now = (long long)time(NULL);
    char why[256], jkt[44], *proof = NULL;
    size_t count = 0;
    int call;
    mcpc_dpop_rules dr = { 0 };
    mcpc_dpop_status ds;
    mcpc_err rc = MCPC_OK;

    if (!subject || !stype)
        return oauth_error(res, 400, "invalid_request", "subject_token and its type required");
    if (strcmp(stype, MCPC_AS_TT_ACCESS) != 0 && strcmp(stype, MCPC_AS_TT_JWT) != 0)
        return oauth_error(res, 400, "invalid_request", "subject_token_type not supported");
    if (rtype && strcmp(rtype, MCPC_AS_TT_JWT) != 0 && strcmp(rtype, MCPC_AS_TT_ACCESS) != 0)
        return oauth_error(res, 400, "invalid_request", "requested_token_type not supported");
    call = !rtype || strcmp(rtype, MCPC_AS_TT_JWT) == 0;
    if (mcpc_jose_verify(subject, as->jwks, MCPC_AS_ACCESS_TYP, &sub_claims, why, sizeof why) !=
        MCPC_JOSE_OK)
        return oauth_error(res, 400, "invalid_grant", "subject_token: %s", why);
    rules.issuer = as->issuer;
    if (mcpc_jose_claims_verify(sub_claims, now, &rules, why, sizeof why) != MCPC_JOSE_OK) {
        rc = oauth_error(res, 400, "invalid_grant", "subject_token: %s", why);
        goto out;
    }
    granted = json_string_value(json_object_get(sub_claims, "scope"));
    if (!granted)
        granted = "";
    /* an exchange may narrow the subject's scope, never widen it */
    if (scope && !scopes_subset(scope, granted)) {
        rc = oauth_error(res, 400, "invalid_scope", "scope exceeds the subject token's");
        goto out;
    }
    if (!(aud = audience(as, resource, NULL, res, &rc)))
        goto out;
    claims = mcpc_as_access_claims(as, aud, scope ? scope : granted,
                                   call ? as->call_lifetime : as->access_lifetime, now);
    if (!claims) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    json_object_set(claims, "sub", json_object_get(sub_claims, "sub"));
    json_object_set(claims, "client_id", json_object_get(sub_claims, "client_id"));
    if (ca->client)
        json_object_set_new(claims, "act", json_pack("{s:s}", "sub", ca->client->id));
    if (!call) {
        rc = issue(as, res, claims, MCPC_AS_ACCESS_TYP, "Bearer", as->access_lifetime,
                   MCPC_AS_TT_ACCESS);
        claims = NULL;
        goto out;
    }
    if (!details || !(detail = tool_call_details(details, why, sizeof why))) {
        rc = oauth_error(res, 400, "invalid_authorization_details", "%s",
                         details ? why : "authorization_details required for a per-call token");
        goto out;
    }
    dh = mcpc_listener_header_find(req, "dpop", &count);
    if (count != 1) {
        rc = oauth_error(res, 400, "invalid_dpop_proof", "exactly one DPoP header required");
        goto out;
    }
    proof = strndup(dh->value, dh->value_len);
    if (!proof) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    dr.htm = "POST";
    dr.htu = as->token_endpoint;
    dr.now = now;
    ds = mcpc_dpop_verify(proof, &dr, jkt, &proof_claims, NULL, why, sizeof why);
    if (ds != MCPC_DPOP_OK) {
        rc = oauth_error(res, 400, "invalid_dpop_proof", "%s", why);
        goto out;
    }
    if (!proof_jti_fresh(as, json_string_value(json_object_get(proof_claims, "jti")))) {
        rc = oauth_error(res, 400, "invalid_dpop_proof", "DPoP proof replayed (jti seen)");
        goto out;
    }
    if (json_object_set_new(claims, "cnf", json_pack("{s:s}", "jkt", jkt)) ||
        json_object_set_new(claims, "authorization_details", json_pack("[O]", detail))) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    rc = issue(as, res, claims, MCPC_AS_CALL_TYP, "DPoP", as->call_lifetime, MCPC_AS_TT_JWT);
    claims = NULL;
out:
    free(proof);
    json_decref(proof_claims);
    json_decref(detail);
    json_decref(claims);
    json_decref(sub_claims);
    return rc;
}

static mcpc_err handle_token(mcpc_as *as, const mcpc_listener_request *req, json_t *form,
                             const char *ferr, mcpc_listener_response *res)
{
    const mcpc_listener_header *ct = mcpc_listener_header_find(req, "content-type", NULL);
    const char *grant;
    struct client_auth ca;
    int answered;
    mcpc_err rc;

    if (!ct || strncasecmp(ct->value, "application/x-www-form-urlencoded", 33) != 0 ||
        (ct->value[33] && ct->value[33] != ';' && ct->value[33] != ' '))
        return oauth_error(res, 400, "invalid_request",
                           "Content-Type must be application/x-www-form-urlencoded");
    if (!form)
        return oauth_error(res, 400, "invalid_request", "%s", ferr);
    rc = authenticate(as, req, form, &ca, &answered, res);
    if (rc || answered)
        return rc;
    grant = json_string_value(json_object_get(form, "grant_type"));
    if (!grant)
        return oauth_error(res, 400, "invalid_request", "grant_type missing");
    if (strcmp(grant, "authorization_code") == 0)
        return grant_code(as, form, &ca, res);
    if (strcmp(grant, "client_credentials") == 0)
        return grant_client_credentials(as, form, &ca, res);
    if (strcmp(grant, MCPC_AS_GRANT_TOKEN_EXCHANGE) == 0)
        return grant_exchange(as, req, form, &ca, res);
    return oauth_error(res, 400, "unsupported_grant_type", "grant_type not supported");
}

/* ---- the handler -------------------------------------------------------------------------- */

/* A header value as JSON: a string when UTF-8, otherwise {"base64url": bytes}. New reference. */
static json_t *bytes_json(const char *v, size_t n)
{
    json_t *s = json_stringn(v, n);
    char *enc;

    if (s)
        return s;
    enc = mcpc_b64url_encode((const unsigned char *)v, n);
    s = enc ? json_pack("{s:s}", "base64url", enc) : NULL;
    free(enc);
    return s;
}

/* Record req; *params_out / *form_out receive the parsed query and body (new references or
 * NULL) and perr their parse error. Returns the record entry (borrowed) or NULL. */
static json_t *record(mcpc_as *as, const mcpc_listener_request *req, json_t **params_out,
                      json_t **form_out, char *perr, size_t perrlen)
{
    json_t *e = NULL, *hdrs = NULL;
    const mcpc_listener_header *ct = mcpc_listener_header_find(req, "content-type", NULL);
    char ferr[128] = "";

    *params_out = *form_out = NULL;
    perr[0] = '\0';
    if (mcpc_as_form_parse(req->query, strlen(req->query), params_out, perr, perrlen) &&
        !perr[0])
        snprintf(perr, perrlen, "out of memory");
    if (ct && strncasecmp(ct->value, "application/x-www-form-urlencoded", 33) == 0 &&
        mcpc_as_form_parse(req->body, req->body_len, form_out, ferr, sizeof ferr) && !ferr[0])
        snprintf(ferr, sizeof ferr, "out of memory");
    if (ferr[0])
        snprintf(perr, perrlen, "%s", ferr);
    as->seq++;
    if (json_array_size(as->record) >= MAX_RECORD) {
        as->dropped++;
        return NULL;
    }
    hdrs = json_array();
    for (size_t i = 0; hdrs && i < req->n_headers; i++)
        json_array_append_new(hdrs, json_pack("[s, o]", req->headers[i].name,
                                              bytes_json(req->headers[i].value,
                                                         req->headers[i].value_len)));
    e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:O?, s:O?}", "seq", (json_int_t)as->seq,
                  "method", req->method, "path", req->path, "query", req->query, "client",
                  req->client, "headers", hdrs ? hdrs : json_array(), "params", *params_out,
                  "form", *form_out);
    if (!e)
        return NULL;
    if (perr[0])
        json_object_set_new(e, "form_error", json_string(perr));
    if (req->body_len)
        json_object_set_new(e, "body", bytes_json(req->body, req->body_len));
    if (json_array_append_new(as->record, e))
        return NULL;
    return e;
}

static mcpc_err as_handle(void *ctx, const mcpc_listener_request *req, mcpc_listener_response *res)
{
    mcpc_as *as = ctx;
    json_t *params, *form, *entry;
    char perr[128];
    const char *allow = NULL;
    mcpc_err rc;

    entry = record(as, req, &params, &form, perr, sizeof perr);
    if (!as->ready) {
        rc = oauth_error(res, 503, "temporarily_unavailable", "starting");
    } else if (strcmp(req->path, META_PATH) == 0) {
        rc = strcmp(req->method, "GET") == 0
                 ? reply_json(res, 200, json_incref(as->metadata))
                 : MCPC_OK;
        allow = "GET";
    } else if (strcmp(req->path, "/jwks") == 0) {
        rc = strcmp(req->method, "GET") == 0 ? reply_json(res, 200, json_incref(as->jwks))
                                              : MCPC_OK;
        allow = "GET";
    } else if (strcmp(req->path, "/authorize") == 0) {
        rc = strcmp(req->method, "GET") == 0 ? handle_authorize(as, params, perr, res) : MCPC_OK;
        allow = "GET";
    } else if (strcmp(req->path, "/token") == 0) {
        rc = strcmp(req->method, "POST") == 0 ? handle_token(as, req, form, perr, res) : MCPC_OK;
        allow = "POST";
    } else {
        rc = oauth_error(res, 404, "not_found", "no such endpoint");
    }
    if (!rc && allow && strcmp(req->method, allow) != 0) {
        rc = oauth_error(res, 405, "invalid_request", "method not allowed");
        if (!rc)
            rc = mcpc_listener_response_header(res, "Allow", allow);
    }
    if (entry)
        json_object_set_new(entry, "status", json_integer(rc ? 500 : res->status));
    json_decref(params);
    json_decref(form);
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* The metadata of the chosen variant with the override merged over it. */
static json_t *build_metadata(const mcpc_as *as, const mcpc_as_opts *o)
{
    json_t *scopes = json_array(), *md;
    const char *p = as->scopes;
    char buf[128];

    while (scopes && *p) {
        size_t len;
        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len)
            json_array_append_new(scopes, json_stringn(p, len));
        p += len;
    }
    md = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:[s], s:[s,s,s], s:[s], s:[s,s,s], s:o, s:[s,s],"
                   " s:b, s:[s]}",
                   "issuer", as->issuer, "authorization_endpoint", as->authz_endpoint,
                   "token_endpoint", as->token_endpoint, "jwks_uri", as->jwks_uri,
                   "response_types_supported", "code", "response_modes_supported", "query",
                   "grant_types_supported", "authorization_code", "client_credentials",
                   MCPC_AS_GRANT_TOKEN_EXCHANGE, "code_challenge_methods_supported", "S256",
                   "token_endpoint_auth_methods_supported", "none", "client_secret_basic",
                   "client_secret_post", "scopes_supported", scopes,
                   "dpop_signing_alg_values_supported", "ES256", "EdDSA",
                   "authorization_response_iss_parameter_supported", 1,
                   "authorization_details_types_supported", "mcps_tool_call");
    if (!md)
        return NULL;
    switch (o->metadata) {
    case MCPC_AS_META_NORMAL:
        break;
    case MCPC_AS_META_NO_PKCE_METHODS:
        json_object_del(md, "code_challenge_methods_supported");
        break;
    case MCPC_AS_META_ISSUER_MISMATCH:
        snprintf(buf, sizeof buf, "%s/other-issuer", as->issuer);
        json_object_set_new(md, "issuer", json_string(buf));
        break;
    case MCPC_AS_META_DANGEROUS_AUTHZ:
        json_object_set_new(md, "authorization_endpoint",
                            json_string(o->dangerous_authz ? o->dangerous_authz : ""));
        break;
    }
    if (json_is_object(o->metadata_override)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)o->metadata_override, k, v) {
            if (json_is_null(v))
                json_object_del(md, k);
            else
                json_object_set_new(md, k, json_deep_copy(v));
        }
    }
    return md;
}

static void as_free(mcpc_as *as)
{
    if (!as)
        return;
    for (size_t i = 0; i < as->n_clients; i++) {
        free(as->clients[i].id);
        free(as->clients[i].secret);
        free(as->clients[i].redirect_uris);
    }
    for (size_t i = 0; i < MAX_CODES; i++)
        code_clear(&as->codes[i]);
    for (size_t i = 0; i < MAX_PROOF_JTIS; i++)
        free(as->proof_jtis[i]);
    free(as->scopes);
    free(as->default_scope);
    free(as->default_resource);
    mcpc_jose_key_free(as->es);
    mcpc_jose_key_free(as->ed);
    mcpc_jose_key_free(as->foreign);
    json_decref(as->jwks);
    json_decref(as->metadata);
    json_decref(as->record);
    free(as);
}

/* Copy the client registrations (or the two defaults). */
static mcpc_err add_clients(mcpc_as *as, const mcpc_as_opts *o, char *err, size_t errlen)
{
    static const mcpc_as_client defaults[] = {
        { MCPC_AS_PUBLIC_CLIENT, NULL, 0, NULL },
        { MCPC_AS_CONFIDENTIAL_CLIENT, NULL, 1, NULL },
    };
    const mcpc_as_client *cl = o->n_clients ? o->clients : defaults;
    size_t n = o->n_clients ? o->n_clients : 2;
    char secret[44];

    if (n > MCPC_AS_MAX_CLIENTS || !cl) {
        snprintf(err, errlen, "at most %d clients", MCPC_AS_MAX_CLIENTS);
        return MCPC_ERR_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        struct client *c = &as->clients[as->n_clients];
        if (!cl[i].id || !*cl[i].id || find_client(as, cl[i].id)) {
            snprintf(err, errlen, "client %zu: missing or duplicate id", i);
            return MCPC_ERR_USAGE;
        }
        c->confidential = cl[i].confidential;
        if (c->confidential && !cl[i].secret && !random_id(secret, 32))
            return MCPC_ERR_NOMEM;
        c->id = strdup(cl[i].id);
        c->secret = c->confidential ? strdup(cl[i].secret ? cl[i].secret : secret) : NULL;
        c->redirect_uris = dupstr(cl[i].redirect_uris);
        as->n_clients++;
        if (!c->id || (c->confidential && !c->secret) ||
            (cl[i].redirect_uris && !c->redirect_uris))
            return MCPC_ERR_NOMEM;
    }
    return MCPC_OK;
}

mcpc_err mcpc_as_start(const mcpc_as_opts *o, mcpc_as **out, char *err, size_t errlen)
{
    mcpc_as_opts def;
    mcpc_listener_opts lo;
    mcpc_as *as = NULL;
    const mcpc_jose_key *keys[2];
    mcpc_err rc = MCPC_ERR_NOMEM;

    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!o) {
        mcpc_as_opts_default(&def);
        o = &def;
    }
    if (o->access_lifetime <= 0 || o->call_lifetime <= 0 || o->code_lifetime <= 0 ||
        !o->scopes || !o->default_scope || !scopes_subset(o->default_scope, o->scopes) ||
        (o->default_resource && !resource_ok(o->default_resource)) ||
        (o->sign_alg != MCPC_JOSE_ES256 && o->sign_alg != MCPC_JOSE_EDDSA)) {
        snprintf(err, errlen, "bad authorization server options (lifetimes, scopes, resource)");
        return MCPC_ERR_USAGE;
    }
    as = calloc(1, sizeof *as);
    if (!as)
        goto fail;
    as->access_lifetime = o->access_lifetime;
    as->call_lifetime = o->call_lifetime;
    as->code_lifetime = o->code_lifetime;
    as->iss_mode = o->iss;
    as->scopes = strdup(o->scopes);
    as->default_scope = strdup(o->default_scope);
    as->default_resource = dupstr(o->default_resource);
    as->record = json_array();
    if (!as->scopes || !as->default_scope || (o->default_resource && !as->default_resource) ||
        !as->record)
        goto fail;
    if ((rc = add_clients(as, o, err, errlen)))
        goto fail;
    as->es = mcpc_jose_key_generate(MCPC_JOSE_ES256);
    as->ed = mcpc_jose_key_generate(MCPC_JOSE_EDDSA);
    as->foreign = mcpc_jose_key_generate(MCPC_JOSE_ES256);
    if (!as->es || !as->ed || !as->foreign) {
        snprintf(err, errlen, "key generation failed");
        rc = MCPC_ERR_INVALID;
        goto fail;
    }
    as->signing = o->sign_alg == MCPC_JOSE_EDDSA ? as->ed : as->es;
    keys[0] = as->es;
    keys[1] = as->ed;
    rc = MCPC_ERR_NOMEM;
    if (!(as->jwks = mcpc_jose_jwks(keys, 2)))
        goto fail;
    mcpc_listener_opts_default(&lo);
    lo.max_body = MAX_BODY;
    lo.max_connections = 16;
    rc = mcpc_listener_start("127.0.0.1", o->port, as_handle, as, &lo, &as->l, err, errlen);
    if (rc)
        goto fail;
    as->port = mcpc_listener_port(as->l);
    snprintf(as->issuer, sizeof as->issuer, "http://127.0.0.1:%u", as->port);
    snprintf(as->jwks_uri, sizeof as->jwks_uri, "%s/jwks", as->issuer);
    snprintf(as->token_endpoint, sizeof as->token_endpoint, "%s/token", as->issuer);
    snprintf(as->authz_endpoint, sizeof as->authz_endpoint, "%s/authorize", as->issuer);
    mcpc_listener_lock(as->l);
    as->metadata = build_metadata(as, o);
    as->ready = as->metadata != NULL;
    mcpc_listener_unlock(as->l);
    if (!as->metadata) {
        rc = MCPC_ERR_NOMEM;
        goto fail;
    }
    *out = as;
    return MCPC_OK;
fail:
    if (as && as->l)
        mcpc_listener_stop(as->l);
    as_free(as);
    if (errlen && !err[0])
        snprintf(err, errlen, "%s", mcpc_strerror(rc));
    return rc;
}

void mcpc_as_stop(mcpc_as *as)
{
    if (!as)
        return;
    mcpc_listener_stop(as->l);
    as_free(as);
}

unsigned mcpc_as_port(const mcpc_as *as)
{
    return as->port;
}

const char *mcpc_as_issuer(const mcpc_as *as)
{
    return as->issuer;
}

const char *mcpc_as_jwks_uri(const mcpc_as *as)
{
    return as->jwks_uri;
}

const char *mcpc_as_token_endpoint(const mcpc_as *as)
{
    return as->token_endpoint;
}

const char *mcpc_as_client_secret(const mcpc_as *as, const char *client_id)
{
    const struct client *c = find_client(as, client_id ? client_id : MCPC_AS_CONFIDENTIAL_CLIENT);

    return c ? c->secret : NULL;
}

json_t *mcpc_as_jwks(const mcpc_as *as)
{
    return json_deep_copy(as->jwks);
}

json_t *mcpc_as_metadata(const mcpc_as *as)
{
    return json_deep_copy(as->metadata);
}

const mcpc_jose_key *mcpc_as_key(const mcpc_as *as, mcpc_as_key_which which)
{
    switch (which) {
    case MCPC_AS_KEY_SIGNING: return as->signing;
    case MCPC_AS_KEY_ES256: return as->es;
    case MCPC_AS_KEY_EDDSA: return as->ed;
    case MCPC_AS_KEY_FOREIGN: return as->foreign;
    }
    return NULL;
}

const char *mcpc_as_foreign_issuer(void)
{
    return FOREIGN_ISSUER;
}

json_t *mcpc_as_requests(mcpc_as *as)
{
    json_t *copy;

    mcpc_listener_lock(as->l);
    copy = json_deep_copy(as->record);
    mcpc_listener_unlock(as->l);
    return copy;
}

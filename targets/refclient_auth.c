/* refclient: OAuth 2.1 authorization for streamable HTTP, as MCP's authorization specification
 * asks of a client (docs/refclient.md, "Authorization"). Run when the server answers 401 with a
 * Bearer challenge:
 *
 *  1. Protected resource metadata (RFC 9728): the challenge's resource_metadata URL, else the
 *     well-known URIs, path-inserted first, then the root one. Its `resource` must be the
 *     server's canonical URI, exactly.
 *  2. Authorization server metadata (RFC 8414, then OpenID discovery) for the first of its
 *     authorization_servers; its `issuer` must be exactly the issuer it was fetched for.
 *  3. PKCE S256 must be advertised (code_challenge_methods_supported), and the
 *     authorization_endpoint must be https, or http on a loopback host: anything else
 *     (javascript:, file:, data:, a remote http URL) is never handed to the browser.
 *  4. The authorization URL (response_type=code, client_id, redirect_uri, PKCE S256, a random
 *     state, scope, resource) is handed to the context's browser command (no shell; the URL is
 *     its last argument); it prints the redirect's Location. This client never loads the URL
 *     itself.
 *  5. The Location must be the redirect URI with our state; its `iss` must equal the issuer
 *     byte for byte (RFC 9207), and may be absent only when the metadata does not advertise
 *     authorization_response_iss_parameter_supported. Only then is `code` redeemed.
 *  6. Token request: grant_type=authorization_code, code, redirect_uri, client_id,
 *     code_verifier, resource. The access token goes in the Authorization header only.
 *
 * Every fetch of this file is a GET or a form POST to a loopback http(s) URL (the client's
 * bound: it never contacts another host), never redirected, never through a proxy, with 3 s
 * to connect, 10 s in all, and 1 MiB of body. The browser gets 10 s and 8 KiB of output. */
#include "refclient.h"
#include "b64url.h"
#include "hex.h"
#include "transport_stdio.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_META_BODY ((size_t)1 << 20)   /* bytes of a metadata document or token response */
#define MAX_URL 8192                       /* bytes of a URL we build or accept */
#define MAX_TOKEN 16384                    /* bytes of an access token */
#define BROWSER_MS 10000                   /* the browser command, start to exit */
#define MAX_PROBES 3                       /* metadata URLs tried per document */

struct mcpc_rc_auth {
    const bool *flaw;              /* borrowed */
    char *client_id, *redirect_uri;
    char **browser;                /* command and arguments, NULL-terminated; NULL: none */
    size_t browser_n;
    char *resource;                /* the server's canonical URI */
    char *token;                   /* the access token, once obtained */
    unsigned authorizations;       /* flows run (bounded) */
};

/* What the flow keeps while it runs. */
struct flow {
    json_t *prm, *asm_;            /* metadata documents (new refs) */
    char issuer[MAX_URL];
    char scope[1024];
    char verifier[64], state[32];
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static mcpc_err say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return MCPC_ERR_PROTOCOL;
}

/* ---- small pieces ------------------------------------------------------------------------- */

/* Append "&name=value" (or "name=value" at the start) to a query or form. -1: too long. */
static int put_param(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
    if (*len + 2 > cap)
        return -1;
    if (*len && buf[*len - 1] != '?')
        buf[(*len)++] = '&';
    buf[*len] = '\0';
    if (mcpc_pct_encode(buf, cap, len, name) != 0 || *len + 2 > cap)
        return -1;
    buf[(*len)++] = '=';
    buf[*len] = '\0';
    return mcpc_pct_encode(buf, cap, len, value);
}

/* Percent-decode s[0..n) ('+' is a space) into out (cap bytes). -1 for a malformed escape, a NUL,
 * or no room. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? mcpc_hex_value((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? mcpc_hex_value((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || j + 1 >= cap)
            return -1;
        out[j++] = (char)c;
    }
    out[j] = '\0';
    return 0;
}

/* The value of parameter name in a query (no '?'), decoded into out. 1 found, 0 absent, -1
 * malformed or given twice (a parameter given twice is not a response we can trust). */
static int query_param(const char *q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    int found = 0;

    while (*q) {
        size_t seg = strcspn(q, "&");
        const char *eq = memchr(q, '=', seg);
        size_t kl = eq ? (size_t)(eq - q) : seg;
        if (kl == nl && memcmp(q, name, nl) == 0) {
            if (found)
                return -1;
            found = 1;
            if (pct_decode(eq ? eq + 1 : q + seg, eq ? seg - kl - 1 : 0, out, cap) != 0)
                return -1;
        }
        q += seg + (q[seg] == '&');
    }
    return found;
}

/* 1 when host (as libcurl gives it) is a loopback name or address. */
static int loopback_host(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcasecmp(host, "localhost") == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* The scheme and host of url (new strings, curl_free them), or -1 when it does not parse as a
 * URL libcurl knows. */
static int url_parts(const char *url, char **scheme, char **host)
{
    CURLU *u = curl_url();
    int rc = -1;

    *scheme = *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK)
        rc = 0;
    if (rc != 0) {
        curl_free(*scheme);
        curl_free(*host);
        *scheme = *host = NULL;
    }
    curl_url_cleanup(u);
    return rc;
}

/* A URL this client may load itself: http or https on a loopback host. */
static int fetchable(const char *url)
{
    char *scheme, *host;
    int ok;

    if (strlen(url) >= MAX_URL || url_parts(url, &scheme, &host) != 0)
        return 0;
    ok = (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
         loopback_host(host);
    curl_free(scheme);
    curl_free(host);
    return ok;
}

/* An authorization endpoint the browser may be given (the spec's URL validation): https, or
 * http on a loopback host, with no control characters or spaces. javascript:, data:, file:,
 * vbscript: and every other scheme are refused. */
static int browsable(const char *url, char *why, size_t whylen)
{
    char *scheme = NULL, *host = NULL;
    int ok = 0;

    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) {
            snprintf(why, whylen, "it holds a space or a control character");
            return 0;
        }
    if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0) {
        snprintf(why, whylen, "only https:// (or http:// on a loopback host) may be opened");
        return 0;
    }
    if (strlen(url) >= MAX_URL || url_parts(url, &scheme, &host) != 0) {
        snprintf(why, whylen, "it is not a URL");
        return 0;
    }
    if (strcasecmp(scheme, "https") == 0)
        ok = 1;
    else if (strcasecmp(scheme, "http") == 0 && loopback_host(host))
        ok = 1;
    else
        snprintf(why, whylen, "plain http is allowed on a loopback host only");
    curl_free(scheme);
    curl_free(host);
    return ok;
}

/* ---- fetching ----------------------------------------------------------------------------- */

struct body {
    char *data;
    size_t len, cap;
    bool over;
};

static size_t on_data(char *buf, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t len = size * n;

    if (len > MAX_META_BODY - b->len) {
        b->over = true;
        return 0;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *np;
        while (cap < b->len + len + 1)
            cap *= 2;
        if (!(np = realloc(b->data, cap)))
            return 0;
        b->data = np;
        b->cap = cap;
    }
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* GET url (form NULL) or POST the form to it. MCPC_OK once an HTTP answer came: *status, and
 * *doc the body when it is a JSON object (new ref, else NULL). */
static mcpc_err fetch(const char *url, const char *form, long *status, json_t **doc, char *err,
                      size_t errlen)
{
    CURL *c = NULL;
    struct curl_slist *h = NULL, *np;
    struct body b = { 0 };
    mcpc_err rc = MCPC_ERR_NOMEM;
    CURLcode cc;

    *status = 0;
    *doc = NULL;
    if (!fetchable(url)) {
        snprintf(err, errlen, "will not fetch %.300s: only loopback http(s) URLs are loaded", url);
        return MCPC_ERR_PROTOCOL;
    }
    if (!(c = curl_easy_init()) || !(h = curl_slist_append(NULL, "Accept: application/json")))
        goto out;
    if (form) {
        if (!(np = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded")))
            goto out;
        h = np;
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MCPC_RC_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MCPC_RC_REQUEST_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, MCPC_RC_NAME "/" MCPC_RC_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    cc = curl_easy_perform(c);
    if (b.over) {
        rc = say(err, errlen, "%s %.300s: the answer is over 1 MiB", form ? "POST" : "GET", url);
        goto out;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s %.300s: %s", form ? "POST" : "GET", url, curl_easy_strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? MCPC_ERR_TIMEOUT : MCPC_ERR_IO;
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (b.len) {
        json_t *j = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(j))
            *doc = j;
        else
            json_decref(j);
    }
    rc = MCPC_OK;
out:
    if (rc == MCPC_ERR_NOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    curl_slist_free_all(h);
    if (c)
        curl_easy_cleanup(c);
    free(b.data);
    return rc;
}

/* Fetch the first of urls[0..n) that answers 200 with a JSON object. MCPC_OK with *doc, or an
 * error (err says why). A 4xx means "not here": the next URL is tried. */
static mcpc_err fetch_first(const char *what, char urls[][MAX_URL], size_t n, json_t **doc,
                            char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        long status;
        mcpc_err rc = fetch(urls[i], NULL, &status, doc, err, errlen);
        if (rc != MCPC_OK)
            return rc;
        if (status == 200 && *doc)
            return MCPC_OK;
        json_decref(*doc);
        *doc = NULL;
        if (status < 400 || status >= 500)
            return say(err, errlen, "%s at %.300s: HTTP %ld without a JSON object", what,
                       urls[i], status);
    }
    return say(err, errlen, "no %s found (%zu URL%s tried)", what, n, n == 1 ? "" : "s");
}

/* ---- the challenge ------------------------------------------------------------------------ */

/* The value of auth-param name of the Bearer challenge in a WWW-Authenticate value (RFC 9110
 * section 11.6.1: challenges separated by commas, each a scheme and name=value parameters, a
 * value a token or a quoted-string). 1 found (copied to out), 0 not. name NULL: 1 when there is
 * a Bearer challenge at all. */
static int challenge_param(const char *h, const char *name, char *out, size_t cap)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"
                                "lmnopqrstuvwxyz";
    bool bearer = false;
    const char *p = h;

    while (p && *p) {
        size_t tl;
        const char *tok;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        tok = p;
        tl = strspn(p, tchar);
        if (tl == 0)
            return 0;                     /* not something we can read: give up */
        p += tl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=' || (p[1] == '=' || p[1] == '\0' || p[1] == ',')) {
            /* a scheme (or token68, which the next scheme ends) */
            while (*p == '=')
                p++;
            bearer = tl == 6 && strncasecmp(tok, "Bearer", 6) == 0;
            if (bearer && !name)
                return 1;
            continue;
        }
        p++;                               /* '=' */
        while (*p == ' ' || *p == '\t')
            p++;
        size_t j = 0;
        bool want = bearer && name && strlen(name) == tl && strncasecmp(tok, name, tl) == 0;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (want && j + 1 < cap)
                    out[j++] = *p;
            }
            if (*p == '"')
                p++;
        } else {
            size_t vl = strspn(p, tchar);
            for (size_t i = 0; want && i < vl && j + 1 < cap; i++)
                out[j++] = p[i];
            p += vl;
        }
        if (want) {
            out[j] = '\0';
            return 1;
        }
    }
    return 0;
}

/* ---- the steps ---------------------------------------------------------------------------- */

/* The origin ("scheme://authority") and path of url, without query or fragment. -1 when it does
 * not fit. */
static int split_url(const char *url, char *origin, size_t olen, char *path, size_t plen)
{
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t al = strcspn(auth, "/?#");
    size_t pl = strcspn(auth + al, "?#");

    if (!sep || (size_t)(auth + al - url) >= olen || pl >= plen)
        return -1;
    memcpy(origin, url, (size_t)(auth + al - url));
    origin[auth + al - url] = '\0';
    memcpy(path, auth + al, pl);
    path[pl] = '\0';
    return 0;
}

/* out = a b c (MAX_URL bytes). -1 when it does not fit. */
static int join3(char *out, const char *a, const char *b, const char *c)
{
    int n = snprintf(out, MAX_URL, "%s%s%s", a, b, c);

    return n < 0 || n >= MAX_URL ? -1 : 0;
}

/* 1: protected resource metadata, checked. */
static mcpc_err find_prm(struct mcpc_rc_auth *a, const char *challenge, struct flow *f, char *err,
                         size_t errlen)
{
    char urls[2][MAX_URL], origin[MAX_URL], path[MAX_URL], from[MAX_URL];
    size_t n = 0;
    mcpc_err rc;
    json_t *res, *servers, *scopes, *s;
    size_t i;

    if (challenge && challenge_param(challenge, "resource_metadata", from, sizeof from)) {
        snprintf(urls[n++], MAX_URL, "%s", from);
    } else {
        /* RFC 9728 section 3.1 and the spec: path-inserted first, then the root */
        if (split_url(a->resource, origin, sizeof origin, path, sizeof path) != 0)
            return say(err, errlen, "cannot derive the well-known URIs of %.300s", a->resource);
        if (strcmp(path, "/") == 0)
            path[0] = '\0';
        if (path[0] && join3(urls[n++], origin, "/.well-known/oauth-protected-resource", path))
            return say(err, errlen, "the resource URI is too long");
        if (join3(urls[n++], origin, "/.well-known/oauth-protected-resource", ""))
            return say(err, errlen, "the resource URI is too long");
        if (n == 2 && a->flaw[MCPC_RC_FLAW_WELLKNOWN_ROOT_FIRST]) {
            char tmp[MAX_URL];
            memcpy(tmp, urls[0], MAX_URL);
            memcpy(urls[0], urls[1], MAX_URL);
            memcpy(urls[1], tmp, MAX_URL);
        }
    }
    if ((rc = fetch_first("protected resource metadata", urls, n, &f->prm, err, errlen)) != MCPC_OK)
        return rc;
    /* RFC 9728 section 3.3: the metadata must be about the server we talk to, exactly */
    res = json_object_get(f->prm, "resource");
    if (!json_is_string(res))
        return say(err, errlen, "the protected resource metadata names no resource");
    if (strcmp(json_string_value(res), a->resource) != 0 &&
        !a->flaw[MCPC_RC_FLAW_PRM_RESOURCE_UNCHECKED])
        return say(err, errlen, "refusing the protected resource metadata: it is for %.200s, "
                   "not %.200s", json_string_value(res), a->resource);
    servers = json_object_get(f->prm, "authorization_servers");
    if (!json_is_string(json_array_get(servers, 0)) ||
        json_string_length(json_array_get(servers, 0)) >= sizeof f->issuer)
        return say(err, errlen, "the protected resource metadata names no authorization server");
    snprintf(f->issuer, sizeof f->issuer, "%s", json_string_value(json_array_get(servers, 0)));
    /* the scope: the challenge's, else every scope the resource names */
    if (!challenge || !challenge_param(challenge, "scope", f->scope, sizeof f->scope)) {
        size_t len = 0;
        scopes = json_object_get(f->prm, "scopes_supported");
        json_array_foreach(scopes, i, s) {
            const char *v = json_string_value(s);
            if (v && len + strlen(v) + 2 < sizeof f->scope)
                len += (size_t)snprintf(f->scope + len, sizeof f->scope - len, "%s%s",
                                        len ? " " : "", v);
        }
    }
    return MCPC_OK;
}

/* 2: authorization server metadata, checked (issuer, PKCE, endpoints). */
static mcpc_err find_as(struct mcpc_rc_auth *a, struct flow *f, char *err, size_t errlen)
{
    char urls[MAX_PROBES][MAX_URL], origin[MAX_URL], path[MAX_URL], why[160];
    size_t n = 0, i;
    mcpc_err rc;
    json_t *iss, *methods, *m, *ep;
    bool s256 = false;

    if (split_url(f->issuer, origin, sizeof origin, path, sizeof path) != 0 ||
        strchr(f->issuer, '?') || strchr(f->issuer, '#'))
        return say(err, errlen, "the authorization server %.300s is not an issuer URL", f->issuer);
    if (strcmp(path, "/") == 0)
        path[0] = '\0';
    /* RFC 8414 section 3.1, then OpenID Connect Discovery, in the spec's order */
    if (join3(urls[n++], origin, "/.well-known/oauth-authorization-server", path) ||
        join3(urls[n++], origin, "/.well-known/openid-configuration", path) ||
        (path[0] && join3(urls[n++], origin, path, "/.well-known/openid-configuration")))
        return say(err, errlen, "the issuer URL is too long");
    if ((rc = fetch_first("authorization server metadata", urls, n, &f->asm_, err, errlen)) !=
        MCPC_OK)
        return rc;
    /* RFC 8414 section 3.3: identical, or the document must not be used at all */
    iss = json_object_get(f->asm_, "issuer");
    if ((!json_is_string(iss) || strcmp(json_string_value(iss), f->issuer) != 0) &&
        !a->flaw[MCPC_RC_FLAW_ISSUER_UNCHECKED])
        return say(err, errlen, "refusing the authorization server metadata: its issuer %.200s "
                   "is not %.200s, the issuer it was fetched for",
                   json_is_string(iss) ? json_string_value(iss) : "(none)", f->issuer);
    methods = json_object_get(f->asm_, "code_challenge_methods_supported");
    json_array_foreach(methods, i, m)
        s256 |= json_is_string(m) && strcmp(json_string_value(m), "S256") == 0;
    if (!s256 && !a->flaw[MCPC_RC_FLAW_PKCE_WITHOUT_SUPPORT])
        return say(err, errlen, "refusing to authorize: the authorization server does not "
                   "advertise PKCE S256 (code_challenge_methods_supported)");
    ep = json_object_get(f->asm_, "authorization_endpoint");
    if (!json_is_string(ep) || !json_string_length(ep))
        return say(err, errlen, "the authorization server metadata has no authorization_endpoint");
    if (strlen(json_string_value(ep)) != json_string_length(ep) ||
        (!browsable(json_string_value(ep), why, sizeof why) &&
         !a->flaw[MCPC_RC_FLAW_DANGEROUS_AUTHZ_SCHEME]))
        return say(err, errlen, "refusing to open the authorization endpoint %.200s: %s",
                   json_string_value(ep), why);
    ep = json_object_get(f->asm_, "token_endpoint");
    if (!json_is_string(ep) || !browsable(json_string_value(ep), why, sizeof why))
        return say(err, errlen, "unusable token_endpoint in the authorization server metadata");
    return MCPC_OK;
}

/* Random bytes as base64url into out (2 * n bytes at least). 0 or -1. */
static int random_b64(unsigned char *buf, size_t n, char *out)
{
    if (RAND_bytes(buf, (int)n) != 1) {
        ERR_clear_error();
        return -1;
    }
    mcpc_b64url_encode_to(buf, n, out);
    return 0;
}

/* 3: the authorization URL into url (MAX_URL bytes). */
static mcpc_err build_authz_url(struct mcpc_rc_auth *a, struct flow *f, char *url, char *err,
                                size_t errlen)
{
    const char *ep = json_string_value(json_object_get(f->asm_, "authorization_endpoint"));
    unsigned char rnd[32], md[32];
    unsigned int mdlen = 0;
    char challenge[48];
    size_t len;
    bool plain = a->flaw[MCPC_RC_FLAW_PKCE_PLAIN];

    /* RFC 7636: 32 random bytes make a 43-character verifier of unreserved characters */
    if (random_b64(rnd, 32, f->verifier) != 0 || random_b64(rnd, 16, f->state) != 0)
        return say(err, errlen, "no randomness for PKCE and state");
    if (EVP_Digest(f->verifier, strlen(f->verifier), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32) {
        ERR_clear_error();
        return say(err, errlen, "SHA-256 failed");
    }
    mcpc_b64url_encode_to(md, 32, challenge);
    len = (size_t)snprintf(url, MAX_URL, "%s", ep);
    if (len >= MAX_URL - 2)
        return say(err, errlen, "the authorization endpoint is too long");
    if (!strchr(url, '?'))
        url[len++] = '?', url[len] = '\0';
    if (put_param(url, MAX_URL, &len, "response_type", "code") ||
        put_param(url, MAX_URL, &len, "client_id", a->client_id) ||
        put_param(url, MAX_URL, &len, "redirect_uri", a->redirect_uri) ||
        put_param(url, MAX_URL, &len, "code_challenge", plain ? f->verifier : challenge) ||
        put_param(url, MAX_URL, &len, "code_challenge_method", plain ? "plain" : "S256") ||
        put_param(url, MAX_URL, &len, "state", f->state) ||
        (f->scope[0] && put_param(url, MAX_URL, &len, "scope", f->scope)) ||
        (!a->flaw[MCPC_RC_FLAW_NO_RESOURCE_PARAM] &&
         put_param(url, MAX_URL, &len, "resource", a->resource)))
        return say(err, errlen, "the authorization URL would be over %d bytes", MAX_URL);
    return MCPC_OK;
}

/* 4: hand url to the browser command; its first stdout line (the Location) into loc. */
static mcpc_err open_browser(struct mcpc_rc_auth *a, const char *url, char *loc, size_t loclen,
                             char *err, size_t errlen)
{
    mcpc_stdio_limits lim;
    mcpc_stdio *io = NULL;
    const char *line;
    size_t len = 0;
    char **argv;
    mcpc_err rc;

    if (!a->browser)
        return say(err, errlen, "the context names no browser to authorize with");
    if (!(argv = calloc(a->browser_n + 2, sizeof *argv)))
        return say(err, errlen, "out of memory");
    memcpy(argv, a->browser, a->browser_n * sizeof *argv);
    argv[a->browser_n] = (char *)url;   /* an argument of its own: no shell ever sees it */
    mcpc_stdio_limits_default(&lim);
    lim.max_line = loclen - 1;
    lim.max_total = 8192;
    lim.stderr_keep = 2048;
    rc = mcpc_stdio_spawn(argv, NULL, &lim, &io, err, errlen);
    free(argv);
    if (rc != MCPC_OK)
        return rc;
    mcpc_stdio_close_stdin(io);
    rc = mcpc_stdio_read_line(io, BROWSER_MS, &line, &len);
    if ((rc == MCPC_OK || rc == MCPC_ERR_EOF) && len && len < loclen) {
        memcpy(loc, line, len);
        loc[len] = '\0';
        if (len && loc[len - 1] == '\r')
            loc[len - 1] = '\0';
        rc = MCPC_OK;
    } else {
        rc = say(err, errlen, "the browser gave no redirect back (%s)",
                 mcpc_stdio_exited(io) ? mcpc_stdio_exit_text(io, &(int){ 0 }) : "no output");
    }
    if (rc == MCPC_OK && mcpc_stdio_wait_exit(io, BROWSER_MS) == MCPC_OK) {
        const char *t = mcpc_stdio_exit_text(io, &(int){ 0 });
        if (strcmp(t, "exited with status 0") != 0)
            rc = say(err, errlen, "the browser %s", t);
    }
    mcpc_stdio_free(io);                 /* stops it if it is still running */
    return rc;
}

/* 5: the authorization response in loc: state, iss, then the code into code. */
static mcpc_err read_response(struct mcpc_rc_auth *a, struct flow *f, const char *loc,
                              char *code, size_t codelen, char *err, size_t errlen)
{
    size_t rl = strlen(a->redirect_uri);
    char state[256], iss[MAX_URL], error[256];
    const char *q;
    int has_iss;
    json_t *adv = json_object_get(f->asm_, "authorization_response_iss_parameter_supported");

    if (strncmp(loc, a->redirect_uri, rl) != 0 || (loc[rl] != '?' && loc[rl] != '\0') ||
        strchr(a->redirect_uri, '?'))
        return say(err, errlen, "the authorization response goes to %.200s, not to our "
                   "redirect URI", loc);
    q = loc[rl] ? loc + rl + 1 : "";
    if (strchr(q, '#'))
        return say(err, errlen, "the authorization response has a fragment");
    if (query_param(q, "state", state, sizeof state) != 1 || strcmp(state, f->state) != 0)
        return say(err, errlen, "the authorization response does not carry our state");
    /* RFC 9207 section 2.4, before anything else of the response is acted upon (an error too):
     * byte-for-byte equality with the issuer we used, no normalisation */
    has_iss = query_param(q, "iss", iss, sizeof iss);
    if (!a->flaw[MCPC_RC_FLAW_ISS_UNCHECKED]) {
        if (has_iss < 0)
            return say(err, errlen, "the authorization response has a malformed iss");
        if (has_iss == 1 && strcmp(iss, f->issuer) != 0)
            return say(err, errlen, "refusing the authorization response: iss %.200s is not "
                       "%.200s", iss, f->issuer);
        if (has_iss == 0 && json_is_true(adv))
            return say(err, errlen, "refusing the authorization response: no iss, although the "
                       "authorization server says it sends one");
    }
    if (query_param(q, "error", error, sizeof error) == 1)
        return say(err, errlen, "the authorization server refused: %.200s", error);
    if (query_param(q, "code", code, codelen) != 1 || !code[0])
        return say(err, errlen, "the authorization response has no code");
    return MCPC_OK;
}

/* 6: redeem the code. */
static mcpc_err redeem(struct mcpc_rc_auth *a, struct flow *f, const char *code, char *err,
                       size_t errlen)
{
    const char *ep = json_string_value(json_object_get(f->asm_, "token_endpoint"));
    char form[MAX_URL] = "";
    size_t len = 0;
    long status;
    json_t *doc = NULL, *tok, *type;
    mcpc_err rc;

    if (put_param(form, sizeof form, &len, "grant_type", "authorization_code") ||
        put_param(form, sizeof form, &len, "code", code) ||
        put_param(form, sizeof form, &len, "redirect_uri", a->redirect_uri) ||
        put_param(form, sizeof form, &len, "client_id", a->client_id) ||
        put_param(form, sizeof form, &len, "code_verifier", f->verifier) ||
        (!a->flaw[MCPC_RC_FLAW_NO_RESOURCE_PARAM] &&
         put_param(form, sizeof form, &len, "resource", a->resource)))
        return say(err, errlen, "the token request would be too long");
    if ((rc = fetch(ep, form, &status, &doc, err, errlen)) != MCPC_OK)
        return rc;
    tok = json_object_get(doc, "access_token");
    type = json_object_get(doc, "token_type");
    if (status != 200 || !json_is_string(tok) || !json_is_string(type)) {
        const char *e = json_string_value(json_object_get(doc, "error"));
        const char *d = json_string_value(json_object_get(doc, "error_description"));
        rc = say(err, errlen, "the token request failed: HTTP %ld %s%s%.200s", status,
                 e ? e : "", d ? ": " : "", d ? d : "");
        goto out;
    }
    if (strcasecmp(json_string_value(type), "Bearer") != 0 || !json_string_length(tok) ||
        json_string_length(tok) > MAX_TOKEN ||
        strspn(json_string_value(tok), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-._~+/=") != json_string_length(tok)) {
        rc = say(err, errlen, "the token response holds no usable Bearer token");
        goto out;
    }
    free(a->token);
    if (!(a->token = strdup(json_string_value(tok))))
        rc = say(err, errlen, "out of memory");
out:
    json_decref(doc);
    return rc;
}

/* ---- the interface ------------------------------------------------------------------------ */

mcpc_err mcpc_rc_auth_new(json_t *ctx, const char *server_url, const bool *flaw,
                          struct mcpc_rc_auth **out, char *err, size_t errlen)
{
    json_t *oauth = json_object_get(ctx, "oauth"), *browser = json_object_get(ctx, "browser");
    json_t *args = json_object_get(browser, "args"), *v;
    const char *cid = json_string_value(json_object_get(oauth, "client_id"));
    const char *ruri = json_string_value(json_object_get(oauth, "redirect_uri"));
    const char *cmd = json_string_value(json_object_get(browser, "command"));
    struct mcpc_rc_auth *a;
    size_t i;

    *out = NULL;
    if (!oauth)
        return MCPC_OK;
    if (!cid || !*cid || !ruri || !*ruri) {
        snprintf(err, errlen, "MCPC_CONTEXT: oauth needs client_id and redirect_uri (strings)");
        return MCPC_ERR_USAGE;
    }
    if (browser && (!cmd || !*cmd || (args && !json_is_array(args)))) {
        snprintf(err, errlen, "MCPC_CONTEXT: browser needs command (a string) and args (strings)");
        return MCPC_ERR_USAGE;
    }
    if (!(a = calloc(1, sizeof *a)))
        goto nomem;
    a->flaw = flaw;
    a->client_id = strdup(cid);
    a->redirect_uri = strdup(ruri);
    /* the canonical server URI: the endpoint without query or fragment */
    a->resource = strndup(server_url, strcspn(server_url, "?#"));
    if (!a->client_id || !a->redirect_uri || !a->resource)
        goto nomem;
    if (browser) {
        a->browser_n = json_array_size(args) + 1;
        if (!(a->browser = calloc(a->browser_n + 1, sizeof *a->browser)) ||
            !(a->browser[0] = strdup(cmd)))
            goto nomem;
        json_array_foreach(args, i, v) {
            if (!json_is_string(v)) {
                mcpc_rc_auth_free(a);
                snprintf(err, errlen, "MCPC_CONTEXT: browser.args holds a non-string");
                return MCPC_ERR_USAGE;
            }
            if (!(a->browser[i + 1] = strdup(json_string_value(v))))
                goto nomem;
        }
    }
    *out = a;
    return MCPC_OK;
nomem:
    mcpc_rc_auth_free(a);
    snprintf(err, errlen, "out of memory");
    return MCPC_ERR_NOMEM;
}

void mcpc_rc_auth_free(struct mcpc_rc_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; a->browser && i < a->browser_n; i++)
        free(a->browser[i]);
    free(a->browser);
    free(a->client_id);
    free(a->redirect_uri);
    free(a->resource);
    free(a->token);
    free(a);
}

const char *mcpc_rc_auth_token(const struct mcpc_rc_auth *a)
{
    return a ? a->token : NULL;
}

mcpc_err mcpc_rc_auth_authorize(struct mcpc_rc_auth *a, const char *challenge, char *err,
                                size_t errlen)
{
    struct flow f;
    char url[MAX_URL], loc[MAX_URL], code[1024];
    mcpc_err rc;

    memset(&f, 0, sizeof f);
    err[0] = '\0';
    /* one authorization, and one more for a token the server then refused: no loop */
    if (++a->authorizations > 2)
        return say(err, errlen, "the server still refuses after two authorizations");
    if (!challenge || !challenge_param(challenge, NULL, NULL, 0))
        return say(err, errlen, "HTTP 401 without a Bearer challenge");
    if ((rc = find_prm(a, challenge, &f, err, errlen)) != MCPC_OK ||
        (rc = find_as(a, &f, err, errlen)) != MCPC_OK ||
        (rc = build_authz_url(a, &f, url, err, errlen)) != MCPC_OK ||
        (rc = open_browser(a, url, loc, sizeof loc, err, errlen)) != MCPC_OK ||
        (rc = read_response(a, &f, loc, code, sizeof code, err, errlen)) != MCPC_OK ||
        (rc = redeem(a, &f, code, err, errlen)) != MCPC_OK)
        goto out;
    fprintf(stderr, "refclient: authorized at %.200s\n", f.issuer);
out:
    json_decref(f.prm);
    json_decref(f.asm_);
    OPENSSL_cleanse(f.verifier, sizeof f.verifier);
    return rc;
}

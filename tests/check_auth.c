/* Unit tests for the embedded authorization server (harness/authserver.c), DPoP proofs
 * (harness/dpop.c), the token battery (harness/token_battery.c) and the mock upstream API
 * (harness/upstream_mock.c).
 *
 * The client side is libcurl's easy API with redirects not followed, so each test sees the AS's
 * own answers. Every server binds 127.0.0.1 on an ephemeral port and is stopped by the test or
 * the teardown. The battery is judged by a small resource-server verifier written here from the
 * rules of docs/auth.md §3, which must refuse each bad entry for the reason the battery names. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authserver.h"
#include "b64url.h"
#include "dpop.h"
#include "jcs.h"
#include "jose.h"
#include "token_battery.h"
#include "upstream_mock.h"

#define RESOURCE "http://127.0.0.1:8080/mcp"
#define REDIRECT "http://127.0.0.1:45999/callback"

static mcpc_as *AS;             /* stopped by teardown */
static mcpc_upstream *UP;

static void setup(void)
{
    char err[256];
    mcpc_err rc = mcpc_as_start(NULL, &AS, err, sizeof err);

    ck_assert_msg(rc == MCPC_OK, "mcpc_as_start: %s", err);
}

static void teardown(void)
{
    mcpc_as_stop(AS);
    AS = NULL;
    mcpc_upstream_stop(UP);
    UP = NULL;
}

/* ---- a tiny HTTP client ------------------------------------------------------------------- */

struct resp {
    long status;
    char body[65536];
    size_t len;
    char location[4096];
    char www_auth[512];
    char ctype[128];
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * n, room = sizeof r->body - 1 - r->len;

    memcpy(r->body + r->len, p, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

/* Keep the value of one response header into dst (trailing CR LF cut). */
static void keep_header(const char *line, size_t n, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name), vl;

    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    line += nl + 1;
    n -= nl + 1;
    while (n && *line == ' ') {
        line++;
        n--;
    }
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    vl = n < cap - 1 ? n : cap - 1;
    memcpy(dst, line, vl);
    dst[vl] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;

    keep_header(p, sz * n, "location", r->location, sizeof r->location);
    keep_header(p, sz * n, "www-authenticate", r->www_auth, sizeof r->www_auth);
    keep_header(p, sz * n, "content-type", r->ctype, sizeof r->ctype);
    return sz * n;
}

/* One request; body non-NULL makes it a POST of that form (Content-Type form-urlencoded unless
 * a header in extra says otherwise). */
static void http(const char *method, const char *url, const char *body, struct curl_slist *extra,
                 struct resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    CURLcode cc;
    int has_ct = 0;

    memset(r, 0, sizeof *r);
    ck_assert_ptr_nonnull(c);
    for (struct curl_slist *e = extra; e; e = e->next) {
        h = curl_slist_append(h, e->data);
        if (strncasecmp(e->data, "content-type:", 13) == 0)
            has_ct = 1;
    }
    if (body && !has_ct)
        h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    cc = curl_easy_perform(c);
    ck_assert_msg(cc == CURLE_OK, "%s: %s", url, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void get(const char *path, struct resp *r)
{
    char url[4096];

    snprintf(url, sizeof url, "%s%s", mcpc_as_issuer(AS), path);
    http(NULL, url, NULL, NULL, r);
}

/* POST form to /token with optional extra headers (a NULL-terminated list). */
static void token_post(const char *form, const char *const *headers, struct resp *r)
{
    struct curl_slist *h = NULL;

    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    http(NULL, mcpc_as_token_endpoint(AS), form, h, r);
    curl_slist_free_all(h);
}

/* The body as JSON (new reference; the test fails when it is not). */
static json_t *body_json(const struct resp *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, 0, &je);

    ck_assert_msg(j != NULL, "not JSON: %s", r->body);
    return j;
}

/* The "error" member of an error answer must be want, with the given status. */
static void expect_error(const struct resp *r, long status, const char *want)
{
    json_t *j = body_json(r);

    ck_assert_msg(r->status == status, "status %ld, %ld expected: %s", r->status, status, r->body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), want);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "error_description")));
    json_decref(j);
}

/* The query parameters of a redirect Location (new object). */
static json_t *location_params(const char *loc)
{
    const char *q = strchr(loc, '?');
    json_t *p = NULL;
    char err[128];

    ck_assert_msg(q != NULL, "no query in %s", loc);
    ck_assert_msg(mcpc_as_form_parse(q + 1, strlen(q + 1), &p, err, sizeof err) == MCPC_OK,
                  "%s: %s", loc, err);
    return p;
}

/* ---- PKCE and the code flow --------------------------------------------------------------- */

#define VERIFIER "mcpcert-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"

static void challenge_of(const char *verifier, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;

    ck_assert_int_eq(EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL), 1);
    mcpc_b64url_encode_to(md, 32, out);
}

/* GET /authorize with the given extra query (appended raw); returns the response. */
static void authorize(const char *extra, struct resp *r)
{
    char path[2048];

    snprintf(path, sizeof path, "/authorize?%s", extra);
    get(path, r);
}

/* Run /authorize for the public client with S256 and return the code (new string). */
static char *obtain_code(const char *resource)
{
    char q[1024], chal[44];
    struct resp r;
    json_t *p;
    char *code;

    challenge_of(VERIFIER, chal);
    snprintf(q, sizeof q,
             "response_type=code&client_id=mcpcert-client&redirect_uri=%s&state=xyz"
             "&code_challenge=%s&code_challenge_method=S256&scope=mcp%%3Atools%s%s",
             "http%3A%2F%2F127.0.0.1%3A45999%2Fcallback", chal, resource ? "&resource=" : "",
             resource ? resource : "");
    authorize(q, &r);
    ck_assert_msg(r.status == 302, "authorize: %ld %s", r.status, r.body);
    ck_assert_msg(strncmp(r.location, REDIRECT "?", strlen(REDIRECT) + 1) == 0, "Location %s",
                  r.location);
    p = location_params(r.location);
    ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "xyz");
    ck_assert_str_eq(json_string_value(json_object_get(p, "iss")), mcpc_as_issuer(AS));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(p, "code")));
    code = strdup(json_string_value(json_object_get(p, "code")));
    json_decref(p);
    return code;
}

static void redeem(const char *code, const char *verifier, const char *extra, struct resp *r)
{
    char form[2048];

    snprintf(form, sizeof form,
             "grant_type=authorization_code&client_id=mcpcert-client&code=%s&code_verifier=%s"
             "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A45999%%2Fcallback%s",
             code, verifier, extra ? extra : "");
    token_post(form, NULL, r);
}

#define RESOURCE_ENC "http%3A%2F%2F127.0.0.1%3A8080%2Fmcp"

START_TEST(test_metadata)
{
    struct resp r;
    json_t *md, *served, *v;
    char want[128];

    get("/.well-known/oauth-authorization-server", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.ctype, "application/json");
    md = body_json(&r);
    ck_assert_str_eq(json_string_value(json_object_get(md, "issuer")), mcpc_as_issuer(AS));
    snprintf(want, sizeof want, "%s/authorize", mcpc_as_issuer(AS));
    ck_assert_str_eq(json_string_value(json_object_get(md, "authorization_endpoint")), want);
    ck_assert_str_eq(json_string_value(json_object_get(md, "token_endpoint")),
                     mcpc_as_token_endpoint(AS));
    ck_assert_str_eq(json_string_value(json_object_get(md, "jwks_uri")), mcpc_as_jwks_uri(AS));
    v = json_pack("[s]", "code");
    ck_assert(json_equal(json_object_get(md, "response_types_supported"), v));
    json_decref(v);
    v = json_pack("[s,s,s]", "authorization_code", "client_credentials",
                  MCPC_AS_GRANT_TOKEN_EXCHANGE);
    ck_assert(json_equal(json_object_get(md, "grant_types_supported"), v));
    json_decref(v);
    v = json_pack("[s]", "S256");
    ck_assert(json_equal(json_object_get(md, "code_challenge_methods_supported"), v));
    json_decref(v);
    v = json_pack("[s,s]", "mcp:tools", "mcp:write");
    ck_assert(json_equal(json_object_get(md, "scopes_supported"), v));
    json_decref(v);
    ck_assert(json_is_array(json_object_get(md, "token_endpoint_auth_methods_supported")));
    ck_assert(json_is_array(json_object_get(md, "dpop_signing_alg_values_supported")));
    ck_assert(json_is_true(json_object_get(md, "authorization_response_iss_parameter_supported")));
    served = mcpc_as_metadata(AS);
    ck_assert(json_equal(served, md));
    json_decref(served);
    json_decref(md);
    /* other paths and methods */
    get("/nothing", &r);
    ck_assert_int_eq(r.status, 404);
    token_post("x=1", NULL, &r); /* sanity: the token endpoint is up */
    ck_assert_int_eq(r.status, 400);
    {
        char url[256];
        snprintf(url, sizeof url, "%s/jwks", mcpc_as_issuer(AS));
        http("POST", url, "a=b", NULL, &r);
        ck_assert_int_eq(r.status, 405);
    }
}
END_TEST

START_TEST(test_metadata_variants)
{
    mcpc_as_opts o;
    mcpc_as *as2;
    json_t *md, *ov;
    char err[256], want[128];

    mcpc_as_opts_default(&o);
    o.metadata = MCPC_AS_META_NO_PKCE_METHODS;
    ck_assert_int_eq(mcpc_as_start(&o, &as2, err, sizeof err), MCPC_OK);
    md = mcpc_as_metadata(as2);
    ck_assert_ptr_null(json_object_get(md, "code_challenge_methods_supported"));
    json_decref(md);
    mcpc_as_stop(as2);

    o.metadata = MCPC_AS_META_ISSUER_MISMATCH;
    ck_assert_int_eq(mcpc_as_start(&o, &as2, err, sizeof err), MCPC_OK);
    md = mcpc_as_metadata(as2);
    snprintf(want, sizeof want, "%s/other-issuer", mcpc_as_issuer(as2));
    ck_assert_str_eq(json_string_value(json_object_get(md, "issuer")), want);
    json_decref(md);
    mcpc_as_stop(as2);

    o.metadata = MCPC_AS_META_DANGEROUS_AUTHZ;
    o.dangerous_authz = "file:///etc/passwd";
    ov = json_pack("{s:n, s:s}", "scopes_supported", "extra", "yes");
    o.metadata_override = ov;
    ck_assert_int_eq(mcpc_as_start(&o, &as2, err, sizeof err), MCPC_OK);
    md = mcpc_as_metadata(as2);
    ck_assert_str_eq(json_string_value(json_object_get(md, "authorization_endpoint")),
                     "file:///etc/passwd");
    ck_assert_ptr_null(json_object_get(md, "scopes_supported"));
    ck_assert_str_eq(json_string_value(json_object_get(md, "extra")), "yes");
    json_decref(md);
    mcpc_as_stop(as2);
    json_decref(ov);

    /* tokens signed with the Ed25519 key verify against the same JWKS */
    mcpc_as_opts_default(&o);
    o.sign_alg = MCPC_JOSE_EDDSA;
    ck_assert_int_eq(mcpc_as_start(&o, &as2, err, sizeof err), MCPC_OK);
    {
        char *tok = mcpc_as_mint_access(as2, RESOURCE, NULL, 300, (long long)time(NULL));
        json_t *jwks = mcpc_as_jwks(as2), *h = NULL, *c = NULL;
        ck_assert_int_eq(mcpc_jose_verify(tok, jwks, "at+jwt", &c, err, sizeof err), MCPC_JOSE_OK);
        ck_assert_int_eq(mcpc_jose_peek(tok, &h, NULL, err, sizeof err), MCPC_JOSE_OK);
        ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "EdDSA");
        ck_assert_str_eq(json_string_value(json_object_get(c, "scope")), "mcp:tools");
        json_decref(h);
        json_decref(c);
        json_decref(jwks);
        free(tok);
    }
    mcpc_as_stop(as2);

    /* bad options are refused */
    mcpc_as_opts_default(&o);
    o.default_scope = "admin";
    ck_assert_int_eq(mcpc_as_start(&o, &as2, err, sizeof err), MCPC_ERR_USAGE);
    ck_assert_ptr_null(as2);
}
END_TEST

START_TEST(test_fixed_port)
{
    mcpc_as_opts o;
    mcpc_as *as2 = NULL;
    char err[256], want[64];
    unsigned port = mcpc_as_port(AS);

    /* the port in use is refused; after stopping, it can be had again */
    mcpc_as_opts_default(&o);
    o.port = port;
    ck_assert_int_eq(mcpc_as_start(&o, &as2, err, sizeof err), MCPC_ERR_IO);
    mcpc_as_stop(AS);
    AS = NULL;
    ck_assert_int_eq(mcpc_as_start(&o, &AS, err, sizeof err), MCPC_OK);
    snprintf(want, sizeof want, "http://127.0.0.1:%u", port);
    ck_assert_str_eq(mcpc_as_issuer(AS), want);
    snprintf(want, sizeof want, "http://127.0.0.1:%u/jwks", port);
    ck_assert_str_eq(mcpc_as_jwks_uri(AS), want);
}
END_TEST

START_TEST(test_jwks)
{
    struct resp r;
    json_t *jwks, *keys, *copy;
    int ec = 0, okp = 0;

    get("/jwks", &r);
    ck_assert_int_eq(r.status, 200);
    jwks = body_json(&r);
    keys = json_object_get(jwks, "keys");
    ck_assert_int_eq(json_array_size(keys), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *k = json_array_get(keys, i);
        const char *kty = json_string_value(json_object_get(k, "kty"));
        const char *crv = json_string_value(json_object_get(k, "crv"));
        ck_assert_ptr_null(json_object_get(k, "d"));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(k, "kid")));
        if (strcmp(kty, "EC") == 0 && strcmp(crv, "P-256") == 0)
            ec++;
        if (strcmp(kty, "OKP") == 0 && strcmp(crv, "Ed25519") == 0)
            okp++;
    }
    ck_assert_int_eq(ec, 1);
    ck_assert_int_eq(okp, 1);
    copy = mcpc_as_jwks(AS);
    ck_assert(json_equal(copy, jwks));
    json_decref(copy);
    json_decref(jwks);
}
END_TEST

START_TEST(test_code_flow)
{
    struct resp r;
    json_t *tr, *jwks, *claims = NULL, *hdr = NULL;
    mcpc_jose_claims_rules rules = { 0 };
    char *code = obtain_code(RESOURCE_ENC), err[256];
    const char *at;

    redeem(code, VERIFIER, NULL, &r);
    ck_assert_msg(r.status == 200, "token: %ld %s", r.status, r.body);
    tr = body_json(&r);
    ck_assert_str_eq(json_string_value(json_object_get(tr, "token_type")), "Bearer");
    ck_assert_int_eq(json_integer_value(json_object_get(tr, "expires_in")), 300);
    ck_assert_str_eq(json_string_value(json_object_get(tr, "scope")), "mcp:tools");
    at = json_string_value(json_object_get(tr, "access_token"));
    ck_assert_ptr_nonnull(at);

    /* the token verifies against the JWKS as served */
    get("/jwks", &r);
    jwks = body_json(&r);
    ck_assert_msg(mcpc_jose_verify(at, jwks, "at+jwt", &claims, err, sizeof err) == MCPC_JOSE_OK,
                  "%s", err);
    ck_assert_int_eq(mcpc_jose_peek(at, &hdr, NULL, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(hdr, "alg")), "ES256");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "aud")), RESOURCE);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "client_id")), "mcpcert-client");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), MCPC_AS_USER);
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "exp")) -
                         json_integer_value(json_object_get(claims, "iat")),
                     300);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(claims, "jti")));
    rules.issuer = mcpc_as_issuer(AS);
    rules.audience = RESOURCE;
    rules.scope = "mcp:tools";
    ck_assert_msg(mcpc_jose_claims_verify(claims, (long long)time(NULL), &rules, err, sizeof err) ==
                      MCPC_JOSE_OK,
                  "%s", err);
    rules.scope = "mcp:write";
    ck_assert_int_eq(
        mcpc_jose_claims_verify(claims, (long long)time(NULL), &rules, err, sizeof err),
        MCPC_JOSE_E_SCOPE);

    /* a code is good once */
    redeem(code, VERIFIER, NULL, &r);
    expect_error(&r, 400, "invalid_grant");
    json_decref(hdr);
    json_decref(claims);
    json_decref(jwks);
    json_decref(tr);
    free(code);
}
END_TEST

START_TEST(test_code_wrong_verifier_burns_code)
{
    struct resp r;
    char *code = obtain_code(NULL);

    redeem(code, "mcpcert-wrong-verifier-0123456789-abcdefghijklmnopqrstuvwxyz", NULL, &r);
    expect_error(&r, 400, "invalid_grant");
    redeem(code, VERIFIER, NULL, &r); /* no second try */
    expect_error(&r, 400, "invalid_grant");
    free(code);

    /* a malformed verifier (too short) */
    code = obtain_code(NULL);
    redeem(code, "short", NULL, &r);
    expect_error(&r, 400, "invalid_request");
    free(code);
}
END_TEST

START_TEST(test_code_checks_at_token)
{
    struct resp r;
    char *code, form[1024];

    /* no resource anywhere and no default: invalid_target */
    code = obtain_code(NULL);
    redeem(code, VERIFIER, NULL, &r);
    expect_error(&r, 400, "invalid_target");
    free(code);

    /* resource at the token endpoint alone is enough */
    code = obtain_code(NULL);
    redeem(code, VERIFIER, "&resource=" RESOURCE_ENC, &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    free(code);

    /* a resource other than the authorization request's */
    code = obtain_code(RESOURCE_ENC);
    redeem(code, VERIFIER, "&resource=http%3A%2F%2F127.0.0.1%3A8080%2Fother", &r);
    expect_error(&r, 400, "invalid_target");
    free(code);

    /* another redirect_uri */
    code = obtain_code(RESOURCE_ENC);
    snprintf(form, sizeof form,
             "grant_type=authorization_code&client_id=mcpcert-client&code=%s&code_verifier=%s"
             "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A45998%%2Fcallback",
             code, VERIFIER);
    token_post(form, NULL, &r);
    expect_error(&r, 400, "invalid_grant");
    free(code);

    /* an unknown code */
    redeem("no-such-code", VERIFIER, NULL, &r);
    expect_error(&r, 400, "invalid_grant");
}
END_TEST

START_TEST(test_authorize_refusals)
{
    struct resp r;
    json_t *p;
    char chal[44], q[1024];
    static const char *const redirected[][2] = {
        /* PKCE missing, plain, method missing; other response types; unknown scope; "@" stands
         * for a good challenge */
        { "response_type=code&code_challenge_method=S256", "invalid_request" },
        { "response_type=code&code_challenge=@&code_challenge_method=plain", "invalid_request" },
        { "response_type=code&code_challenge=@", "invalid_request" },
        { "response_type=code&code_challenge=short&code_challenge_method=S256", "invalid_request" },
        { "response_type=token&code_challenge=@&code_challenge_method=S256",
          "unsupported_response_type" },
        { "response_type=code&code_challenge=@&code_challenge_method=S256&scope=admin",
          "invalid_scope" },
        { "response_type=code&code_challenge=@&code_challenge_method=S256&resource=urn%3Ax",
          "invalid_target" },
    };
    static const char *const refused[] = {
        /* no redirect to where the client could not be trusted */
        "response_type=code&client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb",
        "response_type=code&client_id=mcpcert-client&redirect_uri=http%3A%2F%2Fevil.example%2Fcb",
        "response_type=code&client_id=mcpcert-client"
        "&redirect_uri=http%3A%2F%2F127.0.0.1.evil.example%2Fcb",
        "response_type=code&client_id=mcpcert-client"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%40evil.example%2Fcb",
        "response_type=code&client_id=mcpcert-client"
        "&redirect_uri=https%3A%2F%2F127.0.0.1%3A1%2Fcb",
        "response_type=code&client_id=mcpcert-client",
        "response_type=code&client_id=mcpcert-client&client_id=mcpcert-client"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb",
        "response_type=code&client_id=mcpcert-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb"
        "&state=%zz",
    };

    challenge_of(VERIFIER, chal);
    for (size_t i = 0; i < sizeof redirected / sizeof redirected[0]; i++) {
        char part[512];
        const char *at = strchr(redirected[i][0], '@');
        if (at)
            snprintf(part, sizeof part, "%.*s%s%s", (int)(at - redirected[i][0]),
                     redirected[i][0], chal, at + 1);
        else
            snprintf(part, sizeof part, "%s", redirected[i][0]);
        snprintf(q, sizeof q,
                 "client_id=mcpcert-client&redirect_uri=http%%3A%%2F%%2Flocalhost%%3A7%%2Fcb"
                 "&state=s1&%s",
                 part);
        authorize(q, &r);
        ck_assert_msg(r.status == 302, "%s: %ld", q, r.status);
        ck_assert_msg(strncmp(r.location, "http://localhost:7/cb?", 22) == 0, "%s", r.location);
        p = location_params(r.location);
        ck_assert_msg(strcmp(json_string_value(json_object_get(p, "error")), redirected[i][1]) == 0,
                      "%s: error %s", q, json_string_value(json_object_get(p, "error")));
        ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "s1");
        ck_assert_ptr_null(json_object_get(p, "code"));
        json_decref(p);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        authorize(refused[i], &r);
        ck_assert_msg(r.status == 400, "%s: %ld (%s)", refused[i], r.status, r.location);
        ck_assert_str_eq(r.location, "");
    }
    /* [::1] with a port and a query of its own */
    snprintf(q, sizeof q,
             "response_type=code&client_id=mcpcert-client&code_challenge=%s"
             "&code_challenge_method=S256"
             "&redirect_uri=http%%3A%%2F%%2F%%5B%%3A%%3A1%%5D%%3A9%%2Fcb%%3Fa%%3Db",
             chal);
    authorize(q, &r);
    ck_assert_int_eq(r.status, 302);
    ck_assert_msg(strncmp(r.location, "http://[::1]:9/cb?a=b&code=", 27) == 0, "%s", r.location);
}
END_TEST

START_TEST(test_iss_modes)
{
    static const mcpc_as_iss_mode modes[] = { MCPC_AS_ISS_OMIT, MCPC_AS_ISS_WRONG,
                                              MCPC_AS_ISS_CASEFOLD };
    mcpc_as_opts o;
    char err[256], chal[44], q[1024], url[1200];
    struct resp r;
    json_t *p;

    challenge_of(VERIFIER, chal);
    mcpc_as_stop(AS);
    AS = NULL;
    for (size_t i = 0; i < 3; i++) {
        mcpc_as_opts_default(&o);
        o.iss = modes[i];
        ck_assert_int_eq(mcpc_as_start(&o, &AS, err, sizeof err), MCPC_OK);
        snprintf(q, sizeof q,
                 "response_type=code&client_id=mcpcert-client&code_challenge=%s"
                 "&code_challenge_method=S256&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb",
                 chal);
        snprintf(url, sizeof url, "%s/authorize?%s", mcpc_as_issuer(AS), q);
        http(NULL, url, NULL, NULL, &r);
        ck_assert_int_eq(r.status, 302);
        p = location_params(r.location);
        if (modes[i] == MCPC_AS_ISS_OMIT) {
            ck_assert_ptr_null(json_object_get(p, "iss"));
        } else {
            const char *iss = json_string_value(json_object_get(p, "iss"));
            ck_assert_ptr_nonnull(iss);
            ck_assert_str_ne(iss, mcpc_as_issuer(AS));
            if (modes[i] == MCPC_AS_ISS_CASEFOLD)
                ck_assert_int_eq(strcasecmp(iss, mcpc_as_issuer(AS)), 0);
        }
        json_decref(p);
        mcpc_as_stop(AS);
        AS = NULL;
    }
}
END_TEST

/* ---- client credentials, form strictness -------------------------------------------------- */

START_TEST(test_client_credentials)
{
    const char *secret = mcpc_as_client_secret(AS, NULL);
    char *basic_raw, *b64, hdr[512], form[512];
    const char *hdrs[2] = { hdr, NULL };
    struct resp r;
    json_t *tr, *claims = NULL, *jwks = mcpc_as_jwks(AS);
    size_t n;
    EVP_ENCODE_CTX *ectx;
    int outl = 0, tail = 0;

    ck_assert_ptr_nonnull(secret);
    ck_assert_int_ge(strlen(secret), 43);
    ck_assert_ptr_null(mcpc_as_client_secret(AS, MCPC_AS_PUBLIC_CLIENT));
    ck_assert_ptr_eq(mcpc_as_client_secret(AS, "mcpcert-server"), secret);

    /* client_secret_basic */
    n = strlen("mcpcert-server:") + strlen(secret);
    basic_raw = malloc(n + 1);
    snprintf(basic_raw, n + 1, "mcpcert-server:%s", secret);
    b64 = malloc(n * 2 + 8);
    ectx = EVP_ENCODE_CTX_new();
    EVP_EncodeInit(ectx);
    EVP_EncodeUpdate(ectx, (unsigned char *)b64, &outl, (unsigned char *)basic_raw, (int)n);
    EVP_EncodeFinal(ectx, (unsigned char *)b64 + outl, &tail);
    EVP_ENCODE_CTX_free(ectx);
    b64[outl + tail] = '\0';
    for (char *p = b64; *p; p++) /* EVP_Encode wraps lines */
        if (*p == '\n')
            memmove(p, p + 1, strlen(p));
    snprintf(hdr, sizeof hdr, "Authorization: Basic %s", b64);
    token_post("grant_type=client_credentials&resource=" RESOURCE_ENC, hdrs, &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    tr = body_json(&r);
    ck_assert_int_eq(mcpc_jose_verify(json_string_value(json_object_get(tr, "access_token")), jwks,
                                      "at+jwt", &claims, NULL, 0),
                     MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "mcpcert-server");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "client_id")), "mcpcert-server");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "aud")), RESOURCE);
    json_decref(claims);
    json_decref(tr);

    /* client_secret_post */
    snprintf(form, sizeof form,
             "grant_type=client_credentials&client_id=mcpcert-server&client_secret=%s"
             "&resource=%s&scope=mcp%%3Awrite",
             secret, RESOURCE_ENC);
    token_post(form, NULL, &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    tr = body_json(&r);
    ck_assert_str_eq(json_string_value(json_object_get(tr, "scope")), "mcp:write");
    json_decref(tr);

    /* both methods at once */
    token_post(form, hdrs, &r);
    expect_error(&r, 400, "invalid_request");

    /* wrong secrets, public client, nobody */
    snprintf(hdr, sizeof hdr, "Authorization: Basic %s", "bWNwY2VydC1zZXJ2ZXI6d3Jvbmc=");
    token_post("grant_type=client_credentials&resource=" RESOURCE_ENC, hdrs, &r);
    expect_error(&r, 401, "invalid_client");
    ck_assert_str_eq(r.www_auth, "Basic realm=\"mcpcert\"");
    token_post("grant_type=client_credentials&client_id=mcpcert-server&client_secret=wrong"
               "&resource=" RESOURCE_ENC,
               NULL, &r);
    expect_error(&r, 401, "invalid_client");
    token_post("grant_type=client_credentials&client_id=mcpcert-client&resource=" RESOURCE_ENC,
               NULL, &r);
    expect_error(&r, 401, "invalid_client");
    token_post("grant_type=client_credentials&resource=" RESOURCE_ENC, NULL, &r);
    expect_error(&r, 401, "invalid_client");
    token_post("grant_type=password&client_id=mcpcert-client", NULL, &r);
    expect_error(&r, 400, "unsupported_grant_type");

    free(basic_raw);
    free(b64);
    json_decref(jwks);
}
END_TEST

START_TEST(test_form_parse)
{
    static const char *const bad[] = {
        "a=1&a=2", "a=%zz", "a=%2", "a=%00", "a=1&&b=2", "&a=1", "a=1&", "=1", "a=%ff",
        "a=\x01",
    };
    json_t *f = NULL;
    char err[128];
    const char *good = "a=1&b=x+y%2Bz&c&d=%E2%82%AC&e=";
    struct resp r;
    const char *hdrs[] = { "Content-Type: application/json", NULL };

    ck_assert_int_eq(mcpc_as_form_parse(good, strlen(good), &f, err, sizeof err), MCPC_OK);
    ck_assert_str_eq(json_string_value(json_object_get(f, "b")), "x y+z");
    ck_assert_str_eq(json_string_value(json_object_get(f, "c")), "");
    ck_assert_str_eq(json_string_value(json_object_get(f, "d")), "\xE2\x82\xAC");
    ck_assert_str_eq(json_string_value(json_object_get(f, "e")), "");
    json_decref(f);
    ck_assert_int_eq(mcpc_as_form_parse("", 0, &f, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(json_object_size(f), 0);
    json_decref(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(mcpc_as_form_parse(bad[i], strlen(bad[i]), &f, err, sizeof err) ==
                          MCPC_ERR_INVALID,
                      "accepted %s", bad[i]);
        ck_assert_ptr_null(f);
        ck_assert_str_ne(err, "");
    }
    /* the same strictness at the token endpoint */
    token_post("grant_type=client_credentials&grant_type=authorization_code", NULL, &r);
    expect_error(&r, 400, "invalid_request");
    token_post("{\"grant_type\":\"client_credentials\"}", hdrs, &r);
    expect_error(&r, 400, "invalid_request");
}
END_TEST

/* ---- DPoP and token exchange -------------------------------------------------------------- */

START_TEST(test_dpop_proofs)
{
    mcpc_jose_key *k = mcpc_dpop_key_new(), *k2 = mcpc_dpop_key_new();
    long long now = (long long)time(NULL);
    mcpc_dpop_rules rules = { "POST", "https://Example.COM:443/mcp?x=1", "tok", NULL, now, 0 };
    char jkt[44], want[44], err[256], *p, *bad;
    json_t *claims = NULL, *h = NULL;
    mcpc_jose_status js;

    ck_assert_int_eq(mcpc_dpop_thumbprint(k, want), MCPC_OK);
    rules.jkt = want;
    p = mcpc_dpop_proof(k, "POST", "https://example.com/mcp", "tok", now, "id-1");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(mcpc_jose_peek(p, &h, NULL, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(h, "typ")), "dpop+jwt");
    ck_assert_ptr_null(json_object_get(json_object_get(h, "jwk"), "d"));
    json_decref(h);
    ck_assert_msg(mcpc_dpop_verify(p, &rules, jkt, &claims, NULL, err, sizeof err) == MCPC_DPOP_OK,
                  "%s", err);
    ck_assert_str_eq(jkt, want);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "jti")), "id-1");
    json_decref(claims);

    ck_assert(mcpc_dpop_htu_equal("http://a:80/x", "HTTP://A/x#f"));
    ck_assert(mcpc_dpop_htu_equal("http://[::1]:8/", "http://[::1]:8"));
    ck_assert(!mcpc_dpop_htu_equal("http://a/x", "http://a/x-other"));
    ck_assert(!mcpc_dpop_htu_equal("http://a:81/x", "http://a/x"));
    ck_assert(!mcpc_dpop_htu_equal("ftp://a/x", "ftp://a/x"));

    ck_assert_int_eq(mcpc_dpop_verify(NULL, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_MISSING);
    rules.htm = "GET";
    ck_assert_int_eq(mcpc_dpop_verify(p, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_HTM);
    rules.htm = "POST";
    rules.htu = "https://example.com/other";
    ck_assert_int_eq(mcpc_dpop_verify(p, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_HTU);
    rules.htu = "https://example.com/mcp";
    rules.now = now + 301;
    ck_assert_int_eq(mcpc_dpop_verify(p, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_IAT);
    rules.now = now;
    rules.access_token = "other";
    ck_assert_int_eq(mcpc_dpop_verify(p, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_ATH);
    rules.access_token = "tok";
    ck_assert_int_eq(mcpc_dpop_thumbprint(k2, want), MCPC_OK);
    ck_assert_int_eq(mcpc_dpop_verify(p, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_JKT);
    rules.jkt = NULL;
    bad = mcpc_jose_tamper(p, MCPC_JOSE_TAMPER_SIGNATURE);
    ck_assert_int_eq(mcpc_dpop_verify(bad, &rules, NULL, NULL, &js, err, sizeof err),
                     MCPC_DPOP_E_JWS);
    ck_assert_int_eq(js, MCPC_JOSE_E_SIGNATURE);
    free(bad);
    ck_assert_int_eq(mcpc_dpop_verify("a.b", &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_SYNTAX);
    free(p);
    /* an access token (no jwk header) is not a proof */
    p = mcpc_as_mint_access(AS, RESOURCE, NULL, 300, now);
    ck_assert_int_eq(mcpc_dpop_verify(p, &rules, NULL, NULL, NULL, err, sizeof err),
                     MCPC_DPOP_E_JWK);
    free(p);
    mcpc_jose_key_free(k);
    mcpc_jose_key_free(k2);
}
END_TEST

/* A token-exchange form for subject, asking a per-call token for tool/args. */
static void exchange_form(char *form, size_t cap, const char *subject, const char *details)
{
    char *enc = curl_easy_escape(NULL, details, 0);

    snprintf(form, cap,
             "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Atoken-exchange"
             "&subject_token=%s&subject_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type"
             "%%3Aaccess_token&requested_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type"
             "%%3Ajwt&resource=%s&authorization_details=%s",
             subject, RESOURCE_ENC, enc);
    curl_free(enc);
}

START_TEST(test_token_exchange)
{
    long long now = (long long)time(NULL);
    mcpc_jose_key *k = mcpc_dpop_key_new();
    json_t *args = json_pack("{s:s, s:i}", "path", "/tmp/x", "n", 1), *tr, *claims = NULL, *ad;
    json_t *jwks = mcpc_as_jwks(AS);
    char digest[44], jkt[44], details[256], form[8192], hdr[2048], err[256];
    const char *hdrs[2] = { hdr, NULL };
    char *subject = mcpc_as_mint_access(AS, RESOURCE, "mcp:tools mcp:write", 300, now);
    char *proof, *expired, *tampered;
    struct resp r;
    const char *tok;

    ck_assert_int_eq(mcpc_jcs_sha256_b64url(args, digest), MCPC_OK);
    ck_assert_int_eq(mcpc_dpop_thumbprint(k, jkt), MCPC_OK);
    snprintf(details, sizeof details,
             "[{\"type\":\"mcps_tool_call\",\"tool\":\"read_file\",\"args_sha256\":\"%s\"}]",
             digest);
    exchange_form(form, sizeof form, subject, details);

    proof = mcpc_dpop_proof(k, "POST", mcpc_as_token_endpoint(AS), NULL, now, NULL);
    snprintf(hdr, sizeof hdr, "DPoP: %s", proof);
    token_post(form, hdrs, &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    tr = body_json(&r);
    ck_assert_str_eq(json_string_value(json_object_get(tr, "token_type")), "DPoP");
    ck_assert_str_eq(json_string_value(json_object_get(tr, "issued_token_type")), MCPC_AS_TT_JWT);
    ck_assert_int_eq(json_integer_value(json_object_get(tr, "expires_in")), 60);
    tok = json_string_value(json_object_get(tr, "access_token"));
    ck_assert_msg(mcpc_jose_verify(tok, jwks, "mcps-call+jwt", &claims, err, sizeof err) ==
                      MCPC_JOSE_OK,
                  "%s", err);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt")),
                     jkt);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "aud")), RESOURCE);
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "exp")) -
                         json_integer_value(json_object_get(claims, "iat")),
                     60);
    ad = json_array_get(json_object_get(claims, "authorization_details"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ad, "type")), "mcps_tool_call");
    ck_assert_str_eq(json_string_value(json_object_get(ad, "tool")), "read_file");
    ck_assert_str_eq(json_string_value(json_object_get(ad, "args_sha256")), digest);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), MCPC_AS_USER);
    ck_assert_ptr_null(json_object_get(claims, "act")); /* no client authenticated */
    json_decref(claims);
    json_decref(tr);

    /* the same proof again: replay */
    token_post(form, hdrs, &r);
    expect_error(&r, 400, "invalid_dpop_proof");
    free(proof);

    /* no proof; a proof for another URL */
    token_post(form, NULL, &r);
    expect_error(&r, 400, "invalid_dpop_proof");
    proof = mcpc_dpop_proof(k, "POST", "http://127.0.0.1:1/token", NULL, now, NULL);
    snprintf(hdr, sizeof hdr, "DPoP: %s", proof);
    free(proof);
    token_post(form, hdrs, &r);
    expect_error(&r, 400, "invalid_dpop_proof");

    /* bad subjects: expired, tampered */
    expired = mcpc_as_mint_access(AS, RESOURCE, NULL, 300, now - 1000);
    tampered = mcpc_jose_tamper(subject, MCPC_JOSE_TAMPER_PAYLOAD);
    for (int i = 0; i < 2; i++) {
        exchange_form(form, sizeof form, i ? tampered : expired, details);
        proof = mcpc_dpop_proof(k, "POST", mcpc_as_token_endpoint(AS), NULL, now, NULL);
        snprintf(hdr, sizeof hdr, "DPoP: %s", proof);
        free(proof);
        token_post(form, hdrs, &r);
        expect_error(&r, 400, "invalid_grant");
    }
    free(expired);
    free(tampered);

    /* authorization_details that are not one mcps_tool_call */
    exchange_form(form, sizeof form, subject, "[{\"type\":\"other\",\"tool\":\"x\"}]");
    proof = mcpc_dpop_proof(k, "POST", mcpc_as_token_endpoint(AS), NULL, now, NULL);
    snprintf(hdr, sizeof hdr, "DPoP: %s", proof);
    free(proof);
    token_post(form, hdrs, &r);
    expect_error(&r, 400, "invalid_authorization_details");

    /* a plain exchange (access token wanted), by the confidential client: act names it */
    snprintf(form, sizeof form,
             "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Atoken-exchange"
             "&subject_token=%s&subject_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type"
             "%%3Aaccess_token&requested_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type"
             "%%3Aaccess_token&resource=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fapi&scope=mcp%%3Atools"
             "&client_id=mcpcert-server&client_secret=%s",
             subject, mcpc_as_client_secret(AS, NULL));
    token_post(form, NULL, &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    tr = body_json(&r);
    ck_assert_str_eq(json_string_value(json_object_get(tr, "token_type")), "Bearer");
    tok = json_string_value(json_object_get(tr, "access_token"));
    ck_assert_int_eq(mcpc_jose_verify(tok, jwks, "at+jwt", &claims, err, sizeof err),
                     MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "aud")), "http://127.0.0.1:9/api");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "scope")), "mcp:tools");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(claims, "act"), "sub")),
        "mcpcert-server");
    ck_assert_ptr_null(json_object_get(claims, "cnf"));
    json_decref(claims);
    json_decref(tr);

    free(subject);
    json_decref(args);
    json_decref(jwks);
    mcpc_jose_key_free(k);
}
END_TEST

/* ---- the battery, judged by a resource server written from docs/auth.md §3 ----------------- */

/* The reason a resource server following §3 refuses t for a call of ctx (needing scope), or
 * "ok". seen collects accepted call-token jtis. */
static const char *judge(const json_t *jwks, const mcpc_battery_token *t,
                         const mcpc_battery_ctx *ctx, const char *issuer, const char *scope,
                         json_t *seen)
{
    static char reason[64];
    mcpc_jose_claims_rules rules = { 0 };
    mcpc_dpop_rules dr = { 0 };
    json_t *claims = NULL, *ad;
    mcpc_jose_status js;
    mcpc_dpop_status ds;
    char digest[44], err[256];
    const char *jti, *res = "ok", *tok;
    int call;

    if (!t->authorization)
        return "not-in-header";
    call = strncmp(t->authorization, "DPoP ", 5) == 0;
    ck_assert(call || strncmp(t->authorization, "Bearer ", 7) == 0);
    tok = t->authorization + (call ? 5 : 7);
    ck_assert_str_eq(tok, t->token);
    js = mcpc_jose_verify(tok, jwks, call ? "mcps-call+jwt" : "at+jwt", &claims, err, sizeof err);
    if (js != MCPC_JOSE_OK) {
        snprintf(reason, sizeof reason, "%s", mcpc_jose_status_name(js));
        return reason;
    }
    rules.issuer = issuer;
    rules.audience = ctx->resource;
    rules.scope = scope;
    rules.max_lifetime = call ? 60 : 0;
    js = mcpc_jose_claims_verify(claims, ctx->now, &rules, err, sizeof err);
    if (js != MCPC_JOSE_OK) {
        snprintf(reason, sizeof reason, "%s", mcpc_jose_status_name(js));
        goto out;
    }
    if (!call)
        goto out;
    jti = json_string_value(json_object_get(claims, "jti"));
    ck_assert_ptr_nonnull(jti);
    if (json_object_get(seen, jti)) {
        res = "replayed";
        goto out;
    }
    ad = json_array_get(json_object_get(claims, "authorization_details"), 0);
    if (strcmp(json_string_value(json_object_get(ad, "tool")), ctx->tool) != 0) {
        res = "tool";
        goto out;
    }
    ck_assert_int_eq(mcpc_jcs_sha256_b64url(ctx->arguments, digest), MCPC_OK);
    if (strcmp(json_string_value(json_object_get(ad, "args_sha256")), digest) != 0) {
        res = "args";
        goto out;
    }
    dr.htm = "POST";
    dr.htu = ctx->endpoint;
    dr.access_token = tok;
    dr.jkt = json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt"));
    dr.now = ctx->now;
    ds = mcpc_dpop_verify(t->dpop, &dr, NULL, NULL, NULL, err, sizeof err);
    if (ds != MCPC_DPOP_OK) {
        res = mcpc_dpop_status_name(ds);
        goto out;
    }
    json_object_set_new(seen, jti, json_true());
out:
    json_decref(claims);
    return js != MCPC_JOSE_OK ? reason : res;
}

START_TEST(test_battery_every_name)
{
    const char *const *names = mcpc_battery_names();
    mcpc_battery_state *st = mcpc_battery_state_new();
    json_t *args = json_pack("{s:s}", "text", "hello"), *seen = json_object();
    json_t *jwks = mcpc_as_jwks(AS), *wide = mcpc_as_jwks(AS);
    mcpc_battery_ctx ctx = { 0 };
    size_t n = 0;

    /* a verifier that would find the foreign key still refuses it: for its issuer */
    json_array_append_new(json_object_get(wide, "keys"),
                          mcpc_jose_key_public_jwk(mcpc_as_key(AS, MCPC_AS_KEY_FOREIGN)));
    ctx.resource = RESOURCE;
    ctx.endpoint = RESOURCE;
    ctx.tool = "echo";
    ctx.arguments = args;
    ctx.now = (long long)time(NULL);
    ctx.state = st;
    ctx.scope = "mcp:tools mcp:write";
    for (; names[n]; n++) {
        mcpc_battery_token t;
        const mcpc_battery_info *info = mcpc_battery_lookup(names[n]);
        const char *why;
        mcpc_err rc = mcpc_battery_make(AS, names[n], &ctx, &t);

        ck_assert_msg(rc == MCPC_OK, "%s: %s", names[n], mcpc_strerror(rc));
        ck_assert_ptr_eq(t.info, info);
        ck_assert_ptr_nonnull(t.token);
        ck_assert_msg(strlen(t.token) > 0, "%s", names[n]);
        switch (t.place) {
        case MCPC_BATTERY_HEADER:
            ck_assert_ptr_nonnull(t.authorization);
            ck_assert_ptr_null(t.param);
            break;
        case MCPC_BATTERY_QUERY:
        case MCPC_BATTERY_BODY:
            ck_assert_ptr_null(t.authorization);
            ck_assert_ptr_null(t.dpop);
            ck_assert_str_eq(t.param + strlen("access_token="), t.token);
            break;
        }
        ck_assert_int_eq(!!t.dpop, info->per_call && strcmp(names[n], "dpop-missing") != 0);
        why = judge(wide, &t, &ctx, mcpc_as_issuer(AS), "mcp:write", seen);
        if (info->accept)
            ck_assert_msg(strcmp(why, "ok") == 0, "%s refused: %s", names[n], why);
        else
            ck_assert_msg(strcmp(why, info->reason) == 0, "%s: refused for %s, %s expected",
                          names[n], why, info->reason);
        ck_assert_int_eq(info->status, info->accept ? 0 : strcmp(names[n], "insufficient-scope")
                                                              ? 401
                                                              : 403);
        if (strcmp(names[n], "foreign-issuer") == 0) /* against the published keys only */
            ck_assert_str_eq(judge(jwks, &t, &ctx, mcpc_as_issuer(AS), NULL, seen), "kid-unknown");
        mcpc_battery_token_clear(&t);
        ck_assert_ptr_null(t.token);
    }
    ck_assert_int_eq(n, 30);
    mcpc_battery_state_free(st);
    json_decref(args);
    json_decref(seen);
    json_decref(jwks);
    json_decref(wide);
}
END_TEST

START_TEST(test_battery_details)
{
    mcpc_battery_ctx ctx = { 0 };
    mcpc_battery_token t, t2;
    json_t *hdr = NULL, *claims = NULL;
    unsigned char *pem, mac[32];
    unsigned int maclen = 0;
    size_t pemlen;
    const char *sig;
    char expect[44], err[128];
    const mcpc_jose_key *dk;
    mcpc_battery_state *st;

    ctx.resource = RESOURCE;
    ctx.now = 1800000000;
    /* unknown names and missing context */
    ck_assert_int_eq(mcpc_battery_make(AS, "no-such", &ctx, &t), MCPC_ERR_NOT_FOUND);
    ck_assert_ptr_null(mcpc_battery_lookup("no-such"));
    ck_assert_int_eq(mcpc_battery_make(AS, "call-valid", &ctx, &t), MCPC_ERR_USAGE);
    ctx.endpoint = RESOURCE;
    ctx.tool = "echo";
    ck_assert_int_eq(mcpc_battery_make(AS, "call-replayed", &ctx, &t), MCPC_ERR_USAGE);
    ck_assert_ptr_null(t.token);

    /* hs256-public-key: HMAC-SHA-256 keyed with the PEM text of the published ES256 key */
    ck_assert_int_eq(mcpc_battery_make(AS, "hs256-public-key", &ctx, &t), MCPC_OK);
    ck_assert_int_eq(mcpc_jose_peek(t.token, &hdr, &claims, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(hdr, "alg")), "HS256");
    ck_assert_str_eq(json_string_value(json_object_get(hdr, "kid")),
                     mcpc_jose_key_kid(mcpc_as_key(AS, MCPC_AS_KEY_ES256)));
    pem = mcpc_jose_key_public_bytes(mcpc_as_key(AS, MCPC_AS_KEY_ES256), MCPC_JOSE_PUB_PEM,
                                     &pemlen);
    sig = strrchr(t.token, '.');
    HMAC(EVP_sha256(), pem, (int)pemlen, (const unsigned char *)t.token,
         (size_t)(sig - t.token), mac, &maclen);
    mcpc_b64url_encode_to(mac, 32, expect);
    ck_assert_str_eq(sig + 1, expect);
    free(pem);
    json_decref(hdr);
    json_decref(claims);
    mcpc_battery_token_clear(&t);

    /* expired and nbf-future say so in their claims; wrong-audience is a prefix extension */
    ck_assert_int_eq(mcpc_battery_make(AS, "expired", &ctx, &t), MCPC_OK);
    ck_assert_int_eq(mcpc_jose_peek(t.token, NULL, &claims, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(claims, "exp")), ctx.now - 300);
    json_decref(claims);
    mcpc_battery_token_clear(&t);
    ck_assert_int_eq(mcpc_battery_make(AS, "wrong-audience", &ctx, &t), MCPC_OK);
    ck_assert_int_eq(mcpc_jose_peek(t.token, NULL, &claims, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "aud")), RESOURCE "-other");
    json_decref(claims);
    mcpc_battery_token_clear(&t);

    /* query-only and body-only carry a good token in their parameter */
    ck_assert_int_eq(mcpc_battery_make(AS, "query-only", &ctx, &t), MCPC_OK);
    ck_assert_int_eq(t.place, MCPC_BATTERY_QUERY);
    ck_assert_int_eq(strncmp(t.param, "access_token=ey", 15), 0);
    mcpc_battery_token_clear(&t);
    ck_assert_int_eq(mcpc_battery_make(AS, "static-key", &ctx, &t), MCPC_OK);
    ck_assert_str_eq(t.authorization, "Bearer " MCPC_BATTERY_STATIC_KEY);
    mcpc_battery_token_clear(&t);

    /* call-replayed: the very token of the last call-valid, bound to the state's key, fresh
     * proof; without a state every per-call token has a key of its own */
    st = mcpc_battery_state_new();
    ctx.state = st;
    ck_assert_int_eq(mcpc_battery_make(AS, "call-valid", &ctx, &t), MCPC_OK);
    ck_assert_int_eq(mcpc_battery_make(AS, "call-replayed", &ctx, &t2), MCPC_OK);
    ck_assert_str_eq(t.token, t2.token);
    ck_assert_str_eq(t.authorization, t2.authorization);
    ck_assert_str_ne(t.dpop, t2.dpop);
    mcpc_battery_token_clear(&t2);
    ctx.replay_proof = 1; /* or the very proof too */
    ck_assert_int_eq(mcpc_battery_make(AS, "call-replayed", &ctx, &t2), MCPC_OK);
    ck_assert_str_eq(t.dpop, t2.dpop);
    ck_assert_str_eq(t.token, t2.token);
    dk = mcpc_battery_state_key(st);
    ck_assert_int_eq(mcpc_dpop_thumbprint(dk, expect), MCPC_OK);
    ck_assert_int_eq(mcpc_jose_peek(t.token, NULL, &claims, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt")),
                     expect);
    /* arguments NULL count as {} */
    {
        json_t *empty = json_object();
        char digest[44];
        ck_assert_int_eq(mcpc_jcs_sha256_b64url(empty, digest), MCPC_OK);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(claims, "authorization_details"), 0),
                             "args_sha256")),
                         digest);
        json_decref(empty);
    }
    json_decref(claims);
    mcpc_battery_token_clear(&t);
    mcpc_battery_token_clear(&t2);
    mcpc_battery_state_free(st);
}
END_TEST

/* ---- the record and the upstream mock ------------------------------------------------------ */

START_TEST(test_record)
{
    char *code = obtain_code(RESOURCE_ENC);
    struct resp r;
    json_t *rec, *e, *params, *form;
    size_t n;

    redeem(code, VERIFIER, "&resource=" RESOURCE_ENC, &r);
    ck_assert_int_eq(r.status, 200);
    rec = mcpc_as_requests(AS);
    n = json_array_size(rec);
    ck_assert_int_eq(n, 2);
    e = json_array_get(rec, 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "method")), "GET");
    ck_assert_str_eq(json_string_value(json_object_get(e, "path")), "/authorize");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "status")), 302);
    params = json_object_get(e, "params");
    ck_assert_str_eq(json_string_value(json_object_get(params, "resource")), RESOURCE);
    ck_assert_str_eq(json_string_value(json_object_get(params, "code_challenge_method")), "S256");
    ck_assert(json_is_array(json_object_get(e, "headers")));
    e = json_array_get(rec, 1);
    ck_assert_str_eq(json_string_value(json_object_get(e, "method")), "POST");
    ck_assert_str_eq(json_string_value(json_object_get(e, "path")), "/token");
    form = json_object_get(e, "form");
    ck_assert_str_eq(json_string_value(json_object_get(form, "resource")), RESOURCE);
    ck_assert_str_eq(json_string_value(json_object_get(form, "code")), code);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "status")), 200);
    json_decref(rec);

    /* a malformed form is recorded with its error */
    token_post("a=%zz", NULL, &r);
    rec = mcpc_as_requests(AS);
    e = json_array_get(rec, 2);
    ck_assert(json_is_null(json_object_get(e, "form")));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "form_error")));
    ck_assert_str_eq(json_string_value(json_object_get(e, "body")), "a=%zz");
    json_decref(rec);
    free(code);
}
END_TEST

START_TEST(test_upstream)
{
    struct curl_slist *h = NULL;
    struct resp r;
    json_t *rec, *j, *auth;
    char err[256], url[256];
    const char *secret_tok = "eyJ.secret-inbound-token.x";

    ck_assert_int_eq(mcpc_upstream_start(0, &UP, err, sizeof err), MCPC_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api", mcpc_upstream_port(UP));
    ck_assert_str_eq(mcpc_upstream_url(UP), url);

    h = curl_slist_append(h, "Authorization: Bearer  upstream-token");
    http(NULL, url, NULL, h, &r);
    curl_slist_free_all(h);
    ck_assert_int_eq(r.status, 200);
    j = body_json(&r);
    ck_assert(json_is_true(json_object_get(j, "ok")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "report")), MCPC_UPSTREAM_REPORT);
    json_decref(j);

    h = curl_slist_append(NULL, "X-Api-Key: eyJ.secret-inbound-token.x");
    http(NULL, url, "{\"q\":1}", h, &r); /* POST, no Authorization */
    curl_slist_free_all(h);
    ck_assert_int_eq(r.status, 200);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/other", mcpc_upstream_port(UP));
    http(NULL, url, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api", mcpc_upstream_port(UP));
    http("PUT", url, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 405);

    rec = mcpc_upstream_record(UP);
    ck_assert_int_eq(json_array_size(rec), 4);
    ck_assert_int_eq(mcpc_upstream_count(UP), 4);
    auth = json_object_get(json_array_get(rec, 0), "authorization");
    ck_assert_int_eq(json_array_size(auth), 1);
    /* bytes as received: the inner double space kept */
    ck_assert_str_eq(json_string_value(json_array_get(auth, 0)), "Bearer  upstream-token");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rec, 1), "method")), "POST");
    ck_assert_int_eq(json_array_size(json_object_get(json_array_get(rec, 1), "authorization")), 0);
    json_decref(rec);
    ck_assert_int_eq(mcpc_upstream_count_containing(UP, secret_tok, strlen(secret_tok)), 1);
    ck_assert_int_eq(mcpc_upstream_count_containing(UP, "upstream-token", 14), 1);
    ck_assert_int_eq(mcpc_upstream_count_containing(UP, "\"q\":1", 5), 1);
    ck_assert_int_eq(mcpc_upstream_count_containing(UP, "never-sent", 10), 0);
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc;

    tc = tcase_create("authserver");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_metadata_variants);
    tcase_add_test(tc, test_fixed_port);
    tcase_add_test(tc, test_jwks);
    tcase_add_test(tc, test_code_flow);
    tcase_add_test(tc, test_code_wrong_verifier_burns_code);
    tcase_add_test(tc, test_code_checks_at_token);
    tcase_add_test(tc, test_authorize_refusals);
    tcase_add_test(tc, test_iss_modes);
    tcase_add_test(tc, test_client_credentials);
    tcase_add_test(tc, test_form_parse);
    tcase_add_test(tc, test_record);
    suite_add_tcase(s, tc);

    tc = tcase_create("tokens");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_dpop_proofs);
    tcase_add_test(tc, test_token_exchange);
    tcase_add_test(tc, test_battery_every_name);
    tcase_add_test(tc, test_battery_details);
    suite_add_tcase(s, tc);

    tc = tcase_create("upstream");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_upstream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    sr = srunner_create(auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

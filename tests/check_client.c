/* Unit tests of the client role's pieces: the header value encoding, the mock server's answers
 * in both eras, its record, the OAuth pieces (the protected mock, the recording browser, tokens
 * found in URLs), and the client_* steps judging hand-made records. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authserver.h"
#include "browse.h"
#include "client_run.h"
#include "conn.h"
#include "hdrenc.h"
#include "mock_http.h"
#include "mock_server.h"
#include "step.h"
#include "transport_http.h"

/* ---- header value encoding ---------------------------------------------------------------- */

static void check_enc(const char *in, size_t n, const char *want)
{
    char *got = mcpc_hdr_encode_value(in, n);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_hdr_encoding)
{
    check_enc("eu-west-1", 9, "eu-west-1");
    check_enc("Hello, \xe4\xb8\x96\xe7\x95\x8c", 13, "=?base64?SGVsbG8sIOS4lueVjA==?=");
    check_enc(" padded ", 8, "=?base64?IHBhZGRlZCA=?=");
    check_enc("a\r\nb", 4, "=?base64?YQ0KYg==?=");
    check_enc("=?base64?aGk=?=", 15, "=?base64?PT9iYXNlNjQ/YUdrPT89?=");
    check_enc("", 0, "");
    check_enc("tab\there", 8, "=?base64?dGFiCWhlcmU=?=");
    check_enc("a\0b", 3, "=?base64?YQBi?=");
    ck_assert_int_eq(mcpc_hdr_value_plain("=?base64?", 9), 1); /* not the whole sentinel */
}
END_TEST

/* ---- the mock server ---------------------------------------------------------------------- */

static json_t *handle(mcpc_mock *m, const char *msg, json_t *http, mcpc_mock_answer *ans)
{
    ck_assert_int_eq(mcpc_mock_handle(m, msg, strlen(msg), http, ans), MCPC_OK);
    return ans->reply;
}

START_TEST(test_mock_legacy)
{
    mcpc_mock *m;
    mcpc_mock_answer a;
    char err[128];
    json_t *http = json_pack("{s:s,s:s,s:{},s:{}}", "method", "POST", "path", "/mcp", "headers", "header_count");
    ck_assert_int_eq(mcpc_mock_new(NULL, MCPC_ERA_2025_11_25, "nX", &m, err, sizeof err), MCPC_OK);
    json_t *r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                          "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                          "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", http, &a);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
                     "2025-11-25");
    ck_assert_uint_eq(strlen(a.session_id), 32); /* 128 bits, hex */
    json_decref(a.reply);
    handle(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", http, &a);
    ck_assert_ptr_null(a.reply);
    ck_assert_uint_eq(a.status, 202);
    r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\",\"params\":{}}", http, &a);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32601);
    json_decref(a.reply);
    r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                  "{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}}", http, &a);
    const char *text = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(r, "result"), "content"), 0), "text"));
    ck_assert_ptr_nonnull(strstr(text, "echo nX"));
    ck_assert_ptr_null(json_object_get(json_object_get(r, "result"), "resultType"));
    json_decref(a.reply);
    handle(m, "not json", http, &a);
    ck_assert_uint_eq(a.status, 400);
    json_decref(a.reply);
    json_t *rec = mcpc_mock_record(m);
    ck_assert_uint_eq(json_array_size(rec), 5);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rec, 1), "kind")), "notification");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rec, 4), "kind")), "invalid");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(rec, 0), "http"), "path")), "/mcp");
    mcpc_mock_free(m);
    json_decref(http);
}
END_TEST

START_TEST(test_mock_modern_pages_and_sse)
{
    mcpc_mock *m;
    mcpc_mock_answer a;
    char err[128];
    json_t *http = json_pack("{s:s,s:s,s:{},s:{}}", "method", "POST", "path", "/mcp", "headers", "header_count");
    json_t *scen = json_pack("{s:[{s:s},{s:s},{s:s}],s:i,s:s}", "tools", "name", "a", "name", "b",
                             "name", "c", "page_size", 2, "responses", "alternate");
    ck_assert_int_eq(mcpc_mock_new(scen, MCPC_ERA_2026_07_28, "n", &m, err, sizeof err), MCPC_OK);
    json_t *r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", http, &a);
    ck_assert_uint_eq(a.status, 404); /* a modern-only server */
    json_decref(a.reply);
    r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}", http, &a);
    json_t *res = json_object_get(r, "result");
    ck_assert_uint_eq(json_array_size(json_object_get(res, "tools")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(res, "resultType")), "complete");
    ck_assert_int_eq(a.sse, 0);
    json_decref(a.reply);
    r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":\"p2\"}}", http, &a);
    res = json_object_get(r, "result");
    ck_assert_uint_eq(json_array_size(json_object_get(res, "tools")), 1);
    ck_assert_ptr_null(json_object_get(res, "nextCursor"));
    ck_assert_int_eq(a.sse, 1); /* every second answered request is an SSE stream */
    json_decref(a.reply);
    r = handle(m, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"params\":{\"cursor\":\"p9\"}}", http, &a);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32602);
    json_decref(a.reply);
    mcpc_mock_free(m);
    json_decref(scen);
    json_decref(http);
}
END_TEST

START_TEST(test_mock_validate)
{
    char err[200];
    json_t *bad = json_pack("{s:[{s:s}]}", "actions", "do", "jump");
    ck_assert_int_eq(mcpc_mock_validate(bad, err, sizeof err), MCPC_ERR_CASE);
    json_decref(bad);
    bad = json_pack("{s:s}", "responses", "xml");
    ck_assert_int_eq(mcpc_mock_validate(bad, err, sizeof err), MCPC_ERR_CASE);
    json_decref(bad);
    bad = json_pack("{s:i}", "colour", 1);
    ck_assert_int_eq(mcpc_mock_validate(bad, err, sizeof err), MCPC_ERR_CASE);
    json_decref(bad);
    json_t *good = json_pack("{s:[{s:s},{s:s,s:s,s:{}}]}", "actions", "do", "list_tools", "do",
                             "call_tool", "name", "echo", "arguments");
    ck_assert_int_eq(mcpc_mock_validate(good, err, sizeof err), MCPC_OK);
    json_decref(good);
}
END_TEST

START_TEST(test_mock_auth_validate)
{
    static const char *const bad[] = {
        "{\"auth\":[]}",
        "{\"auth\":{\"metadata\":\"strange\"}}",
        "{\"auth\":{\"iss\":\"lower\"}}",
        "{\"auth\":{\"authz_endpoint\":\"javascript:x\"}}",          /* needs dangerous-authz */
        "{\"auth\":{\"metadata\":\"dangerous-authz\",\"authz_endpoint\":\"\"}}",
        "{\"auth\":{\"challenge_metadata\":\"no\"}}",
        "{\"auth\":{\"prm_resource\":7}}",
        "{\"auth\":{\"colour\":1}}",
        NULL,
    };
    char err[200];
    mcpc_mock_auth a;
    for (int i = 0; bad[i]; i++) {
        json_t *sc = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(sc);
        ck_assert_msg(mcpc_mock_validate(sc, err, sizeof err) == MCPC_ERR_CASE, "accepted %s", bad[i]);
        json_decref(sc);
    }
    json_t *sc = json_loads("{\"auth\":{\"metadata\":\"dangerous-authz\",\"authz_endpoint\":\"file:///x\","
                            "\"iss\":\"casefold\",\"prm_resource\":\"https://evil.example/mcp\","
                            "\"challenge_metadata\":false}}", 0, NULL);
    ck_assert_int_eq(mcpc_mock_validate(sc, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(mcpc_mock_auth_parse(sc, &a, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(a.enabled, 1);
    ck_assert_int_eq(a.metadata, MCPC_AS_META_DANGEROUS_AUTHZ);
    ck_assert_int_eq(a.iss, MCPC_AS_ISS_CASEFOLD);
    ck_assert_str_eq(a.authz_endpoint, "file:///x");
    ck_assert_str_eq(a.prm_resource, "https://evil.example/mcp");
    ck_assert_int_eq(a.challenge_metadata, 0);
    json_decref(sc);
    sc = json_pack("{s:{}}", "auth");
    ck_assert_int_eq(mcpc_mock_auth_parse(sc, &a, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(a.enabled, 1);
    ck_assert_int_eq(a.challenge_metadata, 1);
    ck_assert_int_eq(a.metadata, MCPC_AS_META_NORMAL);
    json_decref(sc);
    ck_assert_int_eq(mcpc_mock_auth_parse(NULL, &a, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(a.enabled, 0);
}
END_TEST

/* ---- OAuth: the protected mock, the browser, tokens in URLs ------------------------------- */

/* POST body to url with an Authorization value (NULL: none). Returns the status; *challenge
 * gets the WWW-Authenticate (new string or NULL). */
static long post_with(const char *url, const char *authz, const char *body, char **challenge)
{
    mcpc_http_opts o;
    mcpc_http *h;
    char err[256];
    mcpc_http_opts_default(&o);
    o.authorization = authz;
    ck_assert_msg(mcpc_http_new(url, &o, &h, err, sizeof err) == MCPC_OK, "%s", err);
    ck_assert_int_eq(mcpc_http_send_method(h, "POST", body, strlen(body), 3000), MCPC_OK);
    long st = mcpc_http_last_status(h);
    const char *c = mcpc_http_last_header(h, "www-authenticate");
    *challenge = c ? strdup(c) : NULL;
    mcpc_http_free(h);
    return st;
}

/* GET url; returns the status, *body the JSON it held (new ref or NULL). */
static long get_json(const char *url, json_t **body)
{
    mcpc_http *h;
    char err[256];
    const char *m = NULL;
    size_t len = 0;
    int cut = 0;
    static const char *const accept[] = {"Accept: application/json"};
    ck_assert_msg(mcpc_http_new(url, NULL, &h, err, sizeof err) == MCPC_OK, "%s", err);
    ck_assert_int_eq(mcpc_http_set_headers(h, accept, 1), MCPC_OK);
    ck_assert_int_eq(mcpc_http_send_method(h, "GET", NULL, 0, 3000), MCPC_OK);
    long st = mcpc_http_last_status(h);
    /* the body of a GET is read through the conn like any other */
    mcpc_conn *c = mcpc_http_conn(h);
    if (c->ops->recv(c, 3000, &m, &len) != MCPC_OK)
        m = mcpc_http_last_body(h, &len, &cut);
    *body = m && len ? json_loadb(m, len, 0, NULL) : NULL;
    mcpc_http_free(h);
    return st;
}

START_TEST(test_mock_http_oauth)
{
    mcpc_as *as;
    mcpc_mock *m;
    mcpc_mock_http *mh;
    char err[256], url[128], prm_url[192], bearer[4096], *ch = NULL;
    const char *init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{}}";
    ck_assert_int_eq(mcpc_as_start(NULL, &as, err, sizeof err), MCPC_OK);
    json_t *jwks = mcpc_as_jwks(as);
    mcpc_mock_http_auth ha = {.issuer = mcpc_as_issuer(as), .jwks = jwks, .prm_resource = NULL,
                              .challenge_metadata = 1};
    ck_assert_int_eq(mcpc_mock_new(NULL, MCPC_ERA_2026_07_28, "n", &m, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(mcpc_mock_http_start(m, &ha, &mh, url, sizeof url, err, sizeof err), MCPC_OK);

    /* no token: 401 and a challenge naming the metadata */
    ck_assert_int_eq(post_with(url, NULL, init, &ch), 401);
    snprintf(prm_url, sizeof prm_url, "%.*s%s", (int)(strlen(url) - 4), url, MCPC_MOCK_PRM_PATH);
    ck_assert_ptr_nonnull(ch);
    ck_assert_ptr_nonnull(strstr(ch, prm_url));
    free(ch);
    /* the metadata, at both well-known paths */
    json_t *prm = NULL;
    ck_assert_int_eq(get_json(prm_url, &prm), 200);
    ck_assert_ptr_nonnull(prm);
    ck_assert_str_eq(json_string_value(json_object_get(prm, "resource")), url);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(prm, "authorization_servers"), 0)),
                     mcpc_as_issuer(as));
    json_decref(prm);
    /* a good token; one for another audience; one in the query string only */
    long long now = (long long)time(NULL);
    char *tok = mcpc_as_mint_access(as, url, NULL, 300, now);
    char *other = mcpc_as_mint_access(as, "http://127.0.0.1:1/mcp", NULL, 300, now);
    ck_assert_ptr_nonnull(tok);
    ck_assert_ptr_nonnull(other);
    snprintf(bearer, sizeof bearer, "Bearer %s", other);
    ck_assert_int_eq(post_with(url, bearer, init, &ch), 401);
    ck_assert_ptr_nonnull(strstr(ch, "invalid_token"));
    free(ch);
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    ck_assert_int_eq(post_with(url, bearer, init, &ch), 200);
    free(ch);
    char qurl[4096];
    snprintf(qurl, sizeof qurl, "%s?access_token=%s", url, tok);
    ck_assert_int_eq(post_with(qurl, NULL, init, &ch), 401);
    free(ch);
    mcpc_mock_http_stop(mh);

    /* the record: 5 POSTs and one GET, each POST with its auth state */
    json_t *rec = mcpc_mock_record(m);
    ck_assert_uint_eq(json_array_size(rec), 5);
    const char *want_auth[] = {"none", NULL, "invalid", "valid", "none"};
    const int want_after[] = {0, 0, 0, 1, 1};
    for (size_t i = 0; i < 5; i++) {
        json_t *http = json_object_get(json_array_get(rec, i), "http");
        if (!want_auth[i]) {
            ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rec, i), "kind")), "http");
            ck_assert_str_eq(json_string_value(json_object_get(http, "path")), MCPC_MOCK_PRM_PATH);
            continue;
        }
        ck_assert_str_eq(json_string_value(json_object_get(http, "auth")), want_auth[i]);
        ck_assert_int_eq(json_is_true(json_object_get(http, "after_token")), want_after[i]);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rec, i), "kind")), "request");
    }
    /* only the entry with the token in its query is marked */
    ck_assert_uint_eq(mcpc_client_mark_tokens(rec, jwks), 1);
    ck_assert(json_is_true(json_object_get(json_array_get(rec, 4), "token_in_url")));
    ck_assert_ptr_null(json_object_get(json_array_get(rec, 3), "token_in_url"));
    /* authorization server and browser entries, and look-alikes that are no token of this AS */
    json_t *others = json_pack("[{s:s,s:s},{s:s},{s:s},{s:s}]", "path", "/authorize", "query", qurl,
                               "url", "http://x.invalid/?a=eyJhbGciOiJub25lIn0.e30.", "url", "a.b.c",
                               "url", strchr(qurl, '?'));
    ck_assert_uint_eq(mcpc_client_mark_tokens(others, jwks), 2);
    ck_assert(json_is_true(json_object_get(json_array_get(others, 0), "token_in_url")));
    ck_assert(json_is_true(json_object_get(json_array_get(others, 3), "token_in_url")));
    json_decref(others);
    free(tok);
    free(other);
    mcpc_mock_free(m);
    json_decref(jwks);
    mcpc_as_stop(as);
}
END_TEST

START_TEST(test_mock_http_oauth_variants)
{
    mcpc_as *as;
    mcpc_mock *m;
    mcpc_mock_http *mh;
    char err[256], url[128], root[192], *ch = NULL;
    ck_assert_int_eq(mcpc_as_start(NULL, &as, err, sizeof err), MCPC_OK);
    json_t *jwks = mcpc_as_jwks(as);
    mcpc_mock_http_auth ha = {.issuer = mcpc_as_issuer(as), .jwks = jwks,
                              .prm_resource = "https://evil.example/mcp", .challenge_metadata = 0};
    ck_assert_int_eq(mcpc_mock_new(NULL, MCPC_ERA_2025_11_25, "n", &m, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(mcpc_mock_http_start(m, &ha, &mh, url, sizeof url, err, sizeof err), MCPC_OK);
    ck_assert_int_eq(post_with(url, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}", &ch), 401);
    ck_assert_str_eq(ch, "Bearer"); /* nothing named: the client must probe the well-known URIs */
    free(ch);
    snprintf(root, sizeof root, "%.*s%s", (int)(strlen(url) - 4), url, MCPC_MOCK_PRM_ROOT);
    json_t *prm = NULL;
    ck_assert_int_eq(get_json(root, &prm), 200);
    ck_assert_str_eq(json_string_value(json_object_get(prm, "resource")), "https://evil.example/mcp");
    json_decref(prm);
    mcpc_mock_http_stop(mh);
    json_t *rec = mcpc_mock_record(m);
    ck_assert_uint_eq(json_array_size(rec), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rec, 0), "kind")), "notification");
    mcpc_mock_free(m);
    json_decref(jwks);
    mcpc_as_stop(as);
}
END_TEST

/* The browser: records every URL, loads only loopback http(s) ones, prints the redirect. */
START_TEST(test_browse)
{
    mcpc_as *as;
    char err[256], rec[] = "/tmp/check-browse-XXXXXX", url[1024];
    int fd = mkstemp(rec);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(mcpc_as_start(NULL, &as, err, sizeof err), MCPC_OK);
    char *a1[] = {"browse", "--record", rec, "javascript:alert(1)", NULL};
    ck_assert_int_eq(mcpc_browse_cmd(4, a1), 1);
    char *a2[] = {"browse", "--record", rec, "http://evil.example/authorize", NULL};
    ck_assert_int_eq(mcpc_browse_cmd(4, a2), 1);
    char *a3[] = {"browse", "--record", rec, "http://127.0.0.1.evil.example/authorize", NULL};
    ck_assert_int_eq(mcpc_browse_cmd(4, a3), 1);
    /* a real authorization request: the AS redirects with a code */
    snprintf(url, sizeof url, "%s/authorize?response_type=code&client_id=%s&redirect_uri="
             "http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb&code_challenge=%s&code_challenge_method=S256&state=s1",
             mcpc_as_issuer(as), MCPC_AS_PUBLIC_CLIENT, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    char *a4[] = {"browse", "--record", rec, url, NULL};
    ck_assert_int_eq(mcpc_browse_cmd(4, a4), 0);
    char *a5[] = {"browse", "--record", rec, NULL};
    ck_assert_int_eq(mcpc_browse_cmd(3, a5), 2);
    mcpc_as_stop(as);

    FILE *f = fopen(rec, "r");
    char line[4096];
    json_t *e[4];
    for (int i = 0; i < 4; i++) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        e[i] = json_loads(line, 0, NULL);
        ck_assert_ptr_nonnull(e[i]);
        ck_assert_int_eq(json_integer_value(json_object_get(e[i], "seq")), i + 1);
    }
    ck_assert_ptr_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(rec);
    ck_assert_str_eq(json_string_value(json_object_get(e[0], "url")), "javascript:alert(1)");
    for (int i = 0; i < 3; i++)
        ck_assert(json_is_false(json_object_get(e[i], "fetched")));
    ck_assert(json_is_true(json_object_get(e[3], "fetched")));
    ck_assert_int_eq(json_integer_value(json_object_get(e[3], "status")), 302);
    const char *loc = json_string_value(json_object_get(e[3], "location"));
    ck_assert_ptr_nonnull(loc);
    ck_assert_int_eq(strncmp(loc, "http://127.0.0.1:9/cb?code=", 27), 0);
    ck_assert_ptr_nonnull(strstr(loc, "&state=s1"));
    for (int i = 0; i < 4; i++)
        json_decref(e[i]);
}
END_TEST

/* ---- steps over hand-made records --------------------------------------------------------- */

static mcpc_verdict run_step(mcpc_client_obs *obs, const char *level, const char *step_json)
{
    mcpc_step_ctx ctx;
    json_t *step = json_loads(step_json, 0, NULL);
    char err[200];
    ck_assert_ptr_nonnull(step);
    ck_assert_msg(mcpc_step_validate(step, err, sizeof err) == MCPC_OK, "%s", err);
    memset(&ctx, 0, sizeof ctx);
    ctx.client = obs;
    ctx.level = level;
    ctx.vars = json_object();
    ctx.checks = json_array();
    mcpc_verdict v = mcpc_step_run(&ctx, 1, step);
    json_decref(step);
    json_decref(ctx.vars);
    json_decref(ctx.checks);
    return v;
}

/* An HTTP record entry for a tools/call of route with the given args and Mcp-Param-Region. */
static json_t *call_entry(int id, json_t *args, const char *region_header)
{
    json_t *e = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s}},s:{s:s,s:i,s:s,s:{s:s,s:o}}}",
                          "kind", "request", "transport", "http", "http", "method", "POST", "path", "/mcp",
                          "headers", "accept", "application/json, text/event-stream", "content-type",
                          "application/json", "mcp-protocol-version", "2026-07-28", "mcp-method",
                          "tools/call", "mcp-name", "route", "message", "jsonrpc", "2.0", "id", id,
                          "method", "tools/call", "params", "name", "route", "arguments", args);
    if (region_header)
        json_object_set_new(json_object_get(json_object_get(e, "http"), "headers"),
                            "mcp-param-region", json_string(region_header));
    return e;
}

START_TEST(test_steps_headers_params)
{
    mcpc_client_obs obs;
    memset(&obs, 0, sizeof obs);
    obs.era = MCPC_ERA_2026_07_28;
    obs.transport = "http";
    obs.scenario = json_loads("{\"tools\":[{\"name\":\"route\",\"inputSchema\":{\"type\":\"object\","
                              "\"properties\":{\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"}}}}]}",
                              0, NULL);
    obs.record = json_array();
    json_array_append_new(obs.record, call_entry(1, json_pack("{s:s}", "region", "eu"), "eu"));
    json_array_append_new(obs.record, call_entry(2, json_pack("{s:s}", "region", "a\r\nb"), "=?base64?YQ0KYg==?="));
    json_array_append_new(obs.record, call_entry(3, json_object(), NULL));
    const char *all = "{\"do\":\"client_headers\",\"check\":[\"accept\",\"content_type\",\"version\",\"method\",\"name\",\"params\"]}";
    ck_assert_int_eq(run_step(&obs, "MUST", all), MCPC_V_PASS);
    /* a raw value where the encoding is due */
    json_array_append_new(obs.record, call_entry(4, json_pack("{s:s}", "region", " x"), " x"));
    ck_assert_int_eq(run_step(&obs, "MUST", all), MCPC_V_FAIL);
    json_array_remove(obs.record, 3);
    /* a header although the argument is absent */
    json_array_append_new(obs.record, call_entry(5, json_object(), "eu"));
    ck_assert_int_eq(run_step(&obs, "SHOULD", all), MCPC_V_WARN);
    json_array_remove(obs.record, 3);
    /* Mcp-Name that does not mirror the body */
    json_t *e = call_entry(6, json_object(), NULL);
    json_object_set_new(json_object_get(json_object_get(e, "http"), "headers"), "mcp-name", json_string("Route"));
    json_array_append_new(obs.record, e);
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_headers\",\"check\":[\"name\"]}"), MCPC_V_FAIL);
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_headers\",\"check\":[\"method\"]}"), MCPC_V_PASS);
    /* ids: 1, 2, 3, 6 are distinct; a reused one is caught */
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_unique_ids\"}"), MCPC_V_PASS);
    json_array_append_new(obs.record, call_entry(2, json_object(), NULL));
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_unique_ids\"}"), MCPC_V_FAIL);
    /* sequence, each, none */
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_sequence\",\"expect\":[[{\"path\":\"/message/id\",\"equals\":1}],"
                                            "[{\"path\":\"/message/id\",\"equals\":2}]]}"), MCPC_V_PASS);
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_sequence\",\"expect\":[[{\"path\":\"/message/id\",\"equals\":2}]]}"),
                     MCPC_V_FAIL);
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_each\",\"where\":[{\"path\":\"/kind\",\"equals\":\"request\"}],"
                                            "\"match\":[{\"path\":\"/message/method\",\"equals\":\"tools/call\"}],\"min\":5}"),
                     MCPC_V_PASS);
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_each\",\"where\":[{\"path\":\"/kind\",\"equals\":\"result\"}],"
                                            "\"match\":[]}"), MCPC_V_FAIL); /* none at all: min 1 */
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_none\",\"where\":[{\"path\":\"/kind\",\"in\":[\"result\",\"invalid\"]}]}"),
                     MCPC_V_PASS);
    /* exit and output */
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_exit\"}"), MCPC_V_FAIL);
    obs.exited = 1;
    obs.exit_code = 0;
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_exit\"}"), MCPC_V_PASS);
    snprintf(obs.nonce, sizeof obs.nonce, "nABC");
    obs.out = strdup("echo nABC {}\n");
    obs.out_len = strlen(obs.out);
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_output\",\"contains\":\"echo ${nonce}\"}"), MCPC_V_PASS);
    snprintf(obs.nonce, sizeof obs.nonce, "nXYZ");
    ck_assert_int_eq(run_step(&obs, "MUST", "{\"do\":\"client_output\",\"contains\":\"echo ${nonce}\"}"), MCPC_V_FAIL);
    /* on stdio there are no headers to judge */
    obs.transport = "stdio";
    ck_assert_int_eq(run_step(&obs, "MUST", all), MCPC_V_SKIP);
    json_decref(obs.scenario);
    obs.scenario = NULL;
    mcpc_client_obs_clear(&obs);
}
END_TEST

/* The OAuth records and the steps' "of", "http" and "failed". */
START_TEST(test_steps_oauth)
{
    mcpc_client_obs obs;
    memset(&obs, 0, sizeof obs);
    obs.era = MCPC_ERA_2026_07_28;
    obs.transport = "http";
    snprintf(obs.url, sizeof obs.url, "http://127.0.0.1:5/mcp");
    obs.record = json_pack("[{s:s,s:{s:s,s:s,s:s,s:b}},{s:s,s:{s:s,s:s}},{s:s,s:{s:s,s:s}},"
                           "{s:s,s:{s:s,s:s,s:s,s:b}}]",
                           "kind", "request", "http", "method", "POST", "path", "/mcp", "auth", "none", "after_token", 0,
                           "kind", "http", "http", "method", "GET", "path", "/.well-known/oauth-protected-resource/mcp",
                           "kind", "http", "http", "method", "GET", "path", "/.well-known/oauth-protected-resource",
                           "kind", "request", "http", "method", "POST", "path", "/mcp", "auth", "valid", "after_token", 1);
    obs.as_record = json_pack("[{s:i,s:s,s:s,s:{s:s}},{s:i,s:s,s:s,s:{s:s},s:i}]",
                              "seq", 1, "method", "GET", "path", "/authorize", "params", "resource", "http://127.0.0.1:5/mcp",
                              "seq", 2, "method", "POST", "path", "/token", "form", "resource", "http://127.0.0.1:5/mcp#x",
                              "status", 200);
    obs.browser_record = json_array();
    const char *authz = "{\"do\":\"client_each\",\"of\":\"as\",\"where\":[{\"path\":\"/path\",\"equals\":\"/authorize\"}],"
                        "\"match\":[{\"path\":\"/params/resource\",\"equals_var\":\"url\"}]}";
    const char *token = "{\"do\":\"client_each\",\"of\":\"as\",\"where\":[{\"path\":\"/path\",\"equals\":\"/token\"}],"
                        "\"match\":[{\"path\":\"/form/resource\",\"equals_var\":\"url\"}]}";
    ck_assert_int_eq(run_step(&obs, "MUST", authz), MCPC_V_PASS);
    ck_assert_int_eq(run_step(&obs, "MUST", token), MCPC_V_FAIL); /* a fragment is not the URI */
    /* the browser opened nothing; then it did */
    const char *nob = "{\"do\":\"client_none\",\"of\":\"browser\",\"where\":[{\"path\":\"/url\",\"present\":true}]}";
    ck_assert_int_eq(run_step(&obs, "MUST", nob), MCPC_V_PASS);
    json_array_append_new(obs.browser_record, json_pack("{s:i,s:s,s:b}", "seq", 1, "url", "javascript:x", "fetched", 0));
    ck_assert_int_eq(run_step(&obs, "MUST", nob), MCPC_V_FAIL);
    /* a record of a case without auth is empty */
    json_decref(obs.browser_record);
    obs.browser_record = NULL;
    ck_assert_int_eq(run_step(&obs, "MUST", nob), MCPC_V_PASS);
    /* the order of the well-known probes, with the bare HTTP requests in the sequence */
    const char *order = "{\"do\":\"client_sequence\",\"http\":true,\"skip\":[{\"path\":\"/http/method\",\"equals\":\"POST\"}],"
                        "\"expect\":[[{\"path\":\"/http/path\",\"equals\":\"/.well-known/oauth-protected-resource/mcp\"}],"
                        "[{\"path\":\"/http/path\",\"equals\":\"/.well-known/oauth-protected-resource\"}]]}";
    ck_assert_int_eq(run_step(&obs, "MUST", order), MCPC_V_PASS);
    const char *order_nohttp = "{\"do\":\"client_sequence\",\"expect\":[[{\"path\":\"/http/path\",\"equals\":\"/.well-known/oauth-protected-resource/mcp\"}]]}";
    ck_assert_int_eq(run_step(&obs, "MUST", order_nohttp), MCPC_V_FAIL); /* bare requests skipped */
    json_array_remove(obs.record, 1);
    ck_assert_int_eq(run_step(&obs, "MUST", order), MCPC_V_FAIL);      /* root first */
    /* Authorization once the token is there */
    const char *every = "{\"do\":\"client_each\",\"where\":[{\"path\":\"/http/method\",\"equals\":\"POST\"},"
                        "{\"path\":\"/http/after_token\",\"equals\":true}],\"match\":[{\"path\":\"/http/auth\",\"equals\":\"valid\"}]}";
    ck_assert_int_eq(run_step(&obs, "MUST", every), MCPC_V_PASS);
    json_array_append_new(obs.record, json_pack("{s:s,s:{s:s,s:s,s:s,s:b}}", "kind", "notification", "http", "method",
                                                "POST", "path", "/mcp", "auth", "none", "after_token", 1));
    ck_assert_int_eq(run_step(&obs, "MUST", every), MCPC_V_FAIL);
    /* a refusal: a non-zero exit by itself, not a hang and not a success */
    const char *refused = "{\"do\":\"client_exit\",\"failed\":true}";
    obs.exited = 0;
    ck_assert_int_eq(run_step(&obs, "MUST", refused), MCPC_V_FAIL);
    obs.exited = 1;
    obs.exit_code = 0;
    ck_assert_int_eq(run_step(&obs, "MUST", refused), MCPC_V_FAIL);
    obs.exit_code = 1;
    ck_assert_int_eq(run_step(&obs, "MUST", refused), MCPC_V_PASS);
    /* shapes the validator refuses */
    static const char *const bad[] = {
        "{\"do\":\"client_exit\",\"failed\":false}",
        "{\"do\":\"client_exit\",\"failed\":true,\"code\":1}",
        "{\"do\":\"client_none\",\"of\":\"server\",\"where\":[]}",
        "{\"do\":\"client_sequence\",\"http\":1,\"expect\":[[]]}",
        "{\"do\":\"client_output\",\"of\":\"as\",\"contains\":\"x\"}",
        NULL,
    };
    char err[200];
    for (int i = 0; bad[i]; i++) {
        json_t *st = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(st);
        ck_assert_msg(mcpc_step_validate(st, err, sizeof err) != MCPC_OK, "accepted %s", bad[i]);
        json_decref(st);
    }
    mcpc_client_obs_clear(&obs);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hdr_encoding);
    tcase_add_test(tc, test_mock_legacy);
    tcase_add_test(tc, test_mock_modern_pages_and_sse);
    tcase_add_test(tc, test_mock_validate);
    tcase_add_test(tc, test_mock_auth_validate);
    tcase_add_test(tc, test_mock_http_oauth);
    tcase_add_test(tc, test_mock_http_oauth_variants);
    tcase_add_test(tc, test_browse);
    tcase_add_test(tc, test_steps_headers_params);
    tcase_add_test(tc, test_steps_oauth);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(client_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

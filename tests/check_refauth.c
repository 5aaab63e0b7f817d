/* Tests for the reference server as an OAuth resource server (targets/refserver_auth.c,
 * refserver_gate.c, refserver_calltoken.c, refserver_upstream.c; docs/auth.md).
 *
 * Each test starts `targets/refserver --http 0` with MCPCERT_AUTH_* pointing at an
 * authorization server played here on an mcpc_listener (metadata, JWKS, token endpoint and the
 * upstream API of fetch_report), mints tokens with harness/jose.h and
 * presents them with libcurl. It asserts the status, the WWW-Authenticate challenge, the
 * JSON-RPC answer and the side-effect ledger (a refused call must leave it unchanged). The last
 * group starts the server with each OAuth flaw and shows the bad token that flaw lets through:
 * every flaw is reachable. */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "b64url.h"
#include "clock.h"
#include "http_listener.h"
#include "jcs.h"
#include "jose.h"
#include "token_battery.h"

#define REFSERVER MCPC_BUILDDIR "/targets/refserver"
#define SCOPES_ALL "mcp:tools mcp:write"
#define OWN_TOKEN "upstream-token-of-the-server"
#define REPORT_TEXT "report: all green"
#define START_TIMEOUT_MS 10000

/* ---- the authorization server, its foreign twin and the upstream, played here ------------ */

struct fixture {
    mcpc_http_listener *as;
    char issuer[64], upstream[80];
    mcpc_jose_key *es, *ed;        /* the issuer's published keys */
    mcpc_jose_key *rotated;        /* published only once publish_rotated is set */
    mcpc_jose_key *foreign_key;    /* the foreign issuer's, published nowhere */
    mcpc_jose_key *dpop, *dpop_other;  /* client keys for DPoP proofs */
    bool publish_rotated;
    int jwks_fetches;              /* GET /jwks so far */
    int token_calls;
    char token_auth[512], token_body[1024];   /* what POST /token received */
    char upstream_auth[20000];     /* the Authorization header the upstream received */
    /* the refserver */
    pid_t pid;
    int in_w;
    unsigned port;
    char resource[80], prm[160];
    char dir[64], ledger[96];
    unsigned long serial;          /* for unique jti */
};

static struct fixture fx;

/* Copy the header name of req (or "") into out. */
static void copy_header(const mcpc_listener_request *req, const char *name, char *out, size_t n)
{
    const mcpc_listener_header *h = mcpc_listener_header_find(req, name, NULL);
    size_t len = h ? h->value_len : 0;

    if (len >= n)
        len = n - 1;
    memcpy(out, h ? h->value : "", len);
    out[len] = '\0';
}

/* Answer res with the JSON value v (stolen). */
static mcpc_err answer_json(mcpc_listener_response *res, unsigned status, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    mcpc_err rc = text ? mcpc_listener_response_set(res, status, "application/json", text,
                                                    strlen(text))
                       : MCPC_ERR_NOMEM;

    free(text);
    json_decref(v);
    return rc;
}

/* A JWKS of the given keys (NULL entries skipped). New reference. */
static json_t *jwks_of(mcpc_jose_key *a, mcpc_jose_key *b, mcpc_jose_key *c)
{
    const mcpc_jose_key *keys[3];
    size_t n = 0;

    if (a)
        keys[n++] = a;
    if (b)
        keys[n++] = b;
    if (c)
        keys[n++] = c;
    return mcpc_jose_jwks(keys, n);
}

/* mcpc_listener_handler for everything the refserver talks to. */
static mcpc_err as_handler(void *ctx, const mcpc_listener_request *req,
                           mcpc_listener_response *res)
{
    char url[160];

    (void)ctx;
    if (strcmp(req->path, "/.well-known/oauth-authorization-server") == 0) {
        snprintf(url, sizeof url, "%s/token", fx.issuer);
        return answer_json(res, 200, json_pack("{s:s, s:s, s:s+, s:[s]}", "issuer", fx.issuer,
                                               "token_endpoint", url, "jwks_uri", fx.issuer,
                                               "/jwks", "token_endpoint_auth_methods_supported",
                                               "client_secret_basic"));
    }
    if (strcmp(req->path, "/jwks") == 0) {
        fx.jwks_fetches++;
        return answer_json(res, 200, jwks_of(fx.es, fx.ed,
                                             fx.publish_rotated ? fx.rotated : NULL));
    }
    if (strcmp(req->path, "/token") == 0 && strcmp(req->method, "POST") == 0) {
        size_t n = req->body_len < sizeof fx.token_body - 1 ? req->body_len
                                                             : sizeof fx.token_body - 1;
        fx.token_calls++;
        copy_header(req, "Authorization", fx.token_auth, sizeof fx.token_auth);
        memcpy(fx.token_body, req->body, n);
        fx.token_body[n] = '\0';
        return answer_json(res, 200, json_pack("{s:s, s:s, s:i}", "access_token", OWN_TOKEN,
                                               "token_type", "Bearer", "expires_in", 300));
    }
    if (strcmp(req->path, "/api") == 0) {
        copy_header(req, "Authorization", fx.upstream_auth, sizeof fx.upstream_auth);
        return mcpc_listener_response_set(res, 200, "text/plain", REPORT_TEXT,
                                          strlen(REPORT_TEXT));
    }
    return mcpc_listener_response_set(res, 404, "text/plain", "no\n", 3);
}

/* ---- the refserver ------------------------------------------------------------------------ */

/* Start the AS and then the refserver (with flaw, when non-NULL; with an upstream, when asked),
 * and wait for its "listening on" line. */
static void start(const char *flaw, bool upstream)
{
    int in[2], out[2];
    char line[256], err[256], *p;
    size_t got = 0;
    int64_t deadline;
    unsigned as_port;

    ck_assert_int_eq(mcpc_listener_start("127.0.0.1", 0, as_handler, NULL, NULL, &fx.as, err,
                                         sizeof err), MCPC_OK);
    as_port = mcpc_listener_port(fx.as);
    snprintf(fx.issuer, sizeof fx.issuer, "http://127.0.0.1:%u", as_port);
    snprintf(fx.upstream, sizeof fx.upstream, "http://127.0.0.1:%u/api", as_port);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/refauth.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx.dir));
    snprintf(fx.ledger, sizeof fx.ledger, "%s/ledger", fx.dir);

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    fx.pid = fork();
    ck_assert_int_ge(fx.pid, 0);
    if (fx.pid == 0) {
        char jwks[96];
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        snprintf(jwks, sizeof jwks, "%s/jwks", fx.issuer);
        setenv("MCPCERT_AUTH_ISSUER", fx.issuer, 1);
        setenv("MCPCERT_AUTH_JWKS_URI", jwks, 1);
        setenv("MCPCERT_AUTH_CLIENT_ID", "refserver client", 1);
        setenv("MCPCERT_AUTH_CLIENT_SECRET", "s3cret:&=", 1);
        setenv("MCPCERT_LEDGER", fx.ledger, 1);
        unsetenv("MCPCERT_RESOURCE_URI");
        if (upstream)
            setenv("MCPCERT_UPSTREAM_URL", fx.upstream, 1);
        else
            unsetenv("MCPCERT_UPSTREAM_URL");
        if (flaw)
            execl(REFSERVER, "refserver", "--http", "0", "--flaw", flaw, (char *)NULL);
        else
            execl(REFSERVER, "refserver", "--http", "0", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fx.in_w = in[1];
    deadline = mcpc_clock_ms() + START_TIMEOUT_MS;
    while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
        struct pollfd pf = { out[0], POLLIN, 0 };
        ssize_t n;
        ck_assert_msg(poll(&pf, 1, mcpc_clock_left(deadline)) == 1, "refserver did not start");
        n = read(out[0], line + got, sizeof line - 1 - got);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
        line[got] = '\0';
    }
    close(out[0]);
    p = strstr(line, "127.0.0.1:");
    ck_assert_ptr_nonnull(p);
    fx.port = (unsigned)strtoul(p + 10, NULL, 10);
    snprintf(fx.resource, sizeof fx.resource, "http://127.0.0.1:%u/mcp", fx.port);
    snprintf(fx.prm, sizeof fx.prm,
             "http://127.0.0.1:%u/.well-known/oauth-protected-resource/mcp", fx.port);
}

/* Close the refserver's stdin and wait for its exit: it must be 0 (under the sanitizers, a
 * leak would make it otherwise). Then stop the AS. */
static void stop(void)
{
    int status = -1;
    int64_t deadline = mcpc_clock_ms() + 10000;

    if (fx.pid > 0) {
        close(fx.in_w);
        while (waitpid(fx.pid, &status, WNOHANG) == 0 && mcpc_clock_left(deadline) > 0)
            usleep(10000);
        if (mcpc_clock_left(deadline) == 0) {
            kill(fx.pid, SIGKILL);
            waitpid(fx.pid, &status, 0);
        }
        fx.pid = 0;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "refserver ended with status %d", status);
    }
    mcpc_listener_stop(fx.as);
    fx.as = NULL;
}

/* ---- HTTP --------------------------------------------------------------------------------- */

struct reply {
    long status;
    char www[1024];                /* WWW-Authenticate, "" if none */
    char body[65536];
    size_t len;
    json_t *json;                  /* the body parsed, or NULL */
};

static size_t on_header(char *b, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t len = size * n;

    if (len > 17 && strncasecmp(b, "WWW-Authenticate:", 17) == 0) {
        size_t s = 17, e = len;
        while (s < e && b[s] == ' ')
            s++;
        while (e > s && (b[e - 1] == '\r' || b[e - 1] == '\n'))
            e--;
        if (e - s >= sizeof r->www)
            e = s + sizeof r->www - 1;
        memcpy(r->www, b + s, e - s);
        r->www[e - s] = '\0';
    }
    return len;
}

static size_t on_body(char *b, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t len = size * n;

    if (len > sizeof r->body - 1 - r->len)
        return 0;
    memcpy(r->body + r->len, b, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* One request to the refserver: method, path (with any query), headers, body (NULL: none). */
static void http(const char *method, const char *path, const char *const *headers, size_t nh,
                 const char *body, struct reply *r)
{
    CURL *e = curl_easy_init();
    struct curl_slist *hl = NULL;
    char url[512];

    memset(r, 0, sizeof *r);
    ck_assert_ptr_nonnull(e);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", fx.port, path);
    for (size_t i = 0; i < nh; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(e);
    r->json = json_loadb(r->body, r->len, 0, NULL);
}

static void reply_clear(struct reply *r)
{
    json_decref(r->json);
    r->json = NULL;
}

/* POST a 2026-07-28 request: method, the tool (tools/call; NULL otherwise) with args (borrowed,
 * NULL: none), the MCP headers, and the extra headers given (Authorization, DPoP...). path may
 * carry a query. */
static void mcp(const char *path, const char *const *extra, size_t n_extra, const char *method,
                const char *tool, json_t *args, struct reply *r)
{
    json_t *params = json_pack("{s:{s:s, s:{}}}", "_meta",
                               "io.modelcontextprotocol/protocolVersion", "2026-07-28",
                               "io.modelcontextprotocol/clientCapabilities");
    json_t *msg;
    const char *headers[12];
    char mh[96], nh[96], *body;
    size_t n = 0;

    if (tool) {
        json_object_set_new(params, "name", json_string(tool));
        if (args)
            json_object_set(params, "arguments", args);
    }
    msg = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 7, "method", method,
                    "params", params);
    body = json_dumps(msg, JSON_COMPACT);
    snprintf(mh, sizeof mh, "Mcp-Method: %s", method);
    snprintf(nh, sizeof nh, "Mcp-Name: %s", tool ? tool : "");
    headers[n++] = "Content-Type: application/json";
    headers[n++] = "Accept: application/json, text/event-stream";
    headers[n++] = "MCP-Protocol-Version: 2026-07-28";
    headers[n++] = mh;
    if (tool)
        headers[n++] = nh;
    for (size_t i = 0; i < n_extra && n < 12; i++)
        headers[n++] = extra[i];
    http("POST", path, headers, n, body, r);
    free(body);
    json_decref(msg);
}

/* POST with "Authorization: <scheme> <token>" (token NULL: no Authorization). */
static void mcp_auth(const char *scheme, const char *token, const char *method, const char *tool,
                     json_t *args, struct reply *r)
{
    char *h = NULL;
    const char *hs[1] = { NULL };

    if (token) {
        h = malloc(strlen(scheme) + strlen(token) + 20);
        sprintf(h, "Authorization: %s %s", scheme, token);
        hs[0] = h;
    }
    mcp("/mcp", hs, token ? 1 : 0, method, tool, args, r);
    free(h);
}

/* tools/call write_note {"text": "hello"} with a bearer token (NULL: none). */
static void write_note(const char *token, struct reply *r)
{
    json_t *args = json_pack("{s:s}", "text", "hello");

    mcp_auth("Bearer", token, "tools/call", "write_note", args, r);
    json_decref(args);
}

/* Lines in the ledger (0 when it does not exist). */
static int ledger_lines(void)
{
    FILE *f = fopen(fx.ledger, "r");
    int c, n = 0;

    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* ---- tokens ------------------------------------------------------------------------------- */

/* Access-token claims for our resource, valid now for 300 s. New reference. */
static json_t *access_claims(const char *scope)
{
    long long now = (long long)time(NULL);
    char jti[32];

    snprintf(jti, sizeof jti, "jti-%lu", ++fx.serial);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", fx.issuer, "sub",
                     "user-1", "client_id", "client-1", "aud", fx.resource, "scope", scope,
                     "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                     (json_int_t)(now + 300), "jti", jti);
}

/* Sign claims (borrowed) with k under {"alg", "typ": typ, "kid": kid (NULL: k's own)}. */
static char *mint_kid(const mcpc_jose_key *k, const char *typ, const char *kid, json_t *claims)
{
    json_t *h = mcpc_jose_header(k, typ);
    char *t;

    if (kid)
        json_object_set_new(h, "kid", json_string(kid));
    t = mcpc_jose_sign(k, h, claims);
    json_decref(h);
    ck_assert_ptr_nonnull(t);
    return t;
}

static char *mint(const mcpc_jose_key *k, const char *typ, json_t *claims)
{
    return mint_kid(k, typ, NULL, claims);
}

/* A valid access token with scope. New string. */
static char *valid_token(const char *scope)
{
    json_t *c = access_claims(scope);
    char *t = mint(fx.es, "at+jwt", c);

    json_decref(c);
    return t;
}

/* Set member name of claims to the integer v. */
static void set_int(json_t *claims, const char *name, long long v)
{
    json_object_set_new(claims, name, json_integer((json_int_t)v));
}

/* base64url(SHA-256(s)) into out. */
static void sha256_b64url(const char *s, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;

    ck_assert_int_eq(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL), 1);
    mcpc_b64url_encode_to(md, sizeof md, out);
}

/* Per-call token claims for tool with args (borrowed), bound to the DPoP key k. */
static json_t *call_claims(const char *tool, json_t *args, const mcpc_jose_key *k)
{
    json_t *c = access_claims(SCOPES_ALL), *jwk = mcpc_jose_key_public_jwk(k);
    char digest[44], jkt[44];

    ck_assert_int_eq(mcpc_jcs_sha256_b64url(args, digest), MCPC_OK);
    ck_assert_int_eq(mcpc_jose_thumbprint(jwk, jkt), MCPC_OK);
    set_int(c, "exp", json_integer_value(json_object_get(c, "iat")) + 60);
    json_object_set_new(c, "cnf", json_pack("{s:s}", "jkt", jkt));
    json_object_set_new(c, "authorization_details",
                        json_pack("[{s:s, s:s, s:s}]", "type", "mcps_tool_call", "tool", tool,
                                  "args_sha256", digest));
    json_decref(jwk);
    return c;
}

/* A DPoP proof by k for token. New string. */
static char *proof(const mcpc_jose_key *k, const char *token, const char *htm, const char *htu,
                   long long iat)
{
    json_t *h = json_pack("{s:s, s:s, s:o}", "typ", "dpop+jwt", "alg",
                          mcpc_jose_alg_name(mcpc_jose_key_alg(k)), "jwk",
                          mcpc_jose_key_public_jwk(k));
    json_t *c;
    char ath[44], jti[32], *t;

    sha256_b64url(token, ath);
    snprintf(jti, sizeof jti, "proof-%lu", ++fx.serial);
    c = json_pack("{s:s, s:s, s:s, s:I, s:s}", "jti", jti, "htm", htm, "htu", htu, "iat",
                  (json_int_t)iat, "ath", ath);
    t = mcpc_jose_sign(k, h, c);
    ck_assert_ptr_nonnull(t);
    json_decref(h);
    json_decref(c);
    return t;
}

/* tools/call delete_notes {} with Authorization: DPoP token and the proof (NULL: no DPoP). */
static void delete_with(const char *token, const char *dpop, struct reply *r)
{
    char *a = malloc(strlen(token) + 32), *d = dpop ? malloc(strlen(dpop) + 16) : NULL;
    const char *hs[2];
    json_t *args = json_object();

    sprintf(a, "Authorization: DPoP %s", token);
    hs[0] = a;
    if (d) {
        sprintf(d, "DPoP: %s", dpop);
        hs[1] = d;
    }
    mcp("/mcp", hs, d ? 2 : 1, "tools/call", "delete_notes", args, r);
    json_decref(args);
    free(a);
    free(d);
}

/* delete_notes with a call token made from claims (borrowed) and a good proof. */
static void delete_claims(json_t *claims, struct reply *r)
{
    char *t = mint(fx.es, "mcps-call+jwt", claims);
    char *p = proof(fx.dpop, t, "POST", fx.resource, (long long)time(NULL));

    delete_with(t, p, r);
    free(t);
    free(p);
}

/* ---- assertions --------------------------------------------------------------------------- */

/* r is a JSON-RPC error (no result) answered with status. */
static void assert_refused(const struct reply *r, long status)
{
    ck_assert_msg(r->status == status, "status %ld, %ld expected; body %s", r->status, status,
                  r->body);
    ck_assert_ptr_nonnull(r->json);
    ck_assert_ptr_nonnull(json_object_get(r->json, "error"));
    ck_assert_ptr_null(json_object_get(r->json, "result"));
}

/* 401 with a Bearer invalid_token challenge that names the metadata. */
static void assert_invalid_token(const struct reply *r)
{
    assert_refused(r, 401);
    ck_assert_msg(strncmp(r->www, "Bearer ", 7) == 0, "challenge: %s", r->www);
    ck_assert_ptr_nonnull(strstr(r->www, "error=\"invalid_token\""));
    ck_assert_ptr_nonnull(strstr(r->www, fx.prm));
}

/* 401 + DPoP invalid_token challenge + -31002 with data.reason. */
static void assert_call_refused(const struct reply *r, const char *reason)
{
    json_t *err;

    assert_refused(r, 401);
    ck_assert_msg(strncmp(r->www, "DPoP error=\"invalid_token\"", 26) == 0, "challenge: %s",
                  r->www);
    err = json_object_get(r->json, "error");
    ck_assert_int_eq(json_integer_value(json_object_get(err, "code")), -31002);
    if (reason)
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(err, "data"),
                                                           "reason")), reason);
}

/* 200 with a JSON-RPC result that is not a tool error. */
static void assert_served(const struct reply *r)
{
    json_t *res;

    ck_assert_msg(r->status == 200, "status %ld; www %s; body %s", r->status, r->www, r->body);
    res = json_object_get(r->json, "result");
    ck_assert_msg(res != NULL, "no result: %s", r->body);
    ck_assert_msg(!json_is_true(json_object_get(res, "isError")), "tool error: %s", r->body);
}

/* ---- fixture ------------------------------------------------------------------------------ */

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.es = mcpc_jose_key_generate(MCPC_JOSE_ES256);
    fx.ed = mcpc_jose_key_generate(MCPC_JOSE_EDDSA);
    fx.rotated = mcpc_jose_key_generate(MCPC_JOSE_ES256);
    fx.foreign_key = mcpc_jose_key_generate(MCPC_JOSE_ES256);
    fx.dpop = mcpc_jose_key_generate(MCPC_JOSE_ES256);
    fx.dpop_other = mcpc_jose_key_generate(MCPC_JOSE_EDDSA);
    ck_assert(fx.es && fx.ed && fx.rotated && fx.foreign_key && fx.dpop && fx.dpop_other);
}

static void teardown(void)
{
    if (fx.pid > 0) {
        kill(fx.pid, SIGKILL);
        waitpid(fx.pid, NULL, 0);
        close(fx.in_w);
    }
    mcpc_listener_stop(fx.as);
    if (fx.dir[0]) {
        unlink(fx.ledger);
        rmdir(fx.dir);
    }
    mcpc_jose_key_free(fx.es);
    mcpc_jose_key_free(fx.ed);
    mcpc_jose_key_free(fx.rotated);
    mcpc_jose_key_free(fx.foreign_key);
    mcpc_jose_key_free(fx.dpop);
    mcpc_jose_key_free(fx.dpop_other);
    memset(&fx, 0, sizeof fx);
}

/* ---- protected resource metadata and the bare challenge ----------------------------------- */

START_TEST(test_metadata)
{
    const char *paths[] = { "/.well-known/oauth-protected-resource/mcp",
                            "/.well-known/oauth-protected-resource" };
    struct reply r;
    json_t *scopes;

    start(NULL, false);
    for (size_t i = 0; i < 2; i++) {
        http("GET", paths[i], NULL, 0, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(json_string_value(json_object_get(r.json, "resource")), fx.resource);
        ck_assert_str_eq(json_string_value(json_array_get(
                             json_object_get(r.json, "authorization_servers"), 0)), fx.issuer);
        scopes = json_object_get(r.json, "scopes_supported");
        ck_assert_int_eq(json_array_size(scopes), 2);
        ck_assert_str_eq(json_string_value(json_array_get(scopes, 0)), "mcp:tools");
        ck_assert_str_eq(json_string_value(json_array_get(scopes, 1)), "mcp:write");
        ck_assert_str_eq(json_string_value(json_array_get(
                             json_object_get(r.json, "bearer_methods_supported"), 0)), "header");
        reply_clear(&r);
    }
    stop();
}
END_TEST

START_TEST(test_no_token)
{
    char expect[256];
    struct reply r;

    start(NULL, false);
    snprintf(expect, sizeof expect, "Bearer resource_metadata=\"%s\"", fx.prm);
    mcp_auth("Bearer", NULL, "tools/list", NULL, NULL, &r);
    assert_refused(&r, 401);
    ck_assert_str_eq(r.www, expect);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "id")), 7);
    reply_clear(&r);
    write_note(NULL, &r);
    assert_refused(&r, 401);
    reply_clear(&r);
    /* every method on the endpoint, not only POST */
    http("GET", "/mcp", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.www, expect);
    reply_clear(&r);
    http("DELETE", "/mcp", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 401);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 0);
    stop();
}
END_TEST

/* The tools listed to token t (all pages). New reference. */
static json_t *list_tools(const char *t)
{
    json_t *all = json_array(), *next;
    char *a = malloc(strlen(t) + 32), *cursor = NULL;
    const char *hs[4] = { "Content-Type: application/json", "MCP-Protocol-Version: 2026-07-28",
                          "Mcp-Method: tools/list", a };
    struct reply r;

    sprintf(a, "Authorization: Bearer %s", t);
    do {
        json_t *params = json_pack("{s:{s:s, s:{}}}", "_meta",
                                   "io.modelcontextprotocol/protocolVersion", "2026-07-28",
                                   "io.modelcontextprotocol/clientCapabilities");
        json_t *msg;
        char *body;
        if (cursor)
            json_object_set_new(params, "cursor", json_string(cursor));
        msg = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 3, "method",
                        "tools/list", "params", params);
        body = json_dumps(msg, JSON_COMPACT);
        http("POST", "/mcp", hs, 4, body, &r);
        ck_assert_int_eq(r.status, 200);
        json_array_extend(all, json_object_get(json_object_get(r.json, "result"), "tools"));
        next = json_object_get(json_object_get(r.json, "result"), "nextCursor");
        free(cursor);
        cursor = next ? strdup(json_string_value(next)) : NULL;
        reply_clear(&r);
        free(body);
        json_decref(msg);
    } while (cursor);
    free(a);
    return all;
}

/* ---- valid tokens ------------------------------------------------------------------------- */

START_TEST(test_valid_token)
{
    char *t, *ed;
    struct reply r;
    json_t *tools, *claims;
    size_t i;

    start(NULL, false);
    t = valid_token(SCOPES_ALL);
    mcp_auth("bearer", t, "tools/list", NULL, NULL, &r);   /* the scheme is case-insensitive */
    assert_served(&r);
    reply_clear(&r);
    write_note(t, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    /* an EdDSA token, with aud as an array that contains the resource */
    claims = access_claims(SCOPES_ALL);
    json_object_set_new(claims, "aud", json_pack("[s, s]", "http://127.0.0.1:1/x", fx.resource));
    ed = mint(fx.ed, "at+jwt", claims);
    write_note(ed, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 2);
    free(ed);
    json_decref(claims);
    /* the tool list: delete_notes asks for a per-call token, fetch_report is not there */
    tools = list_tools(t);
    ck_assert_int_eq(json_array_size(tools), 7);
    for (i = 0; i < json_array_size(tools); i++) {
        json_t *tool = json_array_get(tools, i);
        const char *name = json_string_value(json_object_get(tool, "name"));
        json_t *meta = json_object_get(tool, "_meta");
        ck_assert_str_ne(name, "fetch_report");
        if (strcmp(name, "delete_notes") == 0)
            ck_assert_str_eq(json_string_value(json_object_get(meta, "com.example.mcps/callToken")),
                             "required");
        else
            ck_assert_ptr_null(meta);
    }
    json_decref(tools);
    free(t);
    stop();
}
END_TEST

/* 2025-11-25: initialize itself needs a token; with one it opens the session as ever. */
START_TEST(test_legacy_session)
{
    static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                               "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                               "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
    char *t = NULL, *a;
    const char *hs[2] = { "Content-Type: application/json", NULL };
    struct reply r;

    start(NULL, false);
    http("POST", "/mcp", hs, 1, init, &r);
    assert_refused(&r, 401);
    reply_clear(&r);
    t = valid_token("mcp:tools");
    a = malloc(strlen(t) + 32);
    sprintf(a, "Authorization: Bearer %s", t);
    hs[1] = a;
    http("POST", "/mcp", hs, 2, init, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(json_object_get(r.json, "result"));
    reply_clear(&r);
    free(a);
    free(t);
    stop();
}
END_TEST

/* ---- invalid credentials: 401 invalid_token, nothing run ---------------------------------- */

START_TEST(test_invalid_tokens)
{
    long long now = (long long)time(NULL);
    struct reply r;
    json_t *c, *h;
    char *good;
    unsigned char *pub;
    size_t publen;
    enum { N = 14 };
    char *bad[N] = { 0 };
    const char *what[N] = { "expired", "nbf in the future", "bad signature", "alg none",
                            "HS256 keyed with the public key", "unknown kid", "foreign issuer",
                            "foreign iss under a trusted key", "wrong audience",
                            "audience = client_id", "no exp", "typ JWT", "iat in the future",
                            "not a JWT (static key)" };

    start(NULL, false);
    good = valid_token(SCOPES_ALL);
    c = access_claims(SCOPES_ALL);
    set_int(c, "iat", now - 400);
    set_int(c, "nbf", now - 400);
    set_int(c, "exp", now - 100);
    bad[0] = mint(fx.es, "at+jwt", c);
    json_decref(c);
    c = access_claims(SCOPES_ALL);
    set_int(c, "nbf", now + 120);
    bad[1] = mint(fx.es, "at+jwt", c);
    json_decref(c);
    bad[2] = mcpc_jose_tamper(good, MCPC_JOSE_TAMPER_SIGNATURE);
    c = access_claims(SCOPES_ALL);
    h = json_pack("{s:s, s:s}", "alg", "none", "typ", "at+jwt");
    bad[3] = mcpc_jose_unsigned(h, c);
    json_decref(h);
    h = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "typ", "at+jwt", "kid",
                  mcpc_jose_key_kid(fx.es));
    pub = mcpc_jose_key_public_bytes(fx.es, MCPC_JOSE_PUB_PEM, &publen);
    bad[4] = mcpc_jose_mint_hs256_with(pub, publen, h, c);
    free(pub);
    json_decref(h);
    bad[5] = mint_kid(fx.es, "at+jwt", "never-published", c);
    json_decref(c);
    c = access_claims(SCOPES_ALL);
    json_object_set_new(c, "iss", json_string(mcpc_as_foreign_issuer()));
    bad[6] = mint(fx.foreign_key, "at+jwt", c);
    bad[7] = mint(fx.es, "at+jwt", c);
    json_decref(c);
    c = access_claims(SCOPES_ALL);
    json_object_set_new(c, "aud", json_string("http://127.0.0.1:1/mcp"));
    bad[8] = mint(fx.es, "at+jwt", c);
    json_object_set_new(c, "aud", json_string("client-1"));
    bad[9] = mint(fx.es, "at+jwt", c);
    json_object_set_new(c, "aud", json_string(fx.resource));
    json_object_del(c, "exp");
    bad[10] = mint(fx.es, "at+jwt", c);
    json_decref(c);
    c = access_claims(SCOPES_ALL);
    bad[11] = mint(fx.es, "JWT", c);
    set_int(c, "iat", now + 120);
    bad[12] = mint(fx.es, "at+jwt", c);
    json_decref(c);
    bad[13] = strdup(MCPC_BATTERY_STATIC_KEY);
    for (int i = 0; i < N; i++) {
        ck_assert_ptr_nonnull(bad[i]);
        write_note(bad[i], &r);
        ck_assert_msg(r.status == 401, "%s: status %ld", what[i], r.status);
        assert_invalid_token(&r);
        reply_clear(&r);
        free(bad[i]);
    }
    ck_assert_int_eq(ledger_lines(), 0);
    /* the same request with the good token runs */
    write_note(good, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    free(good);
    stop();
}
END_TEST

/* Tokens anywhere but the Authorization header, and static API keys, are never taken. */
START_TEST(test_token_elsewhere)
{
    char *t, path[20100], *form;
    const char *key[] = { "X-API-Key: " MCPC_BATTERY_STATIC_KEY };
    const char *two[2];
    const char *form_h[] = { "Content-Type: application/x-www-form-urlencoded" };
    json_t *args = json_pack("{s:s}", "text", "x");
    struct reply r;

    start(NULL, false);
    t = valid_token(SCOPES_ALL);
    snprintf(path, sizeof path, "/mcp?access_token=%s", t);
    mcp(path, NULL, 0, "tools/call", "write_note", args, &r);
    assert_refused(&r, 401);
    ck_assert_ptr_null(strstr(r.www, "error="));        /* no token was presented */
    reply_clear(&r);
    form = malloc(strlen(t) + 32);
    sprintf(form, "access_token=%s", t);
    http("POST", "/mcp", form_h, 1, form, &r);
    ck_assert_int_eq(r.status, 401);
    reply_clear(&r);
    mcp("/mcp", key, 1, "tools/call", "write_note", args, &r);
    assert_refused(&r, 401);
    reply_clear(&r);
    /* two Authorization headers */
    two[0] = form;
    sprintf(form, "Authorization: Bearer %s", t);
    two[1] = form;
    mcp("/mcp", two, 2, "tools/call", "write_note", args, &r);
    assert_invalid_token(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 0);
    free(form);
    free(t);
    json_decref(args);
    stop();
}
END_TEST

/* The gate classifies a call by the raw JSON, as the dispatcher reads it even when a flaw
 * repairs an invalid message: a write without "jsonrpc" under lax-version still needs
 * mcp:write. */
START_TEST(test_gate_reads_repaired_messages)
{
    static const char fmt[] = "{\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
                              "\"write_note\",\"arguments\":{\"text\":\"x\"}}}";
    char *t, *a;
    const char *hs[2] = { "Content-Type: application/json", NULL };
    struct reply r;

    start("lax-version", false);
    t = valid_token("mcp:tools");
    a = malloc(strlen(t) + 32);
    sprintf(a, "Authorization: Bearer %s", t);
    hs[1] = a;
    http("POST", "/mcp", hs, 2, fmt, &r);
    assert_refused(&r, 403);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 0);
    free(a);
    free(t);
    stop();
}
END_TEST

/* ---- scope -------------------------------------------------------------------------------- */

START_TEST(test_scope)
{
    char *reader, *none, expect[300];
    struct reply r;
    json_t *args = json_pack("{s:s}", "text", "hi");

    start(NULL, false);
    reader = valid_token("mcp:tools");
    none = valid_token("openid");
    write_note(reader, &r);
    assert_refused(&r, 403);
    snprintf(expect, sizeof expect, "scope=\"mcp:tools mcp:write\", resource_metadata=\"%s\"",
             fx.prm);
    ck_assert_msg(strncmp(r.www, "Bearer error=\"insufficient_scope\"", 33) == 0, "%s", r.www);
    ck_assert_ptr_nonnull(strstr(r.www, expect));
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 0);
    /* read-class tools and listing need only mcp:tools */
    mcp_auth("Bearer", reader, "tools/call", "echo", args, &r);
    assert_served(&r);
    reply_clear(&r);
    mcp_auth("Bearer", none, "tools/list", NULL, NULL, &r);
    assert_refused(&r, 403);
    ck_assert_ptr_nonnull(strstr(r.www, "scope=\"mcp:tools\""));
    reply_clear(&r);
    json_decref(args);
    free(reader);
    free(none);
    stop();
}
END_TEST

/* ---- the JWKS: rotation, and at most one refetch per 10 s --------------------------------- */

START_TEST(test_jwks_refresh)
{
    json_t *c;
    char *rotated, *unknown;
    struct reply r;
    int fetches;

    start(NULL, false);
    mcpc_listener_lock(fx.as);
    ck_assert_int_eq(fx.jwks_fetches, 1);              /* at start */
    fx.publish_rotated = true;
    mcpc_listener_unlock(fx.as);
    c = access_claims(SCOPES_ALL);
    rotated = mint(fx.rotated, "at+jwt", c);
    unknown = mint_kid(fx.es, "at+jwt", "nobody", c);
    write_note(rotated, &r);                            /* unknown kid: refetch, then found */
    assert_served(&r);
    reply_clear(&r);
    write_note(unknown, &r);                            /* too soon for another fetch */
    assert_invalid_token(&r);
    reply_clear(&r);
    write_note(unknown, &r);
    assert_invalid_token(&r);
    reply_clear(&r);
    mcpc_listener_lock(fx.as);
    fetches = fx.jwks_fetches;
    mcpc_listener_unlock(fx.as);
    ck_assert_int_eq(fetches, 2);
    json_decref(c);
    free(rotated);
    free(unknown);
    stop();
}
END_TEST

/* exp - iat = 61 s: one second too long for a per-call token */
static void edit_lifetime_61(json_t *c)
{
    set_int(c, "exp", json_integer_value(json_object_get(c, "iat")) + 61);
}

/* ---- per-call tokens ---------------------------------------------------------------------- */

START_TEST(test_call_token)
{
    json_t *empty = json_object(), *other = json_pack("{s:i}", "a", 1), *c;
    char *t, *p, *at;
    struct reply r;
    long long now = (long long)time(NULL);
    unsigned char *key;
    size_t keylen;

    start(NULL, false);
    /* a plain access token, even with every scope, is not enough */
    at = valid_token(SCOPES_ALL);
    mcp_auth("Bearer", at, "tools/call", "delete_notes", empty, &r);
    assert_call_refused(&r, "typ");
    reply_clear(&r);
    /* ... nor presented with the DPoP scheme and a proof */
    p = proof(fx.dpop, at, "POST", fx.resource, now);
    delete_with(at, p, &r);
    assert_call_refused(&r, "typ");
    reply_clear(&r);
    free(p);
    ck_assert_int_eq(ledger_lines(), 0);

    /* the good one runs once */
    c = call_claims("delete_notes", empty, fx.dpop);
    t = mint(fx.es, "mcps-call+jwt", c);
    p = proof(fx.dpop, t, "POST", fx.resource, now);
    delete_with(t, p, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    free(p);
    /* replayed with a fresh proof */
    p = proof(fx.dpop, t, "POST", fx.resource, now);
    delete_with(t, p, &r);
    assert_call_refused(&r, "replay");
    reply_clear(&r);
    free(p);
    free(t);
    json_decref(c);

    /* the token's own defects */
    c = call_claims("write_note", empty, fx.dpop);
    delete_claims(c, &r);
    assert_call_refused(&r, "binding");
    reply_clear(&r);
    json_decref(c);
    c = call_claims("delete_notes", other, fx.dpop);
    delete_claims(c, &r);
    assert_call_refused(&r, "binding");
    reply_clear(&r);
    json_decref(c);
    c = call_claims("delete_notes", empty, fx.dpop);
    edit_lifetime_61(c);
    delete_claims(c, &r);
    assert_call_refused(&r, "expired");
    reply_clear(&r);
    set_int(c, "iat", now - 70);
    set_int(c, "nbf", now - 70);
    set_int(c, "exp", now - 10);
    delete_claims(c, &r);
    assert_call_refused(&r, "expired");
    reply_clear(&r);
    json_decref(c);
    c = call_claims("delete_notes", empty, fx.dpop);
    json_object_set_new(c, "aud", json_string("http://127.0.0.1:1/mcp"));
    delete_claims(c, &r);
    assert_call_refused(&r, "audience");
    reply_clear(&r);
    json_decref(c);

    /* the proof's defects */
    c = call_claims("delete_notes", empty, fx.dpop);
    t = mint(fx.es, "mcps-call+jwt", c);
    delete_with(t, NULL, &r);                                       /* no proof */
    assert_call_refused(&r, "binding");
    reply_clear(&r);
    {
        char *bad[7];
        json_t *h, *pc;
        char ath[44];

        bad[0] = proof(fx.dpop, t, "GET", fx.resource, now);
        bad[1] = proof(fx.dpop, t, "POST", "http://127.0.0.1:1/mcp", now);
        bad[2] = proof(fx.dpop, t, "POST", fx.resource, now - 400);
        p = proof(fx.dpop, t, "POST", fx.resource, now);
        bad[3] = mcpc_jose_tamper(p, MCPC_JOSE_TAMPER_SIGNATURE);
        free(p);
        bad[4] = proof(fx.dpop, "some other token", "POST", fx.resource, now);   /* ath */
        bad[5] = proof(fx.dpop_other, t, "POST", fx.resource, now);           /* not cnf.jkt */
        h = json_pack("{s:s, s:s, s:o}", "typ", "dpop+jwt", "alg", "HS256", "jwk",
                      mcpc_jose_key_public_jwk(fx.dpop));
        sha256_b64url(t, ath);
        pc = json_pack("{s:s, s:s, s:s, s:I, s:s}", "jti", "hmac", "htm", "POST", "htu",
                       fx.resource, "iat", (json_int_t)now, "ath", ath);
        key = mcpc_jose_key_public_bytes(fx.dpop, MCPC_JOSE_PUB_RAW, &keylen);
        bad[6] = mcpc_jose_mint_hs256_with(key, keylen, h, pc);
        free(key);
        json_decref(h);
        json_decref(pc);
        for (int i = 0; i < 7; i++) {
            ck_assert_ptr_nonnull(bad[i]);
            delete_with(t, bad[i], &r);
            ck_assert_msg(r.status == 401, "proof %d: status %ld", i, r.status);
            assert_call_refused(&r, "binding");
            reply_clear(&r);
            free(bad[i]);
        }
    }
    ck_assert_int_eq(ledger_lines(), 1);
    /* none of the refusals burnt the token: it still runs, once */
    p = proof(fx.dpop, t, "POST", fx.resource, now);
    delete_with(t, p, &r);
    assert_served(&r);
    reply_clear(&r);
    free(p);
    ck_assert_int_eq(ledger_lines(), 2);
    free(t);
    json_decref(c);
    free(at);
    json_decref(empty);
    json_decref(other);
    stop();
}
END_TEST

/* ---- fetch_report: a token of the server's own goes upstream ------------------------------ */

START_TEST(test_fetch_report)
{
    char *t, *esc;
    struct reply r;
    json_t *tools, *empty = json_object(), *last;

    start(NULL, true);
    t = valid_token("mcp:tools");
    tools = list_tools(t);
    ck_assert_int_eq(json_array_size(tools), 8);
    last = json_array_get(tools, 7);
    ck_assert_str_eq(json_string_value(json_object_get(last, "name")), "fetch_report");
    json_decref(tools);
    mcp_auth("Bearer", t, "tools/call", "fetch_report", empty, &r);
    assert_served(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(
                         json_object_get(r.json, "result"), "content"), 0), "text")),
                     REPORT_TEXT);
    reply_clear(&r);
    mcpc_listener_lock(fx.as);
    ck_assert_str_eq(fx.upstream_auth, "Bearer " OWN_TOKEN);
    ck_assert_int_eq(fx.token_calls, 1);
    ck_assert_ptr_nonnull(strstr(fx.token_body, "grant_type=client_credentials"));
    esc = curl_easy_escape(NULL, fx.upstream, 0);
    ck_assert_ptr_nonnull(strstr(fx.token_body, esc));
    curl_free(esc);
    /* client_secret_basic with form-encoded id and secret: "refserver%20client:s3cret%3A%26%3D" */
    ck_assert_str_eq(fx.token_auth, "Basic cmVmc2VydmVyJTIwY2xpZW50OnMzY3JldCUzQSUyNiUzRA==");
    mcpc_listener_unlock(fx.as);
    json_decref(empty);
    free(t);
    stop();
}
END_TEST

/* Without MCPCERT_AUTH_ISSUER the HTTP server is what it always was. */
START_TEST(test_auth_off)
{
    int in[2], out[2];
    char line[256] = "";
    ssize_t n;
    struct reply r;
    json_t *args = json_pack("{s:s}", "text", "x");
    int status;

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    fx.pid = fork();
    if (fx.pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        unsetenv("MCPCERT_AUTH_ISSUER");
        unsetenv("MCPCERT_LEDGER");
        execl(REFSERVER, "refserver", "--http", "0", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fx.in_w = in[1];
    n = read(out[0], line, sizeof line - 1);
    ck_assert_int_gt(n, 0);
    close(out[0]);
    fx.port = (unsigned)strtoul(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    mcp_auth("Bearer", NULL, "tools/call", "echo", args, &r);
    assert_served(&r);
    reply_clear(&r);
    http("GET", "/.well-known/oauth-protected-resource/mcp", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    reply_clear(&r);
    json_decref(args);
    close(fx.in_w);
    waitpid(fx.pid, &status, 0);
    fx.pid = 0;
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* ---- every OAuth flaw lets its bad token through ------------------------------------------ */

static void probe_auth_optional(void)
{
    struct reply r;

    write_note(NULL, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
}

static void probe_no_resource_metadata(void)
{
    struct reply r;

    write_note(NULL, &r);
    assert_refused(&r, 401);
    ck_assert_ptr_null(strstr(r.www, "resource_metadata"));
    reply_clear(&r);
    http("GET", "/.well-known/oauth-protected-resource/mcp", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    reply_clear(&r);
}

static void probe_prm_wrong_resource(void)
{
    struct reply r;

    http("GET", "/.well-known/oauth-protected-resource/mcp", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_ne(json_string_value(json_object_get(r.json, "resource")), fx.resource);
    reply_clear(&r);
}

/* write_note with a token made from valid access claims edited by edit, signed by k. */
static void accepted_claims(const mcpc_jose_key *k, const char *kid, void (*edit)(json_t *))
{
    json_t *c = access_claims(SCOPES_ALL);
    char *t;
    struct reply r;

    edit(c);
    t = mint_kid(k, "at+jwt", kid, c);
    write_note(t, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    free(t);
    json_decref(c);
}

static void edit_nothing(json_t *c)
{
    (void)c;
}

static void edit_audience(json_t *c)
{
    json_object_set_new(c, "aud", json_string("http://127.0.0.1:1/mcp"));
}

static void edit_expired(json_t *c)
{
    long long now = (long long)time(NULL);

    set_int(c, "iat", now - 400);
    set_int(c, "nbf", now - 400);
    set_int(c, "exp", now - 100);
}

static void edit_nbf(json_t *c)
{
    set_int(c, "nbf", (long long)time(NULL) + 120);
}

static void edit_foreign(json_t *c)
{
    json_object_set_new(c, "iss", json_string(mcpc_as_foreign_issuer()));
}

static void edit_reader(json_t *c)
{
    json_object_set_new(c, "scope", json_string("mcp:tools"));
}

static void probe_aud_unchecked(void) { accepted_claims(fx.es, NULL, edit_audience); }
static void probe_exp_unchecked(void) { accepted_claims(fx.es, NULL, edit_expired); }
static void probe_nbf_unchecked(void) { accepted_claims(fx.es, NULL, edit_nbf); }
static void probe_kid_unchecked(void) { accepted_claims(fx.es, "never-published", edit_nothing); }
static void probe_issuer_unchecked(void) { accepted_claims(fx.foreign_key, NULL, edit_foreign); }
static void probe_scope_unchecked(void) { accepted_claims(fx.es, NULL, edit_reader); }

static void probe_signature_unchecked(void)
{
    json_t *c = access_claims(SCOPES_ALL), *h = json_pack("{s:s, s:s}", "alg", "none", "typ",
                                                          "at+jwt");
    char *t = mcpc_jose_unsigned(h, c);
    struct reply r;

    write_note(t, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    free(t);
    json_decref(h);
    json_decref(c);
}

static void probe_query_token_accepted(void)
{
    char *t = valid_token(SCOPES_ALL), path[20100];
    json_t *args = json_pack("{s:s}", "text", "x");
    struct reply r;

    snprintf(path, sizeof path, "/mcp?access_token=%s", t);
    mcp(path, NULL, 0, "tools/call", "write_note", args, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    json_decref(args);
    free(t);
}

static void probe_token_passthrough(void)
{
    char *t = valid_token("mcp:tools"), expect[4096];
    json_t *empty = json_object();
    struct reply r;

    mcp_auth("Bearer", t, "tools/call", "fetch_report", empty, &r);
    assert_served(&r);
    reply_clear(&r);
    snprintf(expect, sizeof expect, "Bearer %s", t);
    mcpc_listener_lock(fx.as);
    ck_assert_str_eq(fx.upstream_auth, expect);
    ck_assert_int_eq(fx.token_calls, 0);
    mcpc_listener_unlock(fx.as);
    json_decref(empty);
    free(t);
}

static void probe_static_key_accepted(void)
{
    const char *key[] = { "X-API-Key: " MCPC_BATTERY_STATIC_KEY };
    json_t *args = json_pack("{s:s}", "text", "x");
    struct reply r;

    mcp("/mcp", key, 1, "tools/call", "write_note", args, &r);
    assert_served(&r);
    reply_clear(&r);
    write_note(MCPC_BATTERY_STATIC_KEY, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 2);
    json_decref(args);
}

static void probe_call_token_replay(void)
{
    json_t *empty = json_object(), *c = call_claims("delete_notes", empty, fx.dpop);
    char *t = mint(fx.es, "mcps-call+jwt", c), *p;
    struct reply r;

    for (int i = 0; i < 2; i++) {
        p = proof(fx.dpop, t, "POST", fx.resource, (long long)time(NULL));
        delete_with(t, p, &r);
        assert_served(&r);
        reply_clear(&r);
        free(p);
    }
    ck_assert_int_eq(ledger_lines(), 2);
    free(t);
    json_decref(c);
    json_decref(empty);
}

/* delete_notes with a call token made by call_claims and then edited. */
static void call_accepted(const char *tool, void (*edit)(json_t *))
{
    json_t *empty = json_object(), *c = call_claims(tool, empty, fx.dpop);
    struct reply r;

    edit(c);
    delete_claims(c, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    json_decref(c);
    json_decref(empty);
}

static void probe_call_binding_unchecked(void) { call_accepted("write_note", edit_nothing); }
static void probe_call_lifetime_unchecked(void) { call_accepted("delete_notes", edit_lifetime_61); }

static void probe_call_typ_unchecked(void)
{
    char *t = valid_token(SCOPES_ALL);
    json_t *empty = json_object();
    struct reply r;

    mcp_auth("Bearer", t, "tools/call", "delete_notes", empty, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    json_decref(empty);
    free(t);
}

static void probe_dpop_unchecked(void)
{
    json_t *empty = json_object(), *c = call_claims("delete_notes", empty, fx.dpop);
    char *t = mint(fx.es, "mcps-call+jwt", c);
    struct reply r;

    delete_with(t, NULL, &r);
    assert_served(&r);
    reply_clear(&r);
    ck_assert_int_eq(ledger_lines(), 1);
    free(t);
    json_decref(c);
    json_decref(empty);
}

static const struct {
    const char *flaw;
    void (*probe)(void);
    bool upstream;
} flaw_probes[] = {
    { "auth-optional", probe_auth_optional, false },
    { "no-resource-metadata", probe_no_resource_metadata, false },
    { "prm-wrong-resource", probe_prm_wrong_resource, false },
    { "aud-unchecked", probe_aud_unchecked, false },
    { "exp-unchecked", probe_exp_unchecked, false },
    { "nbf-unchecked", probe_nbf_unchecked, false },
    { "signature-unchecked", probe_signature_unchecked, false },
    { "kid-unchecked", probe_kid_unchecked, false },
    { "issuer-unchecked", probe_issuer_unchecked, false },
    { "query-token-accepted", probe_query_token_accepted, false },
    { "scope-unchecked", probe_scope_unchecked, false },
    { "token-passthrough", probe_token_passthrough, true },
    { "static-key-accepted", probe_static_key_accepted, false },
    { "call-token-replay", probe_call_token_replay, false },
    { "call-binding-unchecked", probe_call_binding_unchecked, false },
    { "call-lifetime-unchecked", probe_call_lifetime_unchecked, false },
    { "call-typ-unchecked", probe_call_typ_unchecked, false },
    { "dpop-unchecked", probe_dpop_unchecked, false },
};

#define N_PROBES ((int)(sizeof flaw_probes / sizeof flaw_probes[0]))

START_TEST(test_flaw)
{
    start(flaw_probes[_i].flaw, flaw_probes[_i].upstream);
    flaw_probes[_i].probe();
    stop();
}
END_TEST

/* Every OAuth flaw of --list-flaws has a probe here. */
START_TEST(test_every_flaw_probed)
{
    FILE *p = popen(REFSERVER " --list-flaws", "r");
    char line[128];
    bool in_auth = false;
    int seen = 0;

    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "auth-optional") == 0)
            in_auth = true;
        if (!in_auth)
            continue;
        for (int i = 0; i < N_PROBES; i++)
            if (strcmp(flaw_probes[i].flaw, line) == 0)
                seen++;
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_eq(seen, N_PROBES);
}
END_TEST

static Suite *refauth_suite(void)
{
    Suite *s = suite_create("refauth");
    TCase *tc = tcase_create("resource server");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_no_token);
    tcase_add_test(tc, test_valid_token);
    tcase_add_test(tc, test_legacy_session);
    tcase_add_test(tc, test_invalid_tokens);
    tcase_add_test(tc, test_token_elsewhere);
    tcase_add_test(tc, test_scope);
    tcase_add_test(tc, test_gate_reads_repaired_messages);
    tcase_add_test(tc, test_jwks_refresh);
    tcase_add_test(tc, test_call_token);
    tcase_add_test(tc, test_fetch_report);
    tcase_add_test(tc, test_auth_off);
    suite_add_tcase(s, tc);

    tc = tcase_create("flaws");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_flaw, 0, N_PROBES);
    tcase_add_test(tc, test_every_flaw_probed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(refauth_suite());
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

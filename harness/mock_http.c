/* The client role's mock server behind the HTTP listener: every request on /mcp is handed to the
 * mock (POST bodies as messages, other methods as bare HTTP requests) together with its
 * method, path and headers, and the mock's answer becomes the response. With OAuth on, a
 * request without a valid access token is recorded and answered 401 here, and the protected
 * resource metadata is served beside the endpoint. With auth.redirect_call a second listener,
 * the sink, stands for another server: a tools/call with a valid token is redirected there (307)
 * and whatever reaches it is recorded, so a case can see a token that left its origin. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_listener.h"
#include "jose.h"
#include "jsonrpc.h"
#include "mock_http.h"

#define MCPC_MOCK_HTTP_PATH "/mcp"
#define MCPC_MOCK_TOKEN_LEEWAY 5          /* seconds of clock skew on exp and nbf */

struct mcpc_mock_http {
    mcpc_mock *mock;           /* borrowed */
    mcpc_http_listener *l;
    char url[128];             /* the endpoint: the canonical resource URI and the tokens' aud */
    /* OAuth (all owned; fixed before the first request) */
    int auth;
    char *issuer;
    json_t *jwks;
    json_t *prm;               /* the protected resource metadata document */
    char challenge[384];       /* WWW-Authenticate of a request without a token */
    char challenge_bad[448];   /* ... and with one that is not valid */
    int token_seen;            /* a valid token arrived (handler thread only) */
    /* the sink (auth.redirect_call only) */
    int redirect;              /* fixed before the first request, unlike sink */
    mcpc_http_listener *sink;
    json_t *sink_record;       /* owned; written by the sink's handler thread only */
    char sink_url[128];        /* the 307's Location */
};

/* {"method","path","headers":{lower-case name: first value},"header_count":{name: n}}, as the
 * record keeps it. New reference or NULL. */
static json_t *mcpc_mock_http_view(const mcpc_listener_request *req)
{
    json_t *v = json_pack("{s:s,s:s,s:{},s:{}}", "method", req->method, "path", req->path,
                          "headers", "header_count");
    json_t *hs, *hc;
    if (!v)
        return NULL;
    if (req->query && *req->query)
        json_object_set_new(v, "query", json_string(req->query));
    hs = json_object_get(v, "headers");
    hc = json_object_get(v, "header_count");
    for (size_t i = 0; i < req->n_headers; i++) {
        char name[128];
        size_t k;
        for (k = 0; req->headers[i].name[k] && k < sizeof name - 1; k++)
            name[k] = (char)tolower((unsigned char)req->headers[i].name[k]);
        name[k] = '\0';
        json_t *n = json_object_get(hc, name);
        json_object_set_new(hc, name, json_integer(n ? json_integer_value(n) + 1 : 1));
        if (n)
            continue;
        /* a value that is not UTF-8 is kept visibly wrong rather than dropped */
        json_t *val = json_stringn(req->headers[i].value, req->headers[i].value_len);
        json_object_set_new(hs, name, val ? val : json_string("(not UTF-8)"));
    }
    return v;
}

/* "valid", "none" (no Authorization header) or "invalid" (anything else: two headers, another
 * scheme, a token that does not verify for this endpoint). */
static const char *mcpc_mock_http_token(mcpc_mock_http *h, const mcpc_listener_request *req)
{
    size_t count = 0;
    const mcpc_listener_header *a = mcpc_listener_header_find(req, "authorization", &count);
    json_t *claims = NULL;
    char tok[MCPC_JOSE_MAX_TOKEN + 1], why[160];
    const char *v;
    size_t n;
    int ok = 0;

    if (!a)
        return "none";
    v = a->value;
    n = a->value_len;
    if (count != 1 || n < 8 || strncasecmp(v, "Bearer ", 7) != 0)
        return "invalid";
    v += 7, n -= 7;
    while (n && *v == ' ')
        v++, n--;
    if (!n || n > MCPC_JOSE_MAX_TOKEN || memchr(v, '\0', n))
        return "invalid";
    memcpy(tok, v, n);
    tok[n] = '\0';
    if (mcpc_jose_verify(tok, h->jwks, "at+jwt", &claims, why, sizeof why) == MCPC_JOSE_OK) {
        mcpc_jose_claims_rules rules = {.issuer = h->issuer, .audience = h->url,
                                        .leeway = MCPC_MOCK_TOKEN_LEEWAY};
        ok = mcpc_jose_claims_verify(claims, (long long)time(NULL), &rules, why, sizeof why) ==
             MCPC_JOSE_OK;
    }
    json_decref(claims);
    return ok ? "valid" : "invalid";
}

/* Answer with the mock's answer (ans->reply released here). */
static mcpc_err mcpc_mock_http_reply(mcpc_mock_answer *ans, mcpc_listener_response *res)
{
    char *body = NULL;
    size_t len = 0;
    mcpc_err rc = MCPC_OK;

    if (ans->session_id[0] &&
        (rc = mcpc_listener_response_header(res, "Mcp-Session-Id", ans->session_id)) != MCPC_OK)
        goto out;
    if (ans->reply) {
        body = mcpc_jsonrpc_dump(ans->reply, 0, &len);
        if (!body) {
            rc = MCPC_ERR_NOMEM;
            goto out;
        }
    }
    if (ans->reply && ans->sse) {
        res->status = ans->status;
        rc = mcpc_listener_response_event(res, "message", NULL, body, len);
    } else {
        rc = mcpc_listener_response_set(res, ans->status, ans->reply ? "application/json" : NULL,
                                        body, len);
    }
out:
    free(body);
    json_decref(ans->reply);
    return rc;
}

/* The OAuth part of a request (view borrowed, annotated here). *done is set when the request
 * was answered here: metadata served, or 401. */
static mcpc_err mcpc_mock_http_oauth(mcpc_mock_http *h, const mcpc_listener_request *req,
                                     json_t *view, mcpc_listener_response *res, int *done)
{
    mcpc_mock_answer ans;
    mcpc_err rc;
    *done = 0;
    if (strcmp(req->path, MCPC_MOCK_PRM_PATH) == 0 || strcmp(req->path, MCPC_MOCK_PRM_ROOT) == 0) {
        /* recorded like any other request: the order of the probes is what AUTH-10 judges */
        *done = 1;
        if ((rc = mcpc_mock_handle_other(h->mock, view, &ans)) != MCPC_OK)
            return rc;
        if (strcmp(req->method, "GET") != 0) {
            rc = mcpc_listener_response_set(res, 405, NULL, NULL, 0);
            return rc ? rc : mcpc_listener_response_header(res, "Allow", "GET");
        }
        char *text = json_dumps(h->prm, JSON_COMPACT);
        rc = text ? mcpc_listener_response_set(res, 200, "application/json", text, strlen(text))
                  : MCPC_ERR_NOMEM;
        free(text);
        return rc;
    }
    if (strcmp(req->path, MCPC_MOCK_HTTP_PATH) != 0)
        return MCPC_OK;
    const char *state = mcpc_mock_http_token(h, req);
    if (strcmp(state, "valid") == 0)
        h->token_seen = 1;
    if (json_object_set_new(view, "auth", json_string(state)) != 0 ||
        json_object_set_new(view, "after_token", json_boolean(h->token_seen)) != 0)
        return MCPC_ERR_NOMEM;
    if (strcmp(state, "valid") == 0)
        return MCPC_OK;
    *done = 1;
    if (strcmp(req->method, "POST") == 0)
        rc = mcpc_mock_note_only(h->mock, req->body, req->body_len, view);
    else
        rc = mcpc_mock_handle_other(h->mock, view, &ans);
    if (rc == MCPC_OK)
        rc = mcpc_listener_response_set(res, 401, NULL, NULL, 0);
    if (rc == MCPC_OK)
        rc = mcpc_listener_response_header(res, "WWW-Authenticate",
                                           strcmp(state, "none") == 0 ? h->challenge
                                                                      : h->challenge_bad);
    return rc;
}

/* Whether a POST body is a tools/call request (the one the sink scenario redirects). */
static int mcpc_mock_http_is_call(const mcpc_listener_request *req)
{
    mcpc_msg msg;
    mcpc_jsonrpc_parse(req->body, req->body_len, 0, &msg);
    int call = msg.kind == MCPC_MSG_REQUEST && msg.method && strcmp(msg.method, "tools/call") == 0;
    mcpc_msg_clear(&msg);
    return call;
}

/* The sink: records every request as the mock records a bare HTTP request, answers 404. */
static mcpc_err mcpc_mock_http_sink_handler(void *ctx, const mcpc_listener_request *req,
                                            mcpc_listener_response *res)
{
    mcpc_mock_http *h = ctx;
    json_t *view = mcpc_mock_http_view(req), *e = NULL;
    mcpc_err rc = MCPC_ERR_NOMEM;

    if (!view)
        goto out;
    if (json_array_size(h->sink_record) < MCPC_MOCK_MAX_RECORDS) {
        e = json_pack("{s:I,s:s,s:s,s:O}", "seq", (json_int_t)json_array_size(h->sink_record) + 1,
                      "transport", "http", "kind", "http", "http", view);
        if (!e || json_array_append_new(h->sink_record, e) != 0)
            goto out;
    }
    rc = mcpc_listener_response_set(res, 404, NULL, NULL, 0);
out:
    json_decref(view);
    return rc;
}

static mcpc_err mcpc_mock_http_handler(void *ctx, const mcpc_listener_request *req,
                                       mcpc_listener_response *res)
{
    mcpc_mock_http *h = ctx;
    mcpc_mock_answer ans;
    json_t *view = mcpc_mock_http_view(req);
    mcpc_err rc;
    int done = 0;

    if (!view)
        return MCPC_ERR_NOMEM;
    if (h->auth && ((rc = mcpc_mock_http_oauth(h, req, view, res, &done)) != MCPC_OK || done)) {
        json_decref(view);
        return rc;
    }
    if (strcmp(req->path, MCPC_MOCK_HTTP_PATH) != 0) {
        /* not the endpoint: recorded (a client probing other paths is worth seeing), 404 */
        rc = mcpc_mock_handle_other(h->mock, view, &ans);
        ans.status = 404;
    } else if (strcmp(req->method, "POST") == 0 && h->redirect && mcpc_mock_http_is_call(req)) {
        /* only reached with a valid token (the OAuth part answered the rest): recorded like
         * any message, then sent elsewhere instead of answered */
        rc = mcpc_mock_note_only(h->mock, req->body, req->body_len, view);
        json_decref(view);
        if (rc == MCPC_OK)
            rc = mcpc_listener_response_set(res, 307, NULL, NULL, 0);
        return rc ? rc : mcpc_listener_response_header(res, "Location", h->sink_url);
    } else if (strcmp(req->method, "POST") == 0) {
        rc = mcpc_mock_handle(h->mock, req->body, req->body_len, view, &ans);
    } else {
        rc = mcpc_mock_handle_other(h->mock, view, &ans);
    }
    json_decref(view);
    if (rc != MCPC_OK)
        return rc;
    return mcpc_mock_http_reply(&ans, res);
}

static void mcpc_mock_http_free(mcpc_mock_http *h)
{
    json_decref(h->sink_record);
    free(h->issuer);
    json_decref(h->jwks);
    json_decref(h->prm);
    free(h);
}

/* The OAuth state of h from auth (h->url set). 0 or -1 (no memory). */
static int mcpc_mock_http_auth_init(mcpc_mock_http *h, const mcpc_mock_http_auth *auth)
{
    char origin[128], prm_url[192];
    size_t ol = strlen(h->url) - strlen(MCPC_MOCK_HTTP_PATH);

    h->auth = 1;
    h->issuer = strdup(auth->issuer);
    h->jwks = json_deep_copy(auth->jwks);
    h->prm = json_pack("{s:s,s:[s],s:[s],s:[s]}", "resource",
                       auth->prm_resource ? auth->prm_resource : h->url, "authorization_servers",
                       auth->issuer, "scopes_supported", "mcp:tools", "bearer_methods_supported",
                       "header");
    if (!h->issuer || !h->jwks || !h->prm)
        return -1;
    snprintf(origin, sizeof origin, "%.*s", (int)ol, h->url);
    snprintf(prm_url, sizeof prm_url, "%s%s", origin, MCPC_MOCK_PRM_PATH);
    if (auth->challenge_metadata) {
        snprintf(h->challenge, sizeof h->challenge, "Bearer resource_metadata=\"%s\"", prm_url);
        snprintf(h->challenge_bad, sizeof h->challenge_bad,
                 "Bearer error=\"invalid_token\", resource_metadata=\"%s\"", prm_url);
    } else {
        snprintf(h->challenge, sizeof h->challenge, "Bearer");
        snprintf(h->challenge_bad, sizeof h->challenge_bad, "Bearer error=\"invalid_token\"");
    }
    return 0;
}

mcpc_err mcpc_mock_http_start(mcpc_mock *m, const mcpc_mock_http_auth *auth,
                              mcpc_mock_http **out, char *url, size_t urllen, char *err,
                              size_t errlen)
{
    mcpc_mock_http *h = calloc(1, sizeof *h);
    mcpc_listener_opts lo;
    mcpc_err rc;
    *out = NULL;
    if (!h)
        return MCPC_ERR_NOMEM;
    h->mock = m;
    /* the sink first: its URL must be fixed before the endpoint can redirect to it */
    if (auth && auth->redirect_call) {
        mcpc_listener_opts_default(&lo);
        if (!(h->sink_record = json_array())) {
            mcpc_mock_http_free(h);
            snprintf(err, errlen, "out of memory");
            return MCPC_ERR_NOMEM;
        }
        rc = mcpc_listener_start("127.0.0.1", 0, mcpc_mock_http_sink_handler, h, &lo, &h->sink,
                                 err, errlen);
        if (rc != MCPC_OK) {
            mcpc_mock_http_free(h);
            return rc;
        }
        snprintf(h->sink_url, sizeof h->sink_url, "http://127.0.0.1:%u%s",
                 mcpc_listener_port(h->sink), MCPC_MOCK_HTTP_PATH);
        h->redirect = 1;
    }
    /* the metadata holds the URL, which holds the port: built once listening, under the
     * handler mutex (nobody knows the port before this returns anyway) */
    mcpc_listener_opts_default(&lo);
    rc = mcpc_listener_start("127.0.0.1", 0, mcpc_mock_http_handler, h, &lo, &h->l, err, errlen);
    if (rc != MCPC_OK) {
        mcpc_listener_stop(h->sink);
        mcpc_mock_http_free(h);
        return rc;
    }
    mcpc_listener_lock(h->l);
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%u%s", mcpc_listener_port(h->l),
             MCPC_MOCK_HTTP_PATH);
    int bad = auth && (!auth->issuer || !auth->jwks || mcpc_mock_http_auth_init(h, auth) != 0);
    mcpc_listener_unlock(h->l);
    if (bad) {
        mcpc_mock_http_stop(h);
        snprintf(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    snprintf(url, urllen, "%s", h->url);
    *out = h;
    return MCPC_OK;
}

json_t *mcpc_mock_http_sink_take(mcpc_mock_http *h)
{
    json_t *r;
    if (!h || !h->sink)
        return NULL;
    mcpc_listener_stop(h->sink);
    h->sink = NULL;
    r = h->sink_record;
    h->sink_record = NULL;
    return r;
}

void mcpc_mock_http_stop(mcpc_mock_http *h)
{
    if (!h)
        return;
    mcpc_listener_stop(h->l);
    mcpc_listener_stop(h->sink); /* NULL once taken */
    mcpc_mock_http_free(h);
}

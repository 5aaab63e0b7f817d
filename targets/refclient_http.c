/* refclient: streamable HTTP on libcurl's easy API, written apart from the harness's own HTTP
 * client (harness/transport_http.c) so that a bug there cannot hide itself by being shared.
 *
 * Every message is one POST to the endpoint with Accept: application/json, text/event-stream
 * and Content-Type: application/json, plus the headers the protocol layer asks for. A request
 * is answered by one JSON body, or by an SSE stream that is read event by event until the
 * response with our id arrives (comments, events without data, notifications and other ids are
 * skipped; the transfer is then cut, so a server that keeps the stream open costs nothing).
 * Bounded: 3 s to connect, 10 s per request, 16 MiB per body or event; redirects are never
 * followed (but for the redirect-with-token flaw); only loopback http:// URLs are accepted and
 * proxies are never used.
 *
 * OAuth: a 401 with a Bearer challenge runs the authorization flow (refclient_auth.c) once, and
 * the message is POSTed again with `Authorization: Bearer <token>`; from then on every POST
 * carries it, in that header only. A failed or refused authorization ends the run. */
#include "refclient.h"
#include "jsonrpc.h"
#include "sse.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER_VALUE 1024      /* Content-Type and Mcp-Session-Id we keep */
#define MAX_SERVER_REQUESTS 16     /* server requests kept from one SSE stream */

struct http_conn {
    struct mcpc_rc_conn base;      /* first: the conn pointer is the http_conn pointer */
    CURL *curl;
    char *url;                     /* owned */
    struct mcpc_rc_auth *auth;     /* owned, or NULL: a 401 is then just a status */
    char *token_url;               /* owned: token-in-query flaw, the URL with the token */
    char session[MAX_HEADER_VALUE + 1]; /* "" until a session was captured */
};

/* The state of one POST. */
struct xfer {
    struct http_conn *h;
    json_int_t id;                 /* the response we wait for; -1 for none (send) */
    bool expect_response;
    char content_type[MAX_HEADER_VALUE + 1];
    char session[MAX_HEADER_VALUE + 1];
    bool session_bad;              /* a session id we must not echo (too long, not visible) */
    char www_auth[MAX_HEADER_VALUE + 1]; /* WWW-Authenticate values, joined with ", " */
    int mode;                      /* 0 undecided, 1 JSON body, 2 SSE */
    char *body;                    /* JSON mode: the body so far (owned) */
    size_t len, cap;
    mcpc_sse *sse;                 /* SSE mode */
    json_t *response;              /* new ref: the response for id */
    json_t *requests;              /* new ref: server requests seen on the stream */
    bool done;                     /* the response arrived: stop reading */
    const char *fail;              /* static: why the write callback gave up */
    mcpc_err fail_rc;              /* and the error that makes */
};

/* Drop the header state of a previous response (redirect or 1xx: a new status line). */
static void xfer_reset_headers(struct xfer *x)
{
    x->content_type[0] = '\0';
    x->session[0] = '\0';
    x->session_bad = false;
    x->www_auth[0] = '\0';
}

/* Copy value[0..len) (trimmed) into dst (MAX_HEADER_VALUE + 1 bytes); 0 if it did not fit. */
static int keep_value(char *dst, const char *value, size_t len)
{
    while (len > 0 && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' ||
                       value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len > MAX_HEADER_VALUE)
        return 0;
    memcpy(dst, value, len);
    dst[len] = '\0';
    return 1;
}

/* curl header callback: keep Content-Type and Mcp-Session-Id. */
static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    const char *colon = memchr(buf, ':', len);

    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        xfer_reset_headers(x);
        return len;
    }
    if (!colon)
        return len;
    if ((size_t)(colon - buf) == 12 && strncasecmp(buf, "content-type", 12) == 0) {
        if (!keep_value(x->content_type, colon + 1, len - 13))
            x->content_type[0] = '\0';
    } else if ((size_t)(colon - buf) == 16 && strncasecmp(buf, "www-authenticate", 16) == 0) {
        /* several fields are one list (RFC 9110 section 5.3); what does not fit is dropped */
        char v[MAX_HEADER_VALUE + 1];
        size_t have = strlen(x->www_auth);
        if (keep_value(v, colon + 1, len - 17) &&
            have + strlen(v) + 2 < sizeof x->www_auth)
            snprintf(x->www_auth + have, sizeof x->www_auth - have, "%s%s", have ? ", " : "", v);
    } else if ((size_t)(colon - buf) == 14 && strncasecmp(buf, "mcp-session-id", 14) == 0) {
        if (!keep_value(x->session, colon + 1, len - 15)) {
            x->session_bad = true;
        } else {
            /* echoed verbatim in later requests: visible ASCII only (0x21..0x7E) */
            for (const char *p = x->session; *p; p++)
                if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7E)
                    x->session_bad = true;
            if (!x->session[0])
                x->session_bad = true;
        }
    }
    return len;
}

/* Look at one message that arrived (borrowed bytes): the response we wait for, a server
 * request (kept for later), or something to skip. */
static void take_message(struct xfer *x, const char *data, size_t len)
{
    mcpc_msg m;

    if (mcpc_jsonrpc_parse(data, len, 0, &m) != MCPC_OK) {
        fprintf(stderr, "refclient: ignoring an SSE event that is not a JSON-RPC message: %s\n",
                m.reason);
        goto out;
    }
    if ((m.kind == MCPC_MSG_RESULT || m.kind == MCPC_MSG_ERROR) && x->expect_response &&
        !x->response && json_is_integer(m.id) && json_integer_value(m.id) == x->id) {
        x->response = json_incref(m.root);
        x->done = true;
    } else if (m.kind == MCPC_MSG_REQUEST && x->requests &&
               json_array_size(x->requests) < MAX_SERVER_REQUESTS) {
        json_array_append(x->requests, m.root);
    }
    /* notifications and responses to other ids: nothing to do */
out:
    mcpc_msg_clear(&m);
}

/* SSE parser callback. */
static void on_event(void *ud, const mcpc_sse_event *ev)
{
    struct xfer *x = ud;

    if (x->done)
        return;
    if (ev->err != MCPC_OK) {
        x->fail = "an SSE event is over 16 MiB";
        return;
    }
    if (ev->len == 0)
        return;                               /* priming events and the like */
    take_message(x, ev->data, ev->len);
}

/* curl write callback: choose JSON or SSE by Content-Type, then collect or parse. Returning
 * less than we were given stops the transfer (done, or a bound). */
static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;

    if (x->mode == 0) {
        if (strncasecmp(x->content_type, "text/event-stream", 17) == 0) {
            if (x->h->base.flaw[MCPC_RC_FLAW_JSON_ONLY]) {
                x->fail = "the server answered with text/event-stream, which we cannot read";
                x->fail_rc = MCPC_ERR_UNSUPPORTED;
                return 0;
            }
            mcpc_sse_limits lim;
            mcpc_sse_limits_default(&lim);
            lim.max_event = MCPC_RC_MAX_RESPONSE;
            if (!(x->sse = mcpc_sse_new(&lim, on_event, x))) {
                x->fail = "out of memory", x->fail_rc = MCPC_ERR_NOMEM;
                return 0;
            }
            x->mode = 2;
        } else {
            x->mode = 1;
        }
    }
    if (x->mode == 2) {
        if (mcpc_sse_feed(x->sse, buf, len) == MCPC_ERR_NOMEM)
            x->fail = "out of memory", x->fail_rc = MCPC_ERR_NOMEM;
        return x->done || x->fail ? 0 : len;
    }
    if (len > MCPC_RC_MAX_RESPONSE - x->len) {
        x->fail = "the response body is over 16 MiB";
        return 0;
    }
    if (x->len + len > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        char *np;
        while (cap < x->len + len)
            cap *= 2;
        if (!(np = realloc(x->body, cap))) {
            x->fail = "out of memory", x->fail_rc = MCPC_ERR_NOMEM;
            return 0;
        }
        x->body = np;
        x->cap = cap;
    }
    memcpy(x->body + x->len, buf, len);
    x->len += len;
    return len;
}

static int loopback_url(const char *url, char *err, size_t errlen);

/* Forget what a response delivered, before the same transfer is made again. */
static void xfer_reset_body(struct xfer *x)
{
    xfer_reset_headers(x);
    free(x->body);
    x->body = NULL;
    x->len = x->cap = 0;
    mcpc_sse_free(x->sse);
    x->sse = NULL;
    x->mode = 0;
}

/* POST msg with the headers. MCPC_OK once an HTTP answer came (*status set); x holds what
 * was read. */
static mcpc_err post(struct http_conn *h, const json_t *msg, const struct mcpc_rc_hdrs *hd,
                     int timeout_ms, struct xfer *x, long *status, char *err, size_t errlen)
{
    struct curl_slist *list = NULL, *np;
    size_t blen;
    char *body = mcpc_jsonrpc_dump(msg, 0, &blen), *authz = NULL;
    char line[MAX_HEADER_VALUE + 32];
    const char *token = mcpc_rc_auth_token(h->auth);
    const char *accept = h->base.flaw[MCPC_RC_FLAW_ACCEPT_JSON_ONLY]
                             ? "Accept: application/json"
                             : "Accept: application/json, text/event-stream";
    mcpc_err rc = MCPC_ERR_NOMEM;
    CURLcode cc;

    *status = 0;
    if (!body)
        goto out;
#define ADD(s) do { if (!(np = curl_slist_append(list, (s)))) goto out; list = np; } while (0)
    ADD(accept);
    ADD("Content-Type: application/json");
    ADD("Expect:");                           /* no 100-continue round trip */
    if (h->session[0]) {
        snprintf(line, sizeof line, "Mcp-Session-Id: %s", h->session);
        ADD(line);
    }
    for (size_t i = 0; hd && i < hd->n; i++)
        ADD(hd->line[i]);
    if (token) {
        size_t n = strlen(token) + 32;
        if (!(authz = malloc(n)))
            goto out;
        snprintf(authz, n, "Authorization: Bearer %s", token);
        ADD(authz);
        if (h->base.flaw[MCPC_RC_FLAW_TOKEN_IN_QUERY] && !h->token_url) {
            n = strlen(h->url) + strlen(token) + 16;
            if (!(h->token_url = malloc(n)))
                goto out;
            snprintf(h->token_url, n, "%s%saccess_token=%s", h->url,
                     strchr(h->url, '?') ? "&" : "?", token);
        }
    }
#undef ADD
    /* the token-in-query flaw: the token in the URL as well as in the header */
    curl_easy_setopt(h->curl, CURLOPT_URL, token && h->token_url ? h->token_url : h->url);

    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, x);

    cc = curl_easy_perform(h->curl);
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
    if (cc == CURLE_OK && (*status == 307 || *status == 308) &&
        h->base.flaw[MCPC_RC_FLAW_REDIRECT_WITH_TOKEN]) {
        /* the flaw: the same request, headers and all (Authorization too), to wherever the
         * server points, once; still loopback only, so the flaw cannot reach another host */
        char *loc = NULL, where[512];
        char why[160];
        curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &loc);
        if (loc && strlen(loc) < sizeof where && loopback_url(loc, why, sizeof why) == 0) {
            snprintf(where, sizeof where, "%s", loc); /* loc dies with the next transfer */
            fprintf(stderr, "refclient: HTTP %ld: following to %s (flaw)\n", *status, where);
            xfer_reset_body(x);
            curl_easy_setopt(h->curl, CURLOPT_URL, where);
            cc = curl_easy_perform(h->curl);
            curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
        }
    }
    if (cc == CURLE_WRITE_ERROR && x->done && !x->fail) {
        cc = CURLE_OK;                        /* we cut the stream once we had our answer */
    }
    if (x->fail) {
        snprintf(err, errlen, "POST %s: %s", h->url, x->fail);
        rc = x->fail_rc != MCPC_OK ? x->fail_rc : MCPC_ERR_TOO_BIG;
        goto out;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "POST %s: %s", h->url, curl_easy_strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? MCPC_ERR_TIMEOUT : MCPC_ERR_IO;
        goto out;
    }
    if (x->sse && !x->done)
        mcpc_sse_end(x->sse);                 /* an unterminated last event is dropped */
    if (h->base.want_session && !h->session[0] && x->session[0]) {
        if (x->session_bad) {
            snprintf(err, errlen, "the server issued an Mcp-Session-Id that is not visible "
                                  "ASCII (or is over %d bytes)", MAX_HEADER_VALUE);
            rc = MCPC_ERR_PROTOCOL;
            goto out;
        }
        memcpy(h->session, x->session, sizeof h->session);
    }
    rc = MCPC_OK;
out:
    if (rc == MCPC_ERR_NOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(list);
    free(authz);
    free(body);
    return rc;
}

/* After a 401: authorize (once per message) and say whether to POST it again. MCPC_OK: again;
 * MCPC_ERR_IO: the authorization failed or was refused (err says why); MCPC_ERR_NOT_FOUND: not
 * an authorization matter, go on with the 401 as it is. */
static mcpc_err reauthorize(struct http_conn *h, const struct xfer *x, long status, int attempt,
                            char *err, size_t errlen)
{
    char why[512];

    if (status != 401 || !h->auth || attempt > 0)
        return MCPC_ERR_NOT_FOUND;
    fprintf(stderr, "refclient: HTTP 401 (%.300s): authorizing\n",
            x->www_auth[0] ? x->www_auth : "no challenge");
    if (mcpc_rc_auth_authorize(h->auth, x->www_auth[0] ? x->www_auth : NULL, why, sizeof why) !=
        MCPC_OK) {
        snprintf(err, errlen, "authorization failed: %s", why);
        return MCPC_ERR_IO;
    }
    free(h->token_url);
    h->token_url = NULL;
    return MCPC_OK;
}

/* Hand the server requests of a stream to the protocol layer, now that the POST is over. */
static void pass_requests(struct http_conn *h, json_t *requests)
{
    size_t i;
    json_t *r;

    if (!requests || !h->base.on_request)
        return;
    json_array_foreach(requests, i, r)
        h->base.on_request(h->base.on_request_ctx, r);
}

static mcpc_err http_request(struct mcpc_rc_conn *c, const json_t *msg, json_int_t id,
                             const struct mcpc_rc_hdrs *hd, int timeout_ms,
                             struct mcpc_rc_reply *r, char *err, size_t errlen)
{
    struct http_conn *h = (struct http_conn *)c;
    struct xfer x;
    mcpc_err rc;

    for (int attempt = 0;; attempt++) {
        memset(&x, 0, sizeof x);
        x.h = h;
        x.id = id;
        x.expect_response = true;
        x.requests = json_array();
        r->msg = NULL;
        r->status = 0;
        err[0] = '\0';
        rc = post(h, msg, hd, timeout_ms, &x, &r->status, err, errlen);
        if (rc != MCPC_OK)
            goto out;
        rc = reauthorize(h, &x, r->status, attempt, err, errlen);
        if (rc == MCPC_ERR_NOT_FOUND)
            break;
        json_decref(x.requests);
        json_decref(x.response);
        mcpc_sse_free(x.sse);
        free(x.body);
        if (rc != MCPC_OK)
            return rc;
        /* the same message again, now with the token */
    }
    rc = MCPC_OK;
    if (x.mode == 1 && x.len > 0) {
        /* A JSON body: our response, or an error without id (a refusal before the request
         * was read). Anything else is left for the caller to judge by the status. */
        mcpc_msg m;
        if (mcpc_jsonrpc_parse(x.body, x.len, 0, &m) == MCPC_OK &&
            (m.kind == MCPC_MSG_RESULT || m.kind == MCPC_MSG_ERROR) &&
            ((json_is_integer(m.id) && json_integer_value(m.id) == id) ||
             (m.kind == MCPC_MSG_ERROR && !m.id)))
            x.response = json_incref(m.root);
        mcpc_msg_clear(&m);
    }
    r->msg = x.response;
    x.response = NULL;
out:
    pass_requests(h, x.requests);
    json_decref(x.requests);
    json_decref(x.response);
    mcpc_sse_free(x.sse);
    free(x.body);
    return rc;
}

static mcpc_err http_send(struct mcpc_rc_conn *c, const json_t *msg,
                          const struct mcpc_rc_hdrs *hd, long *status, char *err,
                          size_t errlen)
{
    struct http_conn *h = (struct http_conn *)c;
    struct xfer x;
    mcpc_err rc;

    for (int attempt = 0;; attempt++) {
        memset(&x, 0, sizeof x);
        x.h = h;
        x.id = -1;
        err[0] = '\0';
        rc = post(h, msg, hd, MCPC_RC_REQUEST_MS, &x, status, err, errlen);
        if (rc == MCPC_OK &&
            (rc = reauthorize(h, &x, *status, attempt, err, errlen)) != MCPC_ERR_NOT_FOUND) {
            mcpc_sse_free(x.sse);
            free(x.body);
            if (rc != MCPC_OK)
                return rc;
            continue;
        }
        if (rc == MCPC_ERR_NOT_FOUND)
            rc = MCPC_OK;
        break;
    }
    if (rc == MCPC_OK && (*status < 200 || *status > 299)) {
        snprintf(err, errlen, "POST %s: HTTP %ld for a message that expects no response",
                 h->url, *status);
        rc = MCPC_ERR_PROTOCOL;
    }
    mcpc_sse_free(x.sse);
    free(x.body);
    return rc;
}

static void http_close(struct mcpc_rc_conn *c)
{
    struct http_conn *h = (struct http_conn *)c;

    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    mcpc_rc_auth_free(h->auth);
    free(h->token_url);
    free(h->url);
    free(h);
    curl_global_cleanup();
}

/* 0 if url is http:// on a loopback host; else err says why. */
static int loopback_url(const char *url, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int ok = 0;

    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(err, errlen, "not a URL: %.200s", url);
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0) {
        snprintf(err, errlen, "only http:// URLs are supported: %.200s", url);
        goto out;
    }
    if (strcmp(host, "127.0.0.1") != 0 && strcasecmp(host, "localhost") != 0 &&
        strcmp(host, "[::1]") != 0 && strcmp(host, "::1") != 0) {
        snprintf(err, errlen, "not a loopback host (127.0.0.1, localhost, [::1]): %.200s", url);
        goto out;
    }
    ok = 1;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}

mcpc_err mcpc_rc_http_open(const char *url, const bool *flaw, struct mcpc_rc_auth *auth,
                           struct mcpc_rc_conn **out, char *err, size_t errlen)
{
    struct http_conn *h = NULL;

    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        mcpc_rc_auth_free(auth);
        snprintf(err, errlen, "libcurl could not be initialised");
        return MCPC_ERR_IO;
    }
    if (loopback_url(url, err, errlen) != 0) {
        mcpc_rc_auth_free(auth);
        curl_global_cleanup();
        return MCPC_ERR_USAGE;
    }
    if (!(h = calloc(1, sizeof *h))) {
        mcpc_rc_auth_free(auth);
        curl_global_cleanup();
        snprintf(err, errlen, "out of memory");
        return MCPC_ERR_NOMEM;
    }
    h->auth = auth;
    if (!(h->url = strdup(url)) || !(h->curl = curl_easy_init())) {
        snprintf(err, errlen, "out of memory");
        http_close(&h->base);
        return MCPC_ERR_NOMEM;
    }
    h->base.request = http_request;
    h->base.send = http_send;
    h->base.close = http_close;
    h->base.flaw = flaw;
    curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h->curl, CURLOPT_PROXY, "");      /* never through a proxy */
    curl_easy_setopt(h->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)MCPC_RC_CONNECT_MS);
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, MCPC_RC_NAME "/" MCPC_RC_VERSION);
    *out = &h->base;
    return MCPC_OK;
}

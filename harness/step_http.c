/* HTTP steps, for the streamable HTTP transport only: one exchange outside the case's own flow,
 * judged on its status, headers and body (http_request); ending the case's session
 * (http_delete); and judging the session ids a server mints (session_ids).
 *
 * http_request and session_ids talk through a clone of the case's client (same endpoint, same
 * bounds, none of its state), so that a deliberately wrong request, its answer and any session
 * id that answer carries can never leak into the case's own session. The case's session id
 * (2025-11-25) is sent along explicitly, as one more header the case can override or remove.
 *
 * An exchange is judged as the value {"status", "headers", "body", "text"}: header names in
 * lower case (repeated headers joined with ", "), body the JSON-RPC message the answer carried
 * (or any JSON it held, or null), text the first 64 KiB of the raw body. Outcomes use the
 * ordinary conditions with pointers such as /status, /headers/mcp-session-id and
 * /body/error/code, so the matcher needs nothing new. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "clock.h"
#include "match.h"
#include "step_int.h"
#include "runner_auth.h"
#include "transport_http.h"

#define MCPC_HTTP_STEP_MAX_HEADERS 32      /* header lines one http_request may set or remove */
#define MCPC_HTTP_STEP_IDS_MIN 16          /* fewer ids than this cannot show a pattern */
#define MCPC_HTTP_STEP_IDS_MAX 10000
#define MCPC_HTTP_STEP_IDS_DEFAULT 1000
#define MCPC_HTTP_STEP_IDS_MS 60000        /* default budget for minting them all */
#define MCPC_HTTP_STEP_MIN_BITS 128.0
#define MCPC_HTTP_STEP_MAX_STEP 16         /* counter increments looked for between two ids */

/* ---- validation ------------------------------------------------------------------------------ */

/* 1 when s is an RFC 9110 token (a header name or an HTTP method). */
static int mcpc_step_http_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *p)))
            return 0;
    }
    return 1;
}

/* A header value the client can put on the wire: anything but CR, LF and NUL (jansson strings
 * hold no NUL anyway). On the wire a line break ends the header and starts another, so what a
 * CR/LF injection delivers is a repeated header, which a case writes as an array of values. */
static int mcpc_step_http_value_ok(json_t *v, const char *name, char *err, size_t errlen)
{
    if (!json_is_string(v)) {
        snprintf(err, errlen, "headers: %s must be a string, null (remove it) or an array of strings", name);
        return 0;
    }
    if (strpbrk(json_string_value(v), "\r\n")) {
        snprintf(err, errlen, "headers: %s holds CR or LF; a line break on the wire starts another "
                 "header, so write the injected header as a second value in an array", name);
        return 0;
    }
    return 1;
}

mcpc_err mcpc_step_http_validate(json_t *step, char *err, size_t errlen)
{
    const char *kind = json_string_value(json_object_get(step, "do"));
    mcpc_err rc = MCPC_OK;
    json_t *probe = NULL; /* new reference */

    if (kind && strcmp(kind, "session_ids") == 0) {
        json_t *c = json_object_get(step, "count");
        if (c && (!json_is_integer(c) || json_integer_value(c) < MCPC_HTTP_STEP_IDS_MIN ||
                  json_integer_value(c) > MCPC_HTTP_STEP_IDS_MAX)) {
            snprintf(err, errlen, "session_ids count must be an integer from %d to %d",
                     MCPC_HTTP_STEP_IDS_MIN, MCPC_HTTP_STEP_IDS_MAX);
            return MCPC_ERR_CASE;
        }
        return MCPC_OK;
    }
    if (!kind || strcmp(kind, "http_request") != 0)
        return MCPC_OK;

    json_t *tok = json_object_get(step, "token");
    if (tok && (!json_is_string(tok) || !mcpc_battery_lookup(json_string_value(tok)))) {
        snprintf(err, errlen, "http_request token must name an entry of the token battery (docs/auth.md)");
        return MCPC_ERR_CASE;
    }
    json_t *method = json_object_get(step, "method"), *body = json_object_get(step, "body");
    json_t *mh = json_object_get(step, "method_http"), *headers = json_object_get(step, "headers");
    if (method && body) {
        snprintf(err, errlen, "http_request takes method (a message to build) or body (raw text), not both");
        return MCPC_ERR_CASE;
    }
    if (!method && (json_object_get(step, "params") || json_object_get(step, "id") ||
                    json_object_get(step, "meta") || json_object_get(step, "notification"))) {
        snprintf(err, errlen, "http_request: params, id, meta and notification need a method");
        return MCPC_ERR_CASE;
    }
    if (json_is_true(json_object_get(step, "notification")) && json_object_get(step, "id")) {
        snprintf(err, errlen, "http_request: a notification has no id");
        return MCPC_ERR_CASE;
    }
    if (mh && (!json_is_string(mh) || !mcpc_step_http_token(json_string_value(mh)) ||
               json_string_length(mh) > 16)) {
        snprintf(err, errlen, "http_request method_http must be an HTTP method such as GET or DELETE");
        return MCPC_ERR_CASE;
    }
    if (headers) {
        const char *name;
        json_t *v;
        size_t lines = 0;
        if (!json_is_object(headers)) {
            snprintf(err, errlen, "http_request headers must be an object of header names");
            return MCPC_ERR_CASE;
        }
        json_object_foreach(headers, name, v) {
            if (!mcpc_step_http_token(name)) {
                snprintf(err, errlen, "headers: \"%s\" is not a header name", name);
                return MCPC_ERR_CASE;
            }
            if (json_is_null(v)) {
                lines++;
            } else if (json_is_array(v)) {
                size_t i;
                json_t *e;
                if (json_array_size(v) == 0) {
                    snprintf(err, errlen, "headers: %s is an empty array (use null to remove it)", name);
                    return MCPC_ERR_CASE;
                }
                json_array_foreach(v, i, e) {
                    if (!mcpc_step_http_value_ok(e, name, err, errlen))
                        return MCPC_ERR_CASE;
                    lines++;
                }
            } else if (mcpc_step_http_value_ok(v, name, err, errlen)) {
                lines++;
            } else {
                return MCPC_ERR_CASE;
            }
        }
        if (lines > MCPC_HTTP_STEP_MAX_HEADERS) {
            snprintf(err, errlen, "http_request sets more than %d header lines", MCPC_HTTP_STEP_MAX_HEADERS);
            return MCPC_ERR_CASE;
        }
    }
    /* the outcomes (and capture) are those of expect: validate them as one */
    probe = json_pack("{s:s,s:O,s:O}", "do", "expect", "expected",
                      json_object_get(step, "expected"), "outcomes", json_object_get(step, "outcomes"));
    if (!probe) {
        snprintf(err, errlen, "http_request needs expected (a string) and outcomes");
        return MCPC_ERR_CASE;
    }
    if (json_object_get(step, "capture"))
        json_object_set(probe, "capture", json_object_get(step, "capture"));
    rc = mcpc_step_validate(probe, err, errlen);
    json_decref(probe);
    return rc;
}

/* ---- the exchange ---------------------------------------------------------------------------- */

/* The endpoint's origin (scheme://host[:port]), authority (host[:port]) and port, for the
 * placeholders {origin}, {authority} and {port} of header values. The port is the URL's, or
 * the scheme's default. */
static void mcpc_step_http_endpoint(const char *url, char *origin, size_t olen, char *authority,
                                    size_t alen, char *port, size_t plen)
{
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t n = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', n);
    const char *colon;
    if (at) {                       /* never put userinfo into a header */
        n -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    snprintf(authority, alen, "%.*s", (int)n, auth);
    snprintf(origin, olen, "%.*s%.*s", sep ? (int)(sep + 3 - url) : 0, url, (int)n, auth);
    /* the port follows the last ':' unless that ':' is inside an IPv6 literal */
    colon = strrchr(authority, ':');
    if (colon && !strchr(colon, ']'))
        snprintf(port, plen, "%s", colon + 1);
    else
        snprintf(port, plen, "%s", strncmp(url, "https:", 6) == 0 ? "443" : "80");
}

/* A copy of v with {origin}, {authority} and {port} replaced (malloc'd), or NULL. */
static char *mcpc_step_http_expand(const char *v, const char *origin, const char *authority,
                                   const char *port)
{
    static const char *const keys[] = {"{origin}", "{authority}", "{port}"};
    const char *vals[] = {origin, authority, port};
    size_t cap = strlen(v) * 2 + 64, o = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    while (*v) {
        size_t k, klen = 0;
        for (k = 0; k < 3; k++) {
            klen = strlen(keys[k]);
            if (strncmp(v, keys[k], klen) == 0)
                break;
        }
        const char *add = k < 3 ? vals[k] : v;
        size_t alen = k < 3 ? strlen(vals[k]) : 1;
        if (o + alen + 1 > cap) {
            char *grown = realloc(out, (cap = (o + alen + 1) * 2));
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + o, add, alen);
        o += alen;
        v += k < 3 ? klen : 1;
    }
    out[o] = '\0';
    return out;
}

/* Does the case's headers object name `name` (case-insensitively)? */
static int mcpc_step_http_names(json_t *headers, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(headers, k, v) {
        if (strcasecmp(k, name) == 0)
            return 1;
    }
    return 0;
}

typedef struct {
    char *line[MCPC_HTTP_STEP_MAX_HEADERS + 1];
    size_t n;
} mcpc_step_http_lines;

static void mcpc_step_http_lines_free(mcpc_step_http_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->line[i]);
    l->n = 0;
}

/* Append "name: value" ("name;" for an empty value, curl's way to send one; "name:" with
 * value NULL, curl's way to send none, which also suppresses a header the client would add).
 * value is expanded for the endpoint placeholders. -1 on allocation failure. */
static int mcpc_step_http_line(mcpc_step_http_lines *l, const char *name, const char *value,
                               const char *const ep[3])
{
    char *v = value ? mcpc_step_http_expand(value, ep[0], ep[1], ep[2]) : NULL, *line;
    if ((value && !v) || l->n >= MCPC_HTTP_STEP_MAX_HEADERS + 1) {
        free(v);
        return -1;
    }
    line = malloc(strlen(name) + (v ? strlen(v) : 0) + 3);
    if (line) {
        if (!v)
            sprintf(line, "%s:", name);
        else if (!*v)
            sprintf(line, "%s;", name);
        else
            sprintf(line, "%s: %s", name, v);
        l->line[l->n++] = line;
    }
    free(v);
    return line ? 0 : -1;
}

/* Header values as JSON text: a server may send bytes that are not UTF-8. New reference. */
static json_t *mcpc_step_http_text(const char *s, size_t len)
{
    char *p = mcpc_text_printable(s, len, MCPC_HTTP_KEEP_BODY);
    json_t *v = p ? json_string(p) : NULL;
    free(p);
    return v ? v : json_string("");
}

/* The last response's headers as {lower-case name: value}; a repeated header's values are
 * joined with ", " (RFC 9110 field combination), so "two Origin headers" stays visible.
 * New reference. */
static json_t *mcpc_step_http_headers(const mcpc_http *h)
{
    json_t *out = json_object();
    const char *name, *value;
    for (size_t i = 0; out && mcpc_http_last_header_at(h, i, &name, &value); i++) {
        char key[128];
        size_t k;
        for (k = 0; name[k] && k + 1 < sizeof key; k++)
            key[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
        key[k] = '\0';
        json_t *old = json_object_get(out, key);
        json_t *v;
        if (old) {
            const char *o = json_string_value(old);
            size_t n = strlen(o) + strlen(value) + 3;
            char *joined = malloc(n);
            if (!joined)
                continue;
            snprintf(joined, n, "%s, %s", o, value);
            v = mcpc_step_http_text(joined, strlen(joined));
            free(joined);
        } else {
            v = mcpc_step_http_text(value, strlen(value));
        }
        json_object_set_new(out, key, v);
    }
    return out;
}

/* How an exchange that got no HTTP answer ended, as an outcome's "on". */
static const char *mcpc_step_http_on(mcpc_err rc)
{
    switch (rc) {
    case MCPC_ERR_TIMEOUT:
        return "timeout";
    case MCPC_ERR_EOF:
    case MCPC_ERR_IO:
        return "eof";
    case MCPC_ERR_PROTOCOL:
    case MCPC_ERR_TOO_BIG:
        return "malformed";
    default:
        return NULL;
    }
}

/* Verdict for an exchange that got no HTTP answer and no outcome about it. */
static mcpc_verdict mcpc_step_http_failed(mcpc_step_ctx *ctx, mcpc_err rc, const char *expected,
                                          int timeout_ms)
{
    if (rc == MCPC_ERR_TIMEOUT)
        return mcpc_step_say(ctx, MCPC_V_TIMEOUT, expected, "nothing",
                             "no HTTP answer within %d ms", timeout_ms);
    if ((rc == MCPC_ERR_EOF || rc == MCPC_ERR_IO) && ctx->io && mcpc_stdio_exited(ctx->io))
        return mcpc_step_say(ctx, MCPC_V_CRASH, expected, mcpc_stdio_exit_text(ctx->io, NULL),
                             "the implementation died");
    if (rc == MCPC_ERR_EOF || rc == MCPC_ERR_IO || rc == MCPC_ERR_PROTOCOL || rc == MCPC_ERR_TOO_BIG)
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, mcpc_strerror(rc),
                             "the connection ended without a usable HTTP answer (%s)", mcpc_strerror(rc));
    return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: %s", mcpc_strerror(rc));
}

/* Read what the answer carries, within deadline: the first JSON-RPC response (an SSE stream
 * may put notifications before it), else the first JSON value of any kind. Messages are
 * recorded in the transcript. *body: new reference or NULL; *kind: the message kind's name
 * or NULL. */
static void mcpc_step_http_read(mcpc_step_ctx *ctx, mcpc_http *h, int64_t deadline, json_t **body,
                                const char **kind)
{
    mcpc_conn *c = mcpc_http_conn(h);
    *body = NULL;
    *kind = NULL;
    for (;;) {
        const char *msg;
        size_t len;
        mcpc_msg m;
        /* TIMEOUT also means "the transfer ended and nothing more can come" */
        mcpc_err rc = c->ops->recv(c, mcpc_clock_left(deadline), &msg, &len);
        if (rc != MCPC_OK) {
            if (rc != MCPC_ERR_TIMEOUT)
                mcpc_transcript_note(ctx->tr, "reading the answer: %s", mcpc_strerror(rc));
            return;
        }
        mcpc_transcript_add(ctx->tr, "recv", msg, len);
        (void)mcpc_jsonrpc_parse(msg, len, 0, &m);
        if (m.root && (m.kind == MCPC_MSG_RESULT || m.kind == MCPC_MSG_ERROR)) {
            json_decref(*body);
            *body = json_incref(m.root);
            *kind = mcpc_msg_kind_name(m.kind);
            mcpc_msg_clear(&m);
            return;
        }
        if (m.root && !*body) {
            *body = json_incref(m.root);
            *kind = m.kind != MCPC_MSG_INVALID ? mcpc_msg_kind_name(m.kind) : NULL;
        }
        mcpc_msg_clear(&m);
    }
}

/* The message an http_request sends, as text (malloc'd, *len bytes), or NULL with err set.
 * Sets ctx->sent_id for a request. */
static char *mcpc_step_http_message(mcpc_step_ctx *ctx, json_t *step, size_t *len, char *err,
                                    size_t errlen)
{
    const char *method = json_string_value(json_object_get(step, "method"));
    const char *raw = json_string_value(json_object_get(step, "body"));
    int notification = json_is_true(json_object_get(step, "notification"));
    json_t *tp = json_object_get(step, "params"), *tid = json_object_get(step, "id");
    json_t *raw_params = NULL, *params = NULL, *id = NULL, *msg = NULL; /* new references */
    char *text = NULL;

    *len = 0;
    if (raw || !method) {
        /* raw text is sent exactly as written, like send_raw; no method and no body: a request
         * without a body (GET, DELETE) */
        text = strdup(raw ? raw : "");
        *len = text ? strlen(text) : 0;
        if (!text)
            snprintf(err, errlen, "out of memory");
        return text;
    }
    /* the era's _meta: on by default for requests, off for notifications (as request/notify) */
    int meta = notification ? json_is_true(json_object_get(step, "meta"))
                            : !json_is_false(json_object_get(step, "meta"));
    if (tp && !(raw_params = mcpc_match_subst(tp, ctx->vars, err, errlen)))
        goto out;
    if (raw_params || meta || !notification) {
        params = mcpc_session_params(ctx->s, raw_params, meta);
        if (!params) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (notification) {
        msg = mcpc_jsonrpc_notification(method, params);
    } else {
        if (tid && !(id = mcpc_match_subst(tid, ctx->vars, err, errlen)))
            goto out;
        if (!id)
            id = json_integer(ctx->s->next_id++);
        msg = id ? mcpc_jsonrpc_request(id, method, params) : NULL;
        if (msg) {
            json_decref(ctx->sent_id);
            ctx->sent_id = json_incref(id);
        }
    }
    text = msg ? mcpc_jsonrpc_dump(msg, 0, len) : NULL;
    if (!text)
        snprintf(err, errlen, "out of memory");
out:
    json_decref(raw_params);
    json_decref(params);
    json_decref(id);
    json_decref(msg);
    return text;
}

/* The header lines of an http_request: the case's session id (2025-11-25) unless the case
 * names Mcp-Session-Id itself, then the case's own headers. -1 on allocation failure. */
static int mcpc_step_http_build_lines(mcpc_step_ctx *ctx, json_t *headers, mcpc_step_http_lines *l)
{
    char origin[600], authority[600], port[16];
    const char *ep[3] = {origin, authority, port};
    const char *sid = mcpc_http_session_id(ctx->http);
    const char *name;
    json_t *v;

    mcpc_step_http_endpoint(mcpc_http_url(ctx->http), origin, sizeof origin, authority,
                            sizeof authority, port, sizeof port);
    if (sid && ctx->s->era == MCPC_ERA_2025_11_25 && !mcpc_step_http_names(headers, "Mcp-Session-Id") &&
        mcpc_step_http_line(l, "Mcp-Session-Id", sid, ep) < 0)
        return -1;
    json_object_foreach(headers, name, v) {
        size_t i;
        json_t *e;
        if (json_is_null(v)) {
            if (mcpc_step_http_line(l, name, NULL, ep) < 0)
                return -1;
        } else if (json_is_array(v)) {
            json_array_foreach(v, i, e) {
                if (mcpc_step_http_line(l, name, json_string_value(e), ep) < 0)
                    return -1;
            }
        } else if (mcpc_step_http_line(l, name, json_string_value(v), ep) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The first outcome with this "on" whose conditions hold, or NULL; why gets the reason the
 * first PASS outcome did not hold. */
static json_t *mcpc_step_http_outcome(json_t *outcomes, const char *on, const mcpc_match_ctx *mc,
                                      char *why, size_t whylen)
{
    size_t i;
    json_t *o;
    json_array_foreach(outcomes, i, o) {
        char w[256] = "";
        json_t *when = json_object_get(o, "when");
        if (strcmp(mcpc_step_str(o, "on", "message"), on) != 0)
            continue;
        if (!when || (mc && mcpc_match_all(when, mc, w, sizeof w)))
            return o;
        if (!why[0] && strcmp(mcpc_step_str(o, "grade", ""), "PASS") == 0)
            snprintf(why, whylen, "%s", w);
    }
    return NULL;
}

static mcpc_verdict mcpc_step_http_grade(const char *g)
{
    if (g && strcmp(g, "PASS") == 0)
        return MCPC_V_PASS;
    if (g && strcmp(g, "WARN") == 0)
        return MCPC_V_WARN;
    return MCPC_V_FAIL;
}

/* One HTTP exchange beside the session, judged by outcomes over {status, headers, body, text}:
 * {"method"|"body", "params", "id", "meta", "notification", "method_http", "headers",
 *  "expected", "outcomes", "capture", "into", "timeout_ms"}. */
/* Present battery entry `name` (docs/auth.md): its Authorization (and DPoP) header lines, or,
 * for the query and body placements, no Authorization at all and the token where the entry
 * puts it (*msg becomes the form body then). A per-call entry is made for the tool and arguments
 * of the message. Headers the case sets itself win. *bt is filled (the caller clears it). */
static mcpc_err mcpc_step_http_present(mcpc_step_ctx *ctx, const char *name, json_t *headers,
                                       mcpc_step_http_lines *lines, char **msg, size_t *len,
                                       mcpc_battery_token *bt)
{
    static const char *const none[3] = {"", "", ""};
    json_t *root = *len ? json_loadb(*msg, *len, 0, NULL) : NULL;
    json_t *params = json_object_get(root, "params");
    mcpc_battery_ctx bc = {.resource = ctx->auth->resource, .endpoint = ctx->auth->resource,
                           .tool = json_string_value(json_object_get(params, "name")),
                           .arguments = json_object_get(params, "arguments"),
                           .state = ctx->auth->state};
    mcpc_err rc = mcpc_battery_make(ctx->auth->as, name, &bc, bt);
    json_decref(root);
    if (rc != MCPC_OK)
        return rc;
    mcpc_transcript_note(ctx->tr, "token %s: %s", name, bt->info->what);
    int own_auth = mcpc_step_http_names(headers, "Authorization");
    if (bt->place == MCPC_BATTERY_HEADER) {
        if (!own_auth && bt->authorization &&
            mcpc_step_http_line(lines, "Authorization", bt->authorization, none) < 0)
            return MCPC_ERR_NOMEM;
        if (!mcpc_step_http_names(headers, "DPoP") && bt->dpop &&
            mcpc_step_http_line(lines, "DPoP", bt->dpop, none) < 0)
            return MCPC_ERR_NOMEM;
        return MCPC_OK;
    }
    /* query or body: the token travels only there; the session's own header must not */
    if (!own_auth && mcpc_step_http_line(lines, "Authorization", NULL, none) < 0)
        return MCPC_ERR_NOMEM;
    if (bt->place == MCPC_BATTERY_BODY) {
        char *form = strdup(bt->param);
        if (!form || mcpc_step_http_line(lines, "Content-Type", "application/x-www-form-urlencoded", none) < 0) {
            free(form);
            return MCPC_ERR_NOMEM;
        }
        free(*msg);
        *msg = form;
        *len = strlen(form);
    }
    return MCPC_OK;
}

mcpc_verdict mcpc_step_http_request(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = mcpc_step_str(step, "expected", "");
    const char *verb = mcpc_step_str(step, "method_http", "POST");
    json_t *outcomes = json_object_get(step, "outcomes");
    json_t *headers = json_object_get(step, "headers");
    int timeout_ms = mcpc_step_ms(step, "timeout_ms", ctx->s ? ctx->s->timeout_ms : 5000);
    mcpc_step_http_lines lines = {{NULL}, 0};
    mcpc_battery_token bt;
    mcpc_http *h = NULL;
    json_t *ex = NULL, *body = NULL, *o; /* new references, except o (borrowed) */
    const char *kind = NULL;
    char err[300], why[256] = "", shown[400], *msg = NULL;
    size_t len = 0;
    mcpc_verdict v = MCPC_V_ERROR;
    mcpc_err rc;

    memset(&bt, 0, sizeof bt);
    if (mcpc_step_http_validate(step, err, sizeof err) != MCPC_OK)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s", err);
    if (!ctx->http || !ctx->s)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "http_request needs the streamable HTTP transport");
    msg = mcpc_step_http_message(ctx, step, &len, err, sizeof err);
    if (!msg) {
        v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s", err);
        goto out;
    }
    const char *token = mcpc_step_str(step, "token", NULL);
    if (token && !ctx->auth) {
        v = mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                          "no authorization server in this run (token %s)", token);
        goto out;
    }
    if (mcpc_step_http_build_lines(ctx, headers, &lines) < 0) {
        v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: cannot set up the exchange");
        goto out;
    }
    if (token && mcpc_step_http_present(ctx, token, headers, &lines, &msg, &len, &bt) != MCPC_OK) {
        v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: cannot make token %s", token);
        goto out;
    }
    if (mcpc_http_clone_query(ctx->http, mcpc_era_name(ctx->s->era),
                              bt.info && bt.place == MCPC_BATTERY_QUERY ? bt.param : NULL, &h, err,
                              sizeof err) != MCPC_OK ||
        mcpc_http_set_headers(h, (const char *const *)lines.line, lines.n) != MCPC_OK) {
        v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: cannot set up the exchange");
        goto out;
    }
    for (size_t i = 0; i < lines.n; i++)
        mcpc_transcript_note(ctx->tr, "http_request %s: header %s", verb, lines.line[i]);
    if (len || strcmp(verb, "POST") == 0)
        mcpc_transcript_add(ctx->tr, "send", msg, len);
    else
        mcpc_transcript_note(ctx->tr, "http_request %s without a body", verb);

    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    rc = mcpc_http_send_method(h, verb, msg, len, timeout_ms);
    if (rc != MCPC_OK) {
        const char *on = mcpc_step_http_on(rc);
        o = on ? mcpc_step_http_outcome(outcomes, on, NULL, why, sizeof why) : NULL;
        if (o) {
            v = mcpc_step_http_grade(mcpc_step_str(o, "grade", ""));
            mcpc_step_say(ctx, v, expected, mcpc_strerror(rc), "%s",
                          mcpc_step_str(o, "reason", mcpc_strerror(rc)));
        } else {
            v = mcpc_step_http_failed(ctx, rc, expected, timeout_ms);
        }
        goto out;
    }
    long status = mcpc_http_last_status(h);
    const char *ctype = mcpc_http_last_content_type(h);
    int sse = ctype && strncasecmp(ctype, "text/event-stream", 17) == 0;
    /* a GET that opened a stream carries no response to read: what matters is that it opened */
    if (!(sse && strcmp(verb, "GET") == 0))
        mcpc_step_http_read(ctx, h, deadline, &body, &kind);
    size_t blen = 0;
    int cut = 0;
    const char *btext = mcpc_http_last_body(h, &blen, &cut);
    if (!body && blen && ctype && strncasecmp(ctype, "application/json", 16) == 0) {
        /* a JSON answer that no queue holds (the answer to a DELETE): parse the kept text */
        mcpc_msg m;
        (void)mcpc_jsonrpc_parse(btext, blen, 0, &m);
        body = m.root ? json_incref(m.root) : NULL;
        kind = m.root && m.kind != MCPC_MSG_INVALID ? mcpc_msg_kind_name(m.kind) : NULL;
        mcpc_msg_clear(&m);
        mcpc_transcript_add(ctx->tr, "recv", btext, blen);
    }
    mcpc_transcript_note(ctx->tr, "http_request %s: HTTP %ld%s%s, %zu%s body byte(s)", verb, status,
                         ctype ? ", " : "", ctype ? ctype : "", blen, cut ? "+" : "");
    /* in this order, so that a report line cut short still shows status and body */
    ex = json_pack("{s:I,s:O,s:o,s:o}", "status", (json_int_t)status, "body",
                   body ? body : json_null(), "headers", mcpc_step_http_headers(h), "text",
                   mcpc_step_http_text(btext, blen));
    if (!ex) {
        v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "out of memory");
        goto out;
    }
    if (json_object_get(step, "into"))
        json_object_set(ctx->vars, mcpc_step_str(step, "into", ""), ex);

    mcpc_match_ctx mc = {.msg = ex, .kind = kind, .sent_id = ctx->sent_id, .vars = ctx->vars,
                         .era = mcpc_era_name(ctx->s->era)};
    mcpc_step_show(ex, shown, sizeof shown);
    o = mcpc_step_http_outcome(outcomes, "message", &mc, why, sizeof why);
    if (!o) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown, "%s",
                          why[0] ? why : "no accepted outcome matched");
        goto out;
    }
    v = mcpc_step_http_grade(mcpc_step_str(o, "grade", ""));
    if (v != MCPC_V_FAIL && json_object_get(step, "capture")) {
        const char *var;
        json_t *ptr;
        json_object_foreach(json_object_get(step, "capture"), var, ptr) {
            json_t *val = mcpc_pointer_get(ex, json_string_value(ptr));
            if (val)
                json_object_set(ctx->vars, var, val);
        }
    }
    mcpc_step_say(ctx, v, expected, shown, "%s",
                  mcpc_step_str(o, "reason", v == MCPC_V_PASS ? "as expected" : why));
out:
    mcpc_step_http_lines_free(&lines);
    mcpc_battery_token_clear(&bt);
    mcpc_http_free(h);
    json_decref(body);
    json_decref(ex);
    free(msg);
    return v;
}

/* ---- ending the session ---------------------------------------------------------------------- */

/* DELETE the case's own session (2025-11-25). 2xx: ended. 405: the server does not let clients
 * end sessions, which the transport allows, so what a case checks next cannot apply. */
mcpc_verdict mcpc_step_http_delete(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = "DELETE ends the session (2xx)";
    int timeout_ms = mcpc_step_ms(step, "timeout_ms", ctx->s ? ctx->s->timeout_ms : 5000);
    const char *sid = ctx->http ? mcpc_http_session_id(ctx->http) : NULL;
    char arrived[64];
    if (!ctx->http || !ctx->s)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "http_delete needs the streamable HTTP transport");
    if (!sid)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "no session id",
                             "the server gave this session no Mcp-Session-Id, so there is no "
                             "session to end");
    mcpc_transcript_note(ctx->tr, "http_delete: DELETE of session %s", sid);
    mcpc_err rc = mcpc_http_delete_session(ctx->http, timeout_ms);
    if (rc != MCPC_OK)
        return mcpc_step_http_failed(ctx, rc, expected, timeout_ms);
    long status = mcpc_http_last_status(ctx->http);
    snprintf(arrived, sizeof arrived, "HTTP %ld", status);
    mcpc_transcript_note(ctx->tr, "http_delete: %s", arrived);
    if (status >= 200 && status < 300)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, arrived, "the session was ended");
    if (status == 405)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, arrived,
                             "the server does not let clients end sessions (405, which the "
                             "transport allows), so the checks after it do not apply");
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived,
                         "DELETE of the session was refused with HTTP %ld", status);
}

/* ---- session ids ----------------------------------------------------------------------------- */

/* log2(x) for x >= 1, without libm: the integer part by halving, then 24 fraction bits by
 * squaring. Ample for an estimate printed to the nearest bit. */
static double mcpc_step_http_log2(double x)
{
    double r = 0, bit = 0.5;
    while (x >= 2) {
        x /= 2;
        r += 1;
    }
    for (int i = 0; i < 24; i++, bit /= 2) {
        x *= x;
        if (x >= 2) {
            x /= 2;
            r += bit;
        }
    }
    return r;
}


/* Is b the number at the end of a plus k (1 <= k <= MCPC_HTTP_STEP_MAX_STEP), in base 10 or
 * 16, with everything before that number equal? That is a counter: from one id anyone can
 * guess the next. Works on the text, so ids of any length are compared exactly. */
static int mcpc_step_http_counter(const char *a, const char *b)
{
    static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    size_t la = strlen(a);
    char buf[1100];
    if (la + MCPC_HTTP_STEP_MAX_STEP + 2 > sizeof buf)
        return 0;
    for (int base = 10; base <= 16; base += 6) {
        const char *digits = lower;
        size_t start = la, len = la;
        while (start > 0) {
            int d = mcpc_hex_value(a[start - 1]);
            if (d < 0 || d >= base)
                break;
            if (a[start - 1] >= 'A' && a[start - 1] <= 'F')
                digits = upper;   /* write increments in the id's own case */
            start--;
        }
        if (start == la)
            continue;
        memcpy(buf, a, la + 1);
        for (int k = 1; k <= MCPC_HTTP_STEP_MAX_STEP; k++) {
            size_t i = len;
            int carry = 1;
            while (carry && i > start) {
                int d = mcpc_hex_value(buf[--i]) + 1;
                carry = d == base;
                buf[i] = digits[carry ? 0 : d];
            }
            if (carry) {   /* 99 + 1: the number grows a digit */
                memmove(buf + start + 1, buf + start, len - start + 1);
                buf[start] = '1';
                len++;
            }
            if (strcmp(buf, b) == 0)
                return 1;
        }
    }
    return 0;
}

static int mcpc_step_http_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The judge of session_ids (declared in step_int.h for its unit tests): the first finding in
 * the order charset, repeats, size, shared prefix or suffix, counter. ids are borrowed. */
int mcpc_step_http_judge_ids(char *const *ids, size_t n, double *bits, char *why, size_t whylen)
{
    unsigned char seen[256] = {0};
    size_t minlen = (size_t)-1, maxlen = 0, alpha = 0, lcp, lcs;
    char **sorted = NULL;
    int weak = 1;

    *bits = 0;
    if (n < 2) {
        snprintf(why, whylen, "fewer than two ids to compare");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ids[i]);
        if (len == 0) {
            snprintf(why, whylen, "session id %zu is empty", i + 1);
            return 1;
        }
        for (size_t k = 0; k < len; k++) {
            unsigned char c = (unsigned char)ids[i][k];
            if (c < 0x21 || c > 0x7E) {
                snprintf(why, whylen, "session id %zu has the byte 0x%02x at offset %zu: only visible "
                         "ASCII (0x21 to 0x7E) is allowed", i + 1, c, k);
                return 1;
            }
            alpha += !seen[c];
            seen[c] = 1;
        }
        minlen = len < minlen ? len : minlen;
        maxlen = len > maxlen ? len : maxlen;
    }
    sorted = malloc(n * sizeof *sorted);
    if (!sorted) {
        snprintf(why, whylen, "out of memory");
        return 1;
    }
    memcpy(sorted, ids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, mcpc_step_http_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            snprintf(why, whylen, "two sessions got the same id %.80s", sorted[i]);
            goto out;
        }
    }
    /* what an attacker must guess: at most the shortest id's length in symbols of the alphabet
     * seen; a prefix or suffix every id shares is not guessed at all */
    *bits = (double)minlen * (alpha > 1 ? mcpc_step_http_log2((double)alpha) : 0);
    if (*bits < MCPC_HTTP_STEP_MIN_BITS) {
        snprintf(why, whylen, "ids of %zu character(s) over an alphabet of %zu give about %.0f bits, "
                 "fewer than %.0f", minlen, alpha, *bits, MCPC_HTTP_STEP_MIN_BITS);
        goto out;
    }
    for (lcp = 0; lcp < minlen; lcp++) {
        size_t i;
        for (i = 1; i < n && ids[i][lcp] == ids[0][lcp]; i++)
            ;
        if (i < n)
            break;
    }
    for (lcs = 0; lcs < minlen; lcs++) {
        size_t i, l0 = strlen(ids[0]);
        for (i = 1; i < n && ids[i][strlen(ids[i]) - 1 - lcs] == ids[0][l0 - 1 - lcs]; i++)
            ;
        if (i < n)
            break;
    }
    if (2 * lcp > minlen || 2 * lcs > minlen) {
        int pre = 2 * lcp > minlen;
        size_t same = pre ? lcp : lcs;
        snprintf(why, whylen, "all %zu ids %s the same %zu character(s) (%.*s): only the rest varies",
                 n, pre ? "start with" : "end with", same, (int)(same > 40 ? 40 : same),
                 pre ? ids[0] : ids[0] + strlen(ids[0]) - lcs);
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        if (mcpc_step_http_counter(ids[i - 1], ids[i])) {
            snprintf(why, whylen, "id %zu (%.60s) is id %zu (%.60s) plus a small step: a counter",
                     i + 1, ids[i], i, ids[i - 1]);
            goto out;
        }
    }
    snprintf(why, whylen, "%zu distinct ids of %zu to %zu visible-ASCII characters over an alphabet "
             "of %zu: about %.0f bits; no shared prefix or suffix, no counter", n, minlen, maxlen,
             alpha, *bits);
    weak = 0;
out:
    free(sorted);
    return weak;
}

/* The initialize request a minting session sends (new text, *len bytes). */
static char *mcpc_step_http_initialize(size_t i, size_t *len)
{
    json_t *msg = json_pack("{s:s,s:I,s:s,s:{s:s,s:{},s:{s:s,s:s}}}", "jsonrpc", "2.0", "id",
                            (json_int_t)i + 1, "method", "initialize", "params", "protocolVersion",
                            "2025-11-25", "capabilities", "clientInfo", "name", "mcpcert",
                            "version", "0.1.0");
    char *text = msg ? mcpc_jsonrpc_dump(msg, 0, len) : NULL;
    json_decref(msg);
    return text;
}

/* Drain whatever the last answer carries (its body is not needed) until the transfer ends. */
static void mcpc_step_http_drain(mcpc_http *h, int timeout_ms)
{
    mcpc_conn *c = mcpc_http_conn(h);
    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    const char *msg;
    size_t len;
    while (c->ops->recv(c, mcpc_clock_left(deadline), &msg, &len) == MCPC_OK)
        ;
}

/* Read what a child we started has written so far. Over HTTP nobody reads its pipes while a
 * case runs; a thousand sessions make a server log enough to fill its stderr pipe (64 KiB) and
 * block it, mid-request, until the case ends. stdout lines read here are not messages (those
 * come over HTTP); stderr goes to the tail the transcript keeps. */
static void mcpc_step_http_drain_child(mcpc_step_ctx *ctx)
{
    const char *line;
    size_t len;
    mcpc_err rc;
    if (!ctx->io)
        return;
    for (int i = 0; i < 10000; i++) {
        rc = mcpc_stdio_read_line(ctx->io, 0, &line, &len);
        if (rc != MCPC_OK && rc != MCPC_ERR_TOO_BIG)
            return;
    }
}

/* Open `count` 2025-11-25 sessions one after another and judge the ids they get: visible ASCII,
 * all distinct, about 128 bits or more, no shared prefix or suffix, no counter. Each session
 * is deleted again at once (unless the server refuses DELETE), as a polite client would. */
mcpc_verdict mcpc_step_session_ids(mcpc_step_ctx *ctx, json_t *step)
{
    size_t count = (size_t)mcpc_step_ms(step, "count", MCPC_HTTP_STEP_IDS_DEFAULT);
    int budget = mcpc_step_ms(step, "ms", MCPC_HTTP_STEP_IDS_MS);
    char expected[200], err[300], arrived[300];
    char **ids = NULL;
    size_t n = 0;
    mcpc_http *h = NULL;
    int deletes = 1;
    mcpc_verdict v = MCPC_V_ERROR;
    double bits;

    snprintf(expected, sizeof expected, "%zu distinct visible-ASCII session ids of at least %.0f "
             "bits, with no shared prefix or suffix and no counter", count, MCPC_HTTP_STEP_MIN_BITS);
    if (mcpc_step_http_validate(step, err, sizeof err) != MCPC_OK)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s", err);
    if (!ctx->http || !ctx->s)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "session_ids needs the streamable HTTP transport");
    if (ctx->s->era != MCPC_ERA_2025_11_25)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "2026-07-28 has no sessions, so there are no session ids to judge");
    ids = calloc(count, sizeof *ids);
    if (!ids || mcpc_http_clone(ctx->http, "2025-11-25", &h, err, sizeof err) != MCPC_OK) {
        v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: cannot set up the exchanges");
        goto out;
    }
    int64_t t0 = mcpc_clock_ms(), deadline = t0 + budget;
    while (n < count && mcpc_clock_left(deadline) > 0) {
        /* never send a session id with initialize: each one must open a new session */
        static const char *const no_sid[] = {"Mcp-Session-Id:"};
        size_t len;
        char *body = mcpc_step_http_initialize(n, &len);
        if (!body || mcpc_http_set_headers(h, no_sid, 1) != MCPC_OK) {
            free(body);
            v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "out of memory");
            goto out;
        }
        mcpc_step_http_drain_child(ctx);
        mcpc_err rc = mcpc_http_send_method(h, "POST", body, len, ctx->s->timeout_ms);
        free(body);
        if (rc != MCPC_OK) {
            char what[200];
            snprintf(what, sizeof what, "initialize %zu of %zu: %s", n + 1, count, mcpc_strerror(rc));
            mcpc_transcript_note(ctx->tr, "session_ids: %s", what);
            v = mcpc_step_http_failed(ctx, rc, expected, ctx->s->timeout_ms);
            goto out;
        }
        long status = mcpc_http_last_status(h);
        const char *sid = mcpc_http_last_header(h, "Mcp-Session-Id");
        if (status != 200 || !sid) {
            snprintf(arrived, sizeof arrived, "initialize %zu of %zu: HTTP %ld%s", n + 1, count, status,
                     sid ? "" : ", no Mcp-Session-Id");
            mcpc_transcript_note(ctx->tr, "session_ids: %s", arrived);
            if (n == 0 && status == 200)
                v = mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, arrived,
                                  "the server does not use sessions (no Mcp-Session-Id on initialize), "
                                  "so there are no ids to judge");
            else if (status == 200)
                v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived,
                                  "an initialize got no session id although earlier ones did");
            else if (n < MCPC_HTTP_STEP_IDS_MIN)
                v = mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, arrived,
                                  "the server opened only %zu session(s), too few to judge their ids", n);
            else
                break;   /* a server that stops at some number of sessions: judge those */
            goto out;
        }
        ids[n] = strdup(sid);
        if (!ids[n]) {
            v = mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "out of memory");
            goto out;
        }
        n++;
        mcpc_step_http_drain(h, ctx->s->timeout_ms);
        /* clean up after ourselves; an id the client cannot send back stays (it is judged) */
        if (deletes && !strpbrk(sid, "\r\n")) {
            char line[1100];
            const char *one[] = {line};
            if (snprintf(line, sizeof line, "Mcp-Session-Id: %s", ids[n - 1]) < (int)sizeof line &&
                mcpc_http_set_headers(h, one, 1) == MCPC_OK &&
                mcpc_http_send_method(h, "DELETE", NULL, 0, ctx->s->timeout_ms) == MCPC_OK) {
                deletes = mcpc_http_last_status(h) != 405 && mcpc_http_last_status(h) != 404;
                mcpc_step_http_drain(h, ctx->s->timeout_ms);
            }
        }
    }
    mcpc_transcript_note(ctx->tr, "session_ids: %zu session(s) opened in %lld ms%s; first id %.80s, last %.80s",
                         n, (long long)(mcpc_clock_ms() - t0), deletes ? ", each deleted again" : "",
                         n ? ids[0] : "-", n ? ids[n - 1] : "-");
    if (n < count && n < MCPC_HTTP_STEP_IDS_MIN) {
        v = mcpc_step_say(ctx, MCPC_V_TIMEOUT, expected, "too few ids",
                          "only %zu session(s) opened within %d ms", n, budget);
        goto out;
    }
    snprintf(arrived, sizeof arrived, "%zu id(s), e.g. %.60s", n, ids[0]);
    if (mcpc_step_http_judge_ids(ids, n, &bits, err, sizeof err))
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived, "%s", err);
    else
        v = mcpc_step_say(ctx, MCPC_V_PASS, expected, arrived, "%s%s", err,
                          n < count ? " (fewer than asked: the server stopped opening sessions)" : "");
out:
    for (size_t i = 0; ids && i < count; i++)
        free(ids[i]);
    free(ids);
    mcpc_http_free(h);
    return v;
}

/* ---- token passthrough ------------------------------------------------------------------------ */

/* upstream_check: the mock upstream API (MCPCERT_UPSTREAM_URL) was called, and never with the
 * access token the case's session presented: a server must get its own token for an upstream
 * call, not forward the client's (the confused deputy). */
mcpc_verdict mcpc_step_upstream_check(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = mcpc_step_str(step, "expected",
                                         "the upstream is called with a token of the server's own");
    if (!ctx->auth || !ctx->auth->upstream || !ctx->auth->token)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "no authorization server and mock upstream in this run");
    size_t calls = mcpc_upstream_count(ctx->auth->upstream);
    size_t leaked = mcpc_upstream_count_containing(ctx->auth->upstream, ctx->auth->token,
                                                   strlen(ctx->auth->token));
    mcpc_transcript_note(ctx->tr, "upstream: %zu request(s), %zu carrying the client's access token",
                         calls, leaked);
    if (!calls)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "no upstream request",
                             "the implementation never called MCPCERT_UPSTREAM_URL, so passthrough "
                             "cannot be judged");
    if (leaked)
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, "the client's token upstream",
                             "%zu of %zu upstream request(s) carried the access token the client "
                             "presented (token passthrough)", leaked, calls);
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "own token",
                         "%zu upstream request(s), none with the client's token", calls);
}

/* The step vocabulary: validation and execution of each step kind. Keep it small; a case that
 * needs real logic gets a new primitive here, never an expression language. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "client_run.h"
#include "hex.h"
#include "clock.h"
#include "inject.h"
#include "ledger.h"
#include "match.h"
#include "step.h"
#include "step_int.h"

typedef mcpc_verdict (*mcpc_step_fn)(mcpc_step_ctx *ctx, json_t *step);

typedef struct {
    const char *name;
    const char *const *required;   /* keys besides "do" that must be present */
    const char *const *optional;   /* further keys allowed */
    mcpc_step_fn run;
    int needs_session;
} mcpc_step_def;

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOKEYS ((const char *const[]){NULL})

/* ---- helpers --------------------------------------------------------------------------------- */

/* A failed expectation grades FAIL in a MUST case and WARN in a SHOULD case. */
mcpc_verdict mcpc_step_miss(const mcpc_step_ctx *ctx)
{
    return strcmp(ctx->level, "SHOULD") == 0 ? MCPC_V_WARN : MCPC_V_FAIL;
}

/* Record the deciding details of a step (expected / arrived / message). */
mcpc_verdict mcpc_step_say(mcpc_step_ctx *ctx, mcpc_verdict v, const char *expected,
                           const char *arrived, const char *fmt, ...)
{
    va_list ap;
    ctx->verdict = v;
    snprintf(ctx->expected, sizeof ctx->expected, "%s", expected ? expected : "");
    snprintf(ctx->arrived, sizeof ctx->arrived, "%s", arrived ? arrived : "");
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
    return v;
}

/* Compact, printable text of a message, cut to fit a report line. */
void mcpc_step_show(const json_t *v, char *out, size_t outlen)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *p = s ? mcpc_text_printable(s, strlen(s), outlen > 40 ? outlen - 40 : outlen) : NULL;
    snprintf(out, outlen, "%s", p ? p : "(nothing)");
    free(s);
    free(p);
}

int mcpc_step_ms(json_t *step, const char *key, int dflt)
{
    json_t *v = json_object_get(step, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

const char *mcpc_step_str(json_t *step, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(step, key));
    return s ? s : dflt;
}

/* Verdict for a transport failure while a message was awaited. */
mcpc_verdict mcpc_step_transport(mcpc_step_ctx *ctx, mcpc_err rc, const char *expected)
{
    int crashed = 0;
    const char *exit_text;
    switch (rc) {
    case MCPC_ERR_TIMEOUT:
        return mcpc_step_say(ctx, MCPC_V_TIMEOUT, expected, "nothing", "%s", ctx->s->error);
    case MCPC_ERR_EOF:
        if (ctx->io) {
            mcpc_stdio_wait_exit(ctx->io, 500);
            exit_text = mcpc_stdio_exit_text(ctx->io, &crashed);
        } else {
            exit_text = "connection closed";
        }
        /* over HTTP a connection that ends is no proof of death: only an exit is a crash */
        if (ctx->http && (!ctx->io || !mcpc_stdio_exited(ctx->io)))
            return mcpc_step_say(ctx, MCPC_V_FAIL, expected, ctx->s->error, "%s", ctx->s->error);
        return mcpc_step_say(ctx, MCPC_V_CRASH, expected, ctx->s->error,
                             "the implementation closed its output (%s)", exit_text);
    case MCPC_ERR_TOO_BIG:
    case MCPC_ERR_PARSE:
    case MCPC_ERR_INVALID:
    case MCPC_ERR_PROTOCOL:   /* HTTP: an answer that cannot carry the message */
        return mcpc_step_say(ctx, MCPC_V_FAIL, expected, ctx->s->error, "%s", ctx->s->error);
    case MCPC_ERR_IO:
        /* over HTTP a server that dies mid-request fails the send (reset, then refused): when
         * the process we started is gone, that is its crash, not the harness's error */
        if (ctx->io) {
            mcpc_stdio_wait_exit(ctx->io, 500);
            if (mcpc_stdio_exited(ctx->io))
                return mcpc_step_say(ctx, MCPC_V_CRASH, expected, ctx->s->error, "the implementation died (%s)",
                                     mcpc_stdio_exit_text(ctx->io, NULL));
        }
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: %s", mcpc_strerror(rc));
    default:
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "harness error: %s",
                             mcpc_strerror(rc));
    }
}

static const char *mcpc_step_kind(mcpc_msg_kind k)
{
    return mcpc_msg_kind_name(k);
}

/* ---- sending --------------------------------------------------------------------------------- */

static mcpc_verdict mcpc_step_request(mcpc_step_ctx *ctx, json_t *step)
{
    char err[200];
    json_t *params = NULL, *id = NULL;
    json_t *tp = json_object_get(step, "params");
    mcpc_verdict v = MCPC_V_PASS;
    if (tp) {
        params = mcpc_match_subst(tp, ctx->vars, err, sizeof err);
        if (!params)
            return mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "case error: %s", err);
    }
    json_t *tid = json_object_get(step, "id");
    if (tid && !(id = mcpc_match_subst(tid, ctx->vars, err, sizeof err))) {
        json_decref(params);
        return mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "case error: %s", err);
    }
    int meta = !json_is_false(json_object_get(step, "meta"));
    json_t *env = json_object_get(step, "envelope");
    json_decref(ctx->sent_id);
    ctx->sent_id = NULL;
    mcpc_err rc;
    if (env) {
        /* a deliberately wrong envelope: build, then override or remove top-level members */
        json_t *p = mcpc_session_params(ctx->s, params, meta);
        json_t *use_id = id ? json_incref(id) : json_integer(ctx->s->next_id++);
        json_t *msg = mcpc_jsonrpc_request(use_id, mcpc_step_str(step, "method", ""), p);
        const char *k;
        json_t *val;
        json_object_foreach(env, k, val) {
            if (json_is_null(val))
                json_object_del(msg, k);
            else
                json_object_set(msg, k, val);
        }
        rc = msg ? mcpc_session_send(ctx->s, msg) : MCPC_ERR_NOMEM;
        ctx->sent_id = use_id;
        json_decref(msg);
        json_decref(p);
    } else {
        rc = mcpc_session_request(ctx->s, mcpc_step_str(step, "method", ""), params, meta, id,
                                  &ctx->sent_id);
    }
    if (rc != MCPC_OK)
        v = mcpc_step_transport(ctx, rc, "the request to be delivered");
    json_decref(params);
    json_decref(id);
    return v;
}

static mcpc_verdict mcpc_step_notify(mcpc_step_ctx *ctx, json_t *step)
{
    char err[200];
    json_t *params = NULL, *msg = NULL;
    json_t *tp = json_object_get(step, "params");
    mcpc_verdict v = MCPC_V_PASS;
    int meta = json_is_true(json_object_get(step, "meta"));
    if (tp || meta) {
        json_t *raw = tp ? mcpc_match_subst(tp, ctx->vars, err, sizeof err) : json_object();
        if (!raw)
            return mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "case error: %s", err);
        params = mcpc_session_params(ctx->s, raw, meta);
        json_decref(raw);
    }
    msg = mcpc_jsonrpc_notification(mcpc_step_str(step, "method", ""), params);
    mcpc_err rc = msg ? mcpc_session_send(ctx->s, msg) : MCPC_ERR_NOMEM;
    if (rc != MCPC_OK)
        v = mcpc_step_transport(ctx, rc, "the notification to be delivered");
    json_decref(params);
    json_decref(msg);
    return v;
}


/* Raw bytes: "data" as text, or "hex" for bytes that are not valid text (invalid UTF-8). */
static mcpc_verdict mcpc_step_send_raw(mcpc_step_ctx *ctx, json_t *step)
{
    const char *text = json_string_value(json_object_get(step, "data"));
    const char *hex = json_string_value(json_object_get(step, "hex"));
    size_t n = text ? strlen(text) : (hex ? strlen(hex) / 2 : 0);
    int nl = !json_is_false(json_object_get(step, "newline"));
    char *buf = malloc(n + 2);
    mcpc_verdict v = MCPC_V_PASS;
    if (!buf)
        return mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "out of memory");
    if (text) {
        memcpy(buf, text, n);
    } else {
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(mcpc_hex_value(hex[2 * i]) * 16 + mcpc_hex_value(hex[2 * i + 1]));
    }
    if (nl)
        buf[n++] = '\n';
    mcpc_err rc = mcpc_session_send_raw(ctx->s, buf, n);
    if (rc != MCPC_OK)
        v = mcpc_step_transport(ctx, rc, "the bytes to be delivered");
    free(buf);
    return v;
}

/* Several requests written with one write(), then every response collected by id. */
static mcpc_verdict mcpc_step_pipeline(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *reqs = json_object_get(step, "requests");
    json_t *ids = json_array();
    char *all = NULL;
    size_t total = 0, i;
    json_t *r;
    mcpc_verdict v = MCPC_V_PASS;
    char expected[200];
    snprintf(expected, sizeof expected, "one response for each of the %zu pipelined requests",
             json_array_size(reqs));
    json_array_foreach(reqs, i, r) {
        json_t *p = mcpc_session_params(ctx->s, json_object_get(r, "params"), 1);
        json_t *m = p ? mcpc_jsonrpc_request(json_object_get(r, "id"), json_string_value(json_object_get(r, "method")), p) : NULL;
        size_t len;
        char *line = m ? mcpc_jsonrpc_dump(m, 1, &len) : NULL;
        char *grown = line ? realloc(all, total + len) : NULL;
        if (grown) {
            all = grown;
            memcpy(all + total, line, len);
            total += len;
            json_array_append(ids, json_object_get(r, "id"));
        }
        free(line);
        json_decref(m);
        json_decref(p);
        if (!grown) {
            v = mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "out of memory");
            goto out;
        }
    }
    mcpc_err rc = mcpc_session_send_raw(ctx->s, all, total);
    if (rc != MCPC_OK) {
        v = mcpc_step_transport(ctx, rc, expected);
        goto out;
    }
    int64_t deadline = mcpc_clock_ms() + ctx->s->timeout_ms;
    while (json_array_size(ids) > 0) {
        mcpc_msg m;
        rc = mcpc_session_recv(ctx->s, MCPC_KINDS_RESPONSE, mcpc_clock_left(deadline), &m);
        if (rc == MCPC_ERR_TIMEOUT) {
            char missing[200];
            mcpc_step_show(ids, missing, sizeof missing);
            v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, "no response for some requests",
                              "no response arrived for the request ids %s", missing);
            goto out;
        }
        if (rc != MCPC_OK) {
            v = mcpc_step_transport(ctx, rc, expected);
            goto out;
        }
        size_t k;
        json_t *id;
        json_array_foreach(ids, k, id) {
            if (m.id && json_equal(m.id, id)) {
                json_array_remove(ids, k);
                break;
            }
        }
        mcpc_msg_clear(&m);
    }
out:
    free(all);
    json_decref(ids);
    return v;
}

/* ---- judging what arrives ---------------------------------------------------------------------- */

static mcpc_verdict mcpc_step_grade(const char *g)
{
    if (g && strcmp(g, "PASS") == 0) return MCPC_V_PASS;
    if (g && strcmp(g, "WARN") == 0) return MCPC_V_WARN;
    return MCPC_V_FAIL;
}

/* Store captures {"var": "/pointer"} from msg into vars. */
static void mcpc_step_capture(mcpc_step_ctx *ctx, json_t *capture, json_t *msg)
{
    const char *var;
    json_t *ptr;
    json_object_foreach(capture, var, ptr) {
        json_t *v = mcpc_pointer_get(msg, json_string_value(ptr));
        if (v)
            json_object_set(ctx->vars, var, v);
    }
}

/* The first outcome whose "on" is `on` and whose conditions hold; NULL when none. */
static json_t *mcpc_step_outcome(mcpc_step_ctx *ctx, json_t *outcomes, const char *on,
                                 const mcpc_match_ctx *mc, char *why, size_t whylen)
{
    size_t i;
    json_t *o;
    json_array_foreach(outcomes, i, o) {
        if (strcmp(mcpc_step_str(o, "on", "message"), on) != 0)
            continue;
        json_t *when = json_object_get(o, "when");
        char w[200];
        if (!when || (mc && mcpc_match_all(when, mc, w, sizeof w)))
            return o;
        /* remember why the first PASS outcome did not hold: the most useful "arrived" detail */
        if (why[0] == '\0' && mcpc_step_grade(mcpc_step_str(o, "grade", "")) == MCPC_V_PASS)
            snprintf(why, whylen, "%s", w);
    }
    return NULL;
}

static mcpc_verdict mcpc_step_expect(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = mcpc_step_str(step, "expected", "");
    json_t *outcomes = json_object_get(step, "outcomes");
    unsigned mask = json_is_true(json_object_get(step, "any")) ? MCPC_KINDS_ANY : MCPC_KINDS_RESPONSE;
    int ms = mcpc_step_ms(step, "timeout_ms", ctx->s->timeout_ms);
    char why[256] = "", shown[400];
    mcpc_msg m;
    json_t *o;
    mcpc_err rc = mcpc_session_recv(ctx->s, mask, ms, &m);
    if (rc != MCPC_OK) {
        const char *on = rc == MCPC_ERR_TIMEOUT ? "timeout" : rc == MCPC_ERR_EOF ? "eof" : "malformed";
        o = mcpc_step_outcome(ctx, outcomes, on, NULL, why, sizeof why);
        mcpc_msg_clear(&m);
        if (o) {
            mcpc_verdict g = mcpc_step_grade(mcpc_step_str(o, "grade", ""));
            return mcpc_step_say(ctx, g, expected, ctx->s->error, "%s",
                                 mcpc_step_str(o, "reason", ctx->s->error));
        }
        return mcpc_step_transport(ctx, rc, expected);
    }
    mcpc_match_ctx mc = {.msg = m.root, .kind = mcpc_step_kind(m.kind), .sent_id = ctx->sent_id,
                         .vars = ctx->vars, .era = mcpc_era_name(ctx->s->era)};
    mcpc_step_show(m.root, shown, sizeof shown);
    o = mcpc_step_outcome(ctx, outcomes, "message", &mc, why, sizeof why);
    mcpc_verdict v;
    if (!o) {
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown, "%s",
                          why[0] ? why : "no accepted outcome matched");
    } else {
        v = mcpc_step_grade(mcpc_step_str(o, "grade", ""));
        if (v != MCPC_V_FAIL && json_object_get(step, "capture"))
            mcpc_step_capture(ctx, json_object_get(step, "capture"), m.root);
        mcpc_step_say(ctx, v, expected, shown, "%s",
                      mcpc_step_str(o, "reason", v == MCPC_V_PASS ? "as expected" : why));
    }
    mcpc_msg_clear(&m);
    return v;
}

static mcpc_verdict mcpc_step_expect_none(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = mcpc_step_str(step, "expected", "no message");
    unsigned mask = json_is_true(json_object_get(step, "any")) ? MCPC_KINDS_ANY : MCPC_KINDS_RESPONSE;
    char shown[400];
    mcpc_msg m;
    mcpc_err rc = mcpc_session_recv(ctx->s, mask, mcpc_step_ms(step, "ms", 500), &m);
    if (rc == MCPC_ERR_TIMEOUT)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "nothing", "nothing arrived, as expected");
    if (rc != MCPC_OK) {
        mcpc_msg_clear(&m);
        return mcpc_step_transport(ctx, rc, expected);
    }
    mcpc_step_show(m.root, shown, sizeof shown);
    mcpc_msg_clear(&m);
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown, "%s",
                         mcpc_step_str(step, "reason", "a message arrived that must not"));
}

/* Drain (and hold) whatever arrives for ms. */
static mcpc_err mcpc_step_drain(mcpc_step_ctx *ctx, int ms)
{
    int64_t deadline = mcpc_clock_ms() + ms;
    for (;;) {
        mcpc_msg m;
        mcpc_err rc = mcpc_session_recv(ctx->s, 0, mcpc_clock_left(deadline), &m);
        mcpc_msg_clear(&m);
        if (rc == MCPC_ERR_TIMEOUT)
            return MCPC_OK;
        if (rc == MCPC_ERR_EOF)
            return rc;
        if (mcpc_clock_left(deadline) == 0)
            return MCPC_OK;
    }
}

static mcpc_verdict mcpc_step_wait(mcpc_step_ctx *ctx, json_t *step)
{
    mcpc_step_drain(ctx, mcpc_step_ms(step, "ms", 200));
    return MCPC_V_PASS;
}

static mcpc_verdict mcpc_step_stdout_clean(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = "only JSON-RPC messages on stdout";
    char arrived[300];
    mcpc_step_drain(ctx, mcpc_step_ms(step, "ms", 200));
    if (ctx->s->noise == 0 && ctx->s->malformed == 0)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "only JSON-RPC messages", "stdout clean");
    snprintf(arrived, sizeof arrived, "%zu non-JSON line(s), %zu malformed message(s)%s%s",
             ctx->s->noise, ctx->s->malformed, ctx->s->noise ? "; first: " : "",
             ctx->s->noise ? ctx->s->noise_sample : "");
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived,
                         "stdout carried output that is not a JSON-RPC message");
}

static mcpc_verdict mcpc_step_no_server_requests(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = "no request from the server";
    mcpc_step_drain(ctx, mcpc_step_ms(step, "ms", 300));
    if (ctx->s->server_requests == 0)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "none", "no server-initiated request");
    char arrived[100];
    snprintf(arrived, sizeof arrived, "%zu request(s) from the server", ctx->s->server_requests);
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived,
                         "the server sent a JSON-RPC request (method and id)");
}

/* ---- lists, tools and content -------------------------------------------------------------- */

/* Follow a paginated list to its end: {"method","key","into","max_pages"}. */
static mcpc_verdict mcpc_step_list_all(mcpc_step_ctx *ctx, json_t *step)
{
    const char *method = mcpc_step_str(step, "method", "tools/list");
    const char *key = mcpc_step_str(step, "key", "tools");
    int max_pages = mcpc_step_ms(step, "max_pages", 20);
    json_t *items = json_array(), *seen = json_array(), *cursor = NULL;
    mcpc_verdict v = MCPC_V_PASS;
    char expected[200], shown[400];
    snprintf(expected, sizeof expected, "%s pages, each a result with a \"%s\" array, ending without nextCursor",
             method, key);
    for (int page = 0;; page++) {
        json_t *params = cursor ? json_pack("{s:O}", "cursor", cursor) : NULL, *resp = NULL;
        if (page >= max_pages) {
            v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, "still more pages",
                              "pagination did not end within %d pages", max_pages);
            json_decref(params);
            break;
        }
        mcpc_err rc = mcpc_session_call(ctx->s, method, params, &resp);
        json_decref(params);
        if (rc != MCPC_OK) {
            v = mcpc_step_transport(ctx, rc, expected);
            break;
        }
        json_t *result = json_object_get(resp, "result");
        json_t *arr = json_object_get(result, key);
        mcpc_step_show(resp, shown, sizeof shown);
        if (!json_is_array(arr)) {
            v = mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "page %d has no \"%s\" array", page + 1, key);
            json_decref(resp);
            break;
        }
        json_array_extend(items, arr);
        json_t *next = json_object_get(result, "nextCursor");
        if (!next || json_is_null(next)) {
            json_decref(resp);
            break;
        }
        if (!json_is_string(next)) {
            v = mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "nextCursor is not a string");
            json_decref(resp);
            break;
        }
        size_t i;
        json_t *c;
        int loop = 0;
        json_array_foreach(seen, i, c) loop |= json_equal(c, next);
        if (loop) {
            v = mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown,
                              "nextCursor repeats an earlier cursor: the pages loop");
            json_decref(resp);
            break;
        }
        json_array_append(seen, next);
        json_decref(cursor);
        cursor = json_incref(next);
        json_decref(resp);
    }
    if (v == MCPC_V_PASS) {
        json_object_set(ctx->vars, mcpc_step_str(step, "into", key), items);
        mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu item(s) in %zu page(s)",
                      json_array_size(items), json_array_size(seen) + 1);
    }
    json_decref(items);
    json_decref(seen);
    json_decref(cursor);
    return v;
}

/* Structural checks every listed tool must meet. */
static mcpc_verdict mcpc_step_lint_tools(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *tools = json_object_get(ctx->vars, mcpc_step_str(step, "of", "tools"));
    const char *expected = "every tool: a unique non-empty name and an object inputSchema with type \"object\"";
    size_t i, k;
    json_t *t, *u;
    char shown[400];
    if (!json_is_array(tools))
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: no tool list captured");
    json_array_foreach(tools, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *schema = json_object_get(t, "inputSchema");
        mcpc_step_show(t, shown, sizeof shown);
        if (!json_is_object(t) || !name || !*name)
            return mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "tool %zu has no name", i);
        if (!json_is_object(schema))
            return mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "tool %s: inputSchema is not an object", name);
        const char *type = json_string_value(json_object_get(schema, "type"));
        if (!type || strcmp(type, "object") != 0)
            return mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown,
                                 "tool %s: inputSchema root type is not \"object\"", name);
        json_t *d = json_object_get(t, "description");
        if (d && !json_is_string(d))
            return mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "tool %s: description is not a string", name);
        json_t *a = json_object_get(t, "annotations");
        if (a && !json_is_object(a))
            return mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "tool %s: annotations is not an object", name);
        json_array_foreach(tools, k, u) {
            const char *other = json_string_value(json_object_get(u, "name"));
            if (k > i && other && strcmp(other, name) == 0)
                return mcpc_step_say(ctx, MCPC_V_FAIL, expected, shown, "tool name %s is listed twice", name);
        }
    }
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu tool(s) well-formed", json_array_size(tools));
}

/* Name of the first tool (by position) that differs between two lists, for the report. */
static void mcpc_step_first_diff(json_t *a, json_t *b, char *out, size_t outlen)
{
    size_t n = json_array_size(a) > json_array_size(b) ? json_array_size(a) : json_array_size(b);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
        if (!x || !y || !json_equal(x, y)) {
            char sx[180], sy[180];
            mcpc_step_show(x, sx, sizeof sx);
            mcpc_step_show(y, sy, sizeof sy);
            snprintf(out, outlen, "entry %zu was %s, now %s", i, sx, sy);
            return;
        }
    }
    snprintf(out, outlen, "values differ");
}

static mcpc_verdict mcpc_step_compare(mcpc_step_ctx *ctx, json_t *step)
{
    const char *an = mcpc_step_str(step, "a", ""), *bn = mcpc_step_str(step, "b", "");
    json_t *a = json_object_get(ctx->vars, an), *b = json_object_get(ctx->vars, bn);
    const char *expected = mcpc_step_str(step, "expected", "the two captured values are identical");
    char diff[512];
    if (!a || !b)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s or %s never captured", an, bn);
    if (json_equal(a, b))
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "identical", "%s and %s are identical", an, bn);
    mcpc_step_first_diff(a, b, diff, sizeof diff);
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, diff, "%s and %s differ", an, bn);
}

static mcpc_verdict mcpc_step_scan_injection(mcpc_step_ctx *ctx, json_t *step)
{
    const char *of = mcpc_step_str(step, "of", "tools");
    json_t *v = json_object_get(ctx->vars, of);
    const char *expected = "no injection markers or hidden characters in text meant for the model";
    mcpc_inject *inj = NULL;
    char err[200], what[400];
    if (!v)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s never captured", of);
    if (mcpc_inject_new(json_object_get(step, "patterns"),
                        !json_is_false(json_object_get(step, "invisible")), &inj, err, sizeof err) != MCPC_OK)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s", err);
    int found = mcpc_inject_scan(inj, v, what, sizeof what);
    mcpc_inject_free(inj);
    if (!found)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "clean", "no injection marker in %s", of);
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, what, "injection marker found in %s", of);
}

/* Does a tool take no required arguments and declare itself read-only? Those are safe to call
 * with {} on a third-party implementation. */
static int mcpc_step_safe_tool(json_t *t)
{
    json_t *req = json_object_get(json_object_get(t, "inputSchema"), "required");
    json_t *ro = json_object_get(json_object_get(t, "annotations"), "readOnlyHint");
    return json_is_true(ro) && (!req || (json_is_array(req) && json_array_size(req) == 0));
}

static mcpc_verdict mcpc_step_call_tools(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *tools = json_object_get(ctx->vars, mcpc_step_str(step, "of", "tools"));
    json_t *out = json_array(), *byname = json_object();
    const char *expected = "a response to each read-only, argument-free tool call";
    size_t i, calls = 0, timeouts = 0, max = (size_t)mcpc_step_ms(step, "max", 20);
    json_t *t;
    mcpc_verdict v = MCPC_V_PASS;
    json_array_foreach(tools, i, t) {
        if (!mcpc_step_safe_tool(t) || calls >= max)
            continue;
        json_t *params = json_pack("{s:O,s:{}}", "name", json_object_get(t, "name"), "arguments");
        json_t *resp = NULL;
        mcpc_err rc = mcpc_session_call(ctx->s, "tools/call", params, &resp);
        json_decref(params);
        calls++;
        if (rc == MCPC_ERR_TIMEOUT) {
            /* a slow tool (a long-running operation) is not a protocol failure; go on without it */
            mcpc_transcript_note(ctx->tr, "tool %s did not answer within %d ms; its result is not inspected",
                                 json_string_value(json_object_get(t, "name")), ctx->s->timeout_ms);
            timeouts++;
            continue;
        }
        if (rc != MCPC_OK) {
            v = mcpc_step_transport(ctx, rc, expected);
            break;
        }
        json_t *r = json_object_get(resp, "result");
        if (r) {
            json_array_append(out, r);
            json_object_set(byname, json_string_value(json_object_get(t, "name")), r);
        }
        json_decref(resp);
    }
    if (v == MCPC_V_PASS && calls > 0 && timeouts == calls) {
        v = mcpc_step_say(ctx, MCPC_V_TIMEOUT, expected, "nothing",
                          "none of the %zu tool call(s) was answered within %d ms", calls,
                          ctx->s->timeout_ms);
    } else if (v == MCPC_V_PASS) {
        char key[160];
        const char *into = mcpc_step_str(step, "into", "results");
        json_object_set(ctx->vars, into, out);
        /* the same results by tool name, for checks that need the tool (outputSchema) */
        snprintf(key, sizeof key, "%s_by_tool", into);
        json_object_set(ctx->vars, key, byname);
        mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu tool call(s) answered, %zu too slow",
                      calls - timeouts, timeouts);
    }
    json_decref(out);
    json_decref(byname);
    return v;
}

/* Preconditions: a captured list has an entry named `name`, or is non-empty; or a pointer into a
 * captured value is present (or, with absent:true, is not). Unmet: NOT TESTABLE, never FAIL. */
/* assert: conditions over a captured variable (a result kept with into/capture, or "server",
 * the opening result); a miss when one does not hold. For what a case learns once and judges
 * afterwards, such as what the server advertised when the session opened. */
static mcpc_verdict mcpc_step_assert(mcpc_step_ctx *ctx, json_t *step)
{
    const char *of = mcpc_step_str(step, "of", "");
    const char *expected = mcpc_step_str(step, "expected", "");
    json_t *v = json_object_get(ctx->vars, of);
    char why[256], shown[300];
    mcpc_match_ctx m = {.msg = v, .kind = NULL, .sent_id = ctx->sent_id, .vars = ctx->vars,
                        .era = ctx->s ? mcpc_era_name(ctx->s->era) : NULL};
    mcpc_step_show(v, shown, sizeof shown);
    if (!v)
        return mcpc_step_say(ctx, MCPC_V_ERROR, expected, "", "case error: %s was never captured", of);
    if (mcpc_match_all(json_object_get(step, "when"), &m, why, sizeof why))
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, shown, "as expected");
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown, "%s", why);
}

static mcpc_verdict mcpc_step_require(mcpc_step_ctx *ctx, json_t *step)
{
    const char *of = mcpc_step_str(step, "of", "");
    json_t *v = json_object_get(ctx->vars, of);
    const char *name = mcpc_step_str(step, "name", NULL);
    const char *path = mcpc_step_str(step, "path", NULL);
    int absent = json_is_true(json_object_get(step, "absent"));
    if (name) {
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) {
            const char *n = json_string_value(json_object_get(t, "name"));
            if (!n || strcmp(n, name) != 0)
                continue;
            /* a same-named entry of another shape is not our fixture */
            if (!path || mcpc_pointer_get(t, path))
                return MCPC_V_PASS;
            return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "",
                                 "%s is offered but is not the fixture (no %s), so this check cannot be made",
                                 name, path);
        }
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "",
                             "the fixture %s is not offered, so this check cannot be made", name);
    }
    if (path) {
        int present = v && mcpc_pointer_get(v, path) != NULL;
        if (present != absent)
            return MCPC_V_PASS;
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "", "%s%s is %s, so this check does not apply",
                             of, path, present ? "present" : "absent");
    }
    if ((json_is_array(v) && json_array_size(v)) || (json_is_object(v) && json_object_size(v)))
        return MCPC_V_PASS;
    return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "", "%s is empty, so this check cannot be made", of);
}

/* Every captured tool result carries a content array of typed blocks (text blocks with text). */
static mcpc_verdict mcpc_step_lint_results(mcpc_step_ctx *ctx, json_t *step)
{
    const char *of = mcpc_step_str(step, "of", "results");
    json_t *results = json_object_get(ctx->vars, of);
    const char *expected = "every tool result has a content array of blocks with a type; text blocks carry text";
    char shown[400];
    size_t i, k;
    json_t *r, *b;
    if (!json_is_array(results) || json_array_size(results) == 0)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "", "no tool result to inspect");
    json_array_foreach(results, i, r) {
        json_t *content = json_object_get(r, "content");
        json_t *need = json_object_get(step, "require"), *ptr;
        mcpc_step_show(r, shown, sizeof shown);
        json_array_foreach(need, k, ptr) {
            if (!mcpc_pointer_get(r, json_string_value(ptr)))
                return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown, "result %zu lacks %s",
                                     i + 1, json_string_value(ptr));
        }
        if (!json_is_array(content))
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown, "result %zu has no content array", i + 1);
        json_array_foreach(content, k, b) {
            const char *type = json_string_value(json_object_get(b, "type"));
            if (!type || (strcmp(type, "text") == 0 && !json_is_string(json_object_get(b, "text"))))
                return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown,
                                     "result %zu: content block %zu is malformed", i + 1, k + 1);
        }
    }
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu result(s) well-formed", json_array_size(results));
}

/* ---- ledger, process --------------------------------------------------------------------- */

static mcpc_verdict mcpc_step_ledger_mark(mcpc_step_ctx *ctx, json_t *step)
{
    if (!ctx->ledger_path)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "", "no ledger hook for this run");
    ctx->ledger_mark = mcpc_ledger_count(ctx->ledger_path);
    return MCPC_V_PASS;
}

static mcpc_verdict mcpc_step_ledger_check(mcpc_step_ctx *ctx, json_t *step)
{
    long want = mcpc_step_ms(step, "delta", 0);
    char expected[160], arrived[160];
    if (!ctx->ledger_path)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "", "no ledger hook for this run");
    long now = mcpc_ledger_count(ctx->ledger_path);
    long delta = now - ctx->ledger_mark;
    snprintf(expected, sizeof expected, "%ld new side effect(s) in the ledger", want);
    snprintf(arrived, sizeof arrived, "%ld new side effect(s)", delta);
    if (delta == want)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, arrived, "ledger as expected");
    /* a positive control that sees nothing means the hook is absent, not that the SUT failed */
    if (json_is_true(json_object_get(step, "control")) && delta == 0)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, arrived,
                             "the implementation does not record side effects in MCPCERT_LEDGER");
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, arrived, "%s",
                         mcpc_step_str(step, "reason", "the side-effect ledger changed unexpectedly"));
}

/* Process steps need a child we started; against --url there is none. */
static mcpc_verdict mcpc_step_no_process(mcpc_step_ctx *ctx)
{
    return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, "", "",
                         "the implementation was not started by mcpcert, so its process cannot be observed");
}

static mcpc_verdict mcpc_step_close_stdin(mcpc_step_ctx *ctx, json_t *step)
{
    if (!ctx->io)
        return mcpc_step_no_process(ctx);
    mcpc_stdio_close_stdin(ctx->io);
    mcpc_transcript_note(ctx->tr, "closed the implementation's stdin");
    return MCPC_V_PASS;
}

static mcpc_verdict mcpc_step_expect_exit(mcpc_step_ctx *ctx, json_t *step)
{
    int ms = mcpc_step_ms(step, "ms", 2000);
    char expected[120];
    snprintf(expected, sizeof expected, "the process exits within %d ms", ms);
    if (!ctx->io)
        return mcpc_step_no_process(ctx);
    if (mcpc_stdio_wait_exit(ctx->io, ms) == MCPC_OK)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, mcpc_stdio_exit_text(ctx->io, NULL), "exited");
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, "still running",
                         "the process did not exit after its input ended");
}

static mcpc_verdict mcpc_step_alive(mcpc_step_ctx *ctx, json_t *step)
{
    const char *expected = "the process is still running";
    if (!ctx->io)
        return mcpc_step_no_process(ctx);
    if (!mcpc_stdio_exited(ctx->io))
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "running", "alive");
    return mcpc_step_say(ctx, MCPC_V_CRASH, expected, mcpc_stdio_exit_text(ctx->io, NULL),
                         "the implementation died");
}

static mcpc_verdict mcpc_step_open(mcpc_step_ctx *ctx, json_t *step)
{
    mcpc_err rc = mcpc_session_open(ctx->s);
    if (rc == MCPC_OK) {
        /* initialize or discover result, so cases can require a capability */
        json_object_set(ctx->vars, "server", ctx->s->open_result);
        return MCPC_V_PASS;
    }
    if (rc == MCPC_ERR_TIMEOUT || rc == MCPC_ERR_EOF || rc == MCPC_ERR_TOO_BIG)
        return mcpc_step_transport(ctx, rc, "the session to open");
    return mcpc_step_say(ctx, MCPC_V_FAIL, "the session to open", ctx->s->error, "%s", ctx->s->error);
}

/* A second connection (a fresh process on stdio): the runner starts it and opens the session. */
static mcpc_verdict mcpc_step_reconnect(mcpc_step_ctx *ctx, json_t *step)
{
    if (!ctx->reconnect)
        return mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "harness error: no way to reconnect here");
    return ctx->reconnect(ctx);
}

/* ---- the table -------------------------------------------------------------------------- */

static const mcpc_step_def mcpc_steps[] = {
    {"request", KEYS("method"), KEYS("params", "id", "meta", "envelope"), mcpc_step_request, 1},
    {"notify", KEYS("method"), KEYS("params", "meta"), mcpc_step_notify, 1},
    {"send_raw", NOKEYS, KEYS("data", "hex", "newline"), mcpc_step_send_raw, 1},
    {"pipeline", KEYS("requests"), NOKEYS, mcpc_step_pipeline, 1},
    {"expect", KEYS("expected", "outcomes"), KEYS("capture", "timeout_ms", "any"), mcpc_step_expect, 1},
    {"expect_none", KEYS("expected"), KEYS("ms", "any", "reason"), mcpc_step_expect_none, 1},
    {"wait", NOKEYS, KEYS("ms"), mcpc_step_wait, 1},
    {"stdout_clean", NOKEYS, KEYS("ms"), mcpc_step_stdout_clean, 1},
    {"no_server_requests", NOKEYS, KEYS("ms"), mcpc_step_no_server_requests, 1},
    {"list_all", KEYS("method", "key", "into"), KEYS("max_pages"), mcpc_step_list_all, 1},
    {"lint_tools", KEYS("of"), NOKEYS, mcpc_step_lint_tools, 0},
    {"compare", KEYS("a", "b"), KEYS("expected"), mcpc_step_compare, 0},
    {"scan_injection", KEYS("of", "patterns"), KEYS("invisible"), mcpc_step_scan_injection, 0},
    {"call_tools", KEYS("of", "into"), KEYS("max"), mcpc_step_call_tools, 1},
    {"require", KEYS("of"), KEYS("name", "path", "absent"), mcpc_step_require, 0},
    {"assert", KEYS("of", "when", "expected"), NOKEYS, mcpc_step_assert, 0},
    {"lint_results", KEYS("of"), KEYS("require"), mcpc_step_lint_results, 0},
    {"ledger_mark", NOKEYS, NOKEYS, mcpc_step_ledger_mark, 0},
    {"ledger_check", KEYS("delta"), KEYS("control", "reason"), mcpc_step_ledger_check, 0},
    {"close_stdin", NOKEYS, NOKEYS, mcpc_step_close_stdin, 0},
    {"expect_exit", NOKEYS, KEYS("ms"), mcpc_step_expect_exit, 0},
    {"alive", NOKEYS, NOKEYS, mcpc_step_alive, 0},
    {"open", NOKEYS, NOKEYS, mcpc_step_open, 1},
    {"call_invalid", KEYS("of"), KEYS("max"), mcpc_step_call_invalid, 1},
    {"call_unlisted", KEYS("of"), KEYS("max"), mcpc_step_call_unlisted, 1},
    {"lint_schemas", KEYS("of"), NOKEYS, mcpc_step_lint_schemas, 0},
    {"check_structured", KEYS("of", "results"), NOKEYS, mcpc_step_check_structured, 0},
    {"reconnect", NOKEYS, NOKEYS, mcpc_step_reconnect, 1},
    {"http_request", KEYS("expected", "outcomes"),
     KEYS("method", "params", "id", "meta", "notification", "body", "method_http", "headers",
          "capture", "into", "timeout_ms", "token"), mcpc_step_http_request, 1},
    {"upstream_check", NOKEYS, KEYS("expected"), mcpc_step_upstream_check, 0},
    {"auth_metadata", NOKEYS, KEYS("expected"), mcpc_step_auth_metadata, 1},
    {"http_delete", NOKEYS, KEYS("timeout_ms"), mcpc_step_http_delete, 1},
    {"session_ids", NOKEYS, KEYS("count", "ms"), mcpc_step_session_ids, 1},
    {"client_exit", NOKEYS, KEYS("code", "failed"), mcpc_step_client_exit, 0},
    {"client_sequence", KEYS("expect"), KEYS("skip", "expected", "of", "http"),
     mcpc_step_client_sequence, 0},
    {"client_each", KEYS("match"), KEYS("where", "min", "expected", "of"), mcpc_step_client_each, 0},
    {"client_none", KEYS("where"), KEYS("expected", "of"), mcpc_step_client_never, 0},
    {"client_output", KEYS("contains"), NOKEYS, mcpc_step_client_output, 0},
    {"client_unique_ids", NOKEYS, NOKEYS, mcpc_step_client_unique_ids, 0},
    {"client_headers", KEYS("check"), KEYS("expected"), mcpc_step_client_headers, 0},
};
#define MCPC_NSTEPS (sizeof mcpc_steps / sizeof mcpc_steps[0])

const char *const *mcpc_step_names(void)
{
    static const char *names[MCPC_NSTEPS + 1];
    for (size_t i = 0; i < MCPC_NSTEPS; i++)
        names[i] = mcpc_steps[i].name;
    return names;
}

static const mcpc_step_def *mcpc_step_find(const char *name)
{
    for (size_t i = 0; name && i < MCPC_NSTEPS; i++) {
        if (strcmp(mcpc_steps[i].name, name) == 0)
            return &mcpc_steps[i];
    }
    return NULL;
}

static int mcpc_step_key_in(const char *key, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(key, list[i]) == 0)
            return 1;
    }
    return 0;
}

/* Kind-specific shape checks beyond the key lists. */
static mcpc_err mcpc_step_validate_kind(const char *name, json_t *step, char *err, size_t errlen)
{
    if (mcpc_step_http_validate(step, err, errlen) != MCPC_OK ||
        mcpc_step_client_validate(name, step, err, errlen) != MCPC_OK)
        return MCPC_ERR_CASE;
    if (strcmp(name, "expect") == 0) {
        json_t *outcomes = json_object_get(step, "outcomes");
        size_t i;
        json_t *o;
        int pass = 0;
        if (!json_is_array(outcomes) || json_array_size(outcomes) == 0) {
            snprintf(err, errlen, "expect needs a non-empty outcomes array");
            return MCPC_ERR_CASE;
        }
        json_array_foreach(outcomes, i, o) {
            const char *key;
            json_t *val;
            const char *g = json_string_value(json_object_get(o, "grade"));
            const char *on = json_string_value(json_object_get(o, "on"));
            if (!g || (strcmp(g, "PASS") && strcmp(g, "WARN") && strcmp(g, "FAIL"))) {
                snprintf(err, errlen, "outcome %zu: grade must be PASS, WARN or FAIL", i);
                return MCPC_ERR_CASE;
            }
            pass |= strcmp(g, "PASS") == 0;
            if (on && strcmp(on, "message") && strcmp(on, "timeout") && strcmp(on, "eof") &&
                strcmp(on, "malformed")) {
                snprintf(err, errlen, "outcome %zu: on must be message, timeout, eof or malformed", i);
                return MCPC_ERR_CASE;
            }
            json_object_foreach(o, key, val) {
                if (strcmp(key, "grade") && strcmp(key, "when") && strcmp(key, "on") &&
                    strcmp(key, "reason")) {
                    snprintf(err, errlen, "outcome %zu: unknown key \"%s\"", i, key);
                    return MCPC_ERR_CASE;
                }
            }
            json_t *when = json_object_get(o, "when");
            if (when && mcpc_match_validate(when, err, errlen) != MCPC_OK)
                return MCPC_ERR_CASE;
            if ((!on || strcmp(on, "message") == 0) && !when) {
                snprintf(err, errlen, "outcome %zu: a message outcome needs \"when\" conditions", i);
                return MCPC_ERR_CASE;
            }
        }
        if (!pass) {
            snprintf(err, errlen, "expect has no PASS outcome: it could never pass");
            return MCPC_ERR_CASE;
        }
        json_t *cap = json_object_get(step, "capture");
        if (cap && !json_is_object(cap)) {
            snprintf(err, errlen, "capture must map variable names to JSON Pointers");
            return MCPC_ERR_CASE;
        }
    }
    if (strcmp(name, "pipeline") == 0) {
        json_t *reqs = json_object_get(step, "requests");
        size_t i;
        json_t *r;
        if (!json_is_array(reqs) || json_array_size(reqs) < 2) {
            snprintf(err, errlen, "pipeline needs at least two requests");
            return MCPC_ERR_CASE;
        }
        json_array_foreach(reqs, i, r) {
            json_t *id = json_object_get(r, "id");
            if (!json_is_string(json_object_get(r, "method")) ||
                !(json_is_string(id) || json_is_integer(id))) {
                snprintf(err, errlen, "pipeline request %zu needs a method and a string or integer id", i);
                return MCPC_ERR_CASE;
            }
        }
    }
    if (strcmp(name, "send_raw") == 0) {
        json_t *d = json_object_get(step, "data"), *h = json_object_get(step, "hex");
        if ((d != NULL) == (h != NULL) || (d && !json_is_string(d)) || (h && !json_is_string(h))) {
            snprintf(err, errlen, "send_raw takes exactly one of data (text) or hex (bytes)");
            return MCPC_ERR_CASE;
        }
        if (h) {
            const char *x = json_string_value(h);
            size_t n = strlen(x);
            for (size_t i = 0; i < n; i++) {
                if (mcpc_hex_value(x[i]) < 0 || n % 2) {
                    snprintf(err, errlen, "send_raw hex must be an even number of hex digits");
                    return MCPC_ERR_CASE;
                }
            }
        }
    }
    json_t *req = json_object_get(step, "require");
    if (req) {
        size_t i;
        json_t *e;
        if (!json_is_array(req)) {
            snprintf(err, errlen, "require must be an array of JSON Pointers");
            return MCPC_ERR_CASE;
        }
        json_array_foreach(req, i, e) {
            if (!json_is_string(e) || json_string_value(e)[0] != '/') {
                snprintf(err, errlen, "require must be an array of JSON Pointers");
                return MCPC_ERR_CASE;
            }
        }
    }
    if (strcmp(name, "assert") == 0 &&
        mcpc_match_validate(json_object_get(step, "when"), err, errlen) != MCPC_OK)
        return MCPC_ERR_CASE;
    if (strcmp(name, "scan_injection") == 0 && !json_is_array(json_object_get(step, "patterns"))) {
        snprintf(err, errlen, "scan_injection patterns must be an array of regular expressions");
        return MCPC_ERR_CASE;
    }
    static const char *const str_keys[] = {"method", "key", "into", "of", "a", "b", "name",
                                           "expected", "reason", "path", "results", "body",
                                           "method_http", NULL};
    static const char *const int_keys[] = {"ms", "timeout_ms", "max_pages", "max", "delta", "count", NULL};
    static const char *const bool_keys[] = {"meta", "any", "newline", "invisible", "control", "absent",
                                            "notification", NULL};
    for (size_t i = 0; str_keys[i]; i++) {
        json_t *v = json_object_get(step, str_keys[i]);
        if (v && !json_is_string(v)) {
            snprintf(err, errlen, "%s must be a string", str_keys[i]);
            return MCPC_ERR_CASE;
        }
    }
    for (size_t i = 0; int_keys[i]; i++) {
        json_t *v = json_object_get(step, int_keys[i]);
        if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 600000)) {
            snprintf(err, errlen, "%s must be an integer from 0 to 600000", int_keys[i]);
            return MCPC_ERR_CASE;
        }
    }
    for (size_t i = 0; bool_keys[i]; i++) {
        json_t *v = json_object_get(step, bool_keys[i]);
        if (v && !json_is_boolean(v)) {
            snprintf(err, errlen, "%s must be true or false", bool_keys[i]);
            return MCPC_ERR_CASE;
        }
    }
    json_t *env = json_object_get(step, "envelope");
    if (env && !json_is_object(env)) {
        snprintf(err, errlen, "envelope must be an object of top-level members (null removes one)");
        return MCPC_ERR_CASE;
    }
    json_t *p = json_object_get(step, "params");
    if (p && !json_is_object(p) && !json_is_array(p)) {
        snprintf(err, errlen, "params must be an object or an array");
        return MCPC_ERR_CASE;
    }
    return MCPC_OK;
}

mcpc_err mcpc_step_validate(json_t *step, char *err, size_t errlen)
{
    const char *key;
    json_t *val;
    if (!json_is_object(step)) {
        snprintf(err, errlen, "a step is an object");
        return MCPC_ERR_CASE;
    }
    const char *name = json_string_value(json_object_get(step, "do"));
    const mcpc_step_def *def = mcpc_step_find(name);
    if (!def) {
        snprintf(err, errlen, "unknown step \"%s\"", name ? name : "(missing \"do\")");
        return MCPC_ERR_CASE;
    }
    json_object_foreach(step, key, val) {
        if (strcmp(key, "do") == 0 || strcmp(key, "note") == 0)
            continue;
        if (strcmp(key, "eras") == 0) {
            size_t i;
            json_t *e;
            mcpc_era era;
            if (!json_is_array(val) || json_array_size(val) == 0) {
                snprintf(err, errlen, "eras must be a non-empty array");
                return MCPC_ERR_CASE;
            }
            json_array_foreach(val, i, e) {
                if (mcpc_era_parse(json_string_value(e), &era) != 0) {
                    snprintf(err, errlen, "eras: unknown protocol version");
                    return MCPC_ERR_CASE;
                }
            }
            continue;
        }
        if (!mcpc_step_key_in(key, def->required) && !mcpc_step_key_in(key, def->optional)) {
            snprintf(err, errlen, "%s: unknown key \"%s\"", name, key);
            return MCPC_ERR_CASE;
        }
    }
    for (size_t i = 0; def->required[i]; i++) {
        if (!json_object_get(step, def->required[i])) {
            snprintf(err, errlen, "%s: missing \"%s\"", name, def->required[i]);
            return MCPC_ERR_CASE;
        }
    }
    return mcpc_step_validate_kind(name, step, err, errlen);
}

mcpc_verdict mcpc_step_run(mcpc_step_ctx *ctx, size_t index, json_t *step)
{
    const char *name = json_string_value(json_object_get(step, "do"));
    const mcpc_step_def *def = mcpc_step_find(name);
    json_t *eras = json_object_get(step, "eras");
    mcpc_verdict v;
    if (eras && ctx->s && !mcpc_json_strarray_has(eras, mcpc_era_name(ctx->s->era)))
        return MCPC_V_SKIP;
    if (eras && ctx->client && !mcpc_json_strarray_has(eras, mcpc_era_name(ctx->client->era)))
        return MCPC_V_SKIP;
    ctx->verdict = MCPC_V_PASS;
    ctx->expected[0] = ctx->arrived[0] = ctx->message[0] = '\0';
    v = def ? def->run(ctx, step) : MCPC_V_ERROR;
    json_t *check = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "step", (json_int_t)index, "do",
                              name ? name : "?", "verdict", mcpc_verdict_name(v), "expected",
                              ctx->expected, "arrived", ctx->arrived, "message", ctx->message);
    if (check)
        json_array_append_new(ctx->checks, check);
    ctx->verdict = v;
    return v;
}

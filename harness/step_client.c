/* Client-role steps: each judges the record of what the client under test sent (client_run.c),
 * after it has finished. A record entry is matched with the ordinary conditions, with pointers
 * such as /message/method, /kind and /http/headers/mcp-method (names in lower case), so the
 * matcher needs nothing new; only what data cannot say is code here: header values computed
 * from the body (client_headers), id reuse, the client's exit and output. In OAuth cases
 * client_each, client_none and client_sequence may judge, with "of", what the authorization
 * server received ("as"), what the client asked the browser to open ("browser") or what
 * reached the other server a call was redirected to ("sink") instead of what the MCP server
 * received ("mcp"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_run.h"
#include "hdrenc.h"
#include "match.h"
#include "step_int.h"

#define MCPC_CLIENT_SHOW 200

/* NOT_TESTABLE outside the client role (a case file mixing roles is refused, but be safe).
 * Also makes the mock's endpoint the case variable "url" (the canonical resource URI the OAuth
 * cases compare with), before the first client step reads a variable. */
static int mcpc_step_client_none_here(mcpc_step_ctx *ctx)
{
    if (ctx->client) {
        if (ctx->client->url[0] && ctx->vars && !json_object_get(ctx->vars, "url"))
            json_object_set_new(ctx->vars, "url", json_string(ctx->client->url));
        return 0;
    }
    mcpc_step_say(ctx, MCPC_V_ERROR, "", "", "harness error: a client step outside the client role");
    return 1;
}

/* The record a step judges (borrowed): "of" mcp (the default), as, browser or sink. The OAuth
 * records of a case without "auth" are NULL, which every array function takes as empty. */
static json_t *mcpc_step_client_records(mcpc_step_ctx *ctx, json_t *step)
{
    const char *of = mcpc_step_str(step, "of", "mcp");
    if (strcmp(of, "as") == 0)
        return ctx->client->as_record;
    if (strcmp(of, "browser") == 0)
        return ctx->client->browser_record;
    if (strcmp(of, "sink") == 0)
        return ctx->client->sink_record;
    return ctx->client->record;
}

/* What a record is called in messages. */
static const char *mcpc_step_client_of(json_t *step)
{
    const char *of = mcpc_step_str(step, "of", "mcp");
    if (strcmp(of, "as") == 0)
        return "authorization server request";
    if (strcmp(of, "browser") == 0)
        return "browser invocation";
    if (strcmp(of, "sink") == 0)
        return "request to the other server";
    return "message";
}

static mcpc_match_ctx mcpc_step_client_mctx(mcpc_step_ctx *ctx, json_t *entry)
{
    mcpc_match_ctx m = {.msg = entry, .kind = json_string_value(json_object_get(entry, "kind")),
                        .sent_id = NULL, .vars = ctx->vars, .era = mcpc_era_name(ctx->client->era)};
    return m;
}

/* Short text of an entry for messages: its method or kind, and seq; for the authorization
 * server's entries the request line, for the browser's the URL. */
static void mcpc_step_client_name(json_t *e, char *out, size_t len)
{
    const char *url = json_string_value(json_object_get(e, "url"));
    const char *path = json_string_value(json_object_get(e, "path"));
    if (url) {
        /* the URL itself is the message's detail */
        snprintf(out, len, "browser invocation %lld",
                 (long long)json_integer_value(json_object_get(e, "seq")));
        return;
    }
    if (path) {
        snprintf(out, len, "authorization server request %lld (%s %.80s)",
                 (long long)json_integer_value(json_object_get(e, "seq")),
                 json_string_value(json_object_get(e, "method")), path);
        return;
    }
    const char *m = json_string_value(json_object_get(json_object_get(e, "message"), "method"));
    const char *k = json_string_value(json_object_get(e, "kind"));
    const char *hm = json_string_value(json_object_get(json_object_get(e, "http"), "method"));
    const char *hp = json_string_value(json_object_get(json_object_get(e, "http"), "path"));
    if (!m && k && strcmp(k, "http") == 0 && hm && hp) {
        snprintf(out, len, "request %lld (%s %.100s)",
                 (long long)json_integer_value(json_object_get(e, "seq")), hm, hp);
        return;
    }
    snprintf(out, len, "message %lld (%s%s%s)", (long long)json_integer_value(json_object_get(e, "seq")),
             m ? m : (k ? k : "?"), hm && strcmp(hm, "POST") ? " over HTTP " : "",
             hm && strcmp(hm, "POST") ? hm : "");
}

/* client_exit {"code": N}: the client finished by itself with exit status N (default 0).
 * {"failed": true}: it ended by itself with a non-zero status, a refusal (within the bound: a
 * client stopped by mcpcert did not refuse anything, it hung). */
mcpc_verdict mcpc_step_client_exit(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *want = json_object_get(step, "code");
    int code = want ? (int)json_integer_value(want) : 0;
    char expected[64];
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    if (json_is_true(json_object_get(step, "failed"))) {
        const char *exp = "the client to refuse: end by itself with a non-zero status";
        if (ctx->client->exited && ctx->client->exit_code != 0)
            return mcpc_step_say(ctx, MCPC_V_PASS, exp, ctx->client->exit_text, "client refused");
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), exp, ctx->client->exit_text,
                             ctx->client->exited ? "the client carried on: it %s"
                                                 : "the client did not end by itself: it %s",
                             ctx->client->exit_text);
    }
    snprintf(expected, sizeof expected, "the client to exit with status %d", code);
    if (ctx->client->exited && ctx->client->exit_code == code)
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, ctx->client->exit_text, "client finished");
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, ctx->client->exit_text,
                         "the client did not finish the scenario: it %s%s%.300s",
                         ctx->client->exit_text, ctx->client->err_tail[0] ? "; stderr ends: " : "",
                         ctx->client->err_tail);
}

/* 1 when entry e is skipped by a sequence: HTTP requests without a message (unless the step
 * says "http": true), and those matching the step's "skip" conditions. */
static int mcpc_step_client_skipped(mcpc_step_ctx *ctx, json_t *skip, int http, json_t *e)
{
    const char *k = json_string_value(json_object_get(e, "kind"));
    char why[8];
    if (!http && k && strcmp(k, "http") == 0)
        return 1;
    if (!skip)
        return 0;
    mcpc_match_ctx m = mcpc_step_client_mctx(ctx, e);
    return mcpc_match_all(skip, &m, why, sizeof why);
}

/* client_sequence {"expect": [[conds], ...], "skip": [conds], "of", "http": bool}: the client's
 * first messages, in order, satisfy each condition list. */
mcpc_verdict mcpc_step_client_sequence(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *expect = json_object_get(step, "expect"), *skip = json_object_get(step, "skip");
    json_t *rec, *e;
    size_t i, k = 0;
    int http = json_is_true(json_object_get(step, "http"));
    const char *what = mcpc_step_str(step, "expected", "the client's first messages in order");
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    rec = mcpc_step_client_records(ctx, step);
    json_array_foreach(rec, i, e) {
        char why[256], name[160];
        if (k == json_array_size(expect))
            break;
        if (mcpc_step_client_skipped(ctx, skip, http, e))
            continue;
        mcpc_match_ctx m = mcpc_step_client_mctx(ctx, e);
        if (!mcpc_match_all(json_array_get(expect, k), &m, why, sizeof why)) {
            mcpc_step_client_name(e, name, sizeof name);
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, name,
                                 "message %zu of the sequence is wrong: %s", k + 1, why);
        }
        k++;
    }
    if (k < json_array_size(expect))
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, "fewer messages",
                             "only %zu of the %zu expected %ss arrived (the client %s)", k,
                             json_array_size(expect), mcpc_step_client_of(step),
                             ctx->client->exit_text);
    return mcpc_step_say(ctx, MCPC_V_PASS, what, "in order", "sequence respected");
}

/* client_each {"where": [conds], "match": [conds], "min": N}: every message satisfying where
 * satisfies match, and at least N (default 1) do. */
mcpc_verdict mcpc_step_client_each(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *where = json_object_get(step, "where"), *match = json_object_get(step, "match");
    json_t *min = json_object_get(step, "min"), *e;
    size_t i, seen = 0, need = min ? (size_t)json_integer_value(min) : 1;
    const char *what = mcpc_step_str(step, "expected", "every such message to conform");
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    json_array_foreach(mcpc_step_client_records(ctx, step), i, e) {
        char why[256], name[160];
        mcpc_match_ctx m = mcpc_step_client_mctx(ctx, e);
        if (where && !mcpc_match_all(where, &m, why, sizeof why))
            continue;
        seen++;
        if (!mcpc_match_all(match, &m, why, sizeof why)) {
            mcpc_step_client_name(e, name, sizeof name);
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, name, "%s: %s", name, why);
        }
    }
    if (seen < need)
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, "too few",
                             "%zu %s(s) of this kind, at least %zu expected (the client %s)", seen,
                             mcpc_step_client_of(step), need, ctx->client->exit_text);
    return mcpc_step_say(ctx, MCPC_V_PASS, what, "all conform", "%zu %s(s) checked", seen,
                         mcpc_step_client_of(step));
}

/* client_none {"where": [conds]}: no message satisfies where. */
mcpc_verdict mcpc_step_client_never(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *where = json_object_get(step, "where"), *e;
    size_t i;
    json_t *rec;
    const char *what = mcpc_step_str(step, "expected", "no such message");
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    rec = mcpc_step_client_records(ctx, step);
    json_array_foreach(rec, i, e) {
        char why[256], name[160], raw[MCPC_CLIENT_SHOW];
        mcpc_match_ctx m = mcpc_step_client_mctx(ctx, e);
        if (!mcpc_match_all(where, &m, why, sizeof why))
            continue;
        mcpc_step_client_name(e, name, sizeof name);
        /* what it carried: the message, the URL, or the query (else the form) it sent */
        json_t *shown = json_object_get(e, "raw");
        if (!shown)
            shown = json_object_get(e, "url");
        if (!shown && json_string_length(json_object_get(e, "query")))
            shown = json_object_get(e, "query");
        if (!shown)
            shown = json_object_get(e, "body");
        mcpc_step_show(shown, raw, sizeof raw);
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, name, "the client sent %s: %s", name, raw);
    }
    return mcpc_step_say(ctx, MCPC_V_PASS, what, "none", "no such %s in %zu",
                         mcpc_step_client_of(step), json_array_size(rec));
}

/* client_output {"contains": TEXT}: the client's stdout holds TEXT (with "${nonce}" replaced by
 * this run's nonce): proof that a result the mock sent reached the client. */
mcpc_verdict mcpc_step_client_output(mcpc_step_ctx *ctx, json_t *step)
{
    const char *tmpl = mcpc_step_str(step, "contains", "");
    char want[512], expected[600];
    const char *n = strstr(tmpl, "${nonce}");
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    if (n)
        snprintf(want, sizeof want, "%.*s%s%s", (int)(n - tmpl), tmpl, ctx->client->nonce, n + 8);
    else
        snprintf(want, sizeof want, "%s", tmpl);
    snprintf(expected, sizeof expected, "the client to print \"%s\"", want);
    if (ctx->client->out && strstr(ctx->client->out, want))
        return mcpc_step_say(ctx, MCPC_V_PASS, expected, "printed", "the result reached the client");
    char shown[200];
    json_t *o = json_stringn(ctx->client->out ? ctx->client->out : "", ctx->client->out_len);
    mcpc_step_show(o, shown, sizeof shown);
    json_decref(o);
    return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown,
                         "the tool result did not reach the client's output (it %s)", ctx->client->exit_text);
}

/* client_unique_ids: no request id is used twice. */
mcpc_verdict mcpc_step_client_unique_ids(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *seen, *e;
    size_t i, j, n = 0;
    mcpc_verdict v;
    const char *what = "every request id used once";
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    if (!(seen = json_array()))
        return mcpc_step_say(ctx, MCPC_V_ERROR, what, "", "out of memory");
    json_array_foreach(ctx->client->record, i, e) {
        json_t *id = json_object_get(json_object_get(e, "message"), "id"), *prev;
        const char *k = json_string_value(json_object_get(e, "kind"));
        if (!k || strcmp(k, "request") != 0 || !id)
            continue;
        n++;
        json_array_foreach(seen, j, prev) {
            if (json_equal(prev, id)) {
                char shown[64], name[96];
                mcpc_step_show(id, shown, sizeof shown);
                mcpc_step_client_name(e, name, sizeof name);
                v = mcpc_step_say(ctx, mcpc_step_miss(ctx), what, name,
                                  "request id %s is used again by %s", shown, name);
                goto out;
            }
        }
        json_array_append(seen, id);
    }
    if (n)
        v = mcpc_step_say(ctx, MCPC_V_PASS, what, "unique", "%zu request ids, all distinct", n);
    else
        v = mcpc_step_say(ctx, mcpc_step_miss(ctx), what, "no request",
                          "the client sent no request (%s)", ctx->client->exit_text);
out:
    json_decref(seen);
    return v;
}

/* ---- client_headers ---------------------------------------------------------------------- */

/* 1 when the Accept value lists media type t (exactly, parameters allowed). */
static int mcpc_step_client_accepts(const char *accept, const char *t)
{
    size_t tl = strlen(t);
    for (const char *p = accept; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (strncasecmp(p, t, tl) == 0 && (p[tl] == '\0' || p[tl] == ',' || p[tl] == ';' ||
                                          p[tl] == ' ' || p[tl] == '\t'))
            return 1;
        p = strchr(p, ',');
    }
    return 0;
}

/* The version the 2025-11-25 mock agreed to: the client's when it is one the mock accepts. */
static const char *mcpc_step_client_agreed(json_t *init)
{
    const char *v = json_string_value(json_object_get(json_object_get(init, "params"), "protocolVersion"));
    if (v && (strcmp(v, "2025-06-18") == 0 || strcmp(v, "2025-03-26") == 0))
        return v;
    return "2025-11-25";
}

/* The tool definition called name in the scenario (borrowed), or NULL. */
static json_t *mcpc_step_client_tool(mcpc_step_ctx *ctx, const char *name)
{
    json_t *tools = json_object_get(ctx->client->scenario, "tools"), *t;
    size_t i;
    json_array_foreach(tools, i, t) {
        const char *tn = json_string_value(json_object_get(t, "name"));
        if (tn && name && strcmp(tn, name) == 0)
            return t;
    }
    return NULL;
}

/* The expected header value of an argument, or NULL when no header is expected (absent or
 * null argument). New string. */
static char *mcpc_step_client_param_value(json_t *arg)
{
    char buf[32];
    if (!arg || json_is_null(arg))
        return NULL;
    if (json_is_string(arg))
        return mcpc_hdr_encode_value(json_string_value(arg), json_string_length(arg));
    if (json_is_integer(arg)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(arg));
        return strdup(buf);
    }
    if (json_is_boolean(arg))
        return strdup(json_is_true(arg) ? "true" : "false");
    return NULL;
}

/* Check the Mcp-Param-* headers of one tools/call against the tool's x-mcp-header properties
 * (top level and nested objects reached through `properties`). 0 ok, else why is filled. */
static int mcpc_step_client_params(json_t *schema, json_t *args, json_t *headers, int depth,
                                   char *why, size_t whylen)
{
    json_t *props = json_object_get(schema, "properties"), *p;
    const char *name;
    if (!json_is_object(props) || depth > 16)
        return 0;
    json_object_foreach(props, name, p) {
        json_t *arg = json_is_object(args) ? json_object_get(args, name) : NULL;
        const char *hname = json_string_value(json_object_get(p, "x-mcp-header"));
        if (json_is_object(json_object_get(p, "properties")) &&
            mcpc_step_client_params(p, arg, headers, depth + 1, why, whylen))
            return 1;
        if (!hname)
            continue;
        char key[160], lower[160];
        size_t k;
        snprintf(key, sizeof key, "Mcp-Param-%s", hname);
        for (k = 0; key[k] && k < sizeof lower - 1; k++)
            lower[k] = (char)((key[k] >= 'A' && key[k] <= 'Z') ? key[k] + 32 : key[k]);
        lower[k] = '\0';
        const char *got = json_string_value(json_object_get(headers, lower));
        char *want = mcpc_step_client_param_value(arg);
        int bad = 0;
        if (!want && got) {
            snprintf(why, whylen, "%.100s is sent (\"%.60s\") although argument %.60s is %s", key, got,
                     name, arg ? "null" : "absent");
            bad = 1;
        } else if (want && !got) {
            snprintf(why, whylen, "%.100s is missing; argument %.60s is set (expected \"%.80s\")", key,
                     name, want);
            bad = 1;
        } else if (want && strcmp(want, got) != 0) {
            snprintf(why, whylen, "%.100s is \"%.70s\", expected \"%.70s\"", key, got, want);
            bad = 1;
        }
        free(want);
        if (bad)
            return 1;
    }
    return 0;
}

/* A header value as the body holds it: the =?base64?...?= form decoded when it is that. The
 * comparison is then on the body's value: for Mcp-Name, the spec requires the decoded form to
 * match exactly, and the encoding itself to be right (checked by re-encoding). */
static int mcpc_step_client_header_is(const char *got, const char *body_value)
{
    char *want = mcpc_hdr_encode_value(body_value, strlen(body_value));
    int ok = want && strcmp(want, got) == 0;
    free(want);
    return ok;
}

/* One POSTed message's headers. 0 ok, else why is filled. */
static int mcpc_step_client_one(mcpc_step_ctx *ctx, json_t *checks, json_t *e, const char *version,
                                char *why, size_t whylen)
{
    json_t *hs = json_object_get(json_object_get(e, "http"), "headers");
    json_t *msg = json_object_get(e, "message");
    const char *method = json_string_value(json_object_get(msg, "method"));
    int modern = ctx->client->era == MCPC_ERA_2026_07_28;
#define HDR(n) json_string_value(json_object_get(hs, n))
    if (mcpc_json_strarray_has(checks, "accept")) {
        const char *a = HDR("accept");
        if (!a || !mcpc_step_client_accepts(a, "application/json") ||
            !mcpc_step_client_accepts(a, "text/event-stream")) {
            snprintf(why, whylen, "Accept is %s%.80s%s; it must list application/json and "
                     "text/event-stream", a ? "\"" : "", a ? a : "missing", a ? "\"" : "");
            return 1;
        }
    }
    if (mcpc_json_strarray_has(checks, "content_type")) {
        const char *t = HDR("content-type");
        if (!t || strncasecmp(t, "application/json", 16) != 0 || (t[16] && t[16] != ';' && t[16] != ' ')) {
            snprintf(why, whylen, "Content-Type is %.80s, not application/json", t ? t : "missing");
            return 1;
        }
    }
    if (mcpc_json_strarray_has(checks, "version") && version) {
        const char *v = HDR("mcp-protocol-version");
        if (!v || strcmp(v, version) != 0) {
            snprintf(why, whylen, "MCP-Protocol-Version is %s%.40s%s, expected %s", v ? "\"" : "",
                     v ? v : "missing", v ? "\"" : "", version);
            return 1;
        }
    }
    if (!modern || !method)
        return 0;
    if (mcpc_json_strarray_has(checks, "method")) {
        const char *m = HDR("mcp-method");
        if (!m || !mcpc_step_client_header_is(m, method)) {
            snprintf(why, whylen, "Mcp-Method is %s%.60s%s on a message whose method is %s", m ? "\"" : "",
                     m ? m : "missing", m ? "\"" : "", method);
            return 1;
        }
    }
    json_t *params = json_object_get(msg, "params");
    if (mcpc_json_strarray_has(checks, "name") &&
        (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0 ||
         strcmp(method, "resources/read") == 0)) {
        const char *key = strcmp(method, "resources/read") == 0 ? "uri" : "name";
        const char *body = json_string_value(json_object_get(params, key));
        const char *n = HDR("mcp-name");
        if (body && (!n || !mcpc_step_client_header_is(n, body))) {
            snprintf(why, whylen, "Mcp-Name is %s%.60s%s; params.%s is \"%.60s\"", n ? "\"" : "",
                     n ? n : "missing", n ? "\"" : "", key, body);
            return 1;
        }
    }
    if (mcpc_json_strarray_has(checks, "params") && strcmp(method, "tools/call") == 0) {
        json_t *tool = mcpc_step_client_tool(ctx, json_string_value(json_object_get(params, "name")));
        if (tool && mcpc_step_client_params(json_object_get(tool, "inputSchema"),
                                            json_object_get(params, "arguments"), hs, 0, why, whylen))
            return 1;
    }
#undef HDR
    return 0;
}

/* client_headers {"check": [...]}: the request headers of every POST, HTTP only:
 * accept, content_type, version (MCP-Protocol-Version: every request in 2026-07-28, every one
 * after initialize in 2025-11-25), and in 2026-07-28 method (Mcp-Method), name (Mcp-Name) and
 * params (Mcp-Param-* from x-mcp-header, encoded as the spec says). */
mcpc_verdict mcpc_step_client_headers(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *checks = json_object_get(step, "check"), *e;
    size_t i, n = 0;
    const char *version = NULL;
    const char *what = mcpc_step_str(step, "expected", "the request headers MCP requires");
    if (mcpc_step_client_none_here(ctx))
        return ctx->verdict;
    if (strcmp(ctx->client->transport, "http") != 0)
        return mcpc_step_say(ctx, MCPC_V_SKIP, what, "", "headers exist only on HTTP");
    if (ctx->client->era == MCPC_ERA_2026_07_28)
        version = "2026-07-28";
    json_array_foreach(ctx->client->record, i, e) {
        json_t *msg = json_object_get(e, "message");
        const char *hm = json_string_value(json_object_get(json_object_get(e, "http"), "method"));
        const char *method = json_string_value(json_object_get(msg, "method"));
        char why[300], name[96];
        if (!hm || strcmp(hm, "POST") != 0 || !msg)
            continue;
        n++;
        if (mcpc_step_client_one(ctx, checks, e, version, why, sizeof why)) {
            mcpc_step_client_name(e, name, sizeof name);
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, name, "%s: %s", name, why);
        }
        /* 2025-11-25: the version header is due from the first message after initialize */
        if (!version && method && strcmp(method, "initialize") == 0)
            version = mcpc_step_client_agreed(msg);
    }
    if (!n)
        return mcpc_step_say(ctx, mcpc_step_miss(ctx), what, "no message",
                             "the client POSTed no message (%s)", ctx->client->exit_text);
    return mcpc_step_say(ctx, MCPC_V_PASS, what, "all conform", "%zu POST(s) checked", n);
}

/* ---- validation ---------------------------------------------------------------------------- */

mcpc_err mcpc_step_client_validate(const char *name, json_t *step, char *err, size_t errlen)
{
    static const char *const checks[] = {"accept", "content_type", "version", "method", "name",
                                         "params", NULL};
    json_t *v;
    size_t i;
    if (strncmp(name, "client_", 7) != 0)
        return MCPC_OK;
    if ((v = json_object_get(step, "code")) && (!json_is_integer(v) || json_integer_value(v) < 0 ||
                                                json_integer_value(v) > 255)) {
        snprintf(err, errlen, "client_exit code must be an exit status (0-255)");
        return MCPC_ERR_CASE;
    }
    if ((v = json_object_get(step, "failed")) && (!json_is_true(v) || json_object_get(step, "code"))) {
        snprintf(err, errlen, "client_exit failed must be true, without a code");
        return MCPC_ERR_CASE;
    }
    if ((v = json_object_get(step, "of")) &&
        (!json_is_string(v) || (strcmp(json_string_value(v), "mcp") != 0 &&
                                strcmp(json_string_value(v), "as") != 0 &&
                                strcmp(json_string_value(v), "browser") != 0 &&
                                strcmp(json_string_value(v), "sink") != 0))) {
        snprintf(err, errlen, "of must be \"mcp\", \"as\", \"browser\" or \"sink\"");
        return MCPC_ERR_CASE;
    }
    if ((v = json_object_get(step, "http")) && !json_is_boolean(v)) {
        snprintf(err, errlen, "http must be true or false");
        return MCPC_ERR_CASE;
    }
    if ((v = json_object_get(step, "min")) && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        snprintf(err, errlen, "min must be a non-negative integer");
        return MCPC_ERR_CASE;
    }
    if ((v = json_object_get(step, "contains")) && (!json_is_string(v) || !json_string_length(v))) {
        snprintf(err, errlen, "contains must be a non-empty string");
        return MCPC_ERR_CASE;
    }
    const char *conds[] = {"where", "match", "skip", NULL};
    for (int k = 0; conds[k]; k++)
        if ((v = json_object_get(step, conds[k])) && mcpc_match_validate(v, err, errlen) != MCPC_OK)
            return MCPC_ERR_CASE;
    if ((v = json_object_get(step, "expect"))) {
        json_t *c;
        if (!json_is_array(v) || !json_array_size(v)) {
            snprintf(err, errlen, "client_sequence expect must be a non-empty array of condition lists");
            return MCPC_ERR_CASE;
        }
        json_array_foreach(v, i, c) if (mcpc_match_validate(c, err, errlen) != MCPC_OK) return MCPC_ERR_CASE;
    }
    if ((v = json_object_get(step, "check"))) {
        json_t *c;
        if (!json_is_array(v) || !json_array_size(v)) {
            snprintf(err, errlen, "client_headers check must be a non-empty array");
            return MCPC_ERR_CASE;
        }
        json_array_foreach(v, i, c) {
            int ok = 0;
            for (int k = 0; checks[k]; k++)
                ok |= json_is_string(c) && strcmp(json_string_value(c), checks[k]) == 0;
            if (!ok) {
                snprintf(err, errlen, "client_headers: unknown check (accept, content_type, version, "
                         "method, name, params)");
                return MCPC_ERR_CASE;
            }
        }
    }
    return MCPC_OK;
}

/* The scripted MCP server of the client role (see mock_server.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "hex.h"
#include "jsonrpc.h"
#include "mock_server.h"

#define MCPC_MOCK_NAME "mcpcert-mock"
#define MCPC_MOCK_VERSION "0.1.0"
#define MCPC_MOCK_LEGACY "2025-11-25"
#define MCPC_MOCK_MODERN "2026-07-28"
#define MCPC_MOCK_MCPS "com.example.mcps/security"
#define MCPC_MOCK_MAX_NONCE_SUBST 8     /* "${nonce}" occurrences replaced per string */

struct mcpc_mock {
    mcpc_era era;
    json_t *scenario;       /* owned copy, nonce substituted */
    json_t *tools;          /* borrowed from scenario, or owned default (tools_owned) */
    int tools_owned;
    json_t *results;        /* borrowed from scenario, may be NULL */
    size_t page_size;       /* 0: one page */
    const char *responses;  /* "json" | "sse" | "alternate" */
    unsigned long requests; /* requests answered so far (for "alternate") */
    json_t *record;         /* owned array */
    size_t dropped;
    char nonce[24];
};

void mcpc_mock_nonce(char *buf, size_t len)
{
    unsigned char r[8];
    char hex[17];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* no entropy source: a nonce only has to differ between runs, not be secret */
        unsigned long long t = (unsigned long long)(uintptr_t)buf ^ (unsigned long long)time(NULL);
        memcpy(r, &t, sizeof r);
    }
    mcpc_hex_encode(r, sizeof r, hex);
    snprintf(buf, len, "n%s", hex);
}

/* A copy of s with every "${nonce}" replaced. New string (malloc) or NULL. */
static char *mcpc_mock_subst_str(const char *s, const char *nonce)
{
    const char *key = "${nonce}";
    size_t klen = strlen(key), nlen = strlen(nonce), n = 0, len = strlen(s);
    for (const char *p = strstr(s, key); p && n < MCPC_MOCK_MAX_NONCE_SUBST; p = strstr(p + klen, key))
        n++;
    char *out = malloc(len + n * nlen + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        if (n && strncmp(p, key, klen) == 0) {
            memcpy(o, nonce, nlen);
            o += nlen;
            p += klen;
            n--;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* Replace "${nonce}" in every string of v, in place (v borrowed). 0 or -1 (no memory). */
static int mcpc_mock_subst(json_t *v, const char *nonce, int depth)
{
    size_t i;
    const char *k;
    json_t *x;
    if (depth > 64)
        return 0;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (json_is_string(x)) {
                char *s = mcpc_mock_subst_str(json_string_value(x), nonce);
                if (!s || json_object_set_new(v, k, json_string(s)) != 0) {
                    free(s);
                    return -1;
                }
                free(s);
            } else if (mcpc_mock_subst(x, nonce, depth + 1) != 0) {
                return -1;
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            if (json_is_string(x)) {
                char *s = mcpc_mock_subst_str(json_string_value(x), nonce);
                if (!s || json_array_set_new(v, i, json_string(s)) != 0) {
                    free(s);
                    return -1;
                }
                free(s);
            } else if (mcpc_mock_subst(x, nonce, depth + 1) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

mcpc_err mcpc_mock_new(json_t *scenario, mcpc_era era, const char *nonce, mcpc_mock **out,
                       char *err, size_t errlen)
{
    mcpc_mock *m = calloc(1, sizeof *m);
    json_t *ps, *resp;
    *out = NULL;
    if (!m)
        return MCPC_ERR_NOMEM;
    m->era = era;
    snprintf(m->nonce, sizeof m->nonce, "%s", nonce ? nonce : "");
    m->scenario = scenario ? json_deep_copy(scenario) : json_object();
    m->record = json_array();
    if (!m->scenario || !m->record || mcpc_mock_subst(m->scenario, m->nonce, 0) != 0)
        goto nomem;
    if (!json_is_object(m->scenario)) {
        snprintf(err, errlen, "scenario must be an object");
        goto bad;
    }
    m->tools = json_object_get(m->scenario, "tools");
    if (!m->tools) {
        m->tools = json_pack("[{s:s,s:s,s:{s:s,s:{s:{s:s}},s:[s]}}]", "name", "echo",
                             "description", "Returns its text argument.", "inputSchema",
                             "type", "object", "properties", "text", "type", "string",
                             "required", "text");
        m->tools_owned = 1;
        if (!m->tools)
            goto nomem;
    } else if (!json_is_array(m->tools)) {
        snprintf(err, errlen, "scenario.tools must be an array of tool definitions");
        goto bad;
    }
    m->results = json_object_get(m->scenario, "results");
    if (m->results && !json_is_object(m->results)) {
        snprintf(err, errlen, "scenario.results must be an object (tool name -> result)");
        goto bad;
    }
    ps = json_object_get(m->scenario, "page_size");
    if (ps && (!json_is_integer(ps) || json_integer_value(ps) < 1 || json_integer_value(ps) > 1000)) {
        snprintf(err, errlen, "scenario.page_size must be an integer from 1 to 1000");
        goto bad;
    }
    m->page_size = ps ? (size_t)json_integer_value(ps) : 0;
    resp = json_object_get(m->scenario, "responses");
    m->responses = resp ? json_string_value(resp) : "json";
    if (!m->responses || (strcmp(m->responses, "json") != 0 && strcmp(m->responses, "sse") != 0 &&
                          strcmp(m->responses, "alternate") != 0)) {
        snprintf(err, errlen, "scenario.responses must be \"json\", \"sse\" or \"alternate\"");
        goto bad;
    }
    *out = m;
    return MCPC_OK;
nomem:
    mcpc_mock_free(m);
    return MCPC_ERR_NOMEM;
bad:
    mcpc_mock_free(m);
    return MCPC_ERR_CASE;
}

void mcpc_mock_free(mcpc_mock *m)
{
    if (!m)
        return;
    if (m->tools_owned)
        json_decref(m->tools);
    json_decref(m->scenario);
    json_decref(m->record);
    free(m);
}

json_t *mcpc_mock_record(const mcpc_mock *m)
{
    return m->record;
}

size_t mcpc_mock_dropped(const mcpc_mock *m)
{
    return m->dropped;
}

/* The modern decoration every 2026-07-28 result carries; cacheable results also get the
 * cache hints the schema requires of them. result borrowed. 0 or -1. */
static int mcpc_mock_modern(mcpc_mock *m, json_t *result, int cacheable)
{
    if (m->era != MCPC_ERA_2026_07_28)
        return 0;
    if (json_object_set_new(result, "resultType", json_string("complete")) != 0)
        return -1;
    if (cacheable && (json_object_set_new(result, "ttlMs", json_integer(0)) != 0 ||
                      json_object_set_new(result, "cacheScope", json_string("private")) != 0))
        return -1;
    return 0;
}

/* Session id for a 2025-11-25 HTTP initialize: 128 random bits in hex. */
static void mcpc_mock_session_id(char *out, size_t len)
{
    unsigned char r[16];
    char hex[33];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        memset(r, 0x5a, sizeof r); /* no entropy: the id is the client's problem, not a secret */
    mcpc_hex_encode(r, sizeof r, hex);
    snprintf(out, len, "%s", hex);
}

/* tools/list: one page from params.cursor ("p<offset>", opaque to the client). New result. */
static json_t *mcpc_mock_list_tools(mcpc_mock *m, json_t *params, const char **errmsg)
{
    size_t total = json_array_size(m->tools), from = 0, n;
    json_t *cursor = json_object_get(params, "cursor"), *page, *res;
    if (cursor) {
        const char *c = json_string_value(cursor);
        char *end;
        unsigned long v;
        if (!c || c[0] != 'p' || !c[1] || (v = strtoul(c + 1, &end, 10), *end) || v > total) {
            *errmsg = "Invalid params: unknown cursor";
            return NULL;
        }
        from = (size_t)v;
    }
    n = m->page_size ? m->page_size : total;
    if (from + n > total)
        n = total - from;
    page = json_array();
    for (size_t i = 0; page && i < n; i++)
        json_array_append(page, json_array_get(m->tools, from + i));
    res = page ? json_pack("{s:o}", "tools", page) : NULL;
    if (res && from + n < total) {
        char next[32];
        snprintf(next, sizeof next, "p%zu", from + n);
        json_object_set_new(res, "nextCursor", json_string(next));
    }
    return res;
}

/* tools/call: the scenario's canned result for the tool, or an echo. New result, or NULL with
 * *errmsg set for an unknown tool. */
static json_t *mcpc_mock_call_tool(mcpc_mock *m, json_t *params, const char **errmsg)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    size_t i;
    json_t *t, *canned;
    int found = 0;
    if (!name) {
        *errmsg = "Invalid params: tools/call needs params.name";
        return NULL;
    }
    json_array_foreach(m->tools, i, t) {
        const char *tn = json_string_value(json_object_get(t, "name"));
        found |= tn && strcmp(tn, name) == 0;
    }
    if (!found) {
        *errmsg = "Invalid params: unknown tool";
        return NULL;
    }
    canned = m->results ? json_object_get(m->results, name) : NULL;
    if (canned)
        return json_deep_copy(canned);
    char *args = json_dumps(json_object_get(params, "arguments"), JSON_COMPACT | JSON_SORT_KEYS);
    char text[1024];
    snprintf(text, sizeof text, "%s %s %.900s", name, m->nonce, args ? args : "(no arguments)");
    free(args);
    return json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text, "isError", 0);
}

/* initialize (2025-11-25): agree to the client's version when we know it, else ours. */
/* The MCP-S extension the scenario has the server advertise ("mcps": {"advertise": {...}}),
 * under capabilities.<member> (caps borrowed). 0, or -1 without memory. */
static int mcpc_mock_mcps(mcpc_mock *m, json_t *caps, const char *member)
{
    json_t *adv = json_object_get(json_object_get(m->scenario, "mcps"), "advertise");
    if (!json_is_object(adv))
        return 0;
    return json_object_set_new(caps, member, json_pack("{s:O}", MCPC_MOCK_MCPS, adv));
}

static json_t *mcpc_mock_initialize(mcpc_mock *m, json_t *params, int http, mcpc_mock_answer *ans)
{
    const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
    const char *v = MCPC_MOCK_LEGACY;
    if (asked && (strcmp(asked, "2025-06-18") == 0 || strcmp(asked, "2025-03-26") == 0))
        v = asked;
    if (http)
        mcpc_mock_session_id(ans->session_id, sizeof ans->session_id);
    json_t *res = json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s}}", "protocolVersion", v, "capabilities",
                            "tools", "listChanged", 0, "serverInfo", "name", MCPC_MOCK_NAME,
                            "version", MCPC_MOCK_VERSION);
    if (res && mcpc_mock_mcps(m, json_object_get(res, "capabilities"), "experimental") != 0) {
        json_decref(res);
        return NULL;
    }
    return res;
}

/* Answer one request (msg borrowed) into ans. */
static mcpc_err mcpc_mock_request(mcpc_mock *m, const mcpc_msg *msg, int http, mcpc_mock_answer *ans)
{
    const char *method = msg->method, *errmsg = "Method not found";
    int code = MCPC_RPC_METHOD_NOT_FOUND, modern = m->era == MCPC_ERA_2026_07_28;
    json_t *result = NULL;
    unsigned err_status = 200;

    if (strcmp(method, "tools/list") == 0) {
        result = mcpc_mock_list_tools(m, msg->params, &errmsg);
        code = MCPC_RPC_INVALID_PARAMS;
        if (result && mcpc_mock_modern(m, result, 1) != 0)
            goto nomem;
    } else if (strcmp(method, "tools/call") == 0) {
        result = mcpc_mock_call_tool(m, msg->params, &errmsg);
        code = MCPC_RPC_INVALID_PARAMS;
        if (result && mcpc_mock_modern(m, result, 0) != 0)
            goto nomem;
    } else if (!modern && strcmp(method, "initialize") == 0) {
        result = mcpc_mock_initialize(m, msg->params, http, ans);
        if (!result)
            goto nomem;
    } else if (!modern && strcmp(method, "ping") == 0) {
        result = json_object();
    } else if (modern && strcmp(method, "server/discover") == 0) {
        result = json_pack("{s:[s],s:{s:{}},s:{s:s,s:s}}", "supportedVersions", MCPC_MOCK_MODERN,
                           "capabilities", "tools", "serverInfo", "name", MCPC_MOCK_NAME,
                           "version", MCPC_MOCK_VERSION);
        if (!result || mcpc_mock_modern(m, result, 1) != 0 ||
            mcpc_mock_mcps(m, json_object_get(result, "capabilities"), "extensions") != 0)
            goto nomem;
    } else {
        /* a modern-only server answers an unknown (or removed legacy) method 404 on HTTP */
        err_status = modern ? 404 : 200;
    }
    if (result) {
        ans->reply = mcpc_jsonrpc_result(msg->id, result);
        json_decref(result);
        ans->status = 200;
        m->requests++;
        ans->sse = http && (strcmp(m->responses, "sse") == 0 ||
                            (strcmp(m->responses, "alternate") == 0 && m->requests % 2 == 0));
    } else {
        ans->reply = mcpc_jsonrpc_error(msg->id, code, errmsg, NULL);
        ans->status = code == MCPC_RPC_METHOD_NOT_FOUND ? err_status : (modern ? 400 : 200);
    }
    return ans->reply ? MCPC_OK : MCPC_ERR_NOMEM;
nomem:
    json_decref(result);
    return MCPC_ERR_NOMEM;
}

/* Append the record entry for one message (msg borrowed; http borrowed or NULL). */
static mcpc_err mcpc_mock_note(mcpc_mock *m, const char *bytes, size_t len, json_t *http,
                               const mcpc_msg *msg)
{
    json_t *e;
    size_t keep = len < MCPC_MOCK_MAX_RAW ? len : MCPC_MOCK_MAX_RAW;
    if (json_array_size(m->record) >= MCPC_MOCK_MAX_RECORDS) {
        m->dropped++;
        return MCPC_OK;
    }
    e = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)json_array_size(m->record) + 1, "transport",
                  http ? "http" : "stdio", "kind",
                  msg->kind == MCPC_MSG_INVALID ? "invalid" : mcpc_msg_kind_name(msg->kind));
    if (!e)
        return MCPC_ERR_NOMEM;
    /* raw bytes may be anything: keep them as a string only when they are UTF-8 */
    json_t *raw = json_stringn(bytes, keep);
    json_object_set_new(e, "raw", raw ? raw : json_string("(not UTF-8)"));
    if (keep < len)
        json_object_set_new(e, "raw_truncated", json_integer((json_int_t)len));
    if (http)
        json_object_set_new(e, "http", json_deep_copy(http));
    if (msg->kind == MCPC_MSG_INVALID)
        json_object_set_new(e, "why", json_string(msg->reason));
    else
        json_object_set(e, "message", msg->root);
    return json_array_append_new(m->record, e) == 0 ? MCPC_OK : MCPC_ERR_NOMEM;
}

mcpc_err mcpc_mock_handle(mcpc_mock *m, const char *bytes, size_t len, json_t *http,
                          mcpc_mock_answer *ans)
{
    mcpc_msg msg;
    mcpc_err rc;
    memset(ans, 0, sizeof *ans);
    mcpc_jsonrpc_parse(bytes, len, 0, &msg);
    rc = mcpc_mock_note(m, bytes, len, http, &msg);
    if (rc != MCPC_OK)
        goto out;
    switch (msg.kind) {
    case MCPC_MSG_REQUEST:
        rc = mcpc_mock_request(m, &msg, http != NULL, ans);
        break;
    case MCPC_MSG_NOTIFICATION:
    case MCPC_MSG_RESULT:
    case MCPC_MSG_ERROR:
        ans->status = 202; /* accepted; nothing to send back */
        break;
    default:
        ans->reply = mcpc_jsonrpc_error(NULL, msg.rpc_code, msg.reason, NULL);
        ans->status = 400;
        rc = ans->reply ? MCPC_OK : MCPC_ERR_NOMEM;
        break;
    }
out:
    mcpc_msg_clear(&msg);
    return rc;
}

mcpc_err mcpc_mock_note_only(mcpc_mock *m, const char *bytes, size_t len, json_t *http)
{
    mcpc_msg msg;
    mcpc_err rc;
    mcpc_jsonrpc_parse(bytes, len, 0, &msg);
    rc = mcpc_mock_note(m, bytes, len, http, &msg);
    mcpc_msg_clear(&msg);
    return rc;
}

mcpc_err mcpc_mock_handle_other(mcpc_mock *m, json_t *http, mcpc_mock_answer *ans)
{
    const char *method = json_string_value(json_object_get(http, "method"));
    json_t *e;
    memset(ans, 0, sizeof *ans);
    ans->status = method && strcmp(method, "DELETE") == 0 && m->era == MCPC_ERA_2025_11_25 ? 200 : 405;
    if (json_array_size(m->record) >= MCPC_MOCK_MAX_RECORDS) {
        m->dropped++;
        return MCPC_OK;
    }
    e = json_pack("{s:I,s:s,s:s,s:O}", "seq", (json_int_t)json_array_size(m->record) + 1,
                  "transport", "http", "kind", "http", "http", http);
    return e && json_array_append_new(m->record, e) == 0 ? MCPC_OK : MCPC_ERR_NOMEM;
}

mcpc_err mcpc_mock_validate(json_t *scenario, char *err, size_t errlen)
{
    mcpc_mock *m = NULL;
    mcpc_err rc = mcpc_mock_new(scenario, MCPC_ERA_2026_07_28, "", &m, err, errlen);
    json_t *actions = json_object_get(scenario, "actions"), *a;
    size_t i;
    const char *k;
    json_t *v;
    mcpc_mock_free(m);
    if (rc != MCPC_OK)
        return rc;
    mcpc_mock_auth auth;
    if (mcpc_mock_auth_parse(scenario, &auth, err, errlen) != MCPC_OK)
        return MCPC_ERR_CASE;
    json_object_foreach(scenario, k, v) {
        if (strcmp(k, "tools") && strcmp(k, "results") && strcmp(k, "page_size") &&
            strcmp(k, "responses") && strcmp(k, "actions") && strcmp(k, "auth") &&
            strcmp(k, "mcps")) {
            snprintf(err, errlen, "scenario: unknown key \"%s\"", k);
            return MCPC_ERR_CASE;
        }
    }
    json_t *mcps = json_object_get(scenario, "mcps");
    if (mcps && (!json_is_object(mcps) ||
                 (json_object_get(mcps, "advertise") && !json_is_object(json_object_get(mcps, "advertise"))) ||
                 (json_object_get(mcps, "require") && !json_is_string(json_object_get(mcps, "require"))))) {
        snprintf(err, errlen, "scenario.mcps is {\"advertise\": {...}, \"require\": PROFILE}");
        return MCPC_ERR_CASE;
    }
    if (actions && !json_is_array(actions)) {
        snprintf(err, errlen, "scenario.actions must be an array");
        return MCPC_ERR_CASE;
    }
    json_array_foreach(actions, i, a) {
        const char *d = json_string_value(json_object_get(a, "do"));
        int list = d && strcmp(d, "list_tools") == 0, call = d && strcmp(d, "call_tool") == 0;
        if (!list && !call) {
            snprintf(err, errlen, "scenario.actions[%zu]: do must be list_tools or call_tool", i);
            return MCPC_ERR_CASE;
        }
        if (call && (!json_is_string(json_object_get(a, "name")) ||
                     !json_is_object(json_object_get(a, "arguments")) || json_object_size(a) != 3)) {
            snprintf(err, errlen, "scenario.actions[%zu]: call_tool takes a name and an arguments object", i);
            return MCPC_ERR_CASE;
        }
        if (list && json_object_size(a) != 1) {
            snprintf(err, errlen, "scenario.actions[%zu]: list_tools takes nothing else", i);
            return MCPC_ERR_CASE;
        }
    }
    return MCPC_OK;
}

/* The index of s in names (NULL-terminated), or -1. */
static int mcpc_mock_pick(const char *s, const char *const *names)
{
    for (int i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

mcpc_err mcpc_mock_auth_parse(json_t *scenario, mcpc_mock_auth *out, char *err, size_t errlen)
{
    /* in the order of mcpc_as_meta_variant and mcpc_as_iss_mode */
    static const char *const metas[] = {"normal", "no-pkce-methods", "issuer-mismatch",
                                        "dangerous-authz", NULL};
    static const char *const isses[] = {"correct", "omit", "wrong", "casefold", NULL};
    json_t *a = json_object_get(scenario, "auth"), *v;
    const char *k;
    int i;

    memset(out, 0, sizeof *out);
    out->challenge_metadata = 1;
    if (!a)
        return MCPC_OK;
    if (!json_is_object(a)) {
        snprintf(err, errlen, "scenario.auth must be an object");
        return MCPC_ERR_CASE;
    }
    json_object_foreach(a, k, v) {
        if (strcmp(k, "metadata") == 0) {
            if ((i = mcpc_mock_pick(json_string_value(v), metas)) < 0)
                goto bad_meta;
            out->metadata = (mcpc_as_meta_variant)i;
        } else if (strcmp(k, "iss") == 0) {
            if ((i = mcpc_mock_pick(json_string_value(v), isses)) < 0) {
                snprintf(err, errlen, "scenario.auth.iss must be correct, omit, wrong or casefold");
                return MCPC_ERR_CASE;
            }
            out->iss = (mcpc_as_iss_mode)i;
        } else if (strcmp(k, "authz_endpoint") == 0 || strcmp(k, "prm_resource") == 0) {
            if (!json_is_string(v) || !json_string_length(v) ||
                strlen(json_string_value(v)) != json_string_length(v)) {
                snprintf(err, errlen, "scenario.auth.%s must be a non-empty string", k);
                return MCPC_ERR_CASE;
            }
            *(k[0] == 'a' ? &out->authz_endpoint : &out->prm_resource) = json_string_value(v);
        } else if (strcmp(k, "challenge_metadata") == 0 || strcmp(k, "redirect_call") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "scenario.auth.%s must be true or false", k);
                return MCPC_ERR_CASE;
            }
            *(k[0] == 'c' ? &out->challenge_metadata : &out->redirect_call) = json_is_true(v);
        } else {
            snprintf(err, errlen, "scenario.auth: unknown key \"%s\"", k);
            return MCPC_ERR_CASE;
        }
    }
    if (out->authz_endpoint && out->metadata != MCPC_AS_META_DANGEROUS_AUTHZ) {
        snprintf(err, errlen, "scenario.auth.authz_endpoint goes with metadata dangerous-authz");
        return MCPC_ERR_CASE;
    }
    out->enabled = 1;
    return MCPC_OK;
bad_meta:
    snprintf(err, errlen, "scenario.auth.metadata must be normal, no-pkce-methods, issuer-mismatch "
             "or dangerous-authz");
    return MCPC_ERR_CASE;
}

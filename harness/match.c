#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "transcript.h"

/* Decode one pointer token (~1 → '/', ~0 → '~') into out; returns its length or -1. */
static int mcpc_pointer_token(const char *p, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '~') {
            if (i + 1 >= n || (p[i + 1] != '0' && p[i + 1] != '1'))
                return -1;
            c = p[i + 1] == '0' ? '~' : '/';
            i++;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

json_t *mcpc_pointer_get(json_t *root, const char *ptr)
{
    char tok[256];
    json_t *cur = root;
    if (!ptr || !*ptr)
        return root;
    if (*ptr != '/')
        return NULL;
    while (cur && *ptr == '/') {
        const char *start = ptr + 1;
        const char *end = strchr(start, '/');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        if (mcpc_pointer_token(start, n, tok, sizeof tok) < 0)
            return NULL;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            /* RFC 6901: "0" or digits without a leading zero, nothing else (no sign, no space) */
            if (!*tok || (tok[0] == '0' && tok[1]) || strspn(tok, "0123456789") != strlen(tok) ||
                strlen(tok) > 9)
                return NULL;
            unsigned long idx = strtoul(tok, NULL, 10);
            cur = json_array_get(cur, idx);
        } else {
            return NULL;
        }
        ptr = start + n;
    }
    return cur;
}

static const char *mcpc_match_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Compact text of a value for "why" messages, cut to fit. */
static void mcpc_match_show(const json_t *v, char *out, size_t outlen)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    /* cut on a character boundary: the text ends up in a JSON report */
    char *p = s ? mcpc_text_printable(s, strlen(s), 100) : NULL;
    snprintf(out, outlen, "%s", p ? p : "(absent)");
    free(p);
    free(s);
}

static const char *const mcpc_match_tests[] = {"equals", "present", "type", "in", "contains",
                                               "nonempty", "equals_var", "equals_sent_id", NULL};

/* One condition; 1 holds, 0 not. */
static int mcpc_match_one(json_t *c, const mcpc_match_ctx *ctx, char *why, size_t whylen)
{
    char shown[128];
    json_t *k;
    if ((k = json_object_get(c, "kind")) != NULL) {
        if (ctx->kind && strcmp(ctx->kind, json_string_value(k)) == 0)
            return 1;
        snprintf(why, whylen, "message kind is %s, not %s", ctx->kind ? ctx->kind : "(none)",
                 json_string_value(k));
        return 0;
    }
    if ((k = json_object_get(c, "era")) != NULL) {
        if (ctx->era && strcmp(ctx->era, json_string_value(k)) == 0)
            return 1;
        snprintf(why, whylen, "era is %s, not %s", ctx->era ? ctx->era : "(none)", json_string_value(k));
        return 0;
    }
    const char *path = json_string_value(json_object_get(c, "path"));
    json_t *v = ctx->msg ? mcpc_pointer_get(ctx->msg, path) : NULL;
    mcpc_match_show(v, shown, sizeof shown);
    if ((k = json_object_get(c, "present")) != NULL) {
        if ((v != NULL) == json_is_true(k))
            return 1;
        snprintf(why, whylen, "%s is %s", path, v ? "present" : "absent");
        return 0;
    }
    if ((k = json_object_get(c, "equals")) != NULL) {
        if (v && json_equal(v, k))
            return 1;
        char want[128];
        mcpc_match_show(k, want, sizeof want);
        snprintf(why, whylen, "%s is %s, not %s", path, shown, want);
        return 0;
    }
    if ((k = json_object_get(c, "type")) != NULL) {
        const char *want = json_string_value(k);
        if (v && (strcmp(mcpc_match_type_name(v), want) == 0 ||
                  (strcmp(want, "number") == 0 && json_is_number(v))))
            return 1;
        snprintf(why, whylen, "%s is %s, not of type %s", path, shown, want);
        return 0;
    }
    if ((k = json_object_get(c, "in")) != NULL) {
        size_t i;
        json_t *e;
        json_array_foreach(k, i, e) if (v && json_equal(v, e)) return 1;
        snprintf(why, whylen, "%s is %s, not one of the accepted values", path, shown);
        return 0;
    }
    if ((k = json_object_get(c, "contains")) != NULL) {
        if (json_is_string(v) && strstr(json_string_value(v), json_string_value(k)))
            return 1;
        snprintf(why, whylen, "%s is %s, which does not contain \"%s\"", path, shown,
                 json_string_value(k));
        return 0;
    }
    if ((k = json_object_get(c, "nonempty")) != NULL) {
        int ne = (json_is_array(v) && json_array_size(v) > 0) ||
                 (json_is_object(v) && json_object_size(v) > 0) ||
                 (json_is_string(v) && json_string_length(v) > 0);
        if (ne == json_is_true(k))
            return 1;
        snprintf(why, whylen, "%s is %s (%s)", path, shown, ne ? "not empty" : "empty or absent");
        return 0;
    }
    if ((k = json_object_get(c, "equals_var")) != NULL) {
        json_t *want = mcpc_match_var(ctx->vars, json_string_value(k));
        if (v && want && json_equal(v, want))
            return 1;
        snprintf(why, whylen, "%s is %s, not the value captured as %s", path, shown,
                 json_string_value(k));
        return 0;
    }
    if ((k = json_object_get(c, "equals_sent_id")) != NULL) {
        /* json_equal is type-strict: 7 and "7" differ, as MCP requires */
        int eq = v && ctx->sent_id && json_equal(v, ctx->sent_id);
        if (eq == json_is_true(k))
            return 1;
        char sent[128];
        mcpc_match_show(ctx->sent_id, sent, sizeof sent);
        snprintf(why, whylen, "%s is %s; the request id sent was %s", path, shown, sent);
        return 0;
    }
    snprintf(why, whylen, "condition has no test");
    return 0;
}

int mcpc_match_all(json_t *when, const mcpc_match_ctx *ctx, char *why, size_t whylen)
{
    size_t i;
    json_t *c;
    if (whylen)
        why[0] = '\0';
    json_array_foreach(when, i, c) {
        if (!mcpc_match_one(c, ctx, why, whylen))
            return 0;
    }
    return 1;
}

mcpc_err mcpc_match_validate(json_t *when, char *err, size_t errlen)
{
    size_t i;
    json_t *c;
    if (!json_is_array(when)) {
        snprintf(err, errlen, "\"when\" must be an array of conditions");
        return MCPC_ERR_CASE;
    }
    json_array_foreach(when, i, c) {
        const char *key;
        json_t *val;
        int tests = 0, has_path = 0, other = 0;
        if (!json_is_object(c)) {
            snprintf(err, errlen, "condition %zu is not an object", i);
            return MCPC_ERR_CASE;
        }
        json_object_foreach(c, key, val) {
            int known = 0;
            if (strcmp(key, "path") == 0) {
                if (!json_is_string(val) || (json_string_length(val) && json_string_value(val)[0] != '/')) {
                    snprintf(err, errlen, "condition %zu: path must be a JSON Pointer", i);
                    return MCPC_ERR_CASE;
                }
                has_path = 1;
                continue;
            }
            if (strcmp(key, "kind") == 0 || strcmp(key, "era") == 0) {
                if (!json_is_string(val)) {
                    snprintf(err, errlen, "condition %zu: %s must be a string", i, key);
                    return MCPC_ERR_CASE;
                }
                other++;
                continue;
            }
            for (int t = 0; mcpc_match_tests[t]; t++)
                known |= strcmp(key, mcpc_match_tests[t]) == 0;
            if (!known) {
                snprintf(err, errlen, "condition %zu: unknown key \"%s\"", i, key);
                return MCPC_ERR_CASE;
            }
            tests++;
        }
        if (other ? (tests || has_path || other != 1) : (tests != 1 || !has_path)) {
            snprintf(err, errlen,
                     "condition %zu: needs either one of kind/era, or a path with exactly one test", i);
            return MCPC_ERR_CASE;
        }
        json_t *t;
        if (((t = json_object_get(c, "present")) || (t = json_object_get(c, "nonempty")) ||
             (t = json_object_get(c, "equals_sent_id"))) && !json_is_boolean(t)) {
            snprintf(err, errlen, "condition %zu: present/nonempty/equals_sent_id take a boolean", i);
            return MCPC_ERR_CASE;
        }
        if ((t = json_object_get(c, "in")) && !json_is_array(t)) {
            snprintf(err, errlen, "condition %zu: in takes an array", i);
            return MCPC_ERR_CASE;
        }
        if (((t = json_object_get(c, "type")) || (t = json_object_get(c, "contains")) ||
             (t = json_object_get(c, "equals_var"))) && !json_is_string(t)) {
            snprintf(err, errlen, "condition %zu: type/contains/equals_var take a string", i);
            return MCPC_ERR_CASE;
        }
        static const char *const types[] = {"object", "array", "string", "integer", "number",
                                            "boolean", "null", NULL};
        static const char *const kinds[] = {"request", "notification", "result", "error", NULL};
        const char *const *names = (t = json_object_get(c, "type")) ? types :
                                   (t = json_object_get(c, "kind")) ? kinds : NULL;
        if (names) {
            int ok = 0;
            for (int n = 0; names[n] && json_is_string(t); n++)
                ok |= strcmp(json_string_value(t), names[n]) == 0;
            if (!ok) {
                snprintf(err, errlen, "condition %zu: unknown %s name", i, names == types ? "type" : "kind");
                return MCPC_ERR_CASE;
            }
        }
        if ((t = json_object_get(c, "era")) && strcmp(json_string_value(t), "2025-11-25") &&
            strcmp(json_string_value(t), "2026-07-28")) {
            snprintf(err, errlen, "condition %zu: unknown era", i);
            return MCPC_ERR_CASE;
        }
    }
    return MCPC_OK;
}

json_t *mcpc_match_var(json_t *vars, const char *ref)
{
    char name[128];
    const char *slash = strchr(ref, '/');
    size_t n = slash ? (size_t)(slash - ref) : strlen(ref);
    if (n >= sizeof name)
        return NULL;
    memcpy(name, ref, n);
    name[n] = '\0';
    json_t *v = json_object_get(vars, name);
    return slash ? mcpc_pointer_get(v, slash) : v;
}

json_t *mcpc_match_subst(const json_t *tmpl, json_t *vars, char *err, size_t errlen)
{
    if (json_is_string(tmpl)) {
        const char *s = json_string_value(tmpl);
        size_t n = json_string_length(tmpl);
        /* exactly one reference spanning the whole string; anything else is literal text */
        if (n > 3 && n < 250 && s[0] == '$' && s[1] == '{' && s[n - 1] == '}' &&
            !memchr(s + 2, '}', n - 3) && !memchr(s + 2, '$', n - 3)) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(n - 3), s + 2);
            json_t *v = mcpc_match_var(vars, name);
            if (!v) {
                snprintf(err, errlen, "variable %s was never captured", name);
                return NULL;
            }
            return json_deep_copy(v);
        }
        return json_deep_copy(tmpl);
    }
    if (json_is_object(tmpl)) {
        json_t *out = json_object();
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)tmpl, key, val) {
            json_t *c = mcpc_match_subst(val, vars, err, errlen);
            if (!c || json_object_set_new(out, key, c)) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(tmpl)) {
        json_t *out = json_array();
        size_t i;
        json_t *val;
        json_array_foreach(tmpl, i, val) {
            json_t *c = mcpc_match_subst(val, vars, err, errlen);
            if (!c || json_array_append_new(out, c)) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(tmpl);
}

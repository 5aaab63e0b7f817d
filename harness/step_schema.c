/* Schema-driven steps: arguments generated from each tool's own inputSchema (SCH-01), names that
 * are not listed (SCH-02), the strict-schema lint (SCH-03) and structuredContent against
 * outputSchema. The schema enforcer is the oracle: a generated base is used only if it validates,
 * and a mutant only if it fails validation for the keyword it was made to break, so a refusal
 * cannot be for some other reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "step_int.h"

#define MCPC_SCH_MAX_CALLS 80
#define MCPC_SCH_PER_TOOL 10

/* Compile a tool's schema (borrowed). NULL when it does not compile (why says so). */
static mcpc_schema *mcpc_sch_compile(json_t *schema, char *why, size_t whylen)
{
    mcpc_schema *s = NULL;
    if (mcpc_schema_compile(NULL, schema, "https://mcpcert.invalid/tool", NULL, &s, why, whylen) != MCPC_OK)
        return NULL;
    return s;
}

/* 1 when instance is valid; 0 invalid; -1 resource error. */
static int mcpc_sch_valid(const mcpc_schema *s, json_t *instance)
{
    mcpc_err rc = mcpc_schema_validate(s, instance, NULL);
    return rc == MCPC_OK ? 1 : rc == MCPC_ERR_INVALID ? 0 : -1;
}

/* Does validating instance produce an error for keyword (at any location)? */
static int mcpc_sch_fails_for(const mcpc_schema *s, json_t *instance, const char *keyword)
{
    mcpc_schema_errors errs;
    int hit = 0;
    mcpc_schema_errors_init(&errs, 16);
    if (mcpc_schema_validate(s, instance, &errs) == MCPC_ERR_INVALID) {
        for (size_t i = 0; i < errs.count; i++)
            hit |= strcmp(errs.items[i].keyword, keyword) == 0;
    }
    mcpc_schema_errors_clear(&errs);
    return hit;
}

/* A plausible valid value for a property schema (new reference), or NULL. */
static json_t *mcpc_sch_sample(json_t *ps, int depth)
{
    json_t *v;
    if (!json_is_object(ps) || depth > 4)
        return NULL;
    if ((v = json_object_get(ps, "const")) != NULL)
        return json_deep_copy(v);
    if ((v = json_object_get(ps, "default")) != NULL)
        return json_deep_copy(v);
    if (json_is_array(v = json_object_get(ps, "examples")) && json_array_size(v))
        return json_deep_copy(json_array_get(v, 0));
    if (json_is_array(v = json_object_get(ps, "enum")) && json_array_size(v))
        return json_deep_copy(json_array_get(v, 0));
    const char *type = json_string_value(json_object_get(ps, "type"));
    if (!type && json_is_array(json_object_get(ps, "type")))
        type = json_string_value(json_array_get(json_object_get(ps, "type"), 0));
    if (!type)
        return json_string("mcpcert");
    if (strcmp(type, "string") == 0) {
        json_int_t min = json_integer_value(json_object_get(ps, "minLength"));
        json_int_t max = json_is_integer(json_object_get(ps, "maxLength"))
                             ? json_integer_value(json_object_get(ps, "maxLength")) : 64;
        const char *fmt = json_string_value(json_object_get(ps, "format"));
        if (fmt && strcmp(fmt, "uri") == 0)
            return json_string("https://example.com/mcpcert");
        if (fmt && strcmp(fmt, "email") == 0)
            return json_string("mcpcert@example.com");
        char buf[80];
        size_t n = (size_t)(min > 7 ? (min < 64 ? min : 64) : 7);
        if ((json_int_t)n > max)
            n = (size_t)(max > 0 ? max : 0);
        for (size_t i = 0; i < n; i++)
            buf[i] = "mcpcert"[i % 7];
        buf[n] = '\0';
        return json_string(buf);
    }
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
        json_t *mn = json_object_get(ps, "minimum"), *mx = json_object_get(ps, "maximum");
        double x = 1;
        if (json_is_number(mn) && x < json_number_value(mn))
            x = json_number_value(mn);
        if (json_is_number(mx) && x > json_number_value(mx))
            x = json_number_value(mx);
        return strcmp(type, "integer") == 0 ? json_integer((json_int_t)x) : json_real(x);
    }
    if (strcmp(type, "boolean") == 0)
        return json_true();
    if (strcmp(type, "array") == 0)
        return json_array();
    if (strcmp(type, "null") == 0)
        return json_null();
    if (strcmp(type, "object") == 0) {
        json_t *o = json_object(), *req = json_object_get(ps, "required"), *r;
        size_t i;
        json_array_foreach(req, i, r) {
            json_t *sv = mcpc_sch_sample(json_object_get(json_object_get(ps, "properties"),
                                                     json_string_value(r)), depth + 1);
            if (sv)
                json_object_set_new(o, json_string_value(r), sv);
        }
        return o;
    }
    return NULL;
}

/* A value of another JSON type than ps allows: the type-confusion a lax parser coerces. */
static json_t *mcpc_sch_wrong_type(json_t *ps)
{
    const char *type = json_string_value(json_object_get(ps, "type"));
    if (!type)
        return NULL;
    if (strcmp(type, "string") == 0) return json_integer(12345);
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) return json_string("1");
    if (strcmp(type, "boolean") == 0) return json_string("true");
    if (strcmp(type, "array") == 0) return json_object();
    if (strcmp(type, "object") == 0) return json_array();
    return json_string("mcpcert");
}

typedef struct {
    json_t *args;          /* owned */
    char what[160];
    const char *keyword;   /* the keyword it must break */
} mcpc_sch_mutant;

/* Mutants of base (borrowed), each meant to break one constraint of the tool's schema. */
static size_t mcpc_sch_mutants(json_t *schema, json_t *base, mcpc_sch_mutant *out, size_t max)
{
    size_t n = 0;
    json_t *props = json_object_get(schema, "properties"), *ps, *r;
    const char *name;
    size_t i;
#define ADD(ARGS, KW, ...)                                                  \
    do {                                                                    \
        if (n < max && (ARGS)) {                                            \
            out[n].args = (ARGS);                                           \
            out[n].keyword = (KW);                                          \
            snprintf(out[n].what, sizeof out[n].what, __VA_ARGS__);         \
            n++;                                                            \
        }                                                                   \
    } while (0)
    json_array_foreach(json_object_get(schema, "required"), i, r) {
        json_t *a = json_deep_copy(base);
        json_object_del(a, json_string_value(r));
        ADD(a, "required", "required \"%s\" missing", json_string_value(r));
    }
    if (json_is_false(json_object_get(schema, "additionalProperties")) ||
        json_is_false(json_object_get(schema, "unevaluatedProperties"))) {
        json_t *a = json_deep_copy(base);
        json_object_set_new(a, "mcpcert_extra", json_true());
        ADD(a, json_is_false(json_object_get(schema, "additionalProperties")) ? "additionalProperties"
                                                                             : "unevaluatedProperties",
            "extra property on a closed object");
    }
    json_object_foreach(props, name, ps) {
        json_t *a, *v;
        if ((v = mcpc_sch_wrong_type(ps)) != NULL) {
            a = json_deep_copy(base);
            json_object_set_new(a, name, v);
            ADD(a, "type", "\"%s\" of the wrong type", name);
        }
        if (json_is_integer(json_object_get(ps, "maxLength"))) {
            json_int_t ml = json_integer_value(json_object_get(ps, "maxLength"));
            if (ml >= 0 && ml < 1000000) {
                char *str = malloc((size_t)ml + 2);
                if (str) {
                    memset(str, 'x', (size_t)ml + 1);
                    str[ml + 1] = '\0';
                    a = json_deep_copy(base);
                    json_object_set_new(a, name, json_string(str));
                    free(str);
                    ADD(a, "maxLength", "\"%s\" longer than maxLength %lld", name, (long long)ml);
                }
            }
        }
        if (json_is_number(json_object_get(ps, "maximum"))) {
            a = json_deep_copy(base);
            double mx = json_number_value(json_object_get(ps, "maximum")) + 1;
            json_object_set_new(a, name, json_is_integer(json_object_get(ps, "maximum"))
                                             ? json_integer((json_int_t)mx) : json_real(mx));
            ADD(a, "maximum", "\"%s\" above its maximum", name);
        }
        if (json_is_number(json_object_get(ps, "minimum"))) {
            a = json_deep_copy(base);
            double mn = json_number_value(json_object_get(ps, "minimum")) - 1;
            json_object_set_new(a, name, json_is_integer(json_object_get(ps, "minimum"))
                                             ? json_integer((json_int_t)mn) : json_real(mn));
            ADD(a, "minimum", "\"%s\" below its minimum", name);
        }
        if (json_is_array(json_object_get(ps, "enum"))) {
            a = json_deep_copy(base);
            json_object_set_new(a, name, json_string("mcpcert-not-in-enum"));
            ADD(a, "enum", "\"%s\" outside its enum", name);
        }
        if (json_is_string(json_object_get(ps, "pattern"))) {
            a = json_deep_copy(base);
            json_object_set_new(a, name, json_string("mcpcert \x01 pattern miss"));
            ADD(a, "pattern", "\"%s\" not matching its pattern", name);
        }
    }
#undef ADD
    return n;
}

/* Call a tool; 1 refused as required (isError or -32602, with *warn for -32602), 0 accepted,
 * -1 transport failure (verdict already set). */
static int mcpc_sch_call(mcpc_step_ctx *ctx, const char *tool, json_t *args, int *warn,
                         char *shown, size_t shownlen, const char *expected)
{
    json_t *params = json_pack("{s:s,s:O}", "name", tool, "arguments", args), *resp = NULL;
    mcpc_err rc = params ? mcpc_session_call(ctx->s, "tools/call", params, &resp) : MCPC_ERR_NOMEM;
    json_decref(params);
    if (rc != MCPC_OK) {
        mcpc_step_transport(ctx, rc, expected);
        return -1;
    }
    mcpc_step_show(resp, shown, shownlen);
    json_t *err = json_object_get(resp, "error");
    int refused;
    if (err) {
        /* any protocol error refuses; -32602 is the one the specification tolerates */
        refused = 1;
        *warn = json_integer_value(json_object_get(err, "code")) != -32602 ? 2 : 1;
    } else {
        refused = json_is_true(json_object_get(json_object_get(resp, "result"), "isError"));
        *warn = 0;
    }
    json_decref(resp);
    return refused;
}

mcpc_verdict mcpc_step_call_invalid(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *tools = json_object_get(ctx->vars, mcpc_step_str(step, "of", "tools"));
    const char *expected = "every call whose arguments break one constraint of the tool's inputSchema "
                           "is refused with isError (or -32602)";
    size_t i, calls = 0, max = (size_t)mcpc_step_ms(step, "max", MCPC_SCH_MAX_CALLS), warns = 0;
    json_t *t;
    char shown[400], why[256], warn_text[400] = "";
    json_array_foreach(tools, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *schema = json_object_get(t, "inputSchema");
        mcpc_schema *s = schema ? mcpc_sch_compile(schema, why, sizeof why) : NULL;
        mcpc_sch_mutant mut[MCPC_SCH_PER_TOOL];
        size_t nm = 0;
        if (!s || !name) {
            mcpc_transcript_note(ctx->tr, "call_invalid: %s: schema not usable (%s)", name ? name : "?", why);
            mcpc_schema_free(s);
            continue;
        }
        json_t *base = mcpc_sch_sample(schema, 0);
        if (!base || mcpc_sch_valid(s, base) != 1) {
            mcpc_transcript_note(ctx->tr, "call_invalid: %s: no valid base arguments could be built", name);
            json_decref(base);
            mcpc_schema_free(s);
            continue;
        }
        nm = mcpc_sch_mutants(schema, base, mut, MCPC_SCH_PER_TOOL);
        mcpc_verdict v = MCPC_V_PASS;
        for (size_t k = 0; k < nm; k++) {
            int w = 0;
            /* only a mutant the oracle rejects for the intended keyword is a fair test */
            if (v != MCPC_V_PASS || calls >= max || !mcpc_sch_fails_for(s, mut[k].args, mut[k].keyword))
                continue;
            calls++;
            int r = mcpc_sch_call(ctx, name, mut[k].args, &w, shown, sizeof shown, expected);
            if (r < 0) {
                v = ctx->verdict;
            } else if (r == 0) {
                v = mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown,
                                  "tool %s accepted arguments with %s", name, mut[k].what);
            } else if (w) {
                if (!warns++)
                    snprintf(warn_text, sizeof warn_text, "tool %s refused %s with a protocol error, not isError",
                             name, mut[k].what);
            }
        }
        for (size_t k = 0; k < nm; k++)
            json_decref(mut[k].args);
        json_decref(base);
        mcpc_schema_free(s);
        if (v != MCPC_V_PASS)
            return v;
    }
    if (calls == 0)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "no tool has a constraint that arguments could break");
    if (warns)
        return mcpc_step_say(ctx, MCPC_V_WARN, expected, warn_text,
                             "%zu of %zu invalid calls refused as protocol errors; SEP-1303 asks for isError", warns, calls);
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu invalid call(s), all refused", calls);
}

/* Names a server must not answer as tools: privileged words, case variants and confusables of
 * its own names, padding and invisible characters. */
static size_t mcpc_sch_unlisted(json_t *tools, char names[][96], size_t max)
{
    static const char *const words[] = {"admin", "debug", "system", "exec", "shell", "__proto__", NULL};
    size_t n = 0, i;
    json_t *t;
    for (size_t w = 0; words[w] && n < max; w++)
        snprintf(names[n++], 96, "%s", words[w]);
    json_array_foreach(tools, i, t) {
        const char *nm = json_string_value(json_object_get(t, "name"));
        size_t len = nm ? strlen(nm) : 0;
        if (!len || len > 60 || n + 4 > max)
            continue;
        /* upper case, flipped first letter, trailing space, zero-width space, Cyrillic look-alike */
        snprintf(names[n], 96, "%s", nm);
        for (char *p = names[n]; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        n++;
        snprintf(names[n], 96, "%s", nm);
        names[n][0] = (char)(names[n][0] >= 'a' && names[n][0] <= 'z' ? names[n][0] - 32
                             : names[n][0] >= 'A' && names[n][0] <= 'Z' ? names[n][0] + 32 : names[n][0]);
        n++;
        snprintf(names[n++], 96, "%s ", nm);
        snprintf(names[n++], 96, "%s\xe2\x80\x8b", nm);
        const char *e = strpbrk(nm, "aeo");
        if (e && n < max) {
            const char *cyr = *e == 'a' ? "\xd0\xb0" : *e == 'e' ? "\xd0\xb5" : "\xd0\xbe";
            snprintf(names[n++], 96, "%.*s%s%s", (int)(e - nm), nm, cyr, e + 1);
        }
    }
    return n;
}

mcpc_verdict mcpc_step_call_unlisted(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *tools = json_object_get(ctx->vars, mcpc_step_str(step, "of", "tools"));
    const char *expected = "every call to a name not in tools/list is refused with -32602";
    char names[128][96], shown[400];
    size_t n = mcpc_sch_unlisted(tools, names, 128), calls = 0, warns = 0;
    size_t max = (size_t)mcpc_step_ms(step, "max", MCPC_SCH_MAX_CALLS);
    char warn_text[400] = "";
    for (size_t k = 0; k < n && calls < max; k++) {
        size_t i;
        json_t *t;
        int listed = 0;
        json_array_foreach(tools, i, t) listed |= strcmp(json_string_value(json_object_get(t, "name")) ?
                                                         json_string_value(json_object_get(t, "name")) : "", names[k]) == 0;
        if (listed)
            continue;
        json_t *args = json_object();
        int w = 0;
        calls++;
        int r = mcpc_sch_call(ctx, names[k], args, &w, shown, sizeof shown, expected);
        json_decref(args);
        if (r < 0)
            return ctx->verdict;
        if (r == 0)
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown,
                                 "the unlisted name \"%s\" was served as a tool", names[k]);
        /* refused, but inside a result (isError) rather than -32602: tolerated with a warning */
        if (w != 1 && !warns++)
            snprintf(warn_text, sizeof warn_text, "\"%.90s\": %.290s", names[k], shown);
    }
    if (warns)
        return mcpc_step_say(ctx, MCPC_V_WARN, expected, warn_text,
                             "%zu of %zu unlisted names refused, but not with -32602", warns, calls);
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu unlisted name(s), all refused", calls);
}

/* The strict-schema lint: the first weakness found, with its path, or 0. */
static int mcpc_sch_lint(json_t *s, char *path, size_t used, size_t cap, int depth, char *why, size_t whylen)
{
    const char *key;
    json_t *v;
    if (depth > 32)
        return 0;
    if (json_is_true(s) || (json_is_object(s) && json_object_size(s) == 0)) {
        snprintf(why, whylen, "%s: an empty schema accepts anything", used ? path : "/");
        return 1;
    }
    if (!json_is_object(s))
        return 0;
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref && ref[0] != '#') {
        snprintf(why, whylen, "%s: $ref \"%.80s\" is not local", used ? path : "/", ref);
        return 1;
    }
    const char *type = json_string_value(json_object_get(s, "type"));
    if (type && strcmp(type, "object") == 0 && !json_is_false(json_object_get(s, "additionalProperties")) &&
        !json_is_false(json_object_get(s, "unevaluatedProperties"))) {
        snprintf(why, whylen, "%s: object is open (no additionalProperties:false)", used ? path : "/");
        return 1;
    }
    if (type && strcmp(type, "string") == 0 && !json_object_get(s, "maxLength") &&
        !json_object_get(s, "enum") && !json_object_get(s, "const") && !json_object_get(s, "format")) {
        snprintf(why, whylen, "%s: string without maxLength, enum, const or format", used ? path : "/");
        return 1;
    }
    if (type && strcmp(type, "array") == 0 && !json_object_get(s, "maxItems")) {
        snprintf(why, whylen, "%s: array without maxItems", used ? path : "/");
        return 1;
    }
    json_object_foreach(s, key, v) {
        int sub = strcmp(key, "properties") == 0 || strcmp(key, "$defs") == 0 ||
                  strcmp(key, "patternProperties") == 0 || strcmp(key, "dependentSchemas") == 0;
        int one = strcmp(key, "items") == 0 || strcmp(key, "additionalProperties") == 0 ||
                  strcmp(key, "not") == 0 || strcmp(key, "if") == 0 || strcmp(key, "then") == 0 ||
                  strcmp(key, "else") == 0 || strcmp(key, "contains") == 0 ||
                  strcmp(key, "propertyNames") == 0 || strcmp(key, "unevaluatedItems") == 0;
        int list = strcmp(key, "allOf") == 0 || strcmp(key, "anyOf") == 0 ||
                   strcmp(key, "oneOf") == 0 || strcmp(key, "prefixItems") == 0;
        int n = snprintf(path + used, cap - used, "/%s", key);
        size_t u2 = n > 0 && (size_t)n < cap - used ? used + (size_t)n : used;
        if (one && !json_is_false(v) && mcpc_sch_lint(v, path, u2, cap, depth + 1, why, whylen))
            return 1;
        if (sub) {
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) {
                int m = snprintf(path + u2, cap - u2, "/%s", k2);
                size_t u3 = m > 0 && (size_t)m < cap - u2 ? u2 + (size_t)m : u2;
                if (mcpc_sch_lint(v2, path, u3, cap, depth + 1, why, whylen))
                    return 1;
            }
        }
        if (list) {
            size_t i;
            json_t *v2;
            json_array_foreach(v, i, v2) {
                int m = snprintf(path + u2, cap - u2, "/%zu", i);
                size_t u3 = m > 0 && (size_t)m < cap - u2 ? u2 + (size_t)m : u2;
                if (mcpc_sch_lint(v2, path, u3, cap, depth + 1, why, whylen))
                    return 1;
            }
        }
        path[used] = '\0';
    }
    return 0;
}

mcpc_verdict mcpc_step_lint_schemas(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *tools = json_object_get(ctx->vars, mcpc_step_str(step, "of", "tools"));
    const char *expected = "every inputSchema is strict: 2020-12, closed objects, bounded strings and "
                           "arrays, no empty subschemas, only local $ref";
    size_t i;
    json_t *t;
    char why[300], path[256];
    if (!json_is_array(tools) || json_array_size(tools) == 0)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "", "no tools to lint");
    json_array_foreach(tools, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *schema = json_object_get(t, "inputSchema");
        const char *dialect = json_string_value(json_object_get(schema, "$schema"));
        if (dialect && strcmp(dialect, "https://json-schema.org/draft/2020-12/schema") != 0)
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, dialect,
                                 "tool %s declares a dialect other than 2020-12", name ? name : "?");
        mcpc_schema *s = mcpc_sch_compile(schema, why, sizeof why);
        if (!s)
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, why,
                                 "tool %s: inputSchema is not a valid 2020-12 schema", name ? name : "?");
        mcpc_schema_free(s);
        path[0] = '\0';
        if (mcpc_sch_lint(schema, path, 0, sizeof path, 0, why, sizeof why))
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, why,
                                 "tool %s: inputSchema is not strict", name ? name : "?");
    }
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu strict schema(s)", json_array_size(tools));
}

mcpc_verdict mcpc_step_check_structured(mcpc_step_ctx *ctx, json_t *step)
{
    json_t *tools = json_object_get(ctx->vars, mcpc_step_str(step, "of", "tools"));
    json_t *results = json_object_get(ctx->vars, mcpc_step_str(step, "results", "results_by_tool"));
    const char *expected = "structuredContent conforms to the tool's outputSchema";
    size_t i, checked = 0;
    json_t *t;
    char why[300], shown[400];
    json_array_foreach(tools, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *os = json_object_get(t, "outputSchema");
        json_t *r = name ? json_object_get(results, name) : NULL;
        if (!os || !r || json_is_true(json_object_get(r, "isError")))
            continue;
        json_t *sc = json_object_get(r, "structuredContent");
        mcpc_step_show(r, shown, sizeof shown);
        if (!sc)
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, shown,
                                 "tool %s declares an outputSchema but returned no structuredContent", name);
        mcpc_schema *s = mcpc_sch_compile(os, why, sizeof why);
        if (!s)
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, why,
                                 "tool %s: outputSchema is not a valid schema", name);
        mcpc_schema_errors errs;
        mcpc_schema_errors_init(&errs, 4);
        mcpc_err rc = mcpc_schema_validate(s, sc, &errs);
        if (rc != MCPC_OK && errs.count)
            snprintf(why, sizeof why, "%s: %s (keyword %s)", errs.items[0].instance_path[0] ? errs.items[0].instance_path : "/",
                     errs.items[0].message, errs.items[0].keyword);
        mcpc_schema_errors_clear(&errs);
        mcpc_schema_free(s);
        checked++;
        if (rc != MCPC_OK)
            return mcpc_step_say(ctx, mcpc_step_miss(ctx), expected, why,
                                 "tool %s: structuredContent breaks its outputSchema", name);
    }
    if (!checked)
        return mcpc_step_say(ctx, MCPC_V_NOT_TESTABLE, expected, "",
                             "no answered tool declares an outputSchema");
    return mcpc_step_say(ctx, MCPC_V_PASS, expected, "", "%zu structured result(s) conform", checked);
}

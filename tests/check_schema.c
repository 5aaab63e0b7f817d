/* Unit tests for harness/schema*.c: error reporting, every bound, no network, the fuzz entry,
 * immutability of a compiled validator, MCP-style tool schemas. Correctness against the
 * JSON-Schema-Test-Suite lives in tests/schema-suite.c. Clean under ASan/UBSan/LSan. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"
#include "schema_int.h"   /* the regex layer, for the differential test */

/* ---- helpers ------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* New reference; fails the test on bad JSON. */
static json_t *J(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    ck_assert_msg(v != NULL, "bad test JSON: %s: %s", je.text, text);
    return v;
}

/* Compile text with optional limits; asserts success. */
static mcpc_schema *compile_ok(const char *text, const mcpc_schema_limits *lim)
{
    char err[256];
    mcpc_schema *s = NULL;
    json_t *j = J(text);
    mcpc_err rc = mcpc_schema_compile(NULL, j, NULL, lim, &s, err, sizeof err);
    json_decref(j);
    ck_assert_msg(rc == MCPC_OK, "compile failed (%s): %s", mcpc_strerror(rc), err);
    return s;
}

/* Expect compile to fail with rc; the message must contain needle. */
static void compile_fails(mcpc_schema_registry *reg, const char *text,
                          const mcpc_schema_limits *lim, mcpc_err want, const char *needle)
{
    char err[256];
    mcpc_schema *s = NULL;
    json_t *j = J(text);
    mcpc_err rc = mcpc_schema_compile(reg, j, NULL, lim, &s, err, sizeof err);
    json_decref(j);
    ck_assert_msg(rc == want, "compile: want %s, got %s (%s)", mcpc_strerror(want),
                  mcpc_strerror(rc), err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, needle) != NULL, "message \"%s\" lacks \"%s\"", err, needle);
}

static mcpc_err validate_text(const mcpc_schema *s, const char *inst, mcpc_schema_errors *e)
{
    json_t *j = J(inst);
    mcpc_err rc = mcpc_schema_validate(s, j, e);
    json_decref(j);
    return rc;
}

/* Index of the error with this instance path and keyword, or -1. */
static int find_err(const mcpc_schema_errors *e, const char *ipath, const char *kw)
{
    for (size_t i = 0; i < e->count; i++)
        if (!strcmp(e->items[i].instance_path, ipath) && !strcmp(e->items[i].keyword, kw))
            return (int)i;
    return -1;
}

static void expect_err(const mcpc_schema_errors *e, const char *ipath, const char *kw,
                       const char *spath)
{
    int i = find_err(e, ipath, kw);
    ck_assert_msg(i >= 0, "no %s error at \"%s\"", kw, ipath);
    ck_assert_msg(!strcmp(e->items[i].schema_path, spath), "%s at \"%s\": schema path \"%s\", "
                  "want \"%s\"", kw, ipath, e->items[i].schema_path, spath);
    ck_assert_msg(e->items[i].message[0] != '\0', "empty message");
}

/* ---- error reporting ---------------------------------------------------------------------- */

START_TEST(test_errors_nested)
{
    mcpc_schema *s = compile_ok(
        "{\"type\":\"object\",\"required\":[\"name\",\"id\"],\"additionalProperties\":false,"
        "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":2},"
        "\"id\":{\"type\":\"integer\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"addr\":{\"type\":\"object\",\"required\":[\"city\"],"
        "\"properties\":{\"zip\":{\"type\":\"string\",\"pattern\":\"^[0-9]{5}$\"}}}}}",
        NULL);
    mcpc_schema_errors e;
    mcpc_schema_errors_init(&e, 0);
    mcpc_err rc = validate_text(s, "{\"name\":\"x\",\"tags\":[\"a\",2,\"c\",false],"
                                   "\"addr\":{\"zip\":\"12\"},\"extra\":1}", &e);
    ck_assert_int_eq(rc, MCPC_ERR_INVALID);
    ck_assert_uint_eq(e.count, 7);
    expect_err(&e, "", "required", "/required");
    expect_err(&e, "/name", "minLength", "/properties/name/minLength");
    expect_err(&e, "/tags/1", "type", "/properties/tags/items/type");
    expect_err(&e, "/tags/3", "type", "/properties/tags/items/type");
    expect_err(&e, "/addr", "required", "/properties/addr/required");
    expect_err(&e, "/addr/zip", "pattern", "/properties/addr/properties/zip/pattern");
    expect_err(&e, "", "additionalProperties", "/additionalProperties");
    ck_assert_ptr_nonnull(strstr(e.items[find_err(&e, "", "additionalProperties")].message,
                                 "extra"));
    ck_assert_ptr_nonnull(strstr(e.items[find_err(&e, "", "required")].message, "id"));
    /* the fast path agrees */
    ck_assert_int_eq(validate_text(s, "{\"name\":\"x\"}", NULL), MCPC_ERR_INVALID);
    ck_assert_int_eq(validate_text(s, "{\"name\":\"xy\",\"id\":3}", NULL), MCPC_OK);
    mcpc_schema_errors_clear(&e);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_errors_ref_and_escaping)
{
    mcpc_schema *s = compile_ok(
        "{\"$defs\":{\"pos\":{\"type\":\"integer\",\"minimum\":0}},"
        "\"properties\":{\"n\":{\"$ref\":\"#/$defs/pos\"},\"a/b~c\":{\"type\":\"string\"},"
        "\"list\":{\"prefixItems\":[{\"const\":1}],\"items\":{\"$ref\":\"#/$defs/pos\"}}}}",
        NULL);
    mcpc_schema_errors e;
    mcpc_schema_errors_init(&e, 0);
    ck_assert_int_eq(validate_text(s, "{\"n\":-1,\"a/b~c\":5,\"list\":[2,3,-4]}", &e),
                     MCPC_ERR_INVALID);
    expect_err(&e, "/n", "minimum", "/properties/n/$ref/minimum");
    expect_err(&e, "/a~1b~0c", "type", "/properties/a~1b~0c/type");
    expect_err(&e, "/list/0", "const", "/properties/list/prefixItems/0/const");
    expect_err(&e, "/list/2", "minimum", "/properties/list/items/$ref/minimum");
    ck_assert_uint_eq(e.count, 4);
    mcpc_schema_errors_clear(&e);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_errors_applicators)
{
    mcpc_schema *s = compile_ok(
        "{\"properties\":{\"a\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},"
        "\"b\":{\"oneOf\":[{\"minimum\":0},{\"maximum\":10}]},\"c\":{\"not\":{\"const\":0}},"
        "\"d\":{\"if\":{\"type\":\"string\"},\"then\":{\"maxLength\":1},\"else\":{\"type\":"
        "\"integer\"}},\"e\":{\"contains\":{\"const\":1},\"uniqueItems\":true}},"
        "\"unevaluatedProperties\":false}", NULL);
    mcpc_schema_errors e;
    mcpc_schema_errors_init(&e, 0);
    ck_assert_int_eq(validate_text(s, "{\"a\":1,\"b\":5,\"c\":0,\"d\":\"xy\",\"e\":[2,2]}", &e),
                     MCPC_ERR_INVALID);
    expect_err(&e, "/a", "anyOf", "/properties/a/anyOf");
    expect_err(&e, "/b", "oneOf", "/properties/b/oneOf");
    expect_err(&e, "/c", "not", "/properties/c/not");
    expect_err(&e, "/d", "maxLength", "/properties/d/then/maxLength");
    expect_err(&e, "/e", "contains", "/properties/e/contains");
    expect_err(&e, "/e", "uniqueItems", "/properties/e/uniqueItems");
    ck_assert_uint_eq(e.count, 6);   /* branch internals are not reported */
    mcpc_schema_errors_clear(&e);
    /* unevaluatedProperties sees what properties evaluated */
    ck_assert_int_eq(validate_text(s, "{\"a\":\"x\",\"zz\":1}", &e), MCPC_ERR_INVALID);
    expect_err(&e, "", "unevaluatedProperties", "/unevaluatedProperties");
    mcpc_schema_errors_clear(&e);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_errors_bounded)
{
    mcpc_schema *s = compile_ok("{\"items\":{\"type\":\"string\"}}", NULL);
    mcpc_schema_errors e;
    mcpc_schema_errors_init(&e, 3);
    ck_assert_int_eq(validate_text(s, "[1,2,3,4,5,6,7,8,9,10]", &e), MCPC_ERR_INVALID);
    ck_assert_uint_eq(e.count, 3);
    ck_assert_uint_eq(e.dropped, 7);
    expect_err(&e, "/0", "type", "/items/type");
    mcpc_schema_errors_clear(&e);
    ck_assert_uint_eq(e.count, 0);
    ck_assert_uint_eq(e.max, 3);
    mcpc_schema_free(s);
}
END_TEST

/* ---- bounds ------------------------------------------------------------------------------- */

/* {"not":{"not":...}} nested depth deep, built in memory (jansson's parser stops at 2048). */
static json_t *deep_not(size_t depth)
{
    json_t *s = json_true();
    for (size_t i = 0; i < depth; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "not", s);
        s = o;
    }
    return s;
}

START_TEST(test_bound_deep_schema)
{
    char err[256];
    mcpc_schema *s = NULL;
    json_t *j = deep_not(10000);
    double t0 = now_s();
    mcpc_err rc = mcpc_schema_compile(NULL, j, NULL, NULL, &s, err, sizeof err);
    ck_assert_int_eq(rc, MCPC_ERR_TOO_BIG);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "deeper"));
    ck_assert_msg(now_s() - t0 < 1.0, "deep schema took %.3fs", now_s() - t0);
    json_decref(j);
    /* within the bound it compiles and works */
    j = deep_not(100);
    ck_assert_int_eq(mcpc_schema_compile(NULL, j, NULL, NULL, &s, err, sizeof err), MCPC_OK);
    json_t *x = json_integer(1);
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_OK);   /* 100 nots of true */
    json_decref(x);
    json_decref(j);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_bound_deep_instance)
{
    mcpc_schema_limits lim = {0};
    mcpc_schema_errors e;
    mcpc_schema *s = compile_ok("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}", &lim);
    json_t *x = json_array();
    for (int i = 0; i < 100000; i++) {
        json_t *o = json_array();
        json_array_append_new(o, x);
        x = o;
    }
    double t0 = now_s();
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_ERR_TOO_BIG);
    mcpc_schema_errors_init(&e, 0);
    ck_assert_int_eq(mcpc_schema_validate(s, x, &e), MCPC_ERR_TOO_BIG);
    ck_assert_int_ge(find_err(&e, e.items[e.count - 1].instance_path, "budget"), 0);
    ck_assert_ptr_nonnull(strstr(e.items[e.count - 1].message, "deeper"));
    ck_assert_msg(now_s() - t0 < 1.0, "deep instance took %.3fs", now_s() - t0);
    mcpc_schema_errors_clear(&e);
    json_decref(x);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_bound_ref_cycle_static)
{
    compile_fails(NULL, "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}},"
                        "\"$ref\":\"#/$defs/a\"}", NULL, MCPC_ERR_INVALID, "loop");
    compile_fails(NULL, "{\"allOf\":[{\"$ref\":\"#\"}]}", NULL, MCPC_ERR_INVALID, "loop");
    compile_fails(NULL, "{\"$ref\":\"#\"}", NULL, MCPC_ERR_INVALID, "loop");
    /* recursion through a child location is fine */
    mcpc_schema *s = compile_ok("{\"properties\":{\"next\":{\"$ref\":\"#\"}}}", NULL);
    ck_assert_int_eq(validate_text(s, "{\"next\":{\"next\":{}}}", NULL), MCPC_OK);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_bound_ref_cycle_dynamic)
{
    /* R refs S; S's $dynamicRef resolves (dynamically) back to R for the same instance: no
     * static cycle, so validation must catch it */
    mcpc_schema_registry *reg = mcpc_schema_registry_new();
    json_t *sdoc = J("{\"$id\":\"http://x.test/S\",\"$defs\":{\"d\":{\"$dynamicAnchor\":\"m\"}},"
                     "\"$dynamicRef\":\"#m\"}");
    ck_assert_int_eq(mcpc_schema_registry_add(reg, "http://x.test/S", sdoc), MCPC_OK);
    json_decref(sdoc);
    json_t *root = J("{\"$id\":\"http://x.test/R\",\"$dynamicAnchor\":\"m\",\"$ref\":\"S\"}");
    mcpc_schema *s = NULL;
    char err[256];
    ck_assert_int_eq(mcpc_schema_compile(reg, root, NULL, NULL, &s, err, sizeof err), MCPC_OK);
    mcpc_schema_errors e;
    mcpc_schema_errors_init(&e, 0);
    json_t *x = json_integer(1);
    double t0 = now_s();
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_ERR_TOO_BIG);
    ck_assert_int_eq(mcpc_schema_validate(s, x, &e), MCPC_ERR_TOO_BIG);
    ck_assert_uint_ge(e.count, 1);
    ck_assert_ptr_nonnull(strstr(e.items[e.count - 1].message, "loop"));
    ck_assert_msg(now_s() - t0 < 0.5, "took %.3fs", now_s() - t0);
    mcpc_schema_errors_clear(&e);
    json_decref(x);
    json_decref(root);
    mcpc_schema_free(s);
    mcpc_schema_registry_free(reg);
}
END_TEST

/* {"anyOf":[{"const":0},...,{"const":n-1}]} */
static json_t *huge_anyof(size_t n)
{
    json_t *a = json_array(), *s = json_object();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I}", "const", (json_int_t)i));
    json_object_set_new(s, "anyOf", a);
    return s;
}

START_TEST(test_bound_huge_anyof)
{
    char err[256];
    mcpc_schema *s = NULL;
    json_t *j = huge_anyof(50000);
    double t0 = now_s();
    ck_assert_int_eq(mcpc_schema_compile(NULL, j, NULL, NULL, &s, err, sizeof err),
                     MCPC_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(err, "subschemas"));
    /* allowed to compile, it still stops at the work budget */
    mcpc_schema_limits lim = {0};
    lim.max_nodes = 100000;
    lim.max_steps = 1000;
    ck_assert_int_eq(mcpc_schema_compile(NULL, j, NULL, &lim, &s, err, sizeof err), MCPC_OK);
    ck_assert_uint_eq(mcpc_schema_node_count(s), 50001);
    json_t *x = json_integer(-1);
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_ERR_TOO_BIG);
    json_decref(x);
    x = json_integer(10);
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_OK);
    json_decref(x);
    ck_assert_msg(now_s() - t0 < 2.0, "huge anyOf took %.3fs", now_s() - t0);
    json_decref(j);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_bound_catastrophic_regex)
{
    mcpc_schema_limits lim = {0};
    lim.regex_match_limit = 1000;
    mcpc_schema *s = compile_ok("{\"pattern\":\"^(a+)+$\"}", &lim);
    mcpc_schema_errors e;
    char inst[80];
    memset(inst, 0, sizeof inst);
    inst[0] = '"';
    memset(inst + 1, 'a', 40);
    strcpy(inst + 41, "!\"");
    double t0 = now_s();
    ck_assert_int_eq(validate_text(s, inst, NULL), MCPC_ERR_TOO_BIG);
    mcpc_schema_errors_init(&e, 0);
    ck_assert_int_eq(validate_text(s, inst, &e), MCPC_ERR_TOO_BIG);
    ck_assert_str_eq(e.items[0].keyword, "budget");
    ck_assert_ptr_nonnull(strstr(e.items[0].message, "match limit"));
    ck_assert_int_eq(validate_text(s, "\"aaaa\"", NULL), MCPC_OK);
    ck_assert_msg(now_s() - t0 < 0.5, "catastrophic regex took %.3fs", now_s() - t0);
    mcpc_schema_errors_clear(&e);
    mcpc_schema_free(s);
    /* in patternProperties too */
    s = compile_ok("{\"patternProperties\":{\"^(a|aa)+$\":false}}", &lim);
    char key[120];
    snprintf(key, sizeof key, "{\"%.*s!\":1}", 60, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_int_eq(validate_text(s, key, NULL), MCPC_ERR_TOO_BIG);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_bound_work_budget)
{
    mcpc_schema_limits lim = {0};
    lim.max_steps = 100;
    mcpc_schema *s = compile_ok("{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}", &lim);
    json_t *x = json_array();
    for (int i = 0; i < 10000; i++)
        json_array_append_new(x, json_integer(i));
    double t0 = now_s();
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_ERR_TOO_BIG);
    mcpc_schema_free(s);
    /* uniqueItems counts against the budget too */
    s = compile_ok("{\"uniqueItems\":true}", &lim);
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_ERR_TOO_BIG);
    mcpc_schema_free(s);
    s = compile_ok("{\"uniqueItems\":true}", NULL);
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_OK);
    json_array_append_new(x, json_real(77.0));   /* 77 == 77.0 */
    ck_assert_int_eq(mcpc_schema_validate(s, x, NULL), MCPC_ERR_INVALID);
    ck_assert_msg(now_s() - t0 < 1.0, "took %.3fs", now_s() - t0);
    json_decref(x);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_bound_regex_size)
{
    mcpc_schema_limits lim = {0};
    lim.max_pattern = 16;
    compile_fails(NULL, "{\"pattern\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}", &lim, MCPC_ERR_TOO_BIG,
                  "bound");
    /* ECMA syntax errors and PCRE2-only syntax */
    compile_fails(NULL, "{\"pattern\":\"\\\\a\"}", NULL, MCPC_ERR_INVALID, "escape");
    compile_fails(NULL, "{\"pattern\":\"(?i)x\"}", NULL, MCPC_ERR_INVALID, "group");
    compile_fails(NULL, "{\"pattern\":\"a++\"}", NULL, MCPC_ERR_INVALID, "repeat");
    compile_fails(NULL, "{\"pattern\":\"(?<=a+)b\"}", NULL, MCPC_ERR_UNSUPPORTED, "lookbehind");
}
END_TEST

/* The linear-time matcher for simple patterns must agree with PCRE2 on the same pattern. */
START_TEST(test_regex_fast_paths_agree)
{
    static const char *const pats[] = {
        "^[A-Z]{2}$", "^[a-z0-9-]+$", "^/", "abc", "^a$", "b$", "^\\d{4}-\\d{2}-\\d{2}$",
        "^[^a-c]*x?$", "a+b*c?", "^.{2,5}$", "[.]", "^\\w+@\\w+\\.[a-z]{2,3}$", "x{0,2}y",
        "^[\\s\\d]+$", "^$", "", "^(a|b)+$", "^[-a]+$", "^a{3,}$", "\\.json$", "^\\D\\W\\S$",
    };
    unsigned seed = 7;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        mcpc_schema_re *re = NULL;
        char err[128], *t;
        size_t tl;
        int unsup, ec;
        PCRE2_SIZE eo;
        ck_assert_int_eq(mcpc_schema_re_compile(pats[i], strlen(pats[i]), 4096, &re, err,
                                                sizeof err), MCPC_OK);
        t = mcpc_schema_re_translate(pats[i], strlen(pats[i]), &tl, &unsup, err, sizeof err);
        ck_assert_ptr_nonnull(t);
        pcre2_code *ref = pcre2_compile((PCRE2_SPTR)t, tl, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &ec,
                                        &eo, NULL);
        ck_assert_ptr_nonnull(ref);
        for (int k = 0; k < 3000; k++) {
            char sub[70];
            size_t n = (size_t)(rand_r(&seed) % 24);
            if (k % 50 == 0)
                n = 40 + (size_t)(rand_r(&seed) % 30);   /* past the bit-parallel width */
            static const char alpha[] = "abcxyAZ09-_ ./@\n\t";
            for (size_t j = 0; j < n; j++)
                sub[j] = alpha[(size_t)rand_r(&seed) % (sizeof alpha - 1)];
            int want = pcre2_match(ref, (PCRE2_SPTR)sub, n, 0, 0, md, NULL) >= 0;
            int got = mcpc_schema_re_match(re, sub, n, md, mctx);
            ck_assert_msg(want == got, "/%s/ on \"%.*s\": pcre2 %d, fast path %d", pats[i],
                          (int)n, sub, want, got);
        }
        pcre2_code_free(ref);
        free(t);
        mcpc_schema_re_free(re);
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
}
END_TEST

/* On jansson 2.14 the validator reads values directly (checked at start-up); elsewhere it must
 * have fallen back to the API. Either way the same answers come out (the suite runs both). */
START_TEST(test_jansson_view)
{
    mcpc_schema *s = compile_ok("{\"type\":\"object\"}", NULL);
    int want = JANSSON_VERSION_HEX >= 0x020e00 && JANSSON_VERSION_HEX < 0x020f00;
    ck_assert_int_eq(mcpc_schema_jv.direct, want);
    if (want) {
        json_t *o = J("{\"a\":1,\"bb\":[1,2],\"ccc\":\"x\"}");
        void *it = jv_ofirst(o);
        ck_assert_uint_eq(jv_osize(o), 3);
        ck_assert_str_eq(jv_okey(it), "a");
        it = jv_onext(o, it);
        ck_assert_uint_eq(jv_okeylen(it), 2);
        ck_assert_uint_eq(jv_asize(jv_oval(it)), 2);
        ck_assert_int_eq(jv_int(jv_aget(jv_oval(it), 1)), 2);
        it = jv_onext(o, it);
        ck_assert_str_eq(jv_str(jv_oval(it)), "x");
        json_decref(o);
    }
    mcpc_schema_free(s);
}
END_TEST

/* ---- no network --------------------------------------------------------------------------- */

START_TEST(test_no_network)
{
    compile_fails(NULL, "{\"$ref\":\"https://example.com/schemas/thing.json\"}", NULL,
                  MCPC_ERR_NOT_FOUND, "never fetched");
    compile_fails(NULL, "{\"$ref\":\"https://example.com/schemas/thing.json\"}", NULL,
                  MCPC_ERR_NOT_FOUND, "https://example.com/schemas/thing.json");
    compile_fails(NULL, "{\"$schema\":\"https://example.com/my-dialect\"}", NULL,
                  MCPC_ERR_NOT_FOUND, "no meta-schema is registered");
    compile_fails(NULL, "{\"$ref\":\"#/$defs/missing\"}", NULL, MCPC_ERR_NOT_FOUND,
                  "names nothing");
    compile_fails(NULL, "{\"$ref\":\"#nope\"}", NULL, MCPC_ERR_NOT_FOUND, "anchor");
    /* once registered, the same reference resolves, relative ones too */
    mcpc_schema_registry *reg = mcpc_schema_registry_new();
    json_t *t = J("{\"$defs\":{\"pos\":{\"type\":\"integer\",\"minimum\":1}}}");
    ck_assert_int_eq(mcpc_schema_registry_add(reg, "https://example.com/schemas/thing.json", t),
                     MCPC_OK);
    json_decref(t);
    json_t *j = J("{\"$id\":\"https://example.com/schemas/root.json\","
                  "\"$ref\":\"thing.json#/$defs/pos\"}");
    mcpc_schema *s = NULL;
    char err[256];
    ck_assert_int_eq(mcpc_schema_compile(reg, j, NULL, NULL, &s, err, sizeof err), MCPC_OK);
    mcpc_schema_registry_free(reg);   /* the validator does not need it */
    json_decref(j);
    ck_assert_int_eq(validate_text(s, "3", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "0", NULL), MCPC_ERR_INVALID);
    mcpc_schema_free(s);
    /* the 2020-12 dialect needs no meta-schema */
    s = compile_ok("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                   "\"type\":\"string\"}", NULL);
    ck_assert_int_eq(validate_text(s, "\"x\"", NULL), MCPC_OK);
    mcpc_schema_free(s);
}
END_TEST

/* ---- fuzz entry --------------------------------------------------------------------------- */

START_TEST(test_fuzz_nasty)
{
    static const char *const inputs[] = {
        "", "{", "\n", "null\n1", "true", "false\n{}", "{\"$ref\":\"#\"}\n1",
        "{\"pattern\":\"^(a+)+$\"}\n\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"",
        "{\"pattern\":\"[\"}\n\"x\"", "{\"type\":\"nope\"}\n1",
        "{\"items\":{\"$ref\":\"#\"}}\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]",
        "{\"uniqueItems\":true}\n[1,1.0,{\"a\":[1]},{\"a\":[1.0]}]",
        "{\"multipleOf\":1e-320}\n1e308", "{\"multipleOf\":0.0001}\n0.0075",
        "{\"format\":\"date-time\"}\n\"2024-02-30T25:61:61+99:99\"",
        "{\"$dynamicRef\":\"#x\",\"$defs\":{\"a\":{\"$dynamicAnchor\":\"x\"}}}\n{}",
        "{\"unevaluatedProperties\":false,\"anyOf\":[{\"properties\":{\"a\":true}},true]}\n"
        "{\"a\":1,\"b\":2}",
        "{\"$id\":\"#frag\"}\n1", "{\"$id\":\"::::\",\"$ref\":\"../../../../x\"}\n1",
        "{\"enum\":[]}\n1", "{\"minLength\":-1}\n\"\"", "{\"properties\":[]}\n{}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        ck_assert_int_eq(mcpc_schema_fuzz_one((const uint8_t *)inputs[i], strlen(inputs[i])), 0);
    /* NUL separator, invalid UTF-8, binary junk */
    static const uint8_t nul[] = "{\"maxLength\":2}\0\"\xc3\xa9\xc3\xa9\"";
    ck_assert_int_eq(mcpc_schema_fuzz_one(nul, sizeof nul - 1), 0);
    static const uint8_t bad_utf8[] = "{\"pattern\":\"\xff\xfe\"}\n\"\xc3\"";
    ck_assert_int_eq(mcpc_schema_fuzz_one(bad_utf8, sizeof bad_utf8 - 1), 0);
    uint8_t junk[4096];
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(rand_r(&seed) % (int)sizeof junk);
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)"{}[]\":,0123456789aeflnrstu\\$#/ \n\0"[rand_r(&seed) % 34];
        ck_assert_int_eq(mcpc_schema_fuzz_one(junk, n), 0);
    }
    /* deep nesting in both halves */
    size_t dn = 3000;
    char *deep = malloc(4 * dn + 8);
    ck_assert_ptr_nonnull(deep);
    memset(deep, '[', dn);
    deep[dn] = '\n';
    memset(deep + dn + 1, '[', dn);
    memset(deep + 2 * dn + 1, ']', dn);
    ck_assert_int_eq(mcpc_schema_fuzz_one((const uint8_t *)deep, 3 * dn + 1), 0);
    free(deep);
}
END_TEST

/* ---- immutability ------------------------------------------------------------------------- */

static const char *const tool_schema =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"pattern\":\"^/\",\"minLength\":1},"
    "\"mode\":{\"enum\":[\"read\",\"write\"]},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
    "\"opts\":{\"type\":\"object\",\"properties\":{\"deep\":{\"type\":\"boolean\"}},"
    "\"additionalProperties\":false}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

static mcpc_err check_instance(const mcpc_schema *s, int i, int *want_valid)
{
    char buf[200];
    int kind = i % 4;
    *want_valid = kind < 2;
    if (kind == 0)
        snprintf(buf, sizeof buf, "{\"path\":\"/p/%d\",\"limit\":%d}", i, i % 100 + 1);
    else if (kind == 1)
        snprintf(buf, sizeof buf, "{\"path\":\"/\",\"mode\":\"read\",\"opts\":{\"deep\":true}}");
    else if (kind == 2)
        snprintf(buf, sizeof buf, "{\"path\":\"rel/%d\"}", i);
    else
        snprintf(buf, sizeof buf, "{\"path\":\"/x\",\"opts\":{\"deep\":1,\"x%d\":2}}", i);
    json_t *j = J(buf);
    mcpc_err rc = mcpc_schema_validate(s, j, NULL);
    json_decref(j);
    return rc;
}

START_TEST(test_immutable_many)
{
    mcpc_schema *s = compile_ok(tool_schema, NULL);
    mcpc_schema_errors e1, e2;
    for (int i = 0; i < 4000; i++) {
        int want;
        mcpc_err rc = check_instance(s, i, &want);
        ck_assert_msg((rc == MCPC_OK) == want, "instance %d: %s", i, mcpc_strerror(rc));
    }
    /* the same instance twice gives the same errors */
    mcpc_schema_errors_init(&e1, 0);
    mcpc_schema_errors_init(&e2, 0);
    json_t *x = J("{\"path\":\"x\",\"limit\":0,\"opts\":{\"deep\":1},\"y\":2}");
    ck_assert_int_eq(mcpc_schema_validate(s, x, &e1), MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_schema_validate(s, x, &e2), MCPC_ERR_INVALID);
    ck_assert_uint_eq(e1.count, e2.count);
    ck_assert_uint_eq(e1.count, 4);
    for (size_t i = 0; i < e1.count; i++) {
        ck_assert_str_eq(e1.items[i].instance_path, e2.items[i].instance_path);
        ck_assert_str_eq(e1.items[i].schema_path, e2.items[i].schema_path);
        ck_assert_str_eq(e1.items[i].message, e2.items[i].message);
    }
    json_decref(x);
    mcpc_schema_errors_clear(&e1);
    mcpc_schema_errors_clear(&e2);
    mcpc_schema_free(s);
}
END_TEST

static void *thread_main(void *arg)
{
    const mcpc_schema *s = arg;
    long bad = 0;
    for (int i = 0; i < 3000; i++) {
        int want;
        if ((check_instance(s, i, &want) == MCPC_OK) != want)
            bad++;
    }
    return (void *)bad;
}

START_TEST(test_immutable_threads)
{
    mcpc_schema *s = compile_ok(tool_schema, NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, s), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        ck_assert_int_eq(pthread_join(th[i], &bad), 0);
        ck_assert_ptr_null(bad);
    }
    mcpc_schema_free(s);
}
END_TEST

/* ---- MCP-flavoured schemas ---------------------------------------------------------------- */

START_TEST(test_mcp_tool_input)
{
    /* a tools/list inputSchema as servers emit them (draft-07 $schema from zod-to-json-schema) */
    mcpc_schema *s = compile_ok(
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{\"query\":{\"type\":\"string\",\"description\":\"what to find\"},"
        "\"max_results\":{\"type\":\"number\",\"default\":10},"
        "\"filters\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"field\":{\"type\":\"string\"},\"op\":{\"enum\":[\"eq\",\"ne\",\"lt\"]}},"
        "\"required\":[\"field\",\"op\"],\"additionalProperties\":false}}},"
        "\"required\":[\"query\"],\"additionalProperties\":false}", NULL);
    mcpc_schema_errors e;
    mcpc_schema_errors_init(&e, 0);
    ck_assert_int_eq(validate_text(s, "{\"query\":\"x\"}", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "{\"query\":\"x\",\"max_results\":2.5,\"filters\":"
                                      "[{\"field\":\"a\",\"op\":\"eq\"}]}", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "{\"query\":\"x\",\"filters\":[{\"field\":\"a\","
                                      "\"op\":\"like\",\"hack\":1}],\"admin\":true}", &e),
                     MCPC_ERR_INVALID);
    expect_err(&e, "/filters/0/op", "enum", "/properties/filters/items/properties/op/enum");
    expect_err(&e, "/filters/0", "additionalProperties",
               "/properties/filters/items/additionalProperties");
    expect_err(&e, "", "additionalProperties", "/additionalProperties");
    ck_assert_ptr_nonnull(strstr(e.items[find_err(&e, "", "additionalProperties")].message,
                                 "admin"));
    ck_assert_uint_eq(e.count, 3);
    mcpc_schema_errors_clear(&e);
    ck_assert_int_eq(validate_text(s, "{}", &e), MCPC_ERR_INVALID);
    expect_err(&e, "", "required", "/required");
    ck_assert_int_eq(validate_text(s, "[]", NULL), MCPC_ERR_INVALID);
    mcpc_schema_errors_clear(&e);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_mcp_output_schema_and_formats)
{
    /* structuredContent against an outputSchema; format is an annotation unless asked */
    const char *schema = "{\"type\":\"object\",\"properties\":{\"when\":{\"type\":\"string\","
                         "\"format\":\"date-time\"},\"contact\":{\"format\":\"email\"},"
                         "\"count\":{\"type\":\"integer\"}},\"required\":[\"when\"]}";
    mcpc_schema *s = compile_ok(schema, NULL);
    ck_assert_int_eq(validate_text(s, "{\"when\":\"yesterday\",\"count\":1.0}", NULL), MCPC_OK);
    mcpc_schema_free(s);
    mcpc_schema_limits lim = {0};
    lim.flags = MCPC_SCHEMA_FORMAT_ASSERT;
    s = compile_ok(schema, &lim);
    ck_assert_int_eq(validate_text(s, "{\"when\":\"yesterday\"}", NULL), MCPC_ERR_INVALID);
    ck_assert_int_eq(validate_text(s, "{\"when\":\"2025-06-18T12:00:00Z\",\"contact\":"
                                      "\"ops@example.com\",\"count\":3}", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "{\"when\":\"2025-06-18T12:00:00Z\",\"contact\":"
                                      "\"ops@@example.com\"}", NULL), MCPC_ERR_INVALID);
    ck_assert_int_eq(validate_text(s, "{\"when\":\"2025-06-18T12:00:00Z\",\"count\":1.5}",
                                   NULL), MCPC_ERR_INVALID);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_numbers)
{
    mcpc_schema *s = compile_ok("{\"multipleOf\":0.0001}", NULL);
    ck_assert_int_eq(validate_text(s, "0.0075", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "0.00751", NULL), MCPC_ERR_INVALID);
    ck_assert_int_eq(validate_text(s, "12", NULL), MCPC_OK);
    mcpc_schema_free(s);
    s = compile_ok("{\"type\":\"integer\",\"maximum\":9007199254740993}", NULL);
    ck_assert_int_eq(validate_text(s, "9007199254740993", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "9007199254740994", NULL), MCPC_ERR_INVALID);
    ck_assert_int_eq(validate_text(s, "1.0", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "1.5", NULL), MCPC_ERR_INVALID);
    mcpc_schema_free(s);
    s = compile_ok("{\"maxLength\":2}", NULL);
    ck_assert_int_eq(validate_text(s, "\"\\u00e9\\ud83d\\udc32\"", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "\"abc\"", NULL), MCPC_ERR_INVALID);
    mcpc_schema_free(s);
}
END_TEST

START_TEST(test_registry_api)
{
    mcpc_schema_registry *reg = mcpc_schema_registry_new();
    json_t *a = J("{\"type\":\"string\"}"), *b = J("{\"type\":\"integer\"}");
    ck_assert_int_eq(mcpc_schema_registry_add(reg, "", a), MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_schema_registry_add(reg, "urn:x", NULL), MCPC_ERR_INVALID);
    ck_assert_int_eq(mcpc_schema_registry_add(reg, "urn:x", a), MCPC_OK);
    ck_assert_int_eq(mcpc_schema_registry_add(reg, "urn:x#", b), MCPC_OK);   /* first wins */
    json_decref(a);
    json_decref(b);
    json_t *root = J("{\"$ref\":\"urn:x\"}");
    mcpc_schema *s = NULL;
    char err[128];
    ck_assert_int_eq(mcpc_schema_compile(reg, root, "urn:base", NULL, &s, err, sizeof err),
                     MCPC_OK);
    ck_assert_int_eq(validate_text(s, "\"s\"", NULL), MCPC_OK);
    ck_assert_int_eq(validate_text(s, "1", NULL), MCPC_ERR_INVALID);
    json_decref(root);
    mcpc_schema_free(s);
    mcpc_schema_registry_free(reg);
    mcpc_schema_registry_free(NULL);
    mcpc_schema_free(NULL);
}
END_TEST

static Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, test_errors_nested);
    tcase_add_test(tc, test_errors_ref_and_escaping);
    tcase_add_test(tc, test_errors_applicators);
    tcase_add_test(tc, test_errors_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_set_timeout(tc, 30);   /* the time bounds are asserted inside */
    tcase_add_test(tc, test_bound_deep_schema);
    tcase_add_test(tc, test_bound_deep_instance);
    tcase_add_test(tc, test_bound_ref_cycle_static);
    tcase_add_test(tc, test_bound_ref_cycle_dynamic);
    tcase_add_test(tc, test_bound_huge_anyof);
    tcase_add_test(tc, test_bound_catastrophic_regex);
    tcase_add_test(tc, test_bound_work_budget);
    tcase_add_test(tc, test_bound_regex_size);
    tcase_add_test(tc, test_regex_fast_paths_agree);
    suite_add_tcase(s, tc);

    tc = tcase_create("resolution");
    tcase_add_test(tc, test_no_network);
    tcase_add_test(tc, test_registry_api);
    tcase_add_test(tc, test_jansson_view);
    suite_add_tcase(s, tc);

    tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fuzz_nasty);
    suite_add_tcase(s, tc);

    tc = tcase_create("immutability");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_immutable_many);
    tcase_add_test(tc, test_immutable_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("mcp");
    tcase_add_test(tc, test_mcp_tool_input);
    tcase_add_test(tc, test_mcp_output_schema_and_formats);
    tcase_add_test(tc, test_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(schema_suite());
    int failed;

    json_object_seed(1);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

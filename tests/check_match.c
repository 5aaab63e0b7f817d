/* Unit tests for harness/match.c: RFC 6901 JSON Pointer lookup, the condition vocabulary of case
 * outcomes, condition validation and ${var} substitution.
 * Meant to be clean under AddressSanitizer/LeakSanitizer as well as in a plain build. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* Parse JSON text (any value); the test fails on bad text. */
static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, e.text);
    return v;
}

/* A "why" must be NUL-terminated inside its buffer, one line, valid UTF-8: it ends up in reports
 * (JSON, JUnit XML) and on the terminal. */
static void assert_why_sane(const char *why, size_t whylen)
{
    size_t n = strnlen(why, whylen);
    ck_assert_msg(n < whylen, "why not NUL-terminated inside its buffer");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)why[i];
        ck_assert_msg(c >= 0x20 && c != 0x7F, "control byte 0x%02x in why \"%s\"", c, why);
    }
    json_t *s = json_string(why);   /* jansson validates UTF-8 */
    ck_assert_msg(s != NULL, "why is not valid UTF-8: \"%s\"", why);
    json_decref(s);
}

static const char *const MSG =
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{"
    "\"a\":{\"b\":[10,{\"c\":\"deep\"}]},"
    "\"a/b\":1,\"m~n\":2,\"~1\":3,\"\":4,"
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2025-11-25\"},"
    "\"arr\":[0,1,2],\"int\":7,\"real\":7.0,\"str\":\"7\",\"t\":true,\"f\":false,\"n\":null,"
    "\"emptyA\":[],\"emptyO\":{},\"emptyS\":\"\",\"text\":\"hello world\","
    "\"tools\":[{\"name\":\"echo\",\"uri\":\"file:///x\"}],\"num\":0}}";

/* Evaluate one condition (JSON text) against ctx; returns holds, fills why. */
static int holds(const char *cond, const mcpc_match_ctx *ctx, char *why, size_t whylen)
{
    json_t *when = json_array();
    json_array_append_new(when, J(cond));
    char err[200] = "";
    /* every condition used with holds() is well-formed */
    ck_assert_msg(mcpc_match_validate(when, err, sizeof err) == MCPC_OK, "%s rejected: %s", cond, err);
    memset(why, 'Z', whylen);
    int r = mcpc_match_all(when, ctx, why, whylen);
    json_decref(when);
    assert_why_sane(why, whylen);
    return r;
}

/* The condition holds. */
static void yes(const char *cond, const mcpc_match_ctx *ctx)
{
    char why[256];
    ck_assert_msg(holds(cond, ctx, why, sizeof why) == 1, "%s should hold; why: %s", cond, why);
}

/* The condition fails and why contains `why_has` (when not NULL). */
static void no(const char *cond, const mcpc_match_ctx *ctx, const char *why_has)
{
    char why[256];
    ck_assert_msg(holds(cond, ctx, why, sizeof why) == 0, "%s should not hold", cond);
    ck_assert_msg(why[0] != '\0', "%s failed without a why", cond);
    if (why_has)
        ck_assert_msg(strstr(why, why_has) != NULL, "%s: why \"%s\" lacks \"%s\"", cond, why, why_has);
}

/* A fixture context over MSG; call ctx_free after. */
typedef struct {
    mcpc_match_ctx c;
} tctx;

static void ctx_init(tctx *t, const char *kind, const char *sent_id, const char *vars)
{
    memset(t, 0, sizeof *t);
    t->c.msg = J(MSG);
    t->c.kind = kind;
    t->c.sent_id = sent_id ? J(sent_id) : NULL;
    t->c.vars = J(vars ? vars : "{}");
    t->c.era = "2025-11-25";
}

static void ctx_free(tctx *t)
{
    json_decref(t->c.msg);
    json_decref(t->c.sent_id);
    json_decref(t->c.vars);
}

/* Validate one `when` array given as JSON text. */
static mcpc_err validate(const char *when, char *err, size_t errlen)
{
    json_t *w = J(when);
    err[0] = '\0';
    mcpc_err rc = mcpc_match_validate(w, err, errlen);
    json_decref(w);
    return rc;
}

static void valid(const char *when)
{
    char err[256];
    mcpc_err rc = validate(when, err, sizeof err);
    ck_assert_msg(rc == MCPC_OK, "%s rejected: %s", when, err);
}

static void invalid(const char *when, const char *err_has)
{
    char err[256];
    mcpc_err rc = validate(when, err, sizeof err);
    ck_assert_msg(rc == MCPC_ERR_CASE, "%s accepted (rc %d)", when, (int)rc);
    ck_assert_msg(err[0] != '\0', "%s rejected without a message", when);
    if (err_has)
        ck_assert_msg(strstr(err, err_has) != NULL, "%s: error \"%s\" lacks \"%s\"", when, err, err_has);
}

/* ---- JSON Pointer ------------------------------------------------------------------------- */

START_TEST(test_pointer_root_and_nested)
{
    json_t *m = J(MSG);
    ck_assert_ptr_eq(mcpc_pointer_get(m, ""), m);
    ck_assert_str_eq(json_string_value(mcpc_pointer_get(m, "/result/a/b/1/c")), "deep");
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/a/b/0")), 10);
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/id")), 7);
    ck_assert_ptr_eq(mcpc_pointer_get(m, "/result/a"), json_object_get(json_object_get(m, "result"), "a"));
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/arr/0")), 0);
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/arr/2")), 2);
    ck_assert(json_is_null(mcpc_pointer_get(m, "/result/n")));   /* present null is not absent */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/nope"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/a/nope/c"));
    ck_assert_ptr_null(mcpc_pointer_get(NULL, "/a"));
    ck_assert_ptr_null(mcpc_pointer_get(NULL, ""));
    json_decref(m);
}
END_TEST

START_TEST(test_pointer_escapes)
{
    json_t *m = J(MSG);
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/a~1b")), 1);
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/m~0n")), 2);
    /* "~01" is "~1" (decode ~0 after ~1, never twice) */
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/~01")), 3);
    /* "/" then empty token: the key "" */
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/")), 4);
    ck_assert_str_eq(json_string_value(mcpc_pointer_get(
                         m, "/result/_meta/io.modelcontextprotocol~1protocolVersion")),
                     "2025-11-25");
    /* unescaped '/' splits the key */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/_meta/io.modelcontextprotocol/protocolVersion"));
    /* bad escapes */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/m~2n"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/m~"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/~"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/a~b"));
    json_decref(m);
}
END_TEST

START_TEST(test_pointer_array_indexes)
{
    json_t *m = J(MSG);
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/3"));     /* out of range */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/99999999999999999999999"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/01"));    /* leading zero */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/00"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/x"));     /* not numeric */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/1x"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/-"));     /* "past the end" */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/"));      /* empty token on an array */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/-1"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/arr/1.0"));
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(m, "/result/arr/1")), 1);
    /* into a scalar */
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/int/0"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/str/0"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "/result/n/x"));
    json_decref(m);
}
END_TEST

/* regression (fixed): match.c mcpc_pointer_get() line 45-47 parses an array index with strtoul(), which
 * skips leading white space and accepts a sign, so "+1", " 1" and "-0" are taken as indexes 1, 1
 * and 0. RFC 6901 allows only "0" or [1-9][0-9]*: each of these must find nothing. */
START_TEST(test_pointer_index_strict_digits)
{
    json_t *m = J(MSG);
    json_t *plus = mcpc_pointer_get(m, "/result/arr/+1");
    json_t *space = mcpc_pointer_get(m, "/result/arr/ 1");
    json_t *neg0 = mcpc_pointer_get(m, "/result/arr/-0");
    json_t *tab = mcpc_pointer_get(m, "/result/arr/\t2");
    int ok = !plus && !space && !neg0 && !tab;
    json_decref(m);
    ck_assert_msg(ok, "non-RFC 6901 indexes accepted: \"+1\"%s \" 1\"%s \"-0\"%s \"\\t2\"%s",
                  plus ? " found" : " absent", space ? " found" : " absent", neg0 ? " found" : " absent",
                  tab ? " found" : " absent");
}
END_TEST

START_TEST(test_pointer_without_slash)
{
    json_t *m = J(MSG);
    ck_assert_ptr_null(mcpc_pointer_get(m, "result"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "result/a"));
    ck_assert_ptr_null(mcpc_pointer_get(m, "#/result"));   /* URI fragment form is not accepted */
    ck_assert_ptr_null(mcpc_pointer_get(m, "~1result"));
    json_decref(m);
}
END_TEST

START_TEST(test_pointer_long_tokens)
{
    /* the decoder uses a 256-byte token buffer: 255 bytes fit; longer must never overflow nor
     * match a truncated key */
    char k255[256], k256[257], k300[301], ptr[700];
    memset(k255, 'k', 255);
    k255[255] = '\0';
    memset(k256, 'k', 256);
    k256[256] = '\0';
    memset(k300, 'k', 300);
    k300[300] = '\0';
    json_t *o = json_object();
    json_object_set_new(o, k255, json_integer(255));
    json_object_set_new(o, k300, json_integer(300));

    snprintf(ptr, sizeof ptr, "/%s", k255);
    ck_assert_int_eq(json_integer_value(mcpc_pointer_get(o, ptr)), 255);

    /* 256 k's: no such key; must not find the 255 one */
    snprintf(ptr, sizeof ptr, "/%s", k256);
    ck_assert_ptr_null(mcpc_pointer_get(o, ptr));

    /* 300 k's: the key exists; found or (documented limit) absent, never the wrong value */
    snprintf(ptr, sizeof ptr, "/%s", k300);
    json_t *v = mcpc_pointer_get(o, ptr);
    ck_assert_msg(v == NULL || json_integer_value(v) == 300, "long token matched the wrong key");

    /* escapes that decode to something longer than the buffer: 300 × "~0" */
    char esc[700] = "/";
    for (int i = 0; i < 300; i++)
        strcat(esc, "~0");
    ck_assert_ptr_null(mcpc_pointer_get(o, esc));

    /* 255 decoded bytes from escapes ("~1" × 255) still fit */
    char slashes[256];
    memset(slashes, '/', 255);
    slashes[255] = '\0';
    json_object_set_new(o, slashes, json_string("slashes"));
    char esc2[600] = "/";
    for (int i = 0; i < 255; i++)
        strcat(esc2, "~1");
    ck_assert_str_eq(json_string_value(mcpc_pointer_get(o, esc2)), "slashes");

    /* a very long array index */
    json_t *a = json_pack("[i]", 1);
    char idx[400] = "/";
    memset(idx + 1, '1', 350);
    idx[351] = '\0';
    ck_assert_ptr_null(mcpc_pointer_get(a, idx));
    json_decref(a);
    json_decref(o);
}
END_TEST

START_TEST(test_match_var)
{
    json_t *vars = J("{\"x\":{\"k\":[1,2]},\"list\":[{\"uri\":\"file:///a\"}],\"s\":\"str\"}");
    ck_assert_ptr_eq(mcpc_match_var(vars, "x"), json_object_get(vars, "x"));
    ck_assert_int_eq(json_integer_value(mcpc_match_var(vars, "x/k/1")), 2);
    ck_assert_str_eq(json_string_value(mcpc_match_var(vars, "list/0/uri")), "file:///a");
    ck_assert_ptr_null(mcpc_match_var(vars, "nope"));
    ck_assert_ptr_null(mcpc_match_var(vars, "nope/0"));
    ck_assert_ptr_null(mcpc_match_var(vars, "x/nope"));
    ck_assert_ptr_null(mcpc_match_var(vars, "list/1/uri"));
    ck_assert_ptr_null(mcpc_match_var(vars, "s/0"));
    ck_assert_ptr_null(mcpc_match_var(NULL, "x"));
    char longname[300];
    memset(longname, 'v', 299);
    longname[299] = '\0';
    ck_assert_ptr_null(mcpc_match_var(vars, longname));   /* longer than the name buffer */
    json_decref(vars);
}
END_TEST

/* ---- conditions --------------------------------------------------------------------------- */

START_TEST(test_cond_equals)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/result/int\",\"equals\":7}", &t.c);
    yes("{\"path\":\"/result/str\",\"equals\":\"7\"}", &t.c);
    yes("{\"path\":\"/result/real\",\"equals\":7.0}", &t.c);
    yes("{\"path\":\"/result/n\",\"equals\":null}", &t.c);
    yes("{\"path\":\"/result/t\",\"equals\":true}", &t.c);
    yes("{\"path\":\"/result/a\",\"equals\":{\"b\":[10,{\"c\":\"deep\"}]}}", &t.c);
    yes("{\"path\":\"/result/emptyA\",\"equals\":[]}", &t.c);
    /* type-strict: 7, "7" and 7.0 are three different values */
    no("{\"path\":\"/result/int\",\"equals\":\"7\"}", &t.c, "/result/int is 7, not \"7\"");
    no("{\"path\":\"/result/str\",\"equals\":7}", &t.c, "\"7\"");
    no("{\"path\":\"/result/int\",\"equals\":7.0}", &t.c, "/result/int");
    no("{\"path\":\"/result/real\",\"equals\":7}", &t.c, "/result/real");
    no("{\"path\":\"/result/t\",\"equals\":1}", &t.c, NULL);
    no("{\"path\":\"/result/n\",\"equals\":false}", &t.c, NULL);
    /* absent is not null */
    no("{\"path\":\"/result/nope\",\"equals\":null}", &t.c, "(absent)");
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_present)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/result/int\",\"present\":true}", &t.c);
    yes("{\"path\":\"/result/n\",\"present\":true}", &t.c);   /* null is present */
    yes("{\"path\":\"/result/f\",\"present\":true}", &t.c);
    yes("{\"path\":\"/result/nope\",\"present\":false}", &t.c);
    yes("{\"path\":\"\",\"present\":true}", &t.c);
    no("{\"path\":\"/result/nope\",\"present\":true}", &t.c, "/result/nope is absent");
    no("{\"path\":\"/result/int\",\"present\":false}", &t.c, "/result/int is present");
    /* no message at all: nothing is present */
    json_t *msg = t.c.msg;
    t.c.msg = NULL;
    no("{\"path\":\"\",\"present\":true}", &t.c, "absent");
    yes("{\"path\":\"/id\",\"present\":false}", &t.c);
    no("{\"path\":\"/id\",\"equals\":7}", &t.c, "(absent)");
    t.c.msg = msg;
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_type)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/result/int\",\"type\":\"integer\"}", &t.c);
    yes("{\"path\":\"/result/int\",\"type\":\"number\"}", &t.c);    /* integer is a number */
    yes("{\"path\":\"/result/real\",\"type\":\"number\"}", &t.c);
    no("{\"path\":\"/result/real\",\"type\":\"integer\"}", &t.c, "not of type integer");
    no("{\"path\":\"/result/str\",\"type\":\"number\"}", &t.c, "not of type number");
    no("{\"path\":\"/result/str\",\"type\":\"integer\"}", &t.c, NULL);
    yes("{\"path\":\"/result/str\",\"type\":\"string\"}", &t.c);
    yes("{\"path\":\"/result/a\",\"type\":\"object\"}", &t.c);
    yes("{\"path\":\"/result/arr\",\"type\":\"array\"}", &t.c);
    yes("{\"path\":\"/result/t\",\"type\":\"boolean\"}", &t.c);
    yes("{\"path\":\"/result/f\",\"type\":\"boolean\"}", &t.c);
    yes("{\"path\":\"/result/n\",\"type\":\"null\"}", &t.c);
    no("{\"path\":\"/result/n\",\"type\":\"object\"}", &t.c, NULL);
    no("{\"path\":\"/result/arr\",\"type\":\"object\"}", &t.c, NULL);
    no("{\"path\":\"/result/a\",\"type\":\"array\"}", &t.c, NULL);
    no("{\"path\":\"/result/t\",\"type\":\"string\"}", &t.c, NULL);
    no("{\"path\":\"/result/nope\",\"type\":\"null\"}", &t.c, "(absent)");
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_in)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/result/str\",\"in\":[1,\"7\",null]}", &t.c);
    yes("{\"path\":\"/result/int\",\"in\":[7]}", &t.c);
    yes("{\"path\":\"/result/n\",\"in\":[null]}", &t.c);
    yes("{\"path\":\"/result/a/b/1\",\"in\":[{\"c\":\"deep\"}]}", &t.c);
    no("{\"path\":\"/result/int\",\"in\":[\"7\",7.0]}", &t.c, "not one of the accepted values");
    no("{\"path\":\"/result/int\",\"in\":[]}", &t.c, NULL);
    no("{\"path\":\"/result/nope\",\"in\":[null]}", &t.c, "(absent)");
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_contains)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/result/text\",\"contains\":\"lo wo\"}", &t.c);
    yes("{\"path\":\"/result/text\",\"contains\":\"\"}", &t.c);
    yes("{\"path\":\"/result/text\",\"contains\":\"hello world\"}", &t.c);
    no("{\"path\":\"/result/text\",\"contains\":\"Hello\"}", &t.c, "does not contain \"Hello\"");
    no("{\"path\":\"/result/text\",\"contains\":\"hello world!\"}", &t.c, NULL);
    /* only strings contain: not numbers, arrays, or absent values */
    no("{\"path\":\"/result/int\",\"contains\":\"7\"}", &t.c, NULL);
    no("{\"path\":\"/result/arr\",\"contains\":\"1\"}", &t.c, NULL);
    no("{\"path\":\"/result/nope\",\"contains\":\"\"}", &t.c, "(absent)");
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_nonempty)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/result/arr\",\"nonempty\":true}", &t.c);
    yes("{\"path\":\"/result/a\",\"nonempty\":true}", &t.c);
    yes("{\"path\":\"/result/text\",\"nonempty\":true}", &t.c);
    no("{\"path\":\"/result/emptyA\",\"nonempty\":true}", &t.c, "empty or absent");
    no("{\"path\":\"/result/emptyO\",\"nonempty\":true}", &t.c, "empty or absent");
    no("{\"path\":\"/result/emptyS\",\"nonempty\":true}", &t.c, "empty or absent");
    no("{\"path\":\"/result/nope\",\"nonempty\":true}", &t.c, "empty or absent");
    no("{\"path\":\"/result/int\",\"nonempty\":true}", &t.c, NULL);   /* a number is not a container */
    yes("{\"path\":\"/result/emptyA\",\"nonempty\":false}", &t.c);
    yes("{\"path\":\"/result/emptyO\",\"nonempty\":false}", &t.c);
    yes("{\"path\":\"/result/emptyS\",\"nonempty\":false}", &t.c);
    yes("{\"path\":\"/result/nope\",\"nonempty\":false}", &t.c);
    no("{\"path\":\"/result/arr\",\"nonempty\":false}", &t.c, "not empty");
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_equals_var)
{
    tctx t;
    ctx_init(&t, "result", "7", "{\"tool\":\"echo\",\"cap\":[{\"name\":\"echo\",\"uri\":\"file:///x\"}],"
                                "\"num\":7,\"numstr\":\"7\"}");
    yes("{\"path\":\"/result/tools/0/name\",\"equals_var\":\"tool\"}", &t.c);
    yes("{\"path\":\"/result/tools/0/uri\",\"equals_var\":\"cap/0/uri\"}", &t.c);
    yes("{\"path\":\"/result/tools\",\"equals_var\":\"cap\"}", &t.c);
    yes("{\"path\":\"/result/int\",\"equals_var\":\"num\"}", &t.c);
    no("{\"path\":\"/result/int\",\"equals_var\":\"numstr\"}", &t.c, "captured as numstr");
    no("{\"path\":\"/result/tools/0/uri\",\"equals_var\":\"cap/0/name\"}", &t.c, "cap/0/name");
    no("{\"path\":\"/result/tools/0/name\",\"equals_var\":\"never\"}", &t.c, "never");
    no("{\"path\":\"/result/tools/0/name\",\"equals_var\":\"cap/5/name\"}", &t.c, NULL);
    no("{\"path\":\"/result/nope\",\"equals_var\":\"tool\"}", &t.c, "(absent)");
    /* no vars object at all */
    json_t *vars = t.c.vars;
    t.c.vars = NULL;
    no("{\"path\":\"/result/tools/0/name\",\"equals_var\":\"tool\"}", &t.c, NULL);
    t.c.vars = vars;
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_equals_sent_id)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"path\":\"/id\",\"equals_sent_id\":true}", &t.c);
    no("{\"path\":\"/id\",\"equals_sent_id\":false}", &t.c, "the request id sent was 7");
    no("{\"path\":\"/result/real\",\"equals_sent_id\":true}", &t.c, NULL);   /* 7.0 is not 7 */
    ctx_free(&t);

    /* sent "7", got 7: different ids */
    ctx_init(&t, "result", "\"7\"", NULL);
    no("{\"path\":\"/id\",\"equals_sent_id\":true}", &t.c, "/id is 7; the request id sent was \"7\"");
    yes("{\"path\":\"/id\",\"equals_sent_id\":false}", &t.c);
    yes("{\"path\":\"/result/str\",\"equals_sent_id\":true}", &t.c);
    ctx_free(&t);

    /* nothing sent: never equal */
    ctx_init(&t, "result", NULL, NULL);
    no("{\"path\":\"/id\",\"equals_sent_id\":true}", &t.c, "(absent)");
    yes("{\"path\":\"/id\",\"equals_sent_id\":false}", &t.c);
    ctx_free(&t);

    /* absent id */
    ctx_init(&t, "result", "7", NULL);
    no("{\"path\":\"/nope\",\"equals_sent_id\":true}", &t.c, "/nope is (absent)");
    ctx_free(&t);
}
END_TEST

START_TEST(test_cond_kind_and_era)
{
    tctx t;
    ctx_init(&t, "result", "7", NULL);
    yes("{\"kind\":\"result\"}", &t.c);
    no("{\"kind\":\"error\"}", &t.c, "message kind is result, not error");
    /* kind names are case-sensitive: a mis-cased one is refused when the case file is loaded */
    invalid("[{\"kind\":\"Result\"}]", "unknown kind name");
    yes("{\"era\":\"2025-11-25\"}", &t.c);
    no("{\"era\":\"2026-07-28\"}", &t.c, "era is 2025-11-25, not 2026-07-28");
    t.c.kind = NULL;   /* no message */
    no("{\"kind\":\"result\"}", &t.c, "message kind is (none), not result");
    t.c.kind = "notification";
    yes("{\"kind\":\"notification\"}", &t.c);
    t.c.era = "2026-07-28";
    yes("{\"era\":\"2026-07-28\"}", &t.c);
    ctx_free(&t);
}
END_TEST

START_TEST(test_match_all_many)
{
    tctx t;
    char why[256];
    ctx_init(&t, "result", "7", NULL);
    json_t *when = J("[{\"kind\":\"result\"},{\"path\":\"/id\",\"equals_sent_id\":true},"
                     "{\"path\":\"/result/arr\",\"nonempty\":true},{\"era\":\"2025-11-25\"}]");
    memset(why, 'Z', sizeof why);
    ck_assert_int_eq(mcpc_match_all(when, &t.c, why, sizeof why), 1);
    ck_assert_str_eq(why, "");   /* cleared when everything holds */
    json_decref(when);

    /* the first failing condition names itself; later ones are not evaluated */
    when = J("[{\"kind\":\"result\"},{\"path\":\"/result/int\",\"equals\":8},{\"kind\":\"error\"}]");
    ck_assert_int_eq(mcpc_match_all(when, &t.c, why, sizeof why), 0);
    ck_assert_msg(strstr(why, "/result/int is 7, not 8") != NULL, "why \"%s\"", why);
    json_decref(when);

    /* empty array: vacuously true */
    when = J("[]");
    ck_assert_int_eq(mcpc_match_all(when, &t.c, why, sizeof why), 1);
    json_decref(when);
    ctx_free(&t);
}
END_TEST

START_TEST(test_why_fits_small_buffers)
{
    tctx t;
    ctx_init(&t, "result", "\"a-rather-long-request-identifier-0123456789\"", NULL);
    const char *conds[] = {
        "{\"path\":\"/result/a\",\"equals\":{\"x\":\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"}}",
        "{\"path\":\"/result/nope\",\"present\":true}",
        "{\"path\":\"/result/text\",\"type\":\"integer\"}",
        "{\"path\":\"/result/text\",\"in\":[1,2,3]}",
        "{\"path\":\"/result/text\",\"contains\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
        "{\"path\":\"/result/emptyA\",\"nonempty\":true}",
        "{\"path\":\"/result/text\",\"equals_var\":\"some_variable_name\"}",
        "{\"path\":\"/id\",\"equals_sent_id\":true}",
        "{\"kind\":\"notification\"}",
        "{\"era\":\"2026-07-28\"}",
    };
    size_t sizes[] = {1, 2, 8, 24, 64};
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            char buf[80];
            memset(buf, 'Z', sizeof buf);
            json_t *when = json_array();
            json_array_append_new(when, J(conds[i]));
            ck_assert_int_eq(mcpc_match_all(when, &t.c, buf, sizes[z]), 0);
            json_decref(when);
            ck_assert_msg(strnlen(buf, sizes[z]) < sizes[z], "%s: why overflows %zu bytes", conds[i], sizes[z]);
            ck_assert_msg(buf[sizes[z]] == 'Z', "%s: wrote past a %zu-byte why", conds[i], sizes[z]);
        }
    }
    /* whylen 0: nothing is written */
    char one = 'Z';
    json_t *when = J("[{\"kind\":\"error\"}]");
    ck_assert_int_eq(mcpc_match_all(when, &t.c, &one, 0), 0);
    ck_assert_int_eq(one, 'Z');
    json_decref(when);
    ctx_free(&t);
}
END_TEST

START_TEST(test_why_long_value_cut)
{
    tctx t;
    char why[512];
    ctx_init(&t, "result", "7", NULL);
    json_decref(t.c.msg);
    char *big = malloc(5001);
    memset(big, 'v', 5000);
    big[5000] = '\0';
    t.c.msg = json_pack("{s:s}", "v", big);
    free(big);
    ck_assert_int_eq(holds("{\"path\":\"/v\",\"equals\":\"w\"}", &t.c, why, sizeof why), 0);
    ck_assert_msg(strlen(why) < 300, "a 5000-byte value was not cut in why (%zu bytes)", strlen(why));
    ck_assert_msg(strstr(why, "…") != NULL, "cut value has no ellipsis: \"%s\"", why);
    ctx_free(&t);
}
END_TEST

/* regression (fixed): match.c mcpc_match_show() line 76 cuts the dumped value with "%.100s", i.e. at a
 * byte count, so a non-ASCII value can be cut inside a UTF-8 sequence. The resulting `why` is not
 * valid UTF-8 (json_string() refuses it), yet step.c copies it into the report's "arrived" text.
 * Input: a string of 98 'a' followed by "é…", shown as '"' + 98 'a' + the first byte of 'é'. */
START_TEST(test_why_cut_keeps_utf8)
{
    tctx t;
    char why[512];
    ctx_init(&t, "result", "7", NULL);
    json_decref(t.c.msg);
    char val[300];
    memset(val, 'a', 98);
    strcpy(val + 98, "\xc3\xa9\xc3\xa9\xc3\xa9 and more text after the cut");
    t.c.msg = json_pack("{s:s}", "v", val);
    json_t *when = J("[{\"path\":\"/v\",\"equals\":\"w\"}]");
    int r = mcpc_match_all(when, &t.c, why, sizeof why);
    json_decref(when);
    json_t *s = json_string(why);
    int utf8_ok = s != NULL;
    json_decref(s);
    ctx_free(&t);
    ck_assert_int_eq(r, 0);
    ck_assert_msg(utf8_ok, "why (%zu bytes) is not valid UTF-8 after the 100-byte cut", strlen(why));
}
END_TEST

/* ---- validation --------------------------------------------------------------------------- */

START_TEST(test_validate_good)
{
    valid("[]");
    valid("[{\"path\":\"/id\",\"equals\":7}]");
    valid("[{\"path\":\"/id\",\"equals\":null}]");
    valid("[{\"path\":\"/id\",\"equals\":{\"a\":[1]}}]");
    valid("[{\"path\":\"\",\"present\":true}]");
    valid("[{\"path\":\"/x\",\"present\":false}]");
    valid("[{\"path\":\"/x\",\"type\":\"integer\"}]");
    valid("[{\"path\":\"/x\",\"type\":\"number\"}]");
    valid("[{\"path\":\"/x\",\"in\":[]}]");
    valid("[{\"path\":\"/x\",\"in\":[1,\"a\",null]}]");
    valid("[{\"path\":\"/x\",\"contains\":\"abc\"}]");
    valid("[{\"path\":\"/x\",\"nonempty\":true}]");
    valid("[{\"path\":\"/x\",\"equals_var\":\"v/0/uri\"}]");
    valid("[{\"path\":\"/id\",\"equals_sent_id\":true}]");
    valid("[{\"kind\":\"result\"}]");
    valid("[{\"era\":\"2025-11-25\"}]");
    valid("[{\"kind\":\"error\"},{\"path\":\"/error/code\",\"equals\":-32602},{\"era\":\"2026-07-28\"}]");
    valid("[{\"path\":\"/_meta/io.modelcontextprotocol~1protocolVersion\",\"present\":true}]");
}
END_TEST

START_TEST(test_validate_bad_shapes)
{
    char err[256];
    invalid("{\"path\":\"/x\",\"present\":true}", "array");   /* not an array */
    invalid("\"when\"", "array");
    invalid("null", "array");
    ck_assert_int_eq(mcpc_match_validate(NULL, err, sizeof err), MCPC_ERR_CASE);
    invalid("[\"/x\"]", "condition 0 is not an object");
    invalid("[[]]", "condition 0");
    invalid("[{\"kind\":\"result\"},7]", "condition 1 is not an object");
    invalid("[{}]", "condition 0");
    invalid("[{\"path\":\"/x\",\"equal\":7}]", "unknown key \"equal\"");
    invalid("[{\"path\":\"/x\",\"present\":true,\"comment\":\"x\"}]", "unknown key \"comment\"");
    invalid("[{\"path\":\"/x\",\"equals\":7,\"present\":true}]", "exactly one test");
    invalid("[{\"path\":\"/x\",\"in\":[1],\"contains\":\"1\"}]", "condition 0");
    invalid("[{\"path\":\"/x\"}]", "exactly one test");
    invalid("[{\"equals\":7}]", "condition 0");                  /* test without path */
    invalid("[{\"kind\":\"result\",\"path\":\"/x\"}]", "condition 0");
    invalid("[{\"kind\":\"result\",\"path\":\"/x\",\"present\":true}]", "condition 0");
    invalid("[{\"kind\":\"result\",\"equals\":7}]", "condition 0");
    invalid("[{\"kind\":\"result\",\"era\":\"2025-11-25\"}]", "condition 0");
    invalid("[{\"era\":\"2025-11-25\",\"path\":\"/x\"}]", "condition 0");
    invalid("[{\"kind\":\"result\"},{\"path\":\"/x\"}]", "condition 1");
    /* path form */
    invalid("[{\"path\":\"x\",\"present\":true}]", "JSON Pointer");
    invalid("[{\"path\":7,\"present\":true}]", "JSON Pointer");
    invalid("[{\"path\":null,\"present\":true}]", "JSON Pointer");
    /* the error text fits any buffer */
    char tiny[6];
    memset(tiny, 'Z', sizeof tiny);
    json_t *w = J("[{\"path\":\"/x\",\"equal\":7}]");
    ck_assert_int_eq(mcpc_match_validate(w, tiny, 5), MCPC_ERR_CASE);
    ck_assert_uint_lt(strnlen(tiny, 5), 5);
    ck_assert_int_eq(tiny[5], 'Z');
    json_decref(w);
}
END_TEST

START_TEST(test_validate_bad_types)
{
    invalid("[{\"kind\":7}]", "kind must be a string");
    invalid("[{\"kind\":null}]", "kind must be a string");
    invalid("[{\"era\":[\"2025-11-25\"]}]", "era must be a string");
    invalid("[{\"path\":\"/x\",\"present\":\"yes\"}]", "boolean");
    invalid("[{\"path\":\"/x\",\"present\":1}]", "boolean");
    invalid("[{\"path\":\"/x\",\"present\":null}]", "boolean");
    invalid("[{\"path\":\"/x\",\"nonempty\":1}]", "boolean");
    invalid("[{\"path\":\"/x\",\"nonempty\":\"true\"}]", "boolean");
    invalid("[{\"path\":\"/x\",\"equals_sent_id\":\"true\"}]", "boolean");
    invalid("[{\"path\":\"/x\",\"equals_sent_id\":0}]", "boolean");
    invalid("[{\"path\":\"/x\",\"in\":1}]", "in takes an array");
    invalid("[{\"path\":\"/x\",\"in\":{\"a\":1}}]", "in takes an array");
    invalid("[{\"path\":\"/x\",\"in\":\"abc\"}]", "in takes an array");
    invalid("[{\"path\":\"/x\",\"type\":7}]", "take a string");
    invalid("[{\"path\":\"/x\",\"type\":[\"string\"]}]", "take a string");
    invalid("[{\"path\":\"/x\",\"contains\":7}]", "take a string");
    invalid("[{\"path\":\"/x\",\"contains\":null}]", "take a string");
    invalid("[{\"path\":\"/x\",\"equals_var\":7}]", "take a string");
    invalid("[{\"path\":\"/x\",\"equals_var\":{}}]", "take a string");
    /* a bad one after good ones is still found */
    invalid("[{\"kind\":\"result\"},{\"path\":\"/x\",\"present\":true},{\"path\":\"/y\",\"in\":7}]",
            "condition 2");
}
END_TEST

/* regression (fixed): match.c mcpc_match_validate() (line 241-245) only checks that "type" is a string,
 * not that it names a type; mcpc_match_type_name() knows object, array, string, integer, number,
 * boolean, null. A case file typo such as {"type":"int"} or {"type":"bool"} is accepted and the
 * condition then silently never holds (nor ever fails for the right reason). */
START_TEST(test_validate_type_names)
{
    const char *good[] = {"object", "array", "string", "integer", "number", "boolean", "null"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char when[128];
        snprintf(when, sizeof when, "[{\"path\":\"/x\",\"type\":\"%s\"}]", good[i]);
        valid(when);
    }
    invalid("[{\"path\":\"/x\",\"type\":\"int\"}]", "type");
    invalid("[{\"path\":\"/x\",\"type\":\"bool\"}]", "type");
    invalid("[{\"path\":\"/x\",\"type\":\"\"}]", "type");
}
END_TEST

/* ---- substitution ------------------------------------------------------------------------- */

static json_t *subst_vars(void)
{
    return J("{\"x\":{\"k\":[1,2]},\"list\":[{\"uri\":\"file:///a\"}],\"s\":\"str\",\"n\":5,\"nul\":null}");
}

START_TEST(test_subst_replaces)
{
    json_t *vars = subst_vars();
    char err[200] = "";
    json_t *tmpl = J("{\"a\":\"${x}\",\"b\":[\"${list/0/uri}\",{\"c\":\"${n}\",\"d\":[\"${s}\"]}],"
                     "\"e\":\"${nul}\",\"f\":\"${x/k/1}\",\"keep\":{\"h\":3,\"i\":null,\"j\":true,\"k\":1.5}}");
    json_t *want = J("{\"a\":{\"k\":[1,2]},\"b\":[\"file:///a\",{\"c\":5,\"d\":[\"str\"]}],"
                     "\"e\":null,\"f\":2,\"keep\":{\"h\":3,\"i\":null,\"j\":true,\"k\":1.5}}");
    json_t *got = mcpc_match_subst(tmpl, vars, err, sizeof err);
    ck_assert_msg(got != NULL, "subst failed: %s", err);
    ck_assert_msg(json_equal(got, want), "subst result differs");
    /* a copy, not a share: changing the result leaves the variables and template alone */
    json_t *a = json_object_get(got, "a");
    ck_assert_ptr_ne(a, json_object_get(vars, "x"));
    json_object_set_new(a, "changed", json_true());
    ck_assert_ptr_null(json_object_get(json_object_get(vars, "x"), "changed"));
    ck_assert_ptr_ne(got, tmpl);
    ck_assert_str_eq(json_string_value(json_object_get(tmpl, "a")), "${x}");
    json_decref(got);
    json_decref(want);
    json_decref(tmpl);

    /* a bare string template */
    json_t *str = json_string("${n}");
    got = mcpc_match_subst(str, vars, err, sizeof err);
    ck_assert_int_eq(json_integer_value(got), 5);
    json_decref(got);
    json_decref(str);
    /* scalars copy through */
    json_t *num = json_integer(42);
    got = mcpc_match_subst(num, vars, err, sizeof err);
    ck_assert(json_equal(got, num));
    json_decref(got);
    json_decref(num);
    json_decref(vars);
}
END_TEST

START_TEST(test_subst_leaves_non_exact)
{
    json_t *vars = subst_vars();
    char err[200] = "";
    json_t *tmpl = J("[\"a ${x} b\",\"${x} b\",\"a ${x}\",\"${\",\"${}\",\"$x\",\"{x}\",\"$\",\"\","
                     "\"${x\",\"$ {x}\",\"x}\"]");
    json_t *got = mcpc_match_subst(tmpl, vars, err, sizeof err);
    ck_assert_msg(got != NULL, "subst failed: %s", err);
    ck_assert_msg(json_equal(got, tmpl), "a string not exactly ${name} was changed");
    json_decref(got);
    json_decref(tmpl);
    json_decref(vars);
}
END_TEST

/* regression (fixed): match.c mcpc_match_subst() line 268 treats any string that starts with "${" and
 * ends with "}" as one reference, so "${x}-${s}" (not of the exact form "${name}" the header
 * promises) is looked up as the variable "x}-${s", and the whole substitution fails with
 * "variable x}-${s was never captured" instead of leaving the string untouched. */
START_TEST(test_subst_two_refs_untouched)
{
    json_t *vars = subst_vars();
    char err[200] = "";
    json_t *tmpl = J("{\"uri\":\"${x}-${s}\"}");
    json_t *got = mcpc_match_subst(tmpl, vars, err, sizeof err);
    int same = got && json_equal(got, tmpl);
    json_decref(got);
    json_decref(tmpl);
    json_decref(vars);
    ck_assert_msg(same, "\"${x}-${s}\" was not left as it is (err: %s)", err);
}
END_TEST

START_TEST(test_subst_missing)
{
    json_t *vars = subst_vars();
    char err[200] = "";
    json_t *tmpl = J("{\"a\":1,\"b\":[2,{\"c\":\"${nope}\"}]}");
    ck_assert_ptr_null(mcpc_match_subst(tmpl, vars, err, sizeof err));
    ck_assert_msg(strstr(err, "nope") != NULL, "err \"%s\" does not name the variable", err);
    json_decref(tmpl);

    err[0] = '\0';
    tmpl = J("[\"${list/3/uri}\"]");   /* the variable exists, the pointer into it does not */
    ck_assert_ptr_null(mcpc_match_subst(tmpl, vars, err, sizeof err));
    ck_assert_msg(strstr(err, "list/3/uri") != NULL, "err \"%s\"", err);
    json_decref(tmpl);

    /* a small err buffer is never overrun */
    char tiny[8];
    memset(tiny, 'Z', sizeof tiny);
    tmpl = J("\"${a_very_long_missing_variable_name}\"");
    ck_assert_ptr_null(mcpc_match_subst(tmpl, vars, tiny, 7));
    ck_assert_uint_lt(strnlen(tiny, 7), 7);
    ck_assert_int_eq(tiny[7], 'Z');
    json_decref(tmpl);

    /* no vars at all */
    tmpl = J("\"${x}\"");
    ck_assert_ptr_null(mcpc_match_subst(tmpl, NULL, err, sizeof err));
    json_decref(tmpl);
    json_decref(vars);
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

static Suite *match_suite(void)
{
    Suite *s = suite_create("match");
    TCase *tc;

    tc = tcase_create("pointer");
    tcase_add_test(tc, test_pointer_root_and_nested);
    tcase_add_test(tc, test_pointer_escapes);
    tcase_add_test(tc, test_pointer_array_indexes);
    tcase_add_test(tc, test_pointer_index_strict_digits);
    tcase_add_test(tc, test_pointer_without_slash);
    tcase_add_test(tc, test_pointer_long_tokens);
    tcase_add_test(tc, test_match_var);
    suite_add_tcase(s, tc);

    tc = tcase_create("conditions");
    tcase_add_test(tc, test_cond_equals);
    tcase_add_test(tc, test_cond_present);
    tcase_add_test(tc, test_cond_type);
    tcase_add_test(tc, test_cond_in);
    tcase_add_test(tc, test_cond_contains);
    tcase_add_test(tc, test_cond_nonempty);
    tcase_add_test(tc, test_cond_equals_var);
    tcase_add_test(tc, test_cond_equals_sent_id);
    tcase_add_test(tc, test_cond_kind_and_era);
    tcase_add_test(tc, test_match_all_many);
    tcase_add_test(tc, test_why_fits_small_buffers);
    tcase_add_test(tc, test_why_long_value_cut);
    tcase_add_test(tc, test_why_cut_keeps_utf8);
    suite_add_tcase(s, tc);

    tc = tcase_create("validate");
    tcase_add_test(tc, test_validate_good);
    tcase_add_test(tc, test_validate_bad_shapes);
    tcase_add_test(tc, test_validate_bad_types);
    tcase_add_test(tc, test_validate_type_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("subst");
    tcase_add_test(tc, test_subst_replaces);
    tcase_add_test(tc, test_subst_leaves_non_exact);
    tcase_add_test(tc, test_subst_two_refs_untouched);
    tcase_add_test(tc, test_subst_missing);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(match_suite());
    int failed;

    json_object_seed(1);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

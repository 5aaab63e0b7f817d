/* Unit tests for harness/jsonrpc.c: strict parsing, classification, builders, dumping.
 * Meant to be clean under AddressSanitizer/LeakSanitizer as well as in a plain build. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonrpc.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* A reason must be one line of valid UTF-8 that fits the buffer: reports put it in JSON. */
static void assert_reason_sane(const mcpc_msg *m)
{
    size_t n = strnlen(m->reason, sizeof m->reason);
    ck_assert_msg(n < sizeof m->reason, "reason not NUL-terminated");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)m->reason[i];
        ck_assert_msg(c >= 0x20 && c != 0x7F, "control byte 0x%02x in reason \"%s\"", c,
                      m->reason);
    }
    json_t *s = json_string(m->reason);   /* jansson validates UTF-8 */
    ck_assert_msg(s != NULL, "reason is not valid UTF-8: \"%s\"", m->reason);
    json_decref(s);
}

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Malloc'd string of n copies of unit. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *p = malloc(u * n + 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        memcpy(p + i * u, unit, u);
    p[u * n] = '\0';
    return p;
}

/* Malloc'd concatenation of a, b, c. */
static char *cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *p = malloc(la + lb + lc + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, a, la);
    memcpy(p + la, b, lb);
    memcpy(p + la + lb, c, lc + 1);
    return p;
}

/* A result message whose result is an array nested `arrays` deep: total depth arrays + 1. */
static char *nested_result(size_t arrays)
{
    char *open = repeat("[", arrays), *close = repeat("]", arrays);
    char *mid = cat3(open, "", close);
    char *msg = cat3("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":", mid, "}");
    free(open);
    free(close);
    free(mid);
    return msg;
}

/* ---- table of vectors --------------------------------------------------------------------- */

struct vec {
    const char *name;
    const char *in;
    size_t len;
    mcpc_err rc;
    mcpc_msg_kind kind;
    int rpc_code;
    const char *reason_has;   /* substring expected in reason, or NULL */
};

#define OKV(name, s, kind) { name, s, sizeof(s) - 1, MCPC_OK, kind, 0, NULL }
#define BAD(name, s, sub) \
    { name, s, sizeof(s) - 1, MCPC_ERR_INVALID, MCPC_MSG_INVALID, -32600, sub }
#define NOTJSON(name, s, sub) \
    { name, s, sizeof(s) - 1, MCPC_ERR_PARSE, MCPC_MSG_INVALID, -32700, sub }

#define J "\"jsonrpc\":\"2.0\""

static const struct vec vecs[] = {
    /* valid requests */
    OKV("req string id", "{" J ",\"id\":\"abc\",\"method\":\"tools/list\"}", MCPC_MSG_REQUEST),
    OKV("req int id", "{" J ",\"id\":42,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}",
        MCPC_MSG_REQUEST),
    OKV("req id 0", "{" J ",\"id\":0,\"method\":\"ping\"}", MCPC_MSG_REQUEST),
    OKV("req negative id", "{" J ",\"id\":-7,\"method\":\"ping\"}", MCPC_MSG_REQUEST),
    OKV("req empty string id", "{" J ",\"id\":\"\",\"method\":\"ping\"}", MCPC_MSG_REQUEST),
    OKV("req int64 max id", "{" J ",\"id\":9223372036854775807,\"method\":\"ping\"}",
        MCPC_MSG_REQUEST),
    OKV("req params array", "{" J ",\"id\":1,\"method\":\"m\",\"params\":[1,2]}",
        MCPC_MSG_REQUEST),
    OKV("req member order", "{\"method\":\"m\",\"id\":1," J "}", MCPC_MSG_REQUEST),
    OKV("req surrogate pair", "{" J ",\"id\":1,\"method\":\"\\ud83d\\ude00\"}",
        MCPC_MSG_REQUEST),
    OKV("req utf8 method", "{" J ",\"id\":1,\"method\":\"caf\xc3\xa9\"}", MCPC_MSG_REQUEST),
    OKV("req surrounding whitespace", " \t{" J ",\"id\":1,\"method\":\"m\"}\r\n",
        MCPC_MSG_REQUEST),
    /* valid notifications */
    OKV("notification", "{" J ",\"method\":\"notifications/initialized\"}",
        MCPC_MSG_NOTIFICATION),
    OKV("notification params",
        "{" J ",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}",
        MCPC_MSG_NOTIFICATION),
    /* valid results */
    OKV("result", "{" J ",\"id\":1,\"result\":{}}", MCPC_MSG_RESULT),
    OKV("result string id", "{" J ",\"id\":\"x\",\"result\":{\"a\":[1]}}", MCPC_MSG_RESULT),
    OKV("result null value", "{" J ",\"id\":1,\"result\":null}", MCPC_MSG_RESULT),
    /* valid errors */
    OKV("error with id", "{" J ",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no\"}}",
        MCPC_MSG_ERROR),
    OKV("error without id", "{" J ",\"error\":{\"code\":-32700,\"message\":\"parse\"}}",
        MCPC_MSG_ERROR),
    OKV("error with data",
        "{" J ",\"id\":\"a\",\"error\":{\"code\":1,\"message\":\"\",\"data\":[null]}}",
        MCPC_MSG_ERROR),
    OKV("error data null", "{" J ",\"id\":2,\"error\":{\"code\":1,\"message\":\"m\",\"data\":null}}",
        MCPC_MSG_ERROR),

    /* ids */
    BAD("null id request", "{" J ",\"id\":null,\"method\":\"m\"}", "\"id\""),
    BAD("null id result", "{" J ",\"id\":null,\"result\":{}}", "null"),
    /* plain JSON-RPC's null id on an error is classified; MCP's schema check flags it later */
    OKV("null id error", "{" J ",\"id\":null,\"error\":{\"code\":1,\"message\":\"m\"}}", MCPC_MSG_ERROR),
    BAD("1.5 id", "{" J ",\"id\":1.5,\"method\":\"m\"}", "real"),
    BAD("1.0 id", "{" J ",\"id\":1.0,\"method\":\"m\"}", "real"),
    BAD("1e3 id", "{" J ",\"id\":1e3,\"method\":\"m\"}", "real"),
    BAD("true id", "{" J ",\"id\":true,\"method\":\"m\"}", "true"),
    BAD("false id", "{" J ",\"id\":false,\"result\":{}}", "false"),
    BAD("object id", "{" J ",\"id\":{},\"method\":\"m\"}", "object"),
    BAD("array id", "{" J ",\"id\":[1],\"method\":\"m\"}", "array"),
    /* top level */
    BAD("batch", "[{" J ",\"id\":1,\"method\":\"m\"}]", "batches are not accepted"),
    BAD("empty batch", "[]", "batches are not accepted"),
    BAD("top-level number", "42", "object"),
    BAD("top-level string", "\"hi\"", "object"),
    BAD("top-level null", "null", "object"),
    BAD("empty object", "{}", "jsonrpc"),
    /* jsonrpc member */
    BAD("jsonrpc 1.0", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}", "2.0"),
    BAD("jsonrpc missing", "{\"id\":1,\"method\":\"m\"}", "missing \"jsonrpc\""),
    BAD("jsonrpc number", "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"m\"}", "real"),
    BAD("jsonrpc 2.00", "{\"jsonrpc\":\"2.00\",\"id\":1,\"method\":\"m\"}", "2.0"),
    BAD("jsonrpc trailing space", "{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"m\"}", "2.0"),
    BAD("jsonrpc null", "{\"jsonrpc\":null,\"id\":1,\"method\":\"m\"}", "jsonrpc"),
    /* method */
    BAD("method 42", "{" J ",\"id\":1,\"method\":42}", "\"method\" must be a string"),
    BAD("method null", "{" J ",\"method\":null}", "\"method\" must be a string"),
    BAD("method+result", "{" J ",\"id\":1,\"method\":\"m\",\"result\":{}}", "result"),
    BAD("method+error", "{" J ",\"id\":1,\"method\":\"m\",\"error\":{\"code\":1,\"message\":\"x\"}}",
        "error"),
    /* params */
    BAD("params string", "{" J ",\"id\":1,\"method\":\"m\",\"params\":\"x\"}", "params"),
    BAD("params number", "{" J ",\"method\":\"m\",\"params\":3}", "params"),
    BAD("params null", "{" J ",\"id\":1,\"method\":\"m\",\"params\":null}", "params"),
    BAD("params without method", "{" J ",\"id\":1,\"params\":{},\"result\":{}}", "params"),
    /* responses */
    BAD("result+error", "{" J ",\"id\":1,\"result\":{},\"error\":{\"code\":1,\"message\":\"m\"}}",
        "both"),
    BAD("neither", "{" J ",\"id\":1}", "no \"method\""),
    BAD("only jsonrpc", "{" J "}", "no \"method\""),
    BAD("result without id", "{" J ",\"result\":{}}", "id"),
    BAD("error string", "{" J ",\"id\":1,\"error\":\"boom\"}", "object"),
    BAD("error without code", "{" J ",\"id\":1,\"error\":{\"message\":\"m\"}}", "code"),
    BAD("error string code", "{" J ",\"id\":1,\"error\":{\"code\":\"-32600\",\"message\":\"m\"}}",
        "code"),
    BAD("error real code", "{" J ",\"id\":1,\"error\":{\"code\":-32600.0,\"message\":\"m\"}}",
        "code"),
    BAD("error fractional code", "{" J ",\"id\":1,\"error\":{\"code\":1.5,\"message\":\"m\"}}",
        "code"),
    BAD("error without message", "{" J ",\"id\":1,\"error\":{\"code\":1}}", "message"),
    BAD("error numeric message", "{" J ",\"id\":1,\"error\":{\"code\":1,\"message\":7}}",
        "message"),
    /* extra members */
    BAD("extra member", "{" J ",\"id\":1,\"method\":\"m\",\"foo\":1}", "\"foo\""),
    BAD("extra member case", "{" J ",\"Id\":1,\"method\":\"m\"}", "\"Id\""),
    BAD("extra _meta at top", "{" J ",\"method\":\"m\",\"_meta\":{}}", "\"_meta\""),
    BAD("extra member newline name", "{" J ",\"method\":\"m\",\"a\\nb\":1}", "a?b"),

    /* not JSON */
    NOTJSON("empty input", "", "empty"),
    NOTJSON("whitespace only", "  \n", "not JSON"),
    NOTJSON("duplicate top-level key", "{" J ",\"id\":1,\"id\":2,\"method\":\"m\"}", "duplicate"),
    NOTJSON("duplicate jsonrpc key", "{" J "," J ",\"id\":1,\"method\":\"m\"}", "duplicate"),
    NOTJSON("duplicate nested key",
            "{" J ",\"id\":1,\"method\":\"m\",\"params\":{\"a\":1,\"a\":2}}", "duplicate"),
    NOTJSON("duplicate key in error",
            "{" J ",\"id\":1,\"error\":{\"code\":1,\"code\":2,\"message\":\"m\"}}", "duplicate"),
    NOTJSON("invalid utf8 0xff", "{" J ",\"id\":1,\"method\":\"a\xff\"}", "0xff"),
    NOTJSON("invalid utf8 overlong", "{" J ",\"id\":1,\"method\":\"\xc0\xaf\"}", "decode"),
    NOTJSON("invalid utf8 surrogate bytes", "{" J ",\"id\":1,\"method\":\"\xed\xa0\x80\"}",
            "decode"),
    NOTJSON("invalid utf8 truncated", "{" J ",\"id\":1,\"method\":\"\xe2\x82\"}", "decode"),
    NOTJSON("invalid utf8 in key", "{" J ",\"id\":1,\"\xfe\":1,\"method\":\"m\"}", "decode"),
    NOTJSON("lone high surrogate", "{" J ",\"id\":1,\"method\":\"\\ud800\"}", "Unicode"),
    NOTJSON("lone low surrogate", "{" J ",\"id\":1,\"method\":\"\\udc00\"}", "Unicode"),
    NOTJSON("high surrogate then letter", "{" J ",\"id\":1,\"method\":\"\\ud800x\"}", "Unicode"),
    NOTJSON("escaped NUL", "{" J ",\"id\":1,\"method\":\"a\\u0000b\"}", "u0000"),
    NOTJSON("raw NUL after object", "{" J ",\"id\":1,\"method\":\"m\"}\0", "not JSON"),
    NOTJSON("raw newline in string", "{" J ",\"id\":1,\"method\":\"a\nb\"}", "newline"),
    NOTJSON("trailing garbage", "{" J ",\"id\":1,\"method\":\"m\"} x", "end of file expected"),
    NOTJSON("two objects", "{" J ",\"method\":\"m\"}{" J ",\"method\":\"m\"}", "end of file"),
    NOTJSON("truncated", "{" J ",\"id\":1,\"method\":", "not JSON"),
    NOTJSON("single quotes", "{'jsonrpc':'2.0'}", "not JSON"),
    NOTJSON("trailing comma", "{" J ",\"method\":\"m\",}", "not JSON"),
    NOTJSON("integer overflow id", "{" J ",\"id\":99999999999999999999,\"method\":\"m\"}",
            "too big integer"),
    NOTJSON("NaN", "{" J ",\"id\":1,\"result\":NaN}", "not JSON"),
};

#define NVECS ((int)(sizeof vecs / sizeof vecs[0]))

START_TEST(test_vector)
{
    const struct vec *v = &vecs[_i];
    mcpc_msg m;
    mcpc_err rc = mcpc_jsonrpc_parse(v->in, v->len, 0, &m);

    ck_assert_msg(rc == v->rc, "[%s] rc %d, want %d (reason: %s)", v->name, rc, v->rc,
                  m.reason);
    ck_assert_msg(m.kind == v->kind, "[%s] kind %s, want %s", v->name,
                  mcpc_msg_kind_name(m.kind), mcpc_msg_kind_name(v->kind));
    ck_assert_msg(m.rpc_code == v->rpc_code, "[%s] rpc_code %d, want %d", v->name, m.rpc_code,
                  v->rpc_code);
    assert_reason_sane(&m);
    if (v->rc == MCPC_OK) {
        ck_assert_msg(m.reason[0] == '\0', "[%s] reason set on valid message", v->name);
        ck_assert_ptr_nonnull(m.root);
    } else {
        ck_assert_msg(m.reason[0] != '\0', "[%s] empty reason", v->name);
        ck_assert_msg(strstr(m.reason, v->reason_has) != NULL, "[%s] reason \"%s\" lacks \"%s\"",
                      v->name, m.reason, v->reason_has);
        ck_assert_ptr_null(m.method);
        ck_assert_ptr_null(m.params);
        ck_assert_ptr_null(m.result);
        ck_assert_ptr_null(m.error);
        /* -32600 keeps the parsed value so the caller can read the id; -32700 has none */
        if (v->rc == MCPC_ERR_PARSE)
            ck_assert_ptr_null(m.root);
        else
            ck_assert_ptr_nonnull(m.root);
    }
    switch (m.kind) {
    case MCPC_MSG_REQUEST:
        ck_assert_ptr_nonnull(m.id);
        ck_assert_ptr_nonnull(m.method);
        break;
    case MCPC_MSG_NOTIFICATION:
        ck_assert_ptr_null(m.id);
        ck_assert_ptr_nonnull(m.method);
        break;
    case MCPC_MSG_RESULT:
        ck_assert_ptr_nonnull(m.id);
        ck_assert_ptr_nonnull(m.result);
        ck_assert_ptr_null(m.method);
        ck_assert_ptr_null(m.error);
        break;
    case MCPC_MSG_ERROR:
        ck_assert_ptr_nonnull(m.error);
        ck_assert_ptr_null(m.method);
        ck_assert_ptr_null(m.result);
        break;
    case MCPC_MSG_INVALID:
        break;
    }
    mcpc_msg_clear(&m);
    ck_assert_ptr_null(m.root);
}
END_TEST

/* ---- field contents ----------------------------------------------------------------------- */

START_TEST(test_request_fields)
{
    static const char in[] = "{" J ",\"id\":42,\"method\":\"tools/call\",\"params\":{\"n\":1}}";
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(in, sizeof in - 1, 0, &m), MCPC_OK);
    ck_assert_int_eq(m.kind, MCPC_MSG_REQUEST);
    ck_assert(json_is_integer(m.id));
    ck_assert_int_eq(json_integer_value(m.id), 42);
    ck_assert_str_eq(m.method, "tools/call");
    ck_assert(json_is_object(m.params));
    ck_assert_int_eq(json_integer_value(json_object_get(m.params, "n")), 1);
    ck_assert_ptr_eq(m.id, json_object_get(m.root, "id"));   /* borrowed from root */
    ck_assert_int_eq(m.root->refcount, 1);
    mcpc_msg_clear(&m);
}
END_TEST

START_TEST(test_error_fields)
{
    static const char in[] = "{" J ",\"error\":{\"code\":-32700,\"message\":\"bad\"}}";
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(in, sizeof in - 1, 0, &m), MCPC_OK);
    ck_assert_int_eq(m.kind, MCPC_MSG_ERROR);
    ck_assert_ptr_null(m.id);
    ck_assert_int_eq(json_integer_value(json_object_get(m.error, "code")), -32700);
    mcpc_msg_clear(&m);
}
END_TEST

/* An invalid message keeps its root, and a readable id, so a -32600 reply can be addressed. */
START_TEST(test_invalid_keeps_id)
{
    static const char in[] = "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"m\"}";
    static const char in2[] = "{" J ",\"id\":\"r1\",\"method\":\"m\",\"params\":5}";
    static const char in3[] = "{" J ",\"id\":1.5,\"method\":\"m\"}";
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(in, sizeof in - 1, 0, &m), MCPC_ERR_INVALID);
    ck_assert_ptr_nonnull(m.root);
    ck_assert_ptr_nonnull(m.id);
    ck_assert_int_eq(json_integer_value(m.id), 7);
    mcpc_msg_clear(&m);

    ck_assert_int_eq(mcpc_jsonrpc_parse(in2, sizeof in2 - 1, 0, &m), MCPC_ERR_INVALID);
    ck_assert_str_eq(json_string_value(m.id), "r1");
    mcpc_msg_clear(&m);

    /* an unusable id is not exposed as out->id, but is still in the root */
    ck_assert_int_eq(mcpc_jsonrpc_parse(in3, sizeof in3 - 1, 0, &m), MCPC_ERR_INVALID);
    ck_assert_ptr_null(m.id);
    ck_assert(json_is_real(json_object_get(m.root, "id")));
    mcpc_msg_clear(&m);
}
END_TEST

/* jansson's position reaches the reason, and raw control bytes never do. */
START_TEST(test_reason_text)
{
    static const char dup[] = "{\"a\":1,\"a\":2}";
    static const char ctl[] = "{\"jsonrpc\":\"2.0\\n\\u0001\",\"method\":\"m\"}";
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(dup, sizeof dup - 1, 0, &m), MCPC_ERR_PARSE);
    ck_assert_msg(strstr(m.reason, "byte 10") != NULL, "no position in \"%s\"", m.reason);
    mcpc_msg_clear(&m);

    ck_assert_int_eq(mcpc_jsonrpc_parse(ctl, sizeof ctl - 1, 0, &m), MCPC_ERR_INVALID);
    ck_assert_msg(strstr(m.reason, "\"2.0??\"") != NULL, "reason \"%s\"", m.reason);
    assert_reason_sane(&m);
    mcpc_msg_clear(&m);
}
END_TEST

/* A long multi-byte member name is truncated on a character boundary. */
START_TEST(test_reason_truncation)
{
    for (size_t pad = 0; pad < 4; pad++) {
        char *name = repeat("\xe2\x82\xac", 200);          /* 200 x U+20AC, 600 bytes */
        char *pfx = repeat("x", pad);                     /* shift the cut point */
        char *key = cat3(pfx, name, "");
        char *head = cat3("{" J ",\"method\":\"m\",\"", key, "\":1}");
        mcpc_msg m;

        ck_assert_int_eq(mcpc_jsonrpc_parse(head, strlen(head), 0, &m), MCPC_ERR_INVALID);
        ck_assert_int_eq(m.rpc_code, -32600);
        ck_assert(strlen(m.reason) < sizeof m.reason);
        ck_assert(strlen(m.reason) > 100);
        assert_reason_sane(&m);
        mcpc_msg_clear(&m);
        free(name);
        free(pfx);
        free(key);
        free(head);
    }
}
END_TEST

/* ---- depth -------------------------------------------------------------------------------- */

/* 100 000 nested arrays are refused by the byte scan, fast, without reaching jansson. */
START_TEST(test_depth_100k)
{
    char *in = repeat("[", 100000);
    mcpc_msg m;
    double t0 = now_s();
    mcpc_err rc = mcpc_jsonrpc_parse(in, 100000, 0, &m);
    double dt = now_s() - t0;

    ck_assert_int_eq(rc, MCPC_ERR_PARSE);
    ck_assert_int_eq(m.kind, MCPC_MSG_INVALID);
    ck_assert_int_eq(m.rpc_code, -32700);
    ck_assert_ptr_null(m.root);
    ck_assert_msg(strstr(m.reason, "depth bound of 64") != NULL, "reason \"%s\"", m.reason);
    ck_assert_msg(dt < 0.5, "took %.3f s", dt);
    mcpc_msg_clear(&m);
    free(in);
}
END_TEST

/* A million levels of objects, closed properly: still linear and still refused. */
START_TEST(test_depth_1m_objects)
{
    char *open = repeat("{\"a\":", 1000000), *close = repeat("}", 1000000);
    char *in = cat3(open, "1", close);
    mcpc_msg m;
    double t0 = now_s();
    mcpc_err rc = mcpc_jsonrpc_parse(in, strlen(in), 0, &m);
    double dt = now_s() - t0;

    ck_assert_int_eq(rc, MCPC_ERR_PARSE);
    ck_assert_int_eq(m.rpc_code, -32700);
    ck_assert_msg(strstr(m.reason, "depth") != NULL, "reason \"%s\"", m.reason);
    ck_assert_msg(dt < 1.0, "took %.3f s", dt);
    mcpc_msg_clear(&m);
    free(open);
    free(close);
    free(in);
}
END_TEST

/* Depth counts the top-level object: 1 + 63 arrays = 64 is allowed, 1 + 64 is not. */
START_TEST(test_depth_at_bound)
{
    char *at = nested_result(MCPC_JSONRPC_DEFAULT_MAX_DEPTH - 1);
    char *over = nested_result(MCPC_JSONRPC_DEFAULT_MAX_DEPTH);
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(at, strlen(at), 0, &m), MCPC_OK);
    ck_assert_int_eq(m.kind, MCPC_MSG_RESULT);
    mcpc_msg_clear(&m);
    ck_assert_int_eq(mcpc_jsonrpc_parse(at, strlen(at), 64, &m), MCPC_OK);
    mcpc_msg_clear(&m);

    ck_assert_int_eq(mcpc_jsonrpc_parse(over, strlen(over), 0, &m), MCPC_ERR_PARSE);
    ck_assert_int_eq(m.rpc_code, -32700);
    ck_assert_ptr_null(m.root);
    ck_assert_msg(strstr(m.reason, "depth bound of 64") != NULL, "reason \"%s\"", m.reason);
    mcpc_msg_clear(&m);

    /* a larger explicit bound admits it */
    ck_assert_int_eq(mcpc_jsonrpc_parse(over, strlen(over), 65, &m), MCPC_OK);
    mcpc_msg_clear(&m);
    free(at);
    free(over);
}
END_TEST

START_TEST(test_depth_small_bounds)
{
    static const char d2[] = "{" J ",\"id\":1,\"result\":{}}";
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(d2, sizeof d2 - 1, 1, &m), MCPC_ERR_PARSE);
    ck_assert_msg(strstr(m.reason, "depth bound of 1") != NULL, "reason \"%s\"", m.reason);
    mcpc_msg_clear(&m);
    ck_assert_int_eq(mcpc_jsonrpc_parse(d2, sizeof d2 - 1, 2, &m), MCPC_OK);
    mcpc_msg_clear(&m);
}
END_TEST

/* Brackets inside strings do not count, including after an escaped quote. */
START_TEST(test_depth_strings)
{
    char *br = repeat("[{", 200);
    char *in1 = cat3("{" J ",\"id\":1,\"result\":{\"s\":\"", br, "\"}}");
    char *in2 = cat3("{" J ",\"id\":1,\"result\":{\"s\":\"\\\"", br, "\\\\\"}}");
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(in1, strlen(in1), 0, &m), MCPC_OK);
    mcpc_msg_clear(&m);
    ck_assert_int_eq(mcpc_jsonrpc_parse(in2, strlen(in2), 0, &m), MCPC_OK);
    mcpc_msg_clear(&m);
    free(br);
    free(in1);
    free(in2);
}
END_TEST

/* An escaped backslash ends in a real closing quote: the nesting after it must count. */
START_TEST(test_depth_escaped_backslash)
{
    char *o62 = repeat("[", 62), *c62 = repeat("]", 62);
    char *o63 = repeat("[", 63), *c63 = repeat("]", 63);
    char *mid_ok = cat3(o62, "", c62), *mid_over = cat3(o63, "", c63);
    /* 1 (object) + 1 (array) + n nested arrays */
    char *ok = cat3("{" J ",\"id\":1,\"result\":[\"\\\\\",", mid_ok, "]}");
    char *over = cat3("{" J ",\"id\":1,\"result\":[\"\\\\\",", mid_over, "]}");
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(ok, strlen(ok), 0, &m), MCPC_OK);
    mcpc_msg_clear(&m);
    ck_assert_int_eq(mcpc_jsonrpc_parse(over, strlen(over), 0, &m), MCPC_ERR_PARSE);
    ck_assert_msg(strstr(m.reason, "depth") != NULL, "reason \"%s\"", m.reason);
    mcpc_msg_clear(&m);
    free(o62); free(c62); free(o63); free(c63);
    free(mid_ok); free(mid_over); free(ok); free(over);
}
END_TEST

/* Above jansson's own limit (2048) the bound is jansson's, still a parse error. */
START_TEST(test_depth_jansson_limit)
{
    char *in = nested_result(3000);
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_parse(in, strlen(in), 5000, &m), MCPC_ERR_PARSE);
    ck_assert_int_eq(m.rpc_code, -32700);
    ck_assert_ptr_null(m.root);
    assert_reason_sane(&m);
    mcpc_msg_clear(&m);
    free(in);
}
END_TEST

/* ---- classify ----------------------------------------------------------------------------- */

START_TEST(test_classify)
{
    json_t *v = json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", 3, "method", "ping");
    json_t *arr = json_array();
    mcpc_msg m;

    ck_assert_int_eq(mcpc_jsonrpc_classify(v, &m), MCPC_OK);
    ck_assert_int_eq(m.kind, MCPC_MSG_REQUEST);
    ck_assert_ptr_eq(m.root, v);
    ck_assert_int_eq(v->refcount, 2);         /* classify took its own reference */
    mcpc_msg_clear(&m);
    ck_assert_int_eq(v->refcount, 1);

    ck_assert_int_eq(mcpc_jsonrpc_classify(arr, &m), MCPC_ERR_INVALID);
    ck_assert_int_eq(m.rpc_code, -32600);
    ck_assert_ptr_eq(m.root, arr);
    ck_assert_int_eq(arr->refcount, 2);
    ck_assert(strstr(m.reason, "batches are not accepted") != NULL);
    mcpc_msg_clear(&m);
    ck_assert_int_eq(arr->refcount, 1);

    /* classify sees values parse would never produce, such as an id built as a real */
    json_object_set_new(v, "id", json_real(3.0));
    ck_assert_int_eq(mcpc_jsonrpc_classify(v, &m), MCPC_ERR_INVALID);
    mcpc_msg_clear(&m);

    ck_assert_int_eq(mcpc_jsonrpc_classify(NULL, &m), MCPC_ERR_INVALID);
    ck_assert_int_eq(m.kind, MCPC_MSG_INVALID);
    ck_assert_ptr_null(m.root);
    mcpc_msg_clear(&m);

    json_decref(v);
    json_decref(arr);
}
END_TEST

START_TEST(test_clear_zeroed)
{
    mcpc_msg m;
    memset(&m, 0, sizeof m);
    mcpc_msg_clear(&m);
    mcpc_msg_clear(&m);
    mcpc_msg_clear(NULL);
    ck_assert_ptr_null(m.root);
}
END_TEST

/* ---- builders ----------------------------------------------------------------------------- */

START_TEST(test_builder_refcounts)
{
    json_t *id = json_integer(7), *params = json_object(), *result = json_object();
    json_t *data = json_string("d");
    json_t *req, *note, *res, *err;

    req = mcpc_jsonrpc_request(id, "tools/list", params);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(id->refcount, 2);
    ck_assert_int_eq(params->refcount, 2);
    ck_assert_ptr_eq(json_object_get(req, "params"), params);   /* shared, not copied */

    note = mcpc_jsonrpc_notification("notifications/initialized", params);
    ck_assert_int_eq(params->refcount, 3);

    res = mcpc_jsonrpc_result(id, result);
    ck_assert_int_eq(id->refcount, 3);
    ck_assert_int_eq(result->refcount, 2);

    err = mcpc_jsonrpc_error(id, -32601, "Method not found", data);
    ck_assert_int_eq(id->refcount, 4);
    ck_assert_int_eq(data->refcount, 2);

    json_decref(req);
    json_decref(note);
    json_decref(res);
    json_decref(err);
    ck_assert_int_eq(id->refcount, 1);
    ck_assert_int_eq(params->refcount, 1);
    ck_assert_int_eq(result->refcount, 1);
    ck_assert_int_eq(data->refcount, 1);
    json_decref(id);
    json_decref(params);
    json_decref(result);
    json_decref(data);
}
END_TEST

START_TEST(test_builder_shapes)
{
    json_t *id = json_string("a");
    json_t *n = mcpc_jsonrpc_notification("m", NULL);
    json_t *e = mcpc_jsonrpc_error(NULL, -32700, "Parse error", NULL);
    json_t *r = mcpc_jsonrpc_request(id, "m", NULL);

    ck_assert_str_eq(json_string_value(json_object_get(n, "jsonrpc")), "2.0");
    ck_assert_ptr_null(json_object_get(n, "params"));
    ck_assert_ptr_null(json_object_get(n, "id"));
    ck_assert_ptr_null(json_object_get(r, "params"));
    ck_assert_ptr_null(json_object_get(e, "id"));          /* omitted, never null */
    ck_assert_ptr_null(json_object_get(json_object_get(e, "error"), "data"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(e, "error"), "code")),
                     -32700);
    ck_assert_int_eq(json_object_size(r), 3);

    /* required arguments */
    ck_assert_ptr_null(mcpc_jsonrpc_request(NULL, "m", NULL));
    ck_assert_ptr_null(mcpc_jsonrpc_request(id, NULL, NULL));
    ck_assert_ptr_null(mcpc_jsonrpc_notification(NULL, NULL));
    ck_assert_ptr_null(mcpc_jsonrpc_result(NULL, id));
    ck_assert_ptr_null(mcpc_jsonrpc_result(id, NULL));
    ck_assert_ptr_null(mcpc_jsonrpc_error(id, 1, NULL, NULL));
    ck_assert_int_eq(id->refcount, 2);                      /* failed builds kept nothing */

    json_decref(n);
    json_decref(e);
    json_decref(r);
    json_decref(id);
}
END_TEST

/* ---- dump and round trip ------------------------------------------------------------------ */

/* Dump with a newline, check the framing, parse back, compare. Consumes msg. */
static void round_trip(json_t *msg, mcpc_msg_kind kind)
{
    size_t len = 0;
    char *s;
    mcpc_msg m;

    ck_assert_ptr_nonnull(msg);
    s = mcpc_jsonrpc_dump(msg, 1, &len);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(len, strlen(s));
    ck_assert_uint_gt(len, 1);
    ck_assert_msg(s[len - 1] == '\n', "no trailing newline: %s", s);
    ck_assert_msg(memchr(s, '\n', len - 1) == NULL, "embedded newline: %s", s);
    ck_assert_msg(memchr(s, '\r', len) == NULL, "embedded CR: %s", s);
    ck_assert_msg(strstr(s, ": ") == NULL && strstr(s, ", ") == NULL, "not compact: %s", s);

    ck_assert_int_eq(mcpc_jsonrpc_parse(s, len, 0, &m), MCPC_OK);
    ck_assert_int_eq(m.kind, kind);
    ck_assert(json_equal(m.root, msg));
    ck_assert(json_equal(m.id, json_object_get(msg, "id")) ||
              (m.id == NULL && json_object_get(msg, "id") == NULL));
    if (m.method)
        ck_assert_str_eq(m.method, json_string_value(json_object_get(msg, "method")));
    else
        ck_assert_ptr_null(json_object_get(msg, "method"));
    mcpc_msg_clear(&m);
    free(s);
    json_decref(msg);
}

START_TEST(test_round_trip)
{
    json_t *sid = json_string("req-\n1"), *iid = json_integer(-3);
    json_t *params = json_pack("{s:s, s:{s:s}}", "name", "echo", "arguments", "text",
                               "line1\nline2\r\x01\xe2\x80\xa8 \"q\" \\");
    json_t *result = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", "a\nb");
    json_t *data = json_pack("[i, n]", 1);

    round_trip(mcpc_jsonrpc_request(sid, "tools/call", params), MCPC_MSG_REQUEST);
    round_trip(mcpc_jsonrpc_request(iid, "tools/list", NULL), MCPC_MSG_REQUEST);
    round_trip(mcpc_jsonrpc_notification("notifications/progress", params),
               MCPC_MSG_NOTIFICATION);
    round_trip(mcpc_jsonrpc_result(iid, result), MCPC_MSG_RESULT);
    round_trip(mcpc_jsonrpc_error(sid, -32602, "Invalid\nparams", data), MCPC_MSG_ERROR);
    round_trip(mcpc_jsonrpc_error(NULL, -32700, "Parse error", NULL), MCPC_MSG_ERROR);

    ck_assert_int_eq(sid->refcount, 1);
    ck_assert_int_eq(params->refcount, 1);
    json_decref(sid);
    json_decref(iid);
    json_decref(params);
    json_decref(result);
    json_decref(data);
}
END_TEST

START_TEST(test_dump_no_newline)
{
    json_t *msg = mcpc_jsonrpc_notification("m", NULL);
    size_t len = 99;
    char *s = mcpc_jsonrpc_dump(msg, 0, &len);

    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"method\":\"m\"}");
    ck_assert_uint_eq(len, strlen(s));
    free(s);

    s = mcpc_jsonrpc_dump(msg, 1, NULL);                  /* len_out is optional */
    ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\n");
    free(s);

    ck_assert_ptr_null(mcpc_jsonrpc_dump(NULL, 1, &len));
    ck_assert_uint_eq(len, 0);
    json_decref(msg);
}
END_TEST

/* A large value goes through the growing buffer intact. */
START_TEST(test_dump_large)
{
    char *text = repeat("0123456789abcdef", 4096);      /* 64 KiB */
    json_t *id = json_integer(1);
    json_t *result = json_pack("{s:s}", "text", text);
    json_t *msg = mcpc_jsonrpc_result(id, result);
    size_t len;
    char *s = mcpc_jsonrpc_dump(msg, 1, &len);
    mcpc_msg m;

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_gt(len, 65536);
    ck_assert_int_eq(mcpc_jsonrpc_parse(s, len, 0, &m), MCPC_OK);
    ck_assert_str_eq(json_string_value(json_object_get(m.result, "text")), text);
    mcpc_msg_clear(&m);
    free(s);
    json_decref(msg);
    json_decref(result);
    json_decref(id);
    free(text);
}
END_TEST

START_TEST(test_kind_names)
{
    ck_assert_str_eq(mcpc_msg_kind_name(MCPC_MSG_INVALID), "invalid");
    ck_assert_str_eq(mcpc_msg_kind_name(MCPC_MSG_REQUEST), "request");
    ck_assert_str_eq(mcpc_msg_kind_name(MCPC_MSG_NOTIFICATION), "notification");
    ck_assert_str_eq(mcpc_msg_kind_name(MCPC_MSG_RESULT), "result");
    ck_assert_str_eq(mcpc_msg_kind_name(MCPC_MSG_ERROR), "error");
    ck_assert_str_eq(mcpc_msg_kind_name((mcpc_msg_kind)99), "unknown");
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

static Suite *jsonrpc_suite(void)
{
    Suite *s = suite_create("jsonrpc");
    TCase *tc;

    tc = tcase_create("vectors");
    tcase_add_loop_test(tc, test_vector, 0, NVECS);
    suite_add_tcase(s, tc);

    tc = tcase_create("fields");
    tcase_add_test(tc, test_request_fields);
    tcase_add_test(tc, test_error_fields);
    tcase_add_test(tc, test_invalid_keeps_id);
    tcase_add_test(tc, test_reason_text);
    tcase_add_test(tc, test_reason_truncation);
    suite_add_tcase(s, tc);

    tc = tcase_create("depth");
    tcase_set_timeout(tc, 30);               /* the time bounds are asserted inside */
    tcase_add_test(tc, test_depth_100k);
    tcase_add_test(tc, test_depth_1m_objects);
    tcase_add_test(tc, test_depth_at_bound);
    tcase_add_test(tc, test_depth_small_bounds);
    tcase_add_test(tc, test_depth_strings);
    tcase_add_test(tc, test_depth_escaped_backslash);
    tcase_add_test(tc, test_depth_jansson_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("classify");
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_clear_zeroed);
    suite_add_tcase(s, tc);

    tc = tcase_create("builders");
    tcase_add_test(tc, test_builder_refcounts);
    tcase_add_test(tc, test_builder_shapes);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_dump_no_newline);
    tcase_add_test(tc, test_dump_large);
    tcase_add_test(tc, test_kind_names);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jsonrpc_suite());
    int failed;

    json_object_seed(1);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

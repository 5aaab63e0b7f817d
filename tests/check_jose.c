/* Unit tests for harness/b64url.c, harness/jcs.c and harness/jose.c: strict base64url, RFC 8785
 * canonicalization (its published vectors), RFC 7638/8037/7515 JOSE vectors, sign/verify round
 * trips, every malformed token of the AUTH-04/TOK-03 batteries refused for the right reason, and
 * the claim checks. No I/O. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "hex.h"
#include "jcs.h"
#include "jose.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(v != NULL, "test JSON does not parse: %s (%s)", e.text, text);
    return v;
}

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Decode a b64url string the test knows to be valid. New buffer. */
static unsigned char *b64d(const char *s, size_t *len)
{
    unsigned char *out = NULL;
    ck_assert_int_eq(mcpc_b64url_decode(s, strlen(s), &out, len), MCPC_OK);
    return out;
}

/* ---- base64url ---------------------------------------------------------------------------- */

START_TEST(test_b64url_rfc4648)
{
    /* RFC 4648 section 10, in the URL alphabet without padding */
    static const struct { const char *in, *out; } v[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *e = mcpc_b64url_encode((const unsigned char *)v[i].in, strlen(v[i].in));
        unsigned char *d = NULL;
        size_t n = 0;
        ck_assert_str_eq(e, v[i].out);
        ck_assert_uint_eq(mcpc_b64url_encoded_len(strlen(v[i].in)), strlen(v[i].out));
        ck_assert_int_eq(mcpc_b64url_decode(e, strlen(e), &d, &n), MCPC_OK);
        ck_assert_uint_eq(n, strlen(v[i].in));
        ck_assert_mem_eq(d, v[i].in, n);
        ck_assert_int_eq(d[n], 0);
        free(e);
        free(d);
    }
    /* the two characters that differ from standard Base64 */
    {
        const unsigned char b[] = {0xfb, 0xff};
        char *e = mcpc_b64url_encode(b, 2);
        ck_assert_str_eq(e, "-_8");
        free(e);
    }
}
END_TEST

START_TEST(test_b64url_round_trip)
{
    unsigned char buf[300];
    uint32_t x = 12345;
    for (size_t n = 0; n <= sizeof buf; n++) {
        char *e;
        unsigned char *d = NULL;
        size_t dn = 0;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (unsigned char)(x >> 16);
        }
        e = mcpc_b64url_encode(buf, n);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(strlen(e), mcpc_b64url_encoded_len(n));
        ck_assert_ptr_null(strpbrk(e, "+/="));
        ck_assert_int_eq(mcpc_b64url_decode(e, strlen(e), &d, &dn), MCPC_OK);
        ck_assert_uint_eq(dn, n);
        if (n)
            ck_assert_mem_eq(d, buf, n);
        free(e);
        free(d);
    }
}
END_TEST

START_TEST(test_b64url_strict_refusals)
{
    static const char *bad[] = {
        "Zg==", "Zg=", "Zm9v=", "=Zm9", /* padding anywhere */
        "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v\t", "Zm9v\r\n", /* whitespace */
        "Zm+v", "Zm/v", "Zm9v!", "Zm9v.", "Zm9\xc3\xa9", /* outside the alphabet */
        "Z", "Zm9vY", /* length 1 mod 4 */
        "Zh", "Zm9", "Zm9vYh", "AB", "AAB", /* unused low bits set: non-canonical */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *d = (unsigned char *)"x";
        size_t n = 7;
        ck_assert_msg(mcpc_b64url_decode(bad[i], strlen(bad[i]), &d, &n) == MCPC_ERR_INVALID,
                      "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(d);
        ck_assert_uint_eq(n, 0);
    }
    /* an embedded NUL is not a base64url character either */
    {
        unsigned char *d = NULL;
        size_t n = 0;
        ck_assert_int_eq(mcpc_b64url_decode("Zm\0v", 4, &d, &n), MCPC_ERR_INVALID);
    }
    /* canonical forms of the same lengths are fine */
    {
        unsigned char *d = NULL;
        size_t n = 0;
        ck_assert_int_eq(mcpc_b64url_decode("Zg", 2, &d, &n), MCPC_OK);
        free(d);
        ck_assert_int_eq(mcpc_b64url_decode("AAA", 3, &d, &n), MCPC_OK);
        ck_assert_uint_eq(n, 2);
        free(d);
    }
}
END_TEST

/* ---- JCS: numbers ------------------------------------------------------------------------- */

/* RFC 8785 Appendix B, Table 1: the IEEE 754 bits and the expected serialization (NULL: NaN or
 * Infinity, which must be an error). */
static const struct { uint64_t bits; const char *json; } appendix_b[] = {
    {0x0000000000000000, "0"},
    {0x8000000000000000, "0"},
    {0x0000000000000001, "5e-324"},
    {0x8000000000000001, "-5e-324"},
    {0x7fefffffffffffff, "1.7976931348623157e+308"},
    {0xffefffffffffffff, "-1.7976931348623157e+308"},
    {0x4340000000000000, "9007199254740992"},
    {0xc340000000000000, "-9007199254740992"},
    {0x4430000000000000, "295147905179352830000"},
    {0x7fffffffffffffff, NULL},
    {0x7ff0000000000000, NULL},
    {0x44b52d02c7e14af5, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6, "1e+23"},
    {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4e, "999999999999999700000"},
    {0x444b1ae4d6e2ef4f, "999999999999999900000"},
    {0x444b1ae4d6e2ef50, "1e+21"},
    {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8d, "0.000001"},
    {0x41b3de4355555553, "333333333.3333332"},
    {0x41b3de4355555554, "333333333.33333325"},
    {0x41b3de4355555555, "333333333.3333333"},
    {0x41b3de4355555556, "333333333.3333334"},
    {0x41b3de4355555557, "333333333.33333343"},
    {0xbecbf647612f3696, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959, "1424953923781206.2"}, /* round to even */
};

START_TEST(test_jcs_appendix_b)
{
    for (size_t i = 0; i < sizeof appendix_b / sizeof appendix_b[0]; i++) {
        char out[32];
        int n = mcpc_jcs_number(from_bits(appendix_b[i].bits), out);
        if (!appendix_b[i].json) {
            ck_assert_int_eq(n, -1);
            ck_assert_str_eq(out, "");
            continue;
        }
        ck_assert_msg(strcmp(out, appendix_b[i].json) == 0, "%016llx: got %s, want %s",
                      (unsigned long long)appendix_b[i].bits, out, appendix_b[i].json);
        ck_assert_int_eq(n, (int)strlen(appendix_b[i].json));
    }
    /* the other non-finite values */
    {
        char out[32];
        ck_assert_int_eq(mcpc_jcs_number(-INFINITY, out), -1);
        ck_assert_int_eq(mcpc_jcs_number(from_bits(0xfff8000000000000), out), -1);
    }
}
END_TEST

START_TEST(test_jcs_number_ranges)
{
    /* ECMAScript's switch points between plain and exponent notation */
    static const struct { double d; const char *json; } v[] = {
        {1e21, "1e+21"}, {1e20, "100000000000000000000"}, {123e18, "123000000000000000000"},
        {1e-6, "0.000001"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"}, {0.1, "0.1"}, {-0.5, "-0.5"},
        {1.5e300, "1.5e+300"}, {2.5e-300, "2.5e-300"}, {1, "1"}, {-1, "-1"}, {10, "10"},
        {0.000123, "0.000123"}, {123.456, "123.456"}, {4.5, "4.5"}, {1e30, "1e+30"},
        {2e-3, "0.002"}, {1e-27, "1e-27"}, {5e-324, "5e-324"}, {2.2250738585072014e-308,
        "2.2250738585072014e-308"}, {0.30000000000000004, "0.30000000000000004"},
        {9007199254740993.0, "9007199254740992"}, {1.7976931348623157e308,
        "1.7976931348623157e+308"}, {100, "100"}, {1e15, "1000000000000000"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[32];
        mcpc_jcs_number(v[i].d, out);
        ck_assert_msg(strcmp(out, v[i].json) == 0, "%.17g: got %s, want %s", v[i].d, out,
                      v[i].json);
    }
}
END_TEST

START_TEST(test_jcs_number_round_trip)
{
    /* whatever the double, the text reads back to it; a deterministic sweep of bit patterns */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        char out[32];
        double d;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d = from_bits(x);
        if (!isfinite(d))
            continue;
        ck_assert_int_gt(mcpc_jcs_number(d, out), 0);
        ck_assert_msg(strtod(out, NULL) == d || (d == 0 && strcmp(out, "0") == 0),
                      "%016llx -> %s does not read back", (unsigned long long)x, out);
        ck_assert_ptr_null(strchr(out, 'E'));
    }
}
END_TEST

START_TEST(test_jcs_integers_as_doubles)
{
    static const struct { json_int_t i; const char *json; } v[] = {
        {0, "0"}, {-1, "-1"}, {42, "42"},
        {9007199254740991LL, "9007199254740991"},  /* 2^53 - 1: exact */
        {9007199254740993LL, "9007199254740992"},  /* 2^53 + 1: the double is 2^53 */
        {INT64_MAX, "9223372036854776000"},        /* 2^63 as ECMAScript prints it */
        {INT64_MIN, "-9223372036854776000"},
        {1000000000000000000LL, "1000000000000000000"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        json_t *j = json_integer(v[i].i);
        char *s = mcpc_jcs_dump(j, NULL);
        ck_assert_str_eq(s, v[i].json);
        free(s);
        json_decref(j);
    }
    {
        json_t *j = json_real(-0.0);
        char *s = mcpc_jcs_dump(j, NULL);
        ck_assert_str_eq(s, "0");
        free(s);
        json_decref(j);
    }
}
END_TEST

/* ---- JCS: structure and strings ----------------------------------------------------------- */

START_TEST(test_jcs_rfc_example)
{
    /* RFC 8785 section 3.2.2's input; 3.2.3's output, as 3.2.4's UTF-8 bytes */
    static const char input[] =
        "{\n"
        "  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
        "              2e-3, 0.000000000000000000000000001],\n"
        "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
        "  \"literals\": [null, true, false]\n"
        "}";
    static const char hex[] =
        "7b226c69746572616c73223a5b6e756c6c2c7472"
        "75652c66616c73655d2c226e756d62657273223a"
        "5b3333333333333333332e333333333333332c31"
        "652b33302c342e352c302e3030322c31652d3237"
        "5d2c22737472696e67223a22e282ac245c753030"
        "30665c6e4127425c225c5c5c5c5c222f227d";
    json_t *v = parse(input);
    size_t len = 0;
    char *s = mcpc_jcs_dump(v, &len);
    char *h;
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(len, strlen(s));
    h = malloc(2 * len + 1);
    mcpc_hex_encode((const unsigned char *)s, len, h);
    ck_assert_str_eq(h, hex);
    ck_assert_str_eq(s, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,"
                        "0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    free(h);
    free(s);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_sorting_utf16)
{
    /* RFC 8785 section 3.2.3's sorting vector: a non-BMP name (U+1F600, UTF-16 D83D DE00) sorts
     * before U+FB33, unlike in code point or UTF-8 order */
    static const char input[] =
        "{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\","
        " \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\","
        " \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\","
        " \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}";
    static const char *order[] = {
        "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
        "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
    };
    json_t *v = parse(input), *back;
    char *s = mcpc_jcs_dump(v, NULL);
    const char *k;
    json_t *m;
    size_t i = 0;
    ck_assert_ptr_nonnull(s);
    back = parse(s); /* jansson keeps the order it reads */
    json_object_foreach(back, k, m) {
        ck_assert_uint_lt(i, 7);
        ck_assert_str_eq(json_string_value(m), order[i]);
        i++;
    }
    ck_assert_uint_eq(i, 7);
    ck_assert_str_eq(s, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                        "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                        "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                        "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    json_decref(back);
    json_decref(v);
    free(s);
}
END_TEST

START_TEST(test_jcs_sorting_plain)
{
    /* "", "a", "aa", "ab" (section 3.2.3), recursively, arrays kept in order */
    json_t *v = parse("{\"ab\":1,\"aa\":{\"z\":[{\"y\":1,\"x\":2},3],\"b\":null},\"a\":true,\"\":0}");
    char *s = mcpc_jcs_dump(v, NULL);
    ck_assert_str_eq(s, "{\"\":0,\"a\":true,\"aa\":{\"b\":null,\"z\":[{\"x\":2,\"y\":1},3]},\"ab\":1}");
    free(s);
    json_decref(v);
    v = parse("[{}, [], \"\", {\"b\":[],\"a\":{}}]");
    s = mcpc_jcs_dump(v, NULL);
    ck_assert_str_eq(s, "[{},[],\"\",{\"a\":{},\"b\":[]}]");
    free(s);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_string_escapes)
{
    /* every control character, then the characters ECMAScript leaves alone */
    char raw[32 + 8];
    char *s;
    json_t *v;
    static const char want[] =
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
        "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/\x7f\xe2\x80\xa8\"";
    for (int i = 0; i < 32; i++)
        raw[i] = (char)i;
    memcpy(raw + 32, "\"\\/\x7f\xe2\x80\xa8", 7); /* ", \, /, DEL, U+2028 */
    v = json_stringn(raw, 39);
    ck_assert_ptr_nonnull(v);
    s = mcpc_jcs_dump(v, NULL);
    ck_assert_str_eq(s, want);
    free(s);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_refusals)
{
    static const char *bad_utf8[] = {
        "\xed\xa0\x80",     /* U+D800 encoded: a lone surrogate */
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xf4\x90\x80\x80", /* beyond U+10FFFF */
        "\xff", "a\x80", "\xe2\x82",
    };
    char *out = (char *)"x";
    size_t len = 9;
    json_t *v, *o;
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        v = json_string_nocheck(bad_utf8[i]);
        ck_assert_int_eq(mcpc_jcs_serialize(v, &out, &len), MCPC_ERR_INVALID);
        ck_assert_ptr_null(out);
        ck_assert_uint_eq(len, 0);
        /* as a member name too */
        o = json_object();
        json_object_set_new_nocheck(o, bad_utf8[i], json_true());
        ck_assert_ptr_null(mcpc_jcs_dump(o, NULL));
        json_decref(o);
        json_decref(v);
    }
    /* jansson cannot even hold NaN or Infinity */
    ck_assert_ptr_null(json_real(NAN));
    ck_assert_ptr_null(json_real(INFINITY));
    ck_assert_int_eq(mcpc_jcs_serialize(NULL, &out, &len), MCPC_ERR_INVALID);
    /* nesting bound (and a cycle built by hand would hit it too) */
    v = json_array();
    for (int i = 0; i < MCPC_JCS_MAX_DEPTH + 5; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    ck_assert_int_eq(mcpc_jcs_serialize(v, &out, &len), MCPC_ERR_TOO_BIG);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_args_sha256)
{
    /* expected values: SHA-256 of the canonical text, computed independently (Python hashlib) */
    char h1[44], h2[44];
    json_t *a = parse("{ \"b\" : 2, \"a\" : 1 }"), *b = parse("{\"a\":1.0,\"b\":2e0}");
    json_t *c = parse("{\"path\": \"\\/etc\\/hosts\", \"mode\": \"r\"}");
    ck_assert_int_eq(mcpc_jcs_sha256_b64url(a, h1), MCPC_OK);
    ck_assert_str_eq(h1, "QyWM_3g_5wNtikMDP4MK38YOwDc4JHNUisdCuIgpJ3c");
    /* same arguments written differently: same digest */
    ck_assert_int_eq(mcpc_jcs_sha256_b64url(b, h2), MCPC_OK);
    ck_assert_str_eq(h1, h2);
    ck_assert_int_eq(mcpc_jcs_sha256_b64url(c, h1), MCPC_OK);
    ck_assert_str_eq(h1, "cgyFPVt8FQMfz1Pc8csM6mHp48c77uWbBjydtsyGFOw");
    ck_assert_uint_eq(strlen(h1), 43);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}
END_TEST

/* ---- JOSE: RFC vectors -------------------------------------------------------------------- */

/* RFC 8037 Appendix A.1 (private) / A.2 (public) */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
/* RFC 8037 Appendix A.4 */
#define RFC8037_JWS                                                                                \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."                                    \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
/* RFC 7515 Appendix A.3 (ES256) */
#define RFC7515_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC7515_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC7515_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
#define RFC7515_JWS                                                                                \
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9p" \
    "c19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-" \
    "Kg6NU1Q"

START_TEST(test_thumbprint_rfc8037)
{
    /* RFC 8037 Appendix A.3 */
    char t[44];
    json_t *jwk = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", RFC8037_X);
    mcpc_jose_key *k;
    ck_assert_int_eq(mcpc_jose_thumbprint(jwk, t), MCPC_OK);
    ck_assert_str_eq(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    /* extra members do not count */
    json_object_set_new(jwk, "kid", json_string("other"));
    json_object_set_new(jwk, "use", json_string("sig"));
    ck_assert_int_eq(mcpc_jose_thumbprint(jwk, t), MCPC_OK);
    ck_assert_str_eq(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    /* an imported key without kid gets the thumbprint as kid */
    json_object_del(jwk, "kid");
    k = mcpc_jose_key_from_jwk(jwk, 0, NULL, 0);
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(mcpc_jose_key_kid(k), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    ck_assert_int_eq(mcpc_jose_key_has_private(k), 0);
    mcpc_jose_key_free(k);
    /* not a key we know */
    json_object_set_new(jwk, "crv", json_string("Ed448"));
    ck_assert_int_eq(mcpc_jose_thumbprint(jwk, t), MCPC_ERR_INVALID);
    ck_assert_str_eq(t, "");
    json_decref(jwk);
}
END_TEST

START_TEST(test_rfc8037_sign_and_verify)
{
    /* A.4: Ed25519 is deterministic, so signing with A.1's key reproduces the RFC's JWS */
    static const char header[] = "{\"alg\":\"EdDSA\"}", payload[] = "Example of Ed25519 signing";
    json_t *priv = json_pack("{s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "d", RFC8037_D,
                             "x", RFC8037_X);
    json_t *pub = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", RFC8037_X);
    mcpc_jose_key *sk = mcpc_jose_key_from_jwk(priv, 1, NULL, 0);
    mcpc_jose_key *pk = mcpc_jose_key_from_jwk(pub, 0, NULL, 0);
    unsigned char *got = NULL;
    size_t got_len = 0;
    char err[256];
    json_t *hdr = NULL;
    char *jws;

    ck_assert_ptr_nonnull(sk);
    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(mcpc_jose_key_has_private(sk), 1);
    jws = mcpc_jose_sign_bytes(sk, header, strlen(header), payload, strlen(payload));
    ck_assert_str_eq(jws, RFC8037_JWS);
    free(jws);
    /* A.5: verification with the public key alone */
    ck_assert_int_eq(mcpc_jose_verify_with_key(RFC8037_JWS, pk, NULL, &hdr, &got, &got_len, err,
                                               sizeof err),
                     MCPC_JOSE_OK);
    ck_assert_uint_eq(got_len, strlen(payload));
    ck_assert_mem_eq(got, payload, got_len);
    ck_assert_str_eq(json_string_value(json_object_get(hdr, "alg")), "EdDSA");
    free(got);
    json_decref(hdr);
    /* the private-capable JWK is refused where only a public one belongs */
    ck_assert_ptr_null(mcpc_jose_key_from_jwk(priv, 0, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "private"));
    mcpc_jose_key_free(sk);
    mcpc_jose_key_free(pk);
    json_decref(priv);
    json_decref(pub);
}
END_TEST

START_TEST(test_rfc7515_es256_vector)
{
    static const char payload[] =
        "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
    json_t *pub = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", RFC7515_X, "y",
                            RFC7515_Y);
    json_t *priv = json_deep_copy(pub), *jwks;
    mcpc_jose_key *pk = mcpc_jose_key_from_jwk(pub, 0, NULL, 0), *sk, *keys[1];
    unsigned char *got = NULL;
    size_t got_len = 0;
    char err[256], *mine, *tampered;
    json_t *out = NULL;

    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(mcpc_jose_verify_with_key(RFC7515_JWS, pk, NULL, NULL, &got, &got_len, err,
                                               sizeof err),
                     MCPC_JOSE_OK);
    ck_assert_uint_eq(got_len, strlen(payload));
    ck_assert_mem_eq(got, payload, got_len);
    free(got);
    /* one bit off in the signature and it fails */
    tampered = mcpc_jose_tamper(RFC7515_JWS, MCPC_JOSE_TAMPER_SIGNATURE);
    ck_assert_int_eq(mcpc_jose_verify_with_key(tampered, pk, NULL, NULL, NULL, NULL, err, sizeof err),
                     MCPC_JOSE_E_SIGNATURE);
    free(tampered);
    /* against a JWKS the vector has no kid to choose a key with */
    keys[0] = pk;
    jwks = mcpc_jose_jwks((const mcpc_jose_key *const *)keys, 1);
    ck_assert_int_eq(mcpc_jose_verify(RFC7515_JWS, jwks, NULL, &out, err, sizeof err),
                     MCPC_JOSE_E_KID_MISSING);
    ck_assert_ptr_null(out);
    /* the A.3 private key signs (ECDSA is randomized: round trip, not the same bytes) */
    json_object_set_new(priv, "d", json_string(RFC7515_D));
    sk = mcpc_jose_key_from_jwk(priv, 1, NULL, 0);
    ck_assert_ptr_nonnull(sk);
    mine = mcpc_jose_sign_bytes(sk, "{\"alg\":\"ES256\"}", 15, payload, strlen(payload));
    ck_assert_ptr_nonnull(mine);
    ck_assert_int_eq(mcpc_jose_verify_with_key(mine, pk, NULL, NULL, NULL, NULL, err, sizeof err),
                     MCPC_JOSE_OK);
    /* a d that is not this point's */
    json_object_set_new(priv, "d", json_string(RFC8037_D));
    ck_assert_ptr_null(mcpc_jose_key_from_jwk(priv, 1, err, sizeof err));
    free(mine);
    mcpc_jose_key_free(sk);
    mcpc_jose_key_free(pk);
    json_decref(jwks);
    json_decref(pub);
    json_decref(priv);
}
END_TEST

/* ---- JOSE: keys and round trips ----------------------------------------------------------- */

static json_t *claims(long long iat, long long exp)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", "https://as.example",
                     "sub", "user-123", "aud", "https://mcp.example/mcp", "scope",
                     "tools:read tools:write", "iat", (json_int_t)iat, "nbf", (json_int_t)iat,
                     "exp", (json_int_t)exp, "jti", "b1c1");
}

START_TEST(test_keys_and_jwk)
{
    mcpc_jose_alg alg = _i == 0 ? MCPC_JOSE_ES256 : MCPC_JOSE_EDDSA;
    mcpc_jose_key *k = mcpc_jose_key_generate(alg), *back;
    json_t *jwk, *jwks;
    char t[44], err[256];
    unsigned char *raw, *der, *pem, *jtext;
    size_t n;

    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(mcpc_jose_key_alg(k), alg);
    ck_assert_int_eq(mcpc_jose_key_has_private(k), 1);
    jwk = mcpc_jose_key_public_jwk(k);
    ck_assert_ptr_nonnull(jwk);
    if (alg == MCPC_JOSE_ES256) {
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "kty")), "EC");
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "crv")), "P-256");
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "alg")), "ES256");
        ck_assert_uint_eq(json_string_length(json_object_get(jwk, "y")), 43);
        ck_assert_uint_eq(json_object_size(jwk), 7);
    } else {
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "kty")), "OKP");
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "crv")), "Ed25519");
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "alg")), "EdDSA");
        ck_assert_ptr_null(json_object_get(jwk, "y"));
        ck_assert_uint_eq(json_object_size(jwk), 6);
    }
    ck_assert_uint_eq(json_string_length(json_object_get(jwk, "x")), 43);
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "use")), "sig");
    ck_assert_ptr_null(json_object_get(jwk, "d"));
    /* kid is the RFC 7638 thumbprint */
    ck_assert_int_eq(mcpc_jose_thumbprint(jwk, t), MCPC_OK);
    ck_assert_str_eq(t, mcpc_jose_key_kid(k));
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "kid")), t);
    /* import back: same kid, public only */
    back = mcpc_jose_key_from_jwk(jwk, 0, err, sizeof err);
    ck_assert_msg(back != NULL, "%s", err);
    ck_assert_str_eq(mcpc_jose_key_kid(back), t);
    ck_assert_int_eq(mcpc_jose_key_has_private(back), 0);
    ck_assert_ptr_null(mcpc_jose_sign(back, jwk, jwk)); /* cannot sign */
    mcpc_jose_key_free(back);
    /* JWKS of two keys */
    {
        mcpc_jose_key *other = mcpc_jose_key_generate(alg == MCPC_JOSE_ES256 ? MCPC_JOSE_EDDSA
                                                                             : MCPC_JOSE_ES256);
        const mcpc_jose_key *two[2] = {k, other};
        jwks = mcpc_jose_jwks(two, 2);
        ck_assert_uint_eq(json_array_size(json_object_get(jwks, "keys")), 2);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(jwks, "keys"), 1), "kid")),
                         mcpc_jose_key_kid(other));
        json_decref(jwks);
        mcpc_jose_key_free(other);
    }
    /* the public key's encodings */
    raw = mcpc_jose_key_public_bytes(k, MCPC_JOSE_PUB_RAW, &n);
    ck_assert_uint_eq(n, alg == MCPC_JOSE_ES256 ? 65 : 32);
    if (alg == MCPC_JOSE_ES256)
        ck_assert_int_eq(raw[0], 4);
    der = mcpc_jose_key_public_bytes(k, MCPC_JOSE_PUB_DER, &n);
    ck_assert_int_eq(der[0], 0x30);
    ck_assert_uint_eq(n, alg == MCPC_JOSE_ES256 ? 91 : 44);
    pem = mcpc_jose_key_public_bytes(k, MCPC_JOSE_PUB_PEM, &n);
    ck_assert_int_eq(strncmp((char *)pem, "-----BEGIN PUBLIC KEY-----\n", 27), 0);
    ck_assert_uint_eq(strlen((char *)pem), n);
    jtext = mcpc_jose_key_public_bytes(k, MCPC_JOSE_PUB_JWK, &n);
    ck_assert_ptr_nonnull(strstr((char *)jtext, t));
    free(raw);
    free(der);
    free(pem);
    free(jtext);
    /* kid can be renamed */
    ck_assert_int_eq(mcpc_jose_key_set_kid(k, "as-2026-01"), MCPC_OK);
    ck_assert_str_eq(mcpc_jose_key_kid(k), "as-2026-01");
    ck_assert_int_eq(mcpc_jose_key_set_kid(k, NULL), MCPC_ERR_INVALID);
    json_decref(jwk);
    mcpc_jose_key_free(k);
}
END_TEST

START_TEST(test_jwk_import_refusals)
{
    static const char *bad[] = {
        "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" RFC7515_X "\",\"y\":\"" RFC7515_Y "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_X "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_X "\",\"y\":\"" RFC7515_X "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_X "=\",\"y\":\"" RFC7515_Y "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"" RFC7515_Y "\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_X "\",\"y\":\"" RFC7515_Y
        "\",\"alg\":\"EdDSA\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\",\"alg\":\"ES256\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\",\"use\":\"enc\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\",\"kid\":7}",
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" RFC8037_X "\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":1}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\",\"d\":\"" RFC8037_D "\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = parse(bad[i]);
        char err[256] = "";
        mcpc_jose_key *k = mcpc_jose_key_from_jwk(j, 0, err, sizeof err);
        ck_assert_msg(k == NULL, "accepted %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
        json_decref(j);
    }
    /* an Ed25519 d that does not produce x */
    {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                              RFC8037_X, "d", RFC7515_D);
        ck_assert_ptr_null(mcpc_jose_key_from_jwk(j, 1, NULL, 0));
        json_decref(j);
    }
}
END_TEST

START_TEST(test_sign_verify_round_trip)
{
    mcpc_jose_alg alg = _i == 0 ? MCPC_JOSE_ES256 : MCPC_JOSE_EDDSA;
    mcpc_jose_key *k = mcpc_jose_key_generate(alg);
    const mcpc_jose_key *ks[1] = {k};
    json_t *jwks = mcpc_jose_jwks(ks, 1), *hdr = mcpc_jose_header(k, "at+jwt"), *c = claims(1000, 1060);
    json_t *out = NULL, *ph = NULL, *pp = NULL;
    char err[256], *jws, *dot;
    unsigned char *sig;
    size_t n;

    jws = mcpc_jose_sign(k, hdr, c);
    ck_assert_ptr_nonnull(jws);
    /* the signature part is 64 raw bytes for both algorithms (ES256: R||S, not DER) */
    dot = strrchr(jws, '.');
    sig = b64d(dot + 1, &n);
    ck_assert_uint_eq(n, 64);
    free(sig);
    ck_assert_int_eq(mcpc_jose_verify(jws, jwks, "at+jwt", &out, err, sizeof err), MCPC_JOSE_OK);
    ck_assert_str_eq(err, "");
    ck_assert(json_equal(out, c));
    json_decref(out);
    /* typ compared as RFC 7515 says: case-insensitively, "application/" optional */
    ck_assert_int_eq(mcpc_jose_verify(jws, jwks, "application/AT+JWT", &out, err, sizeof err),
                     MCPC_JOSE_OK);
    json_decref(out);
    /* no typ asked: any typ goes */
    ck_assert_int_eq(mcpc_jose_verify(jws, jwks, NULL, &out, err, sizeof err), MCPC_JOSE_OK);
    json_decref(out);
    /* peek sees the same without a key */
    ck_assert_int_eq(mcpc_jose_peek(jws, &ph, &pp, err, sizeof err), MCPC_JOSE_OK);
    ck_assert(json_equal(ph, hdr));
    ck_assert(json_equal(pp, c));
    json_decref(ph);
    json_decref(pp);
    /* a re-imported public JWK verifies too */
    {
        json_t *jwk = mcpc_jose_key_public_jwk(k);
        mcpc_jose_key *pub = mcpc_jose_key_from_jwk(jwk, 0, NULL, 0);
        ck_assert_int_eq(mcpc_jose_verify_with_key(jws, pub, "at+jwt", NULL, NULL, NULL, err,
                                                   sizeof err),
                         MCPC_JOSE_OK);
        mcpc_jose_key_free(pub);
        json_decref(jwk);
    }
    free(jws);
    json_decref(c);
    json_decref(hdr);
    json_decref(jwks);
    mcpc_jose_key_free(k);
}
END_TEST

/* ---- JOSE: the malformed battery ---------------------------------------------------------- */

/* verify must refuse tok with st, name the reason first in err, and return no payload */
static void refused(const char *tok, const json_t *jwks, const char *typ, mcpc_jose_status st)
{
    char err[256] = "?";
    json_t *out = (json_t *)1;
    mcpc_jose_status got = mcpc_jose_verify(tok, jwks, typ, &out, err, sizeof err);
    const char *name = mcpc_jose_status_name(st);
    ck_assert_msg(got == st, "got %s (%s), want %s for %.80s", mcpc_jose_status_name(got), err, name,
                  tok ? tok : "(null)");
    ck_assert_ptr_null(out);
    ck_assert_msg(strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':',
                  "err \"%s\" does not start with \"%s:\"", err, name);
}

START_TEST(test_malformed_battery)
{
    mcpc_jose_alg alg = _i == 0 ? MCPC_JOSE_ES256 : MCPC_JOSE_EDDSA;
    mcpc_jose_key *k = mcpc_jose_key_generate(alg);
    mcpc_jose_key *other = mcpc_jose_key_generate(alg); /* a key the verifier does not trust */
    mcpc_jose_key *cross = mcpc_jose_key_generate(alg == MCPC_JOSE_ES256 ? MCPC_JOSE_EDDSA
                                                                         : MCPC_JOSE_ES256);
    const mcpc_jose_key *ks[2] = {k, cross};
    json_t *jwks = mcpc_jose_jwks(ks, 2), *c = claims(1000, 1060), *h;
    const char *alg_name = mcpc_jose_alg_name(alg);
    char *t, *good;
    static const mcpc_jose_pub_form forms[] = {MCPC_JOSE_PUB_RAW, MCPC_JOSE_PUB_DER,
                                               MCPC_JOSE_PUB_PEM, MCPC_JOSE_PUB_JWK};

    h = mcpc_jose_header(k, "at+jwt");
    good = mcpc_jose_sign(k, h, c);

    /* alg none, in the spellings attackers use */
    static const char *nones[] = {"none", "None", "NONE", "nOnE"};
    for (size_t i = 0; i < 4; i++) {
        json_t *hn = json_pack("{s:s, s:s, s:s}", "alg", nones[i], "typ", "at+jwt", "kid",
                               mcpc_jose_key_kid(k));
        t = mcpc_jose_unsigned(hn, c);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t[strlen(t) - 1], '.');
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_ALG_NONE);
        free(t);
        json_decref(hn);
    }
    /* HS256 keyed with the AS public key, in every encoding a confused verifier might use */
    for (size_t i = 0; i < 4; i++) {
        size_t n;
        unsigned char *pub = mcpc_jose_key_public_bytes(k, forms[i], &n);
        json_t *hh = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "typ", "at+jwt", "kid",
                               mcpc_jose_key_kid(k));
        ck_assert_ptr_nonnull(pub);
        t = mcpc_jose_mint_hs256_with(pub, n, hh, c);
        ck_assert_ptr_nonnull(t);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_ALG_HMAC);
        free(t);
        free(pub);
        json_decref(hh);
    }
    /* bad signature: one bit flipped */
    t = mcpc_jose_tamper(good, MCPC_JOSE_TAMPER_SIGNATURE);
    refused(t, jwks, "at+jwt", MCPC_JOSE_E_SIGNATURE);
    free(t);
    /* payload tampering: one bit, and the realistic "raise my scope, keep the signature" */
    t = mcpc_jose_tamper(good, MCPC_JOSE_TAMPER_PAYLOAD);
    refused(t, jwks, "at+jwt", MCPC_JOSE_E_SIGNATURE);
    free(t);
    {
        json_t *c2 = json_deep_copy(c);
        json_object_set_new(c2, "scope", json_string("tools:read tools:write tools:admin"));
        t = mcpc_jose_swap_payload(good, c2);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_SIGNATURE);
        free(t);
        json_decref(c2);
    }
    /* signed by a key that is not in the JWKS, under a trusted kid */
    t = mcpc_jose_sign(other, h, c);
    refused(t, jwks, "at+jwt", MCPC_JOSE_E_SIGNATURE);
    free(t);
    /* unknown kid (the attacker's own key, named as itself) */
    {
        json_t *ho = mcpc_jose_header(other, "at+jwt");
        t = mcpc_jose_sign(other, ho, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_KID_UNKNOWN);
        free(t);
        json_decref(ho);
    }
    /* no kid */
    {
        json_t *hk = json_pack("{s:s, s:s}", "alg", alg_name, "typ", "at+jwt");
        t = mcpc_jose_sign(k, hk, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_KID_MISSING);
        free(t);
        json_decref(hk);
    }
    /* wrong typ: a plain JWT, a call token where an access token is asked (and back), none */
    {
        static const char *typs[] = {"JWT", "mcps-call+jwt", "application/jwt", "at+jwt2"};
        for (size_t i = 0; i < 4; i++) {
            json_t *ht = mcpc_jose_header(k, typs[i]);
            t = mcpc_jose_sign(k, ht, c);
            refused(t, jwks, "at+jwt", MCPC_JOSE_E_TYP);
            free(t);
            json_decref(ht);
        }
        refused(good, jwks, "mcps-call+jwt", MCPC_JOSE_E_TYP);
        json_t *hn = mcpc_jose_header(k, NULL);
        t = mcpc_jose_sign(k, hn, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_TYP);
        free(t);
        json_decref(hn);
        /* a typ of the wrong JSON type is a header error */
        hn = json_pack("{s:s, s:i, s:s}", "alg", alg_name, "typ", 1, "kid", mcpc_jose_key_kid(k));
        t = mcpc_jose_sign(k, hn, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_HEADER);
        free(t);
        json_decref(hn);
    }
    /* algorithms we do not accept, and a missing alg */
    {
        static const char *algs[] = {"RS256", "PS256", "ES384", "ES512", "EdDSA25519", "es256", ""};
        for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
            json_t *ha = json_pack("{s:s, s:s, s:s}", "alg", algs[i], "typ", "at+jwt", "kid",
                                   mcpc_jose_key_kid(k));
            t = mcpc_jose_sign(k, ha, c);
            refused(t, jwks, "at+jwt", MCPC_JOSE_E_ALG_UNSUPPORTED);
            free(t);
            json_decref(ha);
        }
        json_t *ha = json_pack("{s:s, s:s}", "typ", "at+jwt", "kid", mcpc_jose_key_kid(k));
        t = mcpc_jose_sign(k, ha, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_ALG_UNSUPPORTED);
        free(t);
        json_decref(ha);
    }
    /* the header names the other algorithm (and kid) of a key of the wrong type */
    {
        json_t *hx = json_pack("{s:s, s:s, s:s}", "alg", alg_name, "typ", "at+jwt", "kid",
                               mcpc_jose_key_kid(cross));
        t = mcpc_jose_sign(k, hx, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_KEY_MISMATCH);
        free(t);
        json_decref(hx);
    }
    /* crit */
    {
        json_t *hc = json_pack("{s:s, s:s, s:s, s:[s]}", "alg", alg_name, "typ", "at+jwt", "kid",
                               mcpc_jose_key_kid(k), "crit", "exp");
        t = mcpc_jose_sign(k, hc, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_CRIT);
        free(t);
        json_decref(hc);
    }
    /* duplicate members: in the header (alg twice), in the payload (aud twice) */
    {
        char hdr[256], *p = json_dumps(c, JSON_COMPACT);
        int n = snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"alg\":\"none\"}",
                         alg_name, mcpc_jose_key_kid(k));
        t = mcpc_jose_sign_bytes(k, hdr, (size_t)n, p, strlen(p));
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_HEADER);
        free(t);
        free(p);
        n = snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", alg_name,
                     mcpc_jose_key_kid(k));
        static const char dup[] = "{\"aud\":\"https://evil.example\",\"exp\":1060,"
                                  "\"aud\":\"https://mcp.example/mcp\"}";
        t = mcpc_jose_sign_bytes(k, hdr, (size_t)n, dup, strlen(dup));
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_PAYLOAD);
        free(t);
        /* payloads that are not JSON objects */
        t = mcpc_jose_sign_bytes(k, hdr, (size_t)n, "[1,2]", 5);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_PAYLOAD);
        free(t);
        t = mcpc_jose_sign_bytes(k, hdr, (size_t)n, "not json", 8);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_PAYLOAD);
        free(t);
        /* a header that is not a JSON object */
        t = mcpc_jose_sign_bytes(k, "[\"ES256\"]", 9, "{}", 2);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_HEADER);
        free(t);
    }
    /* shape and encoding */
    {
        static const char *shapes[] = {"", "abc", "a.b", "a.b.c.d", "..", ".e30.", "...."};
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            refused(shapes[i], jwks, "at+jwt", MCPC_JOSE_E_FORMAT);
        refused(NULL, jwks, "at+jwt", MCPC_JOSE_E_FORMAT);
        size_t n = strlen(good);
        char *padded = malloc(n + 2);
        memcpy(padded, good, n);
        memcpy(padded + n, "=", 2);
        refused(padded, jwks, "at+jwt", MCPC_JOSE_E_BASE64);
        free(padded);
        char *spaced = malloc(n + 2);
        memcpy(spaced, " ", 1);
        memcpy(spaced + 1, good, n + 1);
        refused(spaced, jwks, "at+jwt", MCPC_JOSE_E_BASE64);
        free(spaced);
        /* a truncated signature: strict base64url, but 48 bytes instead of 64 (and a cut that
         * leaves a dangling character is an encoding error, not a signature one) */
        size_t sn, pre = (size_t)(strrchr(good, '.') + 1 - good);
        unsigned char *sig = b64d(good + pre, &sn);
        char *cut = malloc(pre + 65);
        memcpy(cut, good, pre);
        mcpc_b64url_encode_to(sig, 48, cut + pre);
        refused(cut, jwks, "at+jwt", MCPC_JOSE_E_SIGNATURE);
        cut[pre + 61] = '\0'; /* 61 = 1 mod 4 */
        refused(cut, jwks, "at+jwt", MCPC_JOSE_E_BASE64);
        free(cut);
        free(sig);
    }
    /* bounds: a token over 16 KiB, a header nesting too deep */
    {
        json_t *big = json_deep_copy(c);
        char *pad = malloc(MCPC_JOSE_MAX_TOKEN);
        memset(pad, 'x', MCPC_JOSE_MAX_TOKEN - 1);
        pad[MCPC_JOSE_MAX_TOKEN - 1] = '\0';
        json_object_set_new(big, "pad", json_string(pad));
        t = mcpc_jose_sign(k, h, big);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_TOO_BIG);
        free(t);
        free(pad);
        json_decref(big);
        json_t *deep = json_array(), *hd = json_deep_copy(h);
        for (int i = 0; i < MCPC_JOSE_MAX_DEPTH + 2; i++) {
            json_t *outer = json_array();
            json_array_append_new(outer, deep);
            deep = outer;
        }
        json_object_set_new(hd, "x", deep);
        t = mcpc_jose_sign(k, hd, c);
        refused(t, jwks, "at+jwt", MCPC_JOSE_E_TOO_BIG);
        free(t);
        json_decref(hd);
    }
    /* the JWKS itself: not one, private material under the kid */
    {
        json_t *empty = json_object(), *arr = json_pack("{s:[]}", "keys");
        refused(good, empty, "at+jwt", MCPC_JOSE_E_JWKS);
        refused(good, NULL, "at+jwt", MCPC_JOSE_E_JWKS);
        refused(good, arr, "at+jwt", MCPC_JOSE_E_KID_UNKNOWN);
        json_t *bad = json_deep_copy(jwks);
        json_object_set_new(json_array_get(json_object_get(bad, "keys"), 0), "d",
                            json_string(RFC8037_D));
        refused(good, bad, "at+jwt", MCPC_JOSE_E_JWKS);
        json_decref(bad);
        json_decref(empty);
        json_decref(arr);
    }
    /* and the good token still verifies */
    {
        json_t *out = NULL;
        ck_assert_int_eq(mcpc_jose_verify(good, jwks, "at+jwt", &out, NULL, 0), MCPC_JOSE_OK);
        json_decref(out);
    }
    free(good);
    json_decref(h);
    json_decref(c);
    json_decref(jwks);
    mcpc_jose_key_free(k);
    mcpc_jose_key_free(other);
    mcpc_jose_key_free(cross);
}
END_TEST

START_TEST(test_tamper_is_one_bit)
{
    mcpc_jose_key *k = mcpc_jose_key_generate(MCPC_JOSE_EDDSA);
    json_t *h = mcpc_jose_header(k, "at+jwt"), *c = claims(1, 61);
    char *good = mcpc_jose_sign(k, h, c);
    static const mcpc_jose_tamper_what whats[] = {MCPC_JOSE_TAMPER_SIGNATURE,
                                                  MCPC_JOSE_TAMPER_PAYLOAD};
    for (size_t w = 0; w < 2; w++) {
        char *t = mcpc_jose_tamper(good, whats[w]);
        size_t diff = 0, pos = 0;
        ck_assert_uint_eq(strlen(t), strlen(good));
        for (size_t i = 0; good[i]; i++)
            if (good[i] != t[i])
                diff++, pos = i;
        ck_assert_uint_eq(diff, 1);
        /* the part still decodes strictly, to bytes one bit apart */
        {
            char *g = strdup(good), *tt = strdup(t);
            char *gp = w == 0 ? strrchr(g, '.') + 1 : strchr(g, '.') + 1;
            char *tp = w == 0 ? strrchr(tt, '.') + 1 : strchr(tt, '.') + 1;
            unsigned char *gb, *tb;
            size_t gn, tn, bits = 0;
            if (w == 1) {
                *strchr(gp, '.') = '\0';
                *strchr(tp, '.') = '\0';
            }
            ck_assert_uint_ge((size_t)(gp - g), 1);
            ck_assert_uint_lt(pos, strlen(good) - 1);
            gb = b64d(gp, &gn);
            tb = b64d(tp, &tn);
            ck_assert_uint_eq(gn, tn);
            for (size_t i = 0; i < gn; i++)
                bits += (size_t)__builtin_popcount(gb[i] ^ tb[i]);
            ck_assert_uint_eq(bits, 1);
            free(gb);
            free(tb);
            free(g);
            free(tt);
        }
        free(t);
    }
    ck_assert_ptr_null(mcpc_jose_tamper("a.b", MCPC_JOSE_TAMPER_SIGNATURE));
    ck_assert_ptr_null(mcpc_jose_tamper("a.b.", MCPC_JOSE_TAMPER_SIGNATURE));
    free(good);
    json_decref(h);
    json_decref(c);
    mcpc_jose_key_free(k);
}
END_TEST

START_TEST(test_status_names)
{
    /* every status has its own stable name */
    for (int a = MCPC_JOSE_OK; a <= MCPC_JOSE_E_SCOPE; a++) {
        ck_assert_str_ne(mcpc_jose_status_name((mcpc_jose_status)a), "unknown");
        for (int b = a + 1; b <= MCPC_JOSE_E_SCOPE; b++)
            ck_assert_str_ne(mcpc_jose_status_name((mcpc_jose_status)a),
                             mcpc_jose_status_name((mcpc_jose_status)b));
    }
    ck_assert_str_eq(mcpc_jose_status_name(MCPC_JOSE_E_ALG_NONE), "alg-none");
    ck_assert_str_eq(mcpc_jose_status_name(MCPC_JOSE_E_EXPIRED), "expired");
}
END_TEST

/* ---- claims ------------------------------------------------------------------------------- */

static const mcpc_jose_claims_rules base_rules = {
    .issuer = "https://as.example",
    .audience = "https://mcp.example/mcp",
    .scope = "tools:read",
    .max_lifetime = MCPC_JOSE_MAX_LIFETIME,
    .leeway = 0,
};

static void claims_is(const json_t *c, long long now, const mcpc_jose_claims_rules *r,
                      mcpc_jose_status st)
{
    char err[256] = "?";
    mcpc_jose_status got = mcpc_jose_claims_verify(c, now, r, err, sizeof err);
    ck_assert_msg(got == st, "got %s (%s), want %s", mcpc_jose_status_name(got), err,
                  mcpc_jose_status_name(st));
    if (st == MCPC_JOSE_OK)
        ck_assert_str_eq(err, "");
    else
        ck_assert_int_eq(strncmp(err, mcpc_jose_status_name(st), strlen(mcpc_jose_status_name(st))), 0);
}

START_TEST(test_claims_time)
{
    json_t *c = claims(1000, 1060);
    mcpc_jose_claims_rules r = base_rules;
    claims_is(c, 1030, &r, MCPC_JOSE_OK);
    claims_is(c, 1000, &r, MCPC_JOSE_OK);
    claims_is(c, 1059, &r, MCPC_JOSE_OK);
    claims_is(c, 1060, &r, MCPC_JOSE_E_EXPIRED); /* exp is the first instant it is invalid */
    claims_is(c, 99999, &r, MCPC_JOSE_E_EXPIRED);
    r.leeway = 5;
    claims_is(c, 1064, &r, MCPC_JOSE_OK);
    claims_is(c, 1065, &r, MCPC_JOSE_E_EXPIRED);
    /* nbf in the future, with and without leeway */
    r.leeway = 0;
    claims_is(c, 999, &r, MCPC_JOSE_E_NBF);
    json_object_set_new(c, "nbf", json_integer(1040));
    claims_is(c, 1030, &r, MCPC_JOSE_E_NBF);
    r.leeway = 10;
    claims_is(c, 1030, &r, MCPC_JOSE_OK);
    r.leeway = 0;
    json_object_del(c, "nbf");
    /* iat in the future */
    claims_is(c, 999, &r, MCPC_JOSE_E_IAT_FUTURE);
    /* NumericDates may be reals */
    json_object_set_new(c, "exp", json_real(1059.5));
    claims_is(c, 1059, &r, MCPC_JOSE_OK);
    json_object_set_new(c, "exp", json_string("1060"));
    claims_is(c, 1030, &r, MCPC_JOSE_E_CLAIM_TYPE);
    json_object_del(c, "exp");
    claims_is(c, 1030, &r, MCPC_JOSE_E_EXP_MISSING);
    json_decref(c);
}
END_TEST

START_TEST(test_claims_lifetime)
{
    json_t *ok = claims(1000, 1060), *long1 = claims(1000, 1061), *noiat = claims(1000, 1060);
    mcpc_jose_claims_rules r = base_rules;
    claims_is(ok, 1010, &r, MCPC_JOSE_OK);         /* 60 s: accepted */
    claims_is(long1, 1010, &r, MCPC_JOSE_E_LIFETIME); /* 61 s: refused */
    r.leeway = 30;                                  /* leeway does not stretch the bound */
    claims_is(long1, 1010, &r, MCPC_JOSE_E_LIFETIME);
    r.max_lifetime = 0; /* no bound asked */
    claims_is(long1, 1010, &r, MCPC_JOSE_OK);
    r = base_rules;
    json_object_del(noiat, "iat");
    claims_is(noiat, 1010, &r, MCPC_JOSE_E_IAT_MISSING);
    r.max_lifetime = 0;
    claims_is(noiat, 1010, &r, MCPC_JOSE_OK);
    json_decref(ok);
    json_decref(long1);
    json_decref(noiat);
}
END_TEST

START_TEST(test_claims_iss_aud_scope)
{
    json_t *c = claims(1000, 1060);
    mcpc_jose_claims_rules r = base_rules;
    /* issuer */
    r.issuer = "https://evil.example";
    claims_is(c, 1030, &r, MCPC_JOSE_E_ISSUER);
    r.issuer = "https://as.example/";
    claims_is(c, 1030, &r, MCPC_JOSE_E_ISSUER);
    r = base_rules;
    json_object_set_new(c, "iss", json_integer(5));
    claims_is(c, 1030, &r, MCPC_JOSE_E_CLAIM_TYPE);
    json_object_del(c, "iss");
    claims_is(c, 1030, &r, MCPC_JOSE_E_ISSUER);
    json_object_set_new(c, "iss", json_string("https://as.example"));
    /* audience: another server, an array with and without us, client_id only, missing */
    r.audience = "https://other.example/mcp";
    claims_is(c, 1030, &r, MCPC_JOSE_E_AUDIENCE);
    r = base_rules;
    json_object_set_new(c, "aud", json_pack("[s,s]", "https://a.example", "https://mcp.example/mcp"));
    claims_is(c, 1030, &r, MCPC_JOSE_OK);
    json_object_set_new(c, "aud", json_pack("[s,s]", "https://a.example", "https://mcp.example"));
    claims_is(c, 1030, &r, MCPC_JOSE_E_AUDIENCE);
    json_object_set_new(c, "aud", json_pack("[s,i]", "https://mcp.example/mcp", 1));
    claims_is(c, 1030, &r, MCPC_JOSE_E_CLAIM_TYPE);
    json_object_set_new(c, "aud", json_string("client-123"));
    claims_is(c, 1030, &r, MCPC_JOSE_E_AUDIENCE);
    json_object_del(c, "aud");
    claims_is(c, 1030, &r, MCPC_JOSE_E_AUDIENCE);
    json_object_set_new(c, "aud", json_string("https://mcp.example/mcp"));
    /* scope: granted "tools:read tools:write" */
    r.scope = "tools:admin";
    claims_is(c, 1030, &r, MCPC_JOSE_E_SCOPE);
    r.scope = "tools:read tools:write";
    claims_is(c, 1030, &r, MCPC_JOSE_OK);
    r.scope = "tools:write tools:admin";
    claims_is(c, 1030, &r, MCPC_JOSE_E_SCOPE);
    r.scope = "tools:re"; /* a prefix is not the scope */
    claims_is(c, 1030, &r, MCPC_JOSE_E_SCOPE);
    r.scope = "  tools:write  ";
    claims_is(c, 1030, &r, MCPC_JOSE_OK);
    json_object_del(c, "scope");
    r.scope = "tools:read";
    claims_is(c, 1030, &r, MCPC_JOSE_E_SCOPE);
    /* no rules: only the times */
    claims_is(c, 1030, NULL, MCPC_JOSE_OK);
    claims_is(c, 1060, NULL, MCPC_JOSE_E_EXPIRED);
    json_decref(c);
}
END_TEST

/* ---- suite -------------------------------------------------------------------------------- */

static Suite *jose_suite(void)
{
    Suite *s = suite_create("jose");
    TCase *tc = tcase_create("b64url");
    tcase_add_test(tc, test_b64url_rfc4648);
    tcase_add_test(tc, test_b64url_round_trip);
    tcase_add_test(tc, test_b64url_strict_refusals);
    suite_add_tcase(s, tc);

    tc = tcase_create("jcs");
    tcase_add_test(tc, test_jcs_appendix_b);
    tcase_add_test(tc, test_jcs_number_ranges);
    tcase_add_test(tc, test_jcs_number_round_trip);
    tcase_add_test(tc, test_jcs_integers_as_doubles);
    tcase_add_test(tc, test_jcs_rfc_example);
    tcase_add_test(tc, test_jcs_sorting_utf16);
    tcase_add_test(tc, test_jcs_sorting_plain);
    tcase_add_test(tc, test_jcs_string_escapes);
    tcase_add_test(tc, test_jcs_refusals);
    tcase_add_test(tc, test_jcs_args_sha256);
    suite_add_tcase(s, tc);

    tc = tcase_create("jose");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_thumbprint_rfc8037);
    tcase_add_test(tc, test_rfc8037_sign_and_verify);
    tcase_add_test(tc, test_rfc7515_es256_vector);
    tcase_add_loop_test(tc, test_keys_and_jwk, 0, 2);
    tcase_add_test(tc, test_jwk_import_refusals);
    tcase_add_loop_test(tc, test_sign_verify_round_trip, 0, 2);
    tcase_add_loop_test(tc, test_malformed_battery, 0, 2);
    tcase_add_test(tc, test_tamper_is_one_bit);
    tcase_add_test(tc, test_status_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("claims");
    tcase_add_test(tc, test_claims_time);
    tcase_add_test(tc, test_claims_lifetime);
    tcase_add_test(tc, test_claims_iss_aud_scope);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jose_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

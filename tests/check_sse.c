/* Unit tests for harness/sse.c: WHATWG event-stream parsing, chunking independence (every split
 * point of a sample stream, byte by byte), the BOM, bounds, and the fuzz entry point on nasty
 * inputs. No I/O: everything here is quick. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

/* ---- helpers ------------------------------------------------------------------------------ */

#define MAX_EVENTS 64

/* Events collected by the callback: copies, so they outlive the call. */
typedef struct {
    size_t n;
    mcpc_err err[MAX_EVENTS];
    char *type[MAX_EVENTS], *data[MAX_EVENTS], *id[MAX_EVENTS];
    size_t len[MAX_EVENTS];
} events;

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void collect(void *ud, const mcpc_sse_event *ev)
{
    events *e = ud;
    ck_assert_uint_lt(e->n, MAX_EVENTS);
    e->err[e->n] = ev->err;
    e->type[e->n] = dup_bytes(ev->type, strlen(ev->type));
    e->data[e->n] = dup_bytes(ev->data, ev->err == MCPC_OK ? ev->len : 0);
    e->id[e->n] = dup_bytes(ev->id, strlen(ev->id));
    e->len[e->n] = ev->len;
    e->n++;
}

static void events_clear(events *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->type[i]);
        free(e->data[i]);
        free(e->id[i]);
    }
    memset(e, 0, sizeof *e);
}

/* Parse s[0..n) in chunks of `chunk` bytes (0: all at once), then end the stream. */
static mcpc_err parse(const mcpc_sse_limits *lim, const char *s, size_t n, size_t chunk, events *e,
                      long *retry)
{
    mcpc_sse *p = mcpc_sse_new(lim, collect, e);
    ck_assert_ptr_nonnull(p);
    memset(e, 0, sizeof *e);
    if (!chunk)
        chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk)
        (void)mcpc_sse_feed(p, s + off, n - off < chunk ? n - off : chunk);
    mcpc_err rc = mcpc_sse_end(p);
    if (retry)
        *retry = mcpc_sse_retry(p);
    mcpc_sse_free(p);
    return rc;
}

/* Whole-string parse, no NULs in s; the events are cleared afterwards (only retry is kept). */
static void parse_str(const char *s, events *e, long *retry)
{
    parse(NULL, s, strlen(s), 0, e, retry);
    events_clear(e);
}

static mcpc_err feed_str(mcpc_sse *p, const char *s)
{
    return mcpc_sse_feed(p, s, strlen(s));
}

static void expect_event(const events *e, size_t i, const char *type, const char *data,
                         const char *id)
{
    ck_assert_uint_gt(e->n, i);
    ck_assert_int_eq(e->err[i], MCPC_OK);
    ck_assert_str_eq(e->type[i], type);
    ck_assert_uint_eq(e->len[i], strlen(data));
    ck_assert_str_eq(e->data[i], data);
    ck_assert_str_eq(e->id[i], id);
}

static int events_equal(const events *a, const events *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->err[i] != b->err[i] || a->len[i] != b->len[i] || strcmp(a->type[i], b->type[i]) ||
            strcmp(a->id[i], b->id[i]) ||
            memcmp(a->data[i], b->data[i], a->err[i] == MCPC_OK ? a->len[i] : 0))
            return 0;
    }
    return 1;
}

/* ---- fields ------------------------------------------------------------------------------- */

START_TEST(test_fields)
{
    const char *s = "event: ping\nid: 7\ndata: hello\n\n"
                    "data: second\n\n"
                    "retry: 2500\nfoo: bar\nevent: done\ndata:x\n\n";
    events e;
    long retry;
    ck_assert_int_eq(parse(NULL, s, strlen(s), 0, &e, &retry), MCPC_OK);
    ck_assert_uint_eq(e.n, 3);
    expect_event(&e, 0, "ping", "hello", "7");
    expect_event(&e, 1, "message", "second", "7");   /* type resets, the id stays */
    expect_event(&e, 2, "done", "x", "7");
    ck_assert_int_eq(retry, 2500);
    events_clear(&e);
}
END_TEST

START_TEST(test_multiline_data)
{
    /* one space after ':' is dropped, a second is kept; "data" alone adds an empty line */
    const char *s = "data: a\ndata:b\ndata:  c\ndata\ndata: d\n\n";
    events e;
    parse(NULL, s, strlen(s), 0, &e, NULL);
    ck_assert_uint_eq(e.n, 1);
    expect_event(&e, 0, "message", "a\nb\n c\n\nd", "");
    events_clear(&e);
}
END_TEST

START_TEST(test_empty_events)
{
    /* "data:" alone dispatches an event with empty data; a blank line or a type alone does not */
    const char *s = "\n\n\nevent: x\n\ndata:\n\nid: 1\n\ndata: y\n\n";
    events e;
    parse(NULL, s, strlen(s), 0, &e, NULL);
    ck_assert_uint_eq(e.n, 2);
    expect_event(&e, 0, "message", "", "");
    expect_event(&e, 1, "message", "y", "1");   /* "event: x" did not carry over */
    events_clear(&e);
}
END_TEST

START_TEST(test_line_endings)
{
    const char *s = "data: a\rdata: b\r\ndata: c\n\r"   /* CR, CRLF, LF; the CR ends the event */
                    "data: d\r\r"
                    "data: e\r\n\r\n";
    events e;
    parse(NULL, s, strlen(s), 0, &e, NULL);
    ck_assert_uint_eq(e.n, 3);
    expect_event(&e, 0, "message", "a\nb\nc", "");
    expect_event(&e, 1, "message", "d", "");
    expect_event(&e, 2, "message", "e", "");
    events_clear(&e);
}
END_TEST

START_TEST(test_field_names)
{
    /* field names are exact and case-sensitive; no colon means an empty value */
    const char *s = "Data: no\ndat: no\ndatax: no\n data: no\ndata:yes\n\n"
                    "event\ndata: z\n\n";
    events e;
    parse(NULL, s, strlen(s), 0, &e, NULL);
    ck_assert_uint_eq(e.n, 2);
    expect_event(&e, 0, "message", "yes", "");
    expect_event(&e, 1, "message", "z", "");
    events_clear(&e);
}
END_TEST

/* ---- chunking ----------------------------------------------------------------------------- */

static const char sample[] = "\xEF\xBB\xBF: comment\r\n"
                             "event: a\r\nid: 1\r\ndata: one\r\ndata: two\r\n\r\n"
                             "data: three\r\r"
                             "retry: 100\ndata:four\n\n"
                             ":\r\n"
                             "id: 2\r\ndata\r\n\r\n";

START_TEST(test_every_split_point)
{
    size_t n = sizeof sample - 1;
    events whole, split;
    long r1, r2;
    mcpc_err rc1 = parse(NULL, sample, n, 0, &whole, &r1);
    ck_assert_uint_eq(whole.n, 4);
    expect_event(&whole, 0, "a", "one\ntwo", "1");
    expect_event(&whole, 1, "message", "three", "1");
    expect_event(&whole, 2, "message", "four", "1");
    expect_event(&whole, 3, "message", "", "2");
    ck_assert_int_eq(r1, 100);
    /* two chunks, split at every position */
    for (size_t k = 0; k <= n; k++) {
        mcpc_sse *p = mcpc_sse_new(NULL, collect, &split);
        memset(&split, 0, sizeof split);
        mcpc_sse_feed(p, sample, k);
        mcpc_sse_feed(p, sample + k, n - k);
        mcpc_err rc2 = mcpc_sse_end(p);
        ck_assert_msg(events_equal(&whole, &split) && rc1 == rc2 && mcpc_sse_retry(p) == r1,
                      "split at %zu differs", k);
        mcpc_sse_free(p);
        events_clear(&split);
    }
    /* byte by byte, and in chunks of 2 and 3 */
    for (size_t chunk = 1; chunk <= 3; chunk++) {
        mcpc_err rc2 = parse(NULL, sample, n, chunk, &split, &r2);
        ck_assert_msg(events_equal(&whole, &split) && rc1 == rc2 && r1 == r2, "chunk %zu", chunk);
        events_clear(&split);
    }
    events_clear(&whole);
}
END_TEST

START_TEST(test_bom)
{
    events e;
    /* only one BOM, only at the start, and a partial BOM is content */
    parse(NULL, "\xEF\xBB\xBF" "data: x\n\n", 12, 1, &e, NULL);
    ck_assert_uint_eq(e.n, 1);
    expect_event(&e, 0, "message", "x", "");
    events_clear(&e);
    parse(NULL, "\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n", 15, 0, &e, NULL);
    ck_assert_uint_eq(e.n, 0);   /* the second BOM makes the field name unknown */
    events_clear(&e);
    parse(NULL, "\xEF\xBB" "data: x\n\n", 11, 1, &e, NULL);
    ck_assert_uint_eq(e.n, 0);
    events_clear(&e);
    parse(NULL, "data: \xEF\xBB\xBF\n\n", 11, 0, &e, NULL);
    ck_assert_uint_eq(e.n, 1);
    expect_event(&e, 0, "message", "\xEF\xBB\xBF", "");
    events_clear(&e);
}
END_TEST

START_TEST(test_comments)
{
    const char *s = ": keep-alive\n:\r\ndata: a\n: between lines\ndata: b\n\n:" "\n";
    events e;
    ck_assert_int_eq(parse(NULL, s, strlen(s), 0, &e, NULL), MCPC_OK);
    ck_assert_uint_eq(e.n, 1);
    expect_event(&e, 0, "message", "a\nb", "");
    events_clear(&e);
}
END_TEST

START_TEST(test_retry)
{
    events e;
    long r;
    parse_str("retry: 3000\n", &e, &r);
    ck_assert_int_eq(r, 3000);
    parse_str("retry: 10\nretry: 30x\nretry:\nretry: -5\nretry:  7\n", &e, &r);
    ck_assert_int_eq(r, 10);   /* non-digits (a second space included) are ignored */
    parse_str("retry: 999999999999999999999999999\n", &e, &r);
    ck_assert_int_eq(r, LONG_MAX);
    parse_str("data: x\n\n", &e, &r);
    ck_assert_int_eq(r, -1);
}
END_TEST

START_TEST(test_id_with_nul_ignored)
{
    const char s[] = "id: good\ndata: 1\n\nid: b\0d\ndata: 2\n\nid\ndata: 3\n\n";
    events e;
    mcpc_sse *p = mcpc_sse_new(NULL, collect, &e);
    memset(&e, 0, sizeof e);
    mcpc_sse_feed(p, s, sizeof s - 1);
    ck_assert_uint_eq(e.n, 3);
    expect_event(&e, 0, "message", "1", "good");
    expect_event(&e, 1, "message", "2", "good");   /* the id with NUL did not change it */
    expect_event(&e, 2, "message", "3", "");       /* an empty id resets it */
    ck_assert_str_eq(mcpc_sse_last_id(p), "");
    mcpc_sse_free(p);
    events_clear(&e);
}
END_TEST

START_TEST(test_nul_in_data)
{
    const char s[] = "data: a\0b\n\n";
    events e;
    parse(NULL, s, sizeof s - 1, 0, &e, NULL);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_uint_eq(e.len[0], 3);
    ck_assert(memcmp(e.data[0], "a\0b", 3) == 0);
    events_clear(&e);
}
END_TEST

/* ---- bounds ------------------------------------------------------------------------------- */

START_TEST(test_event_too_big)
{
    mcpc_sse_limits lim = {16, 8, 8};
    const char *s = "data: 0123456789abcdefXYZ\ndata: more\n\n"   /* 19 bytes of data > 16 */
                    "data: ok\n\n"
                    "data: 0123456789\ndata: 01234\n\n"              /* 10 + 1 + 5 = 16: fits */
                    "data: 0123456789\ndata: 012345\n\n"             /* 17: over by the joining LF */
                    "id: 123456789\ndata: skipped\n\n"               /* id value over max_line */
                    "data: last\n\n";
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        events e;
        parse(&lim, s, strlen(s), chunk, &e, NULL);
        ck_assert_uint_eq(e.n, 6);
        ck_assert_int_eq(e.err[0], MCPC_ERR_TOO_BIG);
        ck_assert_uint_eq(e.len[0], 17);
        expect_event(&e, 1, "message", "ok", "");
        expect_event(&e, 2, "message", "0123456789\n01234", "");
        ck_assert_int_eq(e.err[3], MCPC_ERR_TOO_BIG);
        ck_assert_int_eq(e.err[4], MCPC_ERR_TOO_BIG);
        ck_assert_uint_eq(e.len[4], 9);
        expect_event(&e, 5, "message", "last", "");   /* the over-long id was not applied */
        events_clear(&e);
    }
}
END_TEST

START_TEST(test_too_big_reported_once)
{
    mcpc_sse_limits lim = {16, 8, 8};
    events e;
    mcpc_sse *p = mcpc_sse_new(&lim, collect, &e);
    memset(&e, 0, sizeof e);
    ck_assert_int_eq(mcpc_sse_feed(p, "data: 0123456789", 16), MCPC_OK);
    ck_assert_int_eq(mcpc_sse_feed(p, "abcdefgh", 8), MCPC_ERR_TOO_BIG);
    /* the rest of the event, however long, is skipped without another report */
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(mcpc_sse_feed(p, "zzzzzzzzzz\ndata: zz", 19), MCPC_OK);
    ck_assert_int_eq(feed_str(p, "\n\ndata: next\n\n"), MCPC_OK);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_int_eq(e.err[0], MCPC_ERR_TOO_BIG);
    expect_event(&e, 1, "message", "next", "");
    mcpc_sse_free(p);
    events_clear(&e);
}
END_TEST

START_TEST(test_queue_mode_and_bound)
{
    mcpc_sse_limits lim = {64, 64, 2};
    mcpc_sse_event ev;
    mcpc_sse *p = mcpc_sse_new(&lim, NULL, NULL);
    ck_assert_int_eq(feed_str(p, "id: 1\nevent: t\ndata: a\n\ndata: b\n\n"), MCPC_OK);
    ck_assert_int_eq(mcpc_sse_feed(p, "data: c\n\n", 9), MCPC_ERR_TOO_BIG);
    ck_assert_uint_eq(mcpc_sse_dropped(p), 1);
    ck_assert_int_eq(mcpc_sse_next(p, &ev), 1);
    ck_assert_str_eq(ev.type, "t");
    ck_assert_str_eq(ev.data, "a");
    ck_assert_str_eq(ev.id, "1");
    ck_assert_int_eq(mcpc_sse_next(p, &ev), 1);
    ck_assert_str_eq(ev.data, "b");
    ck_assert_int_eq(mcpc_sse_next(p, &ev), 0);
    ck_assert_int_eq(mcpc_sse_feed(p, "data: d\n\n", 9), MCPC_OK);
    ck_assert_int_eq(mcpc_sse_next(p, &ev), 1);
    ck_assert_str_eq(ev.data, "d");
    /* an event left in the queue is freed with the parser */
    ck_assert_int_eq(mcpc_sse_feed(p, "data: e\n\n", 9), MCPC_OK);
    mcpc_sse_free(p);
}
END_TEST

START_TEST(test_end_of_stream)
{
    events e;
    ck_assert_int_eq(parse(NULL, "data: a\n\ndata: cut", 18, 0, &e, NULL), MCPC_ERR_EOF);
    ck_assert_uint_eq(e.n, 1);   /* the unterminated event is discarded */
    events_clear(&e);
    ck_assert_int_eq(parse(NULL, "data: a\n\ndata: b\n", 17, 0, &e, NULL), MCPC_ERR_EOF);
    ck_assert_uint_eq(e.n, 1);
    events_clear(&e);
    ck_assert_int_eq(parse(NULL, "data: a\n\n", 9, 0, &e, NULL), MCPC_OK);
    events_clear(&e);
    ck_assert_int_eq(parse(NULL, "", 0, 0, &e, NULL), MCPC_OK);
    ck_assert_uint_eq(e.n, 0);
}
END_TEST

/* ---- fuzz entry point --------------------------------------------------------------------- */

START_TEST(test_fuzz_nasty)
{
#define NASTY(lit) {lit, sizeof lit - 1}
    static const struct {
        const char *s;
        size_t n;
    } nasty[] = {
        NASTY(""), NASTY("\r"), NASTY("\n"), NASTY("\r\n"), NASTY("\r\r\n\n"), NASTY("\xEF"),
        NASTY("\xEF\xBB"), NASTY("\xEF\xBB\xBF"), NASTY("\xEF\xBB\xBF\xEF\xBB\xBF\n\n"),
        NASTY(":"), NASTY("data"), NASTY("data:"), NASTY("data:\r"), NASTY("data:\r\n\r\n"),
        NASTY("id:\0\n\n"), NASTY("retry:99999999999999999999999999999\n"),
        NASTY("event:\n\n\n\n"), NASTY("data: x\r\n\rdata: y\n\r\n"), NASTY("\0\0\0\n\n"),
        NASTY("data:\xff\xfe\n\n"), NASTY("\xEF\xBB\xBF\r"), NASTY("\xEF\xBB\n\n"),
    };
#undef NASTY
    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++)
        ck_assert_int_eq(mcpc_sse_fuzz_one((const uint8_t *)nasty[i].s, nasty[i].n), 0);

    /* over the fuzz bounds (512 data bytes, 64-byte values), with CRs and LFs in between */
    size_t n = 5000;
    uint8_t *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memcpy(big, "data: ", 6);
    for (size_t i = 6; i < n; i++)
        big[i] = i % 700 == 0 ? '\n' : i % 333 == 0 ? '\r' : 'a';
    ck_assert_int_eq(mcpc_sse_fuzz_one(big, n), 0);
    memcpy(big, "id:   ", 6);
    ck_assert_int_eq(mcpc_sse_fuzz_one(big, n), 0);
    free(big);
}
END_TEST

START_TEST(test_fuzz_random)
{
    /* streams assembled from SSE tokens, deterministic */
    static const char *const tok[] = {
        "data", "data:", "data: ", "event:", "id:", "retry:", ":", " ", "x", "12", "\r", "\n",
        "\r\n", "\xEF\xBB\xBF", "\0", "event: message", "0123456789012345678901234567890123456789",
    };
    uint32_t s = 12345;
    uint8_t buf[2048];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        s = s * 1103515245u + 12345u;
        size_t want = (s >> 8) % sizeof buf;
        while (n < want) {
            s = s * 1103515245u + 12345u;
            const char *t = tok[(s >> 16) % (sizeof tok / sizeof tok[0])];
            size_t tl = t[0] ? strlen(t) : 1;
            if (n + tl > sizeof buf)
                break;
            memcpy(buf + n, t, tl);
            n += tl;
        }
        ck_assert_int_eq(mcpc_sse_fuzz_one(buf, n), 0);
    }
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

static Suite *sse_suite(void)
{
    Suite *s = suite_create("sse");
    TCase *tc = tcase_create("fields");
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_multiline_data);
    tcase_add_test(tc, test_empty_events);
    tcase_add_test(tc, test_line_endings);
    tcase_add_test(tc, test_field_names);
    tcase_add_test(tc, test_comments);
    tcase_add_test(tc, test_retry);
    tcase_add_test(tc, test_id_with_nul_ignored);
    tcase_add_test(tc, test_nul_in_data);
    suite_add_tcase(s, tc);

    tc = tcase_create("chunking");
    tcase_add_test(tc, test_every_split_point);
    tcase_add_test(tc, test_bom);
    tcase_add_test(tc, test_end_of_stream);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, test_event_too_big);
    tcase_add_test(tc, test_too_big_reported_once);
    tcase_add_test(tc, test_queue_mode_and_bound);
    suite_add_tcase(s, tc);

    tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fuzz_nasty);
    tcase_add_test(tc, test_fuzz_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sse_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Unit tests for the report layer: verdict order, the bus, and the terminal, JSON and JUnit
 * writers, including what they do with hostile bytes from an implementation under test. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

/* ---- fixtures ------------------------------------------------------------------------------ */

/* Bytes a hostile server might put in a response: an SGR colour change, a newline (forging a
 * report line), an OSC window-title sequence, a carriage return, a C1 CSI and a bidi override. */
#define HOSTILE \
    "\x1b[31mred\nPASS forged line\x1b]0;pwned\x07 cr\r \xc2\x9b" "2J \xe2\x80\xae" "rtl"

static const mcpc_run_info run_info = {
    .tool_version = "0.1.0",
    .target = "./targets/refserver --flaw none",
    .role = "server",
    .transport = "stdio",
    .era = "2025-11-25",
    .profile = "gold",
    .total_cases = 2,
};

/* New ref: a requirements array with one entry. */
static json_t *requirements(const char *id, const char *level, const char *text)
{
    return json_pack("[{s:s, s:s, s:s}]", "id", id, "level", level, "text", text);
}

/* New ref: a short transcript. */
static json_t *transcript(void)
{
    return json_pack("[{s:f, s:s, s:s}, {s:f, s:s, s:s}, {s:f, s:s, s:s}]",
                     "t_ms", 0.25, "dir", "send", "data",
                     "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                     "t_ms", 3.5, "dir", "recv", "data",
                     "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}",
                     "t_ms", 3.75, "dir", "stderr", "data", "\\x1b[31m");
}

/* New ref: a checks array with one entry. */
static json_t *checks(const char *verdict)
{
    return json_pack("[{s:i, s:s, s:s, s:s}]", "step", 1, "verdict", verdict, "expected",
                     "an error response", "arrived", "a result");
}

/* A result whose json members are new references the caller must release (as the runner does
 * right after the event). */
static mcpc_case_result result(const char *id, const char *title, mcpc_verdict v)
{
    mcpc_case_result r = {
        .id = id,
        .title = title,
        .level = "MUST",
        .requirements = requirements("MCP-MSG-03", "MUST",
                                     "Request id is a string or integer, never null."),
        .verdict = v,
        .expected = v == MCPC_V_PASS ? "" : "JSON-RPC error -32600",
        .arrived = v == MCPC_V_PASS ? "" : "{\"result\":{}}",
        .message = v == MCPC_V_PASS ? "" : "server accepted a null id",
        .checks = checks(mcpc_verdict_name(v)),
        .transcript = transcript(),
        .elapsed_ms = 12.5,
    };
    return r;
}

/* Releases what result() allocated, as the runner does after case-end. The arrays are emptied
 * first, as a runner reusing them would: a writer that kept a reference instead of a copy then
 * loses the data and the tests see it. */
static void result_release(mcpc_case_result *r)
{
    json_array_clear(r->requirements);
    json_array_clear(r->checks);
    json_array_clear(r->transcript);
    json_decref(r->requirements);
    json_decref(r->checks);
    json_decref(r->transcript);
    r->requirements = r->checks = r->transcript = NULL;
}

/* Emits case-end for r through l, then releases r's arrays. */
static void emit_case(mcpc_listener *l, size_t index, mcpc_case_result r)
{
    l->case_start(l, index, r.id, r.title);
    l->case_end(l, index, &r);
    result_release(&r);
}

/* A summary for `n` cases with the given outcome counts. */
static mcpc_run_summary summary(size_t pass, size_t fail, size_t skip, int attained)
{
    mcpc_run_summary s = {0};

    s.counts[MCPC_V_PASS] = pass;
    s.counts[MCPC_V_FAIL] = fail;
    s.counts[MCPC_V_SKIP] = skip;
    s.passed = pass;
    s.failed = fail;
    s.skipped = skip;
    s.profile = "gold";
    s.attained = attained;
    s.profile_message = attained ? "attained" : "1 MUST case failed";
    s.exit_code = attained ? 0 : 1;
    s.elapsed_ms = 1234.5;
    return s;
}

/* Captures what a terminal writer prints: call term_open, drive the listener, then term_close
 * returns the text (malloc'd, NUL-terminated). */
typedef struct {
    FILE *fp;
    char *buf;
    size_t len;
    mcpc_listener *l;
} capture;

static void term_open(capture *c, int colour)
{
    memset(c, 0, sizeof *c);
    c->fp = open_memstream(&c->buf, &c->len);
    ck_assert_ptr_nonnull(c->fp);
    c->l = mcpc_report_term_new(c->fp, colour);
    ck_assert_ptr_nonnull(c->l);
}

static char *term_close(capture *c)
{
    c->l->destroy(c->l);
    ck_assert_int_eq(fclose(c->fp), 0);
    return c->buf;
}

/* Number of non-overlapping occurrences of needle in hay. */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);

    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* The line of text that contains needle, copied into line (NUL-terminated). */
static int line_with(const char *text, const char *needle, char *line, size_t size)
{
    const char *p = strstr(text, needle), *start, *end;

    if (!p)
        return 0;
    for (start = p; start > text && start[-1] != '\n'; start--)
        ;
    end = strchr(p, '\n');
    if (!end)
        end = p + strlen(p);
    snprintf(line, size, "%.*s", (int)(end - start), start);
    return 1;
}

/* Whole file at path (malloc'd, NUL-terminated; embedded NULs would shorten it). */
static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    if (len_out)
        *len_out = (size_t)len;
    return buf;
}

/* A fresh private directory per test; tests run forked, so nothing is shared. */
static char tmpdir[64];
static char report_path[128];

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_report.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Removes the few names the tests create, then the directory. */
static void tmp_teardown(void)
{
    static const char *const names[] = {"r.json", "r.json.tmp", "r.xml", "r.xml.tmp", "victim"};
    char p[192];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

static const char *tmp_path(const char *name)
{
    snprintf(report_path, sizeof report_path, "%s/%s", tmpdir, name);
    return report_path;
}

/* ---- verdicts ------------------------------------------------------------------------------ */

START_TEST(test_verdict_names)
{
    static const char *const want[MCPC_V__COUNT] = {
        "PASS", "WARN", "FAIL", "SKIP", "NOT_TESTABLE", "TIMEOUT", "CRASH", "ERROR",
    };

    for (int v = 0; v < MCPC_V__COUNT; v++)
        ck_assert_str_eq(mcpc_verdict_name((mcpc_verdict)v), want[v]);
    ck_assert_str_eq(mcpc_verdict_name(MCPC_V__COUNT), "ERROR");
    ck_assert_str_eq(mcpc_verdict_name((mcpc_verdict)-1), "ERROR");
}
END_TEST

START_TEST(test_verdict_worst)
{
    /* Least to most severe, as report.h states it. */
    static const mcpc_verdict order[] = {
        MCPC_V_SKIP, MCPC_V_PASS, MCPC_V_WARN, MCPC_V_NOT_TESTABLE,
        MCPC_V_FAIL, MCPC_V_TIMEOUT, MCPC_V_CRASH, MCPC_V_ERROR,
    };
    const size_t n = sizeof order / sizeof order[0];

    ck_assert_uint_eq(n, MCPC_V__COUNT);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            ck_assert_int_eq(mcpc_verdict_worst(order[i], order[j]), order[i > j ? i : j]);
    ck_assert_int_eq(mcpc_verdict_worst(MCPC_V_PASS, MCPC_V__COUNT), MCPC_V_ERROR);
}
END_TEST

/* ---- bus ----------------------------------------------------------------------------------- */

typedef struct {
    int starts, case_starts, case_ends, ends, destroyed;
    mcpc_err end_rc;
} probe;

static void probe_run_start(mcpc_listener *self, const mcpc_run_info *info)
{
    ((probe *)self->state)->starts++;
}

static void probe_case_start(mcpc_listener *self, size_t index, const char *id, const char *title)
{
    ((probe *)self->state)->case_starts++;
}

static void probe_case_end(mcpc_listener *self, size_t index, const mcpc_case_result *res)
{
    ((probe *)self->state)->case_ends++;
}

static mcpc_err probe_run_end(mcpc_listener *self, const mcpc_run_summary *sum)
{
    probe *p = self->state;

    p->ends++;
    return p->end_rc;
}

static void probe_destroy(mcpc_listener *self)
{
    ((probe *)self->state)->destroyed++;
}

static void probe_init(mcpc_listener *l, probe *p, mcpc_err end_rc)
{
    memset(p, 0, sizeof *p);
    p->end_rc = end_rc;
    *l = (mcpc_listener){probe_run_start, probe_case_start, probe_case_end, probe_run_end,
                         probe_destroy, p};
}

START_TEST(test_bus_fanout_and_first_error)
{
    mcpc_report_bus bus = {0};
    mcpc_listener l[3];
    probe p[3];
    mcpc_run_summary sum = summary(1, 0, 0, 1);
    mcpc_case_result r = {.id = "X-1", .title = "t"};

    probe_init(&l[0], &p[0], MCPC_OK);
    probe_init(&l[1], &p[1], MCPC_ERR_IO);
    probe_init(&l[2], &p[2], MCPC_ERR_NOMEM);
    mcpc_report_bus_add(&bus, NULL);   /* a failed *_new is ignored */
    for (int i = 0; i < 3; i++)
        mcpc_report_bus_add(&bus, &l[i]);
    ck_assert_uint_eq(bus.n, 3);

    mcpc_report_bus_run_start(&bus, &run_info);
    mcpc_report_bus_case_start(&bus, 0, r.id, r.title);
    mcpc_report_bus_case_end(&bus, 0, &r);
    ck_assert_int_eq(mcpc_report_bus_run_end(&bus, &sum), MCPC_ERR_IO);
    mcpc_report_bus_destroy(&bus);
    mcpc_report_bus_destroy(&bus);   /* emptied: a second call does nothing */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(p[i].starts, 1);
        ck_assert_int_eq(p[i].case_starts, 1);
        ck_assert_int_eq(p[i].case_ends, 1);
        ck_assert_int_eq(p[i].ends, 1);   /* every writer ran, although the second failed */
        ck_assert_int_eq(p[i].destroyed, 1);
    }
    ck_assert_uint_eq(bus.n, 0);
}
END_TEST

START_TEST(test_bus_overflow)
{
    mcpc_report_bus bus = {0};
    mcpc_listener l[MCPC_REPORT_MAX_LISTENERS + 1];
    probe p[MCPC_REPORT_MAX_LISTENERS + 1];

    for (int i = 0; i <= MCPC_REPORT_MAX_LISTENERS; i++) {
        probe_init(&l[i], &p[i], MCPC_OK);
        mcpc_report_bus_add(&bus, &l[i]);
    }
    ck_assert_uint_eq(bus.n, MCPC_REPORT_MAX_LISTENERS);
    /* The extra one was never added; the bus owned it, so it was released at once. */
    ck_assert_int_eq(p[MCPC_REPORT_MAX_LISTENERS].destroyed, 1);
    mcpc_report_bus_run_start(&bus, &run_info);
    ck_assert_int_eq(p[MCPC_REPORT_MAX_LISTENERS].starts, 0);
    mcpc_report_bus_destroy(&bus);
    for (int i = 0; i < MCPC_REPORT_MAX_LISTENERS; i++)
        ck_assert_int_eq(p[i].destroyed, 1);
}
END_TEST

/* ---- terminal ------------------------------------------------------------------------------ */

START_TEST(test_term_header_and_pass)
{
    capture c;
    char *out;

    term_open(&c, 0);
    c.l->run_start(c.l, &run_info);
    emit_case(c.l, 0, result("MSG-01", "Result id matches the request id", MCPC_V_PASS));
    out = term_close(&c);

    ck_assert_ptr_nonnull(strstr(out, "mcpcert 0.1.0\n"));
    ck_assert_ptr_nonnull(strstr(out, "  target:    ./targets/refserver --flaw none\n"));
    ck_assert_ptr_nonnull(strstr(out, "  role:      server\n"));
    ck_assert_ptr_nonnull(strstr(out, "  transport: stdio\n"));
    ck_assert_ptr_nonnull(strstr(out, "  era:       2025-11-25\n"));
    ck_assert_ptr_nonnull(strstr(out, "  profile:   gold\n"));
    ck_assert_ptr_nonnull(strstr(out, "  cases:     2\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "\n[1/2] PASS         MSG-01  Result id matches the request id\n"));
    /* A PASS gets its one line and nothing more. */
    ck_assert_ptr_null(strstr(out, "requirement:"));
    ck_assert_ptr_null(strstr(out, "expected:"));
    free(out);
}
END_TEST

START_TEST(test_term_fail_details)
{
    capture c;
    char *out;
    mcpc_case_result r = result("MSG-03", "Null request id is refused", MCPC_V_FAIL);

    r.expected_failure = 1;
    term_open(&c, 0);
    c.l->run_start(c.l, &run_info);
    emit_case(c.l, 0, result("MSG-01", "Result id matches the request id", MCPC_V_PASS));
    emit_case(c.l, 1, r);
    out = term_close(&c);

    ck_assert_ptr_nonnull(
        strstr(out, "\n[2/2] FAIL         MSG-03  Null request id is refused (expected)\n"
                    "        requirement: MCP-MSG-03 (MUST) Request id is a string or integer, "
                    "never null.\n"
                    "        expected: JSON-RPC error -32600\n"
                    "        arrived: {\"result\":{}}\n"
                    "        message: server accepted a null id\n"));
    free(out);
}
END_TEST

START_TEST(test_term_progress_width)
{
    capture c;
    char *out;
    mcpc_run_info info = run_info;
    mcpc_case_result r = result("MSG-02", "Listed but passing", MCPC_V_PASS);

    info.total_cases = 38;
    r.expected_failure = 1;
    term_open(&c, 0);
    c.l->run_start(c.l, &info);
    emit_case(c.l, 0, result("MSG-01", "one", MCPC_V_PASS));
    emit_case(c.l, 1, r);
    emit_case(c.l, 2, result("MSG-03", "three", MCPC_V_NOT_TESTABLE));
    out = term_close(&c);

    ck_assert_ptr_nonnull(strstr(out, "\n[ 1/38] PASS         MSG-01  one\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "\n[ 2/38] PASS         MSG-02  Listed but passing (expected failure, but "
                    "passed)\n"));
    ck_assert_ptr_nonnull(
        strstr(out, "\n[ 3/38] NOT_TESTABLE MSG-03  three\n        requirement:"));
    free(out);
}
END_TEST

START_TEST(test_term_hostile_bytes_colour_off)
{
    capture c;
    char *out, line[1024];
    mcpc_case_result r = result("MSG-03", "Null request id is refused", MCPC_V_FAIL);
    mcpc_run_summary sum = summary(1, 1, 0, 0);

    r.arrived = HOSTILE;
    r.message = "bad byte \xff and a newline\nhere";
    term_open(&c, 0);
    c.l->run_start(c.l, &run_info);
    emit_case(c.l, 0, r);
    ck_assert_int_eq(c.l->run_end(c.l, &sum), MCPC_OK);
    out = term_close(&c);

    /* Not one ESC, BEL, CR or C1 byte reaches the terminal; every one is shown as text. */
    ck_assert_ptr_null(memchr(out, 0x1b, c.len));
    ck_assert_ptr_null(memchr(out, 0x07, c.len));
    ck_assert_ptr_null(memchr(out, '\r', c.len));
    ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
    ck_assert_ptr_null(strstr(out, "\xe2\x80\xae"));
    ck_assert(line_with(out, "arrived: ", line, sizeof line));
    ck_assert_str_eq(line, "        arrived: \\x1b[31mred\\nPASS forged line\\x1b]0;pwned\\x07 "
                           "cr\\r \\u009b2J \\u202ertl");
    ck_assert(line_with(out, "message: ", line, sizeof line));
    ck_assert_str_eq(line, "        message: bad byte \\xff and a newline\\nhere");
    /* The embedded newline did not start a line of its own. */
    ck_assert_uint_eq(count(out, "\nPASS forged line"), 0);
    free(out);
}
END_TEST

START_TEST(test_term_colour_on)
{
    capture c;
    char *out;
    mcpc_case_result r = result("MSG-03", "Null request id is refused", MCPC_V_FAIL);

    r.arrived = HOSTILE;
    term_open(&c, 1);
    c.l->run_start(c.l, &run_info);
    emit_case(c.l, 0, result("MSG-01", "Result id matches the request id", MCPC_V_PASS));
    emit_case(c.l, 1, r);
    emit_case(c.l, 2, result("MSG-09", "Skipped one", MCPC_V_SKIP));
    emit_case(c.l, 3, result("MSG-10", "Harness fault", MCPC_V_ERROR));
    out = term_close(&c);

    ck_assert_ptr_nonnull(strstr(out, "\x1b[32mPASS\x1b[0m"));
    ck_assert_ptr_nonnull(strstr(out, "\x1b[31mFAIL\x1b[0m"));
    ck_assert_ptr_nonnull(strstr(out, "\x1b[90mSKIP\x1b[0m"));
    ck_assert_ptr_nonnull(strstr(out, "\x1b[35mERROR\x1b[0m"));
    /* Colour is ours alone: the implementation's sequence is still escaped. */
    ck_assert_ptr_null(strstr(out, "\x1b[31mred"));
    ck_assert_ptr_nonnull(strstr(out, "\\x1b[31mred"));
    /* Exactly one SGR pair per case line. */
    ck_assert_uint_eq(count(out, "\x1b["), 8);
    free(out);
}
END_TEST

START_TEST(test_term_truncates)
{
    capture c;
    char *out, *big, line[2048];
    mcpc_case_result r = result("MSG-03", "Null request id is refused", MCPC_V_FAIL);

    big = malloc(100001);
    ck_assert_ptr_nonnull(big);
    memset(big, '\n', 100000);   /* each escapes to two bytes: truncation counts output */
    big[100000] = '\0';
    r.arrived = big;
    term_open(&c, 0);
    emit_case(c.l, 0, r);
    out = term_close(&c);

    ck_assert(line_with(out, "arrived: ", line, sizeof line));
    ck_assert_uint_le(strlen(line), 8 + strlen("arrived: ") + 300 + 32);
    ck_assert_ptr_nonnull(strstr(line, "\\n\\n ... (+99850 bytes)"));
    free(big);
    free(out);
}
END_TEST

START_TEST(test_term_closing_lines)
{
    capture c;
    char *out;
    mcpc_run_summary sum = summary(3, 1, 1, 0);
    size_t len;

    term_open(&c, 0);
    c.l->run_start(c.l, &run_info);
    ck_assert_int_eq(c.l->run_end(c.l, &sum), MCPC_OK);
    out = term_close(&c);

    ck_assert_ptr_nonnull(strstr(out, "\n\nprofile gold: NOT attained \xe2\x80\x94 "
                                      "1 MUST case failed\n"));
    ck_assert_ptr_nonnull(strstr(out, "PASS 3, WARN 0, FAIL 1, SKIP 1, NOT_TESTABLE 0, "
                                      "TIMEOUT 0, CRASH 0, ERROR 0\n"));
    len = strlen(out);
    ck_assert_uint_gt(len, 40);
    /* The closing line is the last line, exactly. */
    ck_assert_str_eq(out + len - strlen("\n3 passed, 1 failed, 1 skipped\n"),
                     "\n3 passed, 1 failed, 1 skipped\n");
    free(out);

    sum = summary(5, 0, 0, 1);
    term_open(&c, 0);
    ck_assert_int_eq(c.l->run_end(c.l, &sum), MCPC_OK);
    out = term_close(&c);
    ck_assert_ptr_nonnull(strstr(out, "\nprofile gold: attained\n"));
    free(out);

    sum.profile = NULL;   /* --case/--suite run: no profile line */
    term_open(&c, 0);
    ck_assert_int_eq(c.l->run_end(c.l, &sum), MCPC_OK);
    out = term_close(&c);
    ck_assert_ptr_null(strstr(out, "profile"));
    ck_assert_ptr_nonnull(strstr(out, "\n5 passed, 0 failed, 0 skipped\n"));
    free(out);
}
END_TEST

START_TEST(test_term_write_error)
{
    FILE *full = fopen("/dev/full", "w");
    mcpc_listener *l;
    mcpc_run_summary sum = summary(1, 0, 0, 1);

    if (!full)
        return;   /* not Linux; nothing to test against */
    l = mcpc_report_term_new(full, 0);
    ck_assert_ptr_nonnull(l);
    l->run_start(l, &run_info);
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_ERR_IO);
    l->destroy(l);
    fclose(full);
}
END_TEST

/* ---- JSON ---------------------------------------------------------------------------------- */

START_TEST(test_json_round_trip)
{
    const char *path = tmp_path("r.json");
    mcpc_listener *l = mcpc_report_json_new(path);
    mcpc_case_result r = result("MSG-03", "Null request id is refused", MCPC_V_FAIL);
    mcpc_run_summary sum = summary(1, 1, 0, 0);
    json_t *want = json_deep_copy(r.transcript), *doc, *c1;
    json_error_t jerr;
    struct stat stbuf;

    ck_assert_ptr_nonnull(l);
    r.expected_failure = 1;
    l->run_start(l, &run_info);
    emit_case(l, 0, result("MSG-01", "Result id matches the request id", MCPC_V_PASS));
    emit_case(l, 1, r);   /* releases r's arrays: the writer must hold copies */
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_OK);
    l->destroy(l);

    ck_assert_int_ne(stat(tmp_path("r.json.tmp"), &stbuf), 0);
    doc = json_load_file(tmp_path("r.json"), JSON_REJECT_DUPLICATES, &jerr);
    ck_assert_msg(doc != NULL, "report does not parse: %s", jerr.text);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "mcpcert-report/1");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "tool"), "name")),
                     "mcpcert");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "run"), "era")),
                     "2025-11-25");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_object_get(doc, "summary"), "counts"), "FAIL")),
                     1);
    ck_assert(json_is_false(json_object_get(json_object_get(doc, "summary"), "attained")));
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "cases")), 2);
    c1 = json_array_get(json_object_get(doc, "cases"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(c1, "verdict")), "FAIL");
    ck_assert_str_eq(json_string_value(json_object_get(c1, "arrived")), "{\"result\":{}}");
    ck_assert(json_is_true(json_object_get(c1, "expected_failure")));
    ck_assert(json_equal(json_object_get(c1, "transcript"), want));
    ck_assert_uint_eq(json_array_size(json_object_get(c1, "requirements")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(c1, "checks")), 1);
    json_decref(doc);
    json_decref(want);
}
END_TEST

START_TEST(test_json_lossy_strings)
{
    mcpc_listener *l = mcpc_report_json_new(tmp_path("r.json"));
    mcpc_case_result r = result("MSG-03", "Null request id is refused", MCPC_V_FAIL);
    mcpc_run_summary sum = summary(0, 1, 0, 0);
    json_t *doc, *c0;
    char *text;

    r.arrived = "bad \xff\xfe then \xc3\xa9 and \xed\xa0\x80 (a surrogate)";
    r.message = HOSTILE;
    l->run_start(l, NULL);   /* the writer copes without run details */
    emit_case(l, 0, r);
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_OK);
    l->destroy(l);

    text = slurp(tmp_path("r.json"), NULL);
    ck_assert_ptr_null(strchr(text, 0x1b));   /* jansson escapes controls as \u001b */
    free(text);
    doc = json_load_file(tmp_path("r.json"), 0, NULL);
    ck_assert_ptr_nonnull(doc);
    c0 = json_array_get(json_object_get(doc, "cases"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(c0, "arrived")),
                     "bad \\xff\\xfe then \xc3\xa9 and \\xed\\xa0\\x80 (a surrogate)");
    ck_assert_str_eq(json_string_value(json_object_get(c0, "message")), HOSTILE);
    ck_assert(json_is_null(json_object_get(json_object_get(doc, "run"), "target")));
    json_decref(doc);
}
END_TEST

START_TEST(test_json_io_error)
{
    mcpc_listener *l = mcpc_report_json_new("/nonexistent-dir-for-mcpcert/r.json");
    mcpc_run_summary sum = summary(0, 0, 0, 1);

    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_ERR_IO);
    l->destroy(l);
    ck_assert_ptr_null(mcpc_report_json_new(NULL));
    ck_assert_ptr_null(mcpc_report_json_new(""));
}
END_TEST

START_TEST(test_json_tmp_symlink_not_followed)
{
    mcpc_listener *l = mcpc_report_json_new(tmp_path("r.json"));
    mcpc_run_summary sum = summary(0, 0, 0, 1);
    char victim[192], tmp[192];
    struct stat stbuf;

    snprintf(victim, sizeof victim, "%s/victim", tmpdir);
    snprintf(tmp, sizeof tmp, "%s/r.json.tmp", tmpdir);
    ck_assert_int_eq(symlink(victim, tmp), 0);   /* planted where the writer will write */
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_OK);
    l->destroy(l);
    ck_assert_int_ne(stat(victim, &stbuf), 0);
    ck_assert_int_ne(lstat(tmp, &stbuf), 0);
    ck_assert_int_eq(stat(tmp_path("r.json"), &stbuf), 0);
}
END_TEST

/* ---- JUnit --------------------------------------------------------------------------------- */

/* Rough well-formedness: every '&' starts a known entity or character reference, no control
 * byte other than tab and LF, and '<' never appears inside an attribute value. */
static void assert_xml_sane(const char *x, size_t len)
{
    int in_tag = 0, in_attr = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)x[i];

        ck_assert_msg(ch >= 0x20 || ch == '\n' || ch == '\t', "control byte 0x%02x at %zu", ch, i);
        if (ch == '&')
            ck_assert_msg(!strncmp(x + i, "&amp;", 5) || !strncmp(x + i, "&lt;", 4) ||
                              !strncmp(x + i, "&gt;", 4) || !strncmp(x + i, "&quot;", 6) ||
                              !strncmp(x + i, "&apos;", 6) || !strncmp(x + i, "&#", 2),
                          "bare & at %zu", i);
        if (in_attr) {
            ck_assert_msg(ch != '<', "'<' inside an attribute at %zu", i);
            if (ch == '"')
                in_attr = 0;
        } else if (in_tag) {
            if (ch == '"')
                in_attr = 1;
            else if (ch == '>')
                in_tag = 0;
        } else if (ch == '<') {
            in_tag = 1;
        }
    }
    ck_assert(!in_tag && !in_attr);
}

START_TEST(test_junit_document)
{
    mcpc_listener *l = mcpc_report_junit_new(tmp_path("r.xml"));
    mcpc_case_result fail = result("MSG-03", "a <b> & 'c'", MCPC_V_FAIL);
    mcpc_case_result warn = result("msg-04", "Warned", MCPC_V_WARN);
    mcpc_case_result err = result("Auth-01", "Harness fault", MCPC_V_ERROR);
    mcpc_case_result crash = result("MSG-05", "Died", MCPC_V_CRASH);
    mcpc_run_summary sum = summary(2, 3, 1, 0);
    size_t len;
    char *x;

    fail.arrived = "ctl\x01 then ]]> and \xff and \x1b[31m";
    fail.message = "two\nlines & \"quotes\"";
    warn.message = "SHOULD <not> met";
    ck_assert_ptr_nonnull(l);
    l->run_start(l, &run_info);
    emit_case(l, 0, result("MSG-01", "Passed", MCPC_V_PASS));
    emit_case(l, 1, fail);
    emit_case(l, 2, warn);
    emit_case(l, 3, err);
    emit_case(l, 4, result("MSG-06", "Not applicable", MCPC_V_SKIP));
    emit_case(l, 5, crash);
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_OK);
    l->destroy(l);

    x = slurp(tmp_path("r.xml"), &len);
    assert_xml_sane(x, len);
    ck_assert_uint_eq(strlen(x), len);   /* no NUL */
    ck_assert(!strncmp(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"mcpcert\" "
                          "tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"1\" time=\"1.235\"",
                       strlen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name="
                              "\"mcpcert\" tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"1\" "
                              "time=\"1.235\"")));
    ck_assert_uint_eq(count(x, "<testcase "), 6);
    ck_assert_uint_eq(count(x, "</testsuite>"), 1);
    ck_assert_ptr_nonnull(strstr(x, "<testcase classname=\"mcpcert.msg\" name=\"MSG-01 Passed\" "
                                    "time=\"0.013\"/>"));
    ck_assert_ptr_nonnull(strstr(x, "name=\"MSG-03 a &lt;b&gt; &amp; &apos;c&apos;\""));
    ck_assert_ptr_nonnull(strstr(x, "<failure message=\"two&#10;lines &amp; &quot;quotes&quot;\" "
                                    "type=\"FAIL\">requirement: MCP-MSG-03 (MUST) "));
    ck_assert_ptr_nonnull(strstr(x, "arrived: ctl\\x01 then ]]&gt; and \\xff and \\x1b[31m\n"));
    ck_assert_ptr_nonnull(
        strstr(x, "<failure message=\"server accepted a null id\" type=\"CRASH\">"));
    /* Quotes are escaped in attributes only; element text keeps JSON readable. */
    ck_assert_ptr_nonnull(strstr(x, "arrived: {\"result\":{}}\nmessage: "));
    ck_assert_ptr_nonnull(strstr(x, "classname=\"mcpcert.auth\""));
    ck_assert_ptr_nonnull(
        strstr(x, "<error message=\"server accepted a null id\" type=\"ERROR\">"));
    ck_assert_ptr_nonnull(strstr(x, "<skipped message="));
    ck_assert_ptr_nonnull(strstr(x, "<system-out>WARN: SHOULD &lt;not&gt; met</system-out>"));
    ck_assert_ptr_nonnull(strstr(x, "<property name=\"target\" value=\"./targets/refserver "
                                    "--flaw none\"/>"));
    free(x);
}
END_TEST

START_TEST(test_junit_io_error)
{
    mcpc_listener *l = mcpc_report_junit_new("/nonexistent-dir-for-mcpcert/r.xml");
    mcpc_run_summary sum = summary(0, 0, 0, 1);

    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(l->run_end(l, &sum), MCPC_ERR_IO);
    l->destroy(l);
}
END_TEST

/* ---- bus with the real writers ------------------------------------------------------------- */

START_TEST(test_bus_all_writers)
{
    mcpc_report_bus bus = {0};
    FILE *term = tmpfile();
    mcpc_run_summary sum = summary(1, 1, 0, 0);
    json_t *doc;

    ck_assert_ptr_nonnull(term);
    mcpc_report_bus_add(&bus, mcpc_report_term_new(term, 0));
    mcpc_report_bus_add(&bus, mcpc_report_json_new(tmp_path("r.json")));
    mcpc_report_bus_add(&bus, mcpc_report_junit_new(tmp_path("r.xml")));
    mcpc_report_bus_add(&bus, mcpc_report_junit_new("/nonexistent-dir-for-mcpcert/r.xml"));
    ck_assert_uint_eq(bus.n, 4);
    mcpc_report_bus_run_start(&bus, &run_info);
    for (size_t i = 0; i < 2; i++) {
        mcpc_case_result r = result(i ? "MSG-03" : "MSG-01", "case",
                                    i ? MCPC_V_FAIL : MCPC_V_PASS);

        mcpc_report_bus_case_start(&bus, i, r.id, r.title);
        mcpc_report_bus_case_end(&bus, i, &r);
        result_release(&r);
    }
    /* The unwritable JUnit path fails, but only after the others wrote theirs. */
    ck_assert_int_eq(mcpc_report_bus_run_end(&bus, &sum), MCPC_ERR_IO);
    mcpc_report_bus_destroy(&bus);
    fclose(term);
    doc = json_load_file(tmp_path("r.json"), 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "cases")), 2);
    json_decref(doc);
    free(slurp(tmp_path("r.xml"), NULL));
}
END_TEST

/* ---- runner -------------------------------------------------------------------------------- */

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc;

    tc = tcase_create("verdict");
    tcase_add_test(tc, test_verdict_names);
    tcase_add_test(tc, test_verdict_worst);
    suite_add_tcase(s, tc);

    tc = tcase_create("bus");
    tcase_add_test(tc, test_bus_fanout_and_first_error);
    tcase_add_test(tc, test_bus_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("term");
    tcase_add_test(tc, test_term_header_and_pass);
    tcase_add_test(tc, test_term_fail_details);
    tcase_add_test(tc, test_term_progress_width);
    tcase_add_test(tc, test_term_hostile_bytes_colour_off);
    tcase_add_test(tc, test_term_colour_on);
    tcase_add_test(tc, test_term_truncates);
    tcase_add_test(tc, test_term_closing_lines);
    tcase_add_test(tc, test_term_write_error);
    suite_add_tcase(s, tc);

    /* Checked fixtures: they run in the forked child, next to the test. */
    tc = tcase_create("files");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_json_lossy_strings);
    tcase_add_test(tc, test_json_io_error);
    tcase_add_test(tc, test_json_tmp_symlink_not_followed);
    tcase_add_test(tc, test_junit_document);
    tcase_add_test(tc, test_junit_io_error);
    tcase_add_test(tc, test_bus_all_writers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(report_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

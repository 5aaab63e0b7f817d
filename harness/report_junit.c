/* JUnit XML writer for CI dashboards: one <testsuite name="mcpcert"> with one <testcase> per case,
 * written at run-end through a temporary file and a rename. Mapping: FAIL, CRASH, TIMEOUT and
 * NOT_TESTABLE are <failure type="VERDICT">, ERROR is <error>, SKIP is <skipped/>, WARN passes with
 * a <system-out> note. Text from the implementation under test is escaped so that the file is
 * always well-formed XML 1.0: markup characters become entities, and bytes XML cannot carry
 * (most C0 controls, malformed UTF-8, U+FFFE/U+FFFF) become visible "\xNN"/"\uNNNN" text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"


/* Bounds on escaped fields: the JSON report carries everything in full; a CI page needs only
 * enough to see why, and a hostile megabyte response must not bloat every dashboard. */
#define MCPC_REPORT_JUNIT_ATTR_MAX 1024
#define MCPC_REPORT_JUNIT_TEXT_MAX 4096
#define MCPC_REPORT_JUNIT_REQS_MAX 16384

typedef struct {
    char *id, *title, *message, *expected, *arrived;
    char *reqs;              /* "requirement: <id> (<level>) <text>\n" lines */
    mcpc_verdict verdict;
    int expected_failure;
    double elapsed_ms;
} mcpc_report_junit_case;

enum { PROP_VERSION, PROP_TARGET, PROP_ROLE, PROP_TRANSPORT, PROP_ERA, PROP_PROFILE, PROP__COUNT };
static const char *const prop_names[PROP__COUNT] = {
    "tool_version", "target", "role", "transport", "era", "profile",
};

typedef struct {
    char *path;
    char started[40];            /* ISO-8601 UTC from run-start */
    char *props[PROP__COUNT];    /* run details; NULL when absent */
    mcpc_report_junit_case *cases;
    size_t n, cap;
    mcpc_err err;                /* first failure while accumulating; then no file is written */
    const mcpc_run_summary *sum; /* borrowed, during run-end only */
} mcpc_report_junit;

/* Which element a verdict becomes. */
typedef enum { JU_PASS, JU_WARN, JU_FAILURE, JU_ERROR, JU_SKIPPED } mcpc_report_junit_kind;

/* The JUnit element for verdict v; an out-of-range verdict is a harness fault, hence <error>. */
static mcpc_report_junit_kind mcpc_report_junit_kind_of(mcpc_verdict v)
{
    switch (v) {
    case MCPC_V_PASS: return JU_PASS;
    case MCPC_V_WARN: return JU_WARN;
    case MCPC_V_FAIL:
    case MCPC_V_CRASH:
    case MCPC_V_TIMEOUT:
    case MCPC_V_NOT_TESTABLE: return JU_FAILURE;
    case MCPC_V_SKIP: return JU_SKIPPED;
    case MCPC_V_ERROR:
    default: return JU_ERROR;
    }
}

/* Copy of s ("" for NULL); on allocation failure records MCPC_ERR_NOMEM and returns NULL. */
static char *mcpc_report_junit_dup(mcpc_report_junit *st, const char *s)
{
    char *d = strdup(s ? s : "");

    if (!d && st->err == MCPC_OK)
        st->err = MCPC_ERR_NOMEM;
    return d;
}

/* Writes s XML-escaped (attr: for an attribute value, else for element text):
 * - & < > always as entities; quotes only in attributes, the one place they can end something,
 *   so JSON in element text still reads as JSON;
 * - in attributes tab, LF and CR as character references (parsers would turn them into spaces);
 *   in text CR as &#13; (parsers would fold CRLF into LF);
 * - other C0 controls, DEL, C1 controls, U+FFFE/U+FFFF and malformed bytes as "\xNN"/"\uNNNN"
 *   text: XML 1.0 cannot carry most of them at all, and a viewer might act on DEL and C1.
 * At most `limit` input bytes are written, then " ... (+N bytes)". */
static void mcpc_report_junit_put(FILE *fp, const char *s, size_t limit, int attr)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), i = 0;

    while (i < n) {
        unsigned long cp;
        size_t len = mcpc_report_utf8_seq(p + i, n - i, &cp);

        if (i + (len ? len : 1) > limit)
            break;
        if (len == 0) {
            fprintf(fp, "\\x%02x", p[i]);
            i++;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs(attr ? "&quot;" : "\"", fp); break;   /* text stays readable JSON */
        case '\'': fputs(attr ? "&apos;" : "'", fp); break;
        case '\t': fputs(attr ? "&#9;" : "\t", fp); break;
        case '\n': fputs(attr ? "&#10;" : "\n", fp); break;
        case '\r': fputs("&#13;", fp); break;
        default:
            if (cp < 0x20 || cp == 0x7F)
                fprintf(fp, "\\x%02lx", cp);
            else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
                fprintf(fp, "\\u%04lx", cp);
            else
                fwrite(p + i, 1, len, fp);
            break;
        }
        i += len;
    }
    if (i < n)
        fprintf(fp, " ... (+%zu bytes)", n - i);
}

/* Writes ms as seconds with three decimals. Integer arithmetic, because printf's %f follows
 * LC_NUMERIC and a decimal comma would break every JUnit reader. */
static void mcpc_report_junit_secs(FILE *fp, double ms)
{
    unsigned long long total = 0;

    if (isfinite(ms) && ms > 0 && ms < 1e15)
        total = (unsigned long long)(ms + 0.5);
    fprintf(fp, "%llu.%03llu", total / 1000, total % 1000);
}

/* Run-start: records the start time and run details for <properties>. */
static void mcpc_report_junit_run_start(mcpc_listener *self, const mcpc_run_info *info)
{
    mcpc_report_junit *st = self->state;
    const char *vals[PROP__COUNT];

    mcpc_report_utc_now(st->started, sizeof st->started);
    if (!info)
        return;
    vals[PROP_VERSION] = info->tool_version;
    vals[PROP_TARGET] = info->target;
    vals[PROP_ROLE] = info->role;
    vals[PROP_TRANSPORT] = info->transport;
    vals[PROP_ERA] = info->era;
    vals[PROP_PROFILE] = info->profile;
    for (int i = 0; i < PROP__COUNT; i++) {
        free(st->props[i]);
        st->props[i] = vals[i] ? mcpc_report_junit_dup(st, vals[i]) : NULL;
    }
}

/* Case-start: nothing; the case is recorded when it ends. */
static void mcpc_report_junit_case_start(mcpc_listener *self, size_t index, const char *id,
                                         const char *title)
{
}

/* New malloc'd text: one "requirement: <id> (<level>) <text>" line per entry of reqs (borrowed),
 * flattened now because the array is freed after the event. NULL on allocation failure. */
static char *mcpc_report_junit_reqs(json_t *reqs)
{
    char *buf = NULL;
    size_t len = 0, i;
    FILE *m;
    json_t *r;

    m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    if (json_is_array(reqs)) {
        json_array_foreach(reqs, i, r) {
            const char *id = json_string_value(json_object_get(r, "id"));
            const char *level = json_string_value(json_object_get(r, "level"));
            const char *text = json_string_value(json_object_get(r, "text"));

            fprintf(m, "requirement: %s (%s) %s\n", id ? id : "?", level ? level : "?",
                    text ? text : "");
        }
    }
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Frees the strings of one recorded case. */
static void mcpc_report_junit_case_free(mcpc_report_junit_case *c)
{
    free(c->id);
    free(c->title);
    free(c->message);
    free(c->expected);
    free(c->arrived);
    free(c->reqs);
}

/* Case-end: records what the XML needs from res (borrowed for this call only). */
static void mcpc_report_junit_case_end(mcpc_listener *self, size_t index,
                                       const mcpc_case_result *res)
{
    mcpc_report_junit *st = self->state;
    mcpc_report_junit_case c = {0};

    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        mcpc_report_junit_case *grown = realloc(st->cases, cap * sizeof *grown);

        if (!grown)
            goto nomem;
        st->cases = grown;
        st->cap = cap;
    }
    c.verdict = res->verdict;
    c.expected_failure = res->expected_failure;
    c.elapsed_ms = res->elapsed_ms;
    c.id = mcpc_report_junit_dup(st, res->id);
    c.title = mcpc_report_junit_dup(st, res->title);
    c.message = mcpc_report_junit_dup(st, res->message);
    c.expected = mcpc_report_junit_dup(st, res->expected);
    c.arrived = mcpc_report_junit_dup(st, res->arrived);
    c.reqs = mcpc_report_junit_reqs(res->requirements);
    if (!c.id || !c.title || !c.message || !c.expected || !c.arrived || !c.reqs)
        goto nomem;
    st->cases[st->n++] = c;
    return;

nomem:
    mcpc_report_junit_case_free(&c);
    if (st->err == MCPC_OK)
        st->err = MCPC_ERR_NOMEM;
}

/* Writes classname="mcpcert.<area>", the area being the id up to its first '-', lower-cased
 * (ASCII only: tolower() would depend on the locale and could split a UTF-8 sequence). */
static void mcpc_report_junit_classname(FILE *fp, const char *id)
{
    size_t n = strcspn(id, "-");
    char *area = malloc(n + 1);

    fputs(" classname=\"mcpcert", fp);
    if (area && n > 0) {
        for (size_t i = 0; i < n; i++)
            area[i] = (id[i] >= 'A' && id[i] <= 'Z') ? (char)(id[i] - 'A' + 'a') : id[i];
        area[n] = '\0';
        fputc('.', fp);
        mcpc_report_junit_put(fp, area, MCPC_REPORT_JUNIT_ATTR_MAX, 1);
    }
    fputc('"', fp);
    free(area);
}

/* Writes the body of a <failure>/<error>: requirements, expected, arrived, message. */
static void mcpc_report_junit_detail(FILE *fp, const mcpc_report_junit_case *c)
{
    mcpc_report_junit_put(fp, c->reqs, MCPC_REPORT_JUNIT_REQS_MAX, 0);
    fputs("expected: ", fp);
    mcpc_report_junit_put(fp, c->expected, MCPC_REPORT_JUNIT_TEXT_MAX, 0);
    fputs("\narrived: ", fp);
    mcpc_report_junit_put(fp, c->arrived, MCPC_REPORT_JUNIT_TEXT_MAX, 0);
    fputs("\nmessage: ", fp);
    mcpc_report_junit_put(fp, c->message, MCPC_REPORT_JUNIT_TEXT_MAX, 0);
}

/* Writes the message="..." attribute: the case's message (or the verdict name when it has none),
 * a failure or error being marked when the case is listed in the expected-failures baseline. */
static void mcpc_report_junit_message_attr(FILE *fp, const mcpc_report_junit_case *c)
{
    mcpc_report_junit_kind kind = mcpc_report_junit_kind_of(c->verdict);

    fputs(" message=\"", fp);
    if (c->expected_failure && (kind == JU_FAILURE || kind == JU_ERROR))
        fputs("expected failure (baseline): ", fp);
    mcpc_report_junit_put(fp, *c->message ? c->message : mcpc_verdict_name(c->verdict),
                          MCPC_REPORT_JUNIT_ATTR_MAX, 1);
    fputc('"', fp);
}

/* Writes one <testcase> element. */
static void mcpc_report_junit_testcase(FILE *fp, const mcpc_report_junit_case *c)
{
    mcpc_report_junit_kind kind = mcpc_report_junit_kind_of(c->verdict);

    fputs("  <testcase", fp);
    mcpc_report_junit_classname(fp, c->id);
    fputs(" name=\"", fp);
    mcpc_report_junit_put(fp, c->id, MCPC_REPORT_JUNIT_ATTR_MAX, 1);
    fputc(' ', fp);
    mcpc_report_junit_put(fp, c->title, MCPC_REPORT_JUNIT_ATTR_MAX, 1);
    fputs("\" time=\"", fp);
    mcpc_report_junit_secs(fp, c->elapsed_ms);
    fputc('"', fp);
    if (kind == JU_PASS) {
        fputs("/>\n", fp);
        return;
    }
    fputs(">\n", fp);
    switch (kind) {
    case JU_FAILURE:
    case JU_ERROR:
        fputs(kind == JU_FAILURE ? "    <failure" : "    <error", fp);
        mcpc_report_junit_message_attr(fp, c);
        fprintf(fp, " type=\"%s\">", mcpc_verdict_name(c->verdict));
        mcpc_report_junit_detail(fp, c);
        fputs(kind == JU_FAILURE ? "</failure>\n" : "</error>\n", fp);
        break;
    case JU_SKIPPED:
        fputs("    <skipped", fp);
        mcpc_report_junit_message_attr(fp, c);
        fputs("/>\n", fp);
        break;
    case JU_WARN:
        fputs("    <system-out>WARN: ", fp);
        mcpc_report_junit_put(fp, c->message, MCPC_REPORT_JUNIT_TEXT_MAX, 0);
        fputs("</system-out>\n", fp);
        break;
    case JU_PASS:
        break;
    }
    fputs("  </testcase>\n", fp);
}

/* Writes <properties> with the run details that are known (none: no element). */
static void mcpc_report_junit_properties(FILE *fp, const mcpc_report_junit *st)
{
    int any = 0;

    for (int i = 0; i < PROP__COUNT; i++) {
        if (!st->props[i])
            continue;
        if (!any++)
            fputs("  <properties>\n", fp);
        fprintf(fp, "    <property name=\"%s\" value=\"", prop_names[i]);
        mcpc_report_junit_put(fp, st->props[i], MCPC_REPORT_JUNIT_ATTR_MAX, 1);
        fputs("\"/>\n", fp);
    }
    if (any)
        fputs("  </properties>\n", fp);
}

/* Writes the whole document for st (arg) to fp; a write error surfaces through ferror. */
static mcpc_err mcpc_report_junit_emit(FILE *fp, void *arg)
{
    mcpc_report_junit *st = arg;
    size_t failures = 0, errors = 0, skipped = 0;

    for (size_t i = 0; i < st->n; i++) {
        switch (mcpc_report_junit_kind_of(st->cases[i].verdict)) {
        case JU_FAILURE: failures++; break;
        case JU_ERROR: errors++; break;
        case JU_SKIPPED: skipped++; break;
        case JU_PASS:
        case JU_WARN: break;
        }
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
    fprintf(fp, "<testsuite name=\"mcpcert\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                "skipped=\"%zu\" time=\"", st->n, failures, errors, skipped);
    mcpc_report_junit_secs(fp, st->sum->elapsed_ms);
    /* JUnit's timestamp has no zone designator; the value is UTC, to the second. */
    fprintf(fp, "\" timestamp=\"%.19s\">\n", st->started);
    mcpc_report_junit_properties(fp, st);
    for (size_t i = 0; i < st->n; i++)
        mcpc_report_junit_testcase(fp, &st->cases[i]);
    fputs("</testsuite>\n", fp);
    return ferror(fp) ? MCPC_ERR_IO : MCPC_OK;
}

/* Run-end: writes the XML atomically. Returns MCPC_ERR_NOMEM when a case could not be recorded
 * (no partial file is written), MCPC_ERR_IO when the file could not be written, else MCPC_OK. */
static mcpc_err mcpc_report_junit_run_end(mcpc_listener *self, const mcpc_run_summary *sum)
{
    mcpc_report_junit *st = self->state;
    mcpc_err rc;

    if (st->err != MCPC_OK)
        return st->err;
    if (!st->started[0])   /* run-start never came */
        mcpc_report_utc_now(st->started, sizeof st->started);
    st->sum = sum;
    rc = mcpc_report_write_atomic(st->path, mcpc_report_junit_emit, st);
    st->sum = NULL;
    return rc;
}

/* Frees the writer and everything it recorded. */
static void mcpc_report_junit_destroy(mcpc_listener *self)
{
    mcpc_report_junit *st;

    if (!self)
        return;
    st = self->state;
    if (st) {
        for (size_t i = 0; i < st->n; i++)
            mcpc_report_junit_case_free(&st->cases[i]);
        for (int i = 0; i < PROP__COUNT; i++)
            free(st->props[i]);
        free(st->cases);
        free(st->path);
        free(st);
    }
    free(self);
}

/* New JUnit writer for path (copied). NULL on allocation failure or when path is NULL/empty;
 * nothing touches the file system before run-end. */
mcpc_listener *mcpc_report_junit_new(const char *path)
{
    mcpc_listener *l = NULL;
    mcpc_report_junit *st = NULL;

    if (!path || !*path)
        return NULL;
    l = calloc(1, sizeof *l);
    st = calloc(1, sizeof *st);
    if (!l || !st)
        goto fail;
    st->path = strdup(path);
    if (!st->path)
        goto fail;
    l->run_start = mcpc_report_junit_run_start;
    l->case_start = mcpc_report_junit_case_start;
    l->case_end = mcpc_report_junit_case_end;
    l->run_end = mcpc_report_junit_run_end;
    l->destroy = mcpc_report_junit_destroy;
    l->state = st;
    return l;

fail:
    free(st);
    free(l);
    return NULL;
}

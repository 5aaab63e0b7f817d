/* JSON writer: the canonical record of a run ("mcpcert-report/1", described by
 * reports/report.schema.json). Cases are accumulated as jansson values, deep-copying the borrowed
 * arrays of each result, and the whole document is written once at run-end through a temporary
 * file and a rename. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"


#define MCPC_REPORT_JSON_SCHEMA "mcpcert-report/1"

typedef struct {
    char *path;
    json_t *tool;    /* owned: {"name","version"}; NULL until run-start */
    json_t *run;     /* owned: {"target",...}; NULL until run-start */
    json_t *cases;   /* owned: array of case objects */
    mcpc_err err;    /* first failure while accumulating; the report is then not written */
} mcpc_report_json;

/* New ref: a JSON string holding s[0..n). jansson refuses bytes that are not UTF-8, and strings
 * here may come from the implementation under test, so on refusal each byte that starts no
 * well-formed sequence becomes the four characters \xNN (lossy, but visible and never dropped).
 * NULL only on allocation failure. */
static json_t *mcpc_report_json_lossy(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    json_t *j;
    char *buf;
    size_t i = 0, m = 0;

    j = json_stringn(s, n);
    if (j || n > (SIZE_MAX - 1) / 4)
        return j;
    buf = malloc(n * 4 + 1);
    if (!buf)
        return NULL;
    while (i < n) {
        unsigned long cp;
        size_t len = mcpc_report_utf8_seq(p + i, n - i, &cp);

        if (len == 0) {
            snprintf(buf + m, 5, "\\x%02x", p[i]);
            m += 4;
            i++;
        } else {
            memcpy(buf + m, p + i, len);
            m += len;
            i += len;
        }
    }
    j = json_stringn(buf, m);
    free(buf);
    return j;
}

/* New ref: s as a JSON string, "" for NULL. NULL only on allocation failure. */
static json_t *mcpc_report_json_text(const char *s)
{
    return mcpc_report_json_lossy(s ? s : "", s ? strlen(s) : 0);
}

/* New ref: s as a JSON string, or JSON null for NULL (an absent value, not an empty one). */
static json_t *mcpc_report_json_opt(const char *s)
{
    return s ? mcpc_report_json_lossy(s, strlen(s)) : json_null();
}

/* New ref: a duration in milliseconds. json_real refuses NaN and infinities, which would lose
 * the whole report over one bad clock reading, so those (and negatives) become 0. */
static json_t *mcpc_report_json_ms(double ms)
{
    return json_real(isfinite(ms) && ms > 0 ? ms : 0.0);
}

/* New ref: a deep copy of the borrowed array a (the runner frees it after the event), or [] when
 * a is NULL or not an array, so every case has the same shape. NULL on allocation failure. */
static json_t *mcpc_report_json_copy(json_t *a)
{
    return json_is_array(a) ? json_deep_copy(a) : json_array();
}

/* Remembers the first accumulation failure. */
static void mcpc_report_json_fail(mcpc_report_json *st, mcpc_err err)
{
    if (st->err == MCPC_OK)
        st->err = err;
}

/* New ref: {"name":"mcpcert","version":...}. */
static json_t *mcpc_report_json_tool(const char *version)
{
    json_t *t = json_object();

    if (!t)
        return NULL;
    if (json_object_set_new(t, "name", json_string("mcpcert")) ||
        json_object_set_new(t, "version", mcpc_report_json_text(version ? version : "unknown"))) {
        json_decref(t);
        return NULL;
    }
    return t;
}

/* New ref: the "run" object for info (NULL when run-start never came: every field null). The
 * elapsed_ms slot is filled now so key order stays fixed; run-end overwrites it in place. */
static json_t *mcpc_report_json_run(const mcpc_run_info *info)
{
    static const mcpc_run_info none;
    json_t *r = json_object();
    char started[40];

    if (!r)
        return NULL;
    if (!info)
        info = &none;
    mcpc_report_utc_now(started, sizeof started);
    if (json_object_set_new(r, "target", mcpc_report_json_opt(info->target)) ||
        json_object_set_new(r, "role", mcpc_report_json_opt(info->role)) ||
        json_object_set_new(r, "transport", mcpc_report_json_opt(info->transport)) ||
        json_object_set_new(r, "era", mcpc_report_json_opt(info->era)) ||
        json_object_set_new(r, "profile", mcpc_report_json_opt(info->profile)) ||
        json_object_set_new(r, "started", json_string(started)) ||
        json_object_set_new(r, "elapsed_ms", mcpc_report_json_ms(0))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Run-start: records tool and run details and the start time. */
static void mcpc_report_json_run_start(mcpc_listener *self, const mcpc_run_info *info)
{
    mcpc_report_json *st = self->state;

    json_decref(st->tool);
    json_decref(st->run);
    st->tool = mcpc_report_json_tool(info ? info->tool_version : NULL);
    st->run = mcpc_report_json_run(info);
    if (!st->tool || !st->run)
        mcpc_report_json_fail(st, MCPC_ERR_NOMEM);
}

/* Case-start: nothing; the case is recorded when it ends. */
static void mcpc_report_json_case_start(mcpc_listener *self, size_t index, const char *id,
                                        const char *title)
{
}

/* New ref: the case object for res, with requirements, checks and transcript deep-copied from
 * res's borrowed arrays. NULL on allocation failure. */
static json_t *mcpc_report_json_case(const mcpc_case_result *res)
{
    json_t *c = json_object();

    if (!c)
        return NULL;
    /* json_object_set_new takes the value even when it fails, and fails on a NULL value, so one
     * chain both builds and checks every field. */
    if (json_object_set_new(c, "id", mcpc_report_json_text(res->id)) ||
        json_object_set_new(c, "title", mcpc_report_json_text(res->title)) ||
        json_object_set_new(c, "level", mcpc_report_json_opt(res->level)) ||
        json_object_set_new(c, "requirements", mcpc_report_json_copy(res->requirements)) ||
        json_object_set_new(c, "verdict", json_string(mcpc_verdict_name(res->verdict))) ||
        json_object_set_new(c, "expected", mcpc_report_json_text(res->expected)) ||
        json_object_set_new(c, "arrived", mcpc_report_json_text(res->arrived)) ||
        json_object_set_new(c, "message", mcpc_report_json_text(res->message)) ||
        json_object_set_new(c, "expected_failure", json_boolean(res->expected_failure)) ||
        json_object_set_new(c, "elapsed_ms", mcpc_report_json_ms(res->elapsed_ms)) ||
        json_object_set_new(c, "checks", mcpc_report_json_copy(res->checks)) ||
        json_object_set_new(c, "transcript", mcpc_report_json_copy(res->transcript))) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* Case-end: appends the case; res is borrowed for this call only. */
static void mcpc_report_json_case_end(mcpc_listener *self, size_t index,
                                      const mcpc_case_result *res)
{
    mcpc_report_json *st = self->state;

    if (json_array_append_new(st->cases, mcpc_report_json_case(res)) != 0)
        mcpc_report_json_fail(st, MCPC_ERR_NOMEM);
}

/* New ref: the "summary" object for sum. */
static json_t *mcpc_report_json_summary(const mcpc_run_summary *sum)
{
    json_t *s = json_object(), *counts = json_object();

    if (!s || !counts)
        goto fail;
    for (int v = 0; v < MCPC_V__COUNT; v++)
        if (json_object_set_new(counts, mcpc_verdict_name((mcpc_verdict)v),
                                json_integer((json_int_t)sum->counts[v])))
            goto fail;
    if (json_object_set_new(s, "counts", counts)) {
        counts = NULL;   /* taken, and released, by the failed call */
        goto fail;
    }
    counts = NULL;
    if (json_object_set_new(s, "passed", json_integer((json_int_t)sum->passed)) ||
        json_object_set_new(s, "failed", json_integer((json_int_t)sum->failed)) ||
        json_object_set_new(s, "skipped", json_integer((json_int_t)sum->skipped)) ||
        json_object_set_new(s, "profile", mcpc_report_json_opt(sum->profile)) ||
        json_object_set_new(s, "attained", json_boolean(sum->attained)) ||
        json_object_set_new(s, "profile_message", mcpc_report_json_opt(sum->profile_message)) ||
        json_object_set_new(s, "exit_code", json_integer(sum->exit_code)))
        goto fail;
    return s;

fail:
    json_decref(counts);
    json_decref(s);
    return NULL;
}

/* New ref: the whole document. tool, run and cases are shared with st (incref), not copied. */
static json_t *mcpc_report_json_document(mcpc_report_json *st, const mcpc_run_summary *sum)
{
    json_t *doc = json_object();

    if (!doc)
        return NULL;
    if (json_object_set_new(doc, "schema", json_string(MCPC_REPORT_JSON_SCHEMA)) ||
        json_object_set(doc, "tool", st->tool) ||
        json_object_set(doc, "run", st->run) ||
        json_object_set_new(doc, "summary", mcpc_report_json_summary(sum)) ||
        json_object_set(doc, "cases", st->cases)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Writes the document (arg, borrowed) to fp: one space of indent per level, keys in insertion
 * order so every report reads the same way, 12 significant digits so 12.345 ms is not printed as
 * 12.345000000000001. */
static mcpc_err mcpc_report_json_emit(FILE *fp, void *arg)
{
    if (json_dumpf(arg, fp, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0 ||
        fputc('\n', fp) == EOF)
        return MCPC_ERR_IO;
    return MCPC_OK;
}

/* Run-end: completes the record and writes it to path atomically. Returns MCPC_ERR_NOMEM when a
 * case could not be recorded (an incomplete report would misstate the run, so none is written),
 * MCPC_ERR_IO when the file could not be written, else MCPC_OK. */
static mcpc_err mcpc_report_json_run_end(mcpc_listener *self, const mcpc_run_summary *sum)
{
    mcpc_report_json *st = self->state;
    json_t *doc = NULL;
    mcpc_err rc;

    if (!st->tool)
        st->tool = mcpc_report_json_tool(NULL);
    if (!st->run)
        st->run = mcpc_report_json_run(NULL);
    if (!st->tool || !st->run)
        mcpc_report_json_fail(st, MCPC_ERR_NOMEM);
    if (st->err != MCPC_OK) {
        rc = st->err;
        goto out;
    }
    if (json_object_set_new(st->run, "elapsed_ms", mcpc_report_json_ms(sum->elapsed_ms))) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    doc = mcpc_report_json_document(st, sum);
    if (!doc) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    rc = mcpc_report_write_atomic(st->path, mcpc_report_json_emit, doc);

out:
    json_decref(doc);
    return rc;
}

/* Releases every reference the writer holds. */
static void mcpc_report_json_destroy(mcpc_listener *self)
{
    mcpc_report_json *st;

    if (!self)
        return;
    st = self->state;
    if (st) {
        json_decref(st->tool);
        json_decref(st->run);
        json_decref(st->cases);
        free(st->path);
        free(st);
    }
    free(self);
}

/* New JSON writer for path (copied). NULL on allocation failure or when path is NULL/empty;
 * nothing touches the file system before run-end. */
mcpc_listener *mcpc_report_json_new(const char *path)
{
    mcpc_listener *l = NULL;
    mcpc_report_json *st = NULL;

    if (!path || !*path)
        return NULL;
    l = calloc(1, sizeof *l);
    st = calloc(1, sizeof *st);
    if (!l || !st)
        goto fail;
    st->path = strdup(path);
    st->cases = json_array();
    if (!st->path || !st->cases)
        goto fail;
    l->run_start = mcpc_report_json_run_start;
    l->case_start = mcpc_report_json_case_start;
    l->case_end = mcpc_report_json_case_end;
    l->run_end = mcpc_report_json_run_end;
    l->destroy = mcpc_report_json_destroy;
    l->state = st;
    return l;

fail:
    if (st) {
        json_decref(st->cases);
        free(st->path);
    }
    free(st);
    free(l);
    return NULL;
}

/* Terminal writer: a header block, one line per finished case with a progress counter, detail
 * lines for anything that is not a PASS or SKIP, and the closing summary. Every string that can
 * come from the implementation under test (and, for safety, every other string too) goes through
 * mcpc_report_term_put, which escapes anything that could drive the terminal, so a hostile
 * server cannot recolour, move the cursor, retitle the window or hide a FAIL. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

/* Bound on each escaped field, so one huge response stays one readable line. */
#define MCPC_REPORT_TERM_FIELD_MAX 300
/* Width of the widest verdict name ("NOT_TESTABLE"), so ids line up. */
#define MCPC_REPORT_TERM_VERDICT_WIDTH 12

#define SGR_RESET "\033[0m"

typedef struct {
    FILE *out;
    int colour;
    size_t total;   /* from run-start; 0 when unknown */
    size_t done;    /* case-end events seen: the progress counter, independent of index base */
    int io_failed;  /* a write or flush failed; run-end reports it */
} mcpc_report_term;

/* ANSI colour that introduces verdict v. */
static const char *mcpc_report_term_sgr(mcpc_verdict v)
{
    switch (v) {
    case MCPC_V_PASS: return "\033[32m";          /* green */
    case MCPC_V_WARN: return "\033[33m";          /* yellow */
    case MCPC_V_FAIL:
    case MCPC_V_CRASH:
    case MCPC_V_TIMEOUT: return "\033[31m";       /* red */
    case MCPC_V_SKIP:
    case MCPC_V_NOT_TESTABLE: return "\033[90m";  /* grey */
    case MCPC_V_ERROR:
    default: return "\033[35m";                  /* magenta; out of range is named ERROR too */
    }
}

/* Whether code point cp must not reach the terminal raw: C0 controls (ESC starts every escape
 * sequence; CR and BS can overwrite a verdict already printed), DEL, C1 controls (U+009B is a
 * one-character CSI for terminals that honour it) and the bidirectional controls that can make
 * text display in an order other than the bytes' ("Trojan Source"). */
static int mcpc_report_term_unsafe(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Formats the escape for cp into buf (at least 8 bytes): \n \r \t, \xNN for other C0 and DEL,
 * \uNNNN above. Backslashes themselves are left alone: expected/arrived are mostly JSON text,
 * whose own escapes would become unreadable if doubled, and ambiguity is harmless here. */
static size_t mcpc_report_term_escape(unsigned long cp, char *buf, size_t size)
{
    switch (cp) {
    case '\n': return (size_t)snprintf(buf, size, "\\n");
    case '\r': return (size_t)snprintf(buf, size, "\\r");
    case '\t': return (size_t)snprintf(buf, size, "\\t");
    default: break;
    }
    if (cp < 0x80)
        return (size_t)snprintf(buf, size, "\\x%02lx", cp);
    return (size_t)snprintf(buf, size, "\\u%04lx", cp);
}

/* Writes s (NULL as "") with unsafe characters escaped and bytes that are not UTF-8 as \xNN, at
 * most `limit` bytes of escaped text; the rest is replaced by " ... (+N bytes)". */
static void mcpc_report_term_put(mcpc_report_term *st, const char *s, size_t limit)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), i = 0, used = 0;

    while (i < n) {
        char esc[16];
        const char *chunk = esc;
        size_t clen, len;
        unsigned long cp;

        len = mcpc_report_utf8_seq(p + i, n - i, &cp);
        if (len == 0) {
            clen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            len = 1;
        } else if (mcpc_report_term_unsafe(cp)) {
            clen = mcpc_report_term_escape(cp, esc, sizeof esc);
        } else {
            chunk = (const char *)p + i;
            clen = len;
        }
        if (used + clen > limit)
            break;
        fwrite(chunk, 1, clen, st->out);
        used += clen;
        i += len;
    }
    if (i < n)
        fprintf(st->out, " ... (+%zu bytes)", n - i);
}

/* Writes trusted text (format strings and numbers only; never implementation bytes). */
__attribute__((format(printf, 2, 3)))
static void mcpc_report_term_printf(mcpc_report_term *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(st->out, fmt, ap);
    va_end(ap);
}

/* Ends a line and flushes it, so progress is visible live even when out is a pipe; remembers a
 * failed write for run-end. */
static void mcpc_report_term_eol(mcpc_report_term *st)
{
    fputc('\n', st->out);
    if (fflush(st->out) != 0 || ferror(st->out))
        st->io_failed = 1;
}

/* Writes `label` then the escaped value on one indented line. */
static void mcpc_report_term_field(mcpc_report_term *st, const char *indent, const char *label,
                                   const char *value)
{
    mcpc_report_term_printf(st, "%s%s", indent, label);
    mcpc_report_term_put(st, value, MCPC_REPORT_TERM_FIELD_MAX);
    mcpc_report_term_eol(st);
}

/* Writes the verdict word padded to a fixed width, coloured when colour is on (the padding
 * stays outside the colour so alignment does not depend on it). */
static void mcpc_report_term_verdict(mcpc_report_term *st, mcpc_verdict v)
{
    const char *name = mcpc_verdict_name(v);
    int pad = MCPC_REPORT_TERM_VERDICT_WIDTH - (int)strlen(name);

    if (st->colour)
        mcpc_report_term_printf(st, "%s%s%s", mcpc_report_term_sgr(v), name, SGR_RESET);
    else
        mcpc_report_term_printf(st, "%s", name);
    mcpc_report_term_printf(st, "%*s", pad > 0 ? pad : 0, "");
}

/* Run-start: the header block naming what is being tested and how. */
static void mcpc_report_term_run_start(mcpc_listener *self, const mcpc_run_info *info)
{
    mcpc_report_term *st = self->state;
    static const char ind[] = "  ";

    if (!info)
        return;
    st->total = info->total_cases;
    st->done = 0;
    mcpc_report_term_printf(st, "mcpcert ");
    mcpc_report_term_put(st, info->tool_version ? info->tool_version : "(unknown version)",
                         MCPC_REPORT_TERM_FIELD_MAX);
    mcpc_report_term_eol(st);
    mcpc_report_term_field(st, ind, "target:    ", info->target);
    mcpc_report_term_field(st, ind, "role:      ", info->role);
    mcpc_report_term_field(st, ind, "transport: ", info->transport);
    mcpc_report_term_field(st, ind, "era:       ", info->era ? info->era : "(not negotiated)");
    mcpc_report_term_field(st, ind, "profile:   ",
                           info->profile ? info->profile : "(none: cases chosen by selection)");
    mcpc_report_term_printf(st, "%scases:     %zu", ind, info->total_cases);
    mcpc_report_term_eol(st);
    mcpc_report_term_eol(st);
}

/* Case-start: nothing; the line is printed when the verdict is known. */
static void mcpc_report_term_case_start(mcpc_listener *self, size_t index, const char *id,
                                        const char *title)
{
}

/* Writes one "requirement: <id> (<level>) <text>" line per entry of reqs (borrowed). */
static void mcpc_report_term_requirements(mcpc_report_term *st, const char *indent, json_t *reqs)
{
    size_t i;
    json_t *r;

    if (!json_is_array(reqs))
        return;
    json_array_foreach(reqs, i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *level = json_string_value(json_object_get(r, "level"));
        const char *text = json_string_value(json_object_get(r, "text"));

        mcpc_report_term_printf(st, "%srequirement: ", indent);
        mcpc_report_term_put(st, id ? id : "?", MCPC_REPORT_TERM_FIELD_MAX);
        mcpc_report_term_printf(st, " (");
        mcpc_report_term_put(st, level ? level : "?", MCPC_REPORT_TERM_FIELD_MAX);
        mcpc_report_term_printf(st, ") ");
        mcpc_report_term_put(st, text, MCPC_REPORT_TERM_FIELD_MAX);
        mcpc_report_term_eol(st);
    }
}

/* Case-end: "[ 3/38] FAIL         ID  title", then, unless PASS or SKIP, the requirement(s),
 * expected, arrived and message on indented lines. res is borrowed for this call only. */
static void mcpc_report_term_case_end(mcpc_listener *self, size_t index,
                                      const mcpc_case_result *res)
{
    mcpc_report_term *st = self->state;
    static const char ind[] = "        ";
    char digits[32];
    int width;

    st->done++;
    width = snprintf(digits, sizeof digits, "%zu", st->total);
    if (st->total > 0)
        mcpc_report_term_printf(st, "[%*zu/%zu] ", width, st->done, st->total);
    else
        mcpc_report_term_printf(st, "[%zu] ", st->done);
    mcpc_report_term_verdict(st, res->verdict);
    mcpc_report_term_printf(st, " ");
    mcpc_report_term_put(st, res->id ? res->id : "?", MCPC_REPORT_TERM_FIELD_MAX);
    mcpc_report_term_printf(st, "  ");
    mcpc_report_term_put(st, res->title, MCPC_REPORT_TERM_FIELD_MAX);
    /* A baseline entry that passed is news, not an expected failure. */
    if (res->expected_failure && (res->verdict == MCPC_V_PASS || res->verdict == MCPC_V_WARN))
        mcpc_report_term_printf(st, " (expected failure, but passed)");
    else if (res->expected_failure)
        mcpc_report_term_printf(st, " (expected)");
    mcpc_report_term_eol(st);

    if (res->verdict == MCPC_V_PASS || res->verdict == MCPC_V_SKIP)
        return;
    mcpc_report_term_requirements(st, ind, res->requirements);
    if (res->expected && *res->expected)
        mcpc_report_term_field(st, ind, "expected: ", res->expected);
    if (res->arrived && *res->arrived)
        mcpc_report_term_field(st, ind, "arrived: ", res->arrived);
    if (res->message && *res->message)
        mcpc_report_term_field(st, ind, "message: ", res->message);
}

/* Writes the profile line: "profile gold: attained" or "profile gold: NOT attained — why". */
static void mcpc_report_term_profile(mcpc_report_term *st, const mcpc_run_summary *sum)
{
    mcpc_verdict shade = sum->attained ? MCPC_V_PASS : MCPC_V_FAIL;

    mcpc_report_term_printf(st, "profile ");
    mcpc_report_term_put(st, sum->profile, MCPC_REPORT_TERM_FIELD_MAX);
    mcpc_report_term_printf(st, ": %s%s%s", st->colour ? mcpc_report_term_sgr(shade) : "",
                            sum->attained ? "attained" : "NOT attained",
                            st->colour ? SGR_RESET : "");
    if (!sum->attained && sum->profile_message && *sum->profile_message) {
        mcpc_report_term_printf(st, " \xe2\x80\x94 ");   /* U+2014 EM DASH, in UTF-8 */
        mcpc_report_term_put(st, sum->profile_message, MCPC_REPORT_TERM_FIELD_MAX);
    }
    mcpc_report_term_eol(st);
}

/* Run-end: blank line, profile line (when a profile was run), per-verdict counts, elapsed time
 * and the closing line "N passed, N failed, N skipped". Returns MCPC_ERR_IO when any line of the
 * run could not be written (a closed or full terminal/pipe), else MCPC_OK. */
static mcpc_err mcpc_report_term_run_end(mcpc_listener *self, const mcpc_run_summary *sum)
{
    mcpc_report_term *st = self->state;
    double ms = sum->elapsed_ms;

    mcpc_report_term_eol(st);
    if (sum->profile)
        mcpc_report_term_profile(st, sum);
    for (int v = 0; v < MCPC_V__COUNT; v++)
        mcpc_report_term_printf(st, "%s%s %zu", v ? ", " : "", mcpc_verdict_name((mcpc_verdict)v),
                                sum->counts[v]);
    mcpc_report_term_eol(st);
    mcpc_report_term_printf(st, "time: %.3f s", (ms > 0 && ms < 1e15) ? ms / 1000.0 : 0.0);
    mcpc_report_term_eol(st);
    mcpc_report_term_printf(st, "%zu passed, %zu failed, %zu skipped", sum->passed, sum->failed,
                            sum->skipped);
    mcpc_report_term_eol(st);
    return st->io_failed ? MCPC_ERR_IO : MCPC_OK;
}

/* Frees the writer; `out` belongs to the caller and is not closed. */
static void mcpc_report_term_destroy(mcpc_listener *self)
{
    if (!self)
        return;
    free(self->state);
    free(self);
}

/* New terminal writer on out (borrowed; must outlive the listener). NULL on allocation failure
 * or when out is NULL. */
mcpc_listener *mcpc_report_term_new(FILE *out, int colour)
{
    mcpc_listener *l = NULL;
    mcpc_report_term *st = NULL;

    if (!out)
        return NULL;
    l = calloc(1, sizeof *l);
    st = calloc(1, sizeof *st);
    if (!l || !st)
        goto fail;
    st->out = out;
    st->colour = colour != 0;
    l->run_start = mcpc_report_term_run_start;
    l->case_start = mcpc_report_term_case_start;
    l->case_end = mcpc_report_term_case_end;
    l->run_end = mcpc_report_term_run_end;
    l->destroy = mcpc_report_term_destroy;
    l->state = st;
    return l;

fail:
    free(st);
    free(l);
    return NULL;
}

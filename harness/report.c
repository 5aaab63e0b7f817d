/* Verdict names and ordering, the listener bus, and two helpers the file writers share: a strict
 * UTF-8 decoder (every writer must neutralise bytes from the implementation under test) and an
 * atomic file writer (a reader never sees half a report). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "report_int.h"


static const char *const verdict_names[MCPC_V__COUNT] = {
    [MCPC_V_PASS] = "PASS",
    [MCPC_V_WARN] = "WARN",
    [MCPC_V_FAIL] = "FAIL",
    [MCPC_V_SKIP] = "SKIP",
    [MCPC_V_NOT_TESTABLE] = "NOT_TESTABLE",
    [MCPC_V_TIMEOUT] = "TIMEOUT",
    [MCPC_V_CRASH] = "CRASH",
    [MCPC_V_ERROR] = "ERROR",
};

/* Severity rank, higher is worse: ERROR > CRASH > TIMEOUT > FAIL > NOT_TESTABLE > WARN > PASS >
 * SKIP. SKIP is lowest so that one applicable step decides a case that also skipped others. */
static const int verdict_rank[MCPC_V__COUNT] = {
    [MCPC_V_SKIP] = 0,
    [MCPC_V_PASS] = 1,
    [MCPC_V_WARN] = 2,
    [MCPC_V_NOT_TESTABLE] = 3,
    [MCPC_V_FAIL] = 4,
    [MCPC_V_TIMEOUT] = 5,
    [MCPC_V_CRASH] = 6,
    [MCPC_V_ERROR] = 7,
};

/* Whether v is one of the enum's values; anything else can only come from a harness bug. */
static int mcpc_report_verdict_valid(mcpc_verdict v)
{
    return (unsigned)v < (unsigned)MCPC_V__COUNT;
}

/* Static name of a verdict. An out-of-range value is a harness fault, so it is named "ERROR"
 * (the verdict that means exactly that) rather than something no report schema accepts. */
const char *mcpc_verdict_name(mcpc_verdict v)
{
    return mcpc_report_verdict_valid(v) ? verdict_names[v] : verdict_names[MCPC_V_ERROR];
}

/* The worse of a and b by verdict_rank; an out-of-range value counts as ERROR. */
mcpc_verdict mcpc_verdict_worst(mcpc_verdict a, mcpc_verdict b)
{
    if (!mcpc_report_verdict_valid(a) || !mcpc_report_verdict_valid(b))
        return MCPC_V_ERROR;
    return verdict_rank[b] > verdict_rank[a] ? b : a;
}

/* Adds a listener; the bus owns it from now on. NULL (a failed *_new) is ignored. A listener
 * beyond MCPC_REPORT_MAX_LISTENERS is not added, and since ownership already passed to the bus
 * it is destroyed here: callers write bus_add(&bus, mcpc_report_x_new(...)) and keep no handle,
 * so dropping it silently would leak it. */
void mcpc_report_bus_add(mcpc_report_bus *bus, mcpc_listener *l)
{
    if (!bus || !l)
        return;
    if (bus->n >= MCPC_REPORT_MAX_LISTENERS) {
        if (l->destroy)
            l->destroy(l);
        return;
    }
    bus->l[bus->n++] = l;
}

/* Forwards run-start to every listener that handles it. */
void mcpc_report_bus_run_start(mcpc_report_bus *bus, const mcpc_run_info *info)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n; i++)
        if (bus->l[i]->run_start)
            bus->l[i]->run_start(bus->l[i], info);
}

/* Forwards case-start to every listener that handles it. */
void mcpc_report_bus_case_start(mcpc_report_bus *bus, size_t index, const char *id,
                                const char *title)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n; i++)
        if (bus->l[i]->case_start)
            bus->l[i]->case_start(bus->l[i], index, id, title);
}

/* Forwards case-end; res and its json_t members are borrowed for the duration of the call only. */
void mcpc_report_bus_case_end(mcpc_report_bus *bus, size_t index, const mcpc_case_result *res)
{
    if (!bus || !res)
        return;
    for (size_t i = 0; i < bus->n; i++)
        if (bus->l[i]->case_end)
            bus->l[i]->case_end(bus->l[i], index, res);
}

/* Forwards run-end to every listener, even after one fails (one lost report must not cost the
 * others), and returns the first error. */
mcpc_err mcpc_report_bus_run_end(mcpc_report_bus *bus, const mcpc_run_summary *sum)
{
    mcpc_err first = MCPC_OK;

    if (!bus || !sum)
        return MCPC_OK;
    for (size_t i = 0; i < bus->n; i++) {
        mcpc_err rc;

        if (!bus->l[i]->run_end)
            continue;
        rc = bus->l[i]->run_end(bus->l[i], sum);
        if (rc != MCPC_OK && first == MCPC_OK)
            first = rc;
    }
    return first;
}

/* Destroys every listener and empties the bus, so a second call is harmless. */
void mcpc_report_bus_destroy(mcpc_report_bus *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n; i++) {
        if (bus->l[i]->destroy)
            bus->l[i]->destroy(bus->l[i]);
        bus->l[i] = NULL;
    }
    bus->n = 0;
}

/* Length (1-4) of the well-formed UTF-8 sequence at s[0..n) and its code point in *cp, or 0 when
 * s[0] starts no well-formed sequence. As strict as jansson's own check (no overlong forms, no
 * surrogates, nothing above U+10FFFF), so text that passes here is accepted by json_stringn. */
size_t mcpc_report_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned long c;
    size_t len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        c = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        c = s[0] & 0x0Fu;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        c = s[0] & 0x07u;
    } else {
        return 0;   /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Writes a file through emit(fp, arg) into "<path>.tmp", flushes it to disk and renames it over
 * path, so a reader (a CI step, a second mcpcert) sees the old file or the whole new one, never a
 * torn one. Returns MCPC_OK, emit's error, MCPC_ERR_NOMEM or MCPC_ERR_IO; the temporary file is
 * removed on failure. */
mcpc_err mcpc_report_write_atomic(const char *path, mcpc_err (*emit)(FILE *fp, void *arg),
                                  void *arg)
{
    mcpc_err rc = MCPC_OK;
    size_t len;
    char *tmp = NULL;
    FILE *fp = NULL;
    int fd = -1, created = 0;

    if (!path || !*path || !emit)
        return MCPC_ERR_IO;
    len = strlen(path);
    tmp = malloc(len + sizeof ".tmp");
    if (!tmp)
        return MCPC_ERR_NOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", sizeof ".tmp");

    /* A leftover from a killed run is removed first; O_EXCL then guarantees a fresh regular file
     * of our own (it never follows a symlink or opens a FIFO someone planted there). */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        rc = MCPC_ERR_IO;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = MCPC_ERR_IO;
        goto out;
    }
    created = 1;
    fp = fdopen(fd, "w");
    if (!fp) {
        rc = MCPC_ERR_IO;
        goto out;
    }
    fd = -1;   /* now owned by fp */

    rc = emit(fp, arg);
    if (rc != MCPC_OK)
        goto out;
    /* fsync before rename: otherwise a crash can leave the new name pointing at an empty file. */
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
        rc = MCPC_ERR_IO;
        goto out;
    }
    if (fclose(fp) != 0) {
        fp = NULL;
        rc = MCPC_ERR_IO;
        goto out;
    }
    fp = NULL;
    if (rename(tmp, path) != 0) {
        rc = MCPC_ERR_IO;
        goto out;
    }
    created = 0;

out:
    if (fp)
        fclose(fp);
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Writes the current time as ISO-8601 UTC with milliseconds, "2025-11-25T20:04:00.123Z", into
 * buf (at least 25 bytes). On a clock failure the epoch is written: a wrong start time must not
 * cost the report. */
void mcpc_report_utc_now(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    if (!buf || size == 0)
        return;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm)) {
        memset(&ts, 0, sizeof ts);
        memset(&tm, 0, sizeof tm);
        tm.tm_year = 70;
        tm.tm_mday = 1;
    }
    n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf + n, size - n, ".%03ldZ", (long)(ts.tv_nsec / 1000000));
}

/* Reports are listeners on one event stream: the runner emits run-start, case-start, case-end
 * and run-end; each writer (terminal, JSON, JUnit XML) turns them into its own output. Writers
 * see events only, never transports or sessions. */
#ifndef MCPC_REPORT_H
#define MCPC_REPORT_H

#include <stdio.h>
#include <stddef.h>
#include <jansson.h>
#include "error.h"

typedef enum {
    MCPC_V_PASS = 0,
    MCPC_V_WARN,          /* a SHOULD not met */
    MCPC_V_FAIL,
    MCPC_V_SKIP,          /* not applicable: role, era, transport */
    MCPC_V_NOT_TESTABLE,  /* a hook the case needs is absent; counts against the profile */
    MCPC_V_TIMEOUT,
    MCPC_V_CRASH,         /* the implementation died */
    MCPC_V_ERROR,         /* the harness itself failed; never blamed on the implementation */
    MCPC_V__COUNT
} mcpc_verdict;

/* "PASS", "WARN", ... ; never NULL. */
const char *mcpc_verdict_name(mcpc_verdict v);
/* The worse of two verdicts for a case: ERROR > CRASH > TIMEOUT > FAIL > NOT_TESTABLE > WARN >
 * PASS > SKIP. */
mcpc_verdict mcpc_verdict_worst(mcpc_verdict a, mcpc_verdict b);

typedef struct {
    const char *tool_version;
    const char *target;       /* the command line or URL under test */
    const char *role;         /* "server" */
    const char *transport;    /* "stdio" */
    const char *era;          /* negotiated protocol version */
    const char *profile;      /* "bronze" | "silver" | "gold" | NULL when run by --case/--suite */
    size_t total_cases;
} mcpc_run_info;

typedef struct {
    const char *id;
    const char *title;
    const char *level;        /* "MUST" | "SHOULD" */
    json_t *requirements;     /* borrowed: array of {"id","level","text"} */
    mcpc_verdict verdict;
    const char *expected;     /* what the case expected at the deciding step ("" if none) */
    const char *arrived;      /* what arrived instead ("" if none) */
    const char *message;      /* one-line reason */
    json_t *checks;           /* borrowed: array of {"step","verdict","expected","arrived"} */
    json_t *transcript;       /* borrowed: array of {"t_ms","dir","data"}; dir is send|recv|stderr|note */
    int expected_failure;     /* listed in the --expected-failures baseline */
    double elapsed_ms;
} mcpc_case_result;

typedef struct {
    size_t counts[MCPC_V__COUNT];
    size_t passed, failed, skipped;  /* passed = PASS+WARN; skipped = SKIP; failed = the rest */
    const char *profile;
    int attained;                    /* profile verdict: 1 attained, 0 not */
    const char *profile_message;     /* one line: why not attained, or "attained" */
    int exit_code;
    double elapsed_ms;
} mcpc_run_summary;

typedef struct mcpc_listener mcpc_listener;
struct mcpc_listener {
    void (*run_start)(mcpc_listener *self, const mcpc_run_info *info);
    void (*case_start)(mcpc_listener *self, size_t index, const char *id, const char *title);
    void (*case_end)(mcpc_listener *self, size_t index, const mcpc_case_result *res);
    /* Returns MCPC_OK or an I/O error (a lost report is an error the CLI must show). */
    mcpc_err (*run_end)(mcpc_listener *self, const mcpc_run_summary *sum);
    void (*destroy)(mcpc_listener *self);
    void *state;
};

/* Terminal writer on `out`; colour when colour != 0 (the CLI passes isatty()). */
mcpc_listener *mcpc_report_term_new(FILE *out, int colour);
/* JSON writer: the canonical record, written to `path` at run end. */
mcpc_listener *mcpc_report_json_new(const char *path);
/* JUnit XML writer, written to `path` at run end. */
mcpc_listener *mcpc_report_junit_new(const char *path);

/* The event bus: a fixed array of listeners. */
#define MCPC_REPORT_MAX_LISTENERS 8
typedef struct {
    mcpc_listener *l[MCPC_REPORT_MAX_LISTENERS];
    size_t n;
} mcpc_report_bus;

void mcpc_report_bus_add(mcpc_report_bus *bus, mcpc_listener *l);
void mcpc_report_bus_run_start(mcpc_report_bus *bus, const mcpc_run_info *info);
void mcpc_report_bus_case_start(mcpc_report_bus *bus, size_t index, const char *id, const char *title);
void mcpc_report_bus_case_end(mcpc_report_bus *bus, size_t index, const mcpc_case_result *res);
/* Returns the first error any writer reported, after giving every writer its turn. */
mcpc_err mcpc_report_bus_run_end(mcpc_report_bus *bus, const mcpc_run_summary *sum);
void mcpc_report_bus_destroy(mcpc_report_bus *bus);

#endif

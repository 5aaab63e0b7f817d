/* The runner: selects cases, negotiates the era, runs each case against a fresh process of the
 * implementation, and emits events to the report writers. */
#ifndef MCPC_RUNNER_H
#define MCPC_RUNNER_H

#include <jansson.h>
#include "session.h"

/* Exit codes of `mcpcert run`. */
enum {
    MCPC_EXIT_ATTAINED = 0,
    MCPC_EXIT_NONCONFORMANT = 1,
    MCPC_EXIT_USAGE = 2,
    MCPC_EXIT_UNREACHABLE = 3,
};

typedef struct {
    char **argv;                   /* the implementation's command (NULL-terminated), or NULL */
    const char *role;              /* "server" (NULL too) | "client" */
    const char *transport;         /* "stdio" | "http" */
    const char *url;               /* HTTP endpoint, or NULL (see target.h for "{port}") */
    int allow_remote;              /* HTTP: permit a non-loopback target */
    const char *ledger;            /* --url: the ledger file the implementation writes, or NULL */
    const char *as_client_secret;  /* HTTP: the implementation's secret at the AS, or NULL */
    unsigned as_port;              /* HTTP: the authorization server's port (0: any free one) */
    unsigned upstream_port;        /* HTTP: the mock upstream API's port (0: any free one) */
    int era_forced;                /* 1: use `era`; 0: negotiate the newest the server offers */
    mcpc_era era;
    int timeout_ms;                /* per awaited message */
    const char *profile;           /* NULL: none (suite/case selection) */
    const char *suite;             /* NULL: none */
    char **case_ids;               /* NULL-terminated, or NULL */
    const char *case_file;         /* one more case file to load and run (--case-file), or NULL */
    const char *expected_failures; /* path or NULL */
    const char *report_dir;        /* NULL: no files */
    const char *data_dir;          /* holds cases/, profiles/, docs/requirements.json */
    const char *spec_dir;          /* official MCP schemas (mcp-<era>.schema.json), or NULL */
    int colour;
    int quiet;                     /* no terminal report */
} mcpc_run_opts;

/* Run and report; returns an exit code. */
int mcpc_runner_run(const mcpc_run_opts *o);

#endif

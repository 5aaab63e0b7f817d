/* mcpcert: the command line. Parsing and dispatch only; the work is in the library. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "browse.h"
#include "case.h"
#include "runner.h"
#include "serve.h"
#include "fuzz_live.h"

static void mcpc_main_usage(FILE *f)
{
    fputs("usage:\n"
          "  mcpcert run [--role server|client] [--profile bronze|silver|gold] [--suite NAME]\n"
          "              [--case ID]... [--spec-version 2025-11-25|2026-07-28]\n"
          "              [--expected-failures FILE] [--report-dir DIR] [--timeout MS]\n"
          "              [--transport stdio|http] [--url URL] [--allow-remote] [--spec-dir DIR]\n"
          "              [--stats] [--quiet] [--case-file PATH] [--as-port N] [--upstream-port N]\n"
          "              [--ledger FILE] [--as-client-secret S]  (with --url: what the implementation\n"
          "              was started with, see `mcpcert explain auth`)\n"
          "              [-- COMMAND ARGS...]\n"
          "  mcpcert list [--suite NAME]\n"
          "  mcpcert explain ID|auth   (a case id, a requirement id, or the OAuth variables)\n"
          "  mcpcert fuzz [--duration S] [--seed N] [--out DIR] [--max-findings N] [--timeout MS]\n"
          "               [--transport stdio|http] [--url URL] [--spec-version V] [-- COMMAND ARGS...]\n"
          "  mcpcert serve CASE-ID --record FILE [--spec-version ERA]\n"
          "                            (the client role's mock server over stdio; a client\n"
          "                            under test launches it, see docs/client-role.md)\n"
          "  mcpcert browse --record FILE URL\n"
          "                            (the client role's browser for OAuth cases: records URL,\n"
          "                            prints the Location of a loopback authorization URL)\n"
          "\n"
          "With no COMMAND and no --url, `run` targets the bundled reference server (over HTTP with\n"
          "--transport http), or with --role client the bundled reference client; a client's\n"
          "arguments may hold \"{url}\", replaced by the mock server's endpoint. With --transport http and a COMMAND, \"{port}\" in its arguments\n"
          "is replaced by a free loopback port; otherwise the first http:// URL it prints is used.\n"
          "Exit codes: 0 attained, 1 non-conformant, 2 usage, 3 implementation unreachable.\n",
          f);
}

/* Where cases/, profiles/ and docs/ live: $MCPCERT_DATA, else the source tree we were built from. */
static const char *mcpc_main_data_dir(void)
{
    const char *d = getenv("MCPCERT_DATA");
    return d && *d ? d : MCPC_DATADIR;
}

/* The official MCP schemas: $MCPC_SHARED/spec, else the shared folder configure found. */
static const char *mcpc_main_spec_dir(char *buf, size_t len)
{
    const char *d = getenv("MCPC_SHARED");
    snprintf(buf, len, "%s/spec", d && *d ? d : MCPC_SHARED_DIR);
    return buf;
}

static int mcpc_main_load(mcpc_case_set *set, json_t **reqs)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/cases", mcpc_main_data_dir());
    if (mcpc_case_load_dir(path, set, err, sizeof err) != MCPC_OK) {
        fprintf(stderr, "mcpcert: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/docs/requirements.json", mcpc_main_data_dir());
    *reqs = mcpc_requirements_load(path, err, sizeof err);
    if (!*reqs) {
        fprintf(stderr, "mcpcert: %s\n", err);
        mcpc_case_set_free(set);
        return -1;
    }
    return 0;
}

static int mcpc_main_list(int argc, char **argv)
{
    mcpc_case_set set;
    json_t *reqs;
    const char *suite = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--suite") == 0 && i + 1 < argc)
            suite = argv[++i];
        else {
            mcpc_main_usage(stderr);
            return MCPC_EXIT_USAGE;
        }
    }
    if (mcpc_main_load(&set, &reqs))
        return MCPC_EXIT_USAGE;
    for (size_t i = 0; i < set.n; i++) {
        const mcpc_case *c = &set.v[i];
        if (suite && strcmp(c->suite, suite) != 0)
            continue;
        printf("%-16s %-6s %-6s %-6s %s\n", c->id, c->level, c->profile, c->suite, c->title);
    }
    json_decref(reqs);
    mcpc_case_set_free(&set);
    return 0;
}

static void mcpc_main_strlist(const char *label, json_t *arr)
{
    size_t i;
    json_t *e;
    printf("%s", label);
    json_array_foreach(arr, i, e) printf("%s%s", i ? ", " : "", json_string_value(e));
    printf("\n");
}

/* The trust configuration a server under test gets over HTTP (docs/auth.md, section 1). */
static void mcpc_main_explain_auth(void)
{
    fputs("Over streamable HTTP, mcpcert runs an OAuth authorization server and a mock upstream\n"
          "API on loopback, and starts the implementation with these variables (against --url,\n"
          "start it with them yourself; --as-port and --upstream-port fix the ports):\n\n"
          "  MCPCERT_AUTH_ISSUER         http://127.0.0.1:<as-port>: the only issuer to trust\n"
          "  MCPCERT_AUTH_JWKS_URI       <issuer>/jwks: its signing keys (ES256, EdDSA)\n"
          "  MCPCERT_RESOURCE_URI        the MCP endpoint: the canonical resource URI, the aud\n"
          "                              of every token and `resource` of the resource metadata\n"
          "  MCPCERT_AUTH_CLIENT_ID      credentials at the AS for the server's own outbound\n"
          "  MCPCERT_AUTH_CLIENT_SECRET  calls (client credentials grant)\n"
          "  MCPCERT_UPSTREAM_URL        the mock upstream API (token passthrough is checked there)\n"
          "  MCPCERT_LEDGER              the side-effect ledger file (cases with the ledger hook)\n"
          "\nScopes: mcp:tools (listing, read tools), mcp:write (tools with side effects).\n"
          "Tokens, the per-call token and DPoP rules and the token battery: docs/auth.md.\n",
          stdout);
}

static int mcpc_main_explain(int argc, char **argv)
{
    mcpc_case_set set;
    json_t *reqs;
    int rc = 0;
    if (argc != 2) {
        mcpc_main_usage(stderr);
        return MCPC_EXIT_USAGE;
    }
    if (mcpc_main_load(&set, &reqs))
        return MCPC_EXIT_USAGE;
    const char *id = argv[1];
    if (strcmp(id, "auth") == 0) {
        mcpc_main_explain_auth();
        json_decref(reqs);
        mcpc_case_set_free(&set);
        return 0;
    }
    const mcpc_case *c = mcpc_case_find(&set, id);
    json_t *req = json_object_get(reqs, id);
    if (c) {
        size_t i;
        json_t *r, *st;
        printf("%s  %s\n\n", c->id, c->title);
        printf("level %s, first counts in profile %s, suite %s\n", c->level, c->profile, c->suite);
        mcpc_main_strlist("role: ", c->roles);
        mcpc_main_strlist("eras: ", c->eras);
        mcpc_main_strlist("transports: ", c->transports);
        printf("\nrequirements:\n");
        json_array_foreach(c->requirements, i, r) {
            json_t *q = json_object_get(reqs, json_string_value(r));
            printf("  %s (%s) %s\n", json_string_value(r),
                   json_string_value(json_object_get(q, "level")),
                   json_string_value(json_object_get(q, "text")));
        }
        const char *d = json_string_value(json_object_get(c->doc, "description"));
        if (d)
            printf("\n%s\n", d);
        printf("\nsteps:\n");
        json_array_foreach(c->steps, i, st) {
            const char *what = json_string_value(json_object_get(st, "expected"));
            const char *method = json_string_value(json_object_get(st, "method"));
            const char *note = json_string_value(json_object_get(st, "note"));
            printf("  %2zu. %s%s%s%s%s%s%s\n", i + 1, json_string_value(json_object_get(st, "do")),
                   method ? " " : "", method ? method : "", what ? ": expect " : "",
                   what ? what : "", note ? " — " : "", note ? note : "");
        }
        printf("\nhow to fix:\n  %s\n", c->fix);
        mcpc_main_strlist(mcpc_json_strarray_has(c->roles, "client")
                              ? "\nproved to fail against the reference client with --flaw "
                              : "\nproved to fail against the reference server with --flaw ",
                          c->flaws);
    } else if (req) {
        printf("%s (%s)\n  %s\n  source: %s\n", id, json_string_value(json_object_get(req, "level")),
               json_string_value(json_object_get(req, "text")),
               json_string_value(json_object_get(req, "source")));
        printf("cases:");
        int any = 0;
        for (size_t i = 0; i < set.n; i++) {
            if (mcpc_json_strarray_has(set.v[i].requirements, id)) {
                printf(" %s", set.v[i].id);
                any = 1;
            }
        }
        printf("%s\n", any ? "" : " none yet");
    } else {
        fprintf(stderr, "mcpcert: %s is neither a case nor a requirement (see `mcpcert list`)\n", id);
        rc = MCPC_EXIT_USAGE;
    }
    json_decref(reqs);
    mcpc_case_set_free(&set);
    return rc;
}

static int mcpc_main_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"profile", required_argument, NULL, 'p'},
        {"suite", required_argument, NULL, 's'},
        {"case", required_argument, NULL, 'c'},
        {"spec-version", required_argument, NULL, 'v'},
        {"expected-failures", required_argument, NULL, 'e'},
        {"report-dir", required_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 't'},
        {"transport", required_argument, NULL, 'T'},
        {"url", required_argument, NULL, 'u'},
        {"allow-remote", no_argument, NULL, 'R'},
        {"spec-dir", required_argument, NULL, 'D'},
        {"stats", no_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"case-file", required_argument, NULL, 'F'},
        {"as-port", required_argument, NULL, 'A'},
        {"as-client-secret", required_argument, NULL, 'K'},
        {"ledger", required_argument, NULL, 'L'},
        {"upstream-port", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mcpc_run_opts o;
    char *ref_argv[2] = {MCPC_BUILDDIR "/targets/refserver", NULL};
    char *ref_http_argv[4] = {MCPC_BUILDDIR "/targets/refserver", "--http", "{port}", NULL};
    char *ref_client_argv[2] = {MCPC_BUILDDIR "/targets/refclient", NULL};
    char **ids = calloc((size_t)argc + 1, sizeof *ids);
    size_t nids = 0;
    int stats = 0, ch, code;
    char spec_buf[4096];
    memset(&o, 0, sizeof o);
    o.timeout_ms = 5000;
    o.data_dir = mcpc_main_data_dir();
    o.spec_dir = mcpc_main_spec_dir(spec_buf, sizeof spec_buf);
    o.colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    if (!ids)
        return MCPC_EXIT_USAGE;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (strcmp(optarg, "server") != 0 && strcmp(optarg, "client") != 0) {
                fprintf(stderr, "mcpcert: role %s is not supported yet (server or client)\n", optarg);
                free(ids);
                return MCPC_EXIT_USAGE;
            }
            o.role = optarg;
            break;
        case 'p': o.profile = optarg; break;
        case 's': o.suite = optarg; break;
        case 'c': ids[nids++] = optarg; break;
        case 'v':
            if (mcpc_era_parse(optarg, &o.era) != 0) {
                fprintf(stderr, "mcpcert: --spec-version must be 2025-11-25 or 2026-07-28\n");
                free(ids);
                return MCPC_EXIT_USAGE;
            }
            o.era_forced = 1;
            break;
        case 'e': o.expected_failures = optarg; break;
        case 'd': o.report_dir = optarg; break;
        case 't': {
            char *end;
            long t = strtol(optarg, &end, 10);
            if (*end || t < 10 || t > 600000) {
                fprintf(stderr, "mcpcert: --timeout takes milliseconds from 10 to 600000\n");
                free(ids);
                return MCPC_EXIT_USAGE;
            }
            o.timeout_ms = (int)t;
            break;
        }
        case 'T':
            if (strcmp(optarg, "stdio") != 0 && strcmp(optarg, "http") != 0) {
                fprintf(stderr, "mcpcert: --transport must be stdio or http\n");
                free(ids);
                return MCPC_EXIT_USAGE;
            }
            o.transport = optarg;
            break;
        case 'u': o.url = optarg; break;
        case 'R': o.allow_remote = 1; break;
        case 'D': o.spec_dir = optarg; break;
        case 'S': stats = 1; break;
        case 'q': o.quiet = 1; break;
        case 'F': o.case_file = optarg; break;
        case 'L': o.ledger = optarg; break;
        case 'K': o.as_client_secret = optarg; break;
        case 'A':
        case 'U': {
            char *end;
            long p = strtol(optarg, &end, 10);
            if (*end || p < 1 || p > 65535) {
                fprintf(stderr, "mcpcert: --as-port and --upstream-port take a port (1-65535)\n");
                free(ids);
                return MCPC_EXIT_USAGE;
            }
            if (ch == 'A')
                o.as_port = (unsigned)p;
            else
                o.upstream_port = (unsigned)p;
            break;
        }
        case 'h':
            mcpc_main_usage(stdout);
            free(ids);
            return 0;
        default:
            mcpc_main_usage(stderr);
            free(ids);
            return MCPC_EXIT_USAGE;
        }
    }
    if ((o.profile != NULL) + (o.suite != NULL) + (nids > 0) > 1) {
        fprintf(stderr, "mcpcert: choose one of --profile, --suite or --case\n");
        free(ids);
        return MCPC_EXIT_USAGE;
    }
    o.case_ids = nids ? ids : NULL;
    if (o.url && !o.transport)
        o.transport = "http";
    if (!o.transport)
        o.transport = "stdio";
    if (o.url && strcmp(o.transport, "http") != 0) {
        fprintf(stderr, "mcpcert: --url goes with --transport http\n");
        free(ids);
        return MCPC_EXIT_USAGE;
    }
    int client = o.role && strcmp(o.role, "client") == 0;
    if (client && o.url) {
        fprintf(stderr, "mcpcert: the client role serves the client; it takes a command, not --url\n");
        free(ids);
        return MCPC_EXIT_USAGE;
    }
    if (optind < argc)
        o.argv = argv + optind;
    else if (client)
        o.argv = ref_client_argv;
    else if (!o.url)
        o.argv = strcmp(o.transport, "http") == 0 ? ref_http_argv : ref_argv;
    code = mcpc_runner_run(&o);
    free(ids);
    if (stats) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "mcpcert: peak-rss-kb %ld\n", ru.ru_maxrss);
    }
    return code;
}

int main(int argc, char **argv)
{
    /* run as $BROWSER (a link of that name, made by the client role): argv[1..] are URLs */
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    if (argc > 0 && strcmp(base ? base + 1 : argv[0], MCPC_BROWSE_LINK) == 0)
        return mcpc_browse_env_cmd(argc, argv);
    if (argc < 2) {
        mcpc_main_usage(stderr);
        return MCPC_EXIT_USAGE;
    }
    if (strcmp(argv[1], "run") == 0)
        return mcpc_main_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return mcpc_main_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "explain") == 0)
        return mcpc_main_explain(argc - 1, argv + 1);
    if (strcmp(argv[1], "fuzz") == 0)
        return mcpc_fuzz_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0)
        return mcpc_serve_cmd(argc - 1, argv + 1, mcpc_main_data_dir());
    if (strcmp(argv[1], "browse") == 0)
        return mcpc_browse_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        mcpc_main_usage(stdout);
        return 0;
    }
    fprintf(stderr, "mcpcert: unknown command %s\n", argv[1]);
    mcpc_main_usage(stderr);
    return MCPC_EXIT_USAGE;
}

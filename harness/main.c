/* mcpcert: the command line. Parsing and dispatch only; the work is in the library. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "case.h"
#include "runner.h"

static void mcpc_main_usage(FILE *f)
{
    fputs("usage:\n"
          "  mcpcert run [--role server] [--profile bronze|silver|gold] [--suite NAME]\n"
          "              [--case ID]... [--spec-version 2025-11-25|2026-07-28]\n"
          "              [--expected-failures FILE] [--report-dir DIR] [--timeout MS]\n"
          "              [--transport stdio|http] [--url URL] [--allow-remote] [--spec-dir DIR]\n"
          "              [--stats] [--quiet] [-- COMMAND ARGS...]\n"
          "  mcpcert list [--suite NAME]\n"
          "  mcpcert explain ID        (a case id or a requirement id)\n"
          "\n"
          "With no COMMAND and no --url, `run` targets the bundled reference server (over HTTP with\n"
          "--transport http). With --transport http and a COMMAND, \"{port}\" in its arguments\n"
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
    const mcpc_case *c = mcpc_case_find(&set, id);
    json_t *req = json_object_get(reqs, id);
    if (c) {
        size_t i;
        json_t *r, *st;
        printf("%s  %s\n\n", c->id, c->title);
        printf("level %s, first counts in profile %s, suite %s\n", c->level, c->profile, c->suite);
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
        mcpc_main_strlist("\nproved to fail against the reference server with --flaw ", c->flaws);
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mcpc_run_opts o;
    char *ref_argv[2] = {MCPC_BUILDDIR "/targets/refserver", NULL};
    char *ref_http_argv[4] = {MCPC_BUILDDIR "/targets/refserver", "--http", "{port}", NULL};
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
            if (strcmp(optarg, "server") != 0) {
                fprintf(stderr, "mcpcert: role %s is not supported yet (server only)\n", optarg);
                free(ids);
                return MCPC_EXIT_USAGE;
            }
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
    if (optind < argc)
        o.argv = argv + optind;
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
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        mcpc_main_usage(stdout);
        return 0;
    }
    fprintf(stderr, "mcpcert: unknown command %s\n", argv[1]);
    mcpc_main_usage(stderr);
    return MCPC_EXIT_USAGE;
}

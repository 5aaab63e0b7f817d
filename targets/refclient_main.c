/* refclient: the reference MCP client, the client that mcpcert's client role certifies itself
 * against (docs/client-role.md, docs/refclient.md).
 *
 *   refclient [--flaw NAME]... [--era ERA] [URL]     run the actions of $MCPC_CONTEXT
 *   refclient --list-flaws                           print every flaw, one per line
 *
 * This file is the command line, the reading of MCPC_CONTEXT and the actions; the protocol is
 * refclient_proto.c. Results go to stdout, one line per tool result; everything else goes to
 * stderr. Exit status: 0 when every action succeeded, 1 otherwise (the last stderr line says
 * why), 2 for a bad command line. */
#include "refclient.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const flaw_names[MCPC_RC_FLAW__COUNT] = {
#define MCPC_RC_FLAW_NAME(e, name, what) name,
    MCPC_RC_FLAWS(MCPC_RC_FLAW_NAME)
#undef MCPC_RC_FLAW_NAME
};

static const char *const flaw_whats[MCPC_RC_FLAW__COUNT] = {
#define MCPC_RC_FLAW_WHAT(e, name, what) what,
    MCPC_RC_FLAWS(MCPC_RC_FLAW_WHAT)
#undef MCPC_RC_FLAW_WHAT
};

/* What the command line asked for. */
struct options {
    const char *url;               /* positional URL, NULL or "" when none */
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: refclient [--flaw NAME]... [--era auto|%s|%s] [URL]\n"
            "       refclient --list-flaws\n"
            "The reference MCP client of mcpcert (%s and %s, stdio or streamable HTTP).\n"
            "It does what the JSON object in $MCPC_CONTEXT asks (docs/client-role.md): the\n"
            "transport, the server to launch or the URL, and the actions.\n"
            "  URL              the endpoint (overrides the context's url; \"\" is ignored)\n"
            "  --era ERA        auto (default): server/discover, falling back to initialize;\n"
            "                   %s: initialize only; %s: no fallback\n"
            "  --flaw NAME      break one client requirement on purpose (repeatable)\n"
            "  --list-flaws     print the flaws, one per line: name, then what it breaks\n",
            MCPC_RC_LEGACY, MCPC_RC_MODERN, MCPC_RC_LEGACY, MCPC_RC_MODERN, MCPC_RC_LEGACY,
            MCPC_RC_MODERN);
}

/* Parse argv into c and o. Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct mcpc_rc *c, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;

        if (strcmp(arg, "--list-flaws") == 0) {
            for (size_t k = 0; k < MCPC_RC_FLAW__COUNT; k++)
                printf("%-26s %s\n", flaw_names[k], flaw_whats[k]);
            return 0;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(arg, "--flaw=", 7) == 0 || strncmp(arg, "--era=", 6) == 0) {
            val = strchr(arg, '=') + 1;
        } else if (strcmp(arg, "--flaw") == 0 || strcmp(arg, "--era") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "refclient: %s needs a value\n", arg);
                return 2;
            }
            val = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "refclient: unknown argument: %s\n", arg);
            usage(stderr);
            return 2;
        } else {
            if (o->url && o->url[0] && arg[0]) {
                fprintf(stderr, "refclient: more than one URL: %s\n", arg);
                return 2;
            }
            if (arg[0])
                o->url = arg;
            continue;
        }
        if (strncmp(arg, "--flaw", 6) == 0) {
            size_t k = 0;
            while (k < MCPC_RC_FLAW__COUNT && strcmp(flaw_names[k], val) != 0)
                k++;
            if (k == MCPC_RC_FLAW__COUNT) {
                fprintf(stderr, "refclient: unknown flaw: %s (see --list-flaws)\n", val);
                return 2;
            }
            c->flaw[k] = true;
        } else if (strcmp(val, "auto") == 0) {
            c->era = MCPC_RC_ERA_AUTO;
        } else if (strcmp(val, MCPC_RC_LEGACY) == 0) {
            c->era = MCPC_RC_ERA_LEGACY;
        } else if (strcmp(val, MCPC_RC_MODERN) == 0) {
            c->era = MCPC_RC_ERA_MODERN;
        } else {
            fprintf(stderr, "refclient: --era wants auto, %s or %s, not %s\n", MCPC_RC_LEGACY,
                    MCPC_RC_MODERN, val);
            return 2;
        }
    }
    return -1;
}

/* Print s (one line: CR and LF become spaces) followed by a newline, on f. */
static void print_line(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fputc(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i], f);
    fputc('\n', f);
    fflush(f);
}

/* The final stderr message: control characters (the server's text may carry any) become '?'
 * so that it stays one line. */
static void complain(const char *msg)
{
    fputs("refclient: ", stderr);
    for (const char *p = msg; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7F ? '?' : *p, stderr);
    fputc('\n', stderr);
}

/* Open the connection the context asks for (ctx borrowed). 0 or -1 (message printed). */
static int open_conn(struct mcpc_rc *c, json_t *ctx, const struct options *o)
{
    const char *transport = json_string_value(json_object_get(ctx, "transport"));
    char err[512] = "";
    mcpc_err rc;

    if (!transport)
        transport = json_object_get(ctx, "server") ? "stdio" : "http";
    if (strcmp(transport, "http") == 0) {
        const char *url = o->url && o->url[0] ? o->url
                                               : json_string_value(json_object_get(ctx, "url"));
        if (!url || !url[0])
            url = getenv("MCPC_URL");
        if (!url || !url[0]) {
            complain("MCPC_CONTEXT: transport http without a url");
            return -1;
        }
        struct mcpc_rc_auth *auth = NULL;
        c->http = true;
        rc = mcpc_rc_auth_new(ctx, url, c->flaw, &auth, err, sizeof err);
        if (rc == MCPC_OK)
            rc = mcpc_rc_http_open(url, c->flaw, auth, &c->conn, err, sizeof err);
    } else if (strcmp(transport, "stdio") == 0) {
        json_t *server = json_object_get(ctx, "server"), *args = json_object_get(server, "args");
        const char *command = json_string_value(json_object_get(server, "command"));
        size_t n = json_array_size(args), i;
        json_t *a;
        char **argv;

        if (!command || !command[0] || (args && !json_is_array(args))) {
            complain("MCPC_CONTEXT: transport stdio needs server.command (a string) and "
                     "server.args (an array of strings)");
            return -1;
        }
        if (!(argv = calloc(n + 2, sizeof *argv))) {
            complain("out of memory");
            return -1;
        }
        argv[0] = (char *)command;
        json_array_foreach(args, i, a) {
            if (!json_is_string(a)) {
                free(argv);
                complain("MCPC_CONTEXT: server.args holds something that is not a string");
                return -1;
            }
            argv[i + 1] = (char *)json_string_value(a);
        }
        rc = mcpc_rc_stdio_open(argv, c->flaw, &c->conn, err, sizeof err);
        free(argv);
    } else {
        complain("MCPC_CONTEXT: transport is neither http nor stdio");
        return -1;
    }
    if (rc != MCPC_OK) {
        complain(err[0] ? err : mcpc_strerror(rc));
        return -1;
    }
    return 0;
}

/* 1 if rc leaves the connection usable for the next action. */
static int can_go_on(mcpc_err rc)
{
    return rc == MCPC_ERR_NOT_FOUND || rc == MCPC_ERR_INVALID || rc == MCPC_ERR_PROTOCOL ||
           rc == MCPC_ERR_UNSUPPORTED;
}

/* Run the actions (borrowed). Returns the number that failed; *fatal is set when one failed
 * so that the rest could not run. */
static size_t run_actions(struct mcpc_rc *c, json_t *actions, bool *fatal)
{
    size_t i, failed = 0;
    json_t *act;

    *fatal = false;
    json_array_foreach(actions, i, act) {
        const char *what = json_string_value(json_object_get(act, "do"));
        mcpc_err rc;

        if (what && strcmp(what, "list_tools") == 0) {
            rc = mcpc_rc_list_tools(c);
        } else if (what && strcmp(what, "call_tool") == 0) {
            const char *name = json_string_value(json_object_get(act, "name"));
            json_t *text = NULL;
            bool is_error;

            if (!name) {
                complain("MCPC_CONTEXT: a call_tool action without a name");
                failed++;
                continue;
            }
            rc = mcpc_rc_call_tool(c, name, json_object_get(act, "arguments"), &text, &is_error);
            if (rc == MCPC_OK) {
                print_line(stdout, json_string_value(text), json_string_length(text));
                if (is_error)
                    fprintf(stderr, "refclient: tool %.128s reported an error (isError)\n",
                            name);
            }
            json_decref(text);
        } else {
            complain("MCPC_CONTEXT: an action whose \"do\" is not list_tools or call_tool");
            failed++;
            continue;
        }
        if (rc == MCPC_OK)
            continue;
        failed++;
        if (!can_go_on(rc)) {
            *fatal = true;
            break;
        }
        complain(c->err);
    }
    return failed;
}

/* Rank of an MCP-S profile name: bronze < silver < gold; 0 for none or an unknown one. */
static int mcps_rank(const char *p)
{
    static const char *const names[] = {"bronze", "silver", "gold"};
    for (int i = 0; p && i < 3; i++)
        if (strcmp(p, names[i]) == 0)
            return i + 1;
    return 0;
}

/* MCPC_CONTEXT "mcps": {"require": PROFILE}: the host insists on MCP-S at that profile, so a
 * server that advertises less (or nothing) is refused before any tool is touched: going on would
 * be a silent downgrade (NEG-01). 0 to go on, -1 refused. */
static int mcps_check(struct mcpc_rc *c, json_t *ctx)
{
    const char *want = json_string_value(json_object_get(json_object_get(ctx, "mcps"), "require"));
    char msg[160];
    if (!want || c->flaw[MCPC_RC_FLAW_MCPS_PROFILE_IGNORED])
        return 0;
    if (mcps_rank(c->mcps_profile) >= mcps_rank(want) && mcps_rank(want) > 0)
        return 0;
    snprintf(msg, sizeof msg, "MCP-S profile %s required, the server advertises %s", want,
             c->mcps_profile[0] ? c->mcps_profile : "no MCP-S extension");
    complain(msg);
    return -1;
}

int main(int argc, char **argv)
{
    struct mcpc_rc c;
    struct options o = { NULL };
    const char *text = getenv("MCPC_CONTEXT");
    json_t *ctx = NULL, *actions;
    json_error_t jerr;
    int status;
    size_t failed;
    bool fatal;

    mcpc_rc_init(&c);
    if ((status = parse_args(argc, argv, &c, &o)) >= 0)
        goto out;
    status = 1;
    signal(SIGPIPE, SIG_IGN);              /* a vanished server is an error, not our death */
    if (!text || !(ctx = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) ||
        !json_is_object(ctx)) {
        complain(text ? "MCPC_CONTEXT is not a JSON object" : "MCPC_CONTEXT is not set");
        goto out;
    }
    actions = json_object_get(ctx, "actions");
    if (actions && !json_is_array(actions)) {
        complain("MCPC_CONTEXT: actions is not an array");
        goto out;
    }
    if (open_conn(&c, ctx, &o) != 0)
        goto out;
    if (mcpc_rc_connect(&c) != MCPC_OK) {
        complain(c.err);
        goto out;
    }
    if (mcps_check(&c, ctx) != 0)
        goto out;
    failed = run_actions(&c, actions, &fatal);
    if (fatal) {
        complain(c.err);
        goto out;
    }
    if (failed) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu of %zu actions failed", failed, json_array_size(actions));
        complain(msg);
        goto out;
    }
    status = 0;
out:
    mcpc_rc_fini(&c);
    json_decref(ctx);
    return status;
}

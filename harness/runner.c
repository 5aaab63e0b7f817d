/* Running a selection of cases against an implementation under test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case.h"
#include "client_run.h"
#include "clock.h"
#include "ledger.h"
#include "profile.h"
#include "report.h"
#include "runner.h"
#include "runner_auth.h"
#include "step.h"
#include "target.h"
#include "wire.h"

#define MCPC_VERSION "0.1.0"

typedef struct {
    const mcpc_run_opts *o;
    mcpc_case_set cases;
    json_t *reqs;          /* requirement catalogue */
    json_t *profile;       /* merged profile or NULL */
    json_t *selected;      /* array of case ids, in run order */
    json_t *baseline;      /* expected-failure case ids */
    mcpc_era era;
    char tmpdir[256];
    char target[1024];
    mcpc_report_bus bus;
    int unreachable;
    mcpc_wire *wire;       /* official schema of the era, or NULL when not found */
    const char *extra_id;  /* the --case-file case (borrowed from cases), or NULL */
    int client;            /* the client role: the harness plays the server */
    int auth_on;           /* server role over HTTP: the OAuth environment is running */
    mcpc_auth_env auth;
} mcpc_runner;

/* Print a usage-class error; returns the usage exit code. */
static int mcpc_runner_usage(const char *what, const char *detail)
{
    fprintf(stderr, "mcpcert: %s%s\n", what, detail);
    return MCPC_EXIT_USAGE;
}

/* Read the expected-failures file: one case id per line, '#' comments. */
static int mcpc_runner_baseline(mcpc_runner *r, char *err, size_t errlen)
{
    char line[256];
    FILE *f;
    r->baseline = json_array();
    if (!r->o->expected_failures)
        return 0;
    f = fopen(r->o->expected_failures, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", r->o->expected_failures, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        if ((e = strchr(p, '#')) != NULL)
            *e = '\0';
        e = p + strlen(p);
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (!*p)
            continue;
        if (!mcpc_case_find(&r->cases, p)) {
            snprintf(err, errlen, "%s names %s, which is not a case", r->o->expected_failures, p);
            fclose(f);
            return -1;
        }
        json_array_append_new(r->baseline, json_string(p));
    }
    fclose(f);
    return 0;
}

/* Fill r->selected from --case, --suite or the profile. */
static int mcpc_runner_select(mcpc_runner *r, char *err, size_t errlen)
{
    r->selected = json_array();
    /* --case-file alone runs that case only (with a selection, it runs after it: see the caller) */
    if (r->extra_id && !r->o->case_ids && !r->o->suite && !r->o->profile) {
        json_array_append_new(r->selected, json_string(r->extra_id));
        return 0;
    }
    if (r->o->case_ids) {
        for (size_t i = 0; r->o->case_ids[i]; i++) {
            if (!mcpc_case_find(&r->cases, r->o->case_ids[i])) {
                snprintf(err, errlen, "no case %s (see `mcpcert list`)", r->o->case_ids[i]);
                return -1;
            }
            json_array_append_new(r->selected, json_string(r->o->case_ids[i]));
        }
        return 0;
    }
    if (r->o->suite) {
        for (size_t i = 0; i < r->cases.n; i++) {
            if (strcmp(r->cases.v[i].suite, r->o->suite) == 0)
                json_array_append_new(r->selected, json_string(r->cases.v[i].id));
        }
        if (json_array_size(r->selected) == 0) {
            snprintf(err, errlen, "no case belongs to suite %s", r->o->suite);
            return -1;
        }
        return 0;
    }
    char pdir[4096];
    snprintf(pdir, sizeof pdir, "%s/profiles", r->o->data_dir);
    r->profile = mcpc_profile_load(pdir, r->o->profile ? r->o->profile : "bronze", err, errlen);
    if (!r->profile)
        return -1;
    /* run order: by id, over required + advisory */
    for (size_t i = 0; i < r->cases.n; i++) {
        const char *id = r->cases.v[i].id;
        if (mcpc_json_strarray_has(json_object_get(r->profile, "required"), id) ||
            mcpc_json_strarray_has(json_object_get(r->profile, "advisory"), id))
            json_array_append_new(r->selected, json_string(id));
    }
    return 0;
}

/* Start and reach the implementation for one case (or the negotiation probe). */
static mcpc_err mcpc_runner_start(mcpc_runner *r, const char *ledger, mcpc_target *t, char *err,
                                  size_t errlen)
{
    mcpc_target_opts to = {.argv = r->o->argv, .transport = r->o->transport, .url = r->o->url,
                           .timeout_ms = r->o->timeout_ms, .allow_remote = r->o->allow_remote,
                           .protocol_version = r->era == MCPC_ERA_2026_07_28 ? "2026-07-28" : NULL};
    if (r->auth_on) {
        to.env_extra = r->auth.env;
        to.call_token = mcpc_auth_call_token;
        to.call_token_arg = &r->auth;
    }
    mcpc_err rc = mcpc_target_start(&to, ledger, t, err, errlen);
    if (rc != MCPC_OK || !r->auth_on || !t->http)
        return rc;
    /* every request of the case carries a valid token for this very endpoint */
    if (mcpc_auth_case_begin(&r->auth, t->url) != MCPC_OK ||
        mcpc_http_set_authorization(t->http, r->auth.authorization) != MCPC_OK) {
        snprintf(err, errlen, "out of memory");
        mcpc_target_stop(t, NULL);
        return MCPC_ERR_NOMEM;
    }
    return MCPC_OK;
}

/* Negotiate: probe with server/discover; a DiscoverResult naming 2026-07-28 means modern,
 * anything else (an error, silence) means legacy. */
static int mcpc_runner_negotiate(mcpc_runner *r)
{
    mcpc_target t;
    mcpc_transcript tr;
    mcpc_session s;
    json_t *resp = NULL;
    char err[256];
    if (r->o->era_forced) {
        r->era = r->o->era;
        return 0;
    }
    if (r->client) {
        /* the mock speaks one era per run; the newest unless told otherwise */
        r->era = MCPC_ERA_2026_07_28;
        return 0;
    }
    r->era = MCPC_ERA_2026_07_28; /* the probe speaks the modern era */
    if (mcpc_runner_start(r, NULL, &t, err, sizeof err) != MCPC_OK) {
        fprintf(stderr, "mcpcert: %s\n", err);
        return -1;
    }
    mcpc_transcript_init(&tr);
    mcpc_session_init(&s, t.conn, &tr, MCPC_ERA_2026_07_28, r->o->timeout_ms);
    r->era = MCPC_ERA_2025_11_25;
    if (mcpc_session_call(&s, "server/discover", NULL, &resp) == MCPC_OK) {
        json_t *versions = json_object_get(json_object_get(resp, "result"), "supportedVersions");
        if (mcpc_json_strarray_has(versions, "2026-07-28"))
            r->era = MCPC_ERA_2026_07_28;
    }
    json_decref(resp);
    mcpc_session_clear(&s);
    mcpc_transcript_clear(&tr);
    mcpc_target_stop(&t, NULL);
    return 0;
}

/* Requirement entries {id, level, text} for a case. New reference. */
static json_t *mcpc_runner_reqs(mcpc_runner *r, const mcpc_case *c)
{
    json_t *out = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(c->requirements, i, id) {
        json_t *req = json_object_get(r->reqs, json_string_value(id));
        json_array_append_new(out, json_pack("{s:O,s:O,s:O}", "id", id, "level",
                                             json_object_get(req, "level"), "text",
                                             json_object_get(req, "text")));
    }
    return out;
}

/* Why a case does not apply here, or NULL. */
static const char *mcpc_runner_skip_reason(mcpc_runner *r, const mcpc_case *c)
{
    if (!mcpc_json_strarray_has(c->roles, r->client ? "client" : "server"))
        return r->client ? "not a client-role case" : "not a server-role case";
    if (!mcpc_json_strarray_has(c->transports, r->o->transport))
        return strcmp(r->o->transport, "http") == 0 ? "does not apply to the HTTP transport"
                                                     : "does not apply to the stdio transport";
    if (!mcpc_json_strarray_has(c->eras, mcpc_era_name(r->era)))
        return "does not apply to this protocol era";
    return NULL;
}

/* What a reconnect needs from the case in progress. */
typedef struct {
    mcpc_runner *r;
    mcpc_target *t;
    mcpc_session *s;
    mcpc_transcript *tr;
    const char *ledger;
} mcpc_runner_env;

/* The `reconnect` step: a second connection (on stdio a fresh process), session reopened. */
static mcpc_verdict mcpc_runner_reconnect(mcpc_step_ctx *ctx)
{
    mcpc_runner_env *env = ctx->runner;
    char err[256];
    mcpc_target_stop(env->t, env->tr);
    mcpc_session_clear(env->s);
    mcpc_transcript_note(env->tr, "reconnect: a new connection to the implementation");
    if (mcpc_runner_start(env->r, env->ledger, env->t, err, sizeof err) != MCPC_OK) {
        mcpc_session_init(env->s, NULL, env->tr, env->r->era, env->r->o->timeout_ms);
        ctx->io = NULL;
        ctx->http = NULL;
        snprintf(ctx->message, sizeof ctx->message, "could not reconnect: %s", err);
        return ctx->verdict = MCPC_V_ERROR;
    }
    mcpc_session_init(env->s, env->t->conn, env->tr, env->r->era, env->r->o->timeout_ms);
    env->s->wire = env->r->wire;
    ctx->io = env->t->io;
    ctx->http = env->t->http;
    json_t *open = json_pack("{s:s}", "do", "open");
    mcpc_verdict v = mcpc_step_run(ctx, 0, open);
    json_decref(open);
    return v;
}

/* Run a case's steps in order; stop at the first verdict worse than WARN. */
static void mcpc_runner_steps(mcpc_step_ctx *ctx, const mcpc_case *c)
{
    size_t i;
    json_t *st;
    json_array_foreach(c->steps, i, st) {
        mcpc_verdict v = mcpc_step_run(ctx, i + 1, st); /* steps count from 1; the opening is 0 */
        if (v == MCPC_V_SKIP)
            continue;
        if (v != MCPC_V_PASS && v != MCPC_V_WARN)
            break;
    }
}

/* The case's verdict from its checks. */
static void mcpc_runner_decide(mcpc_step_ctx *ctx)
{
    /* the overall verdict is the worst step's; the deciding details are the last non-PASS step's */
    mcpc_verdict worst = MCPC_V_PASS;
    size_t i;
    json_t *chk, *decider = NULL;
    json_array_foreach(ctx->checks, i, chk) {
        const char *vn = json_string_value(json_object_get(chk, "verdict"));
        for (int k = 0; vn && k < MCPC_V__COUNT; k++) {
            mcpc_verdict v = (mcpc_verdict)k;
            if (v == MCPC_V_SKIP || strcmp(vn, mcpc_verdict_name(v)) != 0)
                continue;
            if (mcpc_verdict_worst(worst, v) != worst || (v != MCPC_V_PASS && !decider)) {
                worst = mcpc_verdict_worst(worst, v);
                decider = chk;
            }
        }
    }
    ctx->verdict = worst;
    if (decider) {
        const char *e = json_string_value(json_object_get(decider, "expected"));
        const char *a = json_string_value(json_object_get(decider, "arrived"));
        const char *m = json_string_value(json_object_get(decider, "message"));
        snprintf(ctx->expected, sizeof ctx->expected, "%s", e ? e : "");
        snprintf(ctx->arrived, sizeof ctx->arrived, "%s", a ? a : "");
        snprintf(ctx->message, sizeof ctx->message, "%s", m ? m : "");
    } else {
        snprintf(ctx->message, sizeof ctx->message, "all %zu check(s) passed", json_array_size(ctx->checks));
    }
}

/* The wire-schema check of a case, after its steps (either role): one more check entry, and a
 * violation adds WIRE-01 to the case's requirements (res_reqs, borrowed), whatever requirement
 * the case itself is about. first: the first violation, or what to say when there was none. */
static void mcpc_runner_wire_verdict(mcpc_runner *r, const mcpc_case *c, mcpc_step_ctx *ctx,
                                     int bad, const char *first, json_t *res_reqs)
{
    json_t *wc = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "step", (json_int_t)json_array_size(c->steps) + 1,
                           "do", "wire_schema", "verdict", bad ? "FAIL" : "PASS", "expected",
                           "every message conforms to the official MCP schema of the era", "arrived",
                           first, "message", bad ? "a message breaks the official MCP schema"
                                                 : "wire schema respected");
    if (wc)
        json_array_append_new(ctx->checks, wc);
    json_t *wreq = json_object_get(r->reqs, "WIRE-01");
    if (bad && wreq && !mcpc_json_strarray_has(c->requirements, "WIRE-01"))
        json_array_append_new(res_reqs, json_pack("{s:s,s:O,s:O}", "id", "WIRE-01", "level",
                                                  json_object_get(wreq, "level"), "text",
                                                  json_object_get(wreq, "text")));
}

/* Every message the client sent, against the official schema of the era: one more check, and a
 * violation adds WIRE-01 to the case's requirements (res_reqs, borrowed). */
static void mcpc_runner_client_wire(mcpc_runner *r, const mcpc_case *c, mcpc_step_ctx *ctx,
                                    mcpc_client_obs *obs, json_t *res_reqs)
{
    size_t i, bad = 0;
    json_t *e;
    char first[512] = "all conform";
    json_array_foreach(obs->record, i, e) {
        json_t *msg = json_object_get(e, "message");
        mcpc_msg m;
        char why[400];
        if (!msg)
            continue;
        /* a dual-era client's server/discover probe belongs to 2026-07-28 (VER-08), whatever
         * era the mock speaks: it is not a 2025-11-25 message to judge by that schema */
        const char *method = json_string_value(json_object_get(msg, "method"));
        if (r->era == MCPC_ERA_2025_11_25 && method && strcmp(method, "server/discover") == 0)
            continue;
        memset(&m, 0, sizeof m);
        if (mcpc_jsonrpc_classify(msg, &m) == MCPC_OK &&
            mcpc_wire_check_client(r->wire, &m, why, sizeof why) && !bad++)
            snprintf(first, sizeof first, "message %zu: %s", i + 1, why);
        mcpc_msg_clear(&m);
    }
    mcpc_runner_wire_verdict(r, c, ctx, bad > 0, first, res_reqs);
}

/* A client-role case: run the client against the mock server once, then judge the record. */
static void mcpc_runner_client_case(mcpc_runner *r, const mcpc_case *c, mcpc_step_ctx *ctx,
                                    mcpc_transcript *tr, json_t *res_reqs)
{
    mcpc_client_obs obs;
    char err[256] = "";
    mcpc_client_run_opts co = {.argv = r->o->argv, .transport = r->o->transport, .era = r->era,
                               .timeout_ms = r->o->timeout_ms, .tmpdir = r->tmpdir,
                               .data_dir = r->o->data_dir};
    if (mcpc_client_run(&co, c, &obs, tr, err, sizeof err) != MCPC_OK) {
        ctx->verdict = MCPC_V_ERROR;
        snprintf(ctx->message, sizeof ctx->message, "could not start the client or the mock server: %s", err);
        r->unreachable = 1;
        mcpc_client_obs_clear(&obs);
        return;
    }
    ctx->client = &obs;
    mcpc_runner_steps(ctx, c);
    if (r->wire)
        mcpc_runner_client_wire(r, c, ctx, &obs, res_reqs);
    mcpc_runner_decide(ctx);
    ctx->client = NULL;
    mcpc_client_obs_clear(&obs);
}

static mcpc_verdict mcpc_runner_case(mcpc_runner *r, size_t index, const mcpc_case *c)
{
    mcpc_case_result res;
    mcpc_transcript tr;
    mcpc_session s;
    mcpc_target t;
    mcpc_step_ctx ctx;
    char ledger[512], err[256];
    int64_t t0 = mcpc_clock_ms();
    const char *skip = mcpc_runner_skip_reason(r, c);

    memset(&res, 0, sizeof res);
    memset(&ctx, 0, sizeof ctx);
    memset(&t, 0, sizeof t);
    mcpc_transcript_init(&tr);
    ctx.checks = json_array();
    ctx.vars = json_object();
    ctx.level = c->level;
    ctx.tr = &tr;
    ctx.verdict = MCPC_V_PASS;
    res.requirements = mcpc_runner_reqs(r, c);
    mcpc_report_bus_case_start(&r->bus, index, c->id, c->title);
    if (skip) {
        ctx.verdict = MCPC_V_SKIP;
        snprintf(ctx.message, sizeof ctx.message, "%s", skip);
        goto report;
    }
    if (r->client) {
        mcpc_runner_client_case(r, c, &ctx, &tr, res.requirements);
        goto report;
    }
    /* the ledger hook is offered only to cases that declare it */
    int uses_ledger = mcpc_json_strarray_has(c->hooks, "ledger");
    snprintf(ledger, sizeof ledger, "%s/ledger-%s.jsonl", r->tmpdir, c->id);
    if (r->o->argv || !r->o->ledger)
        unlink(ledger);
    /* against --url nobody can hand the implementation a ledger path, unless the operator did
     * (--ledger: one file for the whole run, so each case counts from where it starts) */
    int shared_ledger = !r->o->argv && r->o->ledger;
    if (shared_ledger)
        snprintf(ledger, sizeof ledger, "%s", r->o->ledger);
    else if (!r->o->argv)
        uses_ledger = 0;
    if (mcpc_runner_start(r, uses_ledger ? ledger : NULL, &t, err, sizeof err) != MCPC_OK) {
        ctx.verdict = MCPC_V_ERROR;
        snprintf(ctx.message, sizeof ctx.message, "could not start or reach the implementation: %s", err);
        r->unreachable = 1;
        goto report;
    }
    ctx.io = t.io;
    ctx.http = t.http;
    ctx.auth = r->auth_on ? &r->auth : NULL;
    ctx.ledger_path = uses_ledger ? ledger : NULL;
    if (uses_ledger && shared_ledger)
        ctx.ledger_mark = mcpc_ledger_count(ledger);
    mcpc_session_init(&s, t.conn, &tr, r->era, r->o->timeout_ms);
    s.wire = r->wire;
    ctx.s = &s;
    mcpc_runner_env env = {r, &t, &s, &tr, uses_ledger ? ledger : NULL};
    ctx.runner = &env;
    ctx.reconnect = mcpc_runner_reconnect;
    if (strcmp(c->session, "open") == 0) {
        json_t *open = json_pack("{s:s}", "do", "open");
        mcpc_verdict v = mcpc_step_run(&ctx, 0, open);
        json_decref(open);
        if (v != MCPC_V_PASS) {
            char why[400];
            snprintf(why, sizeof why, "%.399s", ctx.message);
            snprintf(ctx.message, sizeof ctx.message, "opening the session failed: %.400s", why);
            goto stop;
        }
    }
    mcpc_runner_steps(&ctx, c);
    /* every message received in the case, checked against the official schema of the era */
    if (r->wire)
        mcpc_runner_wire_verdict(r, c, &ctx, s.wire_violations > 0,
                                 s.wire_violations ? s.wire_first : "all conform", res.requirements);
    mcpc_runner_decide(&ctx);
stop:
    mcpc_target_stop(&t, &tr);
    mcpc_session_clear(&s);
    if (!shared_ledger)
        unlink(ledger);
report:
    if (tr.dropped)
        mcpc_transcript_note(&tr, "%zu transcript entries not kept (bound reached)", tr.dropped);
    res.id = c->id;
    res.title = c->title;
    res.level = c->level;
    res.verdict = ctx.verdict;
    res.expected = ctx.expected;
    res.arrived = ctx.arrived;
    res.message = ctx.message;
    res.checks = ctx.checks;
    res.transcript = tr.entries;
    res.expected_failure = mcpc_json_strarray_has(r->baseline, c->id);
    res.elapsed_ms = (double)(mcpc_clock_ms() - t0);
    mcpc_report_bus_case_end(&r->bus, index, &res);
    mcpc_target_stop(&t, NULL);
    json_decref(res.requirements);
    json_decref(ctx.checks);
    json_decref(ctx.vars);
    json_decref(ctx.sent_id);
    mcpc_transcript_clear(&tr);
    return res.verdict;
}

static int mcpc_runner_mkdirs(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Profile verdict: every required case passed (or does not apply), and no requirement of it is
 * pending for this run's transport. */
static void mcpc_runner_profile_verdict(mcpc_runner *r, json_t *verdicts, mcpc_run_summary *sum,
                                        char *msg, size_t msglen)
{
    size_t i, failing = 0, pending = 0;
    json_t *id, *p;
    const char *first = NULL;
    json_array_foreach(json_object_get(r->profile, "required"), i, id) {
        const char *v = json_string_value(json_object_get(verdicts, json_string_value(id)));
        /* SKIP is "not applicable to this era, role or transport": it does not count against */
        if (!v || (strcmp(v, "PASS") != 0 && strcmp(v, "SKIP") != 0)) {
            if (!failing++)
                first = json_string_value(id);
        }
    }
    json_array_foreach(json_object_get(r->profile, "pending"), i, p) {
        if (mcpc_json_strarray_has(json_object_get(p, "transports"), r->o->transport))
            pending++;
    }
    sum->attained = failing == 0 && pending == 0;
    if (sum->attained)
        snprintf(msg, msglen, "attained");
    else if (failing)
        snprintf(msg, msglen, "%zu required case(s) did not pass (first: %s)%s", failing, first,
                 pending ? "; and some requirements have no case yet" : "");
    else
        snprintf(msg, msglen,
                 "every required case passed, but %zu requirement(s) of this profile have no case "
                 "yet (see profiles/%s.json \"pending\")", pending, r->o->profile ? r->o->profile : "bronze");
    sum->profile_message = msg;
}

int mcpc_runner_run(const mcpc_run_opts *o)
{
    mcpc_runner r;
    char err[512], path[4200], pmsg[400];
    int code = MCPC_EXIT_USAGE;
    mcpc_run_summary sum;
    json_t *verdicts = json_object();
    int64_t t0 = mcpc_clock_ms();

    memset(&r, 0, sizeof r);
    memset(&sum, 0, sizeof sum);
    r.o = o;
    r.client = o->role && strcmp(o->role, "client") == 0;
    snprintf(path, sizeof path, "%s/cases", o->data_dir);
    if (mcpc_case_load_dir(path, &r.cases, err, sizeof err) != MCPC_OK ||
        (o->case_file && mcpc_case_load_file(o->case_file, &r.cases, &r.extra_id, err, sizeof err) != MCPC_OK)) {
        code = mcpc_runner_usage(err, "");
        goto out;
    }
    snprintf(path, sizeof path, "%s/docs/requirements.json", o->data_dir);
    r.reqs = mcpc_requirements_load(path, err, sizeof err);
    if (!r.reqs || (r.extra_id && mcpc_case_trace(&r.cases, r.reqs, err, sizeof err) != MCPC_OK) ||
        mcpc_runner_select(&r, err, sizeof err) || mcpc_runner_baseline(&r, err, sizeof err)) {
        code = mcpc_runner_usage(err, "");
        goto out;
    }
    if (r.extra_id && !mcpc_json_strarray_has(r.selected, r.extra_id))
        json_array_append_new(r.selected, json_string(r.extra_id));
    snprintf(r.tmpdir, sizeof r.tmpdir, "%s/mcpcert.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(r.tmpdir)) {
        code = mcpc_runner_usage("cannot create a temporary directory: ", strerror(errno));
        goto out;
    }
    if (o->report_dir && mcpc_runner_mkdirs(o->report_dir) != 0) {
        code = mcpc_runner_usage("cannot create the report directory ", o->report_dir);
        goto out;
    }
    mcpc_stdio_global_init();
    if (!r.client && strcmp(o->transport, "http") == 0) {
        /* the resource URI the implementation is told: known beforehand only when mcpcert
         * picks the port (or was given the URL) */
        int port_arg = 0;
        for (size_t i = 0; o->argv && o->argv[i]; i++)
            port_arg |= strstr(o->argv[i], "{port}") != NULL;
        const char *tmpl = o->url ? o->url : port_arg ? "http://127.0.0.1:{port}/mcp" : NULL;
        if (mcpc_auth_start(&r.auth, o->as_port, o->upstream_port, tmpl, o->as_client_secret, err,
                            sizeof err) != MCPC_OK) {
            code = mcpc_runner_usage("cannot start the authorization server: ", err);
            goto out;
        }
        r.auth_on = 1;
        if (!o->argv)
            fprintf(stderr, "mcpcert: authorization server %s (start the implementation with the "
                    "variables of `mcpcert explain auth`)\n", mcpc_as_issuer(r.auth.as));
    }
    if (mcpc_runner_negotiate(&r) != 0) {
        code = MCPC_EXIT_UNREACHABLE;
        goto out;
    }
    if (o->spec_dir && mcpc_wire_load(o->spec_dir, mcpc_era_name(r.era), &r.wire, err, sizeof err) != MCPC_OK)
        fprintf(stderr, "mcpcert: wire-schema validation is off: %s\n", err);
    size_t off = 0;
    if (o->url)
        off += (size_t)snprintf(r.target, sizeof r.target, "%s%s", o->url, o->argv ? " <- " : "");
    for (size_t i = 0; o->argv && o->argv[i] && off < sizeof r.target - 1; i++)
        off += (size_t)snprintf(r.target + off, sizeof r.target - off, "%s%s", i ? " " : "", o->argv[i]);
    if (!o->quiet)
        mcpc_report_bus_add(&r.bus, mcpc_report_term_new(stdout, o->colour));
    if (o->report_dir) {
        snprintf(path, sizeof path, "%s/report.json", o->report_dir);
        mcpc_report_bus_add(&r.bus, mcpc_report_json_new(path));
        snprintf(path, sizeof path, "%s/junit.xml", o->report_dir);
        mcpc_report_bus_add(&r.bus, mcpc_report_junit_new(path));
    }
    mcpc_run_info info = {.tool_version = MCPC_VERSION, .target = r.target, .role = r.client ? "client" : "server",
                          .transport = o->transport, .era = mcpc_era_name(r.era),
                          .profile = r.profile ? json_string_value(json_object_get(r.profile, "id")) : NULL,
                          .total_cases = json_array_size(r.selected)};
    mcpc_report_bus_run_start(&r.bus, &info);
    size_t i;
    json_t *id;
    int unexpected = 0, fixed = 0;
    json_array_foreach(r.selected, i, id) {
        const mcpc_case *c = mcpc_case_find(&r.cases, json_string_value(id));
        mcpc_verdict v = mcpc_runner_case(&r, i, c);
        int expected = mcpc_json_strarray_has(r.baseline, c->id);
        json_object_set_new(verdicts, c->id, json_string(mcpc_verdict_name(v)));
        sum.counts[v]++;
        if (v == MCPC_V_PASS || v == MCPC_V_WARN) {
            sum.passed++;
            if (expected) {
                fixed++;
                fprintf(stderr, "mcpcert: %s passes but is listed in %s: remove it from the baseline\n",
                        c->id, o->expected_failures);
            }
        } else if (v == MCPC_V_SKIP) {
            sum.skipped++;
        } else {
            sum.failed++;
            unexpected += !expected;
        }
        if (r.unreachable)
            break;
    }
    if (r.profile) {
        sum.profile = json_string_value(json_object_get(r.profile, "id"));
        mcpc_runner_profile_verdict(&r, verdicts, &sum, pmsg, sizeof pmsg);
    }
    if (r.unreachable)
        code = MCPC_EXIT_UNREACHABLE;
    else if (unexpected || fixed)
        code = MCPC_EXIT_NONCONFORMANT;
    else if (r.profile && !sum.attained && !o->expected_failures)
        code = MCPC_EXIT_NONCONFORMANT; /* a baseline run judges regressions, not attainment */
    else
        code = MCPC_EXIT_ATTAINED;
    sum.exit_code = code;
    sum.elapsed_ms = (double)(mcpc_clock_ms() - t0);
    if (mcpc_report_bus_run_end(&r.bus, &sum) != MCPC_OK) {
        fprintf(stderr, "mcpcert: a report could not be written\n");
        if (code == MCPC_EXIT_ATTAINED)
            code = MCPC_EXIT_NONCONFORMANT;
    }
out:
    if (r.auth_on)
        mcpc_auth_stop(&r.auth);
    json_decref(verdicts);
    mcpc_report_bus_destroy(&r.bus);
    mcpc_wire_free(r.wire);
    if (r.tmpdir[0])
        rmdir(r.tmpdir);
    json_decref(r.reqs);
    json_decref(r.profile);
    json_decref(r.selected);
    json_decref(r.baseline);
    mcpc_case_set_free(&r.cases);
    return code;
}

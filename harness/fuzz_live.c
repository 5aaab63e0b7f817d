/* `mcpcert fuzz`: the live fuzzing driver (see fuzz_live.h). The mutators are in fuzz_mutate.c;
 * this file owns the connection, the detection, minimization and the case files. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fuzz_live.h"
#include "fuzz_mutate.h"
#include "jsonrpc.h"
#include "runner.h"
#include "schema.h"
#include "session.h"
#include "target.h"
#include "transport_http.h"
#include "transport_stdio.h"

#define FZ_HIST 8                        /* units kept to replay a state-dependent finding */
#define FZ_MAX_FINDINGS 64
#define FZ_MAX_TEMPLATES 256
#define FZ_MAX_LISTED 64                 /* items taken from each list */
#define FZ_MAX_PAGES 10
#define FZ_RECONNECT_EVERY 4000          /* iterations per connection: bounds every counter */
#define FZ_RECONNECT_BYTES ((size_t)32 << 20)
#define FZ_KNOWN_MAX 65536
#define FZ_MIN_ATTEMPTS 200              /* reproductions per minimization (FZ_MIN_MS bounds slow ones) */
#define FZ_MIN_HANG_ATTEMPTS 8           /* each costs two --timeout waits */
#define FZ_MIN_MS 20000                  /* wall time per minimization */
#define FZ_START_MS 10000                /* starting and opening: slow runtimes need more */
#define FZ_SETTLE_MS 100                 /* after the ping, for answers still owed (async servers) */
#define FZ_DRAIN_MS 300                  /* minimization: how long a late answer is waited for */
#define FZ_CASE_MAX_BYTES (1u << 20)     /* what the case loader accepts */
#define FZ_ALIVE_ID "mcpcert-fuzz-alive"

enum { FZ_V_OK = 0, FZ_V_PROTOCOL, FZ_V_HANG, FZ_V_CRASH, FZ_V__COUNT };
static const char *const fz_kind_name[FZ_V__COUNT] = {"ok", "protocol", "hang", "crash"};
static const char *const fz_kind_upper[FZ_V__COUNT] = {"OK", "PROTOCOL", "HANG", "CRASH"};

static volatile sig_atomic_t fz_interrupted;

/* What one exchange showed; the worst kind wins, the first detail of that kind is kept. */
typedef struct {
    int kind;
    char sub[24];         /* protocol: noise, malformed, wrong-id, too-big, unanswered, http-5xx */
    char detail[400];
    json_t *bad_id;       /* owned: the id of a response to an id never sent */
} fz_verdict;

/* A valid message to start from. */
typedef struct {
    char *method;         /* owned */
    json_t *params;       /* owned, the era's _meta included; NULL: none */
    int notify;
    unsigned weight;
} fz_tmpl;

/* One connection to the implementation (on stdio, one process). */
typedef struct {
    mcpc_target t;
    mcpc_transcript tr;
    mcpc_session s;
    int up;
    size_t iters;
    json_t *known;        /* owned: canonical keys of every id sent on this connection */
    json_t *owed;         /* owned: keys of this exchange's requests not answered yet */
    unsigned long probes;
} fz_link;

typedef struct {
    int kind;
    char key[200];        /* kind, method, class: what makes a finding distinct */
    char method[64];
    mcpc_fz_class cls;
    char sub[24];
    char detail[400];
    char what[160];
    char id[32];
    char path[4200];
    size_t iteration;
    double at_s;
    size_t orig_bytes, min_bytes;
    int attempts, reproduced, written;
    int tried;            /* minimization was possible (a process to restart, or a protocol finding) */
} fz_finding;

typedef struct {
    /* options */
    char **argv;
    const char *transport, *url, *out_dir;
    int allow_remote, era_forced, timeout_ms, max_findings;
    mcpc_era era;
    uint64_t seed;
    int64_t duration_ms;
    /* state */
    mcpc_fz_rng rng;
    fz_tmpl tmpl[FZ_MAX_TEMPLATES];
    size_t ntmpl;
    unsigned tmpl_total;
    size_t ntools;
    json_int_t next_id;
    fz_finding found[FZ_MAX_FINDINGS];
    size_t nfound;
    size_t per_kind[FZ_V__COUNT];
    size_t iterations, restarts;
    int64_t t_start, min_ms;     /* min_ms: time spent minimizing (not fuzzing) */
    int tty, progress_shown;
    char target[1024];
} mcpc_fz;

/* ---- small helpers ---------------------------------------------------------------------------- */

/* SIGINT/SIGTERM: finish the iteration, then report. */
static void fz_on_signal(int sig)
{
    (void)sig;
    fz_interrupted = 1;
}

/* Release v's id reference and zero it. */
static void fz_verdict_clear(fz_verdict *v)
{
    json_decref(v->bad_id);
    memset(v, 0, sizeof *v);
}

/* Record a finding of kind in v unless v already holds a worse or equal one. */
__attribute__((format(printf, 4, 5)))
static void fz_set(fz_verdict *v, int kind, const char *sub, const char *fmt, ...)
{
    va_list ap;
    if (kind <= v->kind)
        return;
    v->kind = kind;
    snprintf(v->sub, sizeof v->sub, "%s", sub);
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
}

/* Canonical text of an id: numbers by value (so 7, 7.0 and an echo of 2^63 as a double agree),
 * strings and anything else by length and hash (ids may be megabytes long). */
static void fz_id_key(json_t *id, char *buf, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    const char *s;
    char *dump = NULL;
    size_t n;
    if (json_is_number(id)) {
        double d = json_number_value(id);
        snprintf(buf, len, "n:%.17g", d == 0 ? 0.0 : d);
        return;
    }
    if (json_is_string(id)) {
        s = json_string_value(id);
        n = json_string_length(id);
    } else {
        dump = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        s = dump ? dump : "";
        n = strlen(s);
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    snprintf(buf, len, "%c:%zu:%016" PRIx64, json_is_string(id) ? 's' : 'o', n, h);
    free(dump);
}

/* Remember an id as sent (id borrowed; NULL and null are ignored). */
static void fz_known_add(fz_link *l, json_t *id)
{
    char key[64];
    if (!id || json_is_null(id))
        return;
    if (json_object_size(l->known) >= FZ_KNOWN_MAX)
        json_object_clear(l->known);
    fz_id_key(id, key, sizeof key);
    json_object_set_new(l->known, key, json_true());
}

/* Was an id with this value sent on l? (id borrowed) */
static int fz_known_has(fz_link *l, json_t *id)
{
    char key[64];
    fz_id_key(id, key, sizeof key);
    return json_object_get(l->known, key) != NULL;
}

/* Note the ids a message carries, as our tree has it and as a lenient parser reads its bytes
 * (duplicate keys, integers past 64 bits). *parsed is cleared when the bytes are not JSON: a
 * lenient server may then echo an id we cannot predict. */
static void fz_note_ids(fz_link *l, const mcpc_fz_msg *m, const char *bytes, size_t len, int *parsed)
{
    json_t *root;
    if (json_is_object(m->tree))
        fz_known_add(l, json_object_get(m->tree, "id"));
    root = json_loadb(bytes, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    if (!root) {
        *parsed = 0;
        return;
    }
    if (json_is_object(root))
        fz_known_add(l, json_object_get(root, "id"));
    json_decref(root);
    /* a request the strict reading accepts (the one the reference server applies) is owed an
     * answer under its id; anything else may fairly be refused without one */
    if (json_object_size(l->owed) < 16) {
        mcpc_msg msg;
        if (mcpc_jsonrpc_parse(bytes, len, 0, &msg) == MCPC_OK && msg.kind == MCPC_MSG_REQUEST) {
            char key[64];
            fz_id_key(msg.id, key, sizeof key);
            json_object_set_new(l->owed, key, json_true());
        }
        mcpc_msg_clear(&msg);
    }
}

/* mkdir -p. 0 or -1. */
static int fz_mkdirs(const char *dir)
{
    char tmp[4096];
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

/* ---- connections ------------------------------------------------------------------------------ */

/* Stop the implementation (if started) and release l; l is left zeroed. */
static void fz_link_close(fz_link *l)
{
    mcpc_target_stop(&l->t, NULL);
    mcpc_session_clear(&l->s);
    mcpc_transcript_clear(&l->tr);
    json_decref(l->known);
    json_decref(l->owed);
    memset(l, 0, sizeof *l);
}

/* Start or reach the implementation as `run` does (startup gets at least FZ_START_MS). */
static mcpc_err fz_start(mcpc_fz *f, mcpc_target *t, char *err, size_t errlen)
{
    mcpc_target_opts to = {.argv = f->argv, .transport = f->transport, .url = f->url,
                           .timeout_ms = f->timeout_ms > FZ_START_MS ? f->timeout_ms : FZ_START_MS,
                           .allow_remote = f->allow_remote,
                           .protocol_version = f->era == MCPC_ERA_2026_07_28 ? "2026-07-28" : NULL};
    return mcpc_target_start(&to, NULL, t, err, errlen);
}

/* Start (on stdio: a fresh process) and open the session of the era. 0, or -1 with err. */
static int fz_link_open(mcpc_fz *f, fz_link *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (fz_start(f, &l->t, err, errlen) != MCPC_OK)
        return -1;
    mcpc_transcript_init(&l->tr);
    /* the first answer of a freshly started runtime can be slow: open with the start deadline */
    mcpc_session_init(&l->s, l->t.conn, &l->tr, f->era, f->timeout_ms > FZ_START_MS ? f->timeout_ms : FZ_START_MS);
    l->known = json_object();
    l->owed = json_object();
    if (!l->known || !l->owed || mcpc_session_open(&l->s) != MCPC_OK) {
        snprintf(err, errlen, "%s", l->s.error[0] ? l->s.error : "out of memory");
        fz_link_close(l);
        return -1;
    }
    l->s.timeout_ms = f->timeout_ms;
    l->up = 1;
    return 0;
}

/* The era: forced, or 2026-07-28 when server/discover names it (as `mcpcert run` decides). */
static int fz_negotiate(mcpc_fz *f, char *err, size_t errlen)
{
    mcpc_target t;
    mcpc_transcript tr;
    mcpc_session s;
    json_t *resp = NULL;
    if (f->era_forced)
        return 0;
    f->era = MCPC_ERA_2026_07_28;
    if (fz_start(f, &t, err, errlen) != MCPC_OK)
        return -1;
    mcpc_transcript_init(&tr);
    mcpc_session_init(&s, t.conn, &tr, MCPC_ERA_2026_07_28, f->timeout_ms > FZ_START_MS ? f->timeout_ms : FZ_START_MS);
    f->era = MCPC_ERA_2025_11_25;
    if (mcpc_session_call(&s, "server/discover", NULL, &resp) == MCPC_OK) {
        json_t *versions = json_object_get(json_object_get(resp, "result"), "supportedVersions");
        size_t i;
        json_t *v;
        json_array_foreach(versions, i, v) {
            if (json_is_string(v) && strcmp(json_string_value(v), "2026-07-28") == 0)
                f->era = MCPC_ERA_2026_07_28;
        }
    }
    json_decref(resp);
    mcpc_session_clear(&s);
    mcpc_transcript_clear(&tr);
    mcpc_target_stop(&t, NULL);
    return 0;
}

/* ---- what to start from ----------------------------------------------------------------------- */

/* Add a template; params is stolen. */
static void fz_tmpl_add(mcpc_fz *f, const char *method, json_t *params, int notify, unsigned weight)
{
    fz_tmpl *t;
    if (f->ntmpl >= FZ_MAX_TEMPLATES || !(method = strdup(method))) {
        json_decref(params);
        return;
    }
    t = &f->tmpl[f->ntmpl++];
    t->method = (char *)method;
    t->params = params;
    t->notify = notify;
    t->weight = weight;
    f->tmpl_total += weight;
}

/* A request's params in the era (new reference): p (stolen, may be NULL) with the modern _meta. */
static json_t *fz_params(fz_link *l, json_t *p)
{
    json_t *out = mcpc_session_params(&l->s, p, 1);
    json_decref(p);
    return out;
}

/* Follow a paginated list; the items (new reference, at most FZ_MAX_LISTED), or an empty array. */
static json_t *fz_list(fz_link *l, const char *method, const char *key)
{
    json_t *all = json_array(), *cursor = NULL;
    for (int page = 0; all && page < FZ_MAX_PAGES && json_array_size(all) < FZ_MAX_LISTED; page++) {
        json_t *params = cursor ? json_pack("{s:O}", "cursor", cursor) : NULL, *resp = NULL;
        mcpc_err rc = mcpc_session_call(&l->s, method, params, &resp);
        json_decref(params);
        json_decref(cursor);
        cursor = NULL;
        if (rc != MCPC_OK) {
            json_decref(resp);
            break;
        }
        json_t *res = json_object_get(resp, "result");
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(res, key), i, it) {
            if (json_array_size(all) < FZ_MAX_LISTED)
                json_array_append(all, it);
        }
        if (json_is_string(json_object_get(res, "nextCursor")))
            cursor = json_incref(json_object_get(res, "nextCursor"));
        json_decref(resp);
        if (!cursor)
            break;
    }
    json_decref(cursor);
    return all;
}

/* Arguments for a tool: drawn from its inputSchema, checked by our own enforcer when the schema
 * compiles (the first valid draw wins; otherwise the last draw is used anyway). New reference. */
static json_t *fz_tool_args(mcpc_fz *f, json_t *schema)
{
    mcpc_schema *cs = NULL;
    json_t *args = NULL;
    char err[200];
    (void)mcpc_schema_compile(NULL, schema, NULL, NULL, &cs, err, sizeof err);
    for (int i = 0; i < 8; i++) {
        json_decref(args);
        args = mcpc_fz_sample(schema, &f->rng);
        if (!cs || !args || mcpc_schema_validate(cs, args, NULL) == MCPC_OK)
            break;
    }
    mcpc_schema_free(cs);
    if (!json_is_object(args)) {
        json_decref(args);
        args = json_object();
    }
    return args;
}

/* The valid messages to start from, learned over l (see docs/fuzzing-live.md). */
static void fz_build_templates(mcpc_fz *f, fz_link *l)
{
    json_t *caps = json_object_get(l->s.open_result, "capabilities");
    json_t *tools = fz_list(l, "tools/list", "tools");
    json_t *res = json_is_object(json_object_get(caps, "resources")) ? fz_list(l, "resources/list", "resources") : json_array();
    json_t *prompts = json_is_object(json_object_get(caps, "prompts")) ? fz_list(l, "prompts/list", "prompts") : json_array();
    int modern = f->era == MCPC_ERA_2026_07_28;
    size_t i;
    json_t *it;

    fz_tmpl_add(f, "ping", fz_params(l, NULL), 0, 3);
    fz_tmpl_add(f, "tools/list", fz_params(l, NULL), 0, 4);
    json_array_foreach(tools, i, it) {
        const char *name = json_string_value(json_object_get(it, "name"));
        if (!name)
            continue;
        json_t *args = fz_tool_args(f, json_object_get(it, "inputSchema"));
        fz_tmpl_add(f, "tools/call", fz_params(l, json_pack("{s:s,s:o}", "name", name, "arguments", args)), 0, 4);
        f->ntools++;
    }
    if (json_is_object(json_object_get(caps, "resources"))) {
        fz_tmpl_add(f, "resources/list", fz_params(l, NULL), 0, 2);
        fz_tmpl_add(f, "resources/templates/list", fz_params(l, NULL), 0, 1);
        json_array_foreach(res, i, it) {
            if (i < 16 && json_is_string(json_object_get(it, "uri")))
                fz_tmpl_add(f, "resources/read",
                            fz_params(l, json_pack("{s:O}", "uri", json_object_get(it, "uri"))), 0, 1);
        }
    }
    if (json_is_object(json_object_get(caps, "prompts"))) {
        fz_tmpl_add(f, "prompts/list", fz_params(l, NULL), 0, 2);
        json_array_foreach(prompts, i, it) {
            const char *name = json_string_value(json_object_get(it, "name"));
            json_t *pargs = json_object(), *a;
            size_t k;
            if (!name || i >= 16) {
                json_decref(pargs);
                continue;
            }
            json_array_foreach(json_object_get(it, "arguments"), k, a) {
                const char *an = json_string_value(json_object_get(a, "name"));
                if (an && json_is_true(json_object_get(a, "required")))
                    json_object_set_new(pargs, an, json_string("mcpcert"));
            }
            fz_tmpl_add(f, "prompts/get", fz_params(l, json_pack("{s:s,s:o}", "name", name, "arguments", pargs)), 0, 1);
        }
    }
    if (json_is_object(json_object_get(caps, "completions")))
        fz_tmpl_add(f, "completion/complete",
                    fz_params(l, json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "ref", "type", "ref/prompt", "name",
                                           "mcpcert", "argument", "name", "a", "value", "")), 0, 1);
    if (json_is_object(json_object_get(caps, "logging")))
        fz_tmpl_add(f, "logging/setLevel", fz_params(l, json_pack("{s:s}", "level", "debug")), 0, 1);
    if (modern)
        fz_tmpl_add(f, "server/discover", fz_params(l, NULL), 0, 1);
    else {
        fz_tmpl_add(f, "initialize",
                    json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion", "2025-11-25", "capabilities",
                              "clientInfo", "name", "mcpcert", "version", "0.1.0"), 0, 1);
        fz_tmpl_add(f, "notifications/initialized", NULL, 1, 1);
    }
    fz_tmpl_add(f, "notifications/cancelled", json_pack("{s:i,s:s}", "requestId", 1, "reason", "mcpcert"), 1, 1);
    fz_tmpl_add(f, "notifications/progress", json_pack("{s:s,s:i}", "progressToken", "t", "progress", 1), 1, 1);
    fz_tmpl_add(f, "notifications/roots/list_changed", NULL, 1, 1);
    json_decref(tools);
    json_decref(res);
    json_decref(prompts);
}

/* The next unit: a template drawn by weight, made a message, mutated. *tmpl gets its index. */
static int fz_make_unit(mcpc_fz *f, mcpc_fz_unit *u, size_t *tmpl)
{
    uint64_t x = mcpc_fz_rng_below(&f->rng, f->tmpl_total);
    size_t i = 0;
    json_t *msg;
    memset(u, 0, sizeof *u);
    while (i + 1 < f->ntmpl && x >= f->tmpl[i].weight)
        x -= f->tmpl[i++].weight;
    *tmpl = i;
    msg = f->tmpl[i].notify ? json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", f->tmpl[i].method)
                            : json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)f->next_id++,
                                        "method", f->tmpl[i].method);
    if (!msg)
        return -1;
    if (f->tmpl[i].params)
        json_object_set_new(msg, "params", json_deep_copy(f->tmpl[i].params));
    mcpc_fz_msg_init(&u->m[0], msg);
    u->n = 1;
    for (int tries = 0; tries < 4; tries++) {
        if (mcpc_fz_mutate(u, mcpc_fz_pick_class(&f->rng, f->url || strcmp(f->transport, "http") == 0), &f->rng) == 0)
            return 0;
    }
    return mcpc_fz_mutate(u, MCPC_FZ_NONE, &f->rng);
}

/* ---- one exchange ----------------------------------------------------------------------------- */

/* A send or receive failed with rc: 1 when that means the implementation is gone (a crash is
 * recorded in v and the link is down), else 0. ping: the failure was our own ping's. */
static int fz_gone(mcpc_fz *f, fz_link *l, mcpc_err rc, fz_verdict *v, const char *doing, int ping)
{
    int http = l->t.http != NULL;
    if (rc == MCPC_ERR_TOO_BIG) {
        fz_set(v, FZ_V_PROTOCOL, "too-big", "%s: %s", doing, l->s.error);
        return 0;
    }
    if (rc != MCPC_ERR_EOF && rc != MCPC_ERR_IO)
        return 0;
    if (l->t.io) {
        mcpc_stdio_wait_exit(l->t.io, http ? 200 : 500);
        if (!http || mcpc_stdio_exited(l->t.io)) {
            fz_set(v, FZ_V_CRASH, "", "the implementation died while %s (%s)", doing,
                   mcpc_stdio_exit_text(l->t.io, NULL));
            l->up = 0;
            return 1;
        }
        /* over HTTP, with the process alive, a reset is a server's answer to what we sent
         * (oversized headers, say); whether it still serves, the pings tell */
        return 0;
    }
    /* reached by --url only: a refused ping after the endpoint worked is all a crash can look like */
    if (http && rc == MCPC_ERR_IO && ping) {
        fz_set(v, FZ_V_CRASH, "", "the endpoint refused connections while %s, after it had worked", doing);
        l->up = 0;
        return 1;
    }
    return 0;
}

/* Read until the response to probe arrives (probe NULL: until nothing is owed): 1 it did, 0 not
 * within ms, -1 the link is gone. Everything read on the way is judged. */
static int fz_await(mcpc_fz *f, fz_link *l, json_t *probe, int check_ids, fz_verdict *v, int ms)
{
    int64_t deadline = mcpc_clock_ms() + ms;
    int errors = 0;
    for (;;) {
        mcpc_msg m;
        mcpc_err rc = mcpc_session_recv(&l->s, MCPC_KINDS_RESPONSE | (1u << MCPC_MSG_NOTIFICATION),
                                        mcpc_clock_left(deadline), &m);
        if (rc == MCPC_OK) {
            int done = 0;
            if ((m.kind == MCPC_MSG_RESULT || m.kind == MCPC_MSG_ERROR) && m.id && !json_is_null(m.id)) {
                char key[64];
                fz_id_key(m.id, key, sizeof key);
                json_object_del(l->owed, key);
                if (probe && json_equal(m.id, probe)) {
                    done = 1;
                } else if (check_ids && !fz_known_has(l, m.id)) {
                    char *shown = json_dumps(m.id, JSON_COMPACT | JSON_ENCODE_ANY);
                    if (v->kind < FZ_V_PROTOCOL) {
                        json_decref(v->bad_id);
                        v->bad_id = json_incref(m.id);
                    }
                    fz_set(v, FZ_V_PROTOCOL, "wrong-id", "a response with the id %.200s, which was never sent",
                           shown ? shown : "?");
                    free(shown);
                }
            }
            mcpc_msg_clear(&m);
            if (done || (!probe && json_object_size(l->owed) == 0))
                return 1;
            continue;
        }
        mcpc_msg_clear(&m);
        switch (rc) {
        case MCPC_ERR_PARSE:
        case MCPC_ERR_INVALID:
            fz_set(v, FZ_V_PROTOCOL, "malformed", "a frame that is not a valid JSON-RPC message: %s", l->s.error);
            continue;
        case MCPC_ERR_TIMEOUT:
            return 0;
        default:
            if (fz_gone(f, l, rc, v, "answering", 0))
                return -1;
            if (rc == MCPC_ERR_TOO_BIG && l->s.conn->ops->flooded(l->s.conn)) {
                l->up = 0;
                return -1;
            }
            /* one answer cut short, or with no message in it (over HTTP a 4xx refusal of an
             * oversized request may have no body): the ping's answer may still come */
            if (++errors > 64)
                return 0;
            continue;
        }
    }
}

/* Send a ping with a fresh id and await it: as fz_await. */
static int fz_probe(mcpc_fz *f, fz_link *l, int check_ids, fz_verdict *v)
{
    char pid[48];
    json_t *id;
    mcpc_err rc;
    int a;
    int64_t t0;
    snprintf(pid, sizeof pid, "fz-%lu", ++l->probes);
    if (!(id = json_string(pid)))
        return 0;
    fz_known_add(l, id);
    rc = mcpc_session_request(&l->s, "ping", NULL, 1, id, NULL);
    if (rc != MCPC_OK) {
        a = fz_gone(f, l, rc, v, "receiving a ping", 1) ? -1 : 0;
        json_decref(id);
        return a;
    }
    t0 = mcpc_clock_ms();
    a = fz_await(f, l, id, check_ids, v, f->timeout_ms);
    /* over HTTP nothing to read means the POST was answered, just not with JSON-RPC */
    if (a == 0 && l->t.http && mcpc_clock_ms() - t0 < f->timeout_ms / 2) {
        fz_set(v, FZ_V_PROTOCOL, "unanswered", "HTTP status %ld and no JSON-RPC answer to a ping (%.200s)",
               mcpc_http_last_status(l->t.http), l->s.error);
        a = 1;
    }
    json_decref(id);
    return a;
}

/* Send u on l and judge what comes back (v starts cleared). */
static void fz_exchange(mcpc_fz *f, fz_link *l, const mcpc_fz_unit *u, fz_verdict *v)
{
    size_t noise0 = l->s.noise;
    int parsed = 1, cancels = 0, a;

    /* the transcript is only ever this iteration's: bounded, and nothing reads it afterwards */
    mcpc_transcript_clear(&l->tr);
    mcpc_transcript_init(&l->tr);
    json_object_clear(l->owed);
    for (size_t i = 0; i < u->n; i++) {
        const mcpc_fz_msg *m = &u->m[i];
        const char *mt = json_string_value(json_object_get(m->tree, "method"));
        /* a cancelled request is owed nothing */
        cancels |= mt && strcmp(mt, "notifications/cancelled") == 0;
        size_t len;
        char *bytes = mcpc_fz_msg_render(m, &len);
        mcpc_err rc;
        if (!bytes)
            continue;
        fz_note_ids(l, m, bytes, len, &parsed);
        bytes[len] = '\n';
        if (l->t.http && m->nhdr)
            mcpc_http_set_headers(l->t.http, (const char *const *)m->hdr, m->nhdr);
        rc = mcpc_session_send_raw(&l->s, bytes, len + 1);
        if (l->t.http && m->nhdr)
            mcpc_http_set_headers(l->t.http, NULL, 0);
        free(bytes);
        if (rc == MCPC_OK && l->t.http && mcpc_http_last_status(l->t.http) >= 500)
            fz_set(v, FZ_V_PROTOCOL, "http-5xx", "HTTP status %ld", mcpc_http_last_status(l->t.http));
        if (rc != MCPC_OK && rc != MCPC_ERR_TIMEOUT && fz_gone(f, l, rc, v, "reading the message", 0))
            return;
    }
    a = fz_probe(f, l, parsed, v);
    /* an asynchronous server may answer the ping before the message: give what is still owed a
     * moment, so that what it brings is judged with the message that caused it */
    if (a == 1 && !cancels && json_object_size(l->owed) && fz_await(f, l, NULL, parsed, v, FZ_SETTLE_MS < f->timeout_ms ? FZ_SETTLE_MS : f->timeout_ms) < 0)
        return;
    if (a == 0) {
        /* one unanswered ping may be a dropped request; two in a row is a hang */
        a = fz_probe(f, l, parsed, v);
        if (a == 1) {
            fz_set(v, FZ_V_PROTOCOL, "unanswered", "a ping went unanswered for %d ms; the next one was answered",
                   f->timeout_ms);
        } else if (a == 0) {
            if (l->t.io && mcpc_stdio_exited(l->t.io)) {
                fz_set(v, FZ_V_CRASH, "", "the implementation died (%s)", mcpc_stdio_exit_text(l->t.io, NULL));
            } else {
                fz_set(v, FZ_V_HANG, "", "no answer to two pings within %d ms each (%.200s)", f->timeout_ms, l->s.error);
            }
            l->up = 0;
        }
    }
    if (l->s.noise > noise0)
        fz_set(v, FZ_V_PROTOCOL, "noise", "output that is not JSON-RPC: %s", l->s.noise_sample);
}

/* ---- minimization ----------------------------------------------------------------------------- */

/* Does u, after hist on a fresh connection, give the same kind of finding as want? With
 * drain_ms, what arrives that long after the exchange is judged too (a late asynchronous answer,
 * a delayed death). */
static int fz_repro(mcpc_fz *f, const mcpc_fz_unit *hist, size_t nh, const mcpc_fz_unit *u, const fz_verdict *want,
                    int drain_ms)
{
    fz_link l;
    fz_verdict got;
    char err[256];
    int ok = 0;
    memset(&got, 0, sizeof got);
    if (fz_link_open(f, &l, err, sizeof err) != 0)
        return 0;
    for (size_t i = 0; i < nh; i++) {
        fz_exchange(f, &l, &hist[i], &got);
        if (got.kind)
            goto out;
    }
    fz_exchange(f, &l, u, &got);
    if (drain_ms && l.up && got.kind < want->kind) {
        /* a key no answer has: read and judge until the deadline */
        json_object_set_new(l.owed, "x:drain", json_true());
        (void)fz_await(f, &l, NULL, 1, &got, drain_ms);
        if (l.t.io && mcpc_stdio_exited(l.t.io))
            fz_set(&got, FZ_V_CRASH, "", "the implementation died (%s)", mcpc_stdio_exit_text(l.t.io, NULL));
    }
    ok = got.kind == want->kind && (want->kind != FZ_V_PROTOCOL || strcmp(got.sub, want->sub) == 0);
out:
    fz_verdict_clear(&got);
    fz_link_close(&l);
    return ok;
}

typedef struct {
    mcpc_fz *f;
    const fz_verdict *want;
    int64_t deadline;
    int left;                /* attempts */
    int used;
    int drain_ms;            /* 0, or how long late answers are waited for */
} fz_budget;

/* One reproduction within the budget: 1 reproduced, 0 not, -1 the budget is spent. */
static int fz_try(fz_budget *b, const mcpc_fz_unit *hist, size_t nh, const mcpc_fz_unit *u)
{
    if (b->left <= 0 || mcpc_clock_ms() >= b->deadline || fz_interrupted)
        return -1;
    b->left--;
    b->used++;
    return fz_repro(b->f, hist, nh, u, b->want, b->drain_ms);
}

/* Total bytes a unit renders to. */
static size_t fz_unit_bytes(const mcpc_fz_unit *u)
{
    size_t total = 0;
    for (size_t i = 0; i < u->n; i++) {
        size_t len;
        char *b = mcpc_fz_msg_render(&u->m[i], &len);
        total += b ? len : 0;
        free(b);
    }
    return total;
}

/* Minimize in place: the history first (state-dependent findings), then the messages of the
 * unit, then each message's tree or bytes, greedily, within a budget of reproductions. */
static void fz_minimize(mcpc_fz *f, fz_finding *fd, mcpc_fz_unit *hist, size_t *nh, mcpc_fz_unit *u,
                        const fz_verdict *want, int *moved)
{
    fz_budget b = {f, want, mcpc_clock_ms() + FZ_MIN_MS,
                   want->kind == FZ_V_HANG ? FZ_MIN_HANG_ATTEMPTS : FZ_MIN_ATTEMPTS, 0, 0};
    int r;
    /* without a process of our own, a crash or hang cannot be undone: nothing to try */
    if (!f->argv && want->kind != FZ_V_PROTOCOL)
        goto done;
    fd->tried = 1;
    *moved = 0;
    if ((r = fz_try(&b, NULL, 0, u)) == 1) {
        for (size_t i = 0; i < *nh; i++)
            mcpc_fz_unit_clear(&hist[i]);
        *nh = 0;
        fd->reproduced = 1;
    }
    /* from here on, late answers count: an asynchronous one may show up exchanges late */
    if (r == 0 && !fd->reproduced) {
        b.drain_ms = FZ_DRAIN_MS;
        if ((r = fz_try(&b, NULL, 0, u)) == 1) {
            for (size_t i = 0; i < *nh; i++)
                mcpc_fz_unit_clear(&hist[i]);
            *nh = 0;
            fd->reproduced = 1;
        }
    }
    /* an earlier message alone, latest first */
    for (size_t k = *nh; r == 0 && !fd->reproduced && k-- > 0;) {
        if ((r = fz_try(&b, NULL, 0, &hist[k])) != 1)
            continue;
        mcpc_fz_unit_clear(u);
        *u = hist[k];
        memset(&hist[k], 0, sizeof hist[k]);
        for (size_t i = 0; i < *nh; i++)
            mcpc_fz_unit_clear(&hist[i]);
        *nh = 0;
        *moved = (int)k + 1;
        fd->orig_bytes = fz_unit_bytes(u);
        fd->reproduced = 1;
    }
    if (r == 0 && !fd->reproduced && *nh && fz_try(&b, hist, *nh, u) == 1) {
        fd->reproduced = 1;
        for (size_t i = 0; i < *nh;) {
            mcpc_fz_unit without[FZ_HIST];
            size_t n = 0;
            for (size_t j = 0; j < *nh; j++)
                if (j != i)
                    without[n++] = hist[j];   /* shallow: borrowed for the trial only */
            if ((r = fz_try(&b, without, n, u)) == 1) {
                mcpc_fz_unit_clear(&hist[i]);
                memmove(&hist[i], &hist[i + 1], (*nh - i - 1) * sizeof hist[0]);
                (*nh)--;
            } else if (r < 0) {
                break;
            } else {
                i++;
            }
        }
    }
    if (!fd->reproduced)
        goto done;
    /* fewer messages in the unit */
    for (size_t i = u->n; u->n > 1 && i-- > 0;) {
        mcpc_fz_unit trial;
        if (mcpc_fz_unit_copy(&trial, u) != 0)
            break;
        mcpc_fz_msg_clear(&trial.m[i]);
        memmove(&trial.m[i], &trial.m[i + 1], (trial.n - i - 1) * sizeof trial.m[0]);
        trial.n--;
        memset(&trial.m[trial.n], 0, sizeof trial.m[0]);
        if ((r = fz_try(&b, hist, *nh, &trial)) == 1) {
            mcpc_fz_unit_clear(u);
            *u = trial;
        } else {
            mcpc_fz_unit_clear(&trial);
            if (r < 0)
                break;
        }
    }
    /* smaller messages */
    for (size_t i = 0; i < u->n; i++) {
        for (size_t k = 0;;) {
            mcpc_fz_msg cand;
            mcpc_fz_unit trial;
            if (!mcpc_fz_shrink(&u->m[i], k, &cand))
                break;
            if (mcpc_fz_unit_copy(&trial, u) != 0) {
                mcpc_fz_msg_clear(&cand);
                break;
            }
            mcpc_fz_msg_clear(&trial.m[i]);
            trial.m[i] = cand;
            if ((r = fz_try(&b, hist, *nh, &trial)) == 1) {
                mcpc_fz_unit_clear(u);
                *u = trial;
                k = 0;
            } else {
                mcpc_fz_unit_clear(&trial);
                if (r < 0)
                    goto done;
                k++;
            }
        }
    }
done:
    fd->attempts = b.used;
}

/* ---- case files ------------------------------------------------------------------------------- */

/* 1 when bytes can be a JSON string as they are: valid UTF-8 and no NUL. */
static int fz_text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        unsigned cp, min;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) { k = 2; min = 0x80; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { k = 3; min = 0x800; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { k = 4; min = 0x10000; cp = c & 0x07; }
        else return 0;
        if (i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if (((unsigned char)s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

/* send_raw with data (text) or hex. New reference. */
static json_t *fz_step_raw(const char *bytes, size_t len)
{
    json_t *st;
    char *hex;
    if (fz_text_ok(bytes, len))
        return json_pack("{s:s,s:s%}", "do", "send_raw", "data", bytes, len);
    if (!(hex = malloc(len * 2 + 1)))
        return NULL;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)bytes[i]);
    st = json_pack("{s:s,s:s}", "do", "send_raw", "hex", hex);
    free(hex);
    return st;
}

/* The steps that send one message as the fuzzer did. New reference (an array). */
static json_t *fz_steps_send(mcpc_fz *f, const mcpc_fz_msg *m)
{
    size_t len;
    char *bytes = mcpc_fz_msg_render(m, &len);
    json_t *out = json_array(), *st = NULL;
    int http = f->url || strcmp(f->transport, "http") == 0;
    if (!bytes || !out)
        goto out;
    if (http && fz_text_ok(bytes, len)) {
        /* through http_request, so a status and headers of our own can be judged */
        json_t *hdrs = json_object(), *fivexx = json_array();
        for (int s = 500; s <= 511; s++)
            json_array_append_new(fivexx, json_integer(s));
        for (size_t i = 0; i < m->nhdr; i++) {
            const char *line = m->hdr[i], *sep = strpbrk(line, ":;");
            char name[128];
            if (!sep || (size_t)(sep - line) >= sizeof name)
                continue;
            snprintf(name, sizeof name, "%.*s", (int)(sep - line), line);
            const char *val = *sep == ';' ? "" : sep + 1;
            while (*val == ' ')
                val++;
            json_t *prev = json_object_get(hdrs, name);
            if (!prev)
                json_object_set_new(hdrs, name, json_string(val));
            else if (json_is_array(prev))
                json_array_append_new(prev, json_string(val));
            else
                json_object_set_new(hdrs, name, json_pack("[O,s]", prev, val));
        }
        st = json_pack("{s:s,s:s%,s:i,s:s,s:[{s:s,s:[{s:s,s:o}],s:s},{s:s,s:[{s:s,s:b}]},{s:s,s:s},{s:s,s:s}]}",
                       "do", "http_request", "body", bytes, len, "timeout_ms", f->timeout_ms,
                       "expected", "an HTTP answer that is not a server error, or none",
                       "outcomes",
                       "grade", "FAIL", "when", "path", "/status", "in", fivexx,
                       "reason", "the server failed with a 5xx status",
                       "grade", "PASS", "when", "path", "", "present", 1,
                       "grade", "PASS", "on", "eof",
                       "grade", "PASS", "on", "timeout");
        if (st && json_object_size(hdrs))
            json_object_set(st, "headers", hdrs);
        json_decref(hdrs);
    } else {
        st = fz_step_raw(bytes, len);
    }
    if (st)
        json_array_append_new(out, st);
out:
    free(bytes);
    return out;
}

/* The case that replays a finding: the history, the unit, then proof of life. New reference. */
static json_t *fz_case_doc(mcpc_fz *f, const fz_finding *fd, const fz_verdict *v, const mcpc_fz_unit *hist,
                           size_t nh, const mcpc_fz_unit *u)
{
    static const char *const fix[FZ_V__COUNT] = {
        "", 
        "Write nothing but JSON-RPC messages on the transport, answer every request with the id it "
        "carried (same value, same type), and turn an unexpected failure into a JSON-RPC error, not "
        "a broken frame or a 5xx.",
        "Bound the work one message can cause (nesting depth, string and message size, ids in "
        "flight) and never block the message loop on one request: answer or refuse every request "
        "within a deadline.",
        "Validate every member's type and range before using it (ids, params, arguments) and turn a "
        "malformed or hostile message into an error response (-32700, -32600, -32602), never a "
        "crash.",
    };
    json_t *steps = json_array(), *doc = NULL, *a;
    char title[200], desc[1600], replay[300] = "";
    size_t i, k;
    int http = f->url || strcmp(f->transport, "http") == 0;

    for (i = 0; i < nh; i++) {
        for (k = 0; k < hist[i].n; k++) {
            a = fz_steps_send(f, &hist[i].m[k]);
            json_array_extend(steps, a);
            json_decref(a);
        }
        json_array_append_new(steps, json_pack("{s:s,s:i,s:s}", "do", "wait", "ms", 200, "note",
                                               "an earlier message the finding depends on"));
    }
    for (k = 0; k < u->n; k++) {
        a = fz_steps_send(f, &u->m[k]);
        if (json_array_size(a))
            json_object_set_new(json_array_get(a, 0), "note", json_string(u->what));
        json_array_extend(steps, a);
        json_decref(a);
    }
    if (v->kind == FZ_V_PROTOCOL && strcmp(v->sub, "wrong-id") == 0 && v->bad_id) {
        for (k = 0; k < u->n; k++)
            json_array_append_new(steps, json_pack(
                "{s:s,s:s,s:i,s:[{s:s,s:[{s:s,s:O}],s:s},{s:s,s:[{s:s,s:b}]},{s:s,s:s}]}",
                "do", "expect", "expected", "responses only to ids that were sent", "timeout_ms", 1000,
                "outcomes",
                "grade", "FAIL", "when", "path", "/id", "equals", v->bad_id,
                "reason", "a response carries an id that was never sent",
                "grade", "PASS", "when", "path", "", "present", 1,
                "grade", "PASS", "on", "timeout"));
    }
    if (!(v->kind == FZ_V_PROTOCOL && strcmp(v->sub, "unanswered") == 0))
        json_array_append_new(steps, json_pack("{s:s,s:i}", "do", "wait", "ms", 500));
    if (f->argv)
        json_array_append_new(steps, json_pack("{s:s}", "do", "alive"));
    json_array_append_new(steps, json_pack("{s:s,s:s,s:s}", "do", "request", "method", "ping", "id", FZ_ALIVE_ID));
    json_array_append_new(steps, json_pack(
        "{s:s,s:s,s:i,s:[{s:s,s:[{s:s,s:b}]}]}", "do", "expect", "expected",
        "the implementation still answers ping", "timeout_ms", 2 * f->timeout_ms, "outcomes",
        "grade", "PASS", "when", "path", "/id", "equals_sent_id", 1));
    if (v->kind == FZ_V_PROTOCOL && (strcmp(v->sub, "noise") == 0 || strcmp(v->sub, "malformed") == 0))
        json_array_append_new(steps, json_pack("{s:s,s:i}", "do", "stdout_clean", "ms", 0));

    snprintf(title, sizeof title, "%s with a %s mutation: %s", fd->method, mcpc_fz_class_name(fd->cls),
             fd->kind == FZ_V_CRASH ? "the implementation survives"
             : fd->kind == FZ_V_HANG ? "the implementation keeps answering"
                                     : "the output stays JSON-RPC");
    {
        size_t o = 0;
        o += (size_t)snprintf(replay + o, sizeof replay - o, "mcpcert run --case-file %s", fd->path);
        if (f->era_forced)
            o += (size_t)snprintf(replay + o, sizeof replay - o, " --spec-version %s", mcpc_era_name(f->era));
        if (http && !f->url)
            snprintf(replay + o, sizeof replay - o, " --transport http");
        else if (f->url)
            snprintf(replay + o, sizeof replay - o, " --url %s", f->url);
    }
    snprintf(desc, sizeof desc,
             "Found by `mcpcert fuzz --seed %" PRIu64 "` at iteration %zu (%.1f s) against %s, over %s, "
             "era %s. Mutation (%s): %s. What happened: %s. Minimized from %zu to %zu bytes in %d "
             "reproduction(s)%s. Replay: %s -- COMMAND. The flaw named below is a placeholder: to keep "
             "this case in cases/, name a reference-server flaw that makes it fail.",
             f->seed, fd->iteration, fd->at_s, f->target, http ? "streamable HTTP" : "stdio",
             mcpc_era_name(f->era), mcpc_fz_class_name(fd->cls), fd->what, fd->detail, fd->orig_bytes,
             fd->min_bytes, fd->attempts,
             fd->reproduced ? "" : fd->tried ? "; it did NOT reproduce on a fresh connection"
                                              : "; not minimized: without a command there is no process to restart",
             replay);
    doc = json_pack("{s:s,s:s,s:s,s:[s],s:[s],s:[s],s:[s],s:s,s:s,s:s,s:[s],s:s,s:o}",
                    "id", fd->id, "title", title, "description", desc, "requirements", "TRN-11",
                    "roles", "server", "eras", mcpc_era_name(f->era), "transports", http ? "http" : "stdio",
                    "level", "MUST", "profile", "bronze", "suite", "fuzz", "flaws", "fuzz-finding",
                    "fix", fix[fd->kind], "steps", steps);
    return doc;
}

/* ---- findings --------------------------------------------------------------------------------- */

/* One summary line for a finding. */
static void fz_report_finding(mcpc_fz *f, const fz_finding *fd, FILE *out)
{
    fprintf(out, "  %-8s %-22s %-7s after %.2f s (iteration %zu): %s%s%s -> %s\n", fz_kind_name[fd->kind],
            fd->method, mcpc_fz_class_name(fd->cls), fd->at_s, fd->iteration, fd->detail,
            fd->reproduced ? "" : fd->tried ? " [not reproduced]" : " [not minimized: nothing to restart]",
            fd->written ? "" : " [case not written]", fd->path);
}

/* Erase the progress line, if one is shown. */
static void fz_progress_end(mcpc_fz *f)
{
    if (f->progress_shown) {
        printf("\r%-110s\r", "");
        f->progress_shown = 0;
    }
}

/* Is there a finding with this key already? */
static int fz_seen(const mcpc_fz *f, const char *key)
{
    for (size_t i = 0; i < f->nfound; i++)
        if (strcmp(f->found[i].key, key) == 0)
            return 1;
    return 0;
}

/* A finding: new ones are minimized and written as a case; repeats are dropped. htmpl gives the
 * template of each history unit, tmpl that of u. */
static void fz_handle(mcpc_fz *f, const mcpc_fz_unit *hist, const size_t *htmpl, size_t nh,
                      const mcpc_fz_unit *u, size_t tmpl, fz_verdict *v)
{
    char key[200];
    mcpc_fz_unit h[FZ_HIST], cur;
    size_t n = 0, per;
    fz_finding *fd;
    int moved = 0;
    int64_t t0 = mcpc_clock_ms();
    snprintf(key, sizeof key, "%s %s %s", fz_kind_name[v->kind], f->tmpl[tmpl].method, mcpc_fz_class_name(u->cls));
    if (fz_seen(f, key) || f->nfound >= FZ_MAX_FINDINGS)
        return;
    fd = &f->found[f->nfound];
    memset(fd, 0, sizeof *fd);
    fd->kind = v->kind;
    fd->iteration = f->iterations;
    fd->at_s = (double)(mcpc_clock_ms() - f->t_start) / 1000.0;
    fd->orig_bytes = fz_unit_bytes(u);
    snprintf(fd->sub, sizeof fd->sub, "%s", v->sub);
    snprintf(fd->detail, sizeof fd->detail, "%s", v->detail);
    for (size_t i = 0; i < nh; i++)
        if (mcpc_fz_unit_copy(&h[n], &hist[i]) == 0)
            n++;
    if (n != nh || mcpc_fz_unit_copy(&cur, u) != 0)
        goto out;
    fz_minimize(f, fd, h, &n, &cur, v, &moved);
    if (moved) {
        /* named after the message that caused it; that one may be known already */
        tmpl = htmpl[moved - 1];
        snprintf(key, sizeof key, "%s %s %s", fz_kind_name[v->kind], f->tmpl[tmpl].method, mcpc_fz_class_name(cur.cls));
        fd->iteration -= nh - (size_t)(moved - 1);
        if (fz_seen(f, key)) {
            mcpc_fz_unit_clear(&cur);
            goto out;
        }
    }
    f->nfound++;
    per = ++f->per_kind[v->kind];
    snprintf(fd->key, sizeof fd->key, "%s", key);
    snprintf(fd->method, sizeof fd->method, "%s", f->tmpl[tmpl].method);
    snprintf(fd->what, sizeof fd->what, "%s", cur.what);
    snprintf(fd->id, sizeof fd->id, "FUZZ-%s-%zu", fz_kind_upper[v->kind], per);
    {
        /* through a local buffer: fd lives inside f, and the compiler cannot tell out_dir apart */
        char path[sizeof fd->path];
        snprintf(path, sizeof path, "%s/%s.json", f->out_dir, fd->id);
        memcpy(fd->path, path, sizeof path);
    }
    fd->cls = cur.cls;
    fd->min_bytes = fz_unit_bytes(&cur);
    json_t *doc = fz_case_doc(f, fd, v, h, n, &cur);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    FILE *fp = NULL;
    if (text && strlen(text) > FZ_CASE_MAX_BYTES)
        fprintf(stderr, "mcpcert: %s is larger than the case loader accepts (1 MiB)\n", fd->path);
    if (text && fz_mkdirs(f->out_dir) == 0 && (fp = fopen(fd->path, "w")) != NULL) {
        fd->written = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
        fd->written = fclose(fp) == 0 && fd->written;
    }
    if (!fd->written)
        fprintf(stderr, "mcpcert: cannot write %s: %s\n", fd->path, strerror(errno));
    free(text);
    json_decref(doc);
    mcpc_fz_unit_clear(&cur);
    fz_progress_end(f);
    printf("found %s in %s (%s) after %.2f s, iteration %zu; minimized %zu -> %zu bytes in %d attempt(s): %s\n",
           fz_kind_name[fd->kind], fd->method, mcpc_fz_class_name(fd->cls), fd->at_s, fd->iteration,
           fd->orig_bytes, fd->min_bytes, fd->attempts, fd->path);
    fflush(stdout);
out:
    for (size_t i = 0; i < n; i++)
        mcpc_fz_unit_clear(&h[i]);
    f->min_ms += mcpc_clock_ms() - t0;
}

/* ---- the loop --------------------------------------------------------------------------------- */

/* Iterations per second of fuzzing (minimization time left out). */
static double fz_exec_rate(const mcpc_fz *f)
{
    int64_t ms = mcpc_clock_ms() - f->t_start - f->min_ms;
    return ms > 0 ? (double)f->iterations * 1000.0 / (double)ms : 0.0;
}

/* The TTY progress line, at most once a second. */
static void fz_progress(mcpc_fz *f, int64_t *last)
{
    int64_t now = mcpc_clock_ms();
    if (!f->tty || now - *last < 1000)
        return;
    *last = now;
    printf("\rfuzz: %.0f s, iterations %zu, exec/s %.0f, findings %zu (crash %zu, hang %zu, protocol %zu), restarts %zu ",
           (double)(now - f->t_start) / 1000.0, f->iterations, fz_exec_rate(f), f->nfound,
           f->per_kind[FZ_V_CRASH], f->per_kind[FZ_V_HANG], f->per_kind[FZ_V_PROTOCOL], f->restarts);
    fflush(stdout);
    f->progress_shown = 1;
}

/* Negotiate, open, learn, then loop until the duration, a signal or --max-findings. */
static int fz_run(mcpc_fz *f)
{
    fz_link l;
    mcpc_fz_unit hist[FZ_HIST];
    size_t htmpl[FZ_HIST], nh = 0;
    char err[512];
    int failures = 0, code;
    int64_t last = 0;

    memset(&l, 0, sizeof l);
    if (fz_negotiate(f, err, sizeof err) != 0 || fz_link_open(f, &l, err, sizeof err) != 0) {
        fprintf(stderr, "mcpcert: cannot reach the implementation: %s\n", err);
        return MCPC_EXIT_UNREACHABLE;
    }
    fz_build_templates(f, &l);
    printf("fuzzing %s over %s, era %s, seed %" PRIu64 ", for %" PRId64 " s: %zu valid messages to start from (%zu tools)\n",
           f->target, f->url || strcmp(f->transport, "http") == 0 ? "streamable HTTP" : "stdio",
           mcpc_era_name(f->era), f->seed, f->duration_ms / 1000, f->ntmpl, f->ntools);
    fflush(stdout);
    f->t_start = mcpc_clock_ms();
    while (!fz_interrupted && mcpc_clock_ms() - f->t_start < f->duration_ms &&
           (!f->max_findings || f->nfound < (size_t)f->max_findings)) {
        mcpc_fz_unit u;
        fz_verdict v;
        size_t tmpl;
        if (!l.up || l.iters >= FZ_RECONNECT_EVERY || l.s.conn->ops->received(l.s.conn) > FZ_RECONNECT_BYTES) {
            fz_link_close(&l);
            for (size_t i = 0; i < nh; i++)
                mcpc_fz_unit_clear(&hist[i]);
            nh = 0;
            if (fz_link_open(f, &l, err, sizeof err) != 0) {
                struct timespec pause = {0, 200 * 1000 * 1000};
                nanosleep(&pause, NULL);
                if (++failures >= 3) {
                    fz_progress_end(f);
                    fprintf(stderr, "mcpcert: the implementation cannot be reached any more: %s\n", err);
                    break;
                }
                continue;
            }
            failures = 0;
            f->restarts++;
        }
        if (fz_make_unit(f, &u, &tmpl) != 0)
            break;
        memset(&v, 0, sizeof v);
        fz_exchange(f, &l, &u, &v);
        f->iterations++;
        l.iters++;
        if (v.kind) {
            fz_handle(f, hist, htmpl, nh, &u, tmpl, &v);
            /* whatever state led here is suspect: start again from a fresh connection */
            l.up = 0;
            mcpc_fz_unit_clear(&u);
        } else {
            if (nh == FZ_HIST) {
                mcpc_fz_unit_clear(&hist[0]);
                memmove(&hist[0], &hist[1], (FZ_HIST - 1) * sizeof hist[0]);
                memmove(&htmpl[0], &htmpl[1], (FZ_HIST - 1) * sizeof htmpl[0]);
                nh--;
            }
            htmpl[nh] = tmpl;
            hist[nh++] = u;
        }
        fz_verdict_clear(&v);
        fz_progress(f, &last);
    }
    fz_link_close(&l);
    for (size_t i = 0; i < nh; i++)
        mcpc_fz_unit_clear(&hist[i]);
    fz_progress_end(f);
    printf("iterations %zu, exec/s %.0f, findings %zu (crash %zu, hang %zu, protocol %zu)\n", f->iterations,
           fz_exec_rate(f), f->nfound, f->per_kind[FZ_V_CRASH], f->per_kind[FZ_V_HANG],
           f->per_kind[FZ_V_PROTOCOL]);
    for (size_t i = 0; i < f->nfound; i++)
        fz_report_finding(f, &f->found[i], stdout);
    code = f->nfound ? MCPC_EXIT_NONCONFORMANT : MCPC_EXIT_ATTAINED;
    return code;
}

/* ---- the command line ------------------------------------------------------------------------- */

/* Usage text. */
static void fz_usage(FILE *out)
{
    fputs("usage: mcpcert fuzz [--duration S] [--seed N] [--out DIR] [--transport stdio|http] [--url URL]\n"
          "                    [--spec-version 2025-11-25|2026-07-28] [--timeout MS] [--max-findings N]\n"
          "                    [--allow-remote] [-- COMMAND ARGS...]\n"
          "Sends mutated MCP messages to the implementation and writes each distinct crash, hang or\n"
          "protocol break as a replayable case DIR/FUZZ-<KIND>-<n>.json (default DIR: mcpcert-fuzz).\n"
          "Exit codes: 0 no finding, 1 findings, 2 usage, 3 implementation unreachable.\n",
          out);
}

/* A number from text within [lo, hi]; 0 or -1. */
static int fz_num(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Release the templates. */
static void fz_free(mcpc_fz *f)
{
    for (size_t i = 0; i < f->ntmpl; i++) {
        free(f->tmpl[i].method);
        json_decref(f->tmpl[i].params);
    }
    f->ntmpl = 0;
}

int mcpc_fuzz_cmd(int argc, char **argv)
{
    static const struct option opts[] = {
        {"duration", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"transport", required_argument, NULL, 'T'},
        {"url", required_argument, NULL, 'u'},
        {"spec-version", required_argument, NULL, 'v'},
        {"timeout", required_argument, NULL, 't'},
        {"max-findings", required_argument, NULL, 'm'},
        {"allow-remote", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char *ref_argv[2] = {MCPC_BUILDDIR "/targets/refserver", NULL};
    static char *ref_http_argv[4] = {MCPC_BUILDDIR "/targets/refserver", "--http", "{port}", NULL};
    mcpc_fz *f = calloc(1, sizeof *f);
    unsigned long long n;
    int ch, code = MCPC_EXIT_USAGE, seeded = 0;
    struct sigaction sa, old_int, old_term;

    if (!f)
        return MCPC_EXIT_USAGE;
    f->duration_ms = 60000;
    f->timeout_ms = 2000;
    f->out_dir = "mcpcert-fuzz";
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            if (fz_num(optarg, 1, 86400, &n) != 0) {
                fprintf(stderr, "mcpcert: --duration takes seconds from 1 to 86400\n");
                goto out;
            }
            f->duration_ms = (int64_t)n * 1000;
            break;
        case 's':
            if (fz_num(optarg, 0, UINT64_MAX, &n) != 0) {
                fprintf(stderr, "mcpcert: --seed takes an unsigned integer\n");
                goto out;
            }
            f->seed = n;
            seeded = 1;
            break;
        case 'o': f->out_dir = optarg; break;
        case 'T':
            if (strcmp(optarg, "stdio") != 0 && strcmp(optarg, "http") != 0) {
                fprintf(stderr, "mcpcert: --transport must be stdio or http\n");
                goto out;
            }
            f->transport = optarg;
            break;
        case 'u': f->url = optarg; break;
        case 'v':
            if (mcpc_era_parse(optarg, &f->era) != 0) {
                fprintf(stderr, "mcpcert: --spec-version must be 2025-11-25 or 2026-07-28\n");
                goto out;
            }
            f->era_forced = 1;
            break;
        case 't':
            if (fz_num(optarg, 10, 600000, &n) != 0) {
                fprintf(stderr, "mcpcert: --timeout takes milliseconds from 10 to 600000\n");
                goto out;
            }
            f->timeout_ms = (int)n;
            break;
        case 'm':
            if (fz_num(optarg, 1, FZ_MAX_FINDINGS, &n) != 0) {
                fprintf(stderr, "mcpcert: --max-findings takes 1 to %d\n", FZ_MAX_FINDINGS);
                goto out;
            }
            f->max_findings = (int)n;
            break;
        case 'R': f->allow_remote = 1; break;
        case 'h':
            fz_usage(stdout);
            code = 0;
            goto out;
        default:
            fz_usage(stderr);
            goto out;
        }
    }
    if (f->url && !f->transport)
        f->transport = "http";
    if (!f->transport)
        f->transport = "stdio";
    if (f->url && strcmp(f->transport, "http") != 0) {
        fprintf(stderr, "mcpcert: --url goes with --transport http\n");
        goto out;
    }
    if (optind < argc)
        f->argv = argv + optind;
    else if (!f->url)
        f->argv = strcmp(f->transport, "http") == 0 ? ref_http_argv : ref_argv;
    if (!seeded) {
        /* no seed given: take one from the clock, and say it, so the run can be repeated */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        f->seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    }
    {
        size_t off = 0;
        if (f->url)
            off += (size_t)snprintf(f->target, sizeof f->target, "%s%s", f->url, f->argv ? " <- " : "");
        for (size_t i = 0; f->argv && f->argv[i] && off < sizeof f->target - 1; i++)
            off += (size_t)snprintf(f->target + off, sizeof f->target - off, "%s%s", i ? " " : "", f->argv[i]);
    }
    mcpc_fz_rng_seed(&f->rng, f->seed);
    f->next_id = 1000;
    f->tty = isatty(STDOUT_FILENO);
    mcpc_stdio_global_init();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fz_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    code = fz_run(f);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    fz_free(f);
    free(f);
    return code;
}

/* One client-role case run (see client_run.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "authserver.h"
#include "browse.h"
#include "client_run.h"
#include "clock.h"
#include "jose.h"
#include "mock_http.h"
#include "transport_stdio.h"

#define MCPC_CLIENT_MIN_RUN_MS 10000     /* the whole client run: at least this long... */
#define MCPC_CLIENT_MAX_RUN_MS 120000    /* ...and at most this long */
#define MCPC_CLIENT_RUN_FACTOR 6         /* ...else this many per-message timeouts */
#define MCPC_CLIENT_MAX_RECORD_FILE (32u << 20)

void mcpc_client_obs_clear(mcpc_client_obs *obs)
{
    json_decref(obs->record);
    json_decref(obs->as_record);
    json_decref(obs->browser_record);
    json_decref(obs->sink_record);
    free(obs->out);
    memset(obs, 0, sizeof *obs);
}

/* s with every "{url}" replaced by url. New string or NULL. */
static char *mcpc_client_subst(const char *s, const char *url)
{
    size_t n = 0, ul = strlen(url);
    for (const char *p = s; (p = strstr(p, "{url}")) != NULL; p += 5)
        n++;
    char *out = malloc(strlen(s) + n * ul + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        if (strncmp(p, "{url}", 5) == 0) {
            memcpy(o, url, ul);
            o += ul;
            p += 5;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* "NAME=value" in a new string, or NULL. */
static char *mcpc_client_env(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* The path of this mcpcert binary, for the client to launch `mcpcert serve`. */
static int mcpc_client_self(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* What an OAuth case adds to the run: the browser and the pre-registered client. */
typedef struct {
    const char *browser_record;  /* the file `mcpcert browse` appends to */
    char redirect_uri[64];
} mcpc_client_oauth;

/* A loopback port nothing listens on at the moment (the redirect URI's: nothing needs to
 * listen there, since the browser hands the redirect back instead of following it). */
static unsigned mcpc_client_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    unsigned port = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* MCPC_CONTEXT for the client. New reference or NULL (err says why). */
static json_t *mcpc_client_context(const mcpc_client_run_opts *o, const mcpc_case *c,
                                   const char *url, const char *record, const char *nonce,
                                   const mcpc_client_oauth *oauth, char *err, size_t errlen)
{
    json_t *scen = json_object_get(c->doc, "scenario");
    json_t *actions = json_object_get(scen, "actions");
    const char *era = mcpc_era_name(o->era);
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:o}", "scenario", c->id, "era", era, "transport",
                            o->transport, "actions", actions ? json_deep_copy(actions) : json_array());
    if (!ctx)
        return NULL;
    /* what the host insists on (NEG-01): the client is told, the server is not */
    json_t *req = json_object_get(json_object_get(scen, "mcps"), "require");
    if (req)
        json_object_set_new(ctx, "mcps", json_pack("{s:O}", "require", req));
    char self[PATH_MAX];
    if (strcmp(o->transport, "http") == 0) {
        json_object_set_new(ctx, "url", json_string(url));
        if (!oauth)
            return ctx;
        if (mcpc_client_self(self, sizeof self) != 0) {
            snprintf(err, errlen, "cannot find the mcpcert binary for `mcpcert browse`: %s",
                     strerror(errno));
            json_decref(ctx);
            return NULL;
        }
        /* the URL to open is appended as the last argument */
        json_object_set_new(ctx, "browser", json_pack("{s:s,s:[s,s,s]}", "command", self, "args",
                                                      "browse", "--record", oauth->browser_record));
        json_object_set_new(ctx, "oauth", json_pack("{s:s,s:s}", "client_id", MCPC_AS_PUBLIC_CLIENT,
                                                     "redirect_uri", oauth->redirect_uri));
        return ctx;
    }
    if (mcpc_client_self(self, sizeof self) != 0) {
        snprintf(err, errlen, "cannot find the mcpcert binary for `mcpcert serve`: %s", strerror(errno));
        json_decref(ctx);
        return NULL;
    }
    json_object_set_new(ctx, "server",
                        json_pack("{s:s,s:[s,s,s,s,s,s,s,s,s,s]}", "command", self, "args", "serve",
                                  c->id, "--spec-version", era, "--record", record, "--nonce",
                                  nonce, "--data", o->data_dir));
    return ctx;
}

/* Read the record file `mcpcert serve` wrote. New array (empty when there is none). */
static json_t *mcpc_client_read_record(const char *path, size_t *dropped)
{
    json_t *rec = json_array();
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t n;
    if (!f || !rec)
        return rec;
    while ((n = getline(&line, &cap, f)) > 0) {
        total += (size_t)n;
        if (total > MCPC_CLIENT_MAX_RECORD_FILE) {
            (*dropped)++;
            continue;
        }
        json_t *e = json_loadb(line, (size_t)n, 0, NULL);
        if (json_is_object(e))
            json_array_append(rec, e);
        json_decref(e);
    }
    free(line);
    fclose(f);
    return rec;
}

/* Put the record into the transcript: each message as the client sent it, headers included. */
static void mcpc_client_transcribe(mcpc_transcript *tr, json_t *record)
{
    size_t i;
    json_t *e;
    json_array_foreach(record, i, e) {
        json_t *view = json_pack("{s:O*,s:O*,s:O*}", "kind", json_object_get(e, "kind"), "http",
                                 json_object_get(e, "http"), "raw", json_object_get(e, "raw"));
        char *s = view ? json_dumps(view, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (s)
            mcpc_transcript_add(tr, "recv", s, strlen(s));
        free(s);
        json_decref(view);
    }
}

/* 1 when text[0..n) holds an access token of jwks: a run of base64url characters and two dots
 * (a compact JWS: the characters a URL never needs to escape) whose signature verifies. */
static int mcpc_client_has_token(const char *text, const json_t *jwks)
{
    static const char jws[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (const char *p = text; *p;) {
        size_t n = strspn(p, jws);
        if (n == 0) {
            p++;
            continue;
        }
        size_t dots = 0;
        for (size_t i = 0; i < n; i++)
            dots += p[i] == '.';
        if (dots == 2 && n <= MCPC_JOSE_MAX_TOKEN) {
            char *tok = strndup(p, n);
            json_t *claims = NULL;
            char why[8];
            int ok = tok && mcpc_jose_verify(tok, jwks, NULL, &claims, why, sizeof why) == MCPC_JOSE_OK;
            json_decref(claims);
            free(tok);
            if (ok)
                return 1;
        }
        p += n;
    }
    return 0;
}

size_t mcpc_client_mark_tokens(json_t *records, const json_t *jwks)
{
    size_t i, marked = 0;
    json_t *e;
    json_array_foreach(records, i, e) {
        json_t *http = json_object_get(e, "http");
        const char *parts[3] = {
            json_string_value(json_object_get(http ? http : e, "path")),
            json_string_value(json_object_get(http ? http : e, "query")),
            json_string_value(json_object_get(e, "url")),
        };
        int hit = 0;
        for (size_t k = 0; k < 3 && !hit; k++)
            hit = parts[k] && mcpc_client_has_token(parts[k], jwks);
        if (hit && json_object_set_new(e, "token_in_url", json_true()) == 0)
            marked++;
    }
    return marked;
}

/* The authorization server's and the browser's records, as notes in the transcript. */
static void mcpc_client_transcribe_oauth(mcpc_transcript *tr, const mcpc_client_obs *obs)
{
    size_t i;
    json_t *e;
    json_array_foreach(obs->as_record, i, e) {
        const char *q = json_string_value(json_object_get(e, "query"));
        const char *body = json_string_value(json_object_get(e, "body"));
        mcpc_transcript_note(tr, "authorization server received %s %s%s%.1500s%s%.1500s -> %lld",
                             json_string_value(json_object_get(e, "method")),
                             json_string_value(json_object_get(e, "path")), q && *q ? "?" : "",
                             q ? q : "", body ? " body " : "", body ? body : "",
                             (long long)json_integer_value(json_object_get(e, "status")));
    }
    json_array_foreach(obs->sink_record, i, e) {
        json_t *hv = json_object_get(e, "http");
        mcpc_transcript_note(tr, "the other server (sink) received %s %.200s%s",
                             json_string_value(json_object_get(hv, "method")),
                             json_string_value(json_object_get(hv, "path")),
                             json_object_get(json_object_get(hv, "headers"), "authorization")
                                 ? " with an Authorization header"
                                 : "");
    }
    json_array_foreach(obs->browser_record, i, e)
        mcpc_transcript_note(tr, "browser asked to open %.2000s%s",
                             json_string_value(json_object_get(e, "url")),
                             json_is_true(json_object_get(e, "fetched")) ? " (fetched: loopback)"
                                                                         : " (not fetched)");
}

/* Wait for the client to finish (bounded), keeping its stdout. */
static void mcpc_client_wait(mcpc_stdio *io, int run_ms, mcpc_client_obs *obs)
{
    int64_t deadline = mcpc_clock_ms() + run_ms;
    for (;;) {
        const char *line;
        size_t len;
        int64_t left = deadline - mcpc_clock_ms();
        if (left <= 0)
            break;
        mcpc_err rc = mcpc_stdio_read_line(io, left < 200 ? (int)left : 200, &line, &len);
        if (rc == MCPC_OK || (rc == MCPC_ERR_EOF && len)) {
            if (obs->out_len + len + 1 <= MCPC_CLIENT_MAX_STDOUT) {
                memcpy(obs->out + obs->out_len, line, len);
                obs->out_len += len;
                obs->out[obs->out_len++] = '\n';
                obs->out[obs->out_len] = '\0';
            }
        }
        if (rc == MCPC_ERR_EOF || (rc == MCPC_ERR_TOO_BIG && mcpc_stdio_flooded(io)))
            break;
    }
    int64_t left = deadline - mcpc_clock_ms();
    if (mcpc_stdio_wait_exit(io, left > 0 ? (int)left : 0) == MCPC_OK) {
        const char *t = mcpc_stdio_exit_text(io, &(int){0});
        int code;
        obs->exited = 1;
        obs->exit_code = sscanf(t, "exited with status %d", &code) == 1 ? code : -1;
        snprintf(obs->exit_text, sizeof obs->exit_text, "%s", t);
    } else {
        obs->exit_code = -1;
        snprintf(obs->exit_text, sizeof obs->exit_text,
                 "still running after %d ms (stopped by mcpcert)", run_ms);
    }
}

/* Start the authorization server of an OAuth case (auth borrowed). */
static mcpc_err mcpc_client_as_start(const mcpc_mock_auth *auth, mcpc_as **as, char *err,
                                     size_t errlen)
{
    mcpc_as_opts ao;
    mcpc_as_opts_default(&ao);
    ao.metadata = auth->metadata;
    if (auth->authz_endpoint)
        ao.dangerous_authz = auth->authz_endpoint;
    ao.iss = auth->iss;
    return mcpc_as_start(&ao, as, err, errlen);
}

/* The $BROWSER form of `mcpcert browse`: a link called mcpcert-browse to this binary, in
 * tmpdir, into link. 0, or -1 when it could not be made (the client then gets no $BROWSER). */
static int mcpc_client_browser_link(const char *tmpdir, char *link, size_t len)
{
    char self[PATH_MAX];
    if (mcpc_client_self(self, sizeof self) != 0)
        return -1;
    if ((size_t)snprintf(link, len, "%s/%s", tmpdir, MCPC_BROWSE_LINK) >= len) {
        link[0] = '\0';
        return -1;
    }
    unlink(link);
    return symlink(self, link);
}

mcpc_err mcpc_client_run(const mcpc_client_run_opts *o, const mcpc_case *c, mcpc_client_obs *obs,
                         mcpc_transcript *tr, char *err, size_t errlen)
{
    mcpc_mock *mock = NULL;
    mcpc_mock_http *mh = NULL;
    mcpc_stdio *io = NULL;
    mcpc_as *as = NULL;
    json_t *ctx = NULL, *jwks = NULL;
    char url[128] = "", record[512], browser[512] = "", link[512] = "", *ctx_text = NULL;
    char *env[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    char **argv = NULL;
    size_t argc = 0, nenv = 0;
    mcpc_err rc = MCPC_ERR_NOMEM;
    mcpc_mock_auth auth;
    mcpc_client_oauth oauth;
    int http = strcmp(o->transport, "http") == 0;
    int run_ms = o->timeout_ms * MCPC_CLIENT_RUN_FACTOR;

    memset(obs, 0, sizeof *obs);
    obs->scenario = json_object_get(c->doc, "scenario");
    obs->era = o->era;
    obs->transport = o->transport;
    obs->exit_code = -1;
    obs->out = malloc(MCPC_CLIENT_MAX_STDOUT + 1);
    if (!obs->out)
        goto out;
    obs->out[0] = '\0';
    mcpc_mock_nonce(obs->nonce, sizeof obs->nonce);
    snprintf(record, sizeof record, "%s/record-%s.jsonl", o->tmpdir, c->id);
    unlink(record);
    if (run_ms < MCPC_CLIENT_MIN_RUN_MS)
        run_ms = MCPC_CLIENT_MIN_RUN_MS;
    if (run_ms > MCPC_CLIENT_MAX_RUN_MS)
        run_ms = MCPC_CLIENT_MAX_RUN_MS;
    if ((rc = mcpc_mock_auth_parse(obs->scenario, &auth, err, errlen)) != MCPC_OK)
        goto out;
    auth.enabled &= http; /* OAuth is an HTTP matter: a stdio run ignores it */

    if (http) {
        mcpc_mock_http_auth ha = {0};
        rc = mcpc_mock_new(obs->scenario, o->era, obs->nonce, &mock, err, errlen);
        if (rc != MCPC_OK)
            goto out;
        if (auth.enabled) {
            if ((rc = mcpc_client_as_start(&auth, &as, err, errlen)) != MCPC_OK)
                goto out;
            rc = MCPC_ERR_NOMEM;
            if (!(jwks = mcpc_as_jwks(as)))
                goto out;
            ha.issuer = mcpc_as_issuer(as);
            ha.jwks = jwks;
            ha.prm_resource = auth.prm_resource;
            ha.challenge_metadata = auth.challenge_metadata;
            ha.redirect_call = auth.redirect_call;
            snprintf(browser, sizeof browser, "%s/browser-%s.jsonl", o->tmpdir, c->id);
            unlink(browser);
            oauth.browser_record = browser;
            snprintf(oauth.redirect_uri, sizeof oauth.redirect_uri,
                     "http://127.0.0.1:%u/callback", mcpc_client_free_port());
        }
        rc = mcpc_mock_http_start(mock, auth.enabled ? &ha : NULL, &mh, url, sizeof url, err, errlen);
        if (rc != MCPC_OK)
            goto out;
        snprintf(obs->url, sizeof obs->url, "%s", url);
    }
    rc = MCPC_ERR_NOMEM;
    ctx = mcpc_client_context(o, c, url, record, obs->nonce, auth.enabled ? &oauth : NULL, err,
                              errlen);
    if (!ctx) {
        rc = MCPC_ERR_SPAWN;
        goto out;
    }
    ctx_text = json_dumps(ctx, JSON_COMPACT);
    if (!ctx_text || !(env[nenv++] = mcpc_client_env("MCPC_SCENARIO", c->id)) ||
        !(env[nenv++] = mcpc_client_env("MCPC_CONTEXT", ctx_text)) ||
        (http && !(env[nenv++] = mcpc_client_env("MCPC_URL", url))))
        goto out;
    /* clients that open URLs the usual way ($BROWSER, as xdg-open and Python's webbrowser read
     * it) reach the same recording browser; it is one executable, so no shell is involved */
    if (auth.enabled && mcpc_client_browser_link(o->tmpdir, link, sizeof link) == 0 &&
        (!(env[nenv++] = mcpc_client_env("BROWSER", link)) ||
         !(env[nenv++] = mcpc_client_env(MCPC_BROWSE_RECORD_ENV, browser))))
        goto out;
    while (o->argv[argc])
        argc++;
    argv = calloc(argc + 1, sizeof *argv);
    if (!argv)
        goto out;
    for (size_t i = 0; i < argc; i++)
        if (!(argv[i] = mcpc_client_subst(o->argv[i], url)))
            goto out;
    mcpc_transcript_note(tr, "client role: mock server (%s, %s)%s%s; launching the client",
                         o->transport, mcpc_era_name(o->era), http ? " at " : "", url);
    if (as)
        mcpc_transcript_note(tr, "OAuth: authorization server %s; browser record %s",
                             mcpc_as_issuer(as), browser);
    mcpc_stdio_limits lim;
    mcpc_stdio_limits_default(&lim);
    rc = mcpc_stdio_spawn(argv, env, &lim, &io, err, errlen);
    if (rc != MCPC_OK)
        goto out;
    mcpc_client_wait(io, run_ms, obs);
    mcpc_stdio_stop(io);
    size_t tail_len, tail_total;
    const char *tail = mcpc_stdio_stderr_tail(io, &tail_len, &tail_total);
    if (tail && tail_len) {
        mcpc_transcript_add(tr, "stderr", tail, tail_len);
        /* the last line or so, for a failure message */
        size_t keep = tail_len < sizeof obs->err_tail - 1 ? tail_len : sizeof obs->err_tail - 1;
        char *p = mcpc_text_printable(tail + tail_len - keep, keep, keep);
        if (p)
            snprintf(obs->err_tail, sizeof obs->err_tail, "%s", p);
        free(p);
    }
    /* the record is final only once nothing can add to it */
    if (http) {
        obs->sink_record = mcpc_mock_http_sink_take(mh);
        mcpc_mock_http_stop(mh);
        mh = NULL;
        if (auth.redirect_call && !obs->sink_record) {
            rc = MCPC_ERR_NOMEM;
            goto out;
        }
        obs->record = json_incref(mcpc_mock_record(mock));
        obs->dropped = mcpc_mock_dropped(mock);
    } else {
        obs->record = mcpc_client_read_record(record, &obs->dropped);
    }
    if (as) {
        size_t dropped = 0;
        obs->as_record = mcpc_as_requests(as);
        mcpc_as_stop(as);
        as = NULL;
        obs->browser_record = mcpc_client_read_record(browser, &dropped);
        if (!obs->as_record || !obs->browser_record) {
            rc = MCPC_ERR_NOMEM;
            goto out;
        }
        mcpc_client_mark_tokens(obs->record, jwks);
        mcpc_client_mark_tokens(obs->as_record, jwks);
        mcpc_client_mark_tokens(obs->browser_record, jwks);
        mcpc_client_mark_tokens(obs->sink_record, jwks);
    }
    mcpc_client_transcribe(tr, obs->record);
    mcpc_client_transcribe_oauth(tr, obs);
    mcpc_transcript_note(tr, "client %s; it sent %zu message(s)", obs->exit_text,
                         json_array_size(obs->record));
    rc = obs->record ? MCPC_OK : MCPC_ERR_NOMEM;
out:
    if (rc == MCPC_ERR_NOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    mcpc_stdio_free(io);
    mcpc_mock_http_stop(mh);
    mcpc_mock_free(mock);
    mcpc_as_stop(as);
    json_decref(jwks);
    unlink(record);
    if (browser[0])
        unlink(browser);
    if (link[0])
        unlink(link); /* the runner's temporary directory must end empty */
    for (size_t i = 0; argv && i < argc; i++)
        free(argv[i]);
    free(argv);
    for (size_t i = 0; i < nenv; i++)
        free(env[i]);
    free(ctx_text);
    json_decref(ctx);
    return rc;
}

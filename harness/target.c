/* Reaching the implementation under test for one case. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "ledger.h"
#include "target.h"

#define MCPC_TARGET_MAX_ARGS 256
#define MCPC_TARGET_MAX_ENV 16

/* A free loopback TCP port (bound then released; the child binds it next). 0 on failure. */
static unsigned mcpc_target_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    unsigned port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Replace every "{port}" in s; returns malloc'd text. */
static char *mcpc_target_subst(const char *s, unsigned port)
{
    char num[16];
    size_t n = 0;
    snprintf(num, sizeof num, "%u", port);
    for (const char *p = s; (p = strstr(p, "{port}")) != NULL; p += 6)
        n++;
    char *out = malloc(strlen(s) + n * strlen(num) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        if (strncmp(p, "{port}", 6) == 0) {
            o += sprintf(o, "%s", num);
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* Wait until 127.0.0.1:port accepts a TCP connection, or the deadline. */
static int mcpc_target_wait_port(unsigned port, mcpc_stdio *io, int64_t deadline)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (mcpc_clock_left(deadline) > 0) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 0;
        if (io && mcpc_stdio_exited(io))
            return -1;
        poll(NULL, 0, 20);
    }
    return -1;
}

/* The first http:// URL the child prints on stdout, within the deadline. */
static int mcpc_target_read_url(mcpc_stdio *io, int64_t deadline, char *url, size_t urllen)
{
    for (int lines = 0; lines < 50; lines++) {
        const char *line;
        size_t len;
        if (mcpc_stdio_read_line(io, mcpc_clock_left(deadline), &line, &len) != MCPC_OK)
            return -1;
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), line);
        char *p = strstr(buf, "http://");
        if (!p)
            continue;
        size_t n = strcspn(p, " \t\r\"'<>");
        while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ','))
            n--;
        snprintf(url, urllen, "%.*s", (int)n, p);
        return 0;
    }
    return -1;
}

/* The HTTP client's tick: keep the started server's pipes from filling up. */
static void mcpc_target_pump(void *arg)
{
    mcpc_stdio_pump(arg);
}

mcpc_err mcpc_target_start(const mcpc_target_opts *o, const char *ledger, mcpc_target *t,
                           char *err, size_t errlen)
{
    char env[4200];
    char *envp[MCPC_TARGET_MAX_ENV + 2] = {NULL};
    char *args[MCPC_TARGET_MAX_ARGS + 1];
    size_t nargs = 0, nenv = 0;
    unsigned port = 0;
    int http = strcmp(o->transport, "http") == 0;
    int64_t deadline = mcpc_clock_ms() + o->timeout_ms;
    mcpc_err rc = MCPC_ERR_SPAWN;

    memset(t, 0, sizeof *t);
    memset(args, 0, sizeof args);
    snprintf(env, sizeof env, "%s=%s", MCPC_LEDGER_ENV, ledger ? ledger : "");
    if (o->argv && o->argv[0]) {
        int wants_port = o->url && strstr(o->url, "{port}");
        for (size_t i = 0; o->argv[i]; i++)
            wants_port |= strstr(o->argv[i], "{port}") != NULL;
        if (http && wants_port && (port = mcpc_target_free_port()) == 0) {
            snprintf(err, errlen, "no free loopback port");
            goto fail;
        }
        for (; o->argv[nargs] && nargs < MCPC_TARGET_MAX_ARGS; nargs++) {
            args[nargs] = port ? mcpc_target_subst(o->argv[nargs], port) : strdup(o->argv[nargs]);
            if (!args[nargs]) {
                rc = MCPC_ERR_NOMEM;
                goto fail;
            }
        }
        /* the trust configuration (docs/auth.md) may name the endpoint, so {port} too */
        for (size_t i = 0; o->env_extra && o->env_extra[i] && nenv < MCPC_TARGET_MAX_ENV; i++) {
            if (!(envp[nenv] = mcpc_target_subst(o->env_extra[i], port))) {
                rc = MCPC_ERR_NOMEM;
                goto fail;
            }
            envp[++nenv] = NULL;
        }
        if (ledger)
            envp[nenv] = env; /* last, and not freed below */
        rc = mcpc_stdio_spawn(args, envp[0] ? envp : NULL, NULL, &t->io, err, errlen);
        if (rc != MCPC_OK)
            goto fail;
        rc = MCPC_ERR_SPAWN;
    }
    if (!http) {
        t->conn = mcpc_conn_stdio_new(t->io);
        if (!t->conn) {
            rc = MCPC_ERR_NOMEM;
            goto fail;
        }
        rc = MCPC_OK;
        goto out;
    }
    if (o->url) {
        char *u = mcpc_target_subst(o->url, port);
        snprintf(t->url, sizeof t->url, "%s", u ? u : o->url);
        free(u);
    } else if (port) {
        snprintf(t->url, sizeof t->url, "http://127.0.0.1:%u/mcp", port);
    } else if (!t->io || mcpc_target_read_url(t->io, deadline, t->url, sizeof t->url) != 0) {
        snprintf(err, errlen, "the implementation printed no http:// URL within %d ms", o->timeout_ms);
        goto fail;
    }
    if (port && mcpc_target_wait_port(port, t->io, deadline) != 0) {
        snprintf(err, errlen, "nothing accepted connections on 127.0.0.1:%u within %d ms", port,
                 o->timeout_ms);
        goto fail;
    }
    mcpc_http_opts ho;
    mcpc_http_opts_default(&ho);
    ho.allow_remote = o->allow_remote;
    ho.protocol_version = o->protocol_version;
    ho.authorization = o->authorization;
    ho.call_token = o->call_token;
    ho.call_token_arg = o->call_token_arg;
    if (t->io) {
        ho.tick = mcpc_target_pump;
        ho.tick_arg = t->io;
    }
    rc = mcpc_http_new(t->url, &ho, &t->http, err, errlen);
    if (rc != MCPC_OK)
        goto fail;
    t->conn = mcpc_http_conn(t->http);
    rc = MCPC_OK;
    goto out;
fail:
    mcpc_target_stop(t, NULL);
out:
    for (size_t i = 0; i < nargs; i++)
        free(args[i]);
    for (size_t i = 0; i < nenv; i++)
        free(envp[i]);
    return rc;
}

void mcpc_target_stop(mcpc_target *t, mcpc_transcript *tr)
{
    if (t->conn && !t->http)
        t->conn->ops->free(t->conn);
    t->conn = NULL;
    mcpc_http_free(t->http);
    t->http = NULL;
    if (!t->io)
        return;
    mcpc_stdio_stop(t->io);
    if (tr) {
        size_t len, total;
        int crashed = 0;
        const char *tail = mcpc_stdio_stderr_tail(t->io, &len, &total);
        if (total) {
            mcpc_transcript_add(tr, "stderr", tail, len);
            if (total > len)
                mcpc_transcript_note(tr, "stderr: %zu bytes in all, the last %zu kept", total, len);
        }
        mcpc_transcript_note(tr, "implementation %s", mcpc_stdio_exit_text(t->io, &crashed));
    }
    mcpc_stdio_free(t->io);
    t->io = NULL;
}

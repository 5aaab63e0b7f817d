/* stdio transport: spawn, bounded line framing, deadlines, stderr drain, teardown. */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "transport_stdio.h"

extern char **environ;

#define MCPC_STDIO_CHUNK 65536

/* Children we spawned and have not reaped: orphan reaping must leave them alone. */
#define MCPC_STDIO_MAX_LIVE 64
static pid_t mcpc_stdio_live[MCPC_STDIO_MAX_LIVE];

static void mcpc_stdio_live_set(pid_t pid, int on)
{
    for (int i = 0; i < MCPC_STDIO_MAX_LIVE; i++) {
        if (on ? mcpc_stdio_live[i] == 0 : mcpc_stdio_live[i] == pid) {
            mcpc_stdio_live[i] = on ? pid : 0;
            return;
        }
    }
}

static int mcpc_stdio_is_live(pid_t pid)
{
    for (int i = 0; i < MCPC_STDIO_MAX_LIVE; i++) {
        if (mcpc_stdio_live[i] == pid)
            return 1;
    }
    return 0;
}

struct mcpc_stdio {
    pid_t pid;
    int in_fd, out_fd, err_fd;     /* -1 once closed */
    mcpc_stdio_limits lim;
    /* stdout buffer: bytes [start, end) are unread; a line is returned in place */
    char *buf;
    size_t cap, start, end;
    int discarding;                /* skipping the rest of an over-long line */
    size_t discard_seen;
    size_t out_total;
    int flooded;
    int out_eof;
    /* stderr tail ring (linearised on request) */
    char *err_ring;
    size_t err_head, err_len, err_total;
    char *err_lin;
    /* exit */
    int reaped, status, we_signalled, stopped;
    char exit_text[96];
};

void mcpc_stdio_limits_default(mcpc_stdio_limits *lim)
{
    lim->max_line = 4u << 20;
    lim->max_total = 64u << 20;
    lim->stderr_keep = 64u << 10;
    lim->term_grace_ms = 1000;
}

void mcpc_stdio_global_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* Orphaned descendants of the implementation become ours, so teardown can find them. */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static void mcpc_stdio_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static int mcpc_stdio_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Child side of spawn: never returns. */
static void mcpc_stdio_child(char *const argv[], char *const env_extra[], int in_r, int out_w,
                             int err_w, int report_w)
{
    int e;
    int fds[3] = {in_r, out_w, err_w};
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    for (int t = 0; t < 3; t++) {
        /* a pipe end may already sit on its target (our own fd 0-2 were closed): dup2 would be a
         * no-op and leave close-on-exec set, so clear the flag instead */
        if (fds[t] == t ? fcntl(t, F_SETFD, 0) < 0 : dup2(fds[t], t) < 0)
            goto fail;
    }
    for (size_t i = 0; env_extra && env_extra[i]; i++)
        putenv(env_extra[i]);
    execvp(argv[0], argv);
fail:
    e = errno;
    if (write(report_w, &e, sizeof e) < 0) {
        /* nothing more we can do in the child */
    }
    _exit(127);
}

mcpc_err mcpc_stdio_spawn(char *const argv[], char *const env_extra[], const mcpc_stdio_limits *lim,
                          mcpc_stdio **out, char *errbuf, size_t errlen)
{
    int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, rep_p[2] = {-1, -1};
    mcpc_err rc = MCPC_ERR_SPAWN;
    mcpc_stdio *s = NULL;
    int child_errno = 0;
    ssize_t n;

    *out = NULL;
    if (!argv || !argv[0]) {
        snprintf(errbuf, errlen, "no command given");
        return MCPC_ERR_USAGE;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return MCPC_ERR_NOMEM;
    if (lim)
        s->lim = *lim;
    else
        mcpc_stdio_limits_default(&s->lim);
    s->in_fd = s->out_fd = s->err_fd = -1;
    s->cap = MCPC_STDIO_CHUNK * 2;
    s->buf = malloc(s->cap);
    s->err_ring = malloc(s->lim.stderr_keep ? s->lim.stderr_keep : 1);
    if (!s->buf || !s->err_ring) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    if (pipe2(in_p, O_CLOEXEC) || pipe2(out_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC) ||
        pipe2(rep_p, O_CLOEXEC)) {
        snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
        goto out;
    }
    s->pid = fork();
    if (s->pid < 0) {
        snprintf(errbuf, errlen, "fork: %s", strerror(errno));
        goto out;
    }
    if (s->pid == 0)
        mcpc_stdio_child(argv, env_extra, in_p[0], out_p[1], err_p[1], rep_p[1]);
    setpgid(s->pid, s->pid); /* both sides set it: no race with an early kill */
    close(in_p[0]);
    close(out_p[1]);
    close(err_p[1]);
    close(rep_p[1]);
    in_p[0] = out_p[1] = err_p[1] = rep_p[1] = -1;
    s->in_fd = in_p[1];
    s->out_fd = out_p[0];
    s->err_fd = err_p[0];
    in_p[1] = out_p[0] = err_p[0] = -1;
    /* exec succeeded iff the CLOEXEC report pipe closes with nothing in it */
    do
        n = read(rep_p[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof child_errno) {
        snprintf(errbuf, errlen, "cannot execute %s: %s", argv[0], strerror(child_errno));
        waitpid(s->pid, &s->status, 0);
        s->reaped = 1;
        goto out;
    }
    mcpc_stdio_set_nonblock(s->in_fd);
    mcpc_stdio_set_nonblock(s->out_fd);
    mcpc_stdio_set_nonblock(s->err_fd);
    mcpc_stdio_live_set(s->pid, 1);
    *out = s;
    s = NULL;
    rc = MCPC_OK;
out:
    for (int i = 0; i < 2; i++) {
        mcpc_stdio_close_fd(&in_p[i]);
        mcpc_stdio_close_fd(&out_p[i]);
        mcpc_stdio_close_fd(&err_p[i]);
        mcpc_stdio_close_fd(&rep_p[i]);
    }
    if (s) {
        s->stopped = 1;
        mcpc_stdio_free(s);
    }
    return rc;
}

/* Append stderr bytes to the tail ring. */
static void mcpc_stdio_err_keep(mcpc_stdio *s, const char *p, size_t n)
{
    size_t keep = s->lim.stderr_keep;
    s->err_total += n;
    if (!keep)
        return;
    if (n >= keep) {
        memcpy(s->err_ring, p + n - keep, keep);
        s->err_head = 0;
        s->err_len = keep;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        s->err_ring[(s->err_head + s->err_len) % keep] = p[i];
        if (s->err_len < keep)
            s->err_len++;
        else
            s->err_head = (s->err_head + 1) % keep;
    }
}

/* Read whatever stderr has now; bounded per call so a flood cannot starve stdout. */
static void mcpc_stdio_drain_err(mcpc_stdio *s)
{
    char chunk[MCPC_STDIO_CHUNK];
    for (int i = 0; i < 16 && s->err_fd >= 0; i++) {
        ssize_t n = read(s->err_fd, chunk, sizeof chunk);
        if (n > 0) {
            mcpc_stdio_err_keep(s, chunk, (size_t)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            mcpc_stdio_close_fd(&s->err_fd);
        break;
    }
}

/* Make room for at least one chunk after s->end; never beyond max_line + one chunk. */
static mcpc_err mcpc_stdio_room(mcpc_stdio *s)
{
    size_t limit = s->lim.max_line + MCPC_STDIO_CHUNK + 1;
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
    }
    if (s->cap - s->end >= MCPC_STDIO_CHUNK)
        return MCPC_OK;
    size_t ncap = s->cap * 2;
    if (ncap > limit)
        ncap = limit;
    if (ncap <= s->cap)
        return MCPC_ERR_TOO_BIG;
    char *nb = realloc(s->buf, ncap);
    if (!nb)
        return MCPC_ERR_NOMEM;
    s->buf = nb;
    s->cap = ncap;
    return MCPC_OK;
}

/* One read from stdout into the buffer. */
static void mcpc_stdio_fill(mcpc_stdio *s)
{
    if (s->out_fd < 0)
        return;
    if (mcpc_stdio_room(s) != MCPC_OK && s->cap - s->end == 0)
        return;
    ssize_t n = read(s->out_fd, s->buf + s->end, s->cap - s->end);
    if (n > 0) {
        s->end += (size_t)n;
        s->out_total += (size_t)n;
        if (s->out_total > s->lim.max_total)
            s->flooded = 1;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        mcpc_stdio_close_fd(&s->out_fd);
        s->out_eof = 1;
    }
}

/* Wait for stdout/stderr readiness (and stdin writability when want_in) up to ms. */
static int mcpc_stdio_poll(mcpc_stdio *s, int want_in, int ms, int *in_ready)
{
    struct pollfd p[3];
    nfds_t n = 0;
    int io = -1, oo = -1, eo = -1;
    if (want_in && s->in_fd >= 0) {
        p[n].fd = s->in_fd;
        p[n].events = POLLOUT;
        io = (int)n++;
    }
    /* grow or compact before deciding: a full buffer that may still grow must stay polled */
    if (s->out_fd >= 0 && s->cap - s->end < MCPC_STDIO_CHUNK)
        (void)mcpc_stdio_room(s);
    if (s->out_fd >= 0 && s->cap > s->end) {
        p[n].fd = s->out_fd;
        p[n].events = POLLIN;
        oo = (int)n++;
    }
    if (s->err_fd >= 0) {
        p[n].fd = s->err_fd;
        p[n].events = POLLIN;
        eo = (int)n++;
    }
    if (n == 0) {
        if (ms > 0)
            poll(NULL, 0, ms > 20 ? 20 : ms);
        return 0;
    }
    int r = poll(p, n, ms);
    if (r <= 0)
        return r;
    if (eo >= 0 && p[eo].revents)
        mcpc_stdio_drain_err(s);
    if (oo >= 0 && p[oo].revents)
        mcpc_stdio_fill(s);
    if (io >= 0 && in_ready)
        *in_ready = p[io].revents != 0;
    return r;
}

mcpc_err mcpc_stdio_write(mcpc_stdio *s, const char *buf, size_t len, int timeout_ms)
{
    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    size_t off = 0;
    while (off < len) {
        if (s->in_fd < 0)
            return MCPC_ERR_EOF;
        ssize_t n = write(s->in_fd, buf + off, len - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EPIPE)
            return MCPC_ERR_EOF;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return MCPC_ERR_IO;
        int left = mcpc_clock_left(deadline);
        if (left == 0)
            return MCPC_ERR_TIMEOUT;
        int ready = 0;
        /* keep draining the child's output so it cannot deadlock against us */
        mcpc_stdio_poll(s, 1, left, &ready);
    }
    return MCPC_OK;
}

mcpc_err mcpc_stdio_read_line(mcpc_stdio *s, int timeout_ms, const char **line, size_t *len)
{
    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    int polled = 0;
    *line = NULL;
    *len = 0;
    for (;;) {
        char *nl = s->end > s->start ? memchr(s->buf + s->start, '\n', s->end - s->start) : NULL;
        if (s->discarding) {
            size_t upto = nl ? (size_t)(nl - (s->buf + s->start)) + 1 : s->end - s->start;
            s->discard_seen += upto;
            s->start += upto;
            if (nl) {
                s->discarding = 0;
                *len = s->discard_seen - 1;
                s->discard_seen = 0;
                return MCPC_ERR_TOO_BIG;
            }
        } else if (nl) {
            size_t n = (size_t)(nl - (s->buf + s->start));
            s->start += n + 1;
            /* a whole line can arrive in one read: the bound applies here too */
            if (n > s->lim.max_line) {
                *len = n;
                return MCPC_ERR_TOO_BIG;
            }
            *line = s->buf + s->start - n - 1;
            *len = n;
            return MCPC_OK;
        } else if (s->end - s->start > s->lim.max_line) {
            /* over-long line: skip to its newline without keeping it */
            s->discarding = 1;
            s->discard_seen = s->end - s->start;
            s->start = s->end;
            continue;
        }
        if (s->flooded)
            return MCPC_ERR_TOO_BIG;
        if (s->out_eof) {
            if (s->discarding) {
                s->discarding = 0;
                *len = s->discard_seen;
                return MCPC_ERR_TOO_BIG;
            }
            *line = s->buf + s->start;
            *len = s->end - s->start;
            s->start = s->end;
            return MCPC_ERR_EOF;
        }
        int left = mcpc_clock_left(deadline);
        /* even with no time left, look once: a line may already be waiting in the pipe */
        if (left == 0 && polled)
            return MCPC_ERR_TIMEOUT;
        polled = 1;
        mcpc_stdio_poll(s, 0, left, NULL);
    }
}

void mcpc_stdio_pump(mcpc_stdio *s)
{
    if (!s)
        return;
    mcpc_stdio_drain_err(s);
    for (int i = 0; i < 16 && s->out_fd >= 0; i++) {
        s->start = s->end = 0; /* nobody reads these lines: keep none */
        mcpc_stdio_fill(s);
        if (s->end == 0)
            break;
    }
    s->start = s->end = 0;
}

void mcpc_stdio_close_stdin(mcpc_stdio *s)
{
    mcpc_stdio_close_fd(&s->in_fd);
}

/* Reap without blocking; returns 1 when the child has exited. */
static int mcpc_stdio_try_reap(mcpc_stdio *s)
{
    if (s->reaped)
        return 1;
    pid_t r = waitpid(s->pid, &s->status, WNOHANG);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
        if (r < 0)
            s->status = 0;
        s->reaped = 1;
        mcpc_stdio_live_set(s->pid, 0);
        return 1;
    }
    return 0;
}

int mcpc_stdio_exited(mcpc_stdio *s)
{
    return mcpc_stdio_try_reap(s);
}

mcpc_err mcpc_stdio_wait_exit(mcpc_stdio *s, int timeout_ms)
{
    int64_t deadline = mcpc_clock_ms() + timeout_ms;
    while (!mcpc_stdio_try_reap(s)) {
        int left = mcpc_clock_left(deadline);
        if (left == 0)
            return MCPC_ERR_TIMEOUT;
        /* keep draining (within the buffer bound) so a child writing output can still exit */
        mcpc_stdio_poll(s, 0, left < 10 ? left : 10, NULL);
    }
    return MCPC_OK;
}

int mcpc_stdio_reap_orphans(void)
{
    int killed = 0;
    pid_t self = getpid();
    /* a few passes: killing one orphan can re-parent its children to us */
    for (int pass = 0; pass < 5; pass++) {
        DIR *d = opendir("/proc");
        int found = 0;
        struct dirent *e;
        if (!d)
            break;
        while ((e = readdir(d)) != NULL) {
            char path[64], stat[512];
            char *rp;
            long ppid;
            pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
            if (pid <= 0 || pid == self)
                continue;
            snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            size_t n = fread(stat, 1, sizeof stat - 1, f);
            fclose(f);
            stat[n] = '\0';
            rp = strrchr(stat, ')'); /* comm may contain spaces and parentheses */
            if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1 || ppid != self ||
                mcpc_stdio_is_live(pid))
                continue;
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            killed++;
            found = 1;
        }
        closedir(d);
        if (!found)
            break;
    }
    return killed;
}

void mcpc_stdio_stop(mcpc_stdio *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = 1;
    mcpc_stdio_close_fd(&s->in_fd);
    if (!mcpc_stdio_try_reap(s)) {
        s->we_signalled = 1;
        kill(-s->pid, SIGTERM);
        if (mcpc_stdio_wait_exit(s, s->lim.term_grace_ms) != MCPC_OK) {
            kill(-s->pid, SIGKILL);
            waitpid(s->pid, &s->status, 0);
            s->reaped = 1;
            mcpc_stdio_live_set(s->pid, 0);
        }
    }
    /* whatever is left in the group dies too, then anything that escaped it */
    kill(-s->pid, SIGKILL);
    /* keep the last words (a crash message) for the transcript, bounded by the drain itself */
    mcpc_stdio_drain_err(s);
    mcpc_stdio_close_fd(&s->out_fd);
    mcpc_stdio_close_fd(&s->err_fd);
    mcpc_stdio_reap_orphans();
}

const char *mcpc_stdio_exit_text(mcpc_stdio *s, int *crashed)
{
    if (crashed)
        *crashed = 0;
    if (!mcpc_stdio_try_reap(s))
        return "running";
    if (WIFEXITED(s->status)) {
        snprintf(s->exit_text, sizeof s->exit_text, "exited with status %d", WEXITSTATUS(s->status));
        if (crashed && !s->we_signalled && WEXITSTATUS(s->status) != 0)
            *crashed = 1;
    } else if (WIFSIGNALED(s->status)) {
        int sig = WTERMSIG(s->status);
        snprintf(s->exit_text, sizeof s->exit_text, "killed by signal %d (%s)%s", sig,
                 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
                 s->we_signalled ? " sent by mcpcert" : "");
        if (crashed && !s->we_signalled)
            *crashed = 1;
    } else {
        snprintf(s->exit_text, sizeof s->exit_text, "ended (status 0x%x)", s->status);
    }
    return s->exit_text;
}

const char *mcpc_stdio_stderr_tail(mcpc_stdio *s, size_t *len, size_t *total)
{
    size_t keep = s->lim.stderr_keep;
    if (total)
        *total = s->err_total;
    *len = s->err_len;
    if (!s->err_len)
        return "";
    free(s->err_lin);
    s->err_lin = malloc(s->err_len);
    if (!s->err_lin) {
        *len = 0;
        return "";
    }
    for (size_t i = 0; i < s->err_len; i++)
        s->err_lin[i] = s->err_ring[(s->err_head + i) % keep];
    return s->err_lin;
}

size_t mcpc_stdio_stdout_total(const mcpc_stdio *s)
{
    return s->out_total;
}

int mcpc_stdio_flooded(const mcpc_stdio *s)
{
    return s->flooded;
}

pid_t mcpc_stdio_pid(const mcpc_stdio *s)
{
    return s->pid;
}

void mcpc_stdio_free(mcpc_stdio *s)
{
    if (!s)
        return;
    mcpc_stdio_stop(s);
    /* a failed spawn is marked stopped but still owns its pipe ends */
    mcpc_stdio_close_fd(&s->in_fd);
    mcpc_stdio_close_fd(&s->out_fd);
    mcpc_stdio_close_fd(&s->err_fd);
    free(s->buf);
    free(s->err_ring);
    free(s->err_lin);
    free(s);
}

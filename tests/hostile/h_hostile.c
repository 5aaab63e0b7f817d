/* h_hostile: misbehaving MCP "servers" for the harness's robustness tests.
 *
 *   h_hostile MODE [-- CMD ARGS...]
 *
 * Unless a mode says otherwise it first reads one line from stdin (the harness's first request)
 * and crudely pulls out its "id" token so it can echo it, then misbehaves as MODE says:
 *
 *   flood        1 GiB of non-JSON 4 KiB text lines on stdout (1 MiB write() calls), exit 0
 *   silent       read stdin until EOF, never write; exit 0 at EOF
 *   bigline      one 100 MiB JSON-RPC response line, then sleep
 *   deepnest     one line of 10^6 '[' and 10^6 ']', then sleep
 *   badutf8      answer every line with a result containing raw invalid UTF-8 bytes
 *   diemid       half a response (no newline), exit status 3
 *   ignoreterm   SIGTERM ignored, never answers, keeps sleeping after EOF on stdin
 *   forker       3 children in our process group + 1 that setsid()s, all named
 *                "h_hostile_kid" and sleeping; the parent never answers
 *   stderrflood  a child writes 1 GiB to stderr in 64 KiB chunks while the parent execs
 *                CMD ARGS (does NOT read the first line then: the real server needs it);
 *                without CMD the parent never answers
 *   crashsig     read the first line, then die by SIGSEGV
 *   banner       "Server starting..." on stdout at startup (before reading), then silent
 *
 * Every process this program creates is bounded: alarm(LIFETIME_S) with SIGALRM at its default
 * action, and no sleep longer than LIFETIME_S, so a harness that forgets to kill it cannot leave
 * it running forever. Write errors (EPIPE when the harness closes the pipe) end the process;
 * SIGPIPE keeps whatever disposition was inherited (the default kills us, which is fine).
 *
 * Plain C11 + POSIX; Linux prctl() is used when available to rename the children. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define LIFETIME_S 1000u
#define KID_NAME "h_hostile_kid"

static const char *g_argv_area;  /* start of the contiguous argv strings (for renaming) */
static size_t g_argv_len;        /* their total length, NULs included */

/* ---- small helpers ------------------------------------------------------------------------ */

/* Write everything or fail (-1, errno set; EPIPE when the reader went away). */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void write_or_exit(int fd, const void *buf, size_t len)
{
    if (write_all(fd, buf, len) != 0)
        _exit(0);  /* the harness closed the pipe: stopping early is the expected outcome */
}

static void set_default(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* The hard lifetime bound of every process we create (alarms do not survive fork()). */
static void arm_lifetime(void)
{
    set_default(SIGALRM);
    alarm(LIFETIME_S);
}

/* Sleep up to `secs` seconds in total, whatever signals arrive; then exit. */
static void sleep_then_exit(unsigned secs)
{
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)secs;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            break;
        struct timespec left;
        left.tv_sec = end.tv_sec - now.tv_sec;
        left.tv_nsec = end.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec -= 1;
            left.tv_nsec += 1000000000L;
        }
        nanosleep(&left, NULL);  /* EINTR: loop and recompute */
    }
    _exit(0);
}

/* Fill buf with lines of `line_len` bytes ("word word ... \n"); len must be a multiple. */
static void fill_lines(char *buf, size_t len, size_t line_len, const char *word)
{
    size_t wl = strlen(word);
    for (size_t off = 0; off < len; off += line_len) {
        for (size_t i = 0; i < line_len - 1; i++)
            buf[off + i] = word[i % wl];
        buf[off + line_len - 1] = '\n';
    }
}

/* ---- line reading from stdin (buffered, so lines after the first stay available) ---------- */

#define LINE_MAX_KEEP 65536

static char g_rbuf[65536];
static size_t g_rpos, g_rlen;
static char g_line[LINE_MAX_KEEP + 1];

/* Read one line (without '\n') into g_line, keeping at most LINE_MAX_KEEP bytes of it.
 * Returns 1 on a line (a final unterminated line counts), 0 on EOF/error with nothing read. */
static int read_line(void)
{
    size_t kept = 0;
    int any = 0;
    for (;;) {
        if (g_rpos == g_rlen) {
            ssize_t n = read(0, g_rbuf, sizeof g_rbuf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                g_line[kept] = '\0';
                return any;
            }
            g_rpos = 0;
            g_rlen = (size_t)n;
        }
        char c = g_rbuf[g_rpos++];
        any = 1;
        if (c == '\n') {
            g_line[kept] = '\0';
            return 1;
        }
        if (kept < LINE_MAX_KEEP)
            g_line[kept++] = c;
    }
}

/* Read and discard stdin until EOF or error. */
static void drain_stdin(void)
{
    while (read_line())
        ;
}

/* Crude: find `"id"`, skip blanks and ':', copy the value token (a string with its quotes, or a
 * bare number/literal) into out. "null" when absent or odd. */
static void extract_id(const char *line, char *out, size_t outsz)
{
    const char *p = line;
    snprintf(out, outsz, "null");
    while ((p = strstr(p, "\"id\"")) != NULL) {
        p += 4;
        const char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        if (*q != ':')
            continue;  /* "id" was a value, not a key */
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        const char *end = q;
        if (*q == '"') {
            end++;
            while (*end && *end != '"') {
                if (*end == '\\' && end[1])
                    end++;
                end++;
            }
            if (*end != '"')
                return;
            end++;
        } else {
            while (*end && strchr("+-.0123456789eEabcdfilnrstuv", *end))
                end++;  /* numbers and true/false/null */
        }
        size_t n = (size_t)(end - q);
        if (n == 0 || n >= outsz)
            return;
        memcpy(out, q, n);
        out[n] = '\0';
        return;
    }
}

static char g_id[256] = "null";

static void read_first_request(void)
{
    if (read_line())
        extract_id(g_line, g_id, sizeof g_id);
}

/* ---- modes --------------------------------------------------------------------------------- */

static void mode_flood(void)
{
    enum { LINE = 4096, CHUNK = 1 << 20 };
    read_first_request();
    char *buf = malloc(CHUNK);
    if (!buf)
        _exit(1);
    fill_lines(buf, CHUNK, LINE, "flood ");
    for (size_t i = 0; i < 1024; i++)  /* 1024 x 1 MiB = 1 GiB */
        write_or_exit(1, buf, CHUNK);
    _exit(0);
}

static void mode_silent(void)
{
    drain_stdin();
    _exit(0);
}

static void mode_bigline(void)
{
    enum { CHUNK = 1 << 20 };
    read_first_request();
    char head[512];
    int hl = snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"x\":\"", g_id);
    write_or_exit(1, head, (size_t)hl);
    char *buf = malloc(CHUNK);
    if (!buf)
        _exit(1);
    memset(buf, 'A', CHUNK);
    for (size_t i = 0; i < 100; i++)  /* 100 MiB of payload */
        write_or_exit(1, buf, CHUNK);
    write_or_exit(1, "\"}}\n", 4);
    free(buf);
    sleep_then_exit(LIFETIME_S);
}

static void mode_deepnest(void)
{
    enum { DEPTH = 1000000 };
    read_first_request();
    char *buf = malloc(2 * (size_t)DEPTH + 1);
    if (!buf)
        _exit(1);
    memset(buf, '[', DEPTH);
    memset(buf + DEPTH, ']', DEPTH);
    buf[2 * (size_t)DEPTH] = '\n';
    write_or_exit(1, buf, 2 * (size_t)DEPTH + 1);
    free(buf);
    sleep_then_exit(LIFETIME_S);
}

static void mode_badutf8(void)
{
    while (read_line()) {
        char id[256];
        extract_id(g_line, id, sizeof id);
        char out[512];
        int n = snprintf(out, sizeof out,
                         "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"x\":\"\xff\xfe\xc0\xaf\"}}\n", id);
        write_or_exit(1, out, (size_t)n);
    }
    _exit(0);
}

static void mode_diemid(void)
{
    read_first_request();
    char out[512];
    int n = snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"resu", g_id);
    write_or_exit(1, out, (size_t)n);
    _exit(3);
}

static void mode_ignoreterm(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    drain_stdin();
    sleep_then_exit(LIFETIME_S);
}

/* Rename this process to KID_NAME: comm via prctl, and the argv area (/proc/PID/cmdline) so
 * that `pgrep -f tests/hostile/h_hostile` no longer matches it. */
static void become_kid(void)
{
#ifdef __linux__
    prctl(PR_SET_NAME, KID_NAME, 0, 0, 0);
#endif
    if (g_argv_area && g_argv_len > 0) {
        char *a = (char *)g_argv_area;
        memset(a, 0, g_argv_len);
        size_t n = strlen(KID_NAME);
        if (n > g_argv_len - 1)
            n = g_argv_len - 1;
        memcpy(a, KID_NAME, n);
    }
    arm_lifetime();
}

static void mode_forker(void)
{
    read_first_request();
    for (int i = 0; i < 4; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("h_hostile: fork");
            continue;
        }
        if (pid == 0) {
            if (i == 3)
                setsid();  /* escape the process group (and the session) */
            become_kid();
            sleep_then_exit(LIFETIME_S);
        }
    }
    drain_stdin();
    sleep_then_exit(LIFETIME_S);
}

static void stderr_flood_child(void)
{
    enum { CHUNK = 64 * 1024, LINE = 128 };
    arm_lifetime();
    /* Only stderr is under test: do not hold the stdin/stdout pipes open. */
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        if (devnull > 2)
            close(devnull);
    }
    char *buf = malloc(CHUNK);
    if (!buf)
        _exit(1);
    fill_lines(buf, CHUNK, LINE, "stderr flood ");
    for (size_t i = 0; i < 16384; i++)  /* 16384 x 64 KiB = 1 GiB */
        write_or_exit(2, buf, CHUNK);
    _exit(0);
}

static void mode_stderrflood(char **cmd)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("h_hostile: fork");
        _exit(1);
    }
    if (pid == 0)
        stderr_flood_child();
    if (cmd && cmd[0]) {
        alarm(0);  /* the real server is not ours to bound */
        execvp(cmd[0], cmd);
        fprintf(stderr, "h_hostile: cannot exec %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    drain_stdin();
    sleep_then_exit(LIFETIME_S);
}

static void mode_crashsig(void)
{
    read_first_request();
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);  /* no core file litter */
    set_default(SIGSEGV);
    raise(SIGSEGV);
    _exit(139);  /* not reached unless something swallowed the signal */
}

static void mode_banner(void)
{
    static const char msg[] = "Server starting...\n";
    write_or_exit(1, msg, sizeof msg - 1);
    drain_stdin();
    _exit(0);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: h_hostile MODE [-- CMD ARGS...]\n"
          "modes: flood silent bigline deepnest badutf8 diemid ignoreterm forker\n"
          "       stderrflood crashsig banner\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    /* Remember the argv strings area for become_kid(), if it is contiguous (it is on Linux). */
    int contiguous = 1;
    for (int i = 1; i < argc; i++)
        if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1)
            contiguous = 0;
    if (contiguous) {
        g_argv_area = argv[0];
        g_argv_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
    }

    const char *mode = argv[1];
    char **cmd = NULL;
    if (argc > 2) {
        if (strcmp(argv[2], "--") != 0)
            usage();
        cmd = argv + 3;
    }

    arm_lifetime();

    if (strcmp(mode, "flood") == 0)
        mode_flood();
    else if (strcmp(mode, "silent") == 0)
        mode_silent();
    else if (strcmp(mode, "bigline") == 0)
        mode_bigline();
    else if (strcmp(mode, "deepnest") == 0)
        mode_deepnest();
    else if (strcmp(mode, "badutf8") == 0)
        mode_badutf8();
    else if (strcmp(mode, "diemid") == 0)
        mode_diemid();
    else if (strcmp(mode, "ignoreterm") == 0)
        mode_ignoreterm();
    else if (strcmp(mode, "forker") == 0)
        mode_forker();
    else if (strcmp(mode, "stderrflood") == 0)
        mode_stderrflood(cmd);
    else if (strcmp(mode, "crashsig") == 0)
        mode_crashsig();
    else if (strcmp(mode, "banner") == 0)
        mode_banner();
    else
        usage();
    return 0;
}

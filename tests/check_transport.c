/* Unit tests for harness/transport_stdio.c: spawn, bounded newline framing, deadlines, stderr drain,
 * TERM→KILL teardown, process-group and subreaper clean-up.
 *
 * The children are /bin/sh one-liners and coreutils, so every test is quick (well under 2 s).
 * Time bounds asserted here are bounds on a hang, not performance claims.
 *
 * Note on the fixture: PR_SET_CHILD_SUBREAPER is not inherited across fork(), and Check runs each
 * test in a forked child, so mcpc_stdio_global_init() is called in a checked fixture (inside the
 * test process), not once in main(). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "transport_stdio.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* Sessions still open. cleanup_live() runs from the fixture teardown and atexit (CK_FORK=no);
 * a failed assertion in fork mode _exit()s without either, so tests that are expected to fail
 * (the "exposes bug" ones) free their session before asserting. */
static mcpc_stdio *live[8];

static void track(mcpc_stdio *s)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (!live[i]) {
            live[i] = s;
            return;
        }
}

/* Stop and free a session made by spawn_sh. */
static void done(mcpc_stdio *s)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] == s)
            live[i] = NULL;
    mcpc_stdio_free(s);
}

static void cleanup_live(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        mcpc_stdio_free(live[i]);
        live[i] = NULL;
    }
}

static void setup(void)
{
    struct rlimit no_core = {0, 0};
    static int registered;
    if (!registered++)
        atexit(cleanup_live);
    mcpc_stdio_global_init();
    (void)setrlimit(RLIMIT_CORE, &no_core);   /* the SEGV test must not leave core files */
}

static void teardown(void)
{
    cleanup_live();
    /* a test may close fd 0 on purpose; give it back so later tests (CK_FORK=no) are unaffected */
    if (fcntl(0, F_GETFD) < 0 && errno == EBADF) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd > 0) {
            dup2(fd, 0);
            close(fd);
        }
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static mcpc_stdio_limits small_limits(void)
{
    mcpc_stdio_limits lim;
    mcpc_stdio_limits_default(&lim);
    lim.max_line = 1024;
    lim.term_grace_ms = 200;
    return lim;
}

/* Spawn `/bin/sh -c script`; the test fails when that does not work. */
static mcpc_stdio *spawn_sh(const char *script, const mcpc_stdio_limits *lim)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    char err[256] = "";
    mcpc_stdio *s = NULL;
    mcpc_err rc = mcpc_stdio_spawn(argv, NULL, lim, &s, err, sizeof err);
    ck_assert_msg(rc == MCPC_OK, "spawn of sh -c '%s' failed: %d %s", script, (int)rc, err);
    ck_assert_ptr_nonnull(s);
    track(s);
    ck_assert_int_gt(mcpc_stdio_pid(s), 0);
    return s;
}

/* Read one line and require it to be exactly `want`. */
static void expect_line(mcpc_stdio *s, const char *want, int ms)
{
    const char *line = NULL;
    size_t len = 0;
    mcpc_err rc = mcpc_stdio_read_line(s, ms, &line, &len);
    ck_assert_msg(rc == MCPC_OK, "read_line: rc %d (%s), wanted \"%s\"", (int)rc, mcpc_strerror(rc), want);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_msg(memcmp(line, want, len) == 0, "got \"%.*s\", wanted \"%s\"", (int)len, line, want);
}

/* Read one line holding a decimal pid. */
static pid_t read_pid(mcpc_stdio *s)
{
    const char *line = NULL;
    size_t len = 0;
    char tmp[32];
    mcpc_err rc = mcpc_stdio_read_line(s, 1500, &line, &len);
    ck_assert_msg(rc == MCPC_OK, "no pid line: rc %d", (int)rc);
    ck_assert(len > 0 && len < sizeof tmp);
    memcpy(tmp, line, len);
    tmp[len] = '\0';
    long v = strtol(tmp, NULL, 10);
    ck_assert_msg(v > 1, "bad pid line \"%s\"", tmp);
    return (pid_t)v;
}

/* The process does not exist at all (not even as a zombie). */
static int pid_gone(pid_t pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

/* We have no children left: nothing running, nothing unreaped. */
static int no_children(void)
{
    int st;
    return waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

/* Parent pid of pid from /proc, -1 when unknown. */
static long ppid_of(pid_t pid)
{
    char path[64], buf[512];
    long ppid = -1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1)
        return -1;
    return ppid;
}

/* Open file descriptors of this process. */
static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the directory stream itself */
}

static char *repeat_char(char c, size_t n, const char *suffix)
{
    size_t sl = strlen(suffix);
    char *p = malloc(n + sl + 1);
    ck_assert_ptr_nonnull(p);
    memset(p, c, n);
    memcpy(p + n, suffix, sl + 1);
    return p;
}

/* ---- spawn -------------------------------------------------------------------------------- */

START_TEST(test_spawn_missing_command)
{
    char *argv[] = {"mcpcert-no-such-command-4711", "--flag", NULL};
    char err[256] = "";
    mcpc_stdio *s = (mcpc_stdio *)0x1;
    int fds = count_fds();
    mcpc_err rc = mcpc_stdio_spawn(argv, NULL, NULL, &s, err, sizeof err);
    ck_assert_int_eq(rc, MCPC_ERR_SPAWN);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "mcpcert-no-such-command-4711") != NULL, "error text \"%s\"", err);
    ck_assert_msg(strstr(err, "No such file") != NULL, "error text \"%s\" lacks the cause", err);
    ck_assert_msg(no_children(), "a child is left behind after a failed spawn");
    /* regression (fixed): transport_stdio.c mcpc_stdio_spawn() leaks the three parent-side pipe fds when
     * exec fails. By line 141-144 they have moved into s->in_fd/out_fd/err_fd and the in_p/out_p/
     * err_p copies are -1; the error path then sets s->stopped = 1 (line 169) before
     * mcpc_stdio_free(), so mcpc_stdio_stop() returns at once ("if (!s || s->stopped)", line 458)
     * and never closes them. Every failed spawn costs 3 descriptors. */
    ck_assert_msg(count_fds() == fds, "failed spawn leaked %d file descriptor(s)", count_fds() - fds);
}
END_TEST

START_TEST(test_spawn_not_executable)
{
    /* a plain file without execute permission (even root cannot exec it): EACCES */
    char path[] = "/tmp/mcpc-check-noexec-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "echo hi\n", 8), 8);
    close(fd);
    ck_assert_int_eq(chmod(path, 0644), 0);
    char *argv[] = {path, NULL};
    char err[256] = "";
    mcpc_stdio *s = NULL;
    int fds = count_fds();
    mcpc_err rc = mcpc_stdio_spawn(argv, NULL, NULL, &s, err, sizeof err);
    unlink(path);
    ck_assert_int_eq(rc, MCPC_ERR_SPAWN);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, path) != NULL, "error text \"%s\"", err);
    ck_assert_msg(strstr(err, "ermission") != NULL, "error text \"%s\" lacks the cause", err);
    ck_assert_msg(no_children(), "a child is left behind after a failed spawn");
    ck_assert_int_eq(count_fds(), fds); /* regression (fixed): see test_spawn_missing_command */
}
END_TEST

START_TEST(test_spawn_no_argv)
{
    char *argv[] = {NULL};
    char err[64] = "";
    mcpc_stdio *s = (mcpc_stdio *)0x1;
    ck_assert_int_eq(mcpc_stdio_spawn(argv, NULL, NULL, &s, err, sizeof err), MCPC_ERR_USAGE);
    ck_assert_ptr_null(s);
    ck_assert_str_ne(err, "");
    s = (mcpc_stdio *)0x1;
    ck_assert_int_eq(mcpc_stdio_spawn(NULL, NULL, NULL, &s, err, sizeof err), MCPC_ERR_USAGE);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_spawn_env_and_group)
{
    char *argv[] = {"/bin/sh", "-c", "echo \"$MCPC_T_FOO\"", NULL};
    char *env[] = {"MCPC_T_FOO=bar baz", NULL};
    char err[256] = "";
    mcpc_stdio *s = NULL;
    ck_assert_int_eq(mcpc_stdio_spawn(argv, env, NULL, &s, err, sizeof err), MCPC_OK);
    track(s);
    /* its own process group, led by itself (set on both sides of the fork) */
    pid_t pgid = getpgid(mcpc_stdio_pid(s));
    ck_assert_msg(pgid == mcpc_stdio_pid(s) || pgid == -1, "child pgid %d, pid %d", (int)pgid,
                  (int)mcpc_stdio_pid(s));
    ck_assert_int_ne(getpgrp(), mcpc_stdio_pid(s));
    expect_line(s, "bar baz", 1500);
    ck_assert_ptr_null(getenv("MCPC_T_FOO"));   /* our environment is untouched */
    done(s);
    ck_assert(no_children());
}
END_TEST

START_TEST(test_global_init_effects)
{
    struct sigaction sa;
    int sub = 0;
    ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
    ck_assert_msg(sa.sa_handler == SIG_IGN, "SIGPIPE is not ignored after mcpc_stdio_global_init");
    ck_assert_int_eq(prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0), 0);
    ck_assert_int_eq(sub, 1);
    /* the child gets SIGPIPE back at its default: `yes` into a closed pipe dies of it */
    mcpc_stdio *s = spawn_sh("yes | head -c 1 >/dev/null; kill -0 $$; echo ok", NULL);
    expect_line(s, "ok", 1500);
    done(s);
}
END_TEST

/* ---- framing ------------------------------------------------------------------------------ */

START_TEST(test_echo_round_trip)
{
    mcpc_stdio *s = spawn_sh("exec cat", NULL);
    const char *line;
    size_t len;
    ck_assert_int_eq(mcpc_stdio_write(s, "hello\n", 6, 1000), MCPC_OK);
    expect_line(s, "hello", 1500);
    /* two lines in one write come back as two reads */
    ck_assert_int_eq(mcpc_stdio_write(s, "{\"a\":1}\n{\"b\":2}\n", 16, 1000), MCPC_OK);
    expect_line(s, "{\"a\":1}", 1500);
    expect_line(s, "{\"b\":2}", 1500);
    /* an empty line is a line */
    ck_assert_int_eq(mcpc_stdio_write(s, "\n", 1, 1000), MCPC_OK);
    expect_line(s, "", 1500);
    /* a line arriving in pieces is assembled */
    ck_assert_int_eq(mcpc_stdio_write(s, "par", 3, 1000), MCPC_OK);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 100, &line, &len), MCPC_ERR_TIMEOUT);
    ck_assert_ptr_null(line);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(mcpc_stdio_write(s, "tial\n", 5, 1000), MCPC_OK);
    expect_line(s, "partial", 1500);
    ck_assert_uint_eq(mcpc_stdio_stdout_total(s), 6 + 16 + 1 + 8);
    ck_assert_int_eq(mcpc_stdio_flooded(s), 0);
    ck_assert_str_eq(mcpc_stdio_exit_text(s, NULL), "running");
    ck_assert_int_eq(mcpc_stdio_exited(s), 0);
    done(s);
    ck_assert(no_children());
}
END_TEST

START_TEST(test_line_exactly_max)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("exec cat", &lim);
    char *exact = repeat_char('a', 1024, "\n");
    const char *line;
    size_t len;
    ck_assert_int_eq(mcpc_stdio_write(s, exact, 1025, 1000), MCPC_OK);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_OK);
    ck_assert_uint_eq(len, 1024);
    ck_assert(memcmp(line, exact, 1024) == 0);
    /* the same line arriving in two pieces: 1000 bytes buffered is not yet too long */
    ck_assert_int_eq(mcpc_stdio_write(s, exact, 1000, 1000), MCPC_OK);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 150, &line, &len), MCPC_ERR_TIMEOUT);
    ck_assert_int_eq(mcpc_stdio_write(s, exact + 1000, 25, 1000), MCPC_OK);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_OK);
    ck_assert_uint_eq(len, 1024);
    ck_assert(memcmp(line, exact, 1024) == 0);
    ck_assert_int_eq(mcpc_stdio_flooded(s), 0);
    free(exact);
    done(s);
}
END_TEST

/* regression (fixed): transport_stdio.c mcpc_stdio_read_line() returns a line as MCPC_OK whenever its
 * '\n' is already in the buffer ("else if (nl)", line 340-344) without comparing its length to
 * max_line; the max_line check (line 345) only runs while no newline has arrived yet. A 1025-byte
 * line delivered in one read with max_line 1024 comes back MCPC_OK, len 1025 (anything up to
 * max_line + 64 KiB can get through this way). */
START_TEST(test_line_one_over_max_one_write)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("exec cat", &lim);
    char *over = repeat_char('b', 1025, "\nnext\n");
    const char *line;
    size_t len;
    ck_assert_int_eq(mcpc_stdio_write(s, over, strlen(over), 1000), MCPC_OK);
    free(over);
    mcpc_err rc = mcpc_stdio_read_line(s, 1500, &line, &len);
    size_t first_len = len;
    mcpc_err rc2 = mcpc_stdio_read_line(s, 1500, &line, &len);
    int next_ok = rc2 == MCPC_OK && len == 4 && memcmp(line, "next", 4) == 0;
    done(s);   /* before asserting: a failed assertion leaves the forked test without clean-up */
    ck_assert_msg(rc == MCPC_ERR_TOO_BIG, "a 1025-byte line with max_line 1024: rc %d (%s), len %zu",
                  (int)rc, mcpc_strerror(rc), first_len);
    ck_assert_uint_eq(first_len, 1025);
    ck_assert_msg(next_ok, "the line after the over-long one was not read back");
}
END_TEST

/* One byte over, arriving before its newline: the path where the bound is enforced today. */
START_TEST(test_line_one_over_max_split)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("exec cat", &lim);
    char *over = repeat_char('c', 1025, "");
    const char *line;
    size_t len;
    ck_assert_int_eq(mcpc_stdio_write(s, over, 1025, 1000), MCPC_OK);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 200, &line, &len), MCPC_ERR_TIMEOUT);
    ck_assert_int_eq(mcpc_stdio_write(s, "\nnext\n", 6, 1000), MCPC_OK);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_TOO_BIG);
    ck_assert_uint_eq(len, 1025);
    ck_assert_int_eq(mcpc_stdio_flooded(s), 0);
    expect_line(s, "next", 1500);
    free(over);
    done(s);
}
END_TEST

/* A line far longer than the buffer is skipped without being kept; the next line is intact. */
START_TEST(test_line_huge_then_next)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("head -c 300000 /dev/zero | tr '\\0' a; echo; echo next; echo after", &lim);
    const char *line;
    size_t len;
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_TOO_BIG);
    ck_assert_uint_eq(len, 300000);
    ck_assert_int_eq(mcpc_stdio_flooded(s), 0);
    expect_line(s, "next", 1500);
    expect_line(s, "after", 1500);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_EOF);
    ck_assert_uint_eq(len, 0);
    done(s);
}
END_TEST

START_TEST(test_flood_lines)
{
    mcpc_stdio_limits lim = small_limits();
    lim.max_total = 1u << 20;
    /* endless 64-byte lines (63 + '\n') */
    mcpc_stdio *s = spawn_sh("exec yes 012345678901234567890123456789012345678901234567890123456789012", &lim);
    const char *line;
    size_t len, lines = 0, bad = 0;
    mcpc_err rc;
    int64_t t0 = mcpc_clock_ms();
    /* no ck_assert inside the loop: each one is a message to the Check parent */
    while ((rc = mcpc_stdio_read_line(s, 1000, &line, &len)) == MCPC_OK) {
        bad += len != 63;
        if (++lines % 1024 == 0 && mcpc_clock_ms() - t0 > 3000)
            break;
    }
    ck_assert_msg(rc == MCPC_ERR_TOO_BIG, "flood not detected after %zu lines: rc %d", lines, (int)rc);
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(mcpc_stdio_flooded(s), 1);
    ck_assert_uint_gt(mcpc_stdio_stdout_total(s), lim.max_total);
    ck_assert_uint_le(mcpc_stdio_stdout_total(s), lim.max_total + (512u << 10));
    /* the lines that fit the bound were all delivered before the flood was reported */
    ck_assert_uint_ge(lines * 64, lim.max_total - (256u << 10));
    ck_assert_uint_le(lines * 64, mcpc_stdio_stdout_total(s));
    /* it stays flooded, and asking again does not block */
    t0 = mcpc_clock_ms();
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1000, &line, &len), MCPC_ERR_TOO_BIG);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 500);
    done(s);
    ck_assert(no_children());
}
END_TEST

START_TEST(test_flood_one_endless_line)
{
    mcpc_stdio_limits lim = small_limits();
    lim.max_total = 1u << 20;
    mcpc_stdio *s = spawn_sh("exec tr '\\0' z </dev/zero", &lim);
    const char *line;
    size_t len;
    mcpc_err rc;
    int64_t t0 = mcpc_clock_ms();
    do
        rc = mcpc_stdio_read_line(s, 1500, &line, &len);
    while (rc == MCPC_ERR_TOO_BIG && !mcpc_stdio_flooded(s) && mcpc_clock_ms() - t0 < 3000);
    ck_assert_int_eq(rc, MCPC_ERR_TOO_BIG);
    ck_assert_int_eq(mcpc_stdio_flooded(s), 1);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 3000);
    ck_assert_uint_le(mcpc_stdio_stdout_total(s), lim.max_total + (512u << 10));
    done(s);
}
END_TEST

START_TEST(test_read_timeout)
{
    mcpc_stdio *s = spawn_sh("exec sleep 5", NULL);
    const char *line = (const char *)0x1;
    size_t len = 99;
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(mcpc_stdio_read_line(s, 200, &line, &len), MCPC_ERR_TIMEOUT);
    int64_t took = mcpc_clock_ms() - t0;
    ck_assert_int_ge(took, 190);
    ck_assert_int_lt(took, 1500);
    ck_assert_ptr_null(line);
    ck_assert_uint_eq(len, 0);
    done(s);
    ck_assert(no_children());
}
END_TEST

/* regression (fixed): transport_stdio.c mcpc_stdio_read_line() line 365-367: with timeout_ms 0 (which
 * session.c:141 passes once its own deadline is used up) it returns MCPC_ERR_TIMEOUT before ever
 * polling or reading the pipe, so a line that is already waiting there is reported as "nothing
 * arrived". A zero timeout should still do one non-blocking poll/read. */
START_TEST(test_read_zero_timeout_sees_waiting_line)
{
    mcpc_stdio *s = spawn_sh("echo ready; exec sleep 5", NULL);
    const char *line;
    size_t len;
    sleep_ms(200);   /* "ready\n" is in the pipe by now */
    mcpc_err rc = mcpc_stdio_read_line(s, 0, &line, &len);
    done(s);
    ck_assert_msg(rc == MCPC_OK, "read_line(timeout 0) with a line waiting: rc %d (%s)", (int)rc,
                  mcpc_strerror(rc));
    ck_assert_uint_eq(len, 5);
}
END_TEST

START_TEST(test_eof_partial_line)
{
    mcpc_stdio *s = spawn_sh("printf abc", NULL);
    const char *line;
    size_t len;
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_EOF);
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_nonnull(line);
    ck_assert(memcmp(line, "abc", 3) == 0);
    /* and EOF again, now empty, without blocking */
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1000, &line, &len), MCPC_ERR_EOF);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 500);
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    done(s);
}
END_TEST

START_TEST(test_eof_after_lines)
{
    mcpc_stdio *s = spawn_sh("echo one; echo two", NULL);
    const char *line;
    size_t len;
    expect_line(s, "one", 1500);
    expect_line(s, "two", 1500);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_EOF);
    ck_assert_uint_eq(len, 0);
    done(s);
}
END_TEST

/* ---- stderr ------------------------------------------------------------------------------- */

START_TEST(test_stderr_flood_no_deadlock)
{
    mcpc_stdio_limits lim;
    mcpc_stdio_limits_default(&lim);
    lim.stderr_keep = 4096;
    mcpc_stdio *s = spawn_sh("head -c 5000000 /dev/zero | tr '\\0' x >&2; echo done", &lim);
    const char *line;
    size_t len, tlen, total;
    int64_t t0 = mcpc_clock_ms();
    expect_line(s, "done", 2000);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 2000);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_EOF);
    const char *tail = mcpc_stdio_stderr_tail(s, &tlen, &total);
    ck_assert_uint_le(tlen, lim.stderr_keep);
    ck_assert_uint_eq(tlen, lim.stderr_keep);
    ck_assert_uint_eq(total, 5000000);
    size_t i = 0;
    while (i < tlen && tail[i] == 'x')
        i++;
    ck_assert_msg(i == tlen, "tail byte %zu is 0x%02x", i, i < tlen ? (unsigned char)tail[i] : 0);
    done(s);
}
END_TEST

START_TEST(test_stderr_tail_ring)
{
    mcpc_stdio_limits lim;
    mcpc_stdio_limits_default(&lim);
    lim.stderr_keep = 10;
    mcpc_stdio *s = spawn_sh("printf abcdefgh >&2; sleep 0.1; printf ijklmnop >&2; sleep 0.1; echo done", &lim);
    const char *line;
    size_t len, tlen, total;
    expect_line(s, "done", 2000);
    ck_assert_int_eq(mcpc_stdio_read_line(s, 1500, &line, &len), MCPC_ERR_EOF);
    const char *tail = mcpc_stdio_stderr_tail(s, &tlen, &total);
    ck_assert_uint_eq(total, 16);
    ck_assert_uint_eq(tlen, 10);
    ck_assert(memcmp(tail, "ghijklmnop", 10) == 0);
    /* asking twice is fine (the linear copy is replaced, not leaked) */
    tail = mcpc_stdio_stderr_tail(s, &tlen, NULL);
    ck_assert_uint_eq(tlen, 10);
    ck_assert(memcmp(tail, "ghijklmnop", 10) == 0);
    done(s);
}
END_TEST

START_TEST(test_stderr_keep_zero)
{
    mcpc_stdio_limits lim;
    mcpc_stdio_limits_default(&lim);
    lim.stderr_keep = 0;
    mcpc_stdio *s = spawn_sh("printf 12345 >&2; sleep 0.1; echo done", &lim);
    size_t tlen = 99, total = 0;
    expect_line(s, "done", 2000);
    const char *tail = mcpc_stdio_stderr_tail(s, &tlen, &total);
    ck_assert_ptr_nonnull(tail);
    ck_assert_uint_eq(tlen, 0);
    ck_assert_uint_eq(total, 5);
    done(s);
}
END_TEST

/* regression (fixed): transport_stdio.c mcpc_stdio_stop() line 473-474 closes the stderr pipe without a
 * last drain, and wait_exit/try_reap do not drain once the child is reaped. Whatever the child
 * wrote to stderr after our last poll (typically its dying words: a panic message, an ASan report)
 * is dropped, and runner.c reads the tail only after stop. Child: `echo boom >&2; exit 3`,
 * nothing polled before stop: tail total 0 instead of 5. */
START_TEST(test_stderr_kept_after_exit_and_stop)
{
    mcpc_stdio *s = spawn_sh("echo boom >&2; exit 3", NULL);
    size_t tlen, total;
    sleep_ms(300);
    mcpc_stdio_stop(s);
    const char *tail = mcpc_stdio_stderr_tail(s, &tlen, &total);
    int kept = total == 5 && tlen == 5 && memcmp(tail, "boom\n", 5) == 0;
    done(s);
    ck_assert_msg(kept, "stderr written before exit is lost: total %zu, kept %zu", total, tlen);
}
END_TEST

/* ---- writing ------------------------------------------------------------------------------ */

START_TEST(test_write_to_exited_child)
{
    mcpc_stdio *s = spawn_sh("exit 0", NULL);
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    /* the read end is gone: EPIPE, reported as an error, and SIGPIPE does not kill us */
    mcpc_err rc = mcpc_stdio_write(s, "x\n", 2, 200);
    ck_assert_msg(rc == MCPC_ERR_EOF || rc == MCPC_ERR_IO, "write to a dead child: rc %d", (int)rc);
    rc = mcpc_stdio_write(s, "again\n", 6, 200);
    ck_assert_msg(rc == MCPC_ERR_EOF || rc == MCPC_ERR_IO, "second write: rc %d", (int)rc);
    done(s);
}
END_TEST

START_TEST(test_write_child_closed_stdin)
{
    mcpc_stdio *s = spawn_sh("exec 0<&-; echo closed; exec sleep 5", NULL);
    expect_line(s, "closed", 1500);
    mcpc_err rc = mcpc_stdio_write(s, "x\n", 2, 200);
    ck_assert_msg(rc == MCPC_ERR_EOF || rc == MCPC_ERR_IO, "write to a closed stdin: rc %d", (int)rc);
    done(s);
}
END_TEST

START_TEST(test_write_after_close_stdin)
{
    mcpc_stdio *s = spawn_sh("exec cat", NULL);
    mcpc_stdio_close_stdin(s);
    mcpc_stdio_close_stdin(s);   /* idempotent */
    ck_assert_int_eq(mcpc_stdio_write(s, "x\n", 2, 200), MCPC_ERR_EOF);
    ck_assert_int_eq(mcpc_stdio_write(s, "", 0, 200), MCPC_OK);   /* nothing to write */
    done(s);
}
END_TEST

START_TEST(test_write_timeout_child_not_reading)
{
    mcpc_stdio *s = spawn_sh("exec sleep 5", NULL);
    size_t n = 1u << 20;
    char *big = repeat_char('q', n, "");
    int64_t t0 = mcpc_clock_ms();
    ck_assert_int_eq(mcpc_stdio_write(s, big, n, 200), MCPC_ERR_TIMEOUT);
    int64_t took = mcpc_clock_ms() - t0;
    ck_assert_int_ge(took, 190);
    ck_assert_int_lt(took, 1500);
    free(big);
    done(s);
}
END_TEST

/* A large write to a child that echoes it back: write keeps draining stdout, so no deadlock. */
START_TEST(test_write_large_while_child_echoes)
{
    mcpc_stdio *s = spawn_sh("exec cat", NULL);
    size_t nlines = 20000, linelen = 50;   /* ~1 MB: more than all pipe buffers together */
    char *buf = malloc(nlines * linelen);
    const char *line;
    size_t len;
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < nlines; i++) {
        memset(buf + i * linelen, 'a' + (int)(i % 26), linelen - 1);
        buf[i * linelen + linelen - 1] = '\n';
    }
    ck_assert_int_eq(mcpc_stdio_write(s, buf, nlines * linelen, 2000), MCPC_OK);
    size_t got = 0;
    for (; got < nlines; got++) {
        if (mcpc_stdio_read_line(s, 1500, &line, &len) != MCPC_OK || len != linelen - 1 ||
            line[0] != 'a' + (int)(got % 26) || line[len - 1] != line[0])
            break;
    }
    ck_assert_msg(got == nlines, "echoed line %zu is wrong or missing", got);
    ck_assert_uint_eq(mcpc_stdio_stdout_total(s), nlines * linelen);
    free(buf);
    done(s);
}
END_TEST

/* ---- exit --------------------------------------------------------------------------------- */

START_TEST(test_close_stdin_wait_exit)
{
    mcpc_stdio *s = spawn_sh("exec cat", NULL);
    int crashed = 7;
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 100), MCPC_ERR_TIMEOUT);
    ck_assert_int_eq(mcpc_stdio_exited(s), 0);
    int64_t t0 = mcpc_clock_ms();
    mcpc_stdio_close_stdin(s);
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 1000);
    ck_assert_int_eq(mcpc_stdio_exited(s), 1);
    ck_assert_str_eq(mcpc_stdio_exit_text(s, &crashed), "exited with status 0");
    ck_assert_int_eq(crashed, 0);
    done(s);
    ck_assert(no_children());
}
END_TEST

START_TEST(test_exit_status_text)
{
    mcpc_stdio *s = spawn_sh("exit 3", NULL);
    int crashed = 0;
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    ck_assert_str_eq(mcpc_stdio_exit_text(s, &crashed), "exited with status 3");
    ck_assert_int_eq(crashed, 1);
    ck_assert_str_eq(mcpc_stdio_exit_text(s, NULL), "exited with status 3");   /* NULL crashed ok */
    mcpc_stdio_stop(s);   /* stopping an exited child does not turn it into "we killed it" */
    crashed = 0;
    ck_assert_str_eq(mcpc_stdio_exit_text(s, &crashed), "exited with status 3");
    ck_assert_int_eq(crashed, 1);
    done(s);
}
END_TEST

START_TEST(test_exit_signal_text)
{
    mcpc_stdio *s = spawn_sh("kill -SEGV $$", NULL);
    int crashed = 0;
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    const char *t = mcpc_stdio_exit_text(s, &crashed);
    ck_assert_msg(strstr(t, "signal 11") != NULL, "exit text \"%s\"", t);
    ck_assert_msg(strstr(t, "SEGV") != NULL, "exit text \"%s\" does not name SEGV", t);
    ck_assert_msg(strstr(t, "mcpcert") == NULL, "exit text \"%s\" claims we sent it", t);
    ck_assert_int_eq(crashed, 1);
    done(s);
}
END_TEST

START_TEST(test_exit_zero_not_crashed)
{
    mcpc_stdio *s = spawn_sh("exit 0", NULL);
    int crashed = 1;
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    ck_assert_str_eq(mcpc_stdio_exit_text(s, &crashed), "exited with status 0");
    ck_assert_int_eq(crashed, 0);
    done(s);
}
END_TEST

/* ---- teardown ----------------------------------------------------------------------------- */

START_TEST(test_stop_polite_child)
{
    mcpc_stdio_limits lim = small_limits();
    lim.term_grace_ms = 1000;
    mcpc_stdio *s = spawn_sh("exec sleep 30", &lim);
    pid_t pid = mcpc_stdio_pid(s);
    int crashed = 1;
    int64_t t0 = mcpc_clock_ms();
    mcpc_stdio_stop(s);
    ck_assert_int_lt(mcpc_clock_ms() - t0, 800);   /* died of TERM: no need to wait the grace */
    const char *t = mcpc_stdio_exit_text(s, &crashed);
    ck_assert_msg(strstr(t, "signal 15") != NULL && strstr(t, "mcpcert") != NULL, "exit text \"%s\"", t);
    ck_assert_int_eq(crashed, 0);
    ck_assert(pid_gone(pid));
    mcpc_stdio_stop(s);   /* idempotent */
    done(s);
    mcpc_stdio_free(NULL);
    mcpc_stdio_stop(NULL);
    ck_assert(no_children());
}
END_TEST

START_TEST(test_stop_ignores_term)
{
    mcpc_stdio_limits lim = small_limits();   /* term_grace_ms 200 */
    mcpc_stdio *s = spawn_sh("trap '' TERM; echo ready; sleep 30", &lim);
    pid_t pid = mcpc_stdio_pid(s);
    int crashed = 1;
    expect_line(s, "ready", 1500);   /* the trap is in place */
    int64_t t0 = mcpc_clock_ms();
    mcpc_stdio_stop(s);
    int64_t took = mcpc_clock_ms() - t0;
    ck_assert_int_ge(took, 150);      /* it did wait the grace ... */
    ck_assert_int_lt(took, 1500);     /* ... and no longer than grace + margin */
    const char *t = mcpc_stdio_exit_text(s, &crashed);
    ck_assert_msg(strstr(t, "signal 9") != NULL, "exit text \"%s\"", t);
    ck_assert_msg(strstr(t, "sent by mcpcert") != NULL, "exit text \"%s\"", t);
    ck_assert_int_eq(crashed, 0);
    ck_assert(pid_gone(pid));
    ck_assert(no_children());
    done(s);
}
END_TEST

START_TEST(test_stop_kills_group)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("sleep 30 & echo $!; wait", &lim);
    pid_t child = mcpc_stdio_pid(s);
    pid_t gpid = read_pid(s);
    ck_assert_int_eq(kill(gpid, 0), 0);
    ck_assert_int_eq(getpgid(gpid), child);   /* the grandchild is in the child's group */
    mcpc_stdio_stop(s);
    /* not running, and not a zombie either: as subreaper we were its new parent and reaped it */
    ck_assert_msg(pid_gone(gpid), "grandchild %d still exists after stop", (int)gpid);
    ck_assert(pid_gone(child));
    ck_assert(no_children());
    ck_assert_int_eq(mcpc_stdio_reap_orphans(), 0);
    done(s);
}
END_TEST

/* The grandchild leaves the group with setsid while its parent (the child) is still alive. */
START_TEST(test_stop_kills_setsid_escapee)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("setsid sleep 30 & echo $!; wait", &lim);
    pid_t child = mcpc_stdio_pid(s);
    pid_t epid = read_pid(s);
    int64_t t0 = mcpc_clock_ms();
    while (getpgid(epid) != epid && mcpc_clock_ms() - t0 < 1500)
        sleep_ms(10);
    ck_assert_msg(getpgid(epid) == epid, "escapee %d did not get its own group", (int)epid);
    ck_assert_int_ne(getpgid(epid), child);
    mcpc_stdio_stop(s);
    ck_assert_msg(pid_gone(epid), "escaped process %d survived stop", (int)epid);
    ck_assert(no_children());
    done(s);
}
END_TEST

/* Double fork: the intermediate exits at once, so the escapee is already re-parented to us. */
START_TEST(test_stop_kills_double_fork_escapee)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("(setsid sleep 30 & echo $!); exec sleep 30", &lim);
    pid_t epid = read_pid(s);
    int64_t t0 = mcpc_clock_ms();
    while ((getpgid(epid) != epid || ppid_of(epid) != (long)getpid()) && mcpc_clock_ms() - t0 < 1500)
        sleep_ms(10);
    ck_assert_msg(getpgid(epid) == epid, "escapee %d did not get its own group", (int)epid);
    ck_assert_msg(ppid_of(epid) == (long)getpid(), "escapee %d has parent %ld, not us (subreaper)",
                  (int)epid, ppid_of(epid));
    mcpc_stdio_stop(s);
    ck_assert_msg(pid_gone(epid), "escaped process %d survived stop", (int)epid);
    ck_assert(no_children());
    done(s);
}
END_TEST

START_TEST(test_reap_orphans_direct)
{
    /* an orphan of a finished session is still caught by a bare reap_orphans */
    mcpc_stdio *s = spawn_sh("(setsid sleep 30 & echo $!); exit 0", NULL);
    pid_t epid = read_pid(s);
    ck_assert_int_eq(mcpc_stdio_wait_exit(s, 1000), MCPC_OK);
    int64_t t0 = mcpc_clock_ms();
    while (ppid_of(epid) != (long)getpid() && mcpc_clock_ms() - t0 < 1500)
        sleep_ms(10);
    ck_assert_int_eq(mcpc_stdio_reap_orphans(), 1);
    ck_assert(pid_gone(epid));
    ck_assert(no_children());
    done(s);
}
END_TEST

/* regression (fixed): transport_stdio.c mcpc_stdio_reap_orphans() (line 442-446: any pid whose ppid is
 * us gets SIGKILL + waitpid), called from every mcpc_stdio_stop(), also kills and reaps the live,
 * directly spawned child of another mcpc_stdio session. Stopping session A kills session B's
 * `cat`; B then reads EOF, and because B's child was reaped behind its back, try_reap's ECHILD
 * fallback (line 387-390) reports it as "exited with status 0" instead of a kill. */
START_TEST(test_two_sessions_stop_one)
{
    mcpc_stdio *a = spawn_sh("exec cat", NULL);
    mcpc_stdio *b = spawn_sh("exec cat", NULL);
    pid_t bpid = mcpc_stdio_pid(b);
    const char *line = NULL;
    size_t len = 0;
    mcpc_stdio_stop(a);
    int b_alive = kill(bpid, 0) == 0;
    mcpc_err wr = mcpc_stdio_write(b, "ping\n", 5, 500);
    mcpc_err rd = wr == MCPC_OK ? mcpc_stdio_read_line(b, 1500, &line, &len) : wr;
    int echoed = rd == MCPC_OK && len == 4 && memcmp(line, "ping", 4) == 0;
    const char *bexit = mcpc_stdio_exit_text(b, NULL);
    char btext[96];
    snprintf(btext, sizeof btext, "%s", bexit);
    done(a);
    done(b);
    ck_assert_msg(b_alive, "stopping session A killed session B's child (B now says \"%s\")", btext);
    ck_assert_msg(echoed, "session B no longer echoes: write rc %d, read rc %d", (int)wr, (int)rd);
    ck_assert(no_children());
}
END_TEST

/* regression (fixed): transport_stdio.c mcpc_stdio_wait_exit() line 408-410 ("s->start = s->end",
 * "nobody will read it now") throws away buffered stdout when more than max_line bytes are
 * unread, without entering the discarding state. Complete lines in the buffer are silently lost,
 * and the tail of an over-long line that arrives afterwards is returned by read_line as if it
 * were a whole, valid line. Here: a 2000-byte line (max_line 1024) is buffered when
 * wait_exit(150) times out; the next read_line returns MCPC_OK "tail" instead of
 * MCPC_ERR_TOO_BIG (len 2004). */
START_TEST(test_wait_exit_keeps_framing)
{
    mcpc_stdio_limits lim = small_limits();
    mcpc_stdio *s = spawn_sh("head -c 2000 /dev/zero | tr '\\0' a; sleep 0.3; echo tail; exec sleep 5", &lim);
    const char *line;
    size_t len;
    mcpc_err wrc = mcpc_stdio_wait_exit(s, 150);
    mcpc_err rc = mcpc_stdio_read_line(s, 1500, &line, &len);
    char got[64] = "";
    if (rc == MCPC_OK)
        snprintf(got, sizeof got, "%.*s", (int)(len < 40 ? len : 40), line);
    done(s);
    ck_assert_int_eq(wrc, MCPC_ERR_TIMEOUT);
    ck_assert_msg(rc == MCPC_ERR_TOO_BIG, "fragment of an over-long line returned as rc %d \"%s\"",
                  (int)rc, got);
    ck_assert_uint_eq(len, 2004);
}
END_TEST

/* regression (fixed): transport_stdio.c mcpc_stdio_child() line 81: when the parent runs with fd 0
 * closed, pipe2() hands out fd 0 as the read end of the stdin pipe; dup2(0, 0) is then a no-op
 * that leaves O_CLOEXEC set, so exec closes the child's stdin and it can read nothing. (The same
 * applies to out_w == 1 / err_w == 2.) Fix idea: dup the ends above 2 first, or clear FD_CLOEXEC
 * when oldfd == newfd. */
START_TEST(test_spawn_with_fd0_closed)
{
    close(0);
    mcpc_stdio *s = spawn_sh("exec cat", NULL);
    const char *line = NULL;
    size_t len = 0;
    mcpc_err wr = mcpc_stdio_write(s, "hi\n", 3, 500);
    mcpc_err rc = wr == MCPC_OK ? mcpc_stdio_read_line(s, 1500, &line, &len) : wr;
    int echoed = rc == MCPC_OK && len == 2 && memcmp(line, "hi", 2) == 0;
    done(s);
    ck_assert_msg(echoed,
                  "echo through a child spawned while our fd 0 was closed: write rc %d, read rc %d (%s)",
                  (int)wr, (int)rc, mcpc_strerror(rc));
}
END_TEST

/* ---- main --------------------------------------------------------------------------------- */

static Suite *transport_suite(void)
{
    Suite *s = suite_create("transport_stdio");
    TCase *tc;

    tc = tcase_create("spawn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_spawn_missing_command);
    tcase_add_test(tc, test_spawn_not_executable);
    tcase_add_test(tc, test_spawn_no_argv);
    tcase_add_test(tc, test_spawn_env_and_group);
    tcase_add_test(tc, test_global_init_effects);
    tcase_add_test(tc, test_spawn_with_fd0_closed);
    suite_add_tcase(s, tc);

    tc = tcase_create("framing");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_echo_round_trip);
    tcase_add_test(tc, test_line_exactly_max);
    tcase_add_test(tc, test_line_one_over_max_one_write);
    tcase_add_test(tc, test_line_one_over_max_split);
    tcase_add_test(tc, test_line_huge_then_next);
    tcase_add_test(tc, test_flood_lines);
    tcase_add_test(tc, test_flood_one_endless_line);
    tcase_add_test(tc, test_read_timeout);
    tcase_add_test(tc, test_read_zero_timeout_sees_waiting_line);
    tcase_add_test(tc, test_eof_partial_line);
    tcase_add_test(tc, test_eof_after_lines);
    tcase_add_test(tc, test_wait_exit_keeps_framing);
    suite_add_tcase(s, tc);

    tc = tcase_create("stderr");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_stderr_flood_no_deadlock);
    tcase_add_test(tc, test_stderr_tail_ring);
    tcase_add_test(tc, test_stderr_keep_zero);
    tcase_add_test(tc, test_stderr_kept_after_exit_and_stop);
    suite_add_tcase(s, tc);

    tc = tcase_create("write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_write_to_exited_child);
    tcase_add_test(tc, test_write_child_closed_stdin);
    tcase_add_test(tc, test_write_after_close_stdin);
    tcase_add_test(tc, test_write_timeout_child_not_reading);
    tcase_add_test(tc, test_write_large_while_child_echoes);
    suite_add_tcase(s, tc);

    tc = tcase_create("exit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_close_stdin_wait_exit);
    tcase_add_test(tc, test_exit_status_text);
    tcase_add_test(tc, test_exit_signal_text);
    tcase_add_test(tc, test_exit_zero_not_crashed);
    suite_add_tcase(s, tc);

    tc = tcase_create("teardown");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_stop_polite_child);
    tcase_add_test(tc, test_stop_ignores_term);
    tcase_add_test(tc, test_stop_kills_group);
    tcase_add_test(tc, test_stop_kills_setsid_escapee);
    tcase_add_test(tc, test_stop_kills_double_fork_escapee);
    tcase_add_test(tc, test_reap_orphans_direct);
    tcase_add_test(tc, test_two_sessions_stop_one);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(transport_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* A driver without a fuzzing engine: runs the linked target once on every file named on the
 * command line, descending into directories, and prints "replayed N inputs". make check links
 * each target with it, so corpora and regressions replay under the build's own flags (and under
 * ASan+UBSan in the sanitizer build).
 *
 *   fuzz_<target> [-v] FILE-OR-DIR...
 *
 * -v names each input before running it. When an input crashes, its path is written to stderr
 * (from the sanitizer's death callback, or from a signal handler in a plain build). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (16u << 20)   /* larger than any corpus file; bounds the read */
#define REPLAY_MAX_DEPTH 16

/* The sanitizer runtimes provide this; weak, so a plain build links without them. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));
/* Targets may omit LLVMFuzzerInitialize, as libFuzzer allows. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static char replay_current[4096];
static int replay_verbose;
static unsigned long replay_count;

/* Name the input being run, with write(2) only: this runs inside a dying process. */
static void replay_say_current(void)
{
    static const char pre[] = "replay: crashed on ";
    if (!replay_current[0])
        return;
    (void)!write(2, pre, sizeof pre - 1);
    (void)!write(2, replay_current, strnlen(replay_current, sizeof replay_current));
    (void)!write(2, "\n", 1);
}

static void replay_on_signal(int sig)
{
    replay_say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Run the target on one file. 0 on success, -1 when the file cannot be read (reported). */
static int replay_file(const char *path, off_t size)
{
    FILE *f = NULL;
    unsigned char *buf = NULL;
    size_t n;
    int rc = -1;

    if (size < 0 || (unsigned long long)size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: larger than %u bytes\n", path, REPLAY_MAX_INPUT);
        return -1;
    }
    f = fopen(path, "rb");
    /* an exact-size heap copy, so ASan sees any read past the end of the input */
    buf = malloc(size ? (size_t)size : 1);
    if (!f || !buf) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    n = fread(buf, 1, (size_t)size, f);
    if (n != (size_t)size) {
        fprintf(stderr, "replay: %s: short read\n", path);
        goto out;
    }
    snprintf(replay_current, sizeof replay_current, "%s", path);
    if (replay_verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, n);
    replay_current[0] = '\0';
    replay_count++;
    rc = 0;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static int replay_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay path: a file, or every file below a directory in name order (dot files skipped, as
 * AFL++ and libFuzzer keep their state in them). Returns the number of unreadable inputs. */
static int replay_path(const char *path, int depth)
{
    struct stat st;
    DIR *d = NULL;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int bad = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? -replay_file(path, st.st_size) : 0;
    if (depth >= REPLAY_MAX_DEPTH) {
        fprintf(stderr, "replay: %s: deeper than %d directories, skipped\n", path, depth);
        return 1;
    }
    d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        char full[4096];
        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= sizeof full) {
            fprintf(stderr, "replay: %s/%s: path too long\n", path, e->d_name);
            bad++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn)
                goto nomem;
            names = nn;
            cap = ncap;
        }
        names[n] = strdup(full);
        if (!names[n])
            goto nomem;
        n++;
    }
    qsort(names, n, sizeof *names, replay_name_cmp);
    for (size_t i = 0; i < n; i++)
        bad += replay_path(names[i], depth + 1);
    goto out;
nomem:
    fprintf(stderr, "replay: out of memory listing %s\n", path);
    bad++;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return bad;
}

int main(int argc, char **argv)
{
    int bad = 0, first = 1;
    static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        replay_verbose = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE-OR-DIR...\n", argv[0]);
        return 2;
    }
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(replay_say_current);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], replay_on_signal);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = first; i < argc; i++)
        bad += replay_path(argv[i], 0);
    printf("replayed %lu inputs\n", replay_count);
    return bad ? 1 : 0;
}

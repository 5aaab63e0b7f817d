/* The libFuzzer entry points every target in fuzz/ defines, and the fixed hash seed they share.
 * The same target object links into three drivers: replay_main.c (make check), libFuzzer and
 * AFL++ (fuzz/build-engine). */
#ifndef MCPC_FUZZ_H
#define MCPC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* jansson seeds its object hash from /dev/urandom by default, so bucket layout (and the code
 * paths a given input takes in the hash table) would differ from run to run; a fixed seed makes
 * coverage, and any crash, reproducible. */
#define MCPC_FUZZ_HASH_SEED 0x6d637063u

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() with a message: an invariant the target states was broken. */
#define MCPC_FUZZ_CHECK(cond, what)                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, (what));      \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif

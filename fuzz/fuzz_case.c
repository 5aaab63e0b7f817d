/* Fuzz target: the case-file loader and validator (harness/case.c, harness/step.c) on arbitrary
 * bytes. Case files are ours, not hostile, but a typo in one must give a message, never a crash.
 *
 * Invariants: a refusal comes with a bounded, non-empty message; an accepted case validates
 * again unchanged (validation does not mutate the document), and its compact serialisation
 * loads and validates too, to an equal document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "case.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(MCPC_FUZZ_HASH_SEED);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256], err2[256];
    json_t *doc, *again = NULL;
    char *text = NULL;

    memset(err, 'x', sizeof err);   /* so a message that is not terminated is seen */
    doc = mcpc_case_parse((const char *)data, size, err, sizeof err);
    if (!doc) {
        size_t n = strnlen(err, sizeof err);
        MCPC_FUZZ_CHECK(n > 0 && n < sizeof err, "a refusal has a bounded message");
        return 0;
    }
    MCPC_FUZZ_CHECK(mcpc_case_validate(doc, err2, sizeof err2) == MCPC_OK,
                    "an accepted case validates again");
    text = json_dumps(doc, JSON_COMPACT);
    /* reals can grow when dumped ("1e9" becomes "1000000000.0"): past the loader's 1 MiB bound
     * a refusal would be right, so there is nothing to compare */
    if (!text || strlen(text) > (1u << 20))
        goto out;
    again = mcpc_case_parse(text, strlen(text), err2, sizeof err2);
    MCPC_FUZZ_CHECK(again != NULL, "an accepted case survives a round trip");
    MCPC_FUZZ_CHECK(json_equal(doc, again), "the round trip keeps the document");
out:
    free(text);
    json_decref(again);
    json_decref(doc);
    return 0;
}

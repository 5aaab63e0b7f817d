/* Fuzz target: the Server-Sent Events parser (harness/sse.c). mcpc_sse_fuzz_one parses the
 * input whole, in input-derived chunks and byte by byte through the queue, with small bounds,
 * and aborts unless all three agree on the events, the last id and the retry value. */
#include <jansson.h>

#include "fuzz.h"
#include "sse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(MCPC_FUZZ_HASH_SEED);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return mcpc_sse_fuzz_one(data, size);
}

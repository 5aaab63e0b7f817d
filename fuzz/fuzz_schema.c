/* Fuzz target: the JSON Schema compiler and validator (harness/schema*.c). The input format
 * and the invariants (nothing crashes or hangs; fast and collecting modes agree; a second
 * validation gives the same answer) are mcpc_schema_fuzz_one's, in harness/schema_fuzz.c:
 * a schema, a NUL or newline, then an instance. */
#include <jansson.h>

#include "fuzz.h"
#include "schema.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(MCPC_FUZZ_HASH_SEED);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return mcpc_schema_fuzz_one(data, size);
}

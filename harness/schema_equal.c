/* JSON Schema equality (const, enum, uniqueItems): numbers compare by value, so 1 == 1.0, and
 * object members are unordered. A matching hash lets enum and uniqueItems skip most compares. */
#include <string.h>

#include "schema_int.h"

/* FNV-1a over n bytes, continuing from h. */
uint64_t mcpc_schema_hash_bytes(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* A 64-bit finaliser (murmur3 fmix64). */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

/* Integral numbers hash as int64 so 1 and 1.0 collide on purpose. */
static uint64_t num_hash(const json_t *a)
{
    if (json_is_integer(a))
        return mix((uint64_t)json_integer_value(a) ^ 0x6E756D);
    double d = json_real_value(a);
    if (d >= -9.2e18 && d <= 9.2e18 && (double)(json_int_t)d == d)
        return mix((uint64_t)(json_int_t)d ^ 0x6E756D);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return mix(bits);
}

/* a is borrowed. */
uint64_t mcpc_schema_json_hash(const json_t *a)
{
    switch (json_typeof(a)) {
    case JSON_STRING:
        return mcpc_schema_hash_bytes(json_string_value(a), json_string_length(a),
                                      0xCBF29CE484222325ull);
    case JSON_INTEGER:
    case JSON_REAL:
        return num_hash(a);
    case JSON_TRUE:
        return 0x7472756575ull;
    case JSON_FALSE:
        return 0x66616C7365ull;
    case JSON_NULL:
        return 0x6E756C6Cull;
    case JSON_ARRAY: {
        uint64_t h = 0x61727261ull + json_array_size(a);
        for (size_t i = 0; i < json_array_size(a); i++)
            h = mix(h ^ mcpc_schema_json_hash(json_array_get(a, i)));
        return h;
    }
    case JSON_OBJECT: {
        /* order-independent: sum of per-member hashes */
        uint64_t h = 0x6F626Aull + json_object_size(a);
        const char *k;
        size_t kl;
        json_t *v;
        json_object_keylen_foreach((json_t *)a, k, kl, v)
            h += mix(mcpc_schema_hash_bytes(k, kl, 0xCBF29CE484222325ull) * 31 +
                     mcpc_schema_json_hash(v));
        return h;
    }
    }
    return 0;
}

/* Numbers by value; long double holds every int64 and double exactly. */
static int num_equal(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    long double x = json_is_integer(a) ? (long double)json_integer_value(a)
                                       : (long double)json_real_value(a);
    long double y = json_is_integer(b) ? (long double)json_integer_value(b)
                                       : (long double)json_real_value(b);
    return x == y;
}

/* a and b are borrowed. */
int mcpc_schema_json_equal(const json_t *a, const json_t *b)
{
    if (a == b)
        return 1;
    json_type ta = json_typeof(a), tb = json_typeof(b);
    if (json_is_number(a) && json_is_number(b))
        return num_equal(a, b);
    if (ta != tb)
        return 0;
    switch (ta) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!mcpc_schema_json_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_OBJECT: {
        const char *k;
        size_t kl;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_keylen_foreach((json_t *)a, k, kl, v) {
            json_t *w = json_object_getn(b, k, kl);
            if (!w || !mcpc_schema_json_equal(v, w))
                return 0;
        }
        return 1;
    }
    default:
        return 1;   /* true, false, null: same type is equal */
    }
}

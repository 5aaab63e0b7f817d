/* The read-only view of jansson values (schema_int.h): confirm jansson 2.14's layouts against
 * its own API on sample values before the validator reads them directly. Any mismatch, or any
 * other jansson version, leaves the view on the API. */
#include <pthread.h>
#include <string.h>

#include "schema_int.h"

mcpc_jview mcpc_schema_jv;

static pthread_once_t jv_once = PTHREAD_ONCE_INIT;

/* 0 when obj's words and its members' are where JV_* says jansson 2.14 keeps them. */
static int probe_object(json_t *obj)
{
    void *it = json_object_iter(obj);
    size_t n = json_object_size(obj);
    if (!it || n < 3 || json_object_iter_key(it) != (const char *)it + JV_KEY_OFF)
        return -1;
    if (((size_t *)obj)[JV_OSIZE_WORD] != n || ((void **)obj)[JV_OFIRST_WORD] != it)
        return -1;
    for (size_t i = 0; i < n; i++) {
        void **w = it;
        void *next = json_object_iter_next(obj, it);
        if (json_object_iter_key(it) != (const char *)it + JV_KEY_OFF ||
            (json_t *)w[JV_VAL_WORD] != json_object_iter_value(it) ||
            (size_t)w[JV_LEN_WORD] != json_object_iter_key_len(it) ||
            (i + 1 < n && w[JV_NEXT_WORD] != next))
            return -1;
        it = next;
    }
    return it == NULL ? 0 : -1;
}

/* Compare the layouts with the API on values made here (and released here). */
static void jv_check(void)
{
    mcpc_jview v = {0};
    json_t *s = json_stringn("a\0bcd", 5), *i = json_integer(-1234567890123LL);
    json_t *a = json_pack("[iii]", 1, 2, 3), *o = json_pack("{s:i,s:s,s:n}", "k", 1, "key2", "v",
                                                           "third key", NULL);
    json_t *e = json_object();
    int ok = 0;
#if JANSSON_VERSION_HEX >= 0x020e00 && JANSSON_VERSION_HEX < 0x020f00
    if (s && i && a && o && json_array_append_new(a, json_true()) == 0) {
        const mcpc_jv_string *js = (const mcpc_jv_string *)s;
        const mcpc_jv_integer *ji = (const mcpc_jv_integer *)i;
        const mcpc_jv_array *ja = (const mcpc_jv_array *)a;
        ok = js->value == json_string_value(s) && js->length == 5 &&
             ji->value == json_integer_value(i) && ja->entries == json_array_size(a) &&
             ja->entries == 4 && ja->table[0] == json_array_get(a, 0) &&
             ja->table[3] == json_array_get(a, 3) && probe_object(o) == 0 && e &&
             ((size_t *)e)[JV_OSIZE_WORD] == 0;
    }
#endif
    v.direct = ok;
    mcpc_schema_jv = v;
    json_decref(s);
    json_decref(i);
    json_decref(a);
    json_decref(o);
    json_decref(e);
}

/* Idempotent and thread-safe; compile calls it before anything is validated. */
void mcpc_schema_jview_init(void)
{
    pthread_once(&jv_once, jv_check);
}

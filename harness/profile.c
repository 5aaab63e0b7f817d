#include <stdio.h>
#include <string.h>

#include "profile.h"

static const char *const mcpc_profile_names[] = {"bronze", "silver", "gold", NULL};

/* New reference: one profile file as written. */
static json_t *mcpc_profile_read(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    json_error_t je;
    int known = 0;
    for (int i = 0; mcpc_profile_names[i]; i++)
        known |= strcmp(name, mcpc_profile_names[i]) == 0;
    if (!known) {
        snprintf(err, errlen, "unknown profile %s (bronze, silver or gold)", name);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
        return NULL;
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (!id || strcmp(id, name) != 0 || !json_is_string(json_object_get(doc, "title")) ||
        !json_is_array(json_object_get(doc, "required")) ||
        !json_is_array(json_object_get(doc, "advisory")) ||
        !json_is_array(json_object_get(doc, "pending"))) {
        snprintf(err, errlen, "%s: needs id (= file name), title, required, advisory, pending", path);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *mcpc_profile_load(const char *dir, const char *name, char *err, size_t errlen)
{
    json_t *doc = mcpc_profile_read(dir, name, err, errlen);
    if (!doc)
        return NULL;
    const char *inc = json_string_value(json_object_get(doc, "includes"));
    if (inc) {
        json_t *lower = mcpc_profile_load(dir, inc, err, errlen);
        if (!lower) {
            json_decref(doc);
            return NULL;
        }
        static const char *const lists[] = {"required", "advisory", "pending", NULL};
        for (int i = 0; lists[i]; i++) {
            json_t *merged = json_deep_copy(json_object_get(lower, lists[i]));
            json_array_extend(merged, json_object_get(doc, lists[i]));
            json_object_set_new(doc, lists[i], merged);
        }
        json_decref(lower);
    }
    return doc;
}

mcpc_err mcpc_profile_check_all(const char *dir, const mcpc_case_set *set, json_t *reqs, char *err,
                                size_t errlen)
{
    json_t *own[3] = {NULL, NULL, NULL};
    mcpc_err rc = MCPC_ERR_CASE;
    for (int p = 0; mcpc_profile_names[p]; p++) {
        own[p] = mcpc_profile_read(dir, mcpc_profile_names[p], err, errlen);
        if (!own[p])
            goto out;
        const char *inc = json_string_value(json_object_get(own[p], "includes"));
        if (p == 0 ? inc != NULL : (!inc || strcmp(inc, mcpc_profile_names[p - 1]) != 0)) {
            snprintf(err, errlen, "profile %s must include %s", mcpc_profile_names[p],
                     p ? mcpc_profile_names[p - 1] : "nothing");
            goto out;
        }
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(own[p], "pending"), i, e) {
            const char *r = json_string_value(json_object_get(e, "requirement"));
            if (!r || !json_is_array(json_object_get(e, "transports")) ||
                !json_is_string(json_object_get(e, "note"))) {
                snprintf(err, errlen, "profile %s: pending entry %zu needs requirement, transports, note",
                         mcpc_profile_names[p], i);
                goto out;
            }
            if (!json_object_get(reqs, r)) {
                snprintf(err, errlen, "profile %s: pending requirement %s is not in the catalogue",
                         mcpc_profile_names[p], r);
                goto out;
            }
        }
    }
    for (size_t c = 0; c < set->n; c++) {
        int where = 0;
        for (int p = 0; p < 3; p++) {
            int in = mcpc_json_strarray_has(json_object_get(own[p], "required"), set->v[c].id) +
                     mcpc_json_strarray_has(json_object_get(own[p], "advisory"), set->v[c].id);
            if (in && strcmp(set->v[c].profile, mcpc_profile_names[p]) != 0) {
                snprintf(err, errlen, "case %s says profile %s but is listed in %s", set->v[c].id,
                         set->v[c].profile, mcpc_profile_names[p]);
                goto out;
            }
            where += in;
        }
        if (where != 1) {
            snprintf(err, errlen, "case %s is listed %d times across the profiles (must be once)",
                     set->v[c].id, where);
            goto out;
        }
    }
    for (int p = 0; p < 3; p++) {
        static const char *const lists[] = {"required", "advisory", NULL};
        for (int l = 0; lists[l]; l++) {
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(own[p], lists[l]), i, e) {
                if (!json_is_string(e) || !mcpc_case_find(set, json_string_value(e))) {
                    snprintf(err, errlen, "profile %s lists %s, which is not a case",
                             mcpc_profile_names[p], json_is_string(e) ? json_string_value(e) : "(not a string)");
                    goto out;
                }
            }
        }
    }
    rc = MCPC_OK;
out:
    for (int p = 0; p < 3; p++)
        json_decref(own[p]);
    return rc;
}

/* Case files: load, validate, index. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "case.h"
#include "mock_server.h"
#include "step.h"

#define MCPC_CASE_MAX_FILES 4096
#define MCPC_CASE_MAX_BYTES (1u << 20)

int mcpc_json_strarray_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)arr, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return 1;
    }
    return 0;
}

/* Every element a string drawn from allowed (NULL-terminated; NULL allowed = any string). */
static int mcpc_case_strarray_ok(const json_t *arr, const char *const *allowed, int need_nonempty)
{
    size_t i;
    json_t *e;
    if (!json_is_array(arr) || (need_nonempty && json_array_size(arr) == 0))
        return 0;
    json_array_foreach((json_t *)arr, i, e) {
        int ok = !allowed;
        if (!json_is_string(e) || json_string_length(e) == 0)
            return 0;
        for (int k = 0; allowed && allowed[k]; k++)
            ok |= strcmp(json_string_value(e), allowed[k]) == 0;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Ids: upper-case words joined by '-', e.g. BASE-ENV-01. */
static int mcpc_case_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n < 3 || n > 40 || id[0] < 'A' || id[0] > 'Z' || id[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c == '-' && id[i - 1] != '-')))
            return 0;
    }
    return strchr(id, '-') != NULL;
}

static const char *const mcpc_case_keys[] = {
    "id", "title", "description", "requirements", "roles", "eras", "transports", "level",
    "profile", "suite", "hooks", "flaws", "fix", "session", "steps", "scenario", NULL};
static const char *const mcpc_case_required[] = {
    "id", "title", "requirements", "roles", "eras", "transports", "level", "profile", "suite",
    "flaws", "fix", "steps", NULL};
static const char *const mcpc_roles[] = {"server", "client", "proxy", NULL};
static const char *const mcpc_eras[] = {"2025-11-25", "2026-07-28", NULL};
static const char *const mcpc_transports[] = {"stdio", "http", NULL};
static const char *const mcpc_hooks[] = {"ledger", NULL};

mcpc_err mcpc_case_validate(json_t *doc, char *err, size_t errlen)
{
    const char *key;
    json_t *val;
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "a case is a JSON object");
        return MCPC_ERR_CASE;
    }
    json_object_foreach(doc, key, val) {
        int known = 0;
        for (int i = 0; mcpc_case_keys[i]; i++)
            known |= strcmp(key, mcpc_case_keys[i]) == 0;
        if (!known) {
            snprintf(err, errlen, "unknown key \"%s\"", key);
            return MCPC_ERR_CASE;
        }
    }
    for (int i = 0; mcpc_case_required[i]; i++) {
        if (!json_object_get(doc, mcpc_case_required[i])) {
            snprintf(err, errlen, "missing \"%s\"", mcpc_case_required[i]);
            return MCPC_ERR_CASE;
        }
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (!id || !mcpc_case_id_ok(id)) {
        snprintf(err, errlen, "id must look like AREA-TOPIC-NN (upper case, digits, '-')");
        return MCPC_ERR_CASE;
    }
    static const char *const strs[] = {"title", "fix", "suite", "level", "profile", NULL};
    for (int i = 0; strs[i]; i++) {
        json_t *s = json_object_get(doc, strs[i]);
        if (!json_is_string(s) || json_string_length(s) == 0) {
            snprintf(err, errlen, "\"%s\" must be a non-empty string", strs[i]);
            return MCPC_ERR_CASE;
        }
    }
    static const char *const levels[] = {"MUST", "SHOULD", NULL};
    static const char *const profiles[] = {"bronze", "silver", "gold", NULL};
    json_t *one = json_pack("[O]", json_object_get(doc, "level"));
    int ok = mcpc_case_strarray_ok(one, levels, 1);
    json_decref(one);
    if (!ok) {
        snprintf(err, errlen, "level must be MUST or SHOULD");
        return MCPC_ERR_CASE;
    }
    one = json_pack("[O]", json_object_get(doc, "profile"));
    ok = mcpc_case_strarray_ok(one, profiles, 1);
    json_decref(one);
    if (!ok) {
        snprintf(err, errlen, "profile must be bronze, silver or gold");
        return MCPC_ERR_CASE;
    }
    if (!mcpc_case_strarray_ok(json_object_get(doc, "requirements"), NULL, 1)) {
        snprintf(err, errlen, "requirements must name at least one requirement id");
        return MCPC_ERR_CASE;
    }
    if (!mcpc_case_strarray_ok(json_object_get(doc, "roles"), mcpc_roles, 1) ||
        !mcpc_case_strarray_ok(json_object_get(doc, "eras"), mcpc_eras, 1) ||
        !mcpc_case_strarray_ok(json_object_get(doc, "transports"), mcpc_transports, 1)) {
        snprintf(err, errlen, "roles/eras/transports must be non-empty arrays of known names");
        return MCPC_ERR_CASE;
    }
    /* a case with no flaw to prove it can fail is not done */
    if (!mcpc_case_strarray_ok(json_object_get(doc, "flaws"), NULL, 1)) {
        snprintf(err, errlen, "flaws must name at least one reference-server flaw that fails this case");
        return MCPC_ERR_CASE;
    }
    json_t *hooks = json_object_get(doc, "hooks");
    if (hooks && !mcpc_case_strarray_ok(hooks, mcpc_hooks, 0)) {
        snprintf(err, errlen, "hooks must be an array of known hook names (ledger)");
        return MCPC_ERR_CASE;
    }
    json_t *session = json_object_get(doc, "session");
    if (session && (!json_is_string(session) || (strcmp(json_string_value(session), "open") &&
                                                 strcmp(json_string_value(session), "none")))) {
        snprintf(err, errlen, "session must be \"open\" or \"none\"");
        return MCPC_ERR_CASE;
    }
    json_t *steps = json_object_get(doc, "steps");
    size_t i;
    json_t *st;
    if (!json_is_array(steps) || json_array_size(steps) == 0) {
        snprintf(err, errlen, "steps must be a non-empty array");
        return MCPC_ERR_CASE;
    }
    /* the client role judges a record with its own steps against a scripted scenario: a case
     * is either a client case or not, never both */
    int client = mcpc_json_strarray_has(json_object_get(doc, "roles"), "client");
    json_t *scenario = json_object_get(doc, "scenario");
    if (client && json_array_size(json_object_get(doc, "roles")) != 1) {
        snprintf(err, errlen, "a client-role case has roles [\"client\"] only");
        return MCPC_ERR_CASE;
    }
    if (client != (scenario != NULL)) {
        snprintf(err, errlen, client ? "a client-role case needs a scenario object"
                                     : "only client-role cases have a scenario");
        return MCPC_ERR_CASE;
    }
    if (scenario && mcpc_mock_validate(scenario, err, errlen) != MCPC_OK)
        return MCPC_ERR_CASE;
    json_array_foreach(steps, i, st) {
        char why[200];
        const char *kind = json_string_value(json_object_get(st, "do"));
        if (kind && client != (strncmp(kind, "client_", 7) == 0)) {
            snprintf(err, errlen, "step %zu: %s %s", i + 1, kind,
                     client ? "is not a client-role step" : "belongs to client-role cases only");
            return MCPC_ERR_CASE;
        }
        if (mcpc_step_validate(st, why, sizeof why) != MCPC_OK) {
            snprintf(err, errlen, "step %zu: %s", i + 1, why);
            return MCPC_ERR_CASE;
        }
        /* the ledger is offered only to cases that declare the hook */
        if (kind && strncmp(kind, "ledger_", 7) == 0 && !mcpc_json_strarray_has(hooks, "ledger")) {
            snprintf(err, errlen, "step %zu: %s needs \"hooks\": [\"ledger\"]", i + 1, kind);
            return MCPC_ERR_CASE;
        }
    }
    return MCPC_OK;
}

static void mcpc_case_fill(mcpc_case *c)
{
    json_t *d = c->doc;
    c->id = json_string_value(json_object_get(d, "id"));
    c->title = json_string_value(json_object_get(d, "title"));
    c->level = json_string_value(json_object_get(d, "level"));
    c->profile = json_string_value(json_object_get(d, "profile"));
    c->suite = json_string_value(json_object_get(d, "suite"));
    c->fix = json_string_value(json_object_get(d, "fix"));
    c->session = json_string_value(json_object_get(d, "session"));
    if (!c->session)
        c->session = "open";
    c->requirements = json_object_get(d, "requirements");
    c->eras = json_object_get(d, "eras");
    c->roles = json_object_get(d, "roles");
    c->transports = json_object_get(d, "transports");
    c->flaws = json_object_get(d, "flaws");
    c->steps = json_object_get(d, "steps");
    c->hooks = json_object_get(d, "hooks");
}

/* Collect *.json paths below dir into paths[] (malloc'd strings). */
static mcpc_err mcpc_case_walk(const char *dir, char **paths, size_t *n, int depth, char *err,
                               size_t errlen)
{
    DIR *d;
    struct dirent *e;
    mcpc_err rc = MCPC_OK;
    if (depth > 8)
        return MCPC_OK;
    d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open case directory %s", dir);
        return MCPC_ERR_NOT_FOUND;
    }
    while (rc == MCPC_OK && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = mcpc_case_walk(path, paths, n, depth + 1, err, errlen);
            continue;
        }
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (*n >= MCPC_CASE_MAX_FILES) {
            snprintf(err, errlen, "more than %d case files", MCPC_CASE_MAX_FILES);
            rc = MCPC_ERR_TOO_BIG;
            break;
        }
        paths[*n] = strdup(path);
        if (!paths[*n]) {
            rc = MCPC_ERR_NOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    return rc;
}

static int mcpc_case_cmp(const void *a, const void *b)
{
    return strcmp(((const mcpc_case *)a)->id, ((const mcpc_case *)b)->id);
}

/* New reference: a JSON file read with duplicate keys rejected and a size bound. */
static json_t *mcpc_case_read_json(const char *path, char *err, size_t errlen)
{
    struct stat st;
    json_error_t je;
    if (stat(path, &st) != 0 || st.st_size > (off_t)MCPC_CASE_MAX_BYTES) {
        snprintf(err, errlen, "%s: missing or larger than %u bytes", path, MCPC_CASE_MAX_BYTES);
        return NULL;
    }
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return doc;
}

/* New reference: one case file held in buf[0..len), loaded as mcpc_case_load_dir loads a file
 * (size bound, duplicate keys refused) and validated; NULL with err set when it is not a case.
 * For the fuzz target and for tools that hold a case in memory. */
json_t *mcpc_case_parse(const char *buf, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = NULL;
    if (len > MCPC_CASE_MAX_BYTES) {
        snprintf(err, errlen, "larger than %u bytes", MCPC_CASE_MAX_BYTES);
        return NULL;
    }
    doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(err, errlen, "%d:%d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (mcpc_case_validate(doc, err, errlen) != MCPC_OK) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

mcpc_err mcpc_case_load_dir(const char *dir, mcpc_case_set *set, char *err, size_t errlen)
{
    char **paths = calloc(MCPC_CASE_MAX_FILES, sizeof *paths);
    size_t n = 0;
    mcpc_err rc;
    memset(set, 0, sizeof *set);
    if (!paths)
        return MCPC_ERR_NOMEM;
    rc = mcpc_case_walk(dir, paths, &n, 0, err, errlen);
    if (rc != MCPC_OK)
        goto out;
    set->v = calloc(n ? n : 1, sizeof *set->v);
    if (!set->v) {
        rc = MCPC_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char why[256];
        json_t *doc = mcpc_case_read_json(paths[i], err, errlen);
        if (!doc) {
            rc = MCPC_ERR_CASE;
            goto out;
        }
        if (mcpc_case_validate(doc, why, sizeof why) != MCPC_OK) {
            snprintf(err, errlen, "%s: %s", paths[i], why);
            json_decref(doc);
            rc = MCPC_ERR_CASE;
            goto out;
        }
        mcpc_case *c = &set->v[set->n++];
        c->doc = doc;
        c->path = paths[i];
        paths[i] = NULL;
        mcpc_case_fill(c);
        /* the file name carries the id, so a case is found by looking */
        const char *base = strrchr(c->path, '/');
        base = base ? base + 1 : c->path;
        if (strncmp(base, c->id, strlen(c->id)) != 0 || strcmp(base + strlen(c->id), ".json") != 0) {
            snprintf(err, errlen, "%s: file name must be %s.json", c->path, c->id);
            rc = MCPC_ERR_CASE;
            goto out;
        }
    }
    qsort(set->v, set->n, sizeof *set->v, mcpc_case_cmp);
    for (size_t i = 1; i < set->n; i++) {
        if (strcmp(set->v[i - 1].id, set->v[i].id) == 0) {
            snprintf(err, errlen, "duplicate case id %s (%s and %s)", set->v[i].id,
                     set->v[i - 1].path, set->v[i].path);
            rc = MCPC_ERR_CASE;
            goto out;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    if (rc != MCPC_OK)
        mcpc_case_set_free(set);
    return rc;
}

mcpc_err mcpc_case_load_file(const char *path, mcpc_case_set *set, const char **id, char *err,
                             size_t errlen)
{
    char why[256];
    const char *base = strrchr(path, '/');
    json_t *doc = mcpc_case_read_json(path, err, errlen);
    mcpc_case *grown;
    if (!doc)
        return MCPC_ERR_CASE;
    if (mcpc_case_validate(doc, why, sizeof why) != MCPC_OK) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto bad;
    }
    const char *cid = json_string_value(json_object_get(doc, "id"));
    base = base ? base + 1 : path;
    /* the same rule as in cases/: the file name carries the id */
    if (strncmp(base, cid, strlen(cid)) != 0 || strcmp(base + strlen(cid), ".json") != 0) {
        snprintf(err, errlen, "%s: file name must be %s.json", path, cid);
        goto bad;
    }
    if (mcpc_case_find(set, cid)) {
        snprintf(err, errlen, "%s: case id %s is already taken", path, cid);
        goto bad;
    }
    if (!(grown = realloc(set->v, (set->n + 1) * sizeof *set->v))) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    set->v = grown;
    mcpc_case *c = &set->v[set->n];
    memset(c, 0, sizeof *c);
    if (!(c->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    c->doc = doc;
    mcpc_case_fill(c);
    set->n++;
    qsort(set->v, set->n, sizeof *set->v, mcpc_case_cmp);
    *id = mcpc_case_find(set, cid)->id;
    return MCPC_OK;
bad:
    json_decref(doc);
    return MCPC_ERR_CASE;
}

const mcpc_case *mcpc_case_find(const mcpc_case_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->v[i].id, id) == 0)
            return &set->v[i];
    }
    return NULL;
}

void mcpc_case_set_free(mcpc_case_set *set)
{
    for (size_t i = 0; set->v && i < set->n; i++) {
        json_decref(set->v[i].doc);
        free(set->v[i].path);
    }
    free(set->v);
    set->v = NULL;
    set->n = 0;
}

json_t *mcpc_requirements_load(const char *path, char *err, size_t errlen)
{
    const char *key;
    json_t *val;
    json_t *doc = mcpc_case_read_json(path, err, errlen);
    if (!doc)
        return NULL;
    json_t *reqs = json_object_get(doc, "requirements");
    if (!json_is_object(reqs)) {
        snprintf(err, errlen, "%s: needs a \"requirements\" object", path);
        goto bad;
    }
    json_object_foreach(reqs, key, val) {
        const char *lvl = json_string_value(json_object_get(val, "level"));
        if (!json_is_string(json_object_get(val, "text")) || !lvl ||
            (strcmp(lvl, "MUST") && strcmp(lvl, "SHOULD")) ||
            !json_is_string(json_object_get(val, "source"))) {
            snprintf(err, errlen, "%s: requirement %s needs level (MUST|SHOULD), text and source",
                     path, key);
            goto bad;
        }
    }
    json_incref(reqs);
    json_decref(doc);
    return reqs;
bad:
    json_decref(doc);
    return NULL;
}

mcpc_err mcpc_case_trace(const mcpc_case_set *set, json_t *reqs, char *err, size_t errlen)
{
    for (size_t i = 0; i < set->n; i++) {
        size_t k;
        json_t *r;
        if (json_object_get(reqs, set->v[i].id)) {
            snprintf(err, errlen, "case id %s is also a requirement id; `mcpcert explain` could not tell them apart",
                     set->v[i].id);
            return MCPC_ERR_CASE;
        }
        json_array_foreach(set->v[i].requirements, k, r) {
            if (!json_object_get(reqs, json_string_value(r))) {
                snprintf(err, errlen, "%s names requirement %s, which is not in the catalogue",
                         set->v[i].id, json_string_value(r));
                return MCPC_ERR_CASE;
            }
        }
    }
    return MCPC_OK;
}

/* Schema seeds from the JSON-Schema-Test-Suite (every test: its group's schema and its data)
 * and from the bench schemas (each schema with its valid instance and its invalid ones). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen_corpus.h"

/* One test file: [{"schema": S, "tests": [{"data": D, ...}, ...]}, ...]. */
static void gen_suite_file(gen_out *o, const json_t *doc)
{
    size_t g, t;
    json_t *group, *test;

    json_array_foreach((json_t *)doc, g, group) {
        json_t *schema = json_object_get(group, "schema");
        if (!schema)
            continue;
        json_array_foreach(json_object_get(group, "tests"), t, test) {
            json_t *data = json_object_get(test, "data");
            /* alternate the separators, since the fuzz target accepts both */
            if (data)
                gen_put_schema_pair(o, schema, data, (t & 1) ? '\0' : '\n');
        }
    }
}

/* Every test file below dir (optional/ and optional/format/ too), to a bounded depth. */
static size_t gen_suite_walk(gen_out *o, const char *dir, int depth)
{
    DIR *d = depth < 4 ? opendir(dir) : NULL;
    struct dirent *e;
    size_t files = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[2200];
        size_t len = strlen(e->d_name);
        struct stat st;
        json_error_t je;
        if (e->d_name[0] == '.' ||
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
            stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            files += gen_suite_walk(o, path, depth + 1);
            continue;
        }
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        /* some tests hold "\u0000": keep them, the target decides what it accepts */
        json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &je);
        if (!json_is_array(doc)) {
            fprintf(stderr, "gen_corpus: %s: skipped (%s)\n", path, doc ? "not an array" : je.text);
            json_decref(doc);
            continue;
        }
        gen_suite_file(o, doc);
        json_decref(doc);
        files++;
    }
    closedir(d);
    return files;
}

size_t gen_suite_seeds(gen_out *o, const char *dir)
{
    size_t files = gen_suite_walk(o, dir, 0);
    if (files == 0)
        printf("gen_corpus: no JSON-Schema-Test-Suite at %s: its seeds skipped\n", dir);
    return files;
}

size_t gen_bench_seeds(gen_out *o, const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je), *entry, *bad;
    const char *name;
    size_t i;

    if (!json_is_object(doc)) {
        printf("gen_corpus: no bench schemas at %s: their seeds skipped\n", path);
        json_decref(doc);
        return 0;
    }
    json_object_foreach(doc, name, entry) {
        json_t *schema = json_object_get(entry, "schema");
        if (!schema)
            continue;
        gen_put_schema_pair(o, schema, NULL, '\n');
        if (json_object_get(entry, "valid"))
            gen_put_schema_pair(o, schema, json_object_get(entry, "valid"), '\n');
        json_array_foreach(json_object_get(entry, "invalid"), i, bad) {
            if (json_object_get(bad, "data"))
                gen_put_schema_pair(o, schema, json_object_get(bad, "data"), '\0');
        }
    }
    json_decref(doc);
    return 1;
}

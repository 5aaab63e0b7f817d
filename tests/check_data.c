/* The data is code too: every case file validates, ids are unique and stable in shape, every
 * case traces to catalogued requirements, every case sits in exactly one profile, and every
 * requirement is covered by a case or a written "pending" entry of a profile. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "profile.h"
#include "step.h"

static char g_src[4096];

static void path_of(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", g_src, rel);
}

START_TEST(test_cases_load)
{
    mcpc_case_set set;
    char dir[4200], err[512];
    path_of(dir, sizeof dir, "cases");
    mcpc_err rc = mcpc_case_load_dir(dir, &set, err, sizeof err);
    ck_assert_msg(rc == MCPC_OK, "%s", err);
    ck_assert_uint_ge(set.n, 30);
    printf("check_data: %zu case files valid\n", set.n);
    mcpc_case_set_free(&set);
}
END_TEST

START_TEST(test_traceability)
{
    mcpc_case_set set;
    char dir[4200], path[4200], err[512];
    path_of(dir, sizeof dir, "cases");
    path_of(path, sizeof path, "docs/requirements.json");
    ck_assert_int_eq(mcpc_case_load_dir(dir, &set, err, sizeof err), MCPC_OK);
    json_t *reqs = mcpc_requirements_load(path, err, sizeof err);
    ck_assert_msg(reqs != NULL, "%s", err);
    ck_assert_msg(mcpc_case_trace(&set, reqs, err, sizeof err) == MCPC_OK, "%s", err);
    path_of(dir, sizeof dir, "profiles");
    ck_assert_msg(mcpc_profile_check_all(dir, &set, reqs, err, sizeof err) == MCPC_OK, "%s", err);
    /* every requirement: a case names it, or a profile lists it as pending */
    json_t *gold = mcpc_profile_load(dir, "gold", err, sizeof err);
    ck_assert_msg(gold != NULL, "%s", err);
    const char *key;
    json_t *val;
    json_object_foreach(reqs, key, val) {
        int covered = 0;
        for (size_t i = 0; i < set.n && !covered; i++)
            covered = mcpc_json_strarray_has(set.v[i].requirements, key);
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(gold, "pending"), k, p) {
            const char *r = json_string_value(json_object_get(p, "requirement"));
            covered |= r && strcmp(r, key) == 0;
        }
        ck_assert_msg(covered, "requirement %s has no case and no pending entry", key);
    }
    json_decref(gold);
    json_decref(reqs);
    mcpc_case_set_free(&set);
}
END_TEST

/* A validator that cannot fail is a defect: each broken document must be refused. */
START_TEST(test_validator_refuses)
{
    static const char *const bad[] = {
        "[]",
        "{\"id\":\"X\"}",
        /* unknown step */
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"teleport\"}]}",
        /* no flaw to prove it can fail */
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[],\"fix\":\"f\",\"steps\":[{\"do\":\"wait\"}]}",
        /* expect without a PASS outcome */
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"expect\",\"expected\":\"x\","
        "\"outcomes\":[{\"grade\":\"FAIL\",\"when\":[{\"kind\":\"error\"}]}]}]}",
        /* bad era, bad level, unknown key */
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2024-01-01\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"wait\"}]}",
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MAY\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"wait\"}]}",
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"wait\",\"mss\":3}]}",
        /* a condition with two tests */
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"expect\",\"expected\":\"x\","
        "\"outcomes\":[{\"grade\":\"PASS\",\"when\":[{\"path\":\"/id\",\"equals\":1,\"present\":true}]}]}]}",
        /* lower-case id */
        "{\"id\":\"base-x-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"wait\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256];
        json_t *doc = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert_msg(mcpc_case_validate(doc, err, sizeof err) == MCPC_ERR_CASE,
                      "document %zu was accepted", i);
        ck_assert(err[0] != '\0');
        json_decref(doc);
    }
    /* and the minimal good one is accepted, so the refusals above are for their stated reason */
    json_t *good = json_loads(
        "{\"id\":\"BASE-X-01\",\"title\":\"t\",\"requirements\":[\"MSG-01\"],\"roles\":[\"server\"],"
        "\"eras\":[\"2026-07-28\"],\"transports\":[\"stdio\"],\"level\":\"MUST\",\"profile\":\"bronze\","
        "\"suite\":\"base\",\"flaws\":[\"f\"],\"fix\":\"f\",\"steps\":[{\"do\":\"wait\",\"ms\":3}]}",
        0, NULL);
    char err[256];
    ck_assert_msg(mcpc_case_validate(good, err, sizeof err) == MCPC_OK, "%s", err);
    json_decref(good);
}
END_TEST

/* JSON blocks in the docs are examples people copy: each must at least be valid JSON. */
START_TEST(test_doc_examples_parse)
{
    char path[4200];
    path_of(path, sizeof path, "docs/case-format.md");
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("check_data: %s absent, skipped\n", path);
        return;
    }
    char line[4096];
    char *block = NULL;
    size_t len = 0, blocks = 0;
    int in = 0, lineno = 0, start = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!in && strncmp(line, "```json", 7) == 0) {
            in = 1;
            start = lineno;
            len = 0;
            continue;
        }
        if (in && strncmp(line, "```", 3) == 0) {
            json_error_t je;
            json_t *doc = json_loadb(block ? block : "", len, JSON_REJECT_DUPLICATES, &je);
            ck_assert_msg(doc != NULL, "docs/case-format.md block at line %d: %s (line %d of the block)",
                          start, je.text, je.line);
            json_decref(doc);
            blocks++;
            in = 0;
            continue;
        }
        if (in) {
            size_t n = strlen(line);
            char *g = realloc(block, len + n + 1);
            ck_assert_ptr_nonnull(g);
            block = g;
            memcpy(block + len, line, n);
            len += n;
        }
    }
    fclose(f);
    free(block);
    printf("check_data: %zu JSON examples in docs/case-format.md parse\n", blocks);
}
END_TEST

int main(void)
{
    const char *src = getenv("MCPC_SRCDIR");
    snprintf(g_src, sizeof g_src, "%s", src && *src ? src : MCPC_DATADIR);
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, test_cases_load);
    tcase_add_test(tc, test_traceability);
    tcase_add_test(tc, test_validator_refuses);
    tcase_add_test(tc, test_doc_examples_parse);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

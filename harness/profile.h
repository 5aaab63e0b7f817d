/* Profiles are data: profiles/<name>.json lists the cases a profile requires, those it reports
 * as advisory, the lower profile it includes, and the requirements it covers that have no case
 * yet ("pending"), so a profile is never reported attained on partial coverage. */
#ifndef MCPC_PROFILE_H
#define MCPC_PROFILE_H

#include <jansson.h>
#include "case.h"
#include "error.h"

/* Load profile `name` from dir with everything it includes merged in:
 * {"id", "title", "required":[case ids], "advisory":[case ids], "pending":[{requirement,
 * transports, note}]}. New reference, or NULL with err set. */
json_t *mcpc_profile_load(const char *dir, const char *name, char *err, size_t errlen);

/* Consistency of all profiles with the case set: every listed id is a case, every case is in
 * exactly one profile (the one its "profile" field names), includes form a chain. */
mcpc_err mcpc_profile_check_all(const char *dir, const mcpc_case_set *set, json_t *reqs, char *err,
                                size_t errlen);

#endif

/* `mcpcert browse`: the user agent of the client role's OAuth cases (docs/client-role.md,
 * "OAuth"). A client under test hands it the authorization URL as a real client hands it to a
 * browser; it records what it was asked to open and, for a loopback http(s) URL only, plays the
 * user who approves: one GET, no redirect followed, the Location printed on stdout. */
#ifndef MCPC_BROWSE_H
#define MCPC_BROWSE_H

#define MCPC_BROWSE_LINK "mcpcert-browse"        /* argv[0] of the $BROWSER form */
#define MCPC_BROWSE_RECORD_ENV "MCPC_BROWSER_RECORD"

/* `mcpcert browse --record FILE URL` (argv[0] is "browse"). Appends one JSON line to FILE:
 * {"seq", "url", "argc" (URLs given: 1 unless the caller split or added some), "fetched",
 * "status", "location"}. Exit 0 with the Location on stdout when a loopback http(s) URL answered
 * with a redirect; 1 otherwise (nothing printed); 2 for a bad command line. */
int mcpc_browse_cmd(int argc, char **argv);

/* The same when mcpcert runs as $BROWSER (argv[0] ends in MCPC_BROWSE_LINK): every argument is
 * a URL, the record file is $MCPC_BROWSER_RECORD. */
int mcpc_browse_env_cmd(int argc, char **argv);

#endif

/* The side-effect ledger hook: a fixture-tool implementation appends one line per side effect
 * to the file named by MCPCERT_LEDGER; "not executed" means "no new line". */
#ifndef MCPC_LEDGER_H
#define MCPC_LEDGER_H

#define MCPC_LEDGER_ENV "MCPCERT_LEDGER"

/* Number of complete lines in the ledger file; 0 when it does not exist; -1 on read error.
 * Reads at most 64 MiB (a hostile implementation may write a huge file). */
long mcpc_ledger_count(const char *path);

#endif

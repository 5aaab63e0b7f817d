/* `mcpcert serve`: the client role's mock server over stdio (docs/client-role.md). */
#ifndef MCPC_SERVE_H
#define MCPC_SERVE_H

/* Run the command (argv[0] is "serve"); cases are loaded from <data_dir>/cases unless
 * --data DIR says otherwise. Returns the exit status: 0 after the client closed stdin, 2 for a
 * usage or case error. */
int mcpc_serve_cmd(int argc, char **argv, const char *data_dir);

#endif

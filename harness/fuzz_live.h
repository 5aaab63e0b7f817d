/* `mcpcert fuzz`: live, grammar-aware fuzzing of an MCP implementation under test.
 *
 * It opens a session (the negotiated era), learns what the implementation offers (tools and their
 * input schemas, resources, prompts), then loops: build a valid message, mutate it
 * (fuzz_mutate.h), send it, send a ping, and judge what comes back. A crash (the process died,
 * or an HTTP endpoint that worked refuses connections), a hang (two pings unanswered within
 * --timeout) or output that breaks the protocol (not JSON-RPC, a frame the strict classifier
 * refuses, a response to an id never sent, an HTTP 5xx) is a finding. Each distinct finding
 * (kind + method + mutation class) is reproduced on a fresh connection, minimized, and written
 * as a replayable case file DIR/FUZZ-<KIND>-<n>.json (`mcpcert run --case-file`).
 *
 * Same seed and same implementation behaviour give the same sequence of messages. */
#ifndef MCPC_FUZZ_LIVE_H
#define MCPC_FUZZ_LIVE_H

/* argv[0] is "fuzz"; options and "-- COMMAND ARGS..." follow. Returns the exit status: 0 no
 * finding, 1 findings, 2 usage, 3 the implementation could not be reached. */
int mcpc_fuzz_cmd(int argc, char **argv);

#endif

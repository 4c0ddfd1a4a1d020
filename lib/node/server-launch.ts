import { readFileSync } from 'node:fs';

// How the server process is started: `node <SERVER_NODE_ARGS> server/main.ts` (make server, the bench's
// server and the integration tests). The flags live in one file, lib/node/server-node-args, which the
// Makefile reads too, so `make server` and every tool start the same process.
//
// --initial-old-space-size: V8 sizes a small heap's old-generation limit from its live size, so every
// decoded image's external pixel buffer, and the request objects that outlive a scavenge, restarted
// incremental marking: frequent full mark-compacts on the main thread and a p99 far above the p50. A
// larger starting limit removes them (measured with --trace-gc under vegeta; docs/server.md). It is a
// starting limit, not a floor on RSS: the heap still shrinks after a mark-compact.
export const SERVER_NODE_ARGS: readonly string[] = readFileSync(new URL('./server-node-args', import.meta.url), 'utf8').trim().split(/\s+/);

export const SERVER_ENTRY = 'server/main.ts';

// How the server process is started: `node <SERVER_NODE_ARGS> server/main.ts` (make server, the bench's
// server and the integration tests; the Makefile's SERVER_NODE repeats these flags for `make server`).
//
// --initial-old-space-size: V8 sizes a small heap's old-generation limit from its live size (~14 MB
// here), so every decoded image's external pixel buffer (786 KB for 512x512) and the request
// objects that outlive a scavenge restarted incremental marking: ~20 full mark-compacts a second at
// concurrency 1, 24% of the main thread, and p99 2x the p50. A 64 MB starting limit leaves 4-7 in
// five seconds (measured with --trace-gc under vegeta at concurrency 1: 150 -> 199 requests/s).
// It is a starting limit, not a floor on RSS: the heap still shrinks after a mark-compact.
export const SERVER_NODE_ARGS = ['--initial-old-space-size=64', '--import', 'tsx'] as const;

export const SERVER_ENTRY = 'server/main.ts';

// The V8 flags resil's CLI starts Node with (see the shebang of bin/run.js): a 16 MB semi-space from
// the start, so the young generation does not grow in steps during a run (steady RSS) and scavenges
// run less often (about 3% less CPU per request, measured with gen-resil.mjs against nginx).
export const RESIL_NODE_FLAGS = ['--min-semi-space-size=16'];

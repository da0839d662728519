// Merge benchmark: `resil report --merge` of 100 shard results of 1,000,000 requests each must take
// under 2 s. Builds one shard result with 1M recorded latencies spread over 20 seconds (a
// log-normal-ish mix from 0.2 ms to 2 s), copies it as shards 1..100 of 100, and times mergeResults.
//
//   npm run build && node scripts/bench/merge.mjs
import { Recorder } from '../../dist/metrics/recorder.js';
import { mergeResults } from '../../dist/report/merge.js';
import { measuredFigures, RESULT_SCHEMA } from '../../dist/report/result.js';
import { parseThreshold } from '../../dist/thresholds/parse.js';

const SHARDS = 100;
const PER_SHARD = 1_000_000;
const SECONDS = 20;

// Deterministic pseudo-random latencies (ms): mostly around 2-5 ms, a tail to 2 s.
let state = 42;
const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
const recorder = new Recorder(0, false);
for (let i = 0; i < PER_SHARD; i++) {
  const now = (i / PER_SHARD) * SECONDS * 1000; // completion time, ms from the start
  const latency = 0.2 + Math.exp(random() * 3) * (random() < 0.01 ? 100 : 1);
  if (random() < 0.002) recorder.recordError(now, 'timeout');
  else recorder.recordResponse(now, latency, latency, 200, true, false);
}
recorder.finish(SECONDS * 1000);
const snapshot = recorder.snapshot();
const thresholds = [parseThreshold('p99<250ms'), parseThreshold('success_rate>=0.99')];
const shard = (index) => ({
  schema: RESULT_SCHEMA,
  command: 'load',
  fingerprint: 'bench',
  shard: { index, count: SHARDS },
  target: 'http://127.0.0.1:8080/',
  seed: 1,
  startedAt: new Date(0).toISOString(),
  durationMs: SECONDS * 1000,
  interrupted: false,
  model: 'closed',
  settings: {
    method: 'GET',
    concurrency: 50 * SHARDS,
    requests: null,
    durationMs: SECONDS * 1000,
    rate: null,
    timeoutMs: 10_000,
    workers: 1,
    headers: {},
    expectStatus: '2xx',
  },
  schedule: null,
  ...measuredFigures(snapshot, SECONDS * 1000, thresholds),
});
const documents = Array.from({ length: SHARDS }, (_, i) => shard(i));
// Through JSON, as the files are read.
const parsed = documents.map((d) => JSON.parse(JSON.stringify(d)));

const started = performance.now();
const merged = mergeResults(parsed);
const elapsed = performance.now() - started;
console.log(
  `merged ${SHARDS} shard results of ${PER_SHARD.toLocaleString('en-US')} requests (${SECONDS} timeline seconds each): ` +
    `${merged.requests.total.toLocaleString('en-US')} requests, p99 ${merged.latencyMs.p99} ms`,
);
console.log(`merge time: ${elapsed.toFixed(0)} ms (goal: under 2000 ms)`);

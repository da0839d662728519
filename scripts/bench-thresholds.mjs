// CPU per evaluation (one closed second) of the live thresholds: N thresholds (default 100), half over windows
// (NO_WINDOWS=1: none). Run after `npm run build`: node scripts/bench-thresholds.mjs 1000
import { ThresholdWatch } from '../dist/thresholds/watch.js';
import { parseThreshold } from '../dist/thresholds/parse.js';
import { createLatencyHistogram, encodeHistogram } from '../dist/metrics/histogram.js';
const n = Number(process.argv[2] ?? 100);
const kinds = ['p99<300ms', 'p(99.9)<1s', 'success_rate>=0.95', 'mean<50ms', 'max<2s', 'rps>=10', 'p50<20ms', 'error_rate<1%'];
const windows = ['10s', '30s', '1m', '5m'];
const sources = Array.from(
  { length: n },
  (_, i) =>
    kinds[i % kinds.length] +
    (i % 2 && !process.env.NO_WINDOWS ? ` over ${windows[(i >> 1) % windows.length]}` : '') +
    (i % 3 === 0 ? ' abort after 1h' : ''),
);
const watch = new ThresholdWatch(sources.map(parseThreshold));
// Seconds of 1,000 requests, latencies spread over 1..500 ms.
const seconds = Array.from({ length: 50 }, (_, s) => {
  const h = createLatencyHistogram();
  for (let i = 0; i < 1000; i++) h.recordValue(1000 + ((i * 7919 + s * 104729) % 500_000));
  return encodeHistogram(h);
});
const total = 600;
let t0 = 0;
for (let t = 0; t < total; t++) {
  if (t === 300) t0 = process.cpuUsage().user;
  watch.add({ t, requests: 1000, ok: 990, histogram: seconds[t % 50], lengthMs: 1000 });
}
const perMs = (process.cpuUsage().user - t0) / 1000 / (total - 300);
console.log(`${n} thresholds (${n / 2} over windows of 10s..5m): ${perMs.toFixed(2)} ms CPU per evaluation (per second of run)`);

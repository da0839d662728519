// Child process: one open-model resil run against <url> at <rate>/s for <seconds>; prints one JSON
// line (see measure.mjs) with the p50 from schedule beside the p50 of the service time.
import { measureAndPrint } from './measure.mjs';
import { runLoad } from '../../dist/index.js';

const [url, rate, seconds] = process.argv.slice(2);
if (!url || !(Number(rate) > 0) || !(Number(seconds) > 0)) throw new Error(`usage: node ${process.argv[1]} <url> <rate> <seconds>`);

await measureAndPrint(async () => {
  const result = await runLoad({ url, rate: Number(rate), duration: `${seconds}s` });
  return {
    requests: result.requests.total,
    durationMs: result.durationMs, // ms
    p50Ms: result.latencyMs?.p50 ?? null, // ms, from the scheduled time
    serviceP50Ms: result.serviceTimeMs?.p50 ?? null, // ms, from the actual send
    p99Ms: result.latencyMs?.p99 ?? null,
    serviceP99Ms: result.serviceTimeMs?.p99 ?? null,
    lateStarts: result.schedule?.lateStarts ?? null,
    peakConnections: result.schedule?.peakConnections ?? null,
    errors: result.requests.failed,
  };
});

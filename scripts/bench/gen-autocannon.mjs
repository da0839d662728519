// Child process: one autocannon (v9, programmatic API) run against <url>; prints one JSON line
// with the same fields as gen-resil.mjs (see measure.mjs).
import autocannon from 'autocannon';
import { measureAndPrint, settingsFromArgv } from './measure.mjs';

const { url, concurrency, seconds } = settingsFromArgv();

await measureAndPrint(async () => {
  const result = await autocannon({ url, connections: concurrency, duration: seconds });
  // autocannon: result.duration is in seconds (actual, 10 ms resolution); result.requests.total is
  // the number of completed responses; result.latency.p50/p99 are in ms (2xx responses only).
  const requests = result.requests.total;
  return {
    requests,
    durationMs: result.duration * 1000, // ms
    rps: result.duration > 0 ? requests / result.duration : 0, // requests per second
    p50Ms: result.latency.p50, // ms
    p99Ms: result.latency.p99, // ms
    errors: result.errors + result.timeouts + result.non2xx, // socket errors, timeouts, non-2xx
  };
});

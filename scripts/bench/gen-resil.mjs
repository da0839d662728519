// Child process: one resil load run against <url>; prints one JSON line (see measure.mjs).
import { measureAndPrint, settingsFromArgv } from './measure.mjs';
import { runLoad } from '../../dist/index.js';

const { url, concurrency, seconds } = settingsFromArgv();
// Optional 4th argument: worker threads (workers.mjs compares 1 and 2).
const workers = Number(process.argv[5] ?? 1);
// BENCH_REQUEST_IDS=1: every request carries X-Request-Id and traceparent, as in chaos runs.
const requestIds = process.env.BENCH_REQUEST_IDS === '1' ? { requestIds: { runId: '0123456789abcdef' } } : {};

await measureAndPrint(async () => {
  const result = await runLoad({ url, concurrency, duration: `${seconds}s`, workers, ...requestIds });
  return {
    requests: result.requests.total, // completed requests (ok + failed)
    durationMs: result.durationMs, // ms, measured by resil
    rps: result.rps, // requests per second, as resil reports it
    p50Ms: result.latencyMs?.p50 ?? null, // ms
    p99Ms: result.latencyMs?.p99 ?? null, // ms
    errors: result.requests.failed, // requests that did not succeed
    cancelled: result.requests.cancelled, // abandoned at the run's end, outside `requests`
    streams: result.streams?.streams ?? 0, // text/event-stream answers (streams.mjs)
    dataEvents: result.streams?.dataEvents ?? 0, // their data events
  };
});

import { refusedPort } from './helpers/servers.js';
import { runCli } from './helpers/cli.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

// examples/redis-cache end to end, as its README runs it: `resil run examples/redis-cache/resil.yaml`
// starts the example service, puts resil's TCP proxy between it and Redis (this file's own private
// redis-server), and drives load while Redis is slowed, cut and taken down. The ports come in through
// the campaign's ${VAR} defaults.
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

interface Threshold {
  expression: string;
  ok: boolean;
}

async function runExample(extra: Record<string, string> = {}) {
  const env = {
    REDIS_PORT: String(redis.port),
    REDIS_PROXY_PORT: String(await refusedPort()),
    CACHE_PORT: String(await refusedPort()),
    ...extra,
  };
  const run = await runCli(['run', 'examples/redis-cache/resil.yaml', '--json'], { env, timeoutMs: 40_000 });
  expect(run.stderr).not.toMatch(/Error|error:/);
  return { code: run.code, document: JSON.parse(run.stdout) };
}

const failed = (result: { thresholds: Threshold[] }) => result.thresholds.filter((t) => !t.ok).map((t) => t.expression);

test('the Redis cache example holds its thresholds while its Redis is slowed, cut and down; without a short cache timeout it fails', async () => {
  // One after the other: two campaigns at 100 requests/s at once on a loaded 2-core CI box pushed the
  // steady scenario's p99 over its bound.
  const resilient = await runExample();
  const slowCache = await runExample({ CACHE_TIMEOUT_MS: '2000' });
  const [steady, faults] = resilient.document.scenarios;
  expect(failed(steady.result)).toEqual([]);
  expect(failed(faults.result)).toEqual([]);
  expect(resilient.code).toBe(0);
  // Each fault took hold of the service's connections to Redis; `down` closed the listener once.
  const injected = faults.result.faults.injected;
  expect(injected['latency:300ms']).toBeGreaterThan(0);
  expect(injected.reset_peer).toBeGreaterThan(0);
  expect(injected['limit_data:2000']).toBeGreaterThan(0);
  expect(injected.down).toBe(1);
  // One recovery per phase, each measured (not null: the service kept answering from the origin).
  expect(faults.result.recovery).toHaveLength(4);
  for (const recovery of faults.result.recovery) expect(recovery.recoveryMs).not.toBeNull();

  // A cache call allowed 2 s waits out the whole 300 ms latency: every request still succeeds, p99 fails.
  expect(slowCache.code).toBe(1);
  expect(failed(slowCache.document.scenarios[1].result)).toEqual(['p99<250ms']);
}, 80_000);

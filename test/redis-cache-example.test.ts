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

test('the Redis cache example holds its thresholds while its Redis is slowed, cut and down, and recovers after each', async () => {
  const env = {
    REDIS_PORT: String(redis.port),
    REDIS_PROXY_PORT: String(await refusedPort()),
    CACHE_PORT: String(await refusedPort()),
  };
  const run = await runCli(['run', 'examples/redis-cache/resil.yaml', '--json'], { env, timeoutMs: 40_000 });
  expect(run.stderr).not.toMatch(/Error|error:/);
  const document = JSON.parse(run.stdout);
  const [steady, faults] = document.scenarios;
  expect(steady.result.thresholds.filter((t: Threshold) => !t.ok)).toEqual([]);
  expect(faults.result.thresholds.filter((t: Threshold) => !t.ok)).toEqual([]);
  expect(run.code).toBe(0);
  // Each fault took hold on the service's connections to Redis; `down` closed the listener once.
  const injected = faults.result.faults.injected;
  expect(injected['latency:300ms']).toBeGreaterThan(0);
  expect(injected.reset_peer).toBeGreaterThan(0);
  expect(injected['limit_data:2000']).toBeGreaterThan(0);
  expect(injected.down).toBe(1);
  // One recovery per phase, each measured (not null: the service never stopped answering).
  expect(faults.result.recovery).toHaveLength(4);
  for (const recovery of faults.result.recovery) expect(recovery.recoveryMs).not.toBeNull();
}, 45_000);

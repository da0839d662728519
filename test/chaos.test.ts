import { runChaos } from '../src/chaos/run-chaos.js';
import { runCli } from './helpers/cli.js';
import { cpuWait } from './helpers/machine.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';
import { startSut } from './helpers/sut.js';

const FAULTS = 'status:503=5,status:429=1,reset=1,close=1';

describe('resil chaos with a service under test', () => {
  let upstream: TestServer;
  beforeAll(async () => {
    upstream = await startServer((_req, res) => res.end('{"result":"ok"}'));
  });
  afterAll(() => upstream.close());

  async function campaign(retries: number, extra: Record<string, unknown> = {}) {
    const port = await refusedPort();
    const sut = await startSut(`http://127.0.0.1:${port}`, retries);
    const before = upstream.seen;
    try {
      const result = await runChaos({
        load: { url: sut.url, requests: 400, concurrency: 8, seed: 11 },
        proxy: { listen: `127.0.0.1:${port}`, upstream: upstream.url, failureRate: 0.3, faults: FAULTS, ...extra },
      });
      return { result, upstreamSaw: upstream.seen - before };
    } finally {
      await sut.close();
    }
  }

  test('a service with retries stays above 95% at 30% faults; the same service without them does not', async () => {
    const resilient = await campaign(3);
    const naive = await campaign(0);
    expect(resilient.result.successRate).toBeGreaterThanOrEqual(0.95);
    // Without retries about 30% of requests fail (3 sigma over 400 requests is about 7 points).
    expect(naive.result.successRate).toBeLessThan(0.8);
    expect(naive.result.successRate).toBeGreaterThan(0.6);
    expect(naive.result.thresholds).toEqual([{ expression: 'success_rate>=0.9', ok: false, actual: naive.result.successRate, default: true }]);
  });

  test('the proxy counts are exact: passed through equals what the upstream saw; amplification is calls per request', async () => {
    const naive = await campaign(0);
    const { faults, requests } = naive.result;
    expect(faults!.passedThrough).toBe(naive.upstreamSaw);
    expect(faults!.upstreamCalls).toBe(requests.total); // one dependency call per request, no retries
    expect(naive.result.amplification).toBe(1);
    const injected = Object.values(faults!.injected).reduce((a, b) => a + b, 0);
    expect(injected + faults!.passedThrough).toBe(faults!.upstreamCalls);

    const resilient = await campaign(3);
    expect(resilient.result.faults!.passedThrough).toBe(resilient.upstreamSaw);
    // Each request makes 1/(1-0.3) ≈ 1.43 calls on average with retries (tolerance ±0.15).
    expect(resilient.result.amplification).toBeGreaterThan(1.28);
    expect(resilient.result.amplification).toBeLessThan(1.58);
  });

  test('a down window refuses calls for its length, and recovery is measured after it', async () => {
    const port = await refusedPort();
    const sut = await startSut(`http://127.0.0.1:${port}`, 0);
    try {
      const result = await runChaos({
        load: { url: sut.url, rate: 100, duration: '3s', concurrency: 10, thresholds: ['recovery<2s'] },
        proxy: { listen: `127.0.0.1:${port}`, upstream: upstream.url, faults: 'down', windows: ['1s..2s'] },
      });
      const [before, during, after] = result.timeline.map((s) => s.ok / Math.max(1, s.requests));
      // Tolerance: the window edges fall within a few ms of the second boundaries.
      expect(before).toBeGreaterThan(0.95);
      expect(during).toBeLessThan(0.1);
      expect(after).toBeGreaterThan(0.95);
      expect(result.faults!.injected).toEqual({ down: 1 });
      expect(result.recovery).toEqual([{ window: '1s..2s', recoveryMs: 0 }]);
      expect(result.thresholds[0]).toMatchObject({ expression: 'recovery<2s', ok: true, actual: 0 });
    } finally {
      await sut.close();
    }
  });
});

describe('resil chaos in policy mode (resil is the client)', () => {
  test('retries with backoff keep success above 95% at 30% 503s; without retries it falls', async () => {
    // Retry-After: 0 on the injected 503s, so each retry waits for the backoff (1 ms), not for the
    // default Retry-After of 1 s (honouring it is the next test): 16 s of waiting less.
    const withRetries = await runChaos({
      load: { requests: 300, concurrency: 10, policy: { retries: 3, backoff: 'fixed:1ms' }, seed: 5 },
      proxy: { mock: {}, failureRate: 0.3, faults: 'status:503', retryAfter: 0 },
    });
    expect(withRetries.successRate).toBeGreaterThanOrEqual(0.95);
    expect(withRetries.policy!.retried).toBeGreaterThan(50);
    expect(withRetries.policy!.attempts).toBe(withRetries.faults!.upstreamCalls);
    expect(withRetries.amplification).toBeCloseTo(withRetries.policy!.attempts / 300, 3);

    const without = await runChaos({
      load: { requests: 300, concurrency: 10, policy: { retries: 0 }, seed: 5 },
      proxy: { mock: {}, failureRate: 0.3, faults: 'status:503' },
    });
    expect(without.successRate).toBeLessThan(0.8);
    expect(without.policy!.attempts).toBe(300);
    expect(without.errors['status:503']).toBe(without.requests.failed);
  });

  test('Retry-After is honoured: a 429 with Retry-After: 1 delays the retry by about a second', async () => {
    const waited = cpuWait();
    const result = await runChaos({
      load: { requests: 1, concurrency: 1, policy: { retries: 1, backoff: 'fixed:1ms' } },
      proxy: { mock: {}, failureRate: 1, faults: 'status:429', retryAfter: 1 },
    });
    // Two attempts, both 429; the wait between them is the server's 1 s (tolerance +300 ms, plus the
    // time other processes kept this one off the CPU).
    expect(result.policy!.attempts).toBe(2);
    expect(result.latencyMs!.max).toBeGreaterThanOrEqual(1000);
    expect(result.latencyMs!.max).toBeLessThan(1300 + waited());
  });

  test('an open breaker refuses calls without touching the provider; failover takes over', async () => {
    const healthy = await startServer((_req, res) => res.end('ok'));
    const broken = await startServer((_req, res) => res.end('ok'));
    try {
      // Both proxies get the same faults; targeting makes only the primary's path fail.
      const result = await runChaos({
        load: { requests: 100, concurrency: 1, policy: { retries: 0, breaker: '3/10s' } },
        proxy: { upstream: `${broken.url}/broken/v1`, failureRate: 1, faults: 'status:503', matchPath: '/broken/**' },
        failover: [`${healthy.url}/healthy/v1`],
      });
      expect(result.successRate).toBe(1);
      // Three 503s open the breaker; the other 97 requests never reach the primary.
      expect(result.faults!.providers.dependency!.calls).toBe(3);
      expect(result.policy).toMatchObject({ attempts: 103, failovers: 100, breakerRejections: 97, providers: 2 });
      expect(healthy.seen).toBe(100);
      expect(broken.seen).toBe(0);
    } finally {
      await healthy.close();
      await broken.close();
    }
  });
});

describe('resil chaos on the command line', () => {
  // One test per input: each is a spawn of its own.
  test.each(
    [
      ['chaos', '--mock', '--faults', 'status:99'],
      ['chaos', '--mock', '--faults', 'latency:fast'],
      ['chaos', '--mock', '--faults', 'truncate:-1'],
      ['chaos', '--mock', '--faults', 'explode'],
      ['chaos', '--mock', '--failure-rate', '1.5'],
      ['chaos', '--mock', '--fault-window', '5s..2s'],
      ['chaos', '--upstream', 'ftp://127.0.0.1/'],
      ['chaos', 'http://127.0.0.1:9/', '--mock'],
    ].map((args) => [args.join(' '), args]),
  )('bad fault input is exit 2 with one line, before anything starts: resil %s', async (_name, args) => {
    const run = await runCli(args);
    expect({ args, code: run.code }).toEqual({ args, code: 2 });
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  test('a proxy port already in use is exit 3, saying so', async () => {
    const busy = await startServer();
    const run = await runCli(['chaos', 'http://127.0.0.1:9/', '--mock', '--listen', `127.0.0.1:${busy.port}`, '-n', '1']);
    await busy.close();
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/already in use/);
  });

  test('policy mode end to end: summary shows injected faults, amplification and the policy', async () => {
    // --retry-after 0: the retries wait for the 1 ms backoff, not for a Retry-After of 1 s.
    const run = await runCli(['chaos', '--mock', '--failure-rate', '0.3', '--faults', 'status:503', '--retry-after', '0', '--retries', '2', '--backoff', 'fixed:1ms', '-n', '200', '--seed', '3']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/injected\s+status:503 × \d+/);
    expect(run.stdout).toMatch(/amplification \d\.\d\d dependency calls per request/);
    expect(run.stdout).toContain('success_rate>=0.9 (default)');
    expect(run.stdout).toContain('seed 3');
  });
});

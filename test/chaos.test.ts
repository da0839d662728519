import { runChaos } from '../src/session/chaos.js';
import { noCallNote, tooFewFaults } from '../src/chaos/verdicts.js';
import { emptyStats } from '../src/proxy/stats.js';
import { parseListen } from '../src/proxy/listen.js';
import { renderHtml } from '../src/report/html.js';
import { renderJunit } from '../src/report/junit.js';
import { renderStepSummary } from '../src/report/github.js';
import { exitCodeFor } from '../src/report/result.js';
import { renderSummary } from '../src/report/terminal.js';
import { runCli } from './helpers/cli.js';
import { UsageError } from '../src/errors.js';
import { parseTargetUrl } from '../src/util/url.js';
import { parseFaultMix } from '../src/faults/registry.js';
import Load from '../src/commands/load.js';
import Chaos from '../src/commands/chaos.js';
import Run from '../src/commands/run.js';
import Report from '../src/commands/report.js';
import { cpuWait } from './helpers/machine.js';
import { refusedPort, startServer, startStatusServer, type TestServer } from './helpers/servers.js';
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
    expect(naive.result.thresholds).toEqual([
      {
        expression: 'success_rate>=0.9',
        metric: 'success_rate',
        kind: 'ratio',
        ok: false,
        actual: naive.result.successRate,
        formatted: expect.stringMatching(/^\d+\.\d\d%$/),
        default: true,
      },
      {
        expression: 'dependency_calls>0',
        metric: 'dependency_calls',
        kind: 'count',
        ok: true,
        actual: naive.result.faults!.upstreamCalls,
        formatted: naive.result.faults!.upstreamCalls.toLocaleString('en-US'),
        default: true,
      },
    ]);
    expect(naive.result.warnings).toEqual([]);
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

  test("thresholds on one provider: 'dependency' and 'failover-N' are its names; another is refused before anything starts", async () => {
    const healthy = await startServer((_req, res) => res.end('ok'));
    try {
      const options = (thresholds: string[]) => ({
        load: { requests: 20, concurrency: 1, policy: { retries: 0 }, thresholds },
        proxy: { mock: {}, failureRate: 1, faults: 'status:503' },
        failover: [healthy.url],
      });
      // Each request: a 503 from the primary, then the failover (the same faults: a 503 too).
      const result = await runChaos(options(['dependency_calls{dependency}==20', 'dependency_calls{failover-1}==20', 'success_rate>=0']));
      expect(result.thresholds.map((t) => [t.expression, t.provider, t.ok])).toEqual([
        ['dependency_calls{dependency}==20', 'dependency', true],
        ['dependency_calls{failover-1}==20', 'failover-1', true],
        ['success_rate>=0', undefined, true],
        ['dependency_calls>0', undefined, true],
      ]);
      await expect(runChaos(options(['dependency_calls{failover-2}>0']))).rejects.toThrow(
        new UsageError(
          "threshold 'dependency_calls{failover-2}>0': unknown provider 'failover-2': did you mean 'failover-1'? " +
            "(the run's providers: dependency, failover-1)",
        ),
      );
    } finally {
      await healthy.close();
    }
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
    const run = await runCli([
      'chaos',
      '--mock',
      '--failure-rate',
      '0.3',
      '--faults',
      'status:503',
      '--retry-after',
      '0',
      '--retries',
      '2',
      '--backoff',
      'fixed:1ms',
      '-n',
      '200',
      '--seed',
      '3',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/injected\s+status:503 × \d+/);
    expect(run.stdout).toMatch(/amplification \d\.\d\d dependency calls per request/);
    expect(run.stdout).toContain('success_rate>=0.9 (default)');
    expect(run.stdout).toContain('seed 3');
  });
});

describe('no verdict without an experiment', () => {
  test('a service that never calls the proxy fails (exit 1) with one line naming the address to call', async () => {
    const sut = await startServer((_req, res) => res.end('ok')); // answers without calling any dependency
    const port = await refusedPort();
    try {
      const run = await runCli([
        'chaos',
        sut.url,
        '--listen',
        `127.0.0.1:${port}`,
        '--mock',
        '--failure-rate',
        '0.3',
        '-n',
        '50',
        '-c',
        '2',
      ]);
      expect(run.code).toBe(1);
      const cause = run.stdout.split('\n').filter((line) => line.startsWith('✗ '));
      expect(cause).toEqual([
        `✗ no dependency call reached the chaos proxy at 127.0.0.1:${port}: point the service's dependency URL at http://127.0.0.1:${port}`,
      ]);
      expect(run.stdout).toMatch(/success_rate>=0\.9 \(default\)\s*│\s*100\.00%\s*│\s*pass/);
      expect(run.stdout).toMatch(/dependency_calls>0 \(default\)\s*│\s*0\s*│\s*FAIL/);

      const json = await runCli(['chaos', sut.url, '--listen', `127.0.0.1:${port}`, '--mock', '-n', '10', '-c', '1', '--json']);
      expect(json.code).toBe(1);
      const document = JSON.parse(json.stdout);
      expect(document.thresholds[1]).toEqual({
        expression: 'dependency_calls>0',
        metric: 'dependency_calls',
        kind: 'count',
        ok: false,
        actual: 0,
        formatted: '0',
        default: true,
        note: expect.stringContaining(`http://127.0.0.1:${port}`),
      });
    } finally {
      await sut.close();
    }
  });

  test('policy mode with the proxy down for the whole run does not pass either', async () => {
    const result = await runChaos({
      load: { requests: 5, concurrency: 1, policy: { retries: 0 } },
      proxy: { mock: {}, failureRate: 1, faults: 'down' },
    });
    const verdict = result.thresholds.find((t) => t.expression === 'dependency_calls>0')!;
    expect(verdict).toMatchObject({ ok: false, actual: 0 });
    expect(verdict.note).toMatch(
      /^no call reached the chaos proxy at 127\.0\.0\.1:\d+: nothing was tested; a proxy that is down \(fault 'down'\) sees no call/,
    );
    expect(exitCodeFor(result)).toBe(3); // every request refused: the run could not be carried out
  });

  test("a 0%-success run with only -t 'recovery<5s' fails on the default success check; 'success_rate>=0' accepts it", async () => {
    // The dependency always answers 503, so the service fails every request, inside the fault window and out:
    // the success rate never leaves its steady state of 0%, and recovery<5s passes.
    const broken = await startStatusServer(503);
    const port = await refusedPort();
    const sut = await startSut(`http://127.0.0.1:${port}`, 0);
    try {
      const run = (thresholds: string[]) =>
        runChaos({
          load: { url: sut.url, rate: 20, duration: '3s', concurrency: 4, thresholds },
          proxy: { listen: `127.0.0.1:${port}`, upstream: broken.url, failureRate: 0.5, faults: 'status:500', windows: ['1s..2s'] },
        });
      const judged = await run(['recovery<5s']);
      expect(judged.successRate).toBe(0);
      expect(judged.thresholds.map((t) => [t.expression, t.ok])).toEqual([
        ['recovery<5s', true],
        ['success_rate>=0.9', false],
        ['dependency_calls>0', true],
      ]);
      expect(exitCodeFor(judged)).toBe(1);
      const accepted = await run(['recovery<5s', 'success_rate>=0']);
      expect(accepted.thresholds.every((t) => t.ok)).toBe(true);
      expect(exitCodeFor(accepted)).toBe(0);
    } finally {
      await sut.close();
      await broken.close();
    }
  });

  test('a dead upstream: every output says that calls got no answer from it', async () => {
    const port = await refusedPort();
    const dead = await refusedPort();
    const sut = await startSut(`http://127.0.0.1:${port}`, 0);
    try {
      const result = await runChaos({
        load: { url: sut.url, requests: 20, concurrency: 2 },
        proxy: { listen: `127.0.0.1:${port}`, upstream: `http://127.0.0.1:${dead}`, failureRate: 0.1 },
      });
      expect(result.faults!.upstreamErrors).toBe(result.faults!.passedThrough);
      const warning = `proxy dependency (127.0.0.1:${port}): ${result.faults!.upstreamErrors} of ${result.faults!.passedThrough} calls passed through got no answer from the upstream http://127.0.0.1:${dead}/ (the caller got a 502 or a cut connection): is it running?`;
      expect(result.warnings).toEqual([warning]);
      const summary = renderSummary(result, { color: false });
      expect(summary).toContain(`${result.faults!.upstreamErrors} upstream errors)`);
      expect(summary).toContain(`warning: ${warning}`);
      expect(summary).toMatch(/1 of 2 thresholds failed · 1 warning\n$/);
      expect(renderStepSummary([{ name: 'chaos', document: result }])).toContain('⚠️ **warning:** proxy dependency \\(127.0.0.1:');
      expect(renderHtml([{ name: 'chaos', document: result }])).toContain(
        `<strong class="warn-text">warning:</strong> proxy dependency (127.0.0.1:${port})`,
      );
      expect(renderJunit([{ name: 'chaos', document: result }])).toContain(`<system-out>warning: proxy dependency (127.0.0.1:${port})`);
    } finally {
      await sut.close();
    }
  });

  test('targeting that matches nothing, and a fault window after the end, are warnings', async () => {
    const result = await runChaos({
      load: { requests: 60, concurrency: 2, policy: { retries: 0 } },
      proxy: { mock: {}, failureRate: 0.5, faults: 'status:503', matchPath: '/nothing/**', windows: ['0s..10s', '30s..40s'] },
    });
    const stats = result.faults!.providers.dependency!;
    expect(stats).toMatchObject({ calls: 60, eligible: 60, considered: 0, expected: 0 });
    expect(result.warnings).toEqual([
      expect.stringMatching(/^proxy dependency \(127\.0\.0\.1:\d+\): none of the 60 calls in a fault window matched the targeting/),
      expect.stringMatching(/^fault window 30s\.\.40s starts after the run ended \(\d/),
    ]);
    expect(result.thresholds.every((t) => t.ok)).toBe(true); // warnings fail nothing
  });

  test('the note names what went wrong: no request sent, a service that refused every connection, a proxy left down', () => {
    const providers = { dependency: { ...emptyStats(), target: 'mock', listen: 'http://127.0.0.1:8091' } };
    const service = { clientIsSubject: false, requests: 10, refused: 0 };
    expect(noCallNote(providers, { ...service, requests: 0 })).toBe('no request was sent, so no dependency call could be made');
    expect(noCallNote(providers, { ...service, refused: 10 })).toMatch(
      /because no request reached the service: every connection to it was refused$/,
    );
    const down = { dependency: { ...providers.dependency, injected: { down: 1 } } };
    expect(noCallNote(down, service)).toMatch(
      /point the service's dependency URL at http:\/\/127\.0\.0\.1:8091; a proxy that is down \(fault 'down'\) sees no call/,
    );
  });

  test('the fault-rate shortfall test: fewer than half of those expected, and beyond chance', () => {
    expect(tooFewFaults(0, 15)).toBe(true); // 0 of 15 expected: chance e^-15
    expect(tooFewFaults(2, 30)).toBe(true);
    expect(tooFewFaults(14, 30)).toBe(false); // under half, but chance gives that often enough (bound 0.5%)
    expect(tooFewFaults(24, 60)).toBe(true);
    expect(tooFewFaults(0, 0.5)).toBe(false); // a low rate over few calls: nothing to say
    expect(tooFewFaults(20, 30)).toBe(false);
  });
});

describe('--listen', () => {
  test.each([
    ['8081', { host: '127.0.0.1', port: 8081 }],
    [':8081', { host: '127.0.0.1', port: 8081 }],
    ['127.0.0.2:8081', { host: '127.0.0.2', port: 8081 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:8081', { host: '::1', port: 8081 }],
  ])('%s', (text, expected) => {
    expect(parseListen(text)).toEqual(expected);
  });

  test.each(['808:1', 'garbage', '127.0.0.1', '127.0.0.1:99999', '70000', '[nope]:80', 'host:port', '::1:8081'])(
    '%s is a usage error naming it',
    (text) => {
      expect(() => parseListen(text)).toThrow(`--listen '${text}'`);
    },
  );

  test('on the command line: a bare port listens on 127.0.0.1; garbage is exit 2; 0.0.0.0 warns as resil proxy does', async () => {
    const port = await refusedPort();
    const bare = await runCli(['chaos', '--mock', '--listen', String(port), '-n', '2', '-c', '1']);
    expect(bare.code).toBe(0);
    expect(bare.stderr).toContain(`proxy dependency listening on http://127.0.0.1:${port} (loopback only)`);

    const garbage = await runCli(['chaos', '--mock', '--listen', '808:1', '-n', '1']);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr.trim()).toBe(
      "resil: --listen '808:1': '808' is not an IP address or host name (expected HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:8081 or 8081)",
    );

    // Bound for a moment on every interface; the only traffic is resil's own, over loopback.
    const exposed = await runCli(['chaos', '--mock', '--listen', '0.0.0.0:0', '-n', '1', '--json']);
    expect(exposed.code).toBe(0);
    expect(exposed.stderr).toMatch(/^resil chaos: proxy dependency on http:\/\/0\.0\.0\.0:\d+: WARNING: reachable from other hosts$/m);
  });
});

describe('input mistakes get a suggestion', () => {
  test.each([
    [
      'URL localhost:8080/x',
      () => parseTargetUrl('localhost:8080/x'),
      "'localhost:8080/x' has no scheme: did you mean 'http://localhost:8080/x'?",
    ],
    ['URL 127.0.0.1:8080', () => parseTargetUrl('127.0.0.1:8080'), "'127.0.0.1:8080' has no scheme: did you mean 'http://127.0.0.1:8080'?"],
    ['--faults 503=5,timeout', () => parseFaultMix('503=5,timeout'), "unknown fault type '503': did you mean 'status:503'?"],
    ['--faults timout=2,reset', () => parseFaultMix('timout=2,reset'), "unknown fault type 'timout': did you mean 'timeout'?"],
    ['--faults slow_body:100', () => parseFaultMix('slow_body:100'), "did you mean 'slow-body:100'?"],
    ['--faults explode', () => parseFaultMix('explode'), "unknown fault type 'explode' (known: status, "],
  ])('%s', (_label, parse, message) => {
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });

  test('on the command line: exit 2, one line', async () => {
    const run = await runCli(['chaos', '--mock', '--faults', '503']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      "resil: --faults: unknown fault type '503': did you mean 'status:503'? (known: status, latency, timeout, reset, close, truncate, stream-error, stall, slow-body, malformed, down)",
    );
  });

  test('--out help lists every output format, from the one table of writers', async () => {
    for (const command of [Load, Chaos, Run, Report]) {
      const summary = (command.flags as Record<string, { summary?: string }>).out!.summary!;
      expect(summary).toMatch(
        /\.json the result document, \.xml JUnit, a test case per threshold, \.html a self-contained report, \.prom Prometheus text\.$/,
      );
    }
  });
});

import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { runChaos } from '../../src/session/chaos.js';
import type { Progress } from '../../src/engine/run.js';
import { runLoad } from '../../src/session/load.js';
import { CouldNotRunError } from '../../src/errors.js';
import { createLatencyHistogram, encodeHistogram } from '../../src/metrics/histogram.js';
import type { LiveView } from '../../src/metrics/live.js';
import { startMetricsServer } from '../../src/metrics/metrics-server.js';
import { LATENCY_BUCKETS_SECONDS } from '../../src/metrics/prometheus.js';
import { renderPrometheus } from '../../src/report/prometheus.js';
import type { ResultDocument } from '../../src/model/result.js';
import { startServer, type TestServer } from '../helpers/servers.js';
import { behaviourFixture } from '../helpers/behaviour-fixture.js';

// ---------------------------------------------------------------------------------------------
// A small checker of the Prometheus text exposition format (version 0.0.4).

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]?Inf|NaN|Nan';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (${VALUE})(?: -?\\d+)?$`);
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

/** Parses exposition text, throwing on any line out of format; checks HELP/TYPE and histogram invariants. */
function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, Family>();
  const familyOf = (sampleName: string): Family | undefined => {
    for (const suffix of ['', '_bucket', '_sum', '_count']) {
      if (suffix !== '' && !sampleName.endsWith(suffix)) continue;
      const family = families.get(sampleName.slice(0, sampleName.length - suffix.length));
      if (family && (suffix === '' || family.type === 'histogram' || family.type === 'summary')) return family;
    }
    return undefined;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      expect(name).toMatch(new RegExp(`^${NAME}$`));
      const family = families.get(name!) ?? { name: name!, samples: [] };
      families.set(name!, family);
      if (kind === 'HELP') {
        expect(family.help).toBeUndefined();
        family.help = rest;
      } else {
        expect(family.type).toBeUndefined();
        expect(family.samples).toHaveLength(0); // TYPE comes before the samples
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        family.type = rest;
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = match;
    const labels: Record<string, string> = {};
    for (const pair of (labelText ?? '').matchAll(LABEL_PAIR)) {
      expect(labels[pair[1]!]).toBeUndefined();
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value =
      valueText === '+Inf' || valueText === 'Inf'
        ? Infinity
        : valueText === '-Inf'
          ? -Infinity
          : /nan/i.test(valueText!)
            ? NaN
            : Number(valueText);
    const family = familyOf(name!);
    if (!family) throw new Error(`sample ${name} has no HELP/TYPE`);
    family.samples.push({ name: name!, labels, value });
  }
  for (const family of families.values()) {
    expect(family.help).toBeDefined();
    expect(family.type).toBeDefined();
    // No series twice.
    const keys = family.samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`);
    expect(new Set(keys).size).toBe(keys.length);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    else if (sample.name.endsWith('_sum')) entry.sum = sample.value;
    else if (sample.name.endsWith('_count')) entry.count = sample.value;
  }
  for (const entry of series.values()) {
    expect(entry.count).toBeDefined();
    expect(entry.sum).toBeDefined();
    const bounds = entry.buckets.map(([bound]) => bound);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    expect(bounds.at(-1)).toBe(Infinity);
    for (let i = 1; i < entry.buckets.length; i++) expect(entry.buckets[i]![1]).toBeGreaterThanOrEqual(entry.buckets[i - 1]![1]);
    expect(entry.buckets.at(-1)![1]).toBe(entry.count);
  }
}

/** The value of one sample, or undefined. */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  const familyName = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(familyName);
  const found = family?.samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return found?.value;
}

const sumOf = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------

test('the format checker itself rejects bad text', () => {
  const ok = '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
  expect(() => parseExposition(ok)).not.toThrow();
  expect(() => parseExposition(ok.replace('h_bucket{le="1"} 1', 'h_bucket{le="1"} 3'))).toThrow(); // decreasing
  expect(() => parseExposition(ok.replace('h_count 2', 'h_count 5'))).toThrow(); // +Inf != count
  expect(() => parseExposition(ok.replace('# TYPE h histogram\n', ''))).toThrow(); // no TYPE
  expect(() => parseExposition('# HELP c x\n# TYPE c counter\nc{a="1} 1\n')).toThrow(); // bad labels
  expect(() => parseExposition('# HELP c x\n# TYPE c counter\nc 1 2 3\n')).toThrow();
});

describe('renderPrometheus', () => {
  let server: TestServer;
  let load: ResultDocument;
  let chaos: ResultDocument;

  beforeAll(async () => {
    let n = 0;
    // Every fourth request is answered 503.
    server = await startServer((_req, res) => {
      n++;
      res.writeHead(n % 4 === 0 ? 503 : 200).end('x');
    });
    load = await runLoad({ url: server.url, requests: 400, concurrency: 8 });
    chaos = await runChaos({
      load: { requests: 200, concurrency: 5, policy: { retries: 0 } },
      proxy: { mock: {}, failureRate: 0.3, faults: 'status:503' },
    });
  });
  afterAll(() => server.close());

  test('a load run: counts equal the document, the histogram holds every response, the text is valid', async () => {
    const text = await renderPrometheus([{ name: 'load', document: load }]);
    const families = parseExposition(text);
    expect(families.get('resil_requests_total')!.type).toBe('counter');
    expect(families.get('resil_request_duration_seconds')!.type).toBe('histogram');
    expect(families.get('resil_success_ratio')!.type).toBe('gauge');

    expect(load.requests.total).toBe(400);
    expect(load.errors['status:503']).toBe(100);
    expect(sample(families, 'resil_requests_total', { scenario: 'load', outcome: 'ok' })).toBe(load.requests.ok);
    expect(sample(families, 'resil_requests_total', { scenario: 'load', outcome: 'status:503' })).toBe(100);
    const requests = families.get('resil_requests_total')!.samples.reduce((a, s) => a + s.value, 0);
    expect(requests).toBe(load.requests.total);

    const responses = sumOf(load.statusCodes);
    expect(sample(families, 'resil_request_duration_seconds_bucket', { scenario: 'load', le: '+Inf' })).toBe(responses);
    expect(sample(families, 'resil_request_duration_seconds_count', { scenario: 'load' })).toBe(responses);
    const sum = sample(families, 'resil_request_duration_seconds_sum', { scenario: 'load' })!;
    expect(sum).toBeCloseTo((load.latencyMs!.mean / 1000) * responses, 2);
    expect(families.get('resil_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket'))).toHaveLength(
      LATENCY_BUCKETS_SECONDS.length + 1,
    );

    expect(sample(families, 'resil_success_ratio', { scenario: 'load' })).toBe(load.successRate);
    expect(sample(families, 'resil_requests_per_second', { scenario: 'load' })).toBe(load.rps);
    expect(load.thresholds).toHaveLength(1); // the default success_rate>=0.95
    expect(sample(families, 'resil_threshold_ok', { scenario: 'load', expression: load.thresholds[0]!.expression })).toBe(0); // 75% < 95%
    expect(families.get('resil_faults_injected_total')!.samples).toHaveLength(0);
  });

  test('a chaos run in policy mode: faults per provider and type, with the load run in one file', async () => {
    const text = await renderPrometheus([
      { name: 'load', document: load },
      { name: 'chaos "policy"\\mode', document: chaos },
    ]);
    const families = parseExposition(text);
    const scenario = 'chaos "policy"\\mode'; // label values are escaped and read back
    const injected = chaos.faults!.providers.dependency!.injected;
    expect(injected['status:503']).toBeGreaterThan(20);
    expect(sample(families, 'resil_faults_injected_total', { scenario, provider: 'dependency', type: 'status:503' })).toBe(
      injected['status:503'],
    );
    expect(sample(families, 'resil_requests_total', { scenario, outcome: 'ok' })).toBe(chaos.requests.ok);
    expect(sample(families, 'resil_requests_total', { scenario, outcome: 'status:503' })).toBe(chaos.errors['status:503']);
    const responses = sumOf(chaos.statusCodes);
    expect(responses).toBe(200);
    expect(sample(families, 'resil_request_duration_seconds_bucket', { scenario, le: '+Inf' })).toBe(responses);
    expect(sample(families, 'resil_request_duration_seconds_count', { scenario: 'load' })).toBe(400);
    for (const threshold of chaos.thresholds) {
      expect(sample(families, 'resil_threshold_ok', { scenario, expression: threshold.expression })).toBe(threshold.ok ? 1 : 0);
    }
  });

  test("fault 'down' counts outages in resil_outages_total, as the terminal does; the faults counter counts calls only", async () => {
    const stats = {
      calls: 10,
      eligible: 10,
      considered: 10,
      expected: 3,
      passedThrough: 7,
      upstreamErrors: 0,
      rejected: 0,
      unmatched: 0,
      target: 'mock',
      listen: 'http://127.0.0.1:1',
    };
    const outage: ResultDocument = {
      ...chaos,
      faults: {
        ...chaos.faults!,
        injected: { down: 2, 'status:503': 3 },
        providers: { a: { ...stats, injected: { down: 2, 'status:503': 3 } } },
      },
    };
    const families = parseExposition(await renderPrometheus([{ name: 'outage', document: outage }]));
    expect(families.get('resil_outages_total')!.type).toBe('counter');
    expect(sample(families, 'resil_outages_total', { scenario: 'outage', provider: 'a' })).toBe(2);
    expect(families.get('resil_faults_injected_total')!.samples.map((s) => s.labels.type)).toEqual(['status:503']);
  });

  test('buckets are filled exactly from the HDR histogram', async () => {
    const histogram = createLatencyHistogram();
    const micros = [500, 1000, 1000, 1001, 2000, 3000, 50_000, 99_000, 20_000_000];
    for (const us of micros) histogram.recordValue(us);
    const document: ResultDocument = { ...load, histograms: { ...load.histograms, latency: encodeHistogram(histogram) } };
    histogram.destroy();
    const families = parseExposition(await renderPrometheus([{ name: 'x', document }]));
    const bucket = (le: string) => sample(families, 'resil_request_duration_seconds_bucket', { scenario: 'x', le });
    expect(bucket('0.001')).toBe(3);
    expect(bucket('0.0025')).toBe(5);
    expect(bucket('0.005')).toBe(6);
    expect(bucket('0.05')).toBe(7);
    expect(bucket('0.1')).toBe(8);
    expect(bucket('10')).toBe(8);
    expect(bucket('+Inf')).toBe(9);
    const sum = sample(families, 'resil_request_duration_seconds_sum', { scenario: 'x' })!;
    expect(sum).toBeCloseTo(micros.reduce((a, b) => a + b, 0) / 1e6, 1); // HDR resolution: 0.1%
  });

  test('no requests: zero counts, no success ratio, still valid', async () => {
    const empty = createLatencyHistogram();
    const document: ResultDocument = {
      ...load,
      requests: { total: 0, ok: 0, failed: 0, cancelled: 0, dropped: 0 },
      successRate: null,
      errors: {},
      statusCodes: {},
      histograms: { ...load.histograms, latency: encodeHistogram(empty) },
    };
    empty.destroy();
    const families = parseExposition(await renderPrometheus([{ name: 'empty', document }]));
    expect(sample(families, 'resil_requests_total', { scenario: 'empty', outcome: 'ok' })).toBe(0);
    expect(sample(families, 'resil_request_duration_seconds_count', { scenario: 'empty' })).toBe(0);
    expect(sample(families, 'resil_success_ratio', { scenario: 'empty' })).toBeUndefined();
  });
});

describe('renderPrometheus: the dependency behaviour, per provider', () => {
  const outage = behaviourFixture();
  const behaviour = outage.behaviour!;
  let families: Map<string, Family>;
  beforeAll(async () => {
    families = parseExposition(await renderPrometheus([{ name: 'outage', document: outage }]));
  });
  const at = (provider: string) => ({ scenario: 'outage', provider });

  test('counters of what the service did, equal to the result', () => {
    for (const name of ['calls', 'retries', 'retry_after_violations', 'non_retryable_retries', 'unsafe_retries', 'failovers']) {
      expect(families.get(`resil_dependency_${name}_total`)!.type).toBe('counter');
    }
    const openai = behaviour.providers.openai!;
    expect(sample(families, 'resil_dependency_calls_total', at('openai'))).toBe(437);
    expect(sample(families, 'resil_dependency_retries_total', at('openai'))).toBe(openai.retries);
    expect(sample(families, 'resil_dependency_retry_after_violations_total', at('openai'))).toBe(8);
    expect(sample(families, 'resil_dependency_non_retryable_retries_total', at('openai'))).toBe(2);
    expect(sample(families, 'resil_dependency_failovers_total', at('anthropic'))).toBe(27);
    expect(sample(families, 'resil_dependency_timeouts_held_total', at('openai'))).toBe(17);
  });

  test('delays as histograms from the HDR histograms; figures as gauges, in seconds, left out when there is none', () => {
    expect(families.get('resil_dependency_timeout_seconds')!.type).toBe('histogram');
    expect(sample(families, 'resil_dependency_timeout_seconds_count', at('openai'))).toBe(17);
    // The service gave up on every held call after about 200 ms: all in the 0.25 s bucket, none in 0.1 s.
    expect(sample(families, 'resil_dependency_timeout_seconds_bucket', { ...at('openai'), le: '0.1' })).toBe(0);
    expect(sample(families, 'resil_dependency_timeout_seconds_bucket', { ...at('openai'), le: '0.25' })).toBe(17);
    expect(sample(families, 'resil_dependency_timeout_seconds_count', at('anthropic'))).toBeUndefined();
    expect(sample(families, 'resil_dependency_failover_delay_seconds_count', at('anthropic'))).toBe(27);
    expect(sample(families, 'resil_dependency_retry_delay_seconds_count', at('openai'))).toBe(behaviour.providers.openai!.retries);

    expect(families.get('resil_dependency_breaker_open_after_seconds')!.type).toBe('gauge');
    expect(sample(families, 'resil_dependency_attempts_max', at('openai'))).toBe(3);
    expect(sample(families, 'resil_dependency_attempts_mean', at('anthropic'))).toBe(1);
    expect(sample(families, 'resil_dependency_breaker_open_after_seconds', at('openai'))).toBe(0.5);
    expect(sample(families, 'resil_dependency_breaker_close_after_seconds', at('openai'))).toBe(0.5);
    expect(sample(families, 'resil_dependency_breaker_probes_per_second', at('openai'))).toBe(0.8);
    expect(sample(families, 'resil_dependency_retry_storm_ratio', at('openai'))).toBeCloseTo(8 / 48, 9);
    expect(sample(families, 'resil_dependency_timeout_max_seconds', at('openai'))).toBeCloseTo(0.205, 3);
    // anthropic had no fault window and no held call: nothing to say, no series.
    expect(sample(families, 'resil_dependency_breaker_open_after_seconds', at('anthropic'))).toBeUndefined();
    expect(sample(families, 'resil_dependency_timeout_max_seconds', at('anthropic'))).toBeUndefined();
  });

  test('what never came is +Inf: a breaker that never opened', async () => {
    const openai = behaviour.providers.openai!;
    const open = { ...openai, windows: openai.windows.map((w) => ({ ...w, breakerOpenAfterMs: -1, breakerCloseAfterMs: null })) };
    const document = { ...outage, behaviour: { ...behaviour, providers: { openai: open } } };
    const never = parseExposition(await renderPrometheus([{ name: 'outage', document }]));
    expect(sample(never, 'resil_dependency_breaker_open_after_seconds', at('openai'))).toBe(Infinity);
  });

  test('a result without a behaviour section has no series, only the families', async () => {
    const none = parseExposition(await renderPrometheus([{ name: 'outage', document: { ...outage, behaviour: undefined } }]));
    expect(none.get('resil_dependency_calls_total')!.samples).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------

async function scrape(url: string): Promise<{ status: number; contentType: string; families: Map<string, Family> }> {
  const response = await request(url);
  const text = await response.body.text();
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type']),
    families: response.statusCode === 200 ? parseExposition(text) : new Map(),
  };
}

function view(overrides: Partial<LiveView> = {}): LiveView {
  return {
    scenario: 'live',
    total: 0,
    ok: 0,
    failed: 0,
    dropped: 0,
    inFlight: 0,
    statusCodes: {},
    errors: {},
    latency: null,
    faults: {},
    breakers: {},
    ...overrides,
  };
}

describe('startMetricsServer', () => {
  test('values are computed at each scrape from the source', async () => {
    let current = view({ total: 10, ok: 8, failed: 2, inFlight: 3, errors: { 'status:503': 2 }, breakers: { dependency: 0 } });
    const server = await startMetricsServer({ port: 0, source: () => current });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const first = await scrape(server.url);
      expect(first.status).toBe(200);
      expect(first.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(sample(first.families, 'resil_requests_total', { scenario: 'live', outcome: 'ok' })).toBe(8);
      expect(sample(first.families, 'resil_requests_total', { scenario: 'live', outcome: 'status:503' })).toBe(2);
      expect(sample(first.families, 'resil_in_flight', { scenario: 'live' })).toBe(3);
      expect(sample(first.families, 'resil_breaker_state', { provider: 'dependency' })).toBe(0);
      expect(first.families.has('resil_request_duration_seconds')).toBe(false); // latency null

      const histogram = createLatencyHistogram();
      for (const us of [800, 4000, 4000, 30_000]) histogram.recordValue(us);
      current = view({
        total: 25,
        ok: 20,
        failed: 5,
        inFlight: 1,
        errors: { 'status:503': 4, timeout: 1 },
        latency: encodeHistogram(histogram),
        faults: { dependency: { injected: { 'status:503': 7, timeout: 2 }, notApplicable: { 'stream-error:2': 3 } } },
        breakers: { dependency: 1, 'failover-1': 2 },
      });
      histogram.destroy();
      const second = await scrape(server.url);
      expect(sample(second.families, 'resil_requests_total', { scenario: 'live', outcome: 'ok' })).toBe(20);
      expect(sample(second.families, 'resil_requests_total', { scenario: 'live', outcome: 'timeout' })).toBe(1);
      expect(sample(second.families, 'resil_in_flight', { scenario: 'live' })).toBe(1);
      expect(sample(second.families, 'resil_faults_injected_total', { provider: 'dependency', type: 'status:503' })).toBe(7);
      // A fault that did not apply stays among those decided on (a counter never goes down) and is counted apart too.
      expect(sample(second.families, 'resil_faults_injected_total', { provider: 'dependency', type: 'stream-error:2' })).toBe(3);
      expect(sample(second.families, 'resil_faults_not_applicable_total', { provider: 'dependency', type: 'stream-error:2' })).toBe(3);
      expect(sample(second.families, 'resil_breaker_state', { provider: 'dependency' })).toBe(1);
      expect(sample(second.families, 'resil_breaker_state', { provider: 'failover-1' })).toBe(2);
      expect(sample(second.families, 'resil_request_duration_seconds_bucket', { scenario: 'live', le: '0.001' })).toBe(1);
      expect(sample(second.families, 'resil_request_duration_seconds_bucket', { scenario: 'live', le: '0.005' })).toBe(3);
      expect(sample(second.families, 'resil_request_duration_seconds_count', { scenario: 'live' })).toBe(4);

      expect((await scrape(server.url.replace('/metrics', '/'))).status).toBe(404);
      expect((await scrape(server.url.replace('/metrics', '/other'))).status).toBe(404);
      expect((await scrape(`${server.url}?x=1`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test('a port in use is a CouldNotRunError naming the port', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const attempt = startMetricsServer({ port, source: () => view() });
      await expect(attempt).rejects.toBeInstanceOf(CouldNotRunError);
      await expect(attempt).rejects.toThrow(`127.0.0.1:${port} is already in use`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test('during a real run, a scrape sees requests made so far', async () => {
    const target = await startServer((_req, res) => setTimeout(() => res.end('ok'), 2));
    let latest: Progress | undefined;
    const source = () =>
      view({
        total: latest?.total ?? 0,
        ok: (latest?.total ?? 0) - (latest?.failed ?? 0),
        failed: latest?.failed ?? 0,
        inFlight: latest?.inFlight ?? 0,
        errors: latest && latest.failed > 0 ? { other: latest.failed } : {},
      });
    const server = await startMetricsServer({ port: 0, source });
    try {
      let progressed!: () => void;
      const firstProgress = new Promise<void>((resolve) => (progressed = resolve));
      const run = runLoad(
        { url: target.url, duration: '1.8s', concurrency: 4 },
        {
          onProgress: (p) => {
            latest = p;
            progressed();
          },
        },
      );
      const before = await scrape(server.url);
      expect(sample(before.families, 'resil_requests_total', { scenario: 'live', outcome: 'ok' })).toBe(0);
      // Progress comes once a second: scrape after the first, not after a sleep that guesses when it came.
      await Promise.race([firstProgress, run]);
      const during = await scrape(server.url);
      const okDuring = sample(during.families, 'resil_requests_total', { scenario: 'live', outcome: 'ok' })!;
      expect(okDuring).toBeGreaterThan(0);
      const result = await run;
      expect(result.requests.total).toBeGreaterThanOrEqual(okDuring);
    } finally {
      await server.close();
      await target.close();
    }
  });
});

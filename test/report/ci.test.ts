import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULT_SCHEMA, type ResultDocument, type ThresholdVerdict } from '../../src/model/result.js';
import { renderJunit, xml } from '../../src/report/junit.js';
import { annotations, appendStepSummary, emitAnnotations, escapeData, escapeProperty, renderStepSummary } from '../../src/report/github.js';
import { renderSummary } from '../../src/report/terminal.js';
import { completeVerdict } from '../../src/thresholds/evaluate.js';
import { behaviourFixture } from '../helpers/behaviour-fixture.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: a small factory for result documents.

/** A verdict as the fixtures give it; the registry adds its metric, kind and value as shown, as for a saved result. */
type GivenVerdict = Pick<ThresholdVerdict, 'expression' | 'ok' | 'actual'> & Partial<ThresholdVerdict>;

function result(overrides: Omit<Partial<ResultDocument>, 'thresholds'> & { thresholds?: GivenVerdict[] } = {}): ResultDocument {
  const document = {
    schema: RESULT_SCHEMA,
    command: 'load',
    fingerprint: '0123456789abcdef',
    shard: null,
    target: 'http://127.0.0.1:8080/api',
    seed: 42,
    startedAt: '2025-03-04T05:06:07.890Z',
    durationMs: 10_000,
    interrupted: false,
    model: 'closed',
    settings: {
      method: 'GET',
      concurrency: 10,
      maxConnections: null,
      requests: null,
      durationMs: 10_000,
      rate: null,
      timeoutMs: 5000,
      workers: 1,
      headers: {},
      expectStatus: '2xx',
    },
    requests: { total: 1000, ok: 1000, failed: 0, cancelled: 0, dropped: 0 },
    successRate: 1,
    rps: 100,
    latencyMs: { min: 1, mean: 5, p50: 4.5, p90: 8, p95: 9.5, p99: 12.25, p999: 20, max: 31 },
    serviceTimeMs: null,
    schedule: null,
    statusCodes: { '200': 1000 },
    errors: {},
    thresholds: [
      { expression: 'success_rate>=0.99', ok: true, actual: 1, default: true },
      { expression: 'p99<300ms', ok: true, actual: 12.25 },
    ],
    timeline: [],
    histograms: { latency: '', serviceTime: null, timeline: [] },
    ...overrides,
  } as ResultDocument;
  document.thresholds = document.thresholds.map((verdict) => completeVerdict(verdict, document)!);
  return document;
}

const passingLoad = result();

const failingChaos = result({
  command: 'chaos',
  durationMs: 30_500,
  requests: { total: 3000, ok: 2400, failed: 600, cancelled: 0, dropped: 0 },
  successRate: 0.8,
  rps: 98.4,
  latencyMs: { min: 1, mean: 40, p50: 10, p90: 200, p95: 450, p99: 1520, p999: 2900, max: 3100 },
  statusCodes: { '200': 2400, '502': 450 },
  errors: { timeout: 100, reset: 50 },
  thresholds: [
    { expression: 'success_rate>=0.95', ok: false, actual: 0.8 },
    { expression: 'p99<300ms', ok: false, actual: 1520 },
    { expression: 'amplification<=2', ok: true, actual: 1.5 },
    { expression: 'recovery<5s', ok: false, actual: null },
  ],
  faults: {
    injected: { latency: 300, error: 450, reset: 50 },
    upstreamCalls: 4500,
    passedThrough: 3700,
    upstreamErrors: 3,
    providers: {
      payments: {
        calls: 3000,
        eligible: 3000,
        considered: 3000,
        expected: 600,
        passedThrough: 2400,
        injected: { latency: 300, error: 300 },
        upstreamErrors: 3,
        rejected: 0,
        unmatched: 0,
        target: 'http://payments',
        listen: '127.0.0.1:9001',
      },
      ledger: {
        calls: 1500,
        eligible: 1500,
        considered: 1500,
        expected: 200,
        passedThrough: 1300,
        injected: { error: 150, reset: 50 },
        upstreamErrors: 0,
        rejected: 0,
        unmatched: 0,
        target: 'http://ledger',
        listen: '127.0.0.1:9002',
      },
    },
  },
  amplification: 1.5,
  recovery: [
    { window: 'payments:error@10s-15s', recoveryMs: 2000 },
    { window: 'ledger:reset@20s-25s', recoveryMs: null },
  ],
  faultWindows: [
    { window: 'payments:error@10s-15s', startMs: 10_000, endMs: 15_000 },
    { window: 'ledger:reset@20s-25s', startMs: 20_000, endMs: 25_000 },
  ],
});

const interrupted = result({
  interrupted: true,
  durationMs: 2_345.6,
  requests: { total: 200, ok: 150, failed: 10, cancelled: 40, dropped: 0 },
  successRate: 0.9375,
  thresholds: [
    { expression: 'success_rate>=0.99', ok: false, actual: 0.9375, default: true },
    { expression: 'p95<100ms', ok: true, actual: 9.5 },
  ],
});

const scenarios = [
  { name: 'steady load', document: passingLoad },
  { name: 'payments outage', document: failingChaos },
  { name: 'cut short', document: interrupted },
];

// ---------------------------------------------------------------------------------------------
// A tiny strict XML reader: well-formedness (nesting, quoting, entities, no stray '<' or '&',
// no forbidden characters) and a tree to check the counts against. No DTDs, PIs only as the prolog.

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = '[A-Za-z_:][A-Za-z0-9_:.-]*';
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function decodeEntities(raw: string, where: string): string {
  if (FORBIDDEN.test(raw)) throw new Error(`forbidden character in ${where}`);
  if (/</.test(raw)) throw new Error(`raw '<' in ${where}`);
  return raw.replace(/&([^;]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new Error(`unterminated entity in ${where}: ${match}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (body in named) return named[body]!;
    const numeric = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
    if (!numeric) throw new Error(`unknown entity in ${where}: ${match}`);
    const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
    if (
      !(
        code === 0x9 ||
        code === 0xa ||
        code === 0xd ||
        (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) ||
        code >= 0x10000
      )
    ) {
      throw new Error(`reference to a forbidden character in ${where}: ${match}`);
    }
    return String.fromCodePoint(code);
  });
}

function parseXml(source: string): XmlElement {
  let rest = source;
  const prolog = /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*/.exec(rest);
  if (!prolog) throw new Error('missing XML declaration');
  rest = rest.slice(prolog[0].length);
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`);
  while (rest.length > 0) {
    const lt = rest.indexOf('<');
    const textPart = lt === -1 ? rest : rest.slice(0, lt);
    if (textPart.length > 0) {
      const decoded = decodeEntities(textPart, 'text');
      if (decoded.includes('>') && textPart.includes(']]>')) throw new Error("']]>' in text");
      if (stack.length === 1 && decoded.trim() !== '') throw new Error('text outside the root element');
      stack[stack.length - 1]!.text += decoded;
    }
    if (lt === -1) break;
    rest = rest.slice(lt);
    const match = tag.exec(rest);
    if (!match) throw new Error(`malformed tag near: ${rest.slice(0, 60)}`);
    const [whole, closing, name, attributeText, selfClosing] = match as unknown as [string, string, string, string, string];
    rest = rest.slice(whole.length);
    if (closing) {
      if (attributeText.trim() !== '' || selfClosing) throw new Error(`malformed closing tag </${name}>`);
      const open = stack.pop()!;
      if (open.name !== name || stack.length === 0) throw new Error(`</${name}> closes <${open.name}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of attributeText.matchAll(new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g'))) {
      if (a[1]! in attributes) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      attributes[a[1]!] = decodeEntities(a[2] ?? a[3]!, `attribute ${a[1]}`);
    }
    const element: XmlElement = { name, attributes, children: [], text: '' };
    const parent = stack[stack.length - 1]!;
    if (parent === root && root.children.length > 0) throw new Error('more than one root element');
    parent.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('no root element');
  return root.children[0]!;
}

const childrenNamed = (element: XmlElement, name: string) => element.children.filter((c) => c.name === name);

// ---------------------------------------------------------------------------------------------

describe('JUnit report', () => {
  const report = renderJunit(scenarios);
  const root = parseXml(report);
  const suites = childrenNamed(root, 'testsuite');

  test('is well-formed XML with a testsuites root and totals', () => {
    expect(report.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(root.name).toBe('testsuites');
    expect(root.attributes).toMatchObject({ name: 'resil', tests: '8', failures: '3', errors: '2', time: '42.846' });
  });

  test('one testsuite per scenario, with counts, time and timestamp', () => {
    expect(suites.map((s) => s.attributes.name)).toEqual(['steady load', 'payments outage', 'cut short']);
    expect(suites.map((s) => [s.attributes.tests, s.attributes.failures, s.attributes.errors, s.attributes.skipped])).toEqual([
      ['2', '0', '0', '0'],
      ['4', '3', '0', '0'],
      ['2', '0', '2', '0'],
    ]);
    expect(suites.map((s) => s.attributes.time)).toEqual(['10.000', '30.500', '2.346']);
    expect(suites[0]!.attributes.timestamp).toBe('2025-03-04T05:06:07');
  });

  test('one testcase per threshold, named by the expression', () => {
    suites.forEach((suite, i) => {
      const cases = childrenNamed(suite, 'testcase');
      expect(cases.map((c) => c.attributes.name)).toEqual(scenarios[i]!.document.thresholds.map((t) => t.expression));
      for (const c of cases) {
        expect(c.attributes.classname).toBe(`resil.${scenarios[i]!.name}`);
        expect(c.attributes.time).toMatch(/^\d+\.\d{3}$/);
      }
    });
  });

  test('suite properties', () => {
    const properties = childrenNamed(childrenNamed(suites[1]!, 'properties')[0]!, 'property');
    expect(Object.fromEntries(properties.map((p) => [p.attributes.name, p.attributes.value]))).toEqual({
      target: 'http://127.0.0.1:8080/api',
      seed: '42',
      requests: '3000',
      cancelled: '0',
      dropped: '0',
      successRate: '0.8',
      rps: '98.4',
    });
  });

  test('a missed threshold is a failure with the measured value in its unit and run context', () => {
    const cases = childrenNamed(suites[1]!, 'testcase');
    const failures = cases.map((c) => childrenNamed(c, 'failure')[0]);
    expect(failures.map((f) => f?.attributes.message)).toEqual([
      'success_rate>=0.95: actual 80.00%',
      'p99<300ms: actual 1.52s',
      undefined,
      'recovery<5s: actual never recovered',
    ]);
    expect(failures[0]!.attributes.type).toBe('threshold');
    expect(failures[1]!.text).toContain('measured 1.52s');
    expect(failures[1]!.text).toContain('requests: 3,000 total, 2,400 ok, 600 failed');
    expect(failures[1]!.text).toContain('success rate: 80.00%');
    expect(failures[1]!.text).toContain('p99: 1.52s');
    expect(childrenNamed(cases[2]!, 'failure')).toHaveLength(0);
    expect(cases[2]!.children).toHaveLength(0);
  });

  test('a provider-qualified and a dependency-behaviour verdict: named as written, failed with their sentence', () => {
    const outage = behaviourFixture();
    const cases = childrenNamed(childrenNamed(parseXml(renderJunit([{ name: 'outage', document: outage }])), 'testsuite')[0]!, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual(outage.thresholds.map((t) => t.expression));
    const failed = (name: string) => childrenNamed(cases.find((c) => c.attributes.name === name)!, 'failure')[0]!;
    expect(failed('retry_after_violations==0').attributes.message).toBe(
      'retry_after_violations==0: actual 8 (8 retries to the dependencies came sooner than Retry-After: 1.00s; ' +
        'the earliest after 264.2ms, the worst 735.8ms short)',
    );
    expect(failed('dependency_timeout_max{anthropic}<1s').attributes.message).toBe(
      'dependency_timeout_max{anthropic}<1s: actual n/a (the proxy held no call to anthropic, or the service gave up on none: inject timeout)',
    );
    expect(childrenNamed(cases.find((c) => c.attributes.name === 'breaker_open_after{openai}<2s')!, 'failure')).toHaveLength(0);
  });

  test('an interrupted run: every testcase is an error, none a failure', () => {
    for (const c of childrenNamed(suites[2]!, 'testcase')) {
      expect(childrenNamed(c, 'failure')).toHaveLength(0);
      const [error] = childrenNamed(c, 'error');
      expect(error!.attributes.message).toBe('run interrupted');
      expect(error!.text).toContain('partial results');
    }
  });

  test('escapes names and expressions so they round-trip', () => {
    const nasty = `a<b & "c" 'd' > e\u0001\u001b\r\n\ttab`;
    const document = result({
      thresholds: [
        { expression: 'p99<300ms & <tail>', ok: false, actual: 400 },
        { expression: 'p(99.9)<1s', ok: true, actual: 20 },
      ],
      target: 'http://host/?q=<x>&y="1"',
    });
    const out = renderJunit([{ name: nasty, document }]);
    const parsed = parseXml(out);
    const suite = childrenNamed(parsed, 'testsuite')[0]!;
    expect(suite.attributes.name).toBe(`a<b & "c" 'd' > e\uFFFD\uFFFD\r\n\ttab`);
    const cases = childrenNamed(suite, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual(['p99<300ms & <tail>', 'p(99.9)<1s']);
    expect(childrenNamed(cases[0]!, 'failure')[0]!.attributes.message).toBe('p99<300ms & <tail>: actual 400.0ms');
    expect(childrenNamed(childrenNamed(suite, 'properties')[0]!, 'property')[0]!.attributes.value).toBe('http://host/?q=<x>&y="1"');
    expect(out).not.toMatch(/[\u0001\u001b]/);
  });

  test('xml() drops what XML 1.0 cannot carry, keeps astral characters', () => {
    expect(xml('\uD800x')).toBe('\uFFFDx');
    expect(xml('😀')).toBe('😀');
    expect(xml('a\nb', 'text')).toBe('a\nb');
    expect(xml('a\nb')).toBe('a&#10;b');
  });

  test('the checker itself rejects malformed XML', () => {
    const prolog = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${prolog}<a><b></a></b>`)).toThrow();
    expect(() => parseXml(`${prolog}<a x="1 & 2"/>`)).toThrow();
    expect(() => parseXml(`${prolog}<a>1 < 2</a>`)).toThrow();
    expect(() => parseXml(`${prolog}<a>&#1;</a>`)).toThrow();
    expect(() => parseXml(`${prolog}<a x=1/>`)).toThrow();
  });
});

describe('GitHub step summary', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'resil-ci-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('streams: ttft and event-gap rows and the stream count, also when every stream was cut (no latency)', () => {
    const figures = { min: 1, mean: 5, p50: 4.5, p90: 8, p95: 9.5, p99: 12.25, p999: 20, max: 31 };
    const streams = { streams: 7, dataEvents: 21, ttftMs: figures, eventGapMs: figures, histograms: { ttft: '', eventGap: '' } };
    const cut = result({ latencyMs: null, requests: { total: 7, ok: 0, failed: 7, cancelled: 0, dropped: 0 }, streams });
    const summary = renderStepSummary([{ name: 'cut streams', document: cut }]);
    expect(summary).toContain('| ttft (streams) |');
    expect(summary).toContain('| event gap (streams) |');
    expect(summary).toContain('_No complete response: no latency to report._');
    expect(summary).toContain('**Streams** 7 · 21 data events');
    expect(summary).not.toContain('| response |');
    expect(renderStepSummary([{ name: 'plain', document: passingLoad }])).not.toContain('Streams');
  });

  test('verdict: all passed', () => {
    expect(renderStepSummary([{ name: 'steady load', document: passingLoad }])).toMatch(/^## resil: ✅ all 2 thresholds passed\n/);
  });

  test('verdict: failures and interruptions counted', () => {
    const summary = renderStepSummary(scenarios);
    expect(summary.split('\n')[0]).toBe('## resil: ❌ 3 of 6 thresholds failed · 1 run interrupted (partial results)');
  });

  test('threshold, latency and volume tables per scenario', () => {
    const summary = renderStepSummary(scenarios);
    expect(summary).toContain('### ✅ steady load');
    expect(summary).toContain('### ❌ payments outage');
    expect(summary).toContain('### ⚠️ cut short');
    expect(summary).toContain('| threshold | actual | result |');
    expect(summary).toContain('| `success_rate>=0.99` _(default)_ | 100.00% | ✅ pass |');
    expect(summary).toContain('| `p99<300ms` | 1.52s | ❌ **fail** |');
    expect(summary).toContain('| `recovery<5s` | never recovered | ❌ **fail** |');
    expect(summary).toContain('| `amplification<=2` | 1.50 calls/request | ✅ pass |');
    expect(summary).toContain('| latency | p50 | p90 | p95 | p99 | p99.9 | max |');
    expect(summary).toContain('| response | 4.50ms | 8.00ms | 9.50ms | 12.3ms | 20.0ms | 31.0ms |');
    expect(summary).toContain('**Requests** 3,000 total · 2,400 ok · 600 failed · **success rate** 80.00% · **throughput** 98.4 req/s');
    expect(summary).toContain('⚠️ undecided');
    // Every table row has the same number of cells as its header.
    const blocks = summary.split('\n\n').filter((b) => b.startsWith('|'));
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    for (const block of blocks) {
      const widths = block
        .trim()
        .split('\n')
        .map((row) => row.replace(/\\\|/g, '').split('|').length);
      expect(new Set(widths).size).toBe(1);
    }
  });

  test('chaos: faults injected vs observed, amplification, recovery per window', () => {
    const summary = renderStepSummary([{ name: 'payments outage', document: failingChaos }]);
    expect(summary).toContain('#### Faults: injected vs observed');
    expect(summary).toContain('| fault | injected | `payments` | `ledger` |');
    expect(summary).toContain('| `error` | 450 | 300 | 150 |');
    expect(summary).toContain('**amplification** 1.50 calls/request');
    expect(summary).toMatch(
      /\*\*Client observed\*\* 600 failed of 3,000 requests · errors: `timeout` × 100, `reset` × 50 · status codes: .*`502` × 450/,
    );
    expect(summary).toContain('| `payments:error@10s-15s` | 2.00s |');
    expect(summary).toContain('| `ledger:reset@20s-25s` | ❌ never |');
    // No chaos section for a plain load run.
    expect(renderStepSummary([{ name: 'x', document: passingLoad }])).not.toContain('Faults');
  });

  test('Markdown-special text cannot break the layout', () => {
    const document = result({ thresholds: [{ expression: 'p99<300ms|`x`', ok: false, actual: 400 }] });
    const summary = renderStepSummary([{ name: '# <b>bold</b> | *x*\nnext', document }]);
    expect(summary).toContain('### ❌ \\# \\<b\\>bold\\</b\\> \\| \\*x\\* next');
    expect(summary).toContain('| `` p99<300ms\\|`x` `` | 400.0ms | ❌ **fail** |');
  });

  test('appended only when GITHUB_STEP_SUMMARY is set', () => {
    const path = join(dir, 'summary.md');
    expect(appendStepSummary(scenarios, {})).toBe(false);
    expect(appendStepSummary(scenarios, { GITHUB_STEP_SUMMARY: '' })).toBe(false);

    writeFileSync(path, '# earlier step');
    expect(appendStepSummary(scenarios, { GITHUB_STEP_SUMMARY: path })).toBe(true);
    const content = readFileSync(path, 'utf8');
    expect(content.startsWith('# earlier step\n\n## resil: ❌ 3 of 6 thresholds failed')).toBe(true);
    expect(content).toContain('| threshold | actual | result |');
    expect(content).toContain('| latency | p50 | p90 | p95 | p99 | p99.9 | max |');

    expect(appendStepSummary([{ name: 'steady load', document: passingLoad }], { GITHUB_STEP_SUMMARY: path })).toBe(true);
    const again = readFileSync(path, 'utf8');
    expect(again.startsWith(content)).toBe(true);
    expect(again.slice(content.length)).toMatch(/^\n## resil: ✅ all 2 thresholds passed/);
  });

  test('creates the file when it does not exist yet', () => {
    const path = join(dir, 'new.md');
    expect(appendStepSummary([{ name: 'steady load', document: passingLoad }], { GITHUB_STEP_SUMMARY: path })).toBe(true);
    expect(readFileSync(path, 'utf8')).toMatch(/^## resil: ✅/);
  });
});

describe('GitHub annotations', () => {
  test('one ::error per failed threshold, escaped', () => {
    const lines = annotations(scenarios);
    // 3 missed thresholds in the chaos run + 1 in the interrupted run.
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      '::error title=resil payments outage%3A success_rate>=0.95::measured 80.00%25 ' +
        '(threshold success_rate>=0.95, 3,000 requests, success rate 80.00%25, p99 1.52s)',
    );
    expect(lines[1]).toMatch(/^::error title=resil payments outage%3A p99<300ms::measured 1\.52s \(/);
    expect(lines[3]).toMatch(
      /^::error title=resil cut short%3A success_rate>=0\.99::measured 93\.75%25 .*run interrupted: partial results\)$/,
    );
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
  });

  test('special characters in names and expressions are escaped', () => {
    const document = result({ thresholds: [{ expression: 'p99<100%ms', ok: false, actual: 400 }] });
    const [line] = annotations([{ name: 'a:b,c\r\nd%', document }]);
    expect(line).toBe(
      '::error title=resil a%3Ab%2Cc%0D%0Ad%25%3A p99<100%25ms::measured 400.0ms (threshold p99<100%25ms, 1,000 requests, success rate 100.00%25, p99 12.3ms)',
    );
    expect(escapeData('50%\r\n')).toBe('50%25%0D%0A');
    expect(escapeProperty('a:b,c%')).toBe('a%3Ab%2Cc%25');
  });

  test('emitted only when GITHUB_ACTIONS=true', () => {
    const written: string[] = [];
    const write = (line: string) => written.push(line);
    expect(emitAnnotations(scenarios, {}, write)).toBe(0);
    expect(emitAnnotations(scenarios, { GITHUB_ACTIONS: 'false' }, write)).toBe(0);
    expect(written).toHaveLength(0);
    expect(emitAnnotations(scenarios, { GITHUB_ACTIONS: 'true' }, write)).toBe(4);
    expect(written).toEqual(annotations(scenarios));
    expect(emitAnnotations([{ name: 'steady load', document: passingLoad }], { GITHUB_ACTIONS: 'true' }, write)).toBe(0);
  });
});

describe('a chaos run without an experiment, and warnings, in the CI reports', () => {
  const note = "no dependency call reached the chaos proxy at 127.0.0.1:8091: point the service's dependency URL at http://127.0.0.1:8091";
  const warning =
    'proxy dependency (127.0.0.1:8091): 5 of 5 calls passed through got no answer from the upstream http://127.0.0.1:9/ (the caller got a 502 or a cut connection): is it running?';
  const unproved = result({
    command: 'chaos',
    thresholds: [
      { expression: 'success_rate>=0.9', ok: true, actual: 1, default: true },
      { expression: 'dependency_calls>0', ok: false, actual: 0, default: true, note },
    ],
    warnings: [warning],
    faults: {
      injected: { down: 2, 'status:503': 4 },
      upstreamCalls: 0,
      passedThrough: 0,
      upstreamErrors: 0,
      providers: {
        dependency: {
          ...{ calls: 0, eligible: 0, considered: 0, expected: 0, passedThrough: 0, upstreamErrors: 0, rejected: 0, unmatched: 0 },
          injected: { down: 2, 'status:503': 4 },
          target: 'mock',
          listen: 'http://127.0.0.1:8091',
        },
      },
    },
  });
  const runs = [{ name: 'bypassed', document: unproved }];

  test('JUnit: the failure names the cause; warnings are the suite output', () => {
    const suite = childrenNamed(parseXml(renderJunit(runs)), 'testsuite')[0]!;
    const failing = childrenNamed(suite, 'testcase').find((c) => c.attributes.name === 'dependency_calls>0')!;
    expect(childrenNamed(failing, 'failure')[0]!.attributes.message).toBe(`dependency_calls>0: actual 0 (${note})`);
    expect(childrenNamed(suite, 'system-out')[0]!.text).toBe(`warning: ${warning}`);
  });

  test('step summary: the cause under the thresholds, the warning, outages labelled as such, the count in the verdict', () => {
    const summary = renderStepSummary(runs);
    expect(summary.split('\n')[0]).toBe('## resil: ❌ 1 of 2 thresholds failed · 1 warning');
    expect(summary).toContain(
      "❌ no dependency call reached the chaos proxy at 127.0.0.1:8091: point the service's dependency URL at http://127.0.0.1:8091",
    );
    expect(summary).toContain('⚠️ **warning:** proxy dependency \\(127.0.0.1:8091\\)');
    expect(summary).toContain('| `down` _(outages)_ | 2 |');
  });

  test('annotations: the cause in the ::error, the warning as ::warning', () => {
    const lines = annotations(runs);
    expect(lines[0]).toMatch(
      /^::error title=resil bypassed%3A dependency_calls>0::no dependency call reached the chaos proxy at 127\.0\.0\.1:8091: .* measured 0 \(/,
    );
    expect(lines[1]).toBe(`::warning title=resil bypassed::${escapeData(warning)}`);
  });

  test('one threshold is singular', () => {
    const one = result({ thresholds: [{ expression: 'p99<300ms', ok: true, actual: 12.25 }] });
    expect(renderStepSummary([{ name: 'one', document: one }])).toMatch(/^## resil: ✅ the 1 threshold passed\n/);
    expect(renderSummary(one, { color: false })).toMatch(/\nthe 1 threshold passed\n$/);
    const failed = result({ thresholds: [{ expression: 'p99<300ms', ok: false, actual: 412 }] });
    expect(renderSummary(failed, { color: false })).toMatch(/\n1 of 1 threshold failed\n$/);
  });

  test('terminal: down counts outages on a line of its own, not among the faulted calls', () => {
    const text = renderSummary(unproved, { color: false });
    expect(text).toMatch(/^injected {6}status:503 × 4 {2}\(0 dependency calls, 0 passed through\)$/m);
    expect(text).not.toMatch(/down × 2/);
    expect(text).toMatch(/^outages {7}2 {2}\(fault 'down': listener closed, calls refused meanwhile are not counted\)$/m);
  });
});

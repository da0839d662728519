import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BehaviourDocument } from '../../src/model/behaviour.js';
import type { ResultDocument } from '../../src/model/result.js';
import { behaviourTable, COVERAGE_ADVICE, coverageLine } from '../../src/report/behaviour.js';
import { renderStepSummary } from '../../src/report/github.js';
import { renderHtml } from '../../src/report/html.js';
import { renderSummary } from '../../src/report/terminal.js';

/** The fixture result (test/helpers/behaviour-fixture.ts): openai fails every call in 4s..7s, anthropic takes over. */
const outage = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/behaviour-result.json', import.meta.url)), 'utf8'),
) as ResultDocument;
const behaviour = outage.behaviour!;

/** The behaviour with the correlation coverage changed: `matched` of the same calls carried a request id. */
function withMatched(matched: number): BehaviourDocument {
  return { ...behaviour, correlation: { ...behaviour.correlation, matched } };
}

describe('the dependency behaviour table', () => {
  test('one column per provider and one over all; each figure as the threshold metrics measure it', () => {
    const { columns, rows } = behaviourTable(behaviour);
    expect(columns).toEqual(['openai', 'anthropic', 'all']);
    expect(Object.fromEntries(rows.map(({ label, cells }) => [label, cells]))).toEqual({
      calls: ['437', '145', '582'],
      requests: ['362', '145', '480'],
      'attempts max / mean': ['3 / 1.21', '1 / 1.00', '3 / 1.21'],
      retries: ['75', '27', '102'],
      // Failovers are timed apart (failover_delay): anthropic's attempts were all moves from openai.
      'retry delay min / p50': ['82.0ms / 264.2ms', '- / -', '82.0ms / 264.2ms'],
      'backoff growth': ['2.00×', '-', '2.00×'],
      'retry jitter (CV)': ['0.84', '-', '0.84'],
      // anthropic sent no Retry-After and no non-retryable status: not a zero, nothing to judge.
      'Retry-After followed / too soon': ['38 / 8', '-', '38 / 8'],
      'non-retryable / unsafe retries': ['2 / 3', '- / 1', '2 / 4'],
      'timeouts held: waited p50 / max': ['17: 202.2ms / 204.9ms', '-', '17: 202.2ms / 204.9ms'],
      'breaker open after / probes / close after': ['500.0ms / 0.8/s / 500.0ms', '-', '500.0ms / 0.8/s / 500.0ms'],
      'failovers: delay p50 / p99': ['0', '27: 3.25ms / 1.09s', '27: 3.25ms / 1.09s'],
      'retry storm (rate inside ÷ before)': ['0.17×', '-', '0.17×'],
    });
  });

  test('one provider: its column alone; compact leaves out requests, backoff growth and jitter', () => {
    const single = { ...behaviour, providers: { openai: behaviour.providers.openai! } };
    const { columns, rows } = behaviourTable(single, { compact: true });
    expect(columns).toEqual(['openai']);
    expect(rows.map((r) => r.label)).not.toContain('requests');
    expect(rows.map((r) => r.label)).not.toContain('backoff growth');
    expect(rows).toHaveLength(10);
  });

  test("what never came is 'never': a breaker that never opened, a held call never given up", () => {
    const openai = behaviour.providers.openai!;
    const stuck = {
      ...openai,
      timeouts: { ...openai.timeouts, never: 2 },
      windows: openai.windows.map((w) => ({ ...w, breakerOpenAfterMs: -1, breakerProbesPerSecond: null, breakerCloseAfterMs: null })),
    };
    const { rows } = behaviourTable({ ...behaviour, providers: { openai: stuck } });
    const row = (label: string) => rows.find((r) => r.label === label)!.cells[0];
    expect(row('timeouts held: waited p50 / max')).toBe('17: 202.2ms / never, 2 never given up');
    expect(row('breaker open after / probes / close after')).toBe('never / - / -');
    const none = { ...openai, timeouts: { held: 3, waited: null, never: 3 } };
    expect(behaviourTable({ ...behaviour, providers: { openai: none } }).rows.find((r) => r.label.startsWith('timeouts'))!.cells[0]).toBe(
      '3: none given up on',
    );
  });
});

describe('the correlation coverage line', () => {
  test("the share of calls that carried one of resil's request ids, and where the keys came from", () => {
    expect(coverageLine(behaviour.correlation)).toEqual({
      text: "correlation: 96.39% of 582 calls carried one of resil's request ids (keyed by idempotency-key 557 · body 21 · x-request-id 4)",
      low: false,
    });
  });

  test('below 90% it says what to change; no call at all is said so', () => {
    expect(coverageLine(withMatched(523).correlation)).toMatchObject({
      low: true,
      warning: `correlation: 89.86% of 582 calls carried one of resil's request ids (keyed by idempotency-key 557 · body 21 · x-request-id 4): below 90%, so retries may be miscounted: ${COVERAGE_ADVICE}`,
    });
    expect(coverageLine(withMatched(524).correlation).low).toBe(false); // 524 / 582 = 90.03%
    expect(coverageLine({ calls: 0, keyedBy: {}, matched: 0 })).toEqual({ text: 'correlation: no dependency call observed', low: false });
  });
});

describe('where the behaviour shows', () => {
  test('terminal: the table under the summary, the coverage line, each failed verdict in plain words', () => {
    const text = renderSummary(outage, { color: false });
    const lines = text.split('\n');
    const table = lines.findIndex((l) => l.includes('dependency behaviour'));
    expect(table).toBeGreaterThan(lines.findIndex((l) => l.startsWith('amplification')));
    expect(table).toBeLessThan(lines.findIndex((l) => /│ threshold/.test(l)));
    expect(lines[table]).toMatch(/│ dependency behaviour\s+│ openai\s+│ anthropic\s+│ all\s+│/);
    expect(text).toMatch(/│ Retry-After followed \/ too soon\s+│ 38 \/ 8\s+│ -\s+│ 38 \/ 8\s+│/);
    expect(text).toContain("correlation: 96.39% of 582 calls carried one of resil's request ids");
    expect(text).toContain(
      '✗ 8 retries to the dependencies came sooner than Retry-After: 1.00s; the earliest after 264.2ms, the worst 735.8ms short',
    );
    expect(text).toContain('✗ the proxy held no call to anthropic, or the service gave up on none: inject timeout');
    expect(text).toMatch(/│ dependency_timeout_max\{anthropic\}<1s\s+│ n\/a\s+│ FAIL │/);
    expect(text).not.toContain(COVERAGE_ADVICE);
    const blind = renderSummary({ ...outage, behaviour: withMatched(300) }, { color: false });
    expect(blind).toContain(
      `correlation: 51.55% of 582 calls carried one of resil's request ids (keyed by idempotency-key 557 · body 21 · x-request-id 4): below 90%, so retries may be miscounted: ${COVERAGE_ADVICE}`,
    );
  });

  test('step summary: a compact table per provider and the coverage line; expressions as written', () => {
    const summary = renderStepSummary([{ name: 'provider outage', document: outage }]);
    expect(summary).toContain('#### Dependency behaviour');
    expect(summary).toContain('| | `openai` | `anthropic` | `all` |');
    expect(summary).toContain('| Retry-After followed / too soon | 38 / 8 | - | 38 / 8 |');
    expect(summary).toContain('| breaker open after / probes / close after | 500.0ms / 0.8/s / 500.0ms | - | 500.0ms / 0.8/s / 500.0ms |');
    expect(summary).not.toContain('| backoff growth |');
    expect(summary).toContain('| `failover_delay_p99{anthropic}<50ms` | 1.09s | ❌ **fail** |');
    expect(summary).toContain('| `dependency_timeout_max{anthropic}<1s` | n/a | ❌ **fail** |');
    expect(summary).toContain('❌ moving to anthropic after a failed attempt took 1.09s \\(p99 of 27 failovers\\)');
    expect(renderStepSummary([{ name: 'blind', document: { ...outage, behaviour: withMatched(300) } }])).toContain(
      '⚠️ correlation: 51.55% of 582 calls',
    );
  });

  test('HTML: the same table and the coverage line in the behaviour section', () => {
    const html = renderHtml([{ name: 'provider outage', document: outage }]);
    expect(html).toContain('<table class="behaviour"><thead><tr><th></th><th class="num"><code>openai</code></th>');
    expect(html).toContain('<tr><td>Retry-After followed / too soon</td><td class="num">38 / 8</td><td class="num">-</td>');
    expect(html).toContain('<p class="muted">correlation: 96.39% of 582 calls');
    expect(renderHtml([{ name: 'blind', document: { ...outage, behaviour: withMatched(300) } }])).toContain(
      '<p class="notice">correlation: 51.55% of 582 calls',
    );
  });
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { soonerThanRetryAfter } from '../behaviour/observer.js';
import { decodeHistogram } from '../metrics/histogram.js';
import type { BehaviourDocument } from '../model/behaviour.js';
import type { ResultDocument, ScenarioResult } from '../model/result.js';
import { formatCount, formatFactor, formatMs, formatPercentOrNone, NO_DATA } from '../util/format.js';
import { behaviourTable, coverageLine } from './behaviour.js';
import { abortText, campaignVerdict, LATENCY_COLUMNS, verdictValueText } from './result.js';

/**
 * Renders results as one self-contained HTML page (nothing is fetched at view time): per scenario the
 * verdict and thresholds, a latency percentile curve, a per-second timeline with the fault windows
 * shaded, faults injected against what the client observed, the service's dependency behaviour
 * (attempts per request, retries against Retry-After, calls per provider over time), status and
 * error counts, and the run's settings. uPlot (JS and CSS) and the report's own style and script (`assets/report.css`, `report.js`)
 * are inlined; the chart data is embedded as JSON; every text taken from a document is HTML-escaped.
 */
export function renderHtml(scenarios: ReadonlyArray<ScenarioResult>): string {
  const assets = pageAssets();
  const data = scenarios.map((scenario, i) => chartData(`s${i}`, scenario.document));
  const body = scenarios.map((scenario, i) => scenarioSection(`s${i}`, scenario)).join('\n');
  const summary = campaignVerdict(scenarios);
  // The table of contents, shown when there is more than one scenario.
  const links = scenarios.map((s, i) => `<li><a href="#s${i}">${badge(s.document)} ${escapeHtml(s.name)}</a></li>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="resil">
<title>${escapeHtml(`resil report: ${summary.text}`)}</title>
<style>${inlineStyle(assets.uplotCss)}</style>
<style>${inlineStyle(assets.css)}</style>
</head>
<body>
<header class="top ${summary.ok ? 'pass' : 'fail'}">
<h1>resil report</h1>
<p class="verdict">${escapeHtml(summary.text)}</p>
${scenarios.length > 1 ? `<nav><ul>${links.join('')}</ul></nav>` : ''}
</header>
<main>
${body || '<p class="muted">No results.</p>'}
</main>
<script type="application/json" id="resil-data">${jsonForScript(data)}</script>
<script>${inlineScript(assets.uplotJs)}</script>
<script>${inlineScript(assets.js)}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Chart data (computed here, drawn in the page).

interface ChartData {
  id: string;
  /** x = 1/(1-p): 2 is p50, 10000 is p99.99 (drawn on a log axis). Null when nothing was measured. */
  percentiles: {
    x: number[];
    /** The named points marked on the x axis (NAMED_X). */
    ticks: number[];
    latency: number[];
    service: number[] | null;
    latencyLabel: string;
  } | null;
  /** Per second; x is the middle of the second. */
  timeline: {
    x: number[];
    /** Requests completed per second (the last, partial second as a rate over its length). */
    requests: number[];
    successPct: Array<number | null>;
    p99: Array<number | null>;
    endS: number;
    /** Length in seconds of the last second when the run ended inside it; null when it is whole or left off. */
    partialS: number | null;
  } | null;
  windows: Array<{ label: string; start: number; end: number }>;
  /** Chaos runs with a behaviour section: what the service's dependency calls showed. */
  behaviour: BehaviourCharts | null;
}

export interface BehaviourCharts {
  /** Logical requests by their attempts over every provider: x = 1..the most attempts. */
  attempts: { x: number[]; requests: number[] } | null;
  /**
   * Retries after an answer with Retry-After (the samples the result keeps, every provider's), by
   * when they came (s): the delay (ms) when it waited long enough or when it came too soon, and the
   * Retry-After asked (ms).
   */
  retryAfter: { x: number[]; honoured: Array<number | null>; early: Array<number | null>; asked: number[] } | null;
  /** Dependency calls per second by provider, in bins of 500 ms or more (x: the bin's middle, s); failed ones beside them. */
  calls: { x: number[]; providers: Array<{ name: string; calls: number[]; failed: number[] }>; endS: number } | null;
}

/** Named points of the percentile curve (x = 1/(1-p)): p50 p75 p90 p95 p99 p99.5 p99.9 p99.95 p99.99. */
const NAMED_X = [2, 4, 10, 20, 100, 200, 1000, 2000, 10000];
const CURVE_POINTS = 48;

function percentileXs(): number[] {
  const xs = new Set<number>(NAMED_X);
  for (let k = 0; k <= CURVE_POINTS; k++) xs.add(Number((2 * 5000 ** (k / CURVE_POINTS)).toPrecision(6)));
  return [...xs].sort((a, b) => a - b).filter((x, i, all) => i === 0 || x / all[i - 1]! > 1.0001);
}

function curve(encoded: string | null, xs: number[]): number[] | null {
  if (encoded === null || encoded === '') return null;
  let histogram: ReturnType<typeof decodeHistogram>;
  try {
    histogram = decodeHistogram(encoded);
  } catch {
    return null;
  }
  try {
    if (histogram.totalCount === 0) return null;
    return xs.map((x) => Math.round(histogram.getValueAtPercentile(100 * (1 - 1 / x))) / 1000);
  } finally {
    histogram.destroy();
  }
}

function chartData(id: string, document: ResultDocument): ChartData {
  const xs = percentileXs();
  const latency = curve(document.histograms?.latency ?? null, xs);
  const service = document.model === 'open' ? curve(document.histograms?.serviceTime ?? null, xs) : null;
  const windows = (document.faultWindows ?? []).map((w) => ({ label: w.window, start: w.startMs / 1000, end: w.endMs / 1000 }));
  return {
    id,
    percentiles:
      latency === null
        ? null
        : { x: xs, ticks: NAMED_X, latency, service, latencyLabel: document.model === 'open' ? 'latency (from schedule)' : 'latency' },
    timeline: timelineData(document),
    windows,
    behaviour: document.behaviour ? behaviourCharts(document.behaviour, document.durationMs) : null,
  };
}

/** At most this many points per provider in the calls chart: bins are summed up to it. */
const MOST_CALL_POINTS = 1200;
/** The calls chart's shortest bin (ms): the span breakers are judged over (src/behaviour/windows.ts), steadier than one 100 ms bin. */
const SHORTEST_CALL_BIN_MS = 500;

/** The behaviour charts' data, from the result's behaviour section alone. */
export function behaviourCharts(behaviour: BehaviourDocument, durationMs: number): BehaviourCharts {
  const counts = Object.entries(behaviour.overall.attempts).map(([n, requests]) => [Number(n), requests] as const);
  const most = Math.max(0, ...counts.map(([n]) => n));
  const attempts =
    most === 0
      ? null
      : {
          x: Array.from({ length: most }, (_, i) => i + 1),
          requests: Array.from({ length: most }, (_, i) => behaviour.overall.attempts[String(i + 1)] ?? 0),
        };

  const samples = Object.values(behaviour.providers)
    .flatMap((p) => p.retryAfter.samples)
    .sort((a, b) => a.atMs - b.atMs);
  const retryAfter =
    samples.length === 0
      ? null
      : {
          x: samples.map((r) => r.atMs / 1000),
          honoured: samples.map((r) => (soonerThanRetryAfter(r.delayMs, r.retryAfterMs) ? null : roundTo(r.delayMs, 3))),
          early: samples.map((r) => (soonerThanRetryAfter(r.delayMs, r.retryAfterMs) ? roundTo(r.delayMs, 3) : null)),
          asked: samples.map((r) => r.retryAfterMs),
        };

  const providers = Object.entries(behaviour.providers);
  const bins = Math.max(0, ...providers.map(([, p]) => p.series.calls.length));
  const per = Math.max(1, Math.ceil(bins / MOST_CALL_POINTS), Math.round(SHORTEST_CALL_BIN_MS / behaviour.binMs));
  const points = Math.ceil(bins / per);
  // A rate over the bins each point holds: the last point may hold fewer, and must not read as a drop.
  const perSecond = (values: readonly number[]) =>
    Array.from({ length: points }, (_, i) => {
      const last = Math.min((i + 1) * per, bins);
      let sum = 0;
      for (let bin = i * per; bin < last; bin++) sum += values[bin] ?? 0;
      return roundTo((sum * 1000) / ((last - i * per) * behaviour.binMs), 1);
    });
  const calls =
    bins === 0
      ? null
      : {
          x: Array.from({ length: points }, (_, i) => roundTo(((i + 0.5) * per * behaviour.binMs) / 1000, 3)),
          providers: providers.map(([name, p]) => ({ name, calls: perSecond(p.series.calls), failed: perSecond(p.series.failed) })),
          endS: Math.max((bins * behaviour.binMs) / 1000, durationMs / 1000),
        };
  return { attempts, retryAfter, calls };
}

function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A last second shorter than this is left off the chart: too short to give a rate. */
const SHORTEST_PARTIAL_S = 0.25;

/**
 * The per-second timeline as the charts draw it. The run rarely ends on a whole second: its last
 * second is drawn as a rate over the part that was run (x at that part's middle) and named in
 * `partialS`, not as a count that reads as a drop to zero; one shorter than 250 ms is left off
 * (unless it is the whole run).
 */
export function timelineData(document: ResultDocument): ChartData['timeline'] {
  const seconds = [...(document.timeline ?? [])];
  if (seconds.length === 0) return null;
  const last = seconds[seconds.length - 1]!;
  const lastSpan = last.span ?? 1;
  const lastS = Math.min(lastSpan, document.durationMs / 1000 - last.t);
  let partialS: number | null = null;
  if (lastS > 0 && lastS < lastSpan) {
    if (lastS < SHORTEST_PARTIAL_S && seconds.length > 1) seconds.pop();
    else partialS = Math.round(lastS * 1000) / 1000;
  }
  // Long runs: buckets of `span` seconds, drawn as rates at their middles.
  const span = (i: number) => (i === seconds.length - 1 && partialS !== null ? partialS : (seconds[i]!.span ?? 1));
  const lastSecond = Math.max(...(document.timeline ?? []).map((s) => s.t + (s.span ?? 1)));
  return {
    x: seconds.map((s, i) => s.t + span(i) / 2),
    requests: seconds.map((s, i) => Math.round((s.requests / span(i)) * 10) / 10),
    successPct: seconds.map((s) => (s.requests > 0 ? Math.round((s.ok / s.requests) * 10000) / 100 : null)),
    p99: seconds.map((s) => s.p99Ms),
    endS: Math.max(lastSecond, Math.ceil(document.durationMs / 1000)),
    partialS,
  };
}

// ---------------------------------------------------------------------------------------------
// Markup.

function badge(document: ResultDocument): string {
  if (document.interrupted) return '<span class="badge warn">INTERRUPTED</span>';
  if (document.abortedBy) return '<span class="badge bad">ABORTED</span>';
  return document.thresholds.every((t) => t.ok) ? '<span class="badge ok">PASS</span>' : '<span class="badge bad">FAIL</span>';
}

function scenarioSection(id: string, { name, document }: ScenarioResult): string {
  const out: string[] = [];
  out.push(`<section class="scenario" id="${id}">`);
  out.push(`<h2>${badge(document)} ${escapeHtml(name)}</h2>`);
  const facts: Array<[string, string]> = [
    ['command', `resil ${document.command}`],
    ['target', document.target],
    ['started', document.startedAt],
    ['duration', formatMs(document.durationMs)],
    ['seed', String(document.seed)],
    ['model', modelText(document)],
  ];
  if (document.shard) facts.push(['shard', `${document.shard.index + 1}/${document.shard.count}`]);
  if (document.mergedShards !== undefined) facts.push(['merged shards', String(document.mergedShards)]);
  out.push(`<dl class="facts">${facts.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`);
  if (document.interrupted) out.push('<p class="notice">Interrupted: partial results, no threshold was decided.</p>');
  if (document.abortedBy) out.push(`<p class="notice">Aborted: ${escapeHtml(abortText(document)!)}.</p>`);

  // Thresholds first: the verdict.
  out.push('<h3>Thresholds</h3>');
  if (document.thresholds.length > 0) {
    out.push('<table class="thresholds"><thead><tr><th>threshold</th><th class="num">actual</th><th>result</th></tr></thead><tbody>');
    for (const t of document.thresholds) {
      const result = document.interrupted
        ? '<span class="warn-text">undecided</span>'
        : t.ok
          ? '<span class="ok-text">pass</span>'
          : '<strong class="bad-text">FAIL</strong>';
      out.push(
        `<tr class="${t.ok ? '' : 'failed'}"><td><code>${escapeHtml(t.expression)}</code>` +
          `${t.default ? ' <span class="muted">(default)</span>' : ''}</td>` +
          `<td class="num">${escapeHtml(verdictValueText(t))}</td><td>${result}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
    for (const t of document.thresholds)
      if (!t.ok && t.note)
        out.push(`<p class="cause"><strong class="bad-text">${escapeHtml(t.expression)}:</strong> ${escapeHtml(t.note)}</p>`);
  } else {
    out.push('<p class="muted">No thresholds.</p>');
  }
  const warnings = document.warnings ?? [];
  if (warnings.length > 0)
    out.push(
      `<ul class="warnings">${warnings.map((w) => `<li><strong class="warn-text">warning:</strong> ${escapeHtml(w)}</li>`).join('')}</ul>`,
    );

  // Headline figures.
  const { total, ok, failed, cancelled, dropped } = document.requests;
  const cards: Array<[string, string, string]> = [
    [
      'requests',
      formatCount(total),
      `${formatCount(ok)} ok · ${formatCount(failed)} failed` +
        (cancelled > 0 ? ` · ${formatCount(cancelled)} cut unanswered` : '') +
        (dropped > 0 ? ` · ${formatCount(dropped)} dropped` : ''),
    ],
    ['success rate', formatPercentOrNone(document.successRate), rateClass(document.successRate)],
    ['throughput', `${formatCount(document.rps)} req/s`, ''],
    ['p99', document.latencyMs ? formatMs(document.latencyMs.p99) : NO_DATA, ''],
  ];
  if (document.schedule) {
    const s = document.schedule;
    cards.push([
      'schedule',
      `${formatCount(s.scheduled)} scheduled`,
      `${formatCount(s.lateStarts)} started > ${s.lateStartMs}ms late` +
        (s.peakConnections === null ? '' : ` · ${formatCount(s.peakConnections)} connections`) +
        (s.connectionsNeeded !== null && (s.waitedForConnection ?? 0) > 0 ? `, about ${formatCount(s.connectionsNeeded)} needed` : ''),
    ]);
  }
  out.push(
    '<div class="cards">' +
      cards
        .map(([label, value, note], i) =>
          i === 1
            ? `<div class="card ${note}"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`
            : `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div>` +
              `${note ? `<div class="note">${escapeHtml(note)}</div>` : ''}</div>`,
        )
        .join('') +
      '</div>',
  );

  // Latency; the streams' rows even when every stream was cut (no complete response, no latency).
  out.push('<h3>Latency</h3>');
  const streams = document.streams;
  if (document.latencyMs || streams?.ttftMs || streams?.eventGapMs) {
    const head = LATENCY_COLUMNS.map(([, label]) => `<th class="num">${escapeHtml(label)}</th>`).join('');
    const row = (label: string, summary: NonNullable<ResultDocument['latencyMs']>) =>
      `<tr><td>${escapeHtml(label)}</td>` +
      LATENCY_COLUMNS.map(([key]) => `<td class="num">${escapeHtml(formatMs(summary[key]))}</td>`).join('') +
      '</tr>';
    out.push(`<table class="latency"><thead><tr><th></th>${head}</tr></thead><tbody>`);
    if (document.latencyMs) out.push(row(document.model === 'open' ? 'from schedule' : 'response', document.latencyMs));
    if (document.model === 'open' && document.serviceTimeMs) out.push(row('service time', document.serviceTimeMs));
    if (streams?.ttftMs) out.push(row('ttft (streams)', streams.ttftMs));
    if (streams?.eventGapMs) out.push(row('event gap (streams)', streams.eventGapMs));
    out.push('</tbody></table>');
  }
  if (streams) {
    out.push(`<p>Streams: ${escapeHtml(formatCount(streams.streams))}, ${escapeHtml(formatCount(streams.dataEvents))} data events.</p>`);
  }
  if (document.latencyMs) {
    out.push(
      '<figure><figcaption>Latency by percentile (log scale)</figcaption>' +
        `<div class="chart" data-chart="percentiles" data-scenario="${id}"></div></figure>`,
    );
  } else {
    out.push('<p class="notice">No complete response: no latency to report.</p>');
  }

  // Timeline.
  if (document.timeline && document.timeline.length > 0) {
    const windows = document.faultWindows ?? [];
    out.push('<h3>Timeline</h3>');
    if (windows.length > 0) {
      out.push(
        '<p class="muted"><span class="swatch"></span> shaded: fault windows ' +
          `${windows.map((w) => `<code>${escapeHtml(w.window)}</code>`).join(', ')}</p>`,
      );
    }
    const partialS = timelineData(document)?.partialS ?? null;
    const partial = partialS === null ? '' : ` (the last point covers the final ${partialS}s of the run, as a rate per second)`;
    out.push(
      `<figure><figcaption>Requests completed and success rate, per second${escapeHtml(partial)}</figcaption>` +
        `<div class="chart" data-chart="throughput" data-scenario="${id}"></div></figure>`,
    );
    if (document.timeline.some((s) => s.p99Ms !== null)) {
      out.push(
        `<figure><figcaption>p99 latency, per second</figcaption><div class="chart" data-chart="p99" data-scenario="${id}"></div></figure>`,
      );
    }
  }

  if (document.faults) out.push(faultsSection(document));
  if (document.behaviour) out.push(behaviourSection(id, document.behaviour));
  out.push(breakdownSection(document));
  out.push(settingsSection(document));
  out.push('</section>');
  return out.join('\n');
}

function faultsSection(document: ResultDocument): string {
  const faults = document.faults!;
  const out: string[] = ['<h3>Faults: injected vs observed</h3>'];
  const injectedTypes = Object.keys(faults.injected);
  const observedErrors = Object.keys(document.errors);
  const rows = [...injectedTypes, ...observedErrors.filter((e) => !injectedTypes.includes(e))];
  if (rows.length > 0) {
    out.push(
      '<table class="faults"><thead><tr><th>fault / error</th><th class="num">injected by the proxy</th>' +
        '<th class="num">observed by the client</th></tr></thead><tbody>',
    );
    for (const type of rows) {
      const injected = faults.injected[type];
      const observed = document.errors[type];
      // `down` counts outages (listener closures), every other fault counts calls.
      out.push(
        `<tr><td><code>${escapeHtml(type)}</code>${type === 'down' ? ' <span class="muted">(outages)</span>' : ''}</td>` +
          `<td class="num">${escapeHtml(formatCount(injected ?? 0))}</td>` +
          `<td class="num">${escapeHtml(formatCount(observed ?? 0))}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  } else {
    out.push('<p class="muted">No fault injected, no error observed.</p>');
  }
  const amplification =
    document.amplification === null || document.amplification === undefined
      ? NO_DATA
      : formatFactor(document.amplification, 'calls/request');
  const facts: Array<[string, string]> = [
    ['dependency calls', formatCount(faults.upstreamCalls)],
    ['passed through', formatCount(faults.passedThrough)],
    [
      'upstream errors',
      faults.upstreamErrors > 0 ? `${formatCount(faults.upstreamErrors)}: calls passed through that got no answer from the upstream` : '0',
    ],
    ['amplification', amplification],
    ['client failures', `${formatCount(document.requests.failed)} of ${formatCount(document.requests.total)} requests`],
  ];
  if (document.policy) {
    const p = document.policy;
    facts.push(
      ['policy', `retries ${p.retries} · backoff ${p.backoff} · retry on ${p.retryOn}${p.breaker ? ` · breaker ${p.breaker}` : ''}`],
      [
        'policy did',
        `${formatCount(p.attempts)} attempts · ${formatCount(p.retried)} retries · ` +
          `${formatCount(p.failovers)} failovers · ${formatCount(p.breakerRejections)} refused by an open breaker`,
      ],
    );
  }
  if (document.recovery && document.recovery.length > 0) {
    facts.push([
      'recovery',
      document.recovery
        .map((r) => `${r.window}: ${r.recoveryMs === null ? 'never' : r.recoveryMs === 0 ? 'at once' : formatMs(r.recoveryMs)}`)
        .join(' · '),
    ]);
  }
  out.push(`<dl class="facts">${facts.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`);
  const providers = Object.entries(faults.providers);
  if (providers.length > 0) {
    out.push(
      '<table class="providers"><thead><tr><th>provider</th><th>target</th><th>listen</th>' +
        '<th class="num">calls</th><th class="num">passed through</th><th>injected</th></tr></thead><tbody>',
    );
    for (const [name, stats] of providers) {
      const injected =
        Object.entries(stats.injected)
          .map(([type, n]) => `${type} × ${formatCount(n)}`)
          .join(', ') || 'none';
      out.push(
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(stats.target)}</td><td>${escapeHtml(stats.listen)}</td>` +
          `<td class="num">${escapeHtml(formatCount(stats.calls))}</td>` +
          `<td class="num">${escapeHtml(formatCount(stats.passedThrough))}</td><td>${escapeHtml(injected)}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  return out.join('\n');
}

/** The service's dependency calls: attempts, retries against Retry-After, calls per provider over time. */
function behaviourSection(id: string, behaviour: BehaviourDocument): string {
  const out: string[] = ['<h3>Dependency behaviour</h3>'];
  const { columns, rows } = behaviourTable(behaviour);
  out.push(
    '<table class="behaviour"><thead><tr><th></th>' +
      columns.map((name) => `<th class="num"><code>${escapeHtml(name)}</code></th>`).join('') +
      '</tr></thead><tbody>' +
      rows
        .map(
          ({ label, cells }) =>
            `<tr><td>${escapeHtml(label)}</td>${cells.map((v) => `<td class="num">${escapeHtml(v)}</td>`).join('')}</tr>`,
        )
        .join('') +
      '</tbody></table>',
  );
  const coverage = coverageLine(behaviour.correlation);
  out.push(
    coverage.warning ? `<p class="notice">${escapeHtml(coverage.warning)}</p>` : `<p class="muted">${escapeHtml(coverage.text)}</p>`,
  );
  const charts = behaviourCharts(behaviour, 0);
  const figure = (kind: string, caption: string) =>
    `<figure><figcaption>${escapeHtml(caption)}</figcaption><div class="chart" data-chart="${kind}" data-scenario="${id}"></div></figure>`;
  if (charts.attempts) out.push(figure('attempts', 'Attempts per request (over every provider)'));
  if (charts.retryAfter) {
    out.push(figure('retryAfter', "Each retry's delay against the Retry-After it was given (a point below the Retry-After came too soon)"));
  }
  if (charts.calls) {
    out.push(
      figure(
        'calls',
        'Dependency calls per second, per provider, with the fault windows shaded: a breaker shows as a drop, its probes as blips',
      ),
    );
  }
  return out.join('\n');
}

function breakdownSection(document: ResultDocument): string {
  const out: string[] = ['<h3>Status codes and errors</h3>', '<div class="pair">'];
  const table = (title: string, entries: Array<[string, number]>, empty: string) => {
    if (entries.length === 0) return `<div><h4>${escapeHtml(title)}</h4><p class="muted">${escapeHtml(empty)}</p></div>`;
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    return (
      `<div><h4>${escapeHtml(title)}</h4>` +
      '<table><thead><tr><th></th><th class="num">count</th><th class="num">share</th></tr></thead><tbody>' +
      entries
        .map(
          ([key, n]) =>
            `<tr><td><code>${escapeHtml(key)}</code></td><td class="num">${escapeHtml(formatCount(n))}</td>` +
            `<td class="num">${escapeHtml(total > 0 ? `${((n / total) * 100).toFixed(1)}%` : '-')}</td></tr>`,
        )
        .join('') +
      '</tbody></table></div>'
    );
  };
  out.push(
    table(
      'status codes',
      Object.entries(document.statusCodes).sort((a, b) => a[0].localeCompare(b[0])),
      'no response received',
    ),
  );
  out.push(
    table(
      'errors',
      Object.entries(document.errors).sort((a, b) => b[1] - a[1]),
      'none',
    ),
  );
  out.push('</div>');
  return out.join('\n');
}

function settingsSection(document: ResultDocument): string {
  const s = document.settings;
  const rows: Array<[string, string]> = [
    ['method', s.method],
    ['concurrency', String(s.concurrency)],
    ['requests', s.requests === null ? '-' : String(s.requests)],
    ['duration', s.durationMs === null ? '-' : formatMs(s.durationMs)],
    ['rate', s.rate === null ? '-' : `${s.rate}/s`],
    ['timeout', formatMs(s.timeoutMs)],
    ['workers', String(s.workers)],
    ['expect status', s.expectStatus],
  ];
  if (document.schedule?.stages)
    rows.push(['stages', document.schedule.stages.map((st) => `${st.rate}/s for ${formatMs(st.durationMs)}`).join(' then ')]);
  const headers = Object.entries(s.headers ?? {});
  const headerCell =
    headers.length === 0
      ? '<span class="muted">none</span>'
      : headers.map(([k, v]) => `<code>${escapeHtml(k)}: ${escapeHtml(v)}</code>`).join('<br>');
  return (
    '<details class="settings"><summary>Run settings</summary><table><tbody>' +
    rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('') +
    `<tr><th>headers</th><td>${headerCell}</td></tr>` +
    `<tr><th>fingerprint</th><td><code>${escapeHtml(document.fingerprint ?? '')}</code></td></tr>` +
    '</tbody></table></details>'
  );
}

function modelText(document: ResultDocument): string {
  if (document.model === 'open' && document.schedule) {
    const rate = document.schedule.stages
      ? document.schedule.stages.map((st) => `${st.rate}/s for ${formatMs(st.durationMs)}`).join(' then ')
      : `${document.schedule.rate}/s`;
    return `open, ${rate}, up to ${document.settings.concurrency} connections`;
  }
  return `closed, ${document.settings.concurrency} connections`;
}

function rateClass(rate: number | null): string {
  if (rate === null) return '';
  return rate >= 0.99 ? 'good' : rate >= 0.9 ? 'meh' : 'bad';
}

// ---------------------------------------------------------------------------------------------
// Escaping and assets.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made inert in HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * JSON safe inside a <script> element: '<', '>' and '&' as \u escapes (so no '</script', '<!--' or
 * '-->' can appear), and U+2028/U+2029 escaped too.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Inlined code must not close its element early (never the case for uPlot's build or ours; checked anyway). */
function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

interface PageAssets {
  uplotJs: string;
  uplotCss: string;
  /** The report's own style and chart script: src/report/assets/, copied beside this module by the build. */
  css: string;
  js: string;
}

let assets: PageAssets | undefined;

/** Read once, on the first report. */
function pageAssets(): PageAssets {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const read = (file: string | URL) => readFileSync(file, 'utf8');
    assets = {
      uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js')),
      uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
      css: read(new URL('./assets/report.css', import.meta.url)),
      // The chart script writes durations with formatMs, the function every report uses.
      js: `const formatMs = ${formatMs.toString()};\n${read(new URL('./assets/report.js', import.meta.url))}`,
    };
  }
  return assets;
}

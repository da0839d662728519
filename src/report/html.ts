import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decodeHistogram } from '../metrics/histogram.js';
import type { ResultDocument, ScenarioResult } from '../model/result.js';
import { formatCount, formatFactor, formatMs, formatPercentOrNone, NO_DATA } from '../util/format.js';
import { campaignVerdict, LATENCY_COLUMNS } from './result.js';

/**
 * Renders results as one self-contained HTML page (nothing is fetched at view time): per scenario the
 * verdict and thresholds, a latency percentile curve, a per-second timeline with the fault windows
 * shaded, faults injected against what the client observed, status and error counts, and the run's
 * settings. uPlot (JS and CSS) is inlined; the chart data is embedded as JSON; every text taken from
 * a document is HTML-escaped.
 */
export function renderHtml(scenarios: ReadonlyArray<ScenarioResult>): string {
  const { js, css } = uplotAssets();
  const data = scenarios.map((scenario, i) => chartData(`s${i}`, scenario.document));
  const body = scenarios.map((scenario, i) => scenarioSection(`s${i}`, scenario)).join('\n');
  const summary = campaignVerdict(scenarios);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="resil">
<title>${escapeHtml(`resil report: ${summary.text}`)}</title>
<style>${inlineStyle(css)}</style>
<style>${STYLE}</style>
</head>
<body>
<header class="top ${summary.ok ? 'pass' : 'fail'}">
<h1>resil report</h1>
<p class="verdict">${escapeHtml(summary.text)}</p>
${scenarios.length > 1 ? `<nav><ul>${scenarios.map((s, i) => `<li><a href="#s${i}">${badge(s.document)} ${escapeHtml(s.name)}</a></li>`).join('')}</ul></nav>` : ''}
</header>
<main>
${body || '<p class="muted">No results.</p>'}
</main>
<script type="application/json" id="resil-data">${jsonForScript(data)}</script>
<script>${inlineScript(js)}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Chart data (computed here, drawn in the page).

interface ChartData {
  id: string;
  /** x = 1/(1-p): 2 is p50, 10000 is p99.99 (drawn on a log axis). Null when nothing was measured. */
  percentiles: { x: number[]; latency: number[]; service: number[] | null; latencyLabel: string } | null;
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
  let histogram;
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
    percentiles: latency === null ? null : { x: xs, latency, service, latencyLabel: document.model === 'open' ? 'latency (from schedule)' : 'latency' },
    timeline: timelineData(document),
    windows,
  };
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
  const lastS = Math.min(1, document.durationMs / 1000 - last.t);
  let partialS: number | null = null;
  if (lastS > 0 && lastS < 1) {
    if (lastS < SHORTEST_PARTIAL_S && seconds.length > 1) seconds.pop();
    else partialS = Math.round(lastS * 1000) / 1000;
  }
  const span = (i: number) => (i === seconds.length - 1 && partialS !== null ? partialS : 1);
  const lastSecond = Math.max(...(document.timeline ?? []).map((s) => s.t)) + 1;
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

  // Thresholds first: the verdict.
  out.push('<h3>Thresholds</h3>');
  if (document.thresholds.length > 0) {
    out.push('<table class="thresholds"><thead><tr><th>threshold</th><th class="num">actual</th><th>result</th></tr></thead><tbody>');
    for (const t of document.thresholds) {
      const result = document.interrupted ? '<span class="warn-text">undecided</span>' : t.ok ? '<span class="ok-text">pass</span>' : '<strong class="bad-text">FAIL</strong>';
      out.push(
        `<tr class="${t.ok ? '' : 'failed'}"><td><code>${escapeHtml(t.expression)}</code>${t.default ? ' <span class="muted">(default)</span>' : ''}</td>` +
          `<td class="num">${escapeHtml(t.formatted)}</td><td>${result}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
    for (const t of document.thresholds) if (!t.ok && t.note) out.push(`<p class="cause"><strong class="bad-text">${escapeHtml(t.expression)}:</strong> ${escapeHtml(t.note)}</p>`);
  } else {
    out.push('<p class="muted">No thresholds.</p>');
  }
  const warnings = document.warnings ?? [];
  if (warnings.length > 0) out.push(`<ul class="warnings">${warnings.map((w) => `<li><strong class="warn-text">warning:</strong> ${escapeHtml(w)}</li>`).join('')}</ul>`);

  // Headline figures.
  const { total, ok, failed, cancelled, dropped } = document.requests;
  const cards: Array<[string, string, string]> = [
    ['requests', formatCount(total), `${formatCount(ok)} ok · ${formatCount(failed)} failed${cancelled > 0 ? ` · ${formatCount(cancelled)} cut unanswered` : ''}${dropped > 0 ? ` · ${formatCount(dropped)} dropped` : ''}`],
    ['success rate', formatPercentOrNone(document.successRate), rateClass(document.successRate)],
    ['throughput', `${formatCount(document.rps)} req/s`, ''],
    ['p99', document.latencyMs ? formatMs(document.latencyMs.p99) : NO_DATA, ''],
  ];
  if (document.schedule) {
    const s = document.schedule;
    cards.push(['schedule', `${formatCount(s.scheduled)} scheduled`, `${formatCount(s.lateStarts)} started > ${s.lateStartMs}ms late${s.peakConnections === null ? '' : ` · ${formatCount(s.peakConnections)} connections`}${s.connectionsNeeded !== null && (s.waitedForConnection ?? 0) > 0 ? `, about ${formatCount(s.connectionsNeeded)} needed` : ''}`]);
  }
  out.push(
    '<div class="cards">' +
      cards
        .map(([label, value, note], i) =>
          i === 1
            ? `<div class="card ${note}"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`
            : `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div>${note ? `<div class="note">${escapeHtml(note)}</div>` : ''}</div>`,
        )
        .join('') +
      '</div>',
  );

  // Latency.
  out.push('<h3>Latency</h3>');
  if (document.latencyMs) {
    const head = LATENCY_COLUMNS.map(([, label]) => `<th class="num">${escapeHtml(label)}</th>`).join('');
    const row = (label: string, summary: NonNullable<ResultDocument['latencyMs']>) =>
      `<tr><td>${escapeHtml(label)}</td>${LATENCY_COLUMNS.map(([key]) => `<td class="num">${escapeHtml(formatMs(summary[key]))}</td>`).join('')}</tr>`;
    out.push(`<table class="latency"><thead><tr><th></th>${head}</tr></thead><tbody>`);
    out.push(row(document.model === 'open' ? 'from schedule' : 'response', document.latencyMs));
    if (document.model === 'open' && document.serviceTimeMs) out.push(row('service time', document.serviceTimeMs));
    out.push('</tbody></table>');
    out.push(`<figure><figcaption>Latency by percentile (log scale)</figcaption><div class="chart" data-chart="percentiles" data-scenario="${id}"></div></figure>`);
  } else {
    out.push('<p class="notice">No complete response: no latency to report.</p>');
  }

  // Timeline.
  if (document.timeline && document.timeline.length > 0) {
    const windows = document.faultWindows ?? [];
    out.push('<h3>Timeline</h3>');
    if (windows.length > 0) {
      out.push(`<p class="muted"><span class="swatch"></span> shaded: fault windows ${windows.map((w) => `<code>${escapeHtml(w.window)}</code>`).join(', ')}</p>`);
    }
    const partialS = timelineData(document)?.partialS ?? null;
    const partial = partialS === null ? '' : ` (the last point covers the final ${partialS}s of the run, as a rate per second)`;
    out.push(`<figure><figcaption>Requests completed and success rate, per second${escapeHtml(partial)}</figcaption><div class="chart" data-chart="throughput" data-scenario="${id}"></div></figure>`);
    if (document.timeline.some((s) => s.p99Ms !== null)) {
      out.push(`<figure><figcaption>p99 latency, per second</figcaption><div class="chart" data-chart="p99" data-scenario="${id}"></div></figure>`);
    }
  }

  if (document.faults) out.push(faultsSection(document));
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
    out.push('<table class="faults"><thead><tr><th>fault / error</th><th class="num">injected by the proxy</th><th class="num">observed by the client</th></tr></thead><tbody>');
    for (const type of rows) {
      const injected = faults.injected[type];
      const observed = document.errors[type];
      // `down` counts outages (listener closures), every other fault counts calls.
      out.push(
        `<tr><td><code>${escapeHtml(type)}</code>${type === 'down' ? ' <span class="muted">(outages)</span>' : ''}</td><td class="num">${escapeHtml(formatCount(injected ?? 0))}</td>` +
          `<td class="num">${escapeHtml(formatCount(observed ?? 0))}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  } else {
    out.push('<p class="muted">No fault injected, no error observed.</p>');
  }
  const amplification = document.amplification === null || document.amplification === undefined ? NO_DATA : formatFactor(document.amplification, 'calls/request');
  const facts: Array<[string, string]> = [
    ['dependency calls', formatCount(faults.upstreamCalls)],
    ['passed through', formatCount(faults.passedThrough)],
    ['upstream errors', faults.upstreamErrors > 0 ? `${formatCount(faults.upstreamErrors)}: calls passed through that got no answer from the upstream` : '0'],
    ['amplification', amplification],
    ['client failures', `${formatCount(document.requests.failed)} of ${formatCount(document.requests.total)} requests`],
  ];
  if (document.policy) {
    const p = document.policy;
    facts.push(
      ['policy', `retries ${p.retries} · backoff ${p.backoff} · retry on ${p.retryOn}${p.breaker ? ` · breaker ${p.breaker}` : ''}`],
      ['policy did', `${formatCount(p.attempts)} attempts · ${formatCount(p.retried)} retries · ${formatCount(p.failovers)} failovers · ${formatCount(p.breakerRejections)} refused by an open breaker`],
    );
  }
  if (document.recovery && document.recovery.length > 0) {
    facts.push([
      'recovery',
      document.recovery.map((r) => `${r.window}: ${r.recoveryMs === null ? 'never' : r.recoveryMs === 0 ? 'at once' : formatMs(r.recoveryMs)}`).join(' · '),
    ]);
  }
  out.push(`<dl class="facts">${facts.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`);
  const providers = Object.entries(faults.providers);
  if (providers.length > 0) {
    out.push('<table class="providers"><thead><tr><th>provider</th><th>target</th><th>listen</th><th class="num">calls</th><th class="num">passed through</th><th>injected</th></tr></thead><tbody>');
    for (const [name, stats] of providers) {
      const injected = Object.entries(stats.injected).map(([type, n]) => `${type} × ${formatCount(n)}`).join(', ') || 'none';
      out.push(
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(stats.target)}</td><td>${escapeHtml(stats.listen)}</td>` +
          `<td class="num">${escapeHtml(formatCount(stats.calls))}</td><td class="num">${escapeHtml(formatCount(stats.passedThrough))}</td><td>${escapeHtml(injected)}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  return out.join('\n');
}

function breakdownSection(document: ResultDocument): string {
  const out: string[] = ['<h3>Status codes and errors</h3>', '<div class="pair">'];
  const table = (title: string, entries: Array<[string, number]>, empty: string) => {
    if (entries.length === 0) return `<div><h4>${escapeHtml(title)}</h4><p class="muted">${escapeHtml(empty)}</p></div>`;
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    return (
      `<div><h4>${escapeHtml(title)}</h4><table><thead><tr><th></th><th class="num">count</th><th class="num">share</th></tr></thead><tbody>` +
      entries
        .map(([key, n]) => `<tr><td><code>${escapeHtml(key)}</code></td><td class="num">${escapeHtml(formatCount(n))}</td><td class="num">${escapeHtml(total > 0 ? `${((n / total) * 100).toFixed(1)}%` : '-')}</td></tr>`)
        .join('') +
      '</tbody></table></div>'
    );
  };
  out.push(table('status codes', Object.entries(document.statusCodes).sort((a, b) => a[0].localeCompare(b[0])), 'no response received'));
  out.push(table('errors', Object.entries(document.errors).sort((a, b) => b[1] - a[1]), 'none'));
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
  if (document.schedule?.stages) rows.push(['stages', document.schedule.stages.map((st) => `${st.rate}/s for ${formatMs(st.durationMs)}`).join(' then ')]);
  const headers = Object.entries(s.headers ?? {});
  const headerCell =
    headers.length === 0 ? '<span class="muted">none</span>' : headers.map(([k, v]) => `<code>${escapeHtml(k)}: ${escapeHtml(v)}</code>`).join('<br>');
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
    const rate = document.schedule.stages ? document.schedule.stages.map((st) => `${st.rate}/s for ${formatMs(st.durationMs)}`).join(' then ') : `${document.schedule.rate}/s`;
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

/** Inlined code must not close its element early (never the case for uPlot's build; checked anyway). */
function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

let assets: { js: string; css: string } | undefined;

function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    assets = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return assets;
}

const STYLE = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; background: var(--panel); padding: 1px 4px; border-radius: 4px; word-break: break-all; }
header.top { padding: 18px 32px; border-bottom: 1px solid var(--line); border-left: 8px solid var(--ok); }
header.top.fail { border-left-color: var(--bad); }
header.top h1 { margin: 0; font-size: 20px; }
header.top .verdict { margin: 4px 0 0; font-size: 16px; font-weight: 600; }
header.top.pass .verdict { color: var(--ok); }
header.top.fail .verdict { color: var(--bad); }
header nav ul { list-style: none; padding: 0; margin: 10px 0 0; display: flex; flex-wrap: wrap; gap: 8px 18px; }
header nav a { color: inherit; text-decoration: none; }
main { padding: 8px 32px 48px; max-width: 1200px; }
section.scenario { padding: 12px 0 28px; border-bottom: 1px solid var(--line); }
h2 { font-size: 19px; margin: 16px 0 8px; word-break: break-word; }
h3 { font-size: 15px; margin: 22px 0 8px; }
h4 { font-size: 13px; margin: 0 0 6px; color: var(--muted); font-weight: 600; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; letter-spacing: .04em; padding: 2px 8px; border-radius: 10px; color: #fff; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); } .badge.warn { background: var(--warn); }
.ok-text { color: var(--ok); font-weight: 600; } .bad-text { color: var(--bad); } .warn-text { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
.notice { background: #fff8c5; border: 1px solid #eac54f; padding: 8px 12px; border-radius: 6px; }
p.cause { background: #ffebe9; border: 1px solid #ff8182; padding: 8px 12px; border-radius: 6px; }
ul.warnings { background: #fff8c5; border: 1px solid #eac54f; padding: 8px 12px 8px 28px; border-radius: 6px; }
dl.facts { display: flex; flex-wrap: wrap; gap: 6px 22px; margin: 4px 0 8px; }
dl.facts div { display: flex; gap: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #ffebe9; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0 4px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 150px; }
.card .label { font-size: 12px; color: var(--muted); }
.card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .note { font-size: 12px; color: var(--muted); }
.card.good .value { color: var(--ok); } .card.meh .value { color: var(--warn); } .card.bad .value { color: var(--bad); }
figure { margin: 10px 0 16px; }
figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.chart { width: 100%; min-height: 40px; }
.swatch { display: inline-block; width: 14px; height: 10px; background: rgba(239, 68, 68, .22); border: 1px solid rgba(239, 68, 68, .5); vertical-align: middle; }
.pair { display: flex; flex-wrap: wrap; gap: 12px 48px; }
details.settings { margin-top: 18px; }
details.settings summary { cursor: pointer; font-weight: 600; }
details.settings th { color: var(--muted); font-weight: 500; width: 140px; }
.u-legend { font-size: 12px; }
`;

/** Draws the charts from the embedded JSON. Plain ES5-ish JS: runs in any browser uPlot supports. */
const CLIENT_SCRIPT = `
(function () {
  'use strict';
  var source = document.getElementById('resil-data');
  var scenarios = JSON.parse(source ? source.textContent : '[]');
  var COLORS = { latency: '#2563eb', service: '#d97706', requests: '#2563eb', success: '#16a34a', p99: '#dc2626' };
  var NAMED_X = ${JSON.stringify(NAMED_X)};
  var charts = [];

  function fmtMs(v) {
    if (v == null || !isFinite(v)) return '-';
    if (v === 0) return '0ms';
    if (v < 1) return v.toFixed(3) + 'ms';
    if (v < 10) return v.toFixed(2) + 'ms';
    if (v < 1000) return v.toFixed(1) + 'ms';
    return (v / 1000).toFixed(2) + 's';
  }
  function pctLabel(x) {
    if (x == null || !(x >= 1)) return '';
    var p = 100 * (1 - 1 / x);
    return 'p' + String(Number(p.toFixed(3)));
  }
  function widthOf(el) {
    var w = el.clientWidth || (el.parentNode && el.parentNode.clientWidth) || 800;
    return Math.max(320, Math.min(w, 1140));
  }
  function shadeWindows(windows) {
    return {
      hooks: {
        drawClear: [function (u) {
          if (!windows.length) return;
          var ctx = u.ctx, left = u.bbox.left, right = u.bbox.left + u.bbox.width;
          ctx.save();
          for (var i = 0; i < windows.length; i++) {
            var w = windows[i];
            var a = Math.max(left, u.valToPos(w.start, 'x', true));
            var b = Math.min(right, u.valToPos(w.end, 'x', true));
            if (!(b > a)) continue;
            ctx.fillStyle = 'rgba(239, 68, 68, 0.14)';
            ctx.fillRect(a, u.bbox.top, b - a, u.bbox.height);
            ctx.fillStyle = 'rgba(185, 28, 28, 0.85)';
            ctx.font = Math.round(11 * (window.devicePixelRatio || 1)) + 'px system-ui, sans-serif';
            ctx.fillText('fault ' + w.label, a + 4, u.bbox.top + 14 * (window.devicePixelRatio || 1));
          }
          ctx.restore();
        }]
      }
    };
  }
  function secondsAxis() {
    return { label: 'seconds since start', values: function (u, splits) { return splits.map(function (v) { return v + 's'; }); } };
  }
  function timeRange(endS) {
    return function (u, min, max) { return [0, Math.max(endS, max || 0, 1)]; };
  }

  function percentileChart(el, s) {
    var d = s.percentiles;
    var series = [
      { label: 'percentile', value: function (u, v) { return v == null ? '-' : pctLabel(v); } },
      { label: d.latencyLabel, stroke: COLORS.latency, width: 2, value: function (u, v) { return fmtMs(v); } }
    ];
    var data = [d.x, d.latency];
    if (d.service) {
      series.push({ label: 'service time', stroke: COLORS.service, width: 2, dash: [6, 4], value: function (u, v) { return fmtMs(v); } });
      data.push(d.service);
    }
    return new uPlot({
      width: widthOf(el), height: 300,
      scales: { x: { time: false, distr: 3, log: 10, range: [2, 10000] }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } },
      axes: [
        { label: 'percentile', splits: function () { return NAMED_X; }, filter: function (u, splits) { return splits; }, values: function (u, splits) { return splits.map(pctLabel); }, space: 30 },
        { label: 'latency', size: 70, values: function (u, splits) { return splits.map(fmtMs); } }
      ],
      series: series
    }, data, el);
  }

  function throughputChart(el, s) {
    var d = s.timeline;
    return new uPlot({
      width: widthOf(el), height: 240,
      plugins: [shadeWindows(s.windows)],
      scales: { x: { time: false, range: timeRange(d.endS) }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }, pct: { range: [0, 105] } },
      axes: [
        secondsAxis(),
        { label: 'requests / s', scale: 'y', size: 60 },
        { label: 'success rate', scale: 'pct', side: 1, size: 60, grid: { show: false }, values: function (u, splits) { return splits.map(function (v) { return v + '%'; }); } }
      ],
      series: [
        { label: 'second', value: function (u, v) { return v == null ? '-' : Math.floor(v) + 's'; } },
        { label: 'requests/s', stroke: COLORS.requests, fill: 'rgba(37, 99, 235, 0.08)', width: 2, scale: 'y', points: { show: true } },
        { label: 'success rate', stroke: COLORS.success, width: 2, scale: 'pct', points: { show: true }, value: function (u, v) { return v == null ? '-' : v.toFixed(2) + '%'; } }
      ]
    }, [d.x, d.requests, d.successPct], el);
  }

  function p99Chart(el, s) {
    var d = s.timeline;
    return new uPlot({
      width: widthOf(el), height: 220,
      plugins: [shadeWindows(s.windows)],
      scales: { x: { time: false, range: timeRange(d.endS) }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [secondsAxis(), { label: 'p99', size: 70, values: function (u, splits) { return splits.map(fmtMs); } }],
      series: [
        { label: 'second', value: function (u, v) { return v == null ? '-' : Math.floor(v) + 's'; } },
        { label: 'p99', stroke: COLORS.p99, width: 2, points: { show: true }, value: function (u, v) { return fmtMs(v); } }
      ]
    }, [d.x, d.p99], el);
  }

  var DRAW = { percentiles: percentileChart, throughput: throughputChart, p99: p99Chart };
  var byId = {};
  for (var i = 0; i < scenarios.length; i++) byId[scenarios[i].id] = scenarios[i];
  var holders = document.querySelectorAll('[data-chart]');
  for (var j = 0; j < holders.length; j++) {
    var el = holders[j], s = byId[el.getAttribute('data-scenario')], kind = el.getAttribute('data-chart');
    if (!s || !DRAW[kind]) continue;
    if (kind === 'percentiles' ? !s.percentiles : !s.timeline) continue;
    try {
      charts.push({ el: el, chart: DRAW[kind](el, s) });
    } catch (error) {
      el.textContent = 'chart unavailable: ' + (error && error.message ? error.message : String(error));
      if (window.console) console.error(error);
    }
  }
  var pending = null;
  window.addEventListener('resize', function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      for (var k = 0; k < charts.length; k++) charts[k].chart.setSize({ width: widthOf(charts[k].el), height: charts[k].chart.height });
    }, 100);
  });
  window.resilCharts = charts;
})();
`;

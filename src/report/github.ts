import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { envSummary } from '../cli/env-flags.js';
import type { ResultDocument, ScenarioResult } from '../model/result.js';
import { formatCount, formatFactor, formatMs, formatPercentOrNone, NO_DATA } from '../util/format.js';
import { behaviourTable, coverageLine } from './behaviour.js';
import { abortText, campaignVerdict, LATENCY_COLUMNS, verdictValueText } from './result.js';

/** Percentiles and max (the summary leaves min and mean out). */
const PERCENTILES = LATENCY_COLUMNS.filter(([key]) => key !== 'min' && key !== 'mean');

/**
 * Renders results as GitHub-flavoured Markdown for the job summary ($GITHUB_STEP_SUMMARY): the
 * verdict first, then per scenario its thresholds, latency, volume and, for chaos runs, faults
 * injected against what the client observed.
 */
export function renderStepSummary(scenarios: ReadonlyArray<ScenarioResult>): string {
  const summary = campaignVerdict(scenarios);
  const lines: string[] = [`## resil: ${summary.ok ? '✅' : '❌'} ${summary.text}`, ''];
  for (const scenario of scenarios) lines.push(...scenarioSection(scenario));
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/**
 * Appends the summary to the file GitHub names in GITHUB_STEP_SUMMARY. Returns false (writing
 * nothing) outside GitHub Actions; a write failure throws.
 */
export function appendStepSummary(scenarios: ReadonlyArray<ScenarioResult>, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = env.GITHUB_STEP_SUMMARY;
  if (path === undefined || path === '') return false;
  appendFileSync(path, separatorAfter(path) + renderStepSummary(scenarios));
  return true;
}

/** One `::error` workflow command per missed threshold and one `::warning` per warning, escaped as the runner requires. */
export function annotations(scenarios: ReadonlyArray<ScenarioResult>): string[] {
  const lines: string[] = [];
  for (const { name, document } of scenarios) {
    for (const threshold of document.thresholds) {
      if (threshold.ok) continue;
      const title = `resil ${name}: ${threshold.expression}`;
      const context = [
        `threshold ${threshold.expression}`,
        `${formatCount(document.requests.total)} requests`,
        `success rate ${formatPercentOrNone(document.successRate)}`,
        `p99 ${document.latencyMs ? formatMs(document.latencyMs.p99) : NO_DATA}`,
      ];
      if (document.interrupted) context.push('run interrupted: partial results');
      if (document.abortedBy) context.push(abortText(document)!);
      const message = `${threshold.note ? `${threshold.note}: ` : ''}measured ${verdictValueText(threshold)} (${context.join(', ')})`;
      lines.push(`::error title=${escapeProperty(title)}::${escapeData(message)}`);
    }
    for (const warning of document.warnings ?? []) lines.push(`::warning title=${escapeProperty(`resil ${name}`)}::${escapeData(warning)}`);
  }
  return lines;
}

/** Writes the annotations when running under GitHub Actions; returns how many were written. */
export function emitAnnotations(
  scenarios: ReadonlyArray<ScenarioResult>,
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): number {
  if (env.GITHUB_ACTIONS !== 'true') return 0;
  const lines = annotations(scenarios);
  for (const line of lines) write(line);
  return lines.length;
}

/** Workflow command message escaping (as @actions/core does it). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Workflow command property escaping: the message escapes plus ':' and ','. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function scenarioSection({ name, document }: ScenarioResult): string[] {
  const lines: string[] = [];
  const failed = document.thresholds.filter((t) => !t.ok).length;
  const mark = document.interrupted ? '⚠️' : document.abortedBy ? '🛑' : failed > 0 ? '❌' : '✅';
  lines.push(`### ${mark} ${text(name)}`, '');
  const facts = [code(`resil ${document.command}`), code(document.target), formatMs(document.durationMs), `seed ${document.seed}`];
  if (document.interrupted) facts.push('**interrupted: partial results**');
  if (document.abortedBy) facts.push(`**aborted: ${text(abortText(document)!)}**`);
  lines.push(facts.join(' · '), '');
  if (document.fromEnvironment) lines.push(`From the environment: ${code(envSummary(document.fromEnvironment))}`, '');

  // Thresholds.
  if (document.thresholds.length > 0) {
    lines.push('| threshold | actual | result |', '| --- | --- | --- |');
    for (const t of document.thresholds) {
      const label = code(t.expression) + (t.default ? ' _(default)_' : '');
      const result = document.interrupted ? '⚠️ undecided' : t.ok ? '✅ pass' : '❌ **fail**';
      lines.push(`| ${label} | ${cell(verdictValueText(t))} | ${result} |`);
    }
    lines.push('');
    for (const t of document.thresholds) if (!t.ok && t.note) lines.push(`❌ ${text(t.note)}`, '');
  }
  for (const warning of document.warnings ?? []) lines.push(`⚠️ **warning:** ${text(warning)}`, '');

  // Volume.
  const { total, ok, failed: failedRequests, cancelled, dropped } = document.requests;
  const needed = document.schedule?.connectionsNeeded ?? null;
  lines.push(
    `**Requests** ${formatCount(total)} total · ${formatCount(ok)} ok · ${formatCount(failedRequests)} failed` +
      (cancelled > 0 ? ` · **${formatCount(cancelled)} cut unanswered** (sent, no answer when the run ended; counted as failed)` : '') +
      (dropped > 0
        ? ` · **${formatCount(dropped)} dropped** (due, never sent` +
          (needed === null ? '' : `; about ${formatCount(needed)} connections would keep the schedule`) +
          ')'
        : '') +
      ` · **success rate** ${formatPercentOrNone(document.successRate)} · **throughput** ${formatCount(document.rps)} req/s`,
    '',
  );

  // Latency; the streams' rows even when every stream was cut (no complete response, no latency).
  const streams = document.streams;
  if (document.latencyMs || streams?.ttftMs || streams?.eventGapMs) {
    lines.push(`| latency | ${PERCENTILES.map(([, label]) => label).join(' | ')} |`, `| --- |${' ---: |'.repeat(PERCENTILES.length)}`);
    const row = (label: string, summary: NonNullable<ResultDocument['latencyMs']>) =>
      `| ${label} | ${PERCENTILES.map(([key]) => formatMs(summary[key])).join(' | ')} |`;
    if (document.latencyMs) lines.push(row(document.model === 'open' ? 'from schedule' : 'response', document.latencyMs));
    if (document.model === 'open' && document.serviceTimeMs) lines.push(row('service time', document.serviceTimeMs));
    if (streams?.ttftMs) lines.push(row('ttft (streams)', streams.ttftMs));
    if (streams?.eventGapMs) lines.push(row('event gap (streams)', streams.eventGapMs));
    lines.push('');
  }
  if (!document.latencyMs) lines.push('_No complete response: no latency to report._', '');
  if (streams) lines.push(`**Streams** ${formatCount(streams.streams)} · ${formatCount(streams.dataEvents)} data events`, '');

  if (document.faults) lines.push(...chaosSection(document));
  if (document.behaviour) lines.push(...behaviourSection(document));
  return lines;
}

/** The dependency behaviour, compact: one column per provider, and the correlation coverage under it. */
function behaviourSection(document: ResultDocument): string[] {
  const behaviour = document.behaviour!;
  const { columns, rows } = behaviourTable(behaviour, { compact: true });
  const lines = [
    '#### Dependency behaviour',
    '',
    `| | ${columns.map(code).join(' | ')} |`,
    `| --- |${' ---: |'.repeat(columns.length)}`,
    ...rows.map(({ label, cells }) => `| ${cell(label)} | ${cells.map(cell).join(' | ')} |`),
    '',
  ];
  const coverage = coverageLine(behaviour.correlation);
  lines.push(coverage.warning ? `⚠️ ${text(coverage.warning)}` : `_${text(coverage.text)}_`, '');
  return lines;
}

function chaosSection(document: ResultDocument): string[] {
  const faults = document.faults!;
  const lines: string[] = ['#### Faults: injected vs observed', ''];

  const providers = Object.entries(faults.providers);
  const perProvider = providers.length > 1;
  const types = Object.keys(faults.injected);
  if (types.length > 0) {
    const head = ['fault', 'injected', ...(perProvider ? providers.map(([provider]) => code(provider)) : [])];
    lines.push(`| ${head.join(' | ')} |`, `| --- |${' ---: |'.repeat(head.length - 1)}`);
    for (const type of types) {
      // `down` counts outages (listener closures), every other fault counts calls.
      const label = type === 'down' ? `${code(type)} _(outages)_` : code(type);
      const cells = [
        label,
        formatCount(faults.injected[type]!),
        ...(perProvider ? providers.map(([, stats]) => formatCount(stats.injected[type] ?? 0)) : []),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  } else {
    lines.push('**Injected** none', '');
  }

  const amplification =
    document.amplification === null || document.amplification === undefined
      ? NO_DATA
      : formatFactor(document.amplification, 'calls/request');
  lines.push(
    `**Dependency calls** ${formatCount(faults.upstreamCalls)} · ${formatCount(faults.passedThrough)} passed through · ` +
      `${formatCount(faults.upstreamErrors)} upstream errors · **amplification** ${amplification}`,
    '',
  );

  const errors = Object.entries(document.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([error, n]) => `${code(error)} × ${formatCount(n)}`);
  const statuses = Object.entries(document.statusCodes).map(([status, n]) => `${code(status)} × ${formatCount(n)}`);
  lines.push(
    `**Client observed** ${formatCount(document.requests.failed)} failed of ${formatCount(document.requests.total)} requests` +
      ` · errors: ${errors.length > 0 ? errors.join(', ') : 'none'}` +
      ` · status codes: ${statuses.length > 0 ? statuses.join(', ') : 'none'}`,
    '',
  );

  if (document.policy) {
    const p = document.policy;
    lines.push(
      `**Policy** ${formatCount(p.attempts)} attempts · ${formatCount(p.retried)} retries · ${formatCount(p.failovers)} failovers · ` +
        `${formatCount(p.breakerRejections)} refused by an open breaker`,
      '',
    );
  }

  if (document.recovery && document.recovery.length > 0) {
    lines.push('| fault window | recovery |', '| --- | ---: |');
    for (const r of document.recovery) {
      const recovery = r.recoveryMs === null ? '❌ never' : r.recoveryMs === 0 ? 'at once' : formatMs(r.recoveryMs);
      lines.push(`| ${code(r.window)} | ${recovery} |`);
    }
    lines.push('');
  }
  return lines;
}

/** A blank line between this summary and whatever an earlier step wrote, however that ended. */
function separatorAfter(path: string): string {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  if (size === 0) return '';
  const last = Buffer.alloc(1);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, last, 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  return last[0] === 0x0a ? '\n' : '\n\n';
}

/** Plain text made inert in Markdown (and single-line, for tables and headings). */
function text(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]<>()#|!~&]/g, '\\$&');
}

/** A table cell from plain text. */
function cell(value: string): string {
  return text(value);
}

/** An inline code span that survives any backticks in the text and pipes inside a table. */
function code(value: string): string {
  const single = value.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(single.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = single.startsWith('`') || single.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${single}${pad}${fence}`;
}

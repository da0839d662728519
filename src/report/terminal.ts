import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { envSummary } from '../cli/env-flags.js';
import { shardShare } from '../engine/share.js';
import type { ResultDocument } from '../model/result.js';
import type { LatencySummaryMs } from '../metrics/histogram.js';
import { formatBytes, formatCount, formatFactor, formatMs, formatPercent } from '../util/format.js';
import type { BehaviourDocument } from '../model/behaviour.js';
import { behaviourTable, coverageLine } from './behaviour.js';
import { abortText, campaignVerdict, LATENCY_COLUMNS, plural, verdictValueText } from './result.js';
import { secondsText } from '../thresholds/evaluate.js';

/** Colour only on a TTY, never with NO_COLOR set (https://no-color.org), always with FORCE_COLOR. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true;
}

/** Renders a result as the terminal summary. Pure: knows nothing of running. */
export function renderSummary(document: ResultDocument, options: { color: boolean }): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const tableStyle = { head: [] as string[], border: [] as string[], compact: true };
  const lines: string[] = [];

  lines.push(`${c.bold(`resil ${document.command}`)}  ${document.target}`);
  // A shard's settings are the whole run's: say which part of them this shard had.
  const { shard } = document;
  const connections = (whole: number) =>
    shard ? `${formatCount(shardShare(whole, shard, document.settings.workers))} of ${formatCount(whole)}` : formatCount(whole);
  const model =
    document.model === 'open'
      ? `open model, ${shard ? `shard ${shard.index + 1}/${shard.count} of ` : ''}` +
        (document.schedule!.stages
          ? document.schedule!.stages.map((s) => `${s.rate}/s for ${formatMs(s.durationMs)}`).join(' then ')
          : `${document.schedule!.rate}/s`) +
        ` scheduled, up to ${connections(document.settings.maxConnections ?? document.settings.concurrency)} connections`
      : `closed model, ${shard ? `shard ${shard.index + 1}/${shard.count}: ` : ''}` +
        `${connections(document.settings.concurrency)} connections`;
  const shards = document.mergedShards !== undefined ? `, ${document.mergedShards} ${plural(document.mergedShards, 'shard')} merged` : '';
  const workers = document.settings.workers > 1 ? `, ${document.settings.workers} workers${shards ? ' each' : ''}` : '';
  lines.push(
    c.dim(
      `${model}${shards}${workers} · ${formatMs(document.durationMs)} · seed ${document.seed}` +
        (document.interrupted ? ' · INTERRUPTED (partial)' : '') +
        (document.abortedBy ? ` · ABORTED at ${secondsText(document.abortedBy.atMs)}` : ''),
    ),
  );
  if (document.fromEnvironment) lines.push(c.dim(`from environment: ${envSummary(document.fromEnvironment)}`));
  lines.push('');

  const { total, ok, failed, cancelled, dropped } = document.requests;
  const overview = new Table({ style: tableStyle });
  const rate = document.successRate === null ? '-' : formatPercent(document.successRate);
  overview.push(
    {
      requests:
        `${formatCount(total)} total · ${formatCount(ok)} ok · ${failed > 0 ? c.red(`${formatCount(failed)} failed`) : '0 failed'}` +
        (cancelled > 0 ? ` · ${c.red(`${formatCount(cancelled)} cut unanswered`)} (sent, no answer when the run ended)` : '') +
        (dropped > 0 ? ` · ${c.red(`${formatCount(dropped)} dropped`)} (due, never sent)` : ''),
    },
    { 'success rate': colourRate(c, document.successRate, rate) + unansweredNote(c, cancelled, dropped) },
    { throughput: `${formatCount(document.rps)} req/s` },
  );
  if (document.schedule) {
    const { scheduled, lateStarts, lateStartMs, peakConnections, waitedForConnection, connectionsNeeded } = document.schedule;
    overview.push({
      schedule: `${formatCount(scheduled)} scheduled · ${formatCount(lateStarts)} started more than ${lateStartMs}ms late`,
    });
    // null: a result from a resil that did not measure connections yet.
    if (peakConnections !== null && waitedForConnection !== null && connectionsNeeded !== null) {
      const connections =
        waitedForConnection > 0
          ? `${formatCount(peakConnections)} at most · ${c.yellow(`${formatCount(waitedForConnection)} requests found none free`)} · ` +
            `about ${formatCount(connectionsNeeded)} would keep the schedule`
          : `${formatCount(peakConnections)} at most, enough to keep the schedule`;
      overview.push({ connections });
    }
  }
  lines.push(overview.toString());
  lines.push('');

  const streams = document.streams;
  if (document.latencyMs || streams?.ttftMs) {
    const latency = new Table({ head: ['latency', ...LATENCY_COLUMNS.map(([, label]) => label)], style: tableStyle });
    const row = (label: string, figures: LatencySummaryMs) => [label, ...LATENCY_COLUMNS.map(([key]) => formatMs(figures[key]))];
    if (document.latencyMs) latency.push(row(document.model === 'open' ? 'from schedule' : 'response', document.latencyMs));
    if (document.model === 'open' && document.serviceTimeMs) latency.push(row('service time', document.serviceTimeMs));
    // Streams: to the first data event (from the same start as the latency), and between data events.
    if (streams?.ttftMs) latency.push(row('ttft', streams.ttftMs));
    if (streams?.eventGapMs) latency.push(row('event gap', streams.eventGapMs));
    lines.push(latency.toString());
  }
  if (!document.latencyMs) lines.push(c.yellow('no complete response: no latency to report'));
  if (streams) {
    lines.push(
      `streams       ${formatCount(streams.streams)} ${plural(streams.streams, 'streamed answer')} · ` +
        `${formatCount(streams.dataEvents)} data ${plural(streams.dataEvents, 'event')}`,
    );
  }

  const statuses = Object.entries(document.statusCodes).map(([code, count]) => `${code} × ${formatCount(count)}`);
  const errors = Object.entries(document.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} × ${formatCount(count)}`);
  lines.push(`status codes  ${statuses.length > 0 ? statuses.join(' · ') : '-'}`);
  lines.push(`errors        ${errors.length > 0 ? c.red(errors.join(' · ')) : 'none'}`);
  if (document.faults) lines.push(...chaosLines(document, c));
  lines.push('');
  if (document.behaviour) lines.push(...behaviourLines(document.behaviour, c, tableStyle), '');

  const verdicts = new Table({ head: ['threshold', 'actual', ''], style: tableStyle });
  for (const verdict of document.thresholds) {
    const label = verdict.default ? `${verdict.expression} ${c.dim('(default)')}` : verdict.expression;
    verdicts.push([label, verdictValueText(verdict), verdict.ok ? c.green('pass') : c.red.bold('FAIL')]);
  }
  lines.push(verdicts.toString());
  for (const verdict of document.thresholds) if (!verdict.ok && verdict.note) lines.push(c.red(`✗ ${verdict.note}`));
  for (const warning of document.warnings ?? []) lines.push(c.yellow(`warning: ${warning}`));
  const aborted = abortText(document);
  if (aborted !== undefined) lines.push(c.red.bold(`aborted: ${aborted}`));
  const verdict = campaignVerdict([{ name: document.command, document }]);
  lines.push(
    document.interrupted ? c.yellow('interrupted: partial results') : verdict.ok ? c.green(verdict.text) : c.red.bold(verdict.text),
  );
  return `${lines.join('\n')}\n`;
}

/** Chaos runs: injected against observed, amplification, policy counters, recovery, and a per-second strip. */
function chaosLines(document: ResultDocument, c: ChalkInstance): string[] {
  const faults = document.faults!;
  // `down` counts outages, not calls: it has its own line.
  const injected = Object.entries(faults.injected)
    .filter(([name]) => name !== 'down')
    .map(([name, count]) => `${name} × ${formatCount(count)}`);
  const upstreamErrors =
    faults.upstreamErrors > 0
      ? `, ${c.red(`${formatCount(faults.upstreamErrors)} ${plural(faults.upstreamErrors, 'upstream error')}`)}`
      : '';
  const lines = [
    `injected      ${injected.length > 0 ? c.yellow(injected.join(' · ')) : 'none'}  ` +
      c.dim(`(${formatCount(faults.upstreamCalls)} dependency calls, ${formatCount(faults.passedThrough)} passed through`) +
      `${upstreamErrors}${c.dim(')')}`,
  ];
  const outages = Object.entries(faults.providers).filter(([, stats]) => (stats.injected.down ?? 0) > 0);
  if (outages.length > 0) {
    const each = outages.map(([name, stats]) =>
      Object.keys(faults.providers).length > 1 ? `${name} × ${formatCount(stats.injected.down!)}` : formatCount(stats.injected.down!),
    );
    lines.push(
      `outages       ${c.yellow(each.join(' · '))}  ${c.dim("(fault 'down': listener closed, calls refused meanwhile are not counted)")}`,
    );
  }
  // TCP providers: their calls are connections; what they carried is told in bytes.
  const tcp = Object.entries(faults.providers).filter(([, stats]) => stats.bytes !== undefined);
  lines.push(
    'amplification ' +
      (document.amplification === null || document.amplification === undefined ? '-' : formatFactor(document.amplification)) +
      ' dependency calls per request' +
      (tcp.length > 0 ? c.dim(" (a TCP provider's calls are its connections)") : ''),
  );
  const requests = document.requests.total;
  for (const [name, stats] of tcp) {
    const { upstream, downstream } = stats.bytes!;
    const perRequest = requests > 0 ? c.dim(` (${formatBytes(Math.round((upstream + downstream) / requests))} per request)`) : '';
    lines.push(
      `tcp           ${name}: ${formatCount(stats.calls)} ${plural(stats.calls, 'connection')} · ` +
        `${formatBytes(upstream)} up · ${formatBytes(downstream)} down${perRequest}`,
    );
  }
  if (document.policy) {
    const p = document.policy;
    lines.push(
      `policy        ${formatCount(p.attempts)} attempts · ${formatCount(p.retried)} retries · ` +
        `${formatCount(p.failovers)} failovers · ${formatCount(p.breakerRejections)} refused by an open breaker`,
    );
  }
  if (document.recovery && document.recovery.length > 0) {
    lines.push(
      `recovery      ${document.recovery
        .map((r) => `${r.window}: ${r.recoveryMs === null ? c.red('never') : r.recoveryMs === 0 ? 'at once' : formatMs(r.recoveryMs)}`)
        .join(' · ')}`,
    );
  }
  if (document.timeline.length > 0 && document.timeline.length <= 240) {
    // One glyph per second: '_' is 0% success, '█' 100%; a blank is a second with no completed request.
    const bars = '_▁▂▃▄▅▆▇█';
    const strip = document.timeline.map((s) => (s.requests === 0 ? ' ' : bars[Math.round((s.ok / s.requests) * 8)]!)).join('');
    lines.push(`success/s     ${strip}`);
    const windows = document.faultWindows ?? [];
    if (windows.length > 0) {
      const marks = document.timeline
        .map((s) => (windows.some((w) => s.t * 1000 < w.endMs && (s.t + 1) * 1000 > w.startMs) ? '━' : '·'))
        .join('');
      lines.push(`fault window  ${c.yellow(marks)}`);
    }
  }
  return lines;
}

/** The dependency behaviour per provider, and how far the correlation of calls to requests can be trusted. */
function behaviourLines(behaviour: BehaviourDocument, c: ChalkInstance, style: Partial<Table.TableInstanceOptions['style']>): string[] {
  const { columns, rows } = behaviourTable(behaviour);
  const table = new Table({ head: ['dependency behaviour', ...columns], style });
  for (const { label, cells } of rows) table.push([label, ...cells]);
  const coverage = coverageLine(behaviour.correlation);
  return [table.toString(), coverage.warning ? c.yellow(coverage.warning) : c.dim(coverage.text)];
}

function colourRate(c: ChalkInstance, rate: number | null, text: string): string {
  if (rate === null) return text;
  return rate >= 0.99 ? c.green(text) : rate >= 0.9 ? c.yellow(text) : c.red(text);
}

/** Which requests outside the total the success rate counts as failed, if any. */
function unansweredNote(c: ChalkInstance, cancelled: number, dropped: number): string {
  const counted = [...(cancelled > 0 ? ['cut unanswered'] : []), ...(dropped > 0 ? ['dropped'] : [])];
  return counted.length > 0 ? c.dim(` (${counted.join(' and ')} count as failed)`) : '';
}

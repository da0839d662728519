import Table from 'cli-table3';
import { runPreparedCampaign, type PreparedScenario } from '../campaign/run-campaign.js';
import type { Campaign } from '../campaign/schema.js';
import { ExitCode } from '../errors.js';
import { campaignDocument, writeOutputs } from '../report/outputs.js';
import { createProgressLine } from '../report/progress.js';
import type { ScenarioResult } from '../model/result.js';
import { exitCodeFor, plural } from '../report/result.js';
import { renderSummary, wantsColor } from '../report/terminal.js';
import { formatCount, formatMs, formatPercent } from '../util/format.js';
import { markFromEnvironment, reportToGitHub, startLiveMetrics, withInterrupts } from './execute-load.js';

/**
 * Runs a campaign's prepared scenarios from the command line (`resil run`, `resil demo`): a summary
 * per scenario as it ends, outputs, GitHub reporting, a verdict table, and the exit code of the worst
 * outcome. Output paths must have been checked before.
 */
export async function executeCampaign(
  campaign: Campaign,
  prepared: readonly PreparedScenario[],
  settings: { json: boolean; out: readonly string[]; metricsPort?: number; fromEnvironment?: Record<string, string> },
): Promise<ReturnType<typeof campaignDocument>> {
  const { json } = settings;
  const color = wantsColor(process.stdout);
  const progress = json ? undefined : createProgressLine(process.stderr);
  const live = await startLiveMetrics(settings.metricsPort, campaign.scenarios[0]?.name ?? 'run');
  const { value: scenarios, signal } = await withInterrupts((abort) =>
    runPreparedCampaign(campaign, prepared, {
      ...(live ? { live: live.board } : {}),
      signal: abort,
      ...(progress ? { onProgress: progress.update } : {}),
      log: (line) => {
        progress?.clear();
        process.stderr.write(`${line}\n`);
      },
      onScenarioStart: (name, index, count) => {
        if (!json) process.stderr.write(`── scenario ${index + 1}/${count}: ${name}\n`);
      },
      onScenarioDone: (result) => {
        markFromEnvironment(result.document, settings.fromEnvironment);
        progress?.clear();
        if (!json) process.stdout.write(`${renderSummary(result.document, { color })}\n`);
      },
    }).finally(() => live?.close()),
  );
  await writeOutputs(settings.out, { campaign: true, scenarios });
  reportToGitHub(scenarios);
  if (!json) process.stdout.write(verdictTable(scenarios, prepared.length));
  process.exitCode = campaignExitCode(scenarios, signal);
  return campaignDocument(scenarios);
}

/** The worst outcome wins: interrupted, then could not run, then stopped by a threshold, then a failed threshold. */
export function campaignExitCode(scenarios: readonly ScenarioResult[], signal?: 'SIGINT' | 'SIGTERM'): number {
  if (signal !== undefined) return signal === 'SIGTERM' ? ExitCode.interruptedSigterm : ExitCode.interruptedSigint;
  const codes = scenarios.map((s) => exitCodeFor(s.document));
  if (codes.includes(ExitCode.couldNotRun)) return ExitCode.couldNotRun;
  if (codes.includes(ExitCode.abortedByThreshold)) return ExitCode.abortedByThreshold;
  return codes.every((code) => code === ExitCode.ok) ? ExitCode.ok : ExitCode.thresholdFailed;
}

export function verdictTable(scenarios: readonly ScenarioResult[], planned: number): string {
  const table = new Table({
    head: ['scenario', 'requests', 'success', 'p99', 'thresholds', 'verdict'],
    style: { head: [], border: [], compact: true },
  });
  for (const { name, document } of scenarios) {
    const passed = document.thresholds.filter((t) => t.ok).length;
    const ok = !document.interrupted && passed === document.thresholds.length;
    table.push([
      name,
      formatCount(document.requests.total),
      document.successRate === null ? '-' : formatPercent(document.successRate),
      document.latencyMs ? formatMs(document.latencyMs.p99) : '-',
      `${passed}/${document.thresholds.length} passed`,
      document.interrupted ? 'interrupted' : document.abortedBy ? 'ABORTED' : ok ? 'pass' : 'FAIL',
    ]);
  }
  const failed = scenarios.filter((s) => s.document.interrupted || !s.document.thresholds.every((t) => t.ok));
  const skipped = planned - scenarios.length;
  const aborted = scenarios.find((s) => s.document.abortedBy);
  const verdict =
    failed.length === 0 && skipped === 0
      ? `campaign passed: ${scenarios.length} of ${planned} ${plural(planned, 'scenario')}`
      : `campaign failed: ${failed.map((s) => s.name).join(', ') || 'none'} failed${skipped > 0 ? `, ${skipped} not run` : ''}` +
        (aborted ? ` (${aborted.name} stopped by ${aborted.document.abortedBy!.threshold})` : '');
  return `${table.toString()}\n${verdict}\n`;
}

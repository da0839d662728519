import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan } from '../engine/plan.js';
import { runPlan, type RunHooks } from '../session/load.js';
import { ExitCode } from '../errors.js';
import { checkOutputPaths, writeOutputs } from '../report/outputs.js';
import { createProgressLine } from '../report/progress.js';
import type { ResultDocument, ScenarioResult } from '../model/result.js';
import { exitCodeFor, neverConnected } from '../report/result.js';
import { appendStepSummary, emitAnnotations } from '../report/github.js';
import { LiveBoard } from '../metrics/live.js';
import { startMetricsServer } from '../metrics/metrics-server.js';
import { renderSummary, wantsColor } from '../report/terminal.js';

/**
 * In GitHub Actions: append the Markdown summary to the job's step summary and emit an annotation
 * per failed threshold. A summary that cannot be written is a warning, never a failed run.
 */
export function reportToGitHub(scenarios: readonly ScenarioResult[]): void {
  try {
    appendStepSummary(scenarios);
  } catch (error) {
    process.stderr.write(`resil: could not append the GitHub step summary (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`);
  }
  emitAnnotations(scenarios);
}

/** --metrics-port: a live Prometheus endpoint on loopback for the length of the run. */
export async function startLiveMetrics(
  port: number | undefined,
  scenario: string,
): Promise<{ board: LiveBoard; close(): Promise<void> } | undefined> {
  if (port === undefined) return undefined;
  const board = new LiveBoard();
  board.scenario = scenario;
  const server = await startMetricsServer({ port, source: () => board.view() });
  process.stderr.write(`resil: live metrics on ${server.url}\n`);
  return { board, close: () => server.close() };
}

export interface CliRunSettings {
  command: string;
  json: boolean;
  out: readonly string[];
  metricsPort?: number;
  /** ms between status lines on stderr when it is no TTY (--status-every; 0 for none). */
  statusEveryMs?: number;
  /** Flag values from RESIL_* variables, as shown (see BaseCommand.shownEnvironment). */
  fromEnvironment?: Record<string, string>;
}

/**
 * The part every load-driving command shares: validate everything before the first request, run with
 * Ctrl-C/SIGTERM wired to a graceful stop, write outputs, print the summary (unless --json), and set
 * the exit code. Returns the result document (oclif prints it for --json).
 */
export async function executeLoad(options: LoadOptions, settings: CliRunSettings): Promise<ResultDocument> {
  const plan = buildLoadPlan(options);
  return executeRun((hooks) => runPlan(plan, hooks), settings);
}

/** Runs one load or chaos run with the shared CLI behaviour; `run` validates before it starts anything. */
export async function executeRun(run: (hooks: RunHooks) => Promise<ResultDocument>, settings: CliRunSettings): Promise<ResultDocument> {
  checkOutputPaths(settings.out);
  const progress = settings.json ? undefined : createProgressLine(process.stderr, settings.statusEveryMs);
  const live = await startLiveMetrics(settings.metricsPort, settings.command);
  const { value: document, signal } = await withInterrupts((abort) =>
    run({
      signal: abort,
      command: settings.command,
      ...(progress ? { onProgress: progress.update } : {}),
      ...(live ? { live: live.board } : {}),
    }).finally(() => {
      progress?.clear();
      return live?.close();
    }),
  );

  markFromEnvironment(document, settings.fromEnvironment);
  const scenarios = [{ name: settings.command, document }];
  await writeOutputs(settings.out, { campaign: false, scenarios });
  reportToGitHub(scenarios);
  if (!settings.json) process.stdout.write(renderSummary(document, { color: wantsColor(process.stdout) }));
  const code = exitCodeFor(document, signal);
  if (code === ExitCode.couldNotRun && neverConnected(document)) {
    process.stderr.write(
      `resil: could not run: no connection to ${document.target} could be made (${document.requests.total} attempts refused)\n`,
    );
  }
  process.exitCode = code;
  return document;
}

/** Records in a result which flag values came from the environment, when any did. */
export function markFromEnvironment(document: ResultDocument, fromEnvironment: Readonly<Record<string, string>> | undefined): void {
  if (fromEnvironment && Object.keys(fromEnvironment).length > 0) document.fromEnvironment = { ...fromEnvironment };
}

/**
 * Runs `work` with Ctrl-C and SIGTERM wired to its abort signal (a graceful stop: sending stops,
 * in-flight requests get the grace period, the partial result is still reported). A second signal
 * leaves at once.
 */
export async function withInterrupts<T>(
  work: (abort: AbortSignal) => Promise<T>,
): Promise<{ value: T; signal: 'SIGINT' | 'SIGTERM' | undefined }> {
  const controller = new AbortController();
  let signal: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => {
    if (signal !== undefined) process.exit(name === 'SIGTERM' ? ExitCode.interruptedSigterm : ExitCode.interruptedSigint);
    signal = name;
    process.stderr.write(`\nresil: ${name} received, stopping (in-flight requests get the --grace period)\n`);
    controller.abort();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    return { value: await work(controller.signal), signal };
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

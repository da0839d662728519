import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan } from '../engine/plan.js';
import { runPlan, type RunHooks } from '../engine/run.js';
import { ExitCode } from '../errors.js';
import { checkOutputPaths, writeOutputs } from '../report/outputs.js';
import { createProgressLine } from '../report/progress.js';
import { exitCodeFor, neverConnected, type ResultDocument } from '../report/result.js';
import { renderSummary, wantsColor } from '../report/terminal.js';

export interface CliRunSettings {
  command: string;
  json: boolean;
  out: readonly string[];
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

/** Runs a campaign (load or chaos) with the shared CLI behaviour; `run` validates before it starts anything. */
export async function executeRun(run: (hooks: RunHooks) => Promise<ResultDocument>, settings: CliRunSettings): Promise<ResultDocument> {
  checkOutputPaths(settings.out);

  const controller = new AbortController();
  let signal: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => {
    if (signal !== undefined) process.exit(name === 'SIGTERM' ? ExitCode.interruptedSigterm : ExitCode.interruptedSigint); // second signal: leave now
    signal = name;
    process.stderr.write(`\nresil: ${name} received, stopping (in-flight requests get the --grace period)\n`);
    controller.abort();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  const progress = settings.json ? undefined : createProgressLine(process.stderr);
  let document: ResultDocument;
  try {
    document = await run({ signal: controller.signal, command: settings.command, ...(progress ? { onProgress: progress.update } : {}) });
  } finally {
    progress?.clear();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }

  writeOutputs(settings.out, document);
  if (!settings.json) process.stdout.write(renderSummary(document, { color: wantsColor(process.stdout) }));
  const code = exitCodeFor(document, signal);
  if (code === ExitCode.couldNotRun && neverConnected(document)) {
    process.stderr.write(`resil: could not run: no connection to ${document.target} could be made (${document.requests.total} attempts refused)\n`);
  }
  process.exitCode = code;
  return document;
}

import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { COMMAND_OPTIONS } from '../cli/command-options.js';
import { flagFor } from '../cli/option-flags.js';
import { campaignExitCode, verdictTable } from '../cli/execute-campaign.js';
import { reportToGitHub } from '../cli/execute-load.js';
import { UsageError } from '../errors.js';
import { compareScenarios, comparisonFailed, parseCompareSettings, renderComparison } from '../report/compare.js';
import { mergeResults } from '../report/merge.js';
import { campaignDocument, checkOutputPaths, writeOutputs } from '../report/outputs.js';
import { readResultFile } from '../report/read.js';
import type { ScenarioResult } from '../model/result.js';
import { renderSummary, wantsColor } from '../report/terminal.js';

export default class Report extends BaseCommand {
  static override summary = 'Render, merge (shards) and compare (baseline) saved results.';
  static override description =
    'Reads result documents (--out FILE.json of load, chaos or run). Renders them; with --merge, merges the shards of one run ' +
    '(--shard i/n) exactly and evaluates the thresholds on the whole; with --baseline, compares with an earlier result, scenario by ' +
    'scenario, and fails (exit 1) when a metric got worse by more than --max-regression and --min-change and by more than chance ' +
    'explains, or when a baseline scenario is missing. Exit codes as for a run.';
  static override examples = [
    '<%= config.bin %> report result.json --out junit.xml',
    '<%= config.bin %> report --merge shards/*.json --out merged.json',
    "<%= config.bin %> report new.json --baseline old.json --max-regression 10% --max-regression 'p99=5%'",
    "<%= config.bin %> report new.json --baseline old.json --min-change 2ms --min-change 'success_rate=1%' --metrics p999,max",
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { files: Args.string({ description: 'Result files (JSON).' }) };
  static override flags = {
    merge: flagFor(COMMAND_OPTIONS.merge),
    baseline: flagFor(COMMAND_OPTIONS.baseline),
    'max-regression': flagFor(COMMAND_OPTIONS.maxRegression),
    'min-change': flagFor(COMMAND_OPTIONS.minChange),
    metrics: flagFor(COMMAND_OPTIONS.metrics),
    out: flagFor(COMMAND_OPTIONS.out, { command: 'report' }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(Report);
    const files = argv as string[];
    if (files.length === 0) throw new UsageError('give at least one result file');
    const out = flags.out ?? [];
    checkOutputPaths(out);
    const compare = parseCompareSettings({
      maxRegression: flags['max-regression'] ?? [],
      minChange: flags['min-change'] ?? [],
      metrics: flags.metrics ?? [],
    });
    const loaded = files.map(readResultFile);
    const baseline = flags.baseline === undefined ? undefined : readResultFile(flags.baseline);

    let scenarios: ScenarioResult[];
    if (flags.merge) {
      const names = loaded[0]!.map((s) => s.name);
      for (const [i, file] of loaded.entries()) {
        if (file.map((s) => s.name).join('\n') !== names.join('\n'))
          throw new UsageError(`--merge: ${files[i]} has other scenarios than ${files[0]}`);
      }
      scenarios = names.map((name, i) => ({ name, document: mergeResults(loaded.map((file) => file[i]!.document)) }));
    } else {
      scenarios = loaded.flat();
    }
    const campaign = scenarios.length > 1 || scenarios.some((s) => s.document.scenario !== undefined);
    // Compared before anything is shown or written: a baseline that cannot be compared is bad input.
    const comparison = baseline ? compareScenarios(scenarios, baseline, compare) : undefined;

    const json = this.jsonEnabled();
    if (!json) {
      const color = wantsColor(process.stdout);
      for (const [i, { name, document }] of scenarios.entries()) {
        if (campaign) process.stdout.write(`── scenario ${i + 1}/${scenarios.length}: ${name}\n`);
        process.stdout.write(`${renderSummary(document, { color })}\n`);
      }
      if (campaign) process.stdout.write(verdictTable(scenarios, scenarios.length));
    }
    await writeOutputs(out, { campaign, scenarios });
    reportToGitHub(scenarios);
    let code = campaignExitCode(scenarios);

    if (comparison) {
      if (!json) process.stdout.write(`\ncompared with ${flags.baseline}\n${renderComparison(comparison)}`);
      if (comparisonFailed(comparison) && code === 0) code = 1;
    }
    process.exitCode = code;
    const document = campaign ? campaignDocument(scenarios) : scenarios[0]!.document;
    return comparison ? { result: document, comparison } : document;
  }
}

/** The metrics a comparison takes by default, or on --metrics only, for the flag's help. */

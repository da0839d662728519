import { readFileSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import Table from 'cli-table3';
import { BaseCommand } from '../cli/base.js';
import { campaignExitCode } from '../cli/execute-campaign.js';
import { reportToGitHub } from '../cli/execute-load.js';
import { UsageError } from '../errors.js';
import { compareResults, parseMaxRegression, type Comparison } from '../report/compare.js';
import { mergeResults } from '../report/merge.js';
import { CAMPAIGN_SCHEMA_VERSION, campaignDocument, checkOutputPaths, outFlagSummary, writeOutputs } from '../report/outputs.js';
import { RESULT_SCHEMA, type ResultDocument, type ScenarioResult } from '../report/result.js';
import { renderSummary, wantsColor } from '../report/terminal.js';

export default class Report extends BaseCommand {
  static override summary = 'Render, merge (shards) and compare (baseline) saved results.';
  static override description =
    'Reads result documents (--out FILE.json of load, chaos or run). Renders them; with --merge, merges the shards of one run (--shard i/n) exactly and evaluates the thresholds on the whole; with --baseline, compares against an earlier result and fails (exit 1) on a regression beyond --max-regression. Exit codes as for a run.';
  static override examples = [
    '<%= config.bin %> report result.json --out junit.xml',
    '<%= config.bin %> report --merge shards/*.json --out merged.json',
    "<%= config.bin %> report new.json --baseline old.json --max-regression 10% --max-regression 'p99=5%'",
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { files: Args.string({ description: 'Result files (JSON).' }) };
  static override flags = {
    merge: Flags.boolean({ summary: 'Merge the shards of one run into its whole result.', default: false }),
    baseline: Flags.string({ summary: 'An earlier result to compare with.' }),
    'max-regression': Flags.string({ summary: "Allowed worsening: '10%' (every metric, the default) or 'p99=5%' (repeatable).", multiple: true, multipleNonGreedy: true }),
    out: Flags.string({ char: 'o', summary: outFlagSummary('the (merged) result'), multiple: true, multipleNonGreedy: true }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(Report);
    const files = argv as string[];
    if (files.length === 0) throw new UsageError('give at least one result file');
    const out = flags.out ?? [];
    checkOutputPaths(out);
    const limits = parseMaxRegression(flags['max-regression'] ?? []);
    const loaded = files.map(readResults);

    let scenarios: ScenarioResult[];
    if (flags.merge) {
      const names = loaded[0]!.map((s) => s.name);
      for (const [i, file] of loaded.entries()) {
        if (file.map((s) => s.name).join('\n') !== names.join('\n')) throw new UsageError(`--merge: ${files[i]} has other scenarios than ${files[0]}`);
      }
      scenarios = names.map((name, i) => ({ name, document: mergeResults(loaded.map((file) => file[i]!.document)) }));
    } else {
      scenarios = loaded.flat();
    }
    const campaign = scenarios.length > 1 || scenarios.some((s) => s.document.scenario !== undefined);

    const json = this.jsonEnabled();
    if (!json) for (const { document } of scenarios) process.stdout.write(renderSummary(document, { color: wantsColor(process.stdout) }) + '\n');
    await writeOutputs(out, { campaign, scenarios });
    reportToGitHub(scenarios);
    let code = campaignExitCode(scenarios);

    let comparison: Comparison[] | undefined;
    if (flags.baseline !== undefined) {
      const baseline = readResults(flags.baseline);
      if (scenarios.length !== 1 || baseline.length !== 1) throw new UsageError('--baseline compares one result with one result (merge shards first)');
      comparison = compareResults(scenarios[0]!.document, baseline[0]!.document, limits);
      if (!json) process.stdout.write(comparisonTable(comparison));
      if (comparison.some((c) => c.regression) && code === 0) code = 1;
    }
    process.exitCode = code;
    const document = campaign ? campaignDocument(scenarios) : scenarios[0]!.document;
    return comparison ? { result: document, comparison } : document;
  }
}

/** The result documents in a file: one (load, chaos) or one per scenario (run). */
function readResults(path: string): ScenarioResult[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot be read (${code})` : 'not JSON'}`);
  }
  const schema = (parsed as { schema?: unknown } | null)?.schema;
  if (schema === RESULT_SCHEMA) {
    const document = parsed as ResultDocument;
    return [{ name: document.scenario ?? document.command, document }];
  }
  if (schema === CAMPAIGN_SCHEMA_VERSION) {
    return (parsed as { scenarios: Array<{ name: string; result: ResultDocument }> }).scenarios.map((s) => ({ name: s.name, document: s.result }));
  }
  throw new UsageError(`${path}: not a resil result (expected "schema": "${RESULT_SCHEMA}" or "${CAMPAIGN_SCHEMA_VERSION}")`);
}

function comparisonTable(rows: readonly Comparison[]): string {
  const table = new Table({ head: ['metric', 'baseline', 'current', 'change', 'allowed', ''], style: { head: [], border: [], compact: true } });
  const show = (metric: string, value: number | null) => (value === null ? '-' : metric === 'success_rate' ? `${(value * 100).toFixed(2)}%` : metric === 'rps' ? value.toFixed(1) : `${value}ms`);
  for (const row of rows) {
    table.push([
      row.metric,
      show(row.metric, row.baseline),
      show(row.metric, row.current),
      row.change === null ? '-' : `${row.change >= 0 ? '+' : ''}${(row.change * 100).toFixed(1)}%`,
      `${(row.allowed * 100).toFixed(0)}% worse`,
      row.regression ? 'REGRESSION' : 'ok',
    ]);
  }
  const regressions = rows.filter((r) => r.regression).map((r) => r.metric);
  return `${table.toString()}\n${regressions.length === 0 ? 'no regression beyond the allowed change' : `regression: ${regressions.join(', ')}`}\n`;
}

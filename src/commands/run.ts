import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { COMMAND_OPTIONS } from '../cli/command-options.js';
import { flagFor } from '../cli/option-flags.js';
import { executeCampaign } from '../cli/execute-campaign.js';
import { loadCampaign } from '../campaign/load.js';
import { describePlan } from '../campaign/describe.js';
import { prepareCampaign } from '../campaign/run-campaign.js';
import { checkOutputPaths } from '../report/outputs.js';
import { LOAD_OPTIONS, parseShard } from '../engine/options.js';

export default class Run extends BaseCommand {
  static override summary = 'Run every scenario of a campaign file: the CI gate step.';
  static override description =
    'Starts the providers (chaos proxies) and the service the file declares, runs its scenarios in order, prints a summary per ' +
    'scenario and a verdict table, and exits 1 if any threshold failed. The file is validated first: every problem is listed with ' +
    'its line and column (exit 2).';
  static override examples = [
    '<%= config.bin %> run',
    '<%= config.bin %> run examples/resil.yaml --scenario provider-failures',
    '<%= config.bin %> run --dry-run',
    '<%= config.bin %> run --out result.json --out junit.xml',
  ];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'Campaign file.', default: 'resil.yaml' }) };
  static override flags = {
    scenario: flagFor(COMMAND_OPTIONS.scenario),
    'dry-run': flagFor(COMMAND_OPTIONS.dryRun),
    'metrics-port': flagFor(COMMAND_OPTIONS.metricsPort),
    shard: flagFor(LOAD_OPTIONS.shard, { command: 'run' }),
    out: flagFor(COMMAND_OPTIONS.out, { command: 'run' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Run);
    const campaign = loadCampaign(args.file);
    const out = flags.out ?? [];
    checkOutputPaths(out);
    const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
    const prepared = prepareCampaign(campaign, flags.scenario, shard);
    if (flags['dry-run']) {
      const plan = describePlan(campaign, prepared);
      if (!this.jsonEnabled()) process.stdout.write(plan.text);
      return plan.json;
    }

    return executeCampaign(campaign, prepared, {
      json: this.jsonEnabled(),
      out,
      fromEnvironment: this.shownEnvironment(),
      ...(flags['metrics-port'] === undefined ? {} : { metricsPort: flags['metrics-port'] }),
    });
  }
}

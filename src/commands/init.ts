import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { COMMAND_OPTIONS } from '../cli/command-options.js';
import { flagFor } from '../cli/option-flags.js';
import { parseTargetUrl } from '../util/url.js';
import { UsageError } from '../errors.js';
import { schemaComment, starterCampaign, starterWorkflow } from '../campaign/starter.js';

export default class Init extends BaseCommand {
  static override summary = 'Write a starter resil.yaml for a URL and a GitHub Actions workflow that runs it through the resil action.';
  static override examples = [
    '<%= config.bin %> init http://localhost:3000/health',
    '<%= config.bin %> init http://localhost:3000/health --force',
  ];
  static override args = { url: Args.string({ description: 'The service endpoint to test.', required: true }) };
  static override flags = {
    force: flagFor(COMMAND_OPTIONS.force),
    file: flagFor(COMMAND_OPTIONS.file),
    workflow: flagFor(COMMAND_OPTIONS.workflow),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Init);
    const url = parseTargetUrl(args.url);
    const campaignFile = resolve(flags.file);
    const root = repositoryRoot(resolve(flags.workflow));
    const campaign = relative(root, campaignFile);
    if (campaign.startsWith('..') || isAbsolute(campaign))
      throw new UsageError(`--file '${flags.file}': the campaign must lie inside the repository the workflow runs in (${root})`);
    const files: Array<[string, string]> = [
      [flags.file, starterCampaign(url, schemaComment(campaignFile, root))],
      [flags.workflow, starterWorkflow(campaign.split(sep).join('/'))],
    ];
    const existing = files.filter(([path]) => existsSync(path)).map(([path]) => path);
    if (existing.length > 0 && !flags.force)
      throw new UsageError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; use --force to overwrite`);
    for (const [path, text] of files) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      process.stdout.write(`wrote ${path}\n`);
    }
    // resil is rarely on PATH: name the two ways that work, as README's "Use it in your project" does.
    const bin = join(this.config.root, 'bin', 'run.js');
    process.stdout.write(
      `next: replace OWNER in ${flags.workflow} with the account that hosts resil; once your service is up, try the campaign here ` +
        `with \`npx --no -- resil run ${flags.file}\` (resil installed in this project) or \`node ${bin} run ${flags.file}\`\n`,
    );
  }
}

/** The folder holding .github/workflows/ when the workflow goes there, else the current folder. */
function repositoryRoot(workflowFile: string): string {
  const folder = dirname(workflowFile);
  return folder.endsWith(`${sep}.github${sep}workflows`) ? dirname(dirname(folder)) : process.cwd();
}

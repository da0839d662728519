import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { schemaComment, starterWorkflow } from '../src/campaign/starter.js';
import { runCli, userEnv } from './helpers/cli.js';
import { startServer, startStatusServer, type TestServer } from './helpers/servers.js';

/**
 * The GitHub Action, run the way GitHub runs a composite action: github.action_path is a fresh
 * checkout (no node_modules, no dist), each `run:` step is a bash script run in the workspace with
 * the GITHUB_* variables set, and the action's outputs are read back from GITHUB_OUTPUT.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Step {
  uses?: string;
  with?: Record<string, string>;
  id?: string;
  name?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
  'working-directory'?: string;
}
interface Action {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Action;

function yamlFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** The rows of the README table whose header starts with `| first |`: first cell without backticks → second cell. */
function readmeTable(first: string): Map<string, string> {
  const lines = README.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  if (start === -1) throw new Error(`README has no table headed '| ${first} |'`);
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((cell) => cell.trim());
    rows.set(cells[1]!.replace(/`/g, ''), cells[2]!.replace(/`/g, ''));
  }
  return rows;
}

describe('action.yml and the workflows', () => {
  test('action.yml and every YAML file under examples/ parse without errors or warnings', () => {
    const files = [join(ROOT, 'action.yml'), ...yamlFiles(join(ROOT, 'examples'))];
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) {
      // A Kubernetes manifest holds several documents; each must parse.
      for (const document of parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true })) {
        expect({ file, errors: document.errors.map(String), warnings: document.warnings.map(String) }).toEqual({
          file,
          errors: [],
          warnings: [],
        });
      }
    }
  });

  test('the inputs and outputs are the ones the README names, with the same defaults', () => {
    const inputs = readmeTable('input');
    expect([...inputs.keys()].sort()).toEqual(Object.keys(action.inputs).sort());
    for (const [name, input] of Object.entries(action.inputs))
      expect({ name, default: inputs.get(name) }).toEqual({ name, default: input.default === '' ? 'none' : input.default });
    expect([...readmeTable('output').keys()].sort()).toEqual(Object.keys(action.outputs).sort());
  });

  test('no registry name anywhere: setup-node on a maintained LTS, resil from the action path', () => {
    expect(action.runs.using).toBe('composite');
    const [setup, ...rest] = action.runs.steps;
    expect(setup!.uses).toMatch(/^actions\/setup-node@v\d+$/);
    expect(setup!.with!['node-version']).toBe('${{ inputs.node-version }}');
    // Node 20 reached its end of life in April 2026; 22 and 24 are maintained LTS lines.
    expect(['22', '24']).toContain(action.inputs['node-version']!.default);
    for (const step of rest) {
      expect(step.uses).toBeUndefined();
      expect(step.shell).toBe('bash');
      expect(step.run).not.toMatch(/npx|npm (install|i) /);
    }
  });

  test('resil init: a workflow that uses the action, with OWNER documented, and no Node project needed', () => {
    const workflow = parse(starterWorkflow('ci/resil campaign.yaml')) as { jobs: Record<string, { steps: Step[] }> };
    const steps = Object.values(workflow.jobs)[0]!.steps;
    const gate = steps.find((step) => step.uses?.startsWith('OWNER/resil@'));
    expect(gate!.with).toEqual({ campaign: 'ci/resil campaign.yaml' });
    expect(steps.filter((step) => step.run !== undefined)).toEqual([]);
    expect(starterWorkflow('resil.yaml')).toMatch(/^# OWNER is a placeholder: replace it with the GitHub account/m);
    expect(README).toContain('OWNER/resil@main');
  });

  test('resil init: the schema line points at the schema only where it resolves', () => {
    const schema = join(ROOT, 'schema', 'resil.schema.json');
    // resil installed in the project (node_modules/resil) or the resil repository itself.
    expect(schemaComment(join(ROOT, 'ci', 'resil.yaml'), ROOT, schema)).toBe('# yaml-language-server: $schema=../schema/resil.schema.json');
    expect(schemaComment(join(ROOT, 'resil.yaml'), ROOT, schema)).toBe('# yaml-language-server: $schema=./schema/resil.schema.json');
    // resil run from elsewhere (the action, a global install): no path that would not resolve.
    expect(schemaComment('/srv/app/resil.yaml', '/srv/app', schema)).toMatch(/^# Editor completion: point a/);
    expect(schemaComment(join(ROOT, 'resil.yaml'), ROOT, join(ROOT, 'schema', 'missing.json'))).toMatch(/^# Editor completion/);
  });

  test('resil init: a campaign outside the repository the workflow runs in is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resil-init-'));
    const run = await runCli([
      'init',
      'http://127.0.0.1:3000/health',
      '--file',
      join(tmpdir(), 'elsewhere.yaml'),
      '--workflow',
      join(dir, '.github', 'workflows', 'r.yml'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^resil: --file '.*elsewhere\.yaml': the campaign must lie inside the repository the workflow runs in/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('resil init: the closing hint runs resil in ways that work without resil on PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resil-init-'));
    const file = join(dir, 'resil.yaml');
    const run = await runCli([
      'init',
      'http://127.0.0.1:3000/health',
      '--file',
      file,
      '--workflow',
      join(dir, '.github', 'workflows', 'r.yml'),
    ]);
    expect(run.code).toBe(0);
    const hint = run.stdout.split('\n').find((line) => line.startsWith('next: '))!;
    expect(hint).toContain(`\`npx --no -- resil run ${file}\``);
    expect(hint).toContain(`\`node ${join(ROOT, 'bin', 'run.js')} run ${file}\``);
    expect(hint).not.toMatch(/`resil run/);
  });
});

/** Replaces the expressions action.yml uses; any other expression fails the test rather than pass unread. */
function evaluate(
  text: string,
  context: { inputs: Record<string, string>; steps: Record<string, Record<string, string>>; actionPath: string },
): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_whole, expression: string) => {
    const input = /^inputs\.([\w-]+)$/.exec(expression);
    if (input) {
      if (!(input[1]! in action.inputs)) throw new Error(`action.yml reads an undeclared input: ${expression}`);
      return context.inputs[input[1]!] ?? action.inputs[input[1]!]!.default ?? '';
    }
    if (expression === 'github.action_path') return context.actionPath;
    const output = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression);
    if (output) return context.steps[output[1]!]?.[output[2]!] ?? '';
    throw new Error(`action.yml uses an expression this test does not evaluate: ${expression}`);
  });
}

/** GITHUB_OUTPUT lines: `name=value`, or `name<<DELIMITER` … `DELIMITER`. */
function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]!);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      outputs[lines[i]!.slice(0, lines[i]!.indexOf('='))] = lines[i]!.slice(lines[i]!.indexOf('=') + 1);
    }
  }
  return outputs;
}

interface StepRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** A fresh checkout as GitHub makes one: the repository's files (tracked, or new and not ignored), nothing built. */
function checkout(into: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT }).toString().split('\0');
  for (const file of files) {
    const source = join(ROOT, file);
    if (file === '' || !existsSync(source) || !statSync(source).isFile()) continue;
    mkdirSync(dirname(join(into, file)), { recursive: true });
    copyFileSync(source, join(into, file));
    chmodSync(join(into, file), statSync(source).mode);
  }
}

describe('the action, run as GitHub runs a composite action', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'resil-action-'));
  const actionPath = join(scratch, 'action');
  const workspace = join(scratch, 'workspace');
  const runnerTemp = join(scratch, 'runner-temp');
  let healthy: TestServer;
  let broken: TestServer;
  let stepCount = 0;

  beforeAll(async () => {
    checkout(actionPath);
    mkdirSync(workspace);
    mkdirSync(runnerTemp);
    healthy = await startServer((_req, res) => res.end('{"ok":true}'));
    broken = await startStatusServer(503);
    // A repository that is not a Node project: a campaign file and nothing else.
    writeFileSync(
      join(workspace, 'resil.yaml'),
      `scenarios:\n  - name: steady\n    url: ${healthy.url}/\n    rate: 40\n    duration: 1s\n    thresholds: [success_rate>=0.99, p99<2s]\n`,
    );
    writeFileSync(
      join(workspace, 'gate.yaml'),
      `defaults: { rate: 40, duration: 1s, thresholds: [success_rate>=0.99] }\nscenarios:\n  - { name: healthy, url: '${healthy.url}/' }\n  - { name: dependency-down, url: '${broken.url}/' }\n`,
    );
  });
  afterAll(async () => {
    await healthy.close();
    await broken.close();
  });

  /** Runs one `run:` step as the runner does: `bash --noprofile --norc -eo pipefail FILE` in the workspace. */
  function runStep(step: Step, inputs: Record<string, string>, steps: Record<string, Record<string, string>>): Promise<StepRun> {
    const n = ++stepCount;
    const context = { inputs, steps, actionPath };
    const script = join(runnerTemp, `step-${n}.sh`);
    const outputFile = join(runnerTemp, `output-${n}`);
    const summaryFile = join(runnerTemp, `summary-${n}.md`);
    writeFileSync(script, evaluate(step.run!, context));
    writeFileSync(outputFile, '');
    writeFileSync(summaryFile, '');
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, evaluate(String(value), context)]));
    const env: NodeJS.ProcessEnv = {
      ...userEnv(),
      NO_COLOR: '1',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      GITHUB_ACTION_PATH: actionPath,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: runnerTemp,
      ...stepEnv,
    };
    delete env.FORCE_COLOR;
    const cwd = step['working-directory'] ? join(workspace, evaluate(step['working-directory'], context)) : workspace;
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ code, stdout, stderr, outputs: readOutputs(outputFile), summary: readFileSync(summaryFile, 'utf8') }),
      );
    });
  }

  /** The action's outputs, from its steps' outputs. */
  function actionOutputs(steps: Record<string, Record<string, string>>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(action.outputs).map(([name, output]) => [name, evaluate(output.value, { inputs: {}, steps, actionPath })]),
    );
  }

  test('installs from a fresh checkout, runs the campaign, and reports verdict, result, JUnit and step summary', async () => {
    expect(existsSync(join(actionPath, 'node_modules'))).toBe(false);
    expect(existsSync(join(actionPath, 'dist'))).toBe(false);
    const steps: Record<string, Record<string, string>> = {};
    let last: StepRun | undefined;
    for (const step of action.runs.steps) {
      if (step.uses !== undefined) {
        // actions/setup-node: this machine's Node stands in for the version it would set up.
        expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
        continue;
      }
      last = await runStep(step, {}, steps);
      expect({ step: step.name, code: last.code, stderr: last.code === 0 ? '' : last.stderr }).toEqual({
        step: step.name,
        code: 0,
        stderr: '',
      });
      if (step.id) steps[step.id] = last.outputs;
    }

    const outputs = actionOutputs(steps);
    expect(outputs).toEqual({
      verdict: 'pass',
      result: join(workspace, 'resil-results', 'result.json'),
      junit: join(workspace, 'resil-results', 'junit.xml'),
    });
    const result = JSON.parse(readFileSync(outputs.result!, 'utf8'));
    expect(result).toMatchObject({ schema: 'resil/campaign-result@1', ok: true });
    expect(result.scenarios.map((s: { name: string }) => s.name)).toEqual(['steady']);
    expect(readFileSync(outputs.junit!, 'utf8')).toMatch(/<testsuite name="steady"[^>]* failures="0"/);
    expect(last!.summary).toMatch(/^## resil: ✅ all 2 thresholds passed/);
    expect(last!.summary).toContain('steady');
    // The workspace holds the campaign and the results, nothing the install put there.
    expect(readdirSync(workspace).sort()).toEqual(['gate.yaml', 'resil-results', 'resil.yaml']);

    // A missed threshold: verdict fail, the step fails, JUnit and summary say which; `args` reaches `resil run`.
    const run = action.runs.steps.find((step) => step.id === 'run')!;
    const failed = await runStep(run, { campaign: 'gate.yaml', args: '--scenario dependency-down' }, steps);
    expect(failed.code).toBe(1);
    expect(failed.outputs.verdict).toBe('fail');
    const failedResult = JSON.parse(readFileSync(failed.outputs.result!, 'utf8'));
    expect(failedResult.scenarios.map((s: { name: string }) => s.name)).toEqual(['dependency-down']);
    expect(readFileSync(failed.outputs.junit!, 'utf8')).toMatch(/<failure/);
    expect(failed.summary).toMatch(/^## resil: ❌ 1 of 1 threshold failed/);
    expect(failed.stdout).toContain('::error title=resil dependency-down');

    // Bad input: verdict error, exit 2, and no stale result from the run before.
    const missing = await runStep(run, { campaign: 'missing.yaml' }, steps);
    expect(missing.code).toBe(2);
    expect(missing.outputs).toEqual({ verdict: 'error' });
    expect(missing.stderr).toMatch(/resil: campaign file 'missing\.yaml' not found/);
  }, 240_000);
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { userEnv } from './helpers/cli.js';

/**
 * The package as a user gets it: `npm pack` (of the build `npm test` made), installed with
 * --omit=dev into an empty folder, run through `npx --no --` (the installed copy; never a download).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(command: string, args: string[], cwd: string): Promise<Outcome> {
  try {
    const env: NodeJS.ProcessEnv = { ...userEnv(), NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    const { stdout, stderr } = await run(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('the npm package', () => {
  test('packs the build, installs with --omit=dev into an empty folder, and runs --version, init and demo --quick', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'resil-package-'));
    // --ignore-scripts: `npm test` built dist/ already; a second build now would rewrite files other tests run.
    const packed = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT);
    expect(packed.code).toBe(0);
    const [{ filename, files }] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = files.map((file) => file.path);
    const expected = [
      'bin/run.js',
      'dist/index.js',
      'dist/commands/run.js',
      'schema/resil.schema.json',
      'action.yml',
      'README.md',
      'package.json',
    ];
    // The HTML report reads its style and chart script beside its module (the build copies them).
    expected.push('dist/report/assets/report.css', 'dist/report/assets/report.js');
    for (const path of expected) expect(paths).toContain(path);
    expect(paths.filter((path) => /^(src|test|node_modules|scripts)\//.test(path))).toEqual([]);

    const project = join(scratch, 'project');
    const installed = await sh(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefix', project, join(scratch, filename)],
      scratch,
    );
    expect({ code: installed.code, stderr: installed.code === 0 ? '' : installed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(existsSync(join(project, 'node_modules', 'resil', 'dist', 'index.js'))).toBe(true);
    // Only what resil needs at run time: no compiler, no test runner.
    for (const dev of ['typescript', 'jest', '@swc/core']) expect(existsSync(join(project, 'node_modules', dev))).toBe(false);

    const [version, demo, init] = await Promise.all([
      sh('npx', ['--no', '--', 'resil', '--version'], project),
      sh('npx', ['--no', '--', 'resil', 'demo', '--quick'], project),
      sh('npx', ['--no', '--', 'resil', 'init', 'http://127.0.0.1:3000/health'], project),
    ]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout).toMatch(new RegExp(`^resil/${pkg.version.replace(/\./g, '\\.')} `));
    expect({ code: demo.code, stderr: demo.code === 0 ? '' : demo.stderr }).toEqual({ code: 0, stderr: '' });
    expect(demo.stdout).toMatch(/^campaign passed: 2 of 2 scenarios/m);
    expect(init.code).toBe(0);
    // Installed in the project, the schema resolves from the campaign: the editor line points at it.
    const campaign = readFileSync(join(project, 'resil.yaml'), 'utf8');
    expect(campaign.split('\n')[0]).toBe('# yaml-language-server: $schema=./node_modules/resil/schema/resil.schema.json');
    const dryRun = await sh('npx', ['--no', '--', 'resil', 'run', 'resil.yaml', '--dry-run'], project);
    expect(dryRun.code).toBe(0);
  }, 120_000);
});

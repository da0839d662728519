import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

// The layer rules of .dependency-cruiser.cjs (low code never imports high code, no import cycles),
// run by dependency-cruiser's own CLI as `npm run layers` runs it.

const root = resolve(import.meta.dirname, '..');
const config = join(root, '.dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Cruise {
  code: number;
  output: string;
}

function cruise(args: string[], cwd = root): Promise<Cruise> {
  return new Promise((done) => {
    const argv = [depcruise, ...args, '--config', config, '--no-progress'];
    execFile(process.execPath, argv, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, output: stdout + stderr });
    });
  });
}

test('src/ keeps the layer rules and has no import cycle', async () => {
  const { code, output } = await cruise(['src', '--output-type', 'err-long']);
  // On failure the message is dependency-cruiser's: each rule broken, the importing and imported file, what to do.
  if (code !== 0) throw new Error(`npm run layers (dependency-cruiser) found:\n${output}`);
  expect(output).toMatch(/no dependency violations found/);
}, 60_000);

test('the rules fail on a low module importing a high one (a type import too), on a cycle and on a module in no layer', async () => {
  const project = mkdtempSync(join(tmpdir(), 'resil-layers-'));
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    'src/report/result.ts': 'export interface ResultDocument { ok: boolean }\nexport const RESULT = 1;\n',
    'src/engine/run.ts': "import type { ResultDocument } from '../report/result.js';\nexport const run = (d: ResultDocument) => d.ok;\n",
    'src/metrics/live.ts': "import { RESULT } from '../report/result.js';\nexport const live = RESULT;\n",
    'src/util/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'src/util/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    'src/transport/tcp.ts': "import { a } from '../util/a.js';\nexport const tcp = a;\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  const { code, output } = await cruise(['src', '--output-type', 'err'], project);
  expect(code).not.toBe(0);
  expect(output).toMatch(/error low-imports-high: src\/engine\/run\.ts → src\/report\/result\.ts/);
  expect(output).toMatch(/error low-imports-high: src\/metrics\/live\.ts → src\/report\/result\.ts/);
  expect(output).toMatch(/error no-cycle: src\/util\/a\.ts →\s+src\/util\/b\.ts →\s+src\/util\/a\.ts/);
  expect(output).toMatch(/error unlayered: src\/transport\/tcp\.ts → src\/util\/a\.ts/);
}, 60_000);

test('resil report --merge loads neither undici, HAR nor the faults; a worker thread loads no report code', async () => {
  /** The modules Node loads with `entry`: dependencies followed except type-only imports (erased by the compiler). */
  const loadedWith = async (entry: string): Promise<string[]> => {
    const { code, output } = await cruise([entry, '--output-type', 'json']);
    expect(code).toBe(0);
    type Module = { source: string; dependencies: Array<{ resolved: string; dependencyTypes: string[] }> };
    const { modules } = JSON.parse(output) as { modules: Module[] };
    const bySource = new Map(modules.map((module) => [module.source, module]));
    const loaded = new Set([entry]);
    for (const source of loaded) {
      for (const dependency of bySource.get(source)?.dependencies ?? []) {
        if (!dependency.dependencyTypes.includes('type-only')) loaded.add(dependency.resolved);
      }
    }
    return [...loaded];
  };
  const merge = await loadedWith('src/report/merge.ts');
  expect(merge).toContain('src/report/result.ts'); // the walk does follow imports
  expect(merge.filter((path) => /node_modules\/undici\/|^src\/har\/|^src\/faults\/|^src\/proxy\/proxy\.ts$/.test(path))).toEqual([]);
  const worker = await loadedWith('src/engine/worker.ts');
  expect(worker).toContain('src/engine/executor.ts');
  expect(worker.filter((path) => /^src\/(report|session)\//.test(path))).toEqual([]);
}, 60_000);

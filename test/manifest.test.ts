import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// oclif.manifest.json lets `resil <command>` import one command at start instead of all of them
// (scripts/oclif-manifest.mjs). A stale one would show old help or miss a command: it must be exactly
// what the built commands give, and it must ship in the package.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the oclif manifest', () => {
  test('matches the commands in dist/ (npm run build writes it)', () => {
    const fresh = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { buildManifest } from './scripts/oclif-manifest.mjs'; process.stdout.write(JSON.stringify(await buildManifest()));",
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    const written = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'));
    expect(written).toEqual(JSON.parse(fresh));
    expect(Object.keys(written.commands).sort()).toEqual(['chaos', 'demo', 'init', 'load', 'proxy', 'report', 'run']);
  });

  test('is packed', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.files).toContain('oclif.manifest.json');
    expect(pkg.scripts.build).toContain('scripts/oclif-manifest.mjs');
  });
});

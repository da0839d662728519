// Writes oclif.manifest.json (command ids, flags, help text) from the built commands in dist/. With
// it, `resil <command>` imports only that command's module at start; without it, oclif imports every
// command to find the one asked for. Part of `npm run build`, so it is rewritten whenever dist/ is,
// and it is packed; test/manifest.test.ts fails if it no longer matches dist/.
//
//   npm run build        (or: node scripts/oclif-manifest.mjs, after tsc)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The manifest oclif would build at start-up from dist/commands, as `oclif manifest` writes it. */
export async function buildManifest() {
  const plugin = new Plugin({
    root,
    type: 'core',
    isRoot: true,
    ignoreManifest: true,
    errorOnManifestCreate: true,
    respectNoCacheDefault: true,
  });
  await plugin.load();
  return plugin.manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('../oclif.manifest.json', import.meta.url), `${JSON.stringify(await buildManifest(), null, 2)}\n`);
}

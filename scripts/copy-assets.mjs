// Copies every src/**/assets/ folder to the same place under dist/ (files the code reads at run time
// beside its module, such as the HTML report's CSS and chart script, src/report/assets/). Part of
// `npm run build`, after tsc; each dist/**/assets/ is replaced whole, so a deleted asset goes too.
// Jest runs src/ and reads them in place.
//
//   npm run build        (or: node scripts/copy-assets.mjs, after tsc)
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Every folder named `assets` under `dir`. */
function assetFolders(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => (entry.name === 'assets' ? [join(dir, entry.name)] : assetFolders(join(dir, entry.name))));
}

function copyFolder(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyFolder(join(from, entry.name), join(to, entry.name));
    else copyFileSync(join(from, entry.name), join(to, entry.name));
  }
}

for (const folder of assetFolders(src)) {
  const target = join(dist, relative(src, folder));
  rmSync(target, { recursive: true, force: true });
  copyFolder(folder, target);
}

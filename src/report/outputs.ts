import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { ResultDocument } from './result.js';

/** Output formats by file extension; later reporters (JUnit, HTML, Prometheus) register here. */
const WRITERS: Record<string, (document: ResultDocument) => string> = {
  '.json': (document) => JSON.stringify(document, null, 2) + '\n',
};

/**
 * Checks every --out path before the run starts: a known extension and a writable place.
 * A path that cannot be written is a usage error now, not a lost result later.
 */
export function checkOutputPaths(paths: readonly string[]): void {
  for (const path of paths) {
    const extension = extname(path).toLowerCase();
    if (!(extension in WRITERS)) {
      throw new UsageError(`--out '${path}': unknown format '${extension || '(none)'}' (known: ${Object.keys(WRITERS).join(', ')})`);
    }
    const full = resolve(path);
    const directory = dirname(full);
    if (!existsSync(directory) || !statSync(directory).isDirectory()) throw new UsageError(`--out '${path}': directory '${directory}' does not exist`);
    try {
      if (existsSync(full)) {
        if (statSync(full).isDirectory()) throw new UsageError(`--out '${path}': is a directory`);
        accessSync(full, constants.W_OK);
      } else {
        accessSync(directory, constants.W_OK);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--out '${path}': not writable`);
    }
  }
}

export function writeOutputs(paths: readonly string[], document: ResultDocument): void {
  for (const path of paths) writeFileSync(path, WRITERS[extname(path).toLowerCase()]!(document));
}

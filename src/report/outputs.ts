import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { renderJunit } from './junit.js';
import { renderPrometheus } from './prometheus.js';
import { renderHtml } from './html.js';
import type { ScenarioResult } from '../model/result.js';

export const CAMPAIGN_SCHEMA_VERSION = 'resil/campaign-result@1';

/**
 * What a run hands its outputs: the scenarios it ran. A single command (`load`, `chaos`) has one,
 * and its JSON output is that result document; a campaign's JSON output wraps all of them.
 */
export interface RunOutput {
  campaign: boolean;
  scenarios: readonly ScenarioResult[];
}

/** Output formats by file extension: what each holds, and how it is written. */
const WRITERS: Record<string, { holds: string; render: (output: RunOutput) => string | Promise<string> }> = {
  '.json': {
    holds: 'the result document',
    render: (output) =>
      `${JSON.stringify(output.campaign ? campaignDocument(output.scenarios) : output.scenarios[0]!.document, null, 2)}\n`,
  },
  '.xml': { holds: 'JUnit, a test case per threshold', render: (output) => renderJunit(output.scenarios) },
  '.html': { holds: 'a self-contained report', render: (output) => renderHtml(output.scenarios) },
  '.prom': { holds: 'Prometheus text', render: (output) => renderPrometheus(output.scenarios) },
};

/**
 * The summary of every --out flag, from the table above: 'Write the result to FILE (repeatable); its
 * extension picks the format: .json …'.
 */
export function outFlagSummary(what: string): string {
  const formats = Object.entries(WRITERS).map(([extension, writer]) => `${extension} ${writer.holds}`);
  return `Write ${what} to FILE (repeatable); its extension picks the format: ${formats.join(', ')}.`;
}

/** The JSON document of a campaign run: every scenario's result document, and the overall verdict. */
export function campaignDocument(scenarios: readonly ScenarioResult[]): {
  schema: string;
  ok: boolean;
  scenarios: Array<{ name: string; ok: boolean; result: ScenarioResult['document'] }>;
} {
  const rows = scenarios.map((s) => ({
    name: s.name,
    ok: !s.document.interrupted && s.document.thresholds.every((t) => t.ok),
    result: s.document,
  }));
  return { schema: CAMPAIGN_SCHEMA_VERSION, ok: rows.length > 0 && rows.every((r) => r.ok), scenarios: rows };
}

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
    if (!existsSync(directory) || !statSync(directory).isDirectory())
      throw new UsageError(`--out '${path}': directory '${directory}' does not exist`);
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

export async function writeOutputs(paths: readonly string[], output: RunOutput): Promise<void> {
  for (const path of paths) writeFileSync(path, await WRITERS[extname(path).toLowerCase()]!.render(output));
}

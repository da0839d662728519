import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { completeVerdict } from '../thresholds/evaluate.js';
import { CAMPAIGN_SCHEMA_VERSION } from './outputs.js';
import { RESULT_SCHEMA, type ResultDocument, type ScenarioResult } from '../model/result.js';

/**
 * Reads the result documents in a file (`resil report`, `--merge`, `--baseline`): one (load, chaos)
 * or one per scenario (run). The shape is checked here, once, so a file that is not a result is a
 * usage error naming the file and the field; fields added to resil/result@1 after it first shipped
 * get the value an older resil meant, so every reporter sees a complete document.
 */
export function readResultFile(path: string): ScenarioResult[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot be read (${code})` : 'not JSON'}`);
  }
  const bad = (field: string, why: string): never => {
    throw new UsageError(`${path}: not a valid resil result: "${field}" ${why}`);
  };
  const schema = isObject(parsed) ? parsed.schema : undefined;
  if (schema === RESULT_SCHEMA) {
    const document = normalizeResult(parsed, '', bad);
    return [{ name: document.scenario ?? document.command, document }];
  }
  if (schema === CAMPAIGN_SCHEMA_VERSION) {
    const scenarios = (parsed as Record<string, unknown>).scenarios;
    if (!Array.isArray(scenarios)) bad('scenarios', describe(scenarios, 'a list'));
    return (scenarios as unknown[]).map((scenario, i) => {
      const at = `scenarios[${i}]`;
      if (!isObject(scenario)) return bad(at, describe(scenario, 'an object'));
      if (typeof scenario.name !== 'string') bad(`${at}.name`, describe(scenario.name, 'a string'));
      return { name: scenario.name as string, document: normalizeResult(scenario.result, `${at}.result.`, bad) };
    });
  }
  throw new UsageError(`${path}: not a resil result (expected "schema": "${RESULT_SCHEMA}" or "${CAMPAIGN_SCHEMA_VERSION}")`);
}

type Bad = (field: string, why: string) => never;
type Shape = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'number?' | 'string?' | 'object?';

/** The fields resil/result@1 had from the start: every reporter relies on them. */
const REQUIRED: ReadonlyArray<[string, Shape]> = [
  ['command', 'string'],
  ['target', 'string'],
  ['seed', 'number'],
  ['startedAt', 'string'],
  ['durationMs', 'number'],
  ['interrupted', 'boolean'],
  ['settings', 'object'],
  ['settings.method', 'string'],
  ['settings.concurrency', 'number'],
  ['settings.workers', 'number'],
  ['settings.headers', 'object'],
  ['requests', 'object'],
  ['requests.total', 'number'],
  ['requests.ok', 'number'],
  ['requests.failed', 'number'],
  ['successRate', 'number?'],
  ['rps', 'number'],
  ['latencyMs', 'object?'],
  ['serviceTimeMs', 'object?'],
  ['statusCodes', 'object'],
  ['errors', 'object'],
  ['thresholds', 'array'],
  ['timeline', 'array'],
  ['histograms', 'object'],
  ['histograms.latency', 'string'],
  ['histograms.serviceTime', 'string?'],
  ['histograms.timeline', 'array'],
];

const SCHEDULE: ReadonlyArray<[string, Shape]> = [
  ['schedule.scheduled', 'number'],
  ['schedule.lateStarts', 'number'],
  ['schedule.lateStartMs', 'number'],
];

function normalizeResult(value: unknown, prefix: string, bad: Bad): ResultDocument {
  if (!isObject(value)) return bad(prefix.slice(0, -1) || 'schema', describe(value, 'an object'));
  const check = (fields: ReadonlyArray<[string, Shape]>) => {
    for (const [field, shape] of fields) {
      const actual = field.split('.').reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), value);
      if (!fits(actual, shape)) bad(prefix + field, describe(actual, SHAPE_WORDS[shape]));
    }
  };
  check(REQUIRED);
  if (value.model !== 'open' && value.model !== 'closed') bad(`${prefix}model`, describe(value.model, "'open' or 'closed'"));
  if (value.model === 'open') {
    if (!isObject(value.schedule)) bad(`${prefix}schedule`, describe(value.schedule, 'an object (open model)'));
    check(SCHEDULE);
  }
  (value.thresholds as unknown[]).forEach((verdict, i) => {
    if (!isObject(verdict) || typeof verdict.expression !== 'string' || typeof verdict.ok !== 'boolean')
      bad(`${prefix}thresholds[${i}]`, 'needs an "expression" and "ok"');
  });

  // Filled in with what a resil from before each field meant by its absence.
  const document = value as unknown as ResultDocument;
  document.fingerprint ??= '';
  document.shard ??= null;
  document.settings.maxConnections ??= null;
  document.requests.cancelled ??= 0;
  document.requests.dropped ??= 0; // nothing was ever dropped before the count existed
  document.warnings ??= [];
  if (document.schedule) {
    const schedule = document.schedule;
    schedule.rate ??= null;
    schedule.stages ??= null;
    // Not measured then: null, never a made-up count.
    schedule.peakConnections ??= null;
    schedule.waitedForConnection ??= null;
    schedule.connectionsNeeded ??= null;
  }
  for (const stats of Object.values(document.faults?.providers ?? {})) {
    stats.eligible ??= 0;
    stats.considered ??= 0;
    stats.expected ??= 0;
    stats.unmatched ??= 0;
  }
  // Verdicts from before they named their metric and carried the value as shown: found from the expression.
  document.thresholds = document.thresholds.map((verdict, i) =>
    typeof verdict.metric === 'string' && typeof verdict.kind === 'string' && typeof verdict.formatted === 'string'
      ? verdict
      : (completeVerdict(verdict, document) ?? bad(`${prefix}thresholds[${i}].expression`, 'names no threshold metric this resil knows')),
  );
  return document;
}

const SHAPE_WORDS: Record<Shape, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  'number?': 'a number or null',
  'string?': 'a string or null',
  'object?': 'an object or null',
};

function fits(value: unknown, shape: Shape): boolean {
  if (shape.endsWith('?') && value === null) return true;
  const base = shape.replace('?', '');
  if (base === 'array') return Array.isArray(value);
  if (base === 'object') return isObject(value);
  if (base === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === base;
}

function describe(value: unknown, wanted: string): string {
  if (value === undefined) return `is missing (expected ${wanted})`;
  return `should be ${wanted}, not ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

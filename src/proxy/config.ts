import picomatch from 'picomatch';
import { ProblemList, UsageError } from '../errors.js';
import { parseFaultMix, type WeightedFault } from '../faults/registry.js';
import { tryParseDuration } from '../util/duration.js';
import { newSeed } from '../util/random.js';

/** Fault settings as the user gives them (flags, campaign file, or the admin API's PUT /faults). */
export interface FaultSettings {
  /** Chance (0..1) that one eligible call is faulted. Default: 1 when faults are given, else no faults. */
  failureRate?: number;
  /** Weighted mix: 'status:503=5,timeout=1'. Default 'status:503' when only a failure rate is given. */
  faults?: string;
  /** Fault windows, 'START..END' from the start of the run ('10s..25s'). None: faults apply throughout. */
  windows?: readonly string[];
  /** Seconds in Retry-After on injected 429 and 503 (default 1). */
  retryAfter?: number;
  matchMethod?: string;
  /** Glob on the path (query excluded): '/v1/**'. */
  matchPath?: string;
  /** 'Name: value' (value may be '*'): only calls carrying it can be faulted. */
  matchHeader?: string;
  /** Seed of the fault decisions; one is drawn (and reported) when absent. */
  seed?: number;
}

export interface FaultWindow {
  source: string;
  startMs: number;
  endMs: number;
}

/** Validated fault settings, ready for the proxy. */
export interface FaultPlan {
  settings: FaultSettings;
  failureRate: number;
  mix: WeightedFault[];
  totalWeight: number;
  /** True when the mix is `down`: the listener closes for each window instead of faulting calls. */
  down: boolean;
  windows: FaultWindow[];
  retryAfterSeconds: number;
  seed: number;
  /** Null when every call is eligible. */
  matches: ((method: string, path: string, headers: Record<string, string | string[] | undefined>) => boolean) | null;
}

/** Validates fault settings, listing every problem at once. */
export function buildFaultPlan(settings: FaultSettings): FaultPlan {
  const problems = new ProblemList();
  const hasFaults = settings.faults !== undefined || settings.failureRate !== undefined;
  const failureRate = settings.failureRate ?? (settings.faults !== undefined ? 1 : 0);
  if (!(Number.isFinite(failureRate) && failureRate >= 0 && failureRate <= 1)) {
    problems.add(`--failure-rate: '${settings.failureRate}' must be between 0 and 1`);
  }
  const mix = hasFaults ? (problems.attempt(() => parseFaultMix(settings.faults ?? 'status:503')) ?? []) : [];
  const windows = (settings.windows ?? []).map((text) => problems.attempt(() => parseWindow(text))).filter((w): w is FaultWindow => w !== undefined);
  const sorted = [...windows].sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.startMs < sorted[i - 1]!.endMs) problems.add(`--fault-window: '${sorted[i - 1]!.source}' and '${sorted[i]!.source}' overlap`);
  }
  const retryAfterSeconds = settings.retryAfter ?? 1;
  if (!(Number.isInteger(retryAfterSeconds) && retryAfterSeconds >= 0)) problems.add(`--retry-after: '${settings.retryAfter}' must be a whole number of seconds`);
  if (settings.seed !== undefined && !(Number.isInteger(settings.seed) && settings.seed >= 0)) problems.add(`--seed: '${settings.seed}' must be a whole number >= 0`);
  const matches = problems.attempt(() => buildMatcher(settings));
  problems.throwIfAny();
  return {
    settings: pickFaultSettings(settings),
    failureRate,
    mix,
    totalWeight: mix.reduce((sum, entry) => sum + entry.weight, 0),
    down: mix.length === 1 && mix[0]!.fault.wholeWindow === true,
    windows: sorted,
    retryAfterSeconds,
    seed: settings.seed ?? newSeed(),
    matches: matches ?? null,
  };
}

const FAULT_SETTING_KEYS = ['failureRate', 'faults', 'windows', 'retryAfter', 'matchMethod', 'matchPath', 'matchHeader', 'seed'] as const;

/** Only the fault settings of a wider options object (a proxy's upstream URL and mock stay out of reports). */
function pickFaultSettings(from: FaultSettings): FaultSettings {
  const picked: Record<string, unknown> = {};
  for (const key of FAULT_SETTING_KEYS) if (from[key] !== undefined) picked[key] = from[key];
  return picked as FaultSettings;
}

/**
 * Checks the shape of fault settings that arrive as JSON (admin API): a plain object whose fields
 * have the right types. Values are then checked by buildFaultPlan.
 */
export function checkFaultSettingsShape(value: unknown): FaultSettings {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('fault settings must be a JSON object');
  const problems = new ProblemList();
  const record = value as Record<string, unknown>;
  const types: Record<(typeof FAULT_SETTING_KEYS)[number], 'number' | 'string' | 'string[]'> = {
    failureRate: 'number',
    faults: 'string',
    windows: 'string[]',
    retryAfter: 'number',
    matchMethod: 'string',
    matchPath: 'string',
    matchHeader: 'string',
    seed: 'number',
  };
  for (const [key, actual] of Object.entries(record)) {
    const expected = Object.hasOwn(types, key) ? types[key as keyof typeof types] : undefined;
    if (expected === undefined) problems.add(`unknown field '${key}' (known: ${FAULT_SETTING_KEYS.join(', ')})`);
    else if (expected === 'string[]' ? !(Array.isArray(actual) && actual.every((v) => typeof v === 'string')) : typeof actual !== expected) {
      problems.add(`'${key}' must be ${expected === 'string[]' ? 'a list of strings' : `a ${expected}`}`);
    }
  }
  problems.throwIfAny();
  return record as FaultSettings;
}

/** '10s..25s' → a window from 10 s to 25 s after the run starts. */
export function parseWindow(text: string): FaultWindow {
  const parts = text.split('..');
  const start = parts.length === 2 ? tryParseDuration(parts[0]!) : undefined;
  const end = parts.length === 2 ? tryParseDuration(parts[1]!) : undefined;
  if (start === undefined || end === undefined) throw new UsageError(`--fault-window '${text}': expected START..END, e.g. 10s..25s`);
  if (end <= start) throw new UsageError(`--fault-window '${text}': ends before it starts`);
  return { source: text, startMs: start, endMs: end };
}

function buildMatcher(settings: FaultSettings): FaultPlan['matches'] {
  const tests: Array<(method: string, path: string, headers: Record<string, string | string[] | undefined>) => boolean> = [];
  if (settings.matchMethod !== undefined) {
    const methods = new Set(settings.matchMethod.split(',').map((m) => m.trim().toUpperCase()));
    tests.push((method) => methods.has(method));
  }
  if (settings.matchPath !== undefined) {
    if (!settings.matchPath.startsWith('/') && !settings.matchPath.startsWith('*')) {
      throw new UsageError(`--match-path '${settings.matchPath}': a path glob starts with / (e.g. /v1/**)`);
    }
    let isMatch: (path: string) => boolean;
    try {
      isMatch = picomatch(settings.matchPath, { dot: true });
    } catch (error) {
      throw new UsageError(`--match-path: not a usable glob (${(error as Error).message.slice(0, 80)})`);
    }
    tests.push((_method, path) => isMatch(path));
  }
  if (settings.matchHeader !== undefined) {
    const colon = settings.matchHeader.indexOf(':');
    if (colon <= 0) throw new UsageError(`--match-header '${settings.matchHeader.split(':')[0]}': expected 'Name: value' (value may be *)`);
    const name = settings.matchHeader.slice(0, colon).trim().toLowerCase();
    const value = settings.matchHeader.slice(colon + 1).trim();
    tests.push((_method, _path, headers) => {
      const actual = headers[name];
      if (actual === undefined) return false;
      return value === '*' || (Array.isArray(actual) ? actual.includes(value) : actual === value);
    });
  }
  if (tests.length === 0) return null;
  return (method, path, headers) => tests.every((test) => test(method, path, headers));
}

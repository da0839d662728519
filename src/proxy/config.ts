import picomatch from 'picomatch';
import { ProblemList, UsageError } from '../errors.js';
import { parseFaultMix, type MixFault, type WeightedFault } from '../faults/registry.js';
import type { Fault } from '../faults/fault.js';
import { tryParseDuration } from '../util/duration.js';
import { newSeed } from '../util/random.js';
import { SEED_OPTION } from '../engine/options.js';
import {
  flagWording,
  inWording,
  OptionError,
  optionsFromCampaign,
  schemaProperties,
  stringOrList,
  toStringList,
  type OptionProblem,
  type OptionTable,
  type OptionWording,
} from '../util/option-table.js';
import { MAX_MOCK_TOKENS, MOCK_DEFAULTS } from './mock.js';
import { isProviderName, PROVIDER_NAMES, type ProviderName } from './providers/provider.js';
import {
  DURATION_PATTERN,
  CORRELATE_PATTERN,
  MOCK_PRESET_PATTERN,
  UPSTREAM_URL_PATTERN,
  LATENCY_PATTERN,
  LISTEN_PATTERN,
  WINDOW_PATTERN,
} from '../util/schema-patterns.js';
import type { Correlation } from '../behaviour/call.js';
import { parseFaultRateLimit, type FaultBudgetLimits, type FaultRateLimit } from './budget.js';

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
  /** Fault budget: at most this many faults in all (then calls pass through; what would be injected is counted as withheld). */
  maxFaults?: number;
  /** Fault budget: at most this share of the calls over a sliding window: '2%/1m'. */
  maxFaultRate?: string;
  /** Seed of the fault decisions; one is drawn (and reported) when absent. */
  seed?: number;
}

/** '0.3' or '30%' → 0.3 (the chance that a call is faulted). */
export function parseFailureRate(text: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const value = percent ? Number(percent[1]) / 100 : /^\d+(?:\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 1))
    throw new OptionError(FAULT_OPTIONS, { field: 'failureRate', message: `'${text}' must be between 0 and 1 (or 0% to 100%)` });
  return value;
}

/**
 * The fault settings (FaultSettings but the seed), as flags of `resil proxy` and `resil chaos` and as a
 * provider's faults in a campaign scenario (a phase takes all but `windows`: the phase is the window).
 */
export const FAULT_OPTIONS = {
  failureRate: {
    flag: 'failure-rate',
    type: 'string',
    summary: 'Chance (0..1) that one eligible dependency call is faulted (default 1 when a fault mix is given).',
    fromFlag: parseFailureRate,
    campaign: 'failure-rate',
    schema: { type: 'number', minimum: 0, maximum: 1 },
    shown: 'plain',
  },
  faults: {
    flag: 'faults',
    type: 'string',
    summary: "Weighted fault mix: 'status:503=5,status:429=2,timeout=2,reset=1', or 'down' (listener closed).",
    campaign: 'faults',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  windows: {
    flag: 'fault-window',
    type: 'strings',
    summary: "When faults apply, from the start of the run: '10s..25s'.",
    flagNote: '(repeatable).',
    campaign: 'fault-window',
    campaignNote: '(or a list).',
    schema: stringOrList({ pattern: WINDOW_PATTERN }),
    fromCampaign: toStringList,
    shown: 'plain',
  },
  retryAfter: {
    flag: 'retry-after',
    type: 'integer',
    summary: 'Seconds in Retry-After on injected 429 and 503 (and 529 with an api).',
    default: 1,
    campaign: 'retry-after',
    schema: { type: 'integer', minimum: 0 },
    shown: 'plain',
  },
  matchMethod: {
    flag: 'match-method',
    type: 'string',
    summary: "Only calls with this method (or comma list, 'GET,POST') can be faulted.",
    campaign: 'match-method',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  matchPath: {
    flag: 'match-path',
    type: 'string',
    summary: "Only calls whose path matches this glob can be faulted: '/v1/**'.",
    campaign: 'match-path',
    schema: { type: 'string', minLength: 1 },
  },
  matchHeader: {
    flag: 'match-header',
    type: 'string',
    summary: "Only calls carrying this header can be faulted: 'x-tenant: beta' (value may be *).",
    campaign: 'match-header',
    schema: { type: 'string', minLength: 1 },
  },
  maxFaults: {
    flag: 'max-faults',
    type: 'integer',
    summary: 'Fault budget: inject at most this many faults (per proxy), then pass every call through; the rest are counted as withheld.',
    campaign: 'max-faults',
    schema: { type: 'integer', minimum: 0 },
    shown: 'plain',
  },
  maxFaultRate: {
    flag: 'max-fault-rate',
    type: 'string',
    summary: "Fault budget: at most this share of the calls faulted over a sliding window: '2%/1m' (per proxy).",
    campaign: 'max-fault-rate',
    schema: { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?%?\\s*/\\s*\\S+\\s*$' },
    shown: 'plain',
  },
} as const satisfies OptionTable;

/** The built-in mock's settings (MockSettings): flags --mock-* (help lines opening with 'Mock:'), and the fields of a provider's `mock`. */
export const MOCK_OPTIONS = {
  status: {
    flag: 'mock-status',
    type: 'integer',
    summary: 'Status of healthy answers.',
    default: 200,
    campaign: 'status',
    schema: { type: 'integer', minimum: 100, maximum: 599 },
    shown: 'plain',
  },
  body: {
    flag: 'mock-body',
    type: 'string',
    summary: 'Body of healthy answers.',
    campaign: 'body',
    schema: { type: 'string' },
  },
  file: {
    flag: 'mock-file',
    type: 'string',
    summary: 'Read the body from this file.',
    campaign: 'file',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  latency: {
    flag: 'mock-latency',
    type: 'string',
    summary: "Time before each answer: '20ms', or '10ms~50ms' uniform.",
    campaign: 'latency',
    schema: { type: 'string', pattern: LATENCY_PATTERN },
    shown: 'plain',
  },
  // The command line names the preset as --mock's value (--mock openai).
  preset: {
    summary: "Answer as this LLM provider's chat endpoint does: 'openai' (POST …/chat/completions) or 'anthropic' (POST …/messages).",
    campaign: 'preset',
    schema: { type: 'string', enum: [...PROVIDER_NAMES] },
  },
  tokensPerS: {
    flag: 'mock-tokens-per-s',
    type: 'string',
    summary: `Streamed tokens per second of a preset (default ${MOCK_DEFAULTS.tokensPerS}).`,
    fromFlag: (text) => {
      const value = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
      if (!(value > 0)) throw new OptionError(MOCK_OPTIONS, { field: 'tokensPerS', value: text, message: 'expected a number above 0' });
      return value;
    },
    campaign: 'tokens-per-s',
    schema: { type: 'number', exclusiveMinimum: 0 },
    shown: 'plain',
  },
  ttft: {
    flag: 'mock-ttft',
    type: 'string',
    summary: "Time from the response headers to a preset's first token: '300ms' (default 0, at most 24h).",
    campaign: 'ttft',
    schema: { type: 'string', pattern: DURATION_PATTERN },
    shown: 'plain',
  },
  tokens: {
    flag: 'mock-tokens',
    type: 'integer',
    summary: `Tokens in a preset's answer (default ${MOCK_DEFAULTS.tokens}, at most ${MAX_MOCK_TOKENS}).`,
    campaign: 'tokens',
    schema: { type: 'integer', minimum: 1, maximum: MAX_MOCK_TOKENS },
    shown: 'plain',
  },
} as const satisfies OptionTable;

/** `--mock [PRESET]`: bare, the generic mock (RESIL_MOCK's true and false words are read in src/cli/env-flags.ts). */
export function parseMockFlag(text: string): ProviderName | 'generic' {
  if (text === 'generic' || isProviderName(text)) return text;
  throw new OptionError(PROVIDER_OPTIONS, {
    field: 'mock',
    value: text,
    message: `not a preset (known: ${PROVIDER_NAMES.join(', ')}; bare --mock is the generic mock)`,
  });
}

/** `--api NAME`: the LLM provider whose wire format the upstream or recording speaks. */
export function parseApi(text: string): ProviderName {
  if (isProviderName(text)) return text;
  throw new OptionError(PROVIDER_OPTIONS, { field: 'api', value: text, message: `expected ${PROVIDER_NAMES.join(' or ')}` });
}

/**
 * What is behind one chaos proxy and what it records (ProxyOptions but the faults and the name), as
 * flags of `resil proxy` and `resil chaos` and as a campaign provider's fields.
 */
export const PROVIDER_OPTIONS = {
  listen: {
    flag: 'listen',
    type: 'string',
    summary: 'Where the proxy listens: HOST:PORT (127.0.0.1:9101), :PORT or PORT (9101, on 127.0.0.1).',
    flagNote: '; default an ephemeral port.',
    campaign: 'listen',
    schema: { type: ['string', 'integer'], pattern: LISTEN_PATTERN, minimum: 0, maximum: 65535 },
    // A bare port may be a YAML number (listen: 9101); the proxy parses it as --listen does.
    fromCampaign: String,
    shown: 'plain',
  },
  upstream: {
    flag: 'upstream',
    type: 'string',
    summary: 'The real dependency to forward to: http:// or https://, or tcp://HOST:PORT (a TCP proxy: databases, caches, brokers).',
    campaign: 'upstream',
    schema: { type: 'string', pattern: UPSTREAM_URL_PATTERN },
    shown: 'url',
  },
  mock: {
    flag: 'mock',
    type: 'string',
    summary:
      "Answer healthy calls from a built-in mock instead of an upstream: bare, a generic one; 'openai' or 'anthropic', that provider's chat endpoint.",
    bareValue: 'generic',
    fromFlag: parseMockFlag,
    campaign: 'mock',
    campaignNote: ": true (all defaults), a preset's name (openai, short for { preset: openai }), or its settings.",
    schema: {
      type: ['boolean', 'string', 'object'],
      // Applies to a string only: a preset's name.
      pattern: MOCK_PRESET_PATTERN,
      additionalProperties: false,
      properties: schemaProperties(MOCK_OPTIONS),
    },
    // `mock: true` is the mock with its defaults; `mock: false` is no mock; `mock: openai` is { preset: openai }.
    fromCampaign: (value) =>
      value === false
        ? undefined
        : value === true
          ? {}
          : typeof value === 'string'
            ? { preset: value }
            : optionsFromCampaign(MOCK_OPTIONS, value as Record<string, unknown>),
    shown: 'plain',
  },
  api: {
    flag: 'api',
    type: 'string',
    summary:
      "The LLM provider whose wire format the upstream or recording speaks, 'openai' or 'anthropic': injected errors take its shape.",
    flagNote: '(--mock PRESET implies it).',
    fromFlag: parseApi,
    campaign: 'api',
    campaignNote: '(a mock preset implies it).',
    schema: { type: 'string', enum: [...PROVIDER_NAMES] },
    shown: 'plain',
  },
  record: {
    flag: 'record',
    type: 'string',
    summary: 'Record every forwarded exchange to this HAR 1.2 file (needs upstream; secrets redacted).',
    campaign: 'record',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  replay: {
    flag: 'replay',
    type: 'string',
    summary: 'Answer from the recordings in this HAR 1.2 file (with upstream: unmatched calls go there; without: 501).',
    campaign: 'replay',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  replayTiming: {
    flag: 'replay-timing',
    type: 'string',
    summary: "Replayed latencies and chunk gaps: 'recorded', 'none' or 'scale:2'.",
    default: 'recorded',
    campaign: 'replay-timing',
    schema: { type: 'string', pattern: '^(recorded|none|scale:\\d+(\\.\\d+)?)$' },
    shown: 'plain',
  },
  replayIgnore: {
    flag: 'replay-ignore',
    type: 'strings',
    summary: "JSON body fields ignored when matching recordings: 'timestamp'.",
    flagNote: '(repeatable).',
    campaign: 'replay-ignore',
    campaignNote: '(or a list).',
    schema: stringOrList({ minLength: 1 }),
    fromCampaign: toStringList,
    shown: 'plain',
  },
  correlate: {
    flag: 'correlate',
    type: 'string',
    summary:
      "How the proxy tells which calls are attempts of one request: 'auto' (Idempotency-Key, X-Request-Id, traceparent, " +
      "else method, path and body), 'header:NAME', 'body', or 'off' (observe nothing).",
    default: 'auto',
    campaign: 'correlate',
    schema: { type: 'string', pattern: CORRELATE_PATTERN },
    shown: 'plain',
  },
  stream: {
    flag: 'stream',
    type: 'string',
    summary: "A tcp:// upstream: the direction its faults act on, 'downstream' (dependency to client, the default) or 'upstream'.",
    campaign: 'stream',
    schema: { type: 'string', enum: ['upstream', 'downstream'] },
    shown: 'plain',
  },
  // On the command line, `resil chaos --redact` is the load's option (LOAD_OPTIONS.redact).
  redact: {
    summary: 'Further header names whose values are recorded as [redacted] (record).',
    campaign: 'redact',
    schema: stringOrList({ minLength: 1 }),
    fromCampaign: toStringList,
  },
} as const satisfies OptionTable;

const CORRELATE = new RegExp(CORRELATE_PATTERN);

/** `--correlate`: 'auto', 'header:NAME', 'body' or 'off'. */
export function parseCorrelation(text: string): Correlation {
  if (!CORRELATE.test(text)) {
    throw new OptionError(PROVIDER_OPTIONS, { field: 'correlate', value: text, message: 'expected auto, header:NAME, body or off' });
  }
  if (text.startsWith('header:')) return { mode: 'header', header: text.slice('header:'.length).toLowerCase() };
  return { mode: text as 'auto' | 'body' | 'off' };
}

/** FaultSettings' options: the faults', and the seed (every command's --seed). */
const FAULT_SETTING_OPTIONS = { ...FAULT_OPTIONS, seed: SEED_OPTION } satisfies OptionTable;

export interface FaultWindow {
  source: string;
  startMs: number;
  endMs: number;
}

/** Validated fault settings, ready for the proxy: an HTTP proxy's mix holds Faults, a TCP proxy's its own (tcp/faults.ts). */
export interface FaultPlan<F extends MixFault = Fault> {
  settings: FaultSettings;
  failureRate: number;
  mix: WeightedFault<F>[];
  totalWeight: number;
  /** True when the mix is `down`: the listener closes for each window instead of faulting calls. */
  down: boolean;
  windows: FaultWindow[];
  retryAfterSeconds: number;
  seed: number;
  /** --max-faults and --max-fault-rate. */
  budget: FaultBudgetLimits;
  /** Null when every call is eligible. */
  matches: ((method: string, path: string, headers: Record<string, string | string[] | undefined>) => boolean) | null;
}

/**
 * Validates fault settings, listing every problem at once; `word` words them (default: naming flags).
 * `parseMix` reads the `faults` mix (default: an HTTP proxy's; its UsageErrors become the option's).
 */
export function buildFaultPlan(settings: FaultSettings, word?: OptionWording): FaultPlan;
export function buildFaultPlan<F extends MixFault>(
  settings: FaultSettings,
  word: OptionWording,
  parseMix: (text: string) => WeightedFault<F>[],
): FaultPlan<F>;
export function buildFaultPlan(
  settings: FaultSettings,
  word: OptionWording = flagWording,
  parseMix: (text: string) => WeightedFault<MixFault>[] = parseFaultMix,
): FaultPlan<MixFault> {
  const problems = new ProblemList();
  const report = (problem: OptionProblem) => problems.add(word(FAULT_SETTING_OPTIONS, problem));
  const hasFaults = settings.faults !== undefined || settings.failureRate !== undefined;
  const failureRate = settings.failureRate ?? (settings.faults !== undefined ? 1 : 0);
  if (!(Number.isFinite(failureRate) && failureRate >= 0 && failureRate <= 1)) {
    report({ field: 'failureRate', message: `'${settings.failureRate}' must be between 0 and 1` });
  }
  const defaultMix = parseMix === parseFaultMix ? 'status:503' : undefined;
  const mixText = settings.faults ?? defaultMix;
  if (hasFaults && mixText === undefined)
    report({ field: 'faults', message: 'a failure rate needs a fault mix here (there is no default)' });
  const mix =
    hasFaults && mixText !== undefined ? (problems.attempt(() => inWording(word, () => parseFaults(mixText, parseMix))) ?? []) : [];
  const windowProblems = checkWindows(settings.windows ?? []);
  for (const problem of windowProblems) report(problem);
  const sorted = windowProblems.length > 0 ? [] : (settings.windows ?? []).map(parseWindow).sort((a, b) => a.startMs - b.startMs);
  const retryAfterSeconds = settings.retryAfter ?? FAULT_OPTIONS.retryAfter.default;
  if (!(Number.isInteger(retryAfterSeconds) && retryAfterSeconds >= 0))
    report({ field: 'retryAfter', message: `'${settings.retryAfter}' must be a whole number of seconds` });
  if (settings.seed !== undefined && !(Number.isInteger(settings.seed) && settings.seed >= 0))
    report({ field: 'seed', message: `'${settings.seed}' must be a whole number >= 0` });
  const matches = problems.attempt(() => inWording(word, () => buildMatcher(settings)));
  if (settings.maxFaults !== undefined && !(Number.isInteger(settings.maxFaults) && settings.maxFaults >= 0))
    report({ field: 'maxFaults', message: `'${settings.maxFaults}' must be a whole number >= 0` });
  const maxRate = settings.maxFaultRate === undefined ? null : parseFaultRateLimit(settings.maxFaultRate);
  if (typeof maxRate === 'string') report({ field: 'maxFaultRate', value: settings.maxFaultRate, message: maxRate });
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
    budget: { maxFaults: settings.maxFaults ?? null, maxRate: maxRate as FaultRateLimit | null },
    matches: matches ?? null,
  };
}

const FAULT_SETTING_KEYS = [
  'failureRate',
  'faults',
  'windows',
  'retryAfter',
  'matchMethod',
  'matchPath',
  'matchHeader',
  'maxFaults',
  'maxFaultRate',
  'seed',
] as const;

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
    maxFaults: 'number',
    maxFaultRate: 'string',
    seed: 'number',
  };
  for (const [key, actual] of Object.entries(record)) {
    const expected = Object.hasOwn(types, key) ? types[key as keyof typeof types] : undefined;
    if (expected === undefined) problems.add(`unknown field '${key}' (known: ${FAULT_SETTING_KEYS.join(', ')})`);
    else if (
      expected === 'string[]' ? !(Array.isArray(actual) && actual.every((v) => typeof v === 'string')) : typeof actual !== expected
    ) {
      problems.add(`'${key}' must be ${expected === 'string[]' ? 'a list of strings' : `a ${expected}`}`);
    }
  }
  problems.throwIfAny();
  return record as FaultSettings;
}

/** The fault mix of `faults` (the registry's parser, whose problems become the option's). */
export function parseFaults(text: string): WeightedFault[];
export function parseFaults<F extends MixFault>(text: string, parseMix: (text: string) => WeightedFault<F>[]): WeightedFault<F>[];
export function parseFaults(
  text: string,
  parseMix: (text: string) => WeightedFault<MixFault>[] = parseFaultMix,
): WeightedFault<MixFault>[] {
  try {
    return parseMix(text);
  } catch (error) {
    if (error instanceof UsageError) throw new OptionError(FAULT_OPTIONS, { field: 'faults', message: error.message });
    throw error;
  }
}

/** '10s..25s' → a window from 10 s to 25 s after the run starts. */
export function parseWindow(text: string): FaultWindow {
  const window = windowOf(text);
  if ('message' in window) throw new OptionError(FAULT_OPTIONS, window);
  return window;
}

function windowOf(text: string, index?: number): FaultWindow | OptionProblem {
  const parts = text.split('..');
  const start = parts.length === 2 ? tryParseDuration(parts[0]!) : undefined;
  const end = parts.length === 2 ? tryParseDuration(parts[1]!) : undefined;
  const problem = { field: 'windows', value: text, ...(index === undefined ? {} : { index }) };
  if (start === undefined || end === undefined) return { ...problem, message: 'expected START..END, e.g. 10s..25s' };
  if (end <= start) return { ...problem, message: 'ends before it starts' };
  return { source: text, startMs: start, endMs: end };
}

/** Fault windows: each START..END, and none overlapping an earlier one. */
export function checkWindows(texts: readonly string[]): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const windows: FaultWindow[] = [];
  for (const [index, text] of texts.entries()) {
    const window = windowOf(text, index);
    if ('message' in window) {
      problems.push(window);
      continue;
    }
    const clash = windows.find((w) => window.startMs < w.endMs && w.startMs < window.endMs);
    if (clash) problems.push({ field: 'windows', value: text, index, message: `overlaps '${clash.source}'` });
    windows.push(window);
  }
  return problems;
}

/** A path glob: it starts with / (or *) and compiles. */
export function checkMatchPath(text: string): OptionProblem | undefined {
  if (!text.startsWith('/') && !text.startsWith('*')) {
    return { field: 'matchPath', value: text, message: 'a path glob starts with / (e.g. /v1/**)' };
  }
  try {
    picomatch(text, { dot: true });
  } catch (error) {
    return { field: 'matchPath', message: `not a usable glob (${(error as Error).message.slice(0, 80)})` };
  }
  return undefined;
}

/** 'Name: value' (the value may be *). Only the name is echoed: the value may be a secret. */
export function checkMatchHeader(text: string): OptionProblem | undefined {
  if (text.indexOf(':') > 0) return undefined;
  return { field: 'matchHeader', value: text.split(':')[0]!, message: "expected 'Name: value' (value may be *)" };
}

function buildMatcher(settings: FaultSettings): FaultPlan<MixFault>['matches'] {
  const tests: Array<(method: string, path: string, headers: Record<string, string | string[] | undefined>) => boolean> = [];
  if (settings.matchMethod !== undefined) {
    const methods = new Set(settings.matchMethod.split(',').map((m) => m.trim().toUpperCase()));
    tests.push((method) => methods.has(method));
  }
  if (settings.matchPath !== undefined) {
    const problem = checkMatchPath(settings.matchPath);
    if (problem) throw new OptionError(FAULT_OPTIONS, problem);
    const isMatch = picomatch(settings.matchPath, { dot: true });
    tests.push((_method, path) => isMatch(path));
  }
  if (settings.matchHeader !== undefined) {
    const problem = checkMatchHeader(settings.matchHeader);
    if (problem) throw new OptionError(FAULT_OPTIONS, problem);
    const colon = settings.matchHeader.indexOf(':');
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

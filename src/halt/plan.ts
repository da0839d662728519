import { ProblemList } from '../errors.js';
import { tryParseDuration } from '../util/duration.js';
import { flagWording, stringOrList, toStringList, type OptionProblem, type OptionTable, type OptionWording } from '../util/option-table.js';
import { parseTargetUrl } from '../util/url.js';

/** The longest probe interval or latency bound (ms). */
const DAY_MS = 24 * 3600 * 1000;

/** Halt conditions as the user gives them (flags of `resil proxy` and `resil chaos`, a campaign's `halt` block). */
export interface HaltSettings {
  /** Health URLs, each GET every `every`. */
  probes?: readonly string[];
  /** 'prometheus:URL QUERY > 0.05', each an instant query every `every`. */
  when?: readonly string[];
  /** '2s' (default). */
  every?: string;
  /** Statuses a healthy probe answers: '2xx' (default), '200,204', '2xx,304'. */
  status?: string;
  /** A probe slower than this fails: '500ms'. Default: `every`. */
  latency?: string;
  /** 'status==ok', 'checks.db!=down': a field of the probe's JSON body. */
  json?: string;
  /** Consecutive failures of one condition that halt the proxies (default 3). */
  after?: number;
  /** A halt-when that cannot be evaluated (query error, empty result) counts as a failure. */
  onUnknown?: boolean;
}

/**
 * The halt conditions, as flags and as the fields of a campaign's top-level `halt` block. One set of
 * criteria serves every probe.
 */
export const HALT_OPTIONS = {
  probes: {
    flag: 'halt-probe',
    type: 'strings',
    summary: 'Halt: GET this health URL every --halt-every; after --halt-after failures in a row, every proxy stops injecting.',
    flagNote: '(repeatable).',
    campaign: 'probe',
    campaignNote: '(or a list).',
    schema: stringOrList({ minLength: 1 }),
    fromCampaign: toStringList,
    shown: 'url',
  },
  when: {
    flag: 'halt-when',
    type: 'strings',
    summary: "Halt: 'prometheus:URL QUERY > 0.05', an instant query every --halt-every; true --halt-after times in a row halts.",
    flagNote: '(repeatable).',
    campaign: 'when',
    campaignNote: '(or a list).',
    schema: stringOrList({ pattern: '^prometheus:\\S+\\s+.+(>=|<=|==|!=|>|<)\\s*-?[0-9.eE+-]+\\s*$' }),
    fromCampaign: toStringList,
    shown: 'plain',
  },
  every: {
    flag: 'halt-every',
    type: 'string',
    summary: "Halt: time between checks of each probe and halt-when (default '2s').",
    campaign: 'every',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  status: {
    flag: 'halt-status',
    type: 'string',
    summary: "Halt: statuses of a healthy probe: '2xx' (the default), '200,204', '2xx,304'.",
    campaign: 'status',
    schema: { type: 'string', pattern: '^\\s*[1-5]([0-9]{2}|xx)(\\s*,\\s*[1-5]([0-9]{2}|xx))*\\s*$' },
    shown: 'plain',
  },
  latency: {
    flag: 'halt-latency',
    type: 'string',
    summary: "Halt: a probe answered slower than this fails: '500ms' (default: --halt-every).",
    campaign: 'latency',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  json: {
    flag: 'halt-json',
    type: 'string',
    summary: "Halt: a field of the probe's JSON body: 'status==ok', 'checks.db!=down'.",
    campaign: 'json',
    schema: { type: 'string', pattern: '^[^=!]+(==|!=).*$' },
    shown: 'plain',
  },
  after: {
    flag: 'halt-after',
    type: 'integer',
    summary: 'Halt: failures in a row of one probe (or halt-when) that halt the proxies (default 3).',
    campaign: 'after',
    schema: { type: 'integer', minimum: 1 },
    shown: 'plain',
  },
  onUnknown: {
    flag: 'halt-on-unknown',
    type: 'boolean',
    summary: 'Halt: a halt-when that cannot be evaluated (query error, empty result) counts as true (default: reported, not counted).',
    default: false,
    campaign: 'on-unknown',
    schema: { type: 'boolean' },
    shown: 'plain',
  },
} as const satisfies OptionTable;

export type Comparison = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface PrometheusCondition {
  /** As written, for the cause of a halt. */
  source: string;
  /** The Prometheus server's base URL (the query goes to URL/api/v1/query). */
  url: URL;
  query: string;
  op: Comparison;
  value: number;
}

export interface HaltPlan {
  probes: URL[];
  conditions: PrometheusCondition[];
  everyMs: number;
  /** Healthy statuses: exact codes and classes (2 for '2xx'). */
  status: { codes: Set<number>; classes: Set<number>; source: string };
  latencyMs: number;
  json: { path: string[]; op: '==' | '!='; value: string; source: string } | null;
  after: number;
  onUnknown: boolean;
}

const WHEN = /^prometheus:(\S+)\s+(.+?)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i;

/** Validates the halt settings (every problem at once, worded by `word`); null when there is no condition. */
export function buildHaltPlan(settings: HaltSettings, word: OptionWording = flagWording): HaltPlan | null {
  const problems = new ProblemList();
  const report = (problem: OptionProblem) => problems.add(word(HALT_OPTIONS, problem));
  const probes: URL[] = [];
  for (const [index, text] of (settings.probes ?? []).entries()) {
    try {
      probes.push(parseTargetUrl(text));
    } catch (error) {
      report({ field: 'probes', index, message: (error as Error).message });
    }
  }
  const conditions: PrometheusCondition[] = [];
  for (const [index, text] of (settings.when ?? []).entries()) {
    const match = WHEN.exec(text);
    let url: URL | undefined;
    try {
      if (match) url = parseTargetUrl(match[1]!);
    } catch (error) {
      report({ field: 'when', index, message: (error as Error).message });
      continue;
    }
    if (!match || !url) {
      report({ field: 'when', index, value: text, message: "expected 'prometheus:URL QUERY > NUMBER' (or >=, <, <=, ==, !=)" });
      continue;
    }
    conditions.push({ source: text.trim(), url, query: match[2]!, op: match[3] as Comparison, value: Number(match[4]) });
  }
  const everyMs = tryParseDuration(settings.every ?? '2s');
  // At most a day: Node's timers end at 24.8 days, past which they fire every millisecond.
  if (everyMs === undefined || everyMs < 100 || everyMs > DAY_MS)
    report({ field: 'every', value: settings.every, message: "expected a duration from 100ms to 24h ('2s')" });
  const status = parseStatuses(settings.status ?? '2xx');
  if (typeof status === 'string') report({ field: 'status', value: settings.status, message: status });
  const latencyMs = settings.latency === undefined ? everyMs : tryParseDuration(settings.latency);
  if (settings.latency !== undefined && (latencyMs === undefined || latencyMs <= 0 || latencyMs > DAY_MS))
    report({ field: 'latency', value: settings.latency, message: "expected a duration up to 24h ('500ms')" });
  const json = settings.json === undefined ? null : parseJsonCriterion(settings.json);
  if (typeof json === 'string') report({ field: 'json', value: settings.json, message: json });
  const after = settings.after ?? 3;
  if (!(Number.isInteger(after) && after >= 1)) report({ field: 'after', value: String(after), message: 'must be a whole number >= 1' });
  const criteria = settings.status !== undefined || settings.latency !== undefined || settings.json !== undefined;
  if (criteria && probes.length === 0) {
    problems.add(
      word === flagWording
        ? '--halt-status, --halt-latency and --halt-json judge a --halt-probe: give one'
        : 'status, latency and json judge a probe: give one',
    );
  }
  problems.throwIfAny();
  if (probes.length === 0 && conditions.length === 0) return null;
  return {
    probes,
    conditions,
    everyMs: everyMs!,
    status: status as HaltPlan['status'],
    latencyMs: latencyMs!,
    json: json as HaltPlan['json'],
    after,
    onUnknown: settings.onUnknown ?? false,
  };
}

/** '2xx,304' → classes {2} and codes {304}; a message when it does not parse. */
function parseStatuses(text: string): HaltPlan['status'] | string {
  const codes = new Set<number>();
  const classes = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const match = /^([1-5])(xx|\d\d)$/i.exec(part);
    if (!match) return "expected statuses such as '2xx' or '200,204'";
    if (match[2]!.toLowerCase() === 'xx') classes.add(Number(match[1]));
    else codes.add(Number(part));
  }
  return { codes, classes, source: text.trim() };
}

/** 'checks.db==up' → path ['checks', 'db'], '==', 'up'. */
function parseJsonCriterion(text: string): HaltPlan['json'] | string {
  const match = /^([^=!]+?)\s*(==|!=)\s*(.*)$/.exec(text.trim());
  if (!match) return "expected FIELD==VALUE or FIELD!=VALUE ('status==ok')";
  return { path: match[1]!.split('.'), op: match[2] as '==' | '!=', value: match[3]!, source: text.trim() };
}

import { UsageError } from '../errors.js';
import { stringOrList, toStringList, type OptionSpec, type OptionTable } from '../util/option-table.js';
import { DURATION_REF, HEADER_NAME_PATTERN, METHOD_PATTERN, TARGET_URL_PATTERN } from '../util/schema-patterns.js';
import type { Stage } from './arrivals.js';
import type { PolicyOptions } from './policy-options.js';
import type { RequestIdOptions } from './request-ids.js';

/**
 * What the user asked for, as the library takes it (LOAD_OPTIONS below says how flags and campaign
 * fields spell each field; the policy's are in POLICY_OPTIONS).
 * Durations are milliseconds or strings such as '500ms', '10s', '2m'.
 */
export interface LoadOptions {
  url: string;
  method?: string;
  /** 'Name: value' lines, or a name → value record. */
  headers?: readonly string[] | Readonly<Record<string, string>>;
  body?: string;
  bodyFile?: string;
  /** Closed model: connections each looping request → response. Open model: connections opened at the start. */
  concurrency?: number;
  /**
   * Open model: more connections are opened on demand up to this many (default 1000, at least
   * concurrency; without concurrency, the start is min(10, this)).
   */
  maxConnections?: number;
  /** Stop after this many requests. */
  requests?: number;
  /** Stop sending after this long; in the open model also the length of the schedule (rate × duration requests). */
  duration?: number | string;
  /** Open model: requests per second on a fixed schedule. */
  rate?: number;
  /** Open model in steps: each rate held for its duration, in turn (excludes rate, requests, duration). */
  stages?: readonly Stage[];
  /** Per-request time limit (default 10s). */
  timeout?: number | string;
  /** How long in-flight requests may finish once sending stops at the end or on interrupt (default 2s). */
  grace?: number | string;
  /** Expected statuses: '200,201,3xx' (default any 2xx). */
  expectStatus?: string;
  /** The body must contain this text. */
  expectBody?: string;
  /** JSON checks: 'path' (exists) or 'path=value'. */
  expectJson?: readonly string[];
  /** Threshold expressions; `success_rate>=0.95` is added unless one of them judges the success rate (withDefaults). */
  thresholds?: readonly string[];
  /** Worker threads (default 1: the main thread does the work). */
  workers?: number;
  /** Cap on the bytes of one response body kept for checks (default 1 MiB). */
  maxBody?: number;
  /** Accept any TLS certificate (self-signed test targets). */
  insecure?: boolean;
  /** Seed for {{uuid}} and {{randomInt}} (under chaos also the faults': SEED_OPTION); printed and stored so a run can be repeated. */
  seed?: number;
  /** Further header names whose values are secrets (Authorization, Cookie, x-api-key... always are). */
  redact?: readonly string[];
  /** Run shard `index` (0-based) of `count`: its share of connections, requests and schedule ('--shard 2/4' is index 1). */
  shard?: { index: number; count: number };
  /** Policy mode: resil's own client retries, backs off, breaks circuits and fails over. */
  policy?: PolicyOptions;
  /** Policy mode: further providers tried in order when `url` fails (same path and body). */
  failover?: readonly string[];
  /**
   * Chaos runs: each request carries X-Request-Id and a W3C traceparent from this run id and its
   * sequence (request-ids.ts), so the chaos proxies can correlate the service's dependency calls.
   */
  requestIds?: RequestIdOptions;
}

/** Defaults that depend on other options, so no flag shows them as its own (the help lines say them). */
export const LOAD_DEFAULTS = {
  /** Connections; in the open model without --concurrency, the lower of this and --max-connections. */
  concurrency: 10,
  /**
   * The open model's bound on connections (k6's maxVUs, which k6 leaves to the user). 1,000 keeps
   * 100/s on schedule against a service that stalls for the whole default 10 s timeout, or 2,000/s
   * against one answering in 500 ms. Node raises its soft descriptor limit to the hard one at start,
   * so 1,000 sockets fit on common systems; --max-connections lowers it for a small target.
   */
  maxConnections: 1000,
  /** How long a run lasts when neither a count nor a duration is given (as autocannon and k6 do). */
  duration: '10s',
  /** Judged unless a threshold on the success rate replaces it. */
  threshold: 'success_rate>=0.95',
} as const;

/** '200', '200/s' or '1.5' → requests per second. */
export function parseRequestRate(text: string): number {
  const plain = text.trim().replace(/\/s$/, '');
  if (!/^\d+(?:\.\d+)?$/.test(plain)) throw new UsageError(`--rate: '${text}' is not a number of requests per second`);
  return Number(plain);
}

/** '2/4' → shard index 1 of 4. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) < 1 || Number(match[1]) > Number(match[2]))
    throw new UsageError(`--shard '${text}': expected I/N with 1 <= I <= N, e.g. 2/4`);
  return { index: Number(match[1]) - 1, count: Number(match[2]) };
}

/**
 * The seed, one option for every command: it feeds the request templates ({{uuid}}, {{randomInt}}) and,
 * under `resil chaos` and `resil proxy`, the proxy's fault decisions (chaos shifts it per shard, and by
 * one per failover proxy; a campaign derives each provider's fault seed from the scenario's seed).
 * Each command's help line says what it seeds there; the campaign's (and chaos's) says both.
 */
export const SEED_OPTION = {
  flag: 'seed',
  type: 'integer',
  summary:
    'Seed of the random choices: {{uuid}} and {{randomInt}} in requests, and the fault decisions (printed, so a run can be repeated).',
  summaries: {
    load: 'Seed of {{uuid}} and {{randomInt}} in requests (printed, so a run can be repeated).',
    proxy: 'Seed of the fault decisions (printed, so a run can be repeated).',
  },
  campaign: 'seed',
  schema: { type: 'integer', minimum: 0 },
  shown: 'plain',
} as const satisfies OptionSpec;

/** The load options (LoadOptions), as flags of `resil load` and `resil chaos` and as scenario fields of a campaign. */
export const LOAD_OPTIONS = {
  url: {
    summary: 'Target URL (http or https); {{i}}, {{uuid}}, {{randomInt a b}} are filled in per request.',
    campaign: 'url',
    schema: { type: 'string', pattern: TARGET_URL_PATTERN },
  },
  concurrency: {
    flag: 'concurrency',
    char: 'c',
    type: 'integer',
    summary: 'Connections (closed model: each loops request → response; open model: opened at the start).',
    flagNote: `Default ${LOAD_DEFAULTS.concurrency}, or --max-connections if lower.`,
    campaign: 'concurrency',
    schema: { type: 'integer', minimum: 1 },
    shown: 'plain',
  },
  maxConnections: {
    flag: 'max-connections',
    type: 'integer',
    summary: `Open model: open more connections on demand up to this many (default ${LOAD_DEFAULTS.maxConnections}, at least concurrency).`,
    campaign: 'max-connections',
    schema: { type: 'integer', minimum: 1 },
    shown: 'plain',
  },
  requests: {
    flag: 'requests',
    char: 'n',
    type: 'integer',
    summary: 'Stop after this many requests.',
    campaign: 'requests',
    schema: { type: 'integer', minimum: 1 },
    shown: 'plain',
  },
  duration: {
    flag: 'duration',
    char: 'd',
    type: 'string',
    summary: `Stop sending after this long: '500ms', '10s', '2m' (default ${LOAD_DEFAULTS.duration} unless a request count is given).`,
    campaign: 'duration',
    campaignNote: 'Open model: due requests never sent by then are dropped.',
    schema: { $ref: DURATION_REF },
    shown: 'plain',
  },
  rate: {
    flag: 'rate',
    char: 'r',
    type: 'string',
    summary: 'Open model: requests per second on a fixed schedule.',
    flagNote: '(latency from the scheduled time; due requests never sent by -d are dropped).',
    fromFlag: parseRequestRate,
    campaign: 'rate',
    schema: { type: 'number', exclusiveMinimum: 0 },
    shown: 'plain',
  },
  stages: {
    summary: 'Open model in steps, each rate held for its duration in turn. Excludes rate, duration and requests.',
    campaign: 'stages',
    schema: { type: 'array', minItems: 1, items: { $ref: '#/definitions/stage' } },
    fromCampaign: (value) => (value as Array<Record<string, unknown>>).map((stage) => ({ duration: stage.duration, rate: stage.rate })),
  },
  method: {
    flag: 'method',
    char: 'm',
    type: 'string',
    summary: 'HTTP method.',
    default: 'GET',
    campaign: 'method',
    schema: { type: 'string', pattern: METHOD_PATTERN },
    shown: 'plain',
  },
  headers: {
    flag: 'header',
    char: 'H',
    type: 'strings',
    summary: 'Request headers.',
    flagNote: ": 'Name: value' (repeatable).",
    campaign: 'headers',
    campaignNote: ', name → value.',
    schema: { type: 'object', propertyNames: { pattern: HEADER_NAME_PATTERN }, additionalProperties: { type: 'string' } },
    fromCampaign: (value) => ({ ...(value as Record<string, string>) }),
    shown: 'header',
  },
  body: {
    flag: 'body',
    type: 'string',
    summary: 'Request body; {{i}}, {{uuid}}, {{randomInt a b}} are filled in per request.',
    campaign: 'body',
    campaignNote: 'Excludes body-file.',
    schema: { type: 'string' },
  },
  bodyFile: {
    flag: 'body-file',
    type: 'string',
    summary: 'Read the request body from this file.',
    campaign: 'body-file',
    campaignNote: 'Excludes body.',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  timeout: {
    flag: 'timeout',
    type: 'string',
    summary: 'Time limit per request.',
    default: '10s',
    campaign: 'timeout',
    schema: { $ref: DURATION_REF },
    shown: 'plain',
  },
  grace: {
    flag: 'grace',
    type: 'string',
    summary:
      'How long in-flight requests may finish once sending stops (cover the slowest answer); those still unanswered count as failed.',
    default: '2s',
    campaign: 'grace',
    schema: { $ref: DURATION_REF },
    shown: 'plain',
  },
  expectStatus: {
    flag: 'expect-status',
    type: 'string',
    summary: "Statuses that count as success: '200,201,3xx'.",
    default: '2xx',
    campaign: 'expect-status',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  expectBody: {
    flag: 'expect-body',
    type: 'string',
    summary: 'The response body must contain this text.',
    campaign: 'expect-body',
    schema: { type: 'string' },
  },
  expectJson: {
    flag: 'expect-json',
    type: 'strings',
    summary: "JSON checks: 'path' (exists) or 'path=value'.",
    flagNote: '(repeatable).',
    campaign: 'expect-json',
    schema: stringOrList({ minLength: 1 }),
    fromCampaign: toStringList,
  },
  thresholds: {
    flag: 'threshold',
    char: 't',
    type: 'strings',
    summary:
      "Pass/fail rules: 'p99<300ms', 'success_rate>=0.95', 'recovery<5s' (chaos); a rule on the success rate replaces the default one.",
    flagNote: 'Repeatable.',
    campaign: 'thresholds',
    schema: stringOrList({ minLength: 1 }),
    fromCampaign: toStringList,
    shown: 'plain',
  },
  workers: {
    flag: 'workers',
    char: 'w',
    type: 'integer',
    summary: 'Worker threads, for more than one core.',
    default: 1,
    campaign: 'workers',
    schema: { type: 'integer', minimum: 1 },
    shown: 'plain',
  },
  maxBody: {
    flag: 'max-body',
    type: 'integer',
    summary: 'Bytes of each response body kept for body checks.',
    default: 1024 * 1024,
    defaultText: '1 MiB',
    campaign: 'max-body',
    schema: { type: 'integer', minimum: 0 },
    shown: 'plain',
  },
  insecure: {
    flag: 'insecure',
    type: 'boolean',
    summary: 'Accept any TLS certificate (self-signed test targets).',
    default: false,
    campaign: 'insecure',
    schema: { type: 'boolean' },
    shown: 'plain',
  },
  seed: SEED_OPTION,
  redact: {
    flag: 'redact',
    type: 'strings',
    summary: 'Further header names whose values are secret.',
    flagNote: '(repeatable).',
    campaign: 'redact',
    schema: stringOrList({ minLength: 1 }),
    fromCampaign: toStringList,
    shown: 'plain',
  },
  shard: {
    flag: 'shard',
    type: 'string',
    summary: "Run shard I of N ('2/4'): its share of connections, requests and schedule; merge with `resil report --merge`.",
    summaries: { run: "Run shard I of N ('2/4') of every scenario; merge with `resil report --merge`." },
    fromFlag: parseShard,
    shown: 'plain',
  },
} as const satisfies OptionTable;

/**
 * The campaign file (`resil run [FILE]`, default resil.yaml): its JSON Schema and the TypeScript
 * types of the parsed campaign.
 *
 * The file uses kebab-case keys like the CLI flags. The parsed campaign (what `loadCampaign`
 * returns) uses the camelCase names of the library's own option types (LoadOptions, FaultSettings,
 * MockSettings), so a scenario maps onto LoadOptions and a provider's faults onto FaultSettings
 * field for field. Durations stay the strings the user wrote ('500ms', '10s', '1m30s').
 *
 * schema/resil.schema.json is this same schema as a file, for editors (a test keeps the two equal):
 *   # yaml-language-server: $schema=./schema/resil.schema.json
 */

/** A duration as the user wrote it: '500ms', '10s', '2m', '1m30s', '250us' (a bare number is not one, except 0). */
export type CampaignDuration = string;

/** Fault settings of one provider (FaultSettings without the seed). */
export interface ProviderFaults {
  /** Chance (0..1) that one eligible call is faulted (default 1 when `faults` is given). */
  failureRate?: number;
  /** Weighted mix: 'status:503=5,status:429=2,timeout=2,reset=1' (or 'down'). */
  faults?: string;
  /** Fault windows 'START..END' from the start of the scenario; none: faults apply throughout. File key: fault-window. */
  windows?: string[];
  /** Seconds in Retry-After on injected 429 and 503. */
  retryAfter?: number;
  matchMethod?: string;
  matchPath?: string;
  matchHeader?: string;
}

/** Fault settings inside a phase: the phase itself is the window. */
export type PhaseFaults = Omit<ProviderFaults, 'windows'>;

/** A timed change of fault settings, from the start of the scenario. */
export interface CampaignPhase {
  at: CampaignDuration;
  for: CampaignDuration;
  /** Provider name → its fault settings while the phase lasts. */
  providers: Record<string, PhaseFaults>;
}

/** The built-in mock behind a provider (MockSettings; `mock: true` in the file parses to {}). */
export interface CampaignMock {
  status?: number;
  body?: string;
  file?: string;
  /** '20ms' or '10ms~50ms'. */
  latency?: string;
}

/** A named chaos proxy: `mock`, `upstream`, or `replay` (with or without `upstream`). */
export interface CampaignProvider {
  /** HOST:PORT. */
  /** As --listen takes it: HOST:PORT, :PORT or PORT (a number in YAML: 9101). */
  listen: string;
  mock?: CampaignMock;
  upstream?: string;
  /** HAR file to answer from. */
  replay?: string;
  replayTiming?: string;
  /** HAR file to record to. */
  record?: string;
}

/** The service under test: started through the shell, then polled until ready. */
export interface CampaignService {
  command: string;
  /** Extra environment (numbers and booleans in the file become strings). */
  env?: Record<string, string>;
  /** URL polled until it answers 2xx. */
  ready?: string;
  /** How long to wait for `ready` (file key ready-timeout; runner default 15s). */
  readyTimeout?: CampaignDuration;
}

/** One step of the open model: `rate` requests per second for `duration`. */
export interface CampaignStage {
  duration: CampaignDuration;
  rate: number;
}

/**
 * One scenario, with `defaults` already applied (a scenario's own field wins; a scenario that sets
 * stages inherits no rate/duration/requests and vice versa; one that sets body or body-file
 * inherits neither of the two; faults and phases from defaults reach chaos scenarios only).
 */
export interface CampaignScenario {
  name: string;
  type: 'load' | 'chaos';
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  bodyFile?: string;
  concurrency?: number;
  maxConnections?: number;
  requests?: number;
  duration?: CampaignDuration;
  rate?: number;
  stages?: CampaignStage[];
  timeout?: CampaignDuration;
  grace?: CampaignDuration;
  expectStatus?: string;
  expectBody?: string;
  expectJson?: string[];
  workers?: number;
  seed?: number;
  redact?: string[];
  thresholds?: string[];
  /** Chaos: provider name → fault settings for the whole scenario. */
  faults?: Record<string, ProviderFaults>;
  /** Chaos: timed changes. */
  phases?: CampaignPhase[];
}

export interface Campaign {
  /** The file name as given (for messages). */
  file: string;
  /** Provider name → provider ({} when the file declares none). */
  providers: Record<string, CampaignProvider>;
  service?: CampaignService;
  scenarios: CampaignScenario[];
  /**
   * The values the file's ${VAR}s took (and their pieces): messages about the campaign are scrubbed
   * of them. The loader sets it not enumerable, so the campaign prints and compares without it.
   */
  readonly secrets?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// The JSON Schema (draft-07: the draft editors support best). Patterns are plain ECMAScript.

const DURATION_UNIT = '(?:\\d+(?:\\.\\d+)?(?:us|µs|ms|s|m|h))+';
const DURATION_BODY = `(?:0+(?:\\.0+)?|${DURATION_UNIT})`;
/** A duration, as tryParseDuration accepts it (without surrounding blanks). */
export const DURATION_PATTERN = `^${DURATION_BODY}$`;
/** A fault window START..END. */
export const WINDOW_PATTERN = `^${DURATION_BODY}\\.\\.${DURATION_BODY}$`;
/** A mock latency: DURATION or MIN~MAX. */
export const LATENCY_PATTERN = `^${DURATION_BODY}(?:~${DURATION_BODY})?$`;
/** Scenario and provider names. */
export const NAME_PATTERN = '^[A-Za-z0-9_.-]+$';
/** HOST:PORT, [IPv6]:PORT, :PORT or PORT: a first check for editors; parseListen (as for --listen) decides. */
export const LISTEN_PATTERN = '^(?:(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]*):)?\\d{1,5}$';
export const HTTP_URL_PATTERN = '^https?://[^\\s/?#]+\\S*$';
/** An HTTP header name (token). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
export const METHOD_PATTERN = '^[A-Za-z]+$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

/** A string, or a list of strings; `keywords` apply to each string. */
const stringOrList = (description: string, keywords: Record<string, unknown>) => ({
  description,
  type: ['string', 'array'],
  ...keywords,
  items: { type: 'string', ...keywords },
});

const faultFields = {
  'failure-rate': { description: 'Chance (0..1) that one eligible dependency call is faulted (default 1 when faults is given).', type: 'number', minimum: 0, maximum: 1 },
  faults: { description: "Weighted fault mix: 'status:503=5,status:429=2,timeout=2,reset=1', or 'down' (listener closed).", type: 'string', minLength: 1 },
  'retry-after': { description: 'Seconds in Retry-After on injected 429 and 503 (default 1).', type: 'integer', minimum: 0 },
  'match-method': { description: "Only calls with this method (or comma list, 'GET,POST') can be faulted.", type: 'string', minLength: 1 },
  'match-path': { description: "Only calls whose path matches this glob can be faulted: '/v1/**'.", type: 'string', minLength: 1 },
  'match-header': { description: "Only calls carrying this header can be faulted: 'x-tenant: beta' (value may be *).", type: 'string', minLength: 1 },
};

const scenarioFields = {
  type: { description: 'load: drive load only; chaos: drive load while the providers inject faults.', enum: ['load', 'chaos'], default: 'load' },
  url: { description: 'Target URL (http or https); {{i}}, {{uuid}}, {{randomInt a b}} are filled in per request.', type: 'string', pattern: HTTP_URL_PATTERN },
  method: { description: 'HTTP method (default GET).', type: 'string', pattern: METHOD_PATTERN },
  headers: {
    description: 'Request headers, name → value.',
    type: 'object',
    propertyNames: { pattern: HEADER_NAME_PATTERN },
    additionalProperties: { type: 'string' },
  },
  body: { description: 'Request body; {{i}}, {{uuid}}, {{randomInt a b}} are filled in per request. Excludes body-file.', type: 'string' },
  'body-file': { description: 'Read the request body from this file. Excludes body.', type: 'string', minLength: 1 },
  concurrency: { description: 'Connections (closed model: each loops request → response; open model: opened at the start).', type: 'integer', minimum: 1 },
  'max-connections': { description: 'Open model: open more connections on demand up to this many (default 1000, at least concurrency).', type: 'integer', minimum: 1 },
  requests: { description: 'Stop after this many requests.', type: 'integer', minimum: 1 },
  duration: { description: "Stop sending after this long: '500ms', '10s', '2m'. Open model: due requests never sent by then are dropped.", $ref: '#/definitions/duration' },
  rate: { description: 'Open model: requests per second on a fixed schedule.', type: 'number', exclusiveMinimum: 0 },
  stages: {
    description: 'Open model in steps, each rate held for its duration in turn. Excludes rate, duration and requests.',
    type: 'array',
    minItems: 1,
    items: { $ref: '#/definitions/stage' },
  },
  timeout: { description: 'Time limit per request (default 10s).', $ref: '#/definitions/duration' },
  grace: { description: 'How long in-flight requests may finish once sending stops (default 2s); those still unanswered count as failed.', $ref: '#/definitions/duration' },
  'expect-status': { description: "Statuses that count as success: '200,201,3xx' (default 2xx).", type: 'string', minLength: 1 },
  'expect-body': { description: 'The response body must contain this text.', type: 'string' },
  'expect-json': stringOrList("JSON checks: 'path' (exists) or 'path=value'.", { minLength: 1 }),
  workers: { description: 'Worker threads (default 1).', type: 'integer', minimum: 1 },
  seed: { description: 'Seed for {{uuid}} and {{randomInt}}, so a run can be repeated.', type: 'integer', minimum: 0 },
  redact: stringOrList('Further header names whose values are secret.', { minLength: 1 }),
  thresholds: stringOrList("Pass/fail rules: 'success_rate>=0.95', 'p99<300ms', 'recovery<5s', 'amplification<=2'.", { minLength: 1 }),
  faults: {
    description: 'Chaos: provider name → fault settings for the whole scenario.',
    type: 'object',
    propertyNames: { pattern: NAME_PATTERN },
    additionalProperties: { $ref: '#/definitions/providerFaults' },
  },
  phases: {
    description: 'Chaos: timed changes of fault settings, from the start of the scenario.',
    type: 'array',
    items: { $ref: '#/definitions/phase' },
  },
};

/** The campaign file's JSON Schema (draft-07). */
export const CAMPAIGN_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://resil.dev/schema/resil.schema.json',
  title: 'resil campaign',
  description: 'A resil campaign (resil run [FILE], default resil.yaml): chaos proxies, the service under test and the scenarios to run against it.',
  type: 'object',
  additionalProperties: false,
  required: ['scenarios'],
  properties: {
    $schema: { description: 'URI of this schema, for editors.', type: 'string' },
    defaults: {
      description: 'Any scenario field (except name), applied to every scenario that does not set its own.',
      type: 'object',
      additionalProperties: false,
      properties: scenarioFields,
    },
    providers: {
      description: 'Named chaos proxies, each in front of a mock or a real upstream.',
      type: 'object',
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: { $ref: '#/definitions/provider' },
    },
    service: { description: 'The service under test, started before the scenarios and stopped after them.', $ref: '#/definitions/service' },
    scenarios: {
      description: 'The scenarios, run in order.',
      type: 'array',
      minItems: 1,
      items: { $ref: '#/definitions/scenario' },
    },
  },
  definitions: {
    duration: {
      description: "A duration: '500ms', '10s', '2m', '1m30s', '250us'.",
      type: 'string',
      pattern: DURATION_PATTERN,
    },
    stage: {
      description: 'One step of the open model.',
      type: 'object',
      additionalProperties: false,
      required: ['duration', 'rate'],
      properties: {
        duration: { description: 'How long this rate is held.', $ref: '#/definitions/duration' },
        rate: { description: 'Requests per second during the stage.', type: 'number', exclusiveMinimum: 0 },
      },
    },
    scenario: {
      description: 'One scenario: load, or load while faults are injected (chaos).',
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { description: 'Unique name: letters, digits, _ . -', type: 'string', pattern: NAME_PATTERN },
        ...scenarioFields,
      },
    },
    providerFaults: {
      description: 'Fault settings of one provider.',
      type: 'object',
      additionalProperties: false,
      properties: {
        ...faultFields,
        'fault-window': stringOrList("When faults apply, from the start of the scenario: '10s..25s' (or a list).", { pattern: WINDOW_PATTERN }),
      },
    },
    phaseFaults: {
      description: 'Fault settings of one provider while the phase lasts.',
      type: 'object',
      additionalProperties: false,
      properties: faultFields,
    },
    phase: {
      description: 'A timed change: from `at` for `for`, the named providers use these fault settings.',
      type: 'object',
      additionalProperties: false,
      required: ['at', 'for', 'providers'],
      properties: {
        at: { description: 'Start, from the start of the scenario.', $ref: '#/definitions/duration' },
        for: { description: 'How long the phase lasts.', $ref: '#/definitions/duration' },
        providers: {
          description: 'Provider name → fault settings during the phase.',
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: NAME_PATTERN },
          additionalProperties: { $ref: '#/definitions/phaseFaults' },
        },
      },
    },
    provider: {
      description: 'A chaos proxy: listens on `listen` and answers from `mock` or forwards to `upstream` (exactly one).',
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      properties: {
        listen: {
          description: 'Where the proxy listens, as --listen takes it: HOST:PORT (127.0.0.1:9101), :PORT or PORT (9101, on 127.0.0.1).',
          type: ['string', 'integer'],
          pattern: LISTEN_PATTERN,
          minimum: 0,
          maximum: 65535,
        },
        mock: {
          description: 'Answer from a built-in mock: true (all defaults) or its settings.',
          type: ['boolean', 'object'],
          additionalProperties: false,
          properties: {
            status: { description: 'Status of healthy answers (default 200).', type: 'integer', minimum: 100, maximum: 599 },
            body: { description: 'Body of healthy answers.', type: 'string' },
            file: { description: 'Read the body from this file.', type: 'string', minLength: 1 },
            latency: { description: "Time before each answer: '20ms', or '10ms~50ms' uniform.", type: 'string', pattern: LATENCY_PATTERN },
          },
        },
        upstream: { description: 'The real dependency to forward to (http:// or https://).', type: 'string', pattern: HTTP_URL_PATTERN },
        replay: { description: 'Answer from the recordings in this HAR 1.2 file (with upstream: unmatched calls go there; without: 501).', type: 'string', minLength: 1 },
        'replay-timing': { description: "Replayed latencies and chunk gaps: 'recorded' (default), 'none' or 'scale:2'.", type: 'string', pattern: '^(recorded|none|scale:\\d+(\\.\\d+)?)$' },
        record: { description: 'Record every forwarded exchange to this HAR 1.2 file (needs upstream).', type: 'string', minLength: 1 },
      },
    },
    service: {
      description: 'The service under test: started through the shell and polled until ready.',
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      properties: {
        command: { description: 'Shell command that starts the service.', type: 'string', minLength: 1 },
        env: {
          description: 'Extra environment variables for the service.',
          type: 'object',
          propertyNames: { pattern: ENV_NAME_PATTERN },
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        ready: { description: 'URL polled until it answers 2xx.', type: 'string', pattern: HTTP_URL_PATTERN },
        'ready-timeout': { description: 'How long to wait for ready (default 15s).', $ref: '#/definitions/duration', default: '15s' },
      },
    },
  },
};

import { LOAD_OPTIONS, type LoadOptions } from '../engine/options.js';
import { POLICY_OPTIONS } from '../engine/policy-options.js';
import { FAULT_OPTIONS, PROVIDER_OPTIONS, type FaultSettings } from '../proxy/config.js';
import type { MockSettings } from '../proxy/mock.js';
import type { ProxyOptions } from '../proxy/proxy.js';
import { schemaProperties } from '../util/option-table.js';
import { HALT_OPTIONS, type HaltSettings } from '../halt/plan.js';
import { DURATION_PATTERN, ENV_NAME_PATTERN, HTTP_URL_PATTERN, NAME_PATTERN } from '../util/schema-patterns.js';

/**
 * The campaign file (`resil run [FILE]`, default resil.yaml): its JSON Schema and the TypeScript
 * types of the parsed campaign.
 *
 * The file uses kebab-case keys like the CLI flags. The parsed campaign (what `loadCampaign`
 * returns) uses the camelCase names of the library's own option types (LoadOptions, FaultSettings,
 * MockSettings), so a scenario maps onto LoadOptions and a provider's faults onto FaultSettings
 * field for field. Durations stay the strings the user wrote ('500ms', '10s', '1m30s'). The schema
 * of every option, and its key in the file, come from the option tables (LOAD_OPTIONS,
 * POLICY_OPTIONS, FAULT_OPTIONS, PROVIDER_OPTIONS).
 *
 * schema/resil.schema.json is this same schema as a file, for editors (`npm run schema` writes it;
 * a test keeps the two equal):
 *   # yaml-language-server: $schema=./schema/resil.schema.json
 */

/** A duration as the user wrote it: '500ms', '10s', '2m', '1m30s', '250us' (a bare number is not one, except 0). */
export type CampaignDuration = string;

/**
 * Fault settings of one provider (FaultSettings without the seed, which the scenario's seed gives);
 * windows from the start of the scenario.
 */
export type ProviderFaults = Omit<FaultSettings, 'seed'>;

/** Fault settings inside a phase: the phase itself is the window. */
export type PhaseFaults = Omit<ProviderFaults, 'windows'>;

/** A timed change of fault settings, from the start of the scenario. */
export interface CampaignPhase {
  at: CampaignDuration;
  for: CampaignDuration;
  /** Provider name → its fault settings while the phase lasts. */
  providers: Record<string, PhaseFaults>;
}

/** The built-in mock behind a provider (`mock: true` in the file parses to {}). */
export type CampaignMock = MockSettings;

/** A named chaos proxy: `mock`, `upstream`, or `replay` (with or without `upstream`); its fields are ProxyOptions' (PROVIDER_OPTIONS). */
export interface CampaignProvider
  extends Pick<
    ProxyOptions,
    'upstream' | 'replay' | 'replayTiming' | 'replayIgnore' | 'record' | 'redact' | 'correlate' | 'stream' | 'api'
  > {
  /** As --listen takes it: HOST:PORT, :PORT or PORT (a number in YAML: 9101). */
  listen: string;
  mock?: CampaignMock;
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

/**
 * One scenario, with `defaults` already applied (a scenario's own field wins; a scenario that sets
 * stages inherits no rate/duration/requests and vice versa; one that sets body or body-file
 * inherits neither of the two; faults and phases from defaults reach chaos scenarios only). Its
 * load fields are LoadOptions' (LOAD_OPTIONS maps the file's keys; `policy` gathers retries,
 * backoff, retry-on and breaker); durations stay the strings the user wrote.
 */
export interface CampaignScenario extends Omit<LoadOptions, 'url' | 'headers' | 'shard' | 'failover'> {
  name: string;
  type: 'load' | 'chaos';
  url: string;
  headers?: Record<string, string>;
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
  /** Halt conditions (HALT_OPTIONS), for every chaos scenario. */
  halt?: HaltSettings;
  scenarios: CampaignScenario[];
  /**
   * The values the file's ${VAR}s took (and their pieces): messages about the campaign are scrubbed
   * of them. The loader sets it not enumerable, so the campaign prints and compares without it.
   */
  readonly secrets?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// The JSON Schema (draft-07: the draft editors support best). Patterns are plain ECMAScript.

const { 'fault-window': _window, ...phaseFaultFields } = schemaProperties(FAULT_OPTIONS);

const scenarioFields = {
  type: {
    description: 'load: drive load only; chaos: drive load while the providers inject faults.',
    enum: ['load', 'chaos'],
    default: 'load',
  },
  ...schemaProperties(LOAD_OPTIONS),
  ...schemaProperties(POLICY_OPTIONS),
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
  description:
    'A resil campaign (resil run [FILE], default resil.yaml): chaos proxies, the service under test and the scenarios to run against it.',
  type: 'object',
  additionalProperties: false,
  required: ['scenarios'],
  properties: {
    $schema: { description: 'URI of this schema, for editors.', type: 'string' },
    defaults: {
      description:
        'Any scenario field (except name), applied to every scenario that does not set its own; correlate applies to every provider that sets none.',
      type: 'object',
      additionalProperties: false,
      properties: { ...scenarioFields, correlate: schemaProperties(PROVIDER_OPTIONS).correlate },
    },
    providers: {
      description: 'Named chaos proxies, each in front of a mock or a real upstream.',
      type: 'object',
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: { $ref: '#/definitions/provider' },
    },
    service: { description: 'The service under test, started before the scenarios and stopped after them.', $ref: '#/definitions/service' },
    halt: {
      description:
        'Halt conditions, checked from the first chaos scenario on: when one trips, every provider stops injecting ' +
        'for the rest of the campaign (each chaos result is marked halted).',
      type: 'object',
      additionalProperties: false,
      properties: schemaProperties(HALT_OPTIONS),
    },
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
      properties: schemaProperties(FAULT_OPTIONS),
    },
    phaseFaults: {
      description: 'Fault settings of one provider while the phase lasts.',
      type: 'object',
      additionalProperties: false,
      properties: phaseFaultFields,
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
      properties: schemaProperties(PROVIDER_OPTIONS),
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

/** schema/resil.schema.json as `npm run schema` writes it (and the test expects it). */
export function campaignSchemaText(): string {
  return `${JSON.stringify(CAMPAIGN_SCHEMA, null, 2)}\n`;
}

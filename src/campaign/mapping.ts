// The campaign as typed objects: each scenario with defaults applied, its options mapped by the
// option tables (file key → the library's key, converted).
import { LOAD_OPTIONS } from '../engine/options.js';
import { POLICY_OPTIONS, type PolicyOptions } from '../engine/policy-options.js';
import { FAULT_OPTIONS, PROVIDER_OPTIONS } from '../proxy/config.js';
import { optionsFromCampaign } from '../util/option-table.js';
import { HALT_OPTIONS, type HaltSettings } from '../halt/plan.js';
import type { Raw } from './check-context.js';
import { mergeDefaults } from './defaults.js';
import type {
  Campaign,
  CampaignPhase,
  CampaignProvider,
  CampaignScenario,
  CampaignService,
  PhaseFaults,
  ProviderFaults,
} from './schema.js';

export function buildCampaign(file: string, root: Raw): Campaign {
  const providers: Record<string, CampaignProvider> = {};
  // defaults.correlate: the correlation of every provider that sets none.
  const correlate = (root.defaults as Raw | undefined)?.correlate as string | undefined;
  for (const [name, raw] of Object.entries((root.providers as Raw | undefined) ?? {})) {
    providers[name] = toProvider(raw as Raw);
    if (correlate !== undefined) providers[name].correlate ??= correlate;
  }
  const campaign: Campaign = {
    file,
    providers,
    scenarios: (root.scenarios as Raw[]).map((scenario) => toScenario(mergeDefaults(scenario, root.defaults as Raw | undefined))),
  };
  if (root.service !== undefined) campaign.service = toService(root.service as Raw);
  if (root.halt !== undefined) campaign.halt = optionsFromCampaign<HaltSettings>(HALT_OPTIONS, root.halt as Raw);
  return campaign;
}

/** Copies the fields present in `raw`, renamed (file key → parsed key) and converted. */
function pick<T>(raw: Raw, fields: Record<string, string | [string, (value: unknown) => unknown]>): T {
  const out: Raw = {};
  for (const [from, to] of Object.entries(fields)) {
    if (raw[from] === undefined) continue;
    if (typeof to === 'string') out[to] = raw[from];
    else out[to[0]] = to[1](raw[from]);
  }
  return out as T;
}

function mapValues<T>(raw: unknown, fn: (value: Raw) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(raw as Raw).map(([key, value]) => [key, fn(value as Raw)]));
}

function toPhase(raw: Raw): CampaignPhase {
  const providers = mapValues(raw.providers, (value) => optionsFromCampaign<PhaseFaults>(FAULT_OPTIONS, value));
  return { at: raw.at as string, for: raw.for as string, providers };
}

/** The scenario's options as the tables map them (LOAD_OPTIONS; POLICY_OPTIONS into `policy`), plus the runner's own fields. */
function toScenario(raw: Raw): CampaignScenario {
  const scenario: CampaignScenario = {
    name: raw.name as string,
    type: raw.type as CampaignScenario['type'],
    ...optionsFromCampaign<Omit<CampaignScenario, 'name' | 'type'>>(LOAD_OPTIONS, raw),
  };
  const policy = optionsFromCampaign<PolicyOptions>(POLICY_OPTIONS, raw);
  if (Object.keys(policy).length > 0) scenario.policy = policy;
  if (raw.faults !== undefined) {
    scenario.faults = mapValues(raw.faults, (value) => optionsFromCampaign<ProviderFaults>(FAULT_OPTIONS, value));
  }
  if (raw.phases !== undefined) scenario.phases = (raw.phases as Raw[]).map(toPhase);
  return scenario;
}

function toProvider(raw: Raw): CampaignProvider {
  return optionsFromCampaign<CampaignProvider>(PROVIDER_OPTIONS, raw);
}

function toService(raw: Raw): CampaignService {
  return pick<CampaignService>(raw, {
    command: 'command',
    env: ['env', (value) => mapValues(value, (v) => String(v))],
    ready: 'ready',
    'ready-timeout': 'readyTimeout',
  });
}

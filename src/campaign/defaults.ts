import type { Raw } from './check-context.js';

const OPEN_MODEL_FIELDS = ['rate', 'duration', 'requests'];

/** The scenario with defaults applied (raw, kebab-case keys). */
export function mergeDefaults(scenario: Raw, defaults: Raw | undefined): Raw {
  if (!defaults) return { ...scenario, type: scenario.type ?? 'load' };
  // correlate in defaults is the providers' (mapping.ts), no scenario field.
  const { correlate: _correlate, ...inherited }: Raw = { ...defaults };
  if (scenario.stages !== undefined) for (const field of OPEN_MODEL_FIELDS) delete inherited[field];
  if (OPEN_MODEL_FIELDS.some((field) => scenario[field] !== undefined)) delete inherited.stages;
  if (scenario.body !== undefined || scenario['body-file'] !== undefined) {
    delete inherited.body;
    delete inherited['body-file'];
  }
  // max-connections in defaults reaches open-model scenarios only (the closed model refuses it).
  if (scenario.rate === undefined && scenario.stages === undefined && inherited.rate === undefined && inherited.stages === undefined)
    delete inherited['max-connections'];
  const type = scenario.type ?? defaults.type ?? 'load';
  if (type !== 'chaos') {
    delete inherited.faults;
    delete inherited.phases;
  }
  return { ...inherited, ...scenario, type };
}

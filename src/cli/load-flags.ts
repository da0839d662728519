import { LOAD_OPTIONS, type LoadOptions } from '../engine/options.js';
import { COMMAND_OPTIONS } from './command-options.js';
import { flagFor, flagsOf, optionsFromFlags } from './option-flags.js';

/** The flags of `resil load` (and of every command that drives load): LOAD_OPTIONS, then where the run reports. */
export const loadFlags = {
  ...flagsOf(LOAD_OPTIONS, { command: 'load' }),
  'metrics-port': flagFor(COMMAND_OPTIONS.metricsPort),
  'status-every': flagFor(COMMAND_OPTIONS.statusEvery),
  out: flagFor(COMMAND_OPTIONS.out),
};

/** Maps parsed flags onto the library's options. Validation happens in buildLoadPlan. */
export function loadOptionsFromFlags(url: string | undefined, flags: Record<string, unknown>): LoadOptions {
  return { ...optionsFromFlags<Omit<LoadOptions, 'url'>>(LOAD_OPTIONS, flags), url: url ?? '' };
}

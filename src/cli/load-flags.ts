import { Flags } from '@oclif/core';
import { LOAD_OPTIONS, type LoadOptions } from '../engine/options.js';
import { outFlagSummary } from '../report/outputs.js';
import { flagsOf, optionsFromFlags } from './option-flags.js';

/** The flags of `resil load` (and of every command that drives load): LOAD_OPTIONS, then where the run reports. */
export const loadFlags = {
  ...flagsOf(LOAD_OPTIONS),
  'metrics-port': Flags.integer({ summary: 'Serve live Prometheus metrics on 127.0.0.1 at this port during the run.' }),
  out: Flags.string({ char: 'o', summary: outFlagSummary('the result'), multiple: true, multipleNonGreedy: true }),
};

/** Maps parsed flags onto the library's options. Validation happens in buildLoadPlan. */
export function loadOptionsFromFlags(url: string | undefined, flags: Record<string, unknown>): LoadOptions {
  return { ...optionsFromFlags<Omit<LoadOptions, 'url'>>(LOAD_OPTIONS, flags), url: url ?? '' };
}

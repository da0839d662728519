import { Flags } from '@oclif/core';
import { POLICY_OPTIONS, type PolicyOptions } from '../engine/policy-options.js';
import { flagsOf, optionsFromFlags } from './option-flags.js';

/** Policy mode: the client-side resilience policy resil's own client applies. */
export const policyFlags = {
  ...flagsOf(POLICY_OPTIONS),
  failover: Flags.string({
    summary: 'Policy mode: a further upstream tried when the first fails (repeatable; each behind its own proxy).',
    multiple: true,
    multipleNonGreedy: true,
  }),
};

export function policyOptionsFromFlags(flags: Record<string, unknown>): PolicyOptions {
  return optionsFromFlags<PolicyOptions>(POLICY_OPTIONS, flags);
}

import { POLICY_OPTIONS, type PolicyOptions } from '../engine/policy-options.js';
import { COMMAND_OPTIONS } from './command-options.js';
import { flagFor, flagsOf, optionsFromFlags } from './option-flags.js';

/**
 * Policy mode: the client-side resilience policy resil's own client applies. --failover is no policy
 * option: it names more upstreams (LoadOptions.failover, each behind its own proxy), and a campaign
 * says failover with its providers, so it has no campaign key in POLICY_OPTIONS to share.
 */
export const policyFlags = {
  ...flagsOf(POLICY_OPTIONS, { prefix: 'Policy mode: ' }),
  failover: flagFor(COMMAND_OPTIONS.failover),
};

export function policyOptionsFromFlags(flags: Record<string, unknown>): PolicyOptions {
  return optionsFromFlags<PolicyOptions>(POLICY_OPTIONS, flags);
}

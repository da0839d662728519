import { Flags } from '@oclif/core';
import type { PolicyOptions } from '../engine/policy-options.js';

/** Policy mode: the client-side resilience policy resil's own client applies. */
export const policyFlags = {
  retries: Flags.integer({ summary: 'Policy mode: retries after the first attempt.', default: 3 }),
  backoff: Flags.string({ summary: "Policy mode: 'exp:100ms' (exponential, full jitter) or 'fixed:50ms'.", default: 'exp:100ms' }),
  'retry-on': Flags.string({ summary: "Policy mode: what is retried: '5xx,429,timeout,reset' (Retry-After is honoured).", default: '5xx,429,timeout,reset' }),
  breaker: Flags.string({ summary: "Policy mode: circuit breaker 'FAILURES/COOLDOWN', e.g. 5/10s." }),
  failover: Flags.string({ summary: 'Policy mode: a further upstream tried when the first fails (repeatable; each behind its own proxy).', multiple: true, multipleNonGreedy: true }),
};

export function policyOptionsFromFlags(flags: Record<string, unknown>): PolicyOptions {
  const options: PolicyOptions = { retries: flags.retries as number, backoff: flags.backoff as string, retryOn: flags['retry-on'] as string };
  if (flags.breaker !== undefined) options.breaker = flags.breaker as string;
  return options;
}

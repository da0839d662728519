import { type BehaviourMetricName, measureBehaviour, sentence, why } from '../behaviour/measure.js';
import type { MetricKind } from '../model/result.js';
import type { Metric } from './metric.js';

/**
 * The dependency-behaviour metrics (issue #12): what the service did with its dependency calls, as
 * the chaos proxies saw them (retries, backoff, Retry-After, timeouts, breakers, failover). Measured
 * from a result's `behaviour` section by src/behaviour/measure.ts, per provider with `NAME{provider}`.
 * A metric whose situation never arose is no data, and its verdict's note says which fault would
 * exercise it; a failed one says in plain words what the service did.
 */

interface Entry {
  name: BehaviourMetricName;
  kind: MetricKind;
  unit: string;
  better: 'higher' | 'lower';
  description: string;
  /** Infinity means the service never did it (gave up, opened, came back). */
  never?: true;
}

const ENTRIES: readonly Entry[] = [
  { name: 'attempts_max', kind: 'count', unit: 'attempts', better: 'lower', description: 'most dependency calls one logical request took' },
  {
    name: 'attempts_mean',
    kind: 'factor',
    unit: 'attempts/request',
    better: 'lower',
    description: 'dependency calls per logical request, on average',
  },
  {
    name: 'retries',
    kind: 'count',
    unit: 'calls',
    better: 'lower',
    description: 'dependency calls that were not the first attempt of their request',
  },
  {
    name: 'retry_delay_min',
    kind: 'duration',
    unit: 'ms',
    better: 'higher',
    description: "shortest time from a failed attempt's end to the next attempt at the same provider",
  },
  {
    name: 'retry_delay_p50',
    kind: 'duration',
    unit: 'ms',
    better: 'higher',
    description: "median time from a failed attempt's end to the next attempt at the same provider",
  },
  {
    name: 'backoff_growth',
    kind: 'factor',
    unit: '× per retry',
    better: 'higher',
    description: 'median ratio of successive retry delays within a request (2.0 = doubling; 1.0 = fixed)',
  },
  {
    name: 'retry_jitter',
    kind: 'factor',
    unit: 'CV',
    better: 'higher',
    description: 'coefficient of variation of first-retry delays across requests (0 = every caller in lockstep)',
  },
  {
    name: 'retry_after_violations',
    kind: 'count',
    unit: 'retries',
    better: 'lower',
    description: 'retries to the same provider sent sooner than the Retry-After the proxy sent',
  },
  {
    name: 'non_retryable_retries',
    kind: 'count',
    unit: 'retries',
    better: 'lower',
    description: 'retries after a 400, 401, 403, 404, 409, 422 or 501',
  },
  {
    name: 'unsafe_retries',
    kind: 'count',
    unit: 'retries',
    better: 'lower',
    description: 'retries of POST or PATCH calls without an Idempotency-Key',
  },
  {
    name: 'dependency_timeout',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: 'median time the service waited on a call the proxy held (timeout) before giving up: its effective timeout',
    never: true,
  },
  {
    name: 'dependency_timeout_max',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: 'longest time the service waited on a call the proxy held (timeout) before giving up',
    never: true,
  },
  {
    name: 'breaker_open_after',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description:
      'in a window failing every call to a provider, time from its start until new requests to it fell below 10% of their rate before it',
    never: true,
  },
  {
    name: 'breaker_probes',
    kind: 'rate',
    unit: 'calls/s',
    better: 'lower',
    description: 'new requests per second to a provider while it stays failed, once its breaker opened (half-open probes)',
  },
  {
    name: 'breaker_close_after',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: "time from a failing window's end until new requests to the provider returned to 90% of their rate before it",
    never: true,
  },
  {
    name: 'failover_delay',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: "median time from a failed attempt at one provider to the same request's attempt at another",
  },
  {
    name: 'failover_delay_p99',
    kind: 'duration',
    unit: 'ms',
    better: 'lower',
    description: "99th percentile of the time from a failed attempt at one provider to the same request's attempt at another",
  },
  {
    name: 'retry_storm',
    kind: 'factor',
    unit: '× the rate before',
    better: 'lower',
    description: 'per fault window, dependency calls per second inside it ÷ before it (the largest)',
  },
];

export const BEHAVIOUR_METRICS: readonly Metric[] = ENTRIES.map(
  ({ name, never, description, ...entry }): Metric => ({
    name,
    ...entry,
    description: `chaos: ${description}`,
    chaos: true,
    perProvider: true,
    // No value: the situation never arose (why() says which fault would exercise it).
    absent: 'n/a',
    measure: (s, _percentile, provider) => measureBehaviour(name, s.behaviour, provider),
    ...(never ? { infinite: 'never' } : {}),
    // No value: why, and which fault would exercise it; a value: what the service did, in plain words.
    explain: (_actual, s, provider) => why(name, s.behaviour, provider) ?? sentence(name, s.behaviour, provider),
  }),
);

import {
  ConstantBackoff,
  ExponentialBackoff,
  fullJitterGenerator,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
} from 'cockatiel';
import { tryParseDuration } from '../util/duration.js';
import type { OptionProblem, OptionTable } from '../util/option-table.js';

/** Client-side resilience policy for policy mode: what resil's own client does on failure. */
export interface PolicyOptions {
  /** Retries after the first attempt (default 3; 0 allowed). */
  retries?: number;
  /** 'exp:100ms' (exponential, full jitter) or 'fixed:50ms'. */
  backoff?: string;
  /** What is retried: '5xx,429,timeout,reset' (also 4xx, a code like 503, closed, refused, body, stream). */
  retryOn?: string;
  /** 'N/DURATION': open after N consecutive failures, half-open after DURATION ('5/10s'). */
  breaker?: string;
}

/**
 * The policy options (PolicyOptions), as flags of `resil chaos` (policy mode; their help lines open with
 * 'Policy mode:') and as scenario fields of a campaign.
 */
export const POLICY_OPTIONS = {
  retries: {
    flag: 'retries',
    type: 'integer',
    summary: "resil's own client retries a failed request this many times after the first attempt.",
    default: 3,
    campaign: 'retries',
    schema: { type: 'integer', minimum: 0 },
    shown: 'plain',
  },
  backoff: {
    flag: 'backoff',
    type: 'string',
    summary: "Wait between retries: 'exp:100ms' (exponential, full jitter) or 'fixed:50ms'.",
    default: 'exp:100ms',
    campaign: 'backoff',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  retryOn: {
    flag: 'retry-on',
    type: 'string',
    summary: 'What is retried (Retry-After is honoured): 5xx, 4xx, a status code, timeout, reset, closed, refused, body, stream.',
    default: '5xx,429,timeout,reset',
    campaign: 'retry-on',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
  breaker: {
    flag: 'breaker',
    type: 'string',
    summary: "Circuit breaker of resil's own client: 'FAILURES/COOLDOWN', e.g. 5/10s.",
    campaign: 'breaker',
    schema: { type: 'string', minLength: 1 },
    shown: 'plain',
  },
} as const satisfies OptionTable;

export interface PolicyPlan {
  retries: number;
  backoff: IBackoffFactory<IRetryBackoffContext<unknown>>;
  backoffSource: string;
  /** Retryable statuses (1000-entry table) and error classes. */
  retryStatus: Uint8Array;
  retryClasses: ReadonlySet<string>;
  breaker: { threshold: number; halfOpenAfterMs: number } | undefined;
}

/** Longest Retry-After resil honours (ms): a provider asking for more is treated as this. */
export const MAX_RETRY_AFTER_MS = 30_000;
/** Cap of one exponential backoff delay (ms). */
const MAX_BACKOFF_MS = 10_000;

/** Validates the policy; each problem goes to `report` (field: its key in POLICY_OPTIONS), for the front end to word. */
export function buildPolicyPlan(options: PolicyOptions, report: (problem: OptionProblem) => void): PolicyPlan {
  const retries = options.retries ?? POLICY_OPTIONS.retries.default;
  if (!(Number.isInteger(retries) && retries >= 0))
    report({ field: 'retries', message: `'${options.retries}' must be a whole number >= 0` });
  const backoffSource = options.backoff ?? POLICY_OPTIONS.backoff.default;
  const base = parseBackoff(backoffSource, report);
  const retryStatus = new Uint8Array(1000);
  const retryClasses = new Set<string>();
  for (const raw of (options.retryOn ?? POLICY_OPTIONS.retryOn.default).split(',')) {
    const item = raw.trim().toLowerCase();
    if (/^[45]xx$/.test(item)) retryStatus.fill(1, Number(item[0]) * 100, Number(item[0]) * 100 + 100);
    else if (/^\d{3}$/.test(item) && Number(item) >= 400 && Number(item) <= 599) retryStatus[Number(item)] = 1;
    else if (['timeout', 'reset', 'closed', 'refused', 'body', 'stream', 'other'].includes(item)) retryClasses.add(item);
    else
      report({
        field: 'retryOn',
        message: `'${raw.trim()}' is not 5xx, 4xx, a status code, timeout, reset, closed, refused, body or stream`,
      });
  }
  let breaker: PolicyPlan['breaker'];
  if (options.breaker !== undefined) {
    const match = /^(\d+)\/(.+)$/.exec(options.breaker.trim());
    const halfOpenAfterMs = match ? tryParseDuration(match[2]!) : undefined;
    if (!match || Number(match[1]) < 1 || halfOpenAfterMs === undefined || halfOpenAfterMs <= 0) {
      report({ field: 'breaker', message: `'${options.breaker}' must be FAILURES/COOLDOWN, e.g. 5/10s` });
    } else {
      breaker = { threshold: Number(match[1]), halfOpenAfterMs };
    }
  }
  return { retries, backoff: honourRetryAfter(base), backoffSource, retryStatus, retryClasses, breaker };
}

function parseBackoff(text: string, report: (problem: OptionProblem) => void): IBackoffFactory<unknown> {
  const match = /^(exp|fixed):(.+)$/.exec(text.trim());
  const ms = match ? tryParseDuration(match[2]!) : undefined;
  if (!match || ms === undefined) {
    report({ field: 'backoff', message: `'${text}' must be exp:DURATION or fixed:DURATION, e.g. exp:100ms` });
    return new ConstantBackoff(0);
  }
  return match[1] === 'exp'
    ? new ExponentialBackoff({ initialDelay: ms, maxDelay: MAX_BACKOFF_MS, generator: fullJitterGenerator })
    : new ConstantBackoff(ms);
}

/** A failed attempt (an outcome the retry handles, or an error) may carry the server's Retry-After (ms): a retry waits that long. */
export interface RetryAfterCarrier {
  retryAfterMs?: number;
}

/** Wraps a backoff so a failure that carried Retry-After waits for it (capped) instead of the backoff's own delay, if longer. */
function honourRetryAfter(base: IBackoffFactory<unknown>): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const step = (inner: IBackoffFactory<unknown>, context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => {
    const next = inner.next(context);
    const failure = ('error' in context.result ? context.result.error : context.result.value) as RetryAfterCarrier | undefined;
    const asked = failure?.retryAfterMs;
    const duration = asked === undefined ? next.duration : Math.max(next.duration, Math.min(asked, MAX_RETRY_AFTER_MS));
    return { duration, next: (ctx) => step(next, ctx) };
  };
  return { next: (context) => step(base, context) };
}

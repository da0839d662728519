import {
  attemptsMax,
  attemptsMean,
  backoffGrowth,
  breakerCloseAfter,
  breakerOpenAfter,
  breakerProbes,
  dependencyTimeout,
  dependencyTimeoutMax,
  failoverDelay,
  failoverDelayP99,
  retryDelayMin,
  retryDelayP50,
  retryJitter,
  retryStorm,
} from '../behaviour/measure.js';
import type { BehaviourDocument, CorrelationCoverage, ProviderBehaviour } from '../model/behaviour.js';
import { formatCount, formatFactor, formatMs, formatPercent, formatRate } from '../util/format.js';

/**
 * The dependency behaviour as the terminal, the step summary and the HTML report show it: one column
 * per provider (and one over all of them when there are several), one row per thing the service did
 * with its calls, each figure measured as the threshold metrics measure it (src/behaviour/measure.ts).
 * A figure whose situation never arose is '-'; one that never came (a breaker that never opened) is 'never'.
 */

export interface BehaviourTable {
  /** The columns' names: the providers, then 'all' when there are several. */
  columns: string[];
  rows: Array<{ label: string; cells: string[] }>;
}

/** The share of calls below which correlation is too blind to trust the verdicts, and what to do about it. */
export const LOW_COVERAGE = 0.9;
export const COVERAGE_ADVICE =
  'propagate X-Request-Id or traceparent from the incoming request to dependency calls, send an Idempotency-Key, ' +
  'or use --correlate header:NAME (correlate: in a campaign)';

/** The rows, in the order a reader follows a request: attempts, retries, Retry-After, timeouts, breaker, failover. */
const ROWS: ReadonlyArray<{ label: string; cell: (b: ProviderBehaviour) => string; detail?: true }> = [
  { label: 'calls', cell: (b) => formatCount(b.calls) },
  { label: 'requests', cell: (b) => formatCount(b.requests), detail: true },
  { label: 'attempts max / mean', cell: (b) => pair(count(attemptsMax(b)), factor(attemptsMean(b))) },
  { label: 'retries', cell: (b) => formatCount(b.retries) },
  { label: 'retry delay min / p50', cell: (b) => pair(ms(retryDelayMin(b)), ms(retryDelayP50(b))) },
  { label: 'backoff growth', cell: (b) => factor(backoffGrowth(b), '×'), detail: true },
  { label: 'retry jitter (CV)', cell: (b) => factor(retryJitter(b)), detail: true },
  {
    label: 'Retry-After followed / too soon',
    cell: (b) => (b.retryAfter.sent === 0 ? NONE : pair(formatCount(b.retryAfter.followed), formatCount(b.retryAfter.violations))),
  },
  {
    label: 'non-retryable / unsafe retries',
    cell: (b) => pair(b.nonRetryable.answered === 0 ? NONE : formatCount(b.nonRetryable.retries), formatCount(b.unsafeRetries)),
  },
  {
    label: 'timeouts held: waited p50 / max',
    cell: (b) =>
      b.timeouts.held === 0
        ? NONE
        : b.timeouts.never === b.timeouts.held
          ? `${formatCount(b.timeouts.held)}: none given up on`
          : `${formatCount(b.timeouts.held)}: ${pair(ms(dependencyTimeout(b)), ms(dependencyTimeoutMax(b)))}` +
            (b.timeouts.never > 0 ? `, ${formatCount(b.timeouts.never)} never given up` : ''),
  },
  {
    label: 'breaker open after / probes / close after',
    cell: (b) => {
      const open = breakerOpenAfter(b);
      if (open === null) return NONE;
      const probes = breakerProbes(b);
      return [ms(open), probes === null ? NONE : formatRate(probes), ms(breakerCloseAfter(b))].join(' / ');
    },
  },
  {
    label: 'failovers: delay p50 / p99',
    cell: (b) =>
      b.failover.count === 0 ? '0' : `${formatCount(b.failover.count)}: ${pair(ms(failoverDelay(b)), ms(failoverDelayP99(b)))}`,
  },
  { label: 'retry storm (rate inside ÷ before)', cell: (b) => factor(retryStorm(b), '×') },
];

/** What a figure whose situation never arose shows. */
const NONE = '-';

/** The table; `compact` (the step summary) leaves out requests, backoff growth and jitter. */
export function behaviourTable(behaviour: BehaviourDocument, options: { compact?: boolean } = {}): BehaviourTable {
  const providers = Object.entries(behaviour.providers);
  const columns: Array<[string, ProviderBehaviour]> = providers.length > 1 ? [...providers, ['all', behaviour.overall]] : providers;
  return {
    columns: columns.map(([name]) => name),
    rows: ROWS.filter((row) => !(options.compact && row.detail)).map(({ label, cell }) => ({
      label,
      cells: columns.map(([, b]) => cell(b)),
    })),
  };
}

/**
 * How much of the verdicts rests on knowing which calls belong to which request: 'correlation 96.4%
 * of 582 calls carried one of resil's request ids (idempotency-key 557 · body 21)'; below 90%, the
 * `warning` every report shows instead says what to change.
 */
export function coverageLine(correlation: CorrelationCoverage): { text: string; low: boolean; warning?: string } {
  const { calls, matched, keyedBy } = correlation;
  if (calls === 0) return { text: 'correlation: no dependency call observed', low: false };
  const share = matched / calls;
  const sources = Object.entries(keyedBy)
    .sort((a, b) => b[1] - a[1])
    .map(([source, n]) => `${source} ${formatCount(n)}`)
    .join(' · ');
  const text = `correlation: ${formatPercent(share)} of ${formatCount(calls)} calls carried one of resil's request ids (keyed by ${sources})`;
  if (share >= LOW_COVERAGE) return { text, low: false };
  const warning = `${text}: below ${LOW_COVERAGE * 100}%, so retries may be miscounted: ${COVERAGE_ADVICE}`;
  return { text, low: true, warning };
}

function pair(a: string, b: string): string {
  return `${a} / ${b}`;
}

function ms(value: number | null): string {
  if (value === null) return NONE;
  return Number.isFinite(value) ? formatMs(value) : 'never';
}

function count(value: number | null): string {
  return value === null ? NONE : formatCount(value);
}

function factor(value: number | null, unit?: string): string {
  return value === null ? NONE : `${formatFactor(value)}${unit ?? ''}`;
}

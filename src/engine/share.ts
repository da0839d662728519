import type { LoadPlan } from './plan.js';

// How a run's requests and connections split over shards (processes or machines) and their worker
// threads, exactly: the parts add up to the unsharded, single-threaded run.

/**
 * One executor's part of the run. With worker threads each thread runs one share; requests are
 * numbered globally, share k taking indexes k, k+n, k+2n... so shares together equal the whole run.
 */
export interface Share {
  index: number;
  count: number;
  /** Connections opened at the start (closed model: all of them). */
  concurrency: number;
  /** Open model: the most connections this share may open, on demand. */
  maxConnections: number;
  /** Requests this share sends, if the run is bounded by count (open model: always, from the schedule). */
  requests: number | undefined;
  /** Run start on this thread's performance.now() clock (ms). */
  startMs: number;
}

/** Splits `total` into `count` near-equal whole parts; part k gets the remainder's extra one first. */
export function splitEvenly(total: number, count: number, k: number): number {
  return Math.floor(total / count) + (k < total % count ? 1 : 0);
}

/** Shard i of m's part of `total` over its n worker threads (worker k takes share k·m + i of m·n, as in shareOf). */
export function shardShare(total: number, shard: { index: number; count: number }, workers: number): number {
  let sum = 0;
  for (let k = 0; k < workers; k++) sum += splitEvenly(total, workers * shard.count, k * shard.count + shard.index);
  return sum;
}

/**
 * The share of worker k (of n) of this process's shard: shard i of m and worker k together take
 * share k·m + i of m·n, so the shards' workers interleave over the whole run's request numbers and
 * connections, and m shards of n workers add up to exactly the unsharded run.
 */
export function shareOf(plan: LoadPlan, k: number, n: number, startMs: number): Share {
  const totalRequests = plan.model === 'open' ? plan.arrivals!.total : plan.requests;
  const count = n * plan.shard.count;
  const index = k * plan.shard.count + plan.shard.index;
  return {
    index,
    count,
    concurrency: splitEvenly(plan.concurrency, count, index),
    maxConnections: splitEvenly(plan.maxConnections, count, index),
    requests: totalRequests === undefined ? undefined : splitEvenly(totalRequests, count, index),
    startMs,
  };
}

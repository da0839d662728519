import type { CallSeries, WindowBehaviour } from '../model/behaviour.js';

/**
 * Fault windows judged for breaker behaviour and retry storms from a provider's calls-per-bin series
 * alone, so the observer and `resil report --merge` (summed series) judge them the same way.
 *
 * Resolution: calls are counted in bins of BIN_MS (100 ms) by arrival; a rate is judged over a span
 * of SPAN_BINS bins (500 ms). Retry storms compare every call; breakers compare first attempts (new
 * requests: what a breaker holds back), so retries spilling over from an earlier window do not count.
 * A breaker's moment is the start of the first span that shows the change (first attempts fall
 * below, or come back above, the bound from that bin on), so breaker times are multiples of 100 ms
 * within one bin of the true moment, and a breaker that opens or closes for less than 500 ms is not
 * seen. A window's own bins are those wholly inside it (windows on whole 100 ms, as `@2s-4s`, lose nothing).
 */

export const BIN_MS = 100;
const SPAN_BINS = 5;
/** The rate before a window is taken over up to this long before it (ms)... */
const BEFORE_MS = 5000;
/** ...and breaker figures need at least this much of it (ms). */
const MIN_BEFORE_MS = 1000;
/** A breaker is open once a span's rate falls below this share of the rate before the window... */
const OPEN_BELOW = 0.1;
/** ...and closed again once a span's rate is back to this share. */
const CLOSED_AT = 0.9;

export interface FaultWindow {
  source: string;
  startMs: number;
  endMs: number;
  /** This window's fault is `down`: the listener closes, refused calls never reach it, no breaker is judged. */
  down: boolean;
}

export function emptySeries(): CallSeries {
  return { calls: [], failed: [], first: [] };
}

/** Pads a series with empty bins up to `bins` long (the run's end). */
export function padSeries(series: CallSeries, bins: number): void {
  while (series.calls.length < bins) series.calls.push(0);
  while (series.failed.length < bins) series.failed.push(0);
  while (series.first.length < bins) series.first.push(0);
}

/**
 * Each window of a provider judged on its series; the series' length is the run's end. The rate
 * before a window starts no earlier than the end of the provider's previous window.
 */
export function judgeWindows(series: CallSeries, windows: readonly FaultWindow[], binMs: number): WindowBehaviour[] {
  const runBins = series.calls.length;
  return windows.map((window) => {
    const first = Math.ceil(window.startMs / binMs);
    const end = Math.min(Math.floor(window.endMs / binMs), runBins);
    const previousEnd = Math.max(0, ...windows.filter((w) => w.endMs <= window.startMs).map((w) => Math.ceil(w.endMs / binMs)));
    const beforeEnd = Math.min(Math.floor(window.startMs / binMs), runBins);
    const beforeStart = Math.max(0, beforeEnd - BEFORE_MS / binMs, previousEnd);
    const rateBefore = rate(series.calls, beforeStart, beforeEnd, binMs);
    // Breakers hold back new requests: judged on first attempts.
    const firstCalls = series.first;
    const firstRateBefore = rate(firstCalls, beforeStart, beforeEnd, binMs);
    const inside = sum(series.calls, first, end);
    const failedEveryCall = inside > 0 && sum(series.failed, first, end) === inside;
    const judged: WindowBehaviour = {
      window: window.source,
      startMs: window.startMs,
      endMs: window.endMs,
      down: window.down,
      failedEveryCall,
      rateBefore,
      rateInside: rate(series.calls, first, end, binMs),
      firstRateBefore,
      breakerOpenAfterMs: null,
      breakerProbesPerSecond: null,
      breakerCloseAfterMs: null,
    };
    // A window shorter than a span, or without a second of calls before it, cannot show a breaker: not judged.
    const tooShort = end - first < SPAN_BINS || (beforeEnd - beforeStart) * binMs < MIN_BEFORE_MS;
    if (window.down || !failedEveryCall || tooShort || firstRateBefore === 0) return judged;
    const quiet = firstSpan(firstCalls, first, end, binMs, (r) => r < OPEN_BELOW * firstRateBefore);
    if (quiet === undefined) return { ...judged, breakerOpenAfterMs: -1 };
    // Probes: first attempts from the start of the first quiet span, which holds probes too, to the window's end.
    const afterWindow = Math.ceil(window.endMs / binMs);
    const back = firstSpan(firstCalls, afterWindow, runBins, binMs, (r) => r >= CLOSED_AT * firstRateBefore);
    // Not back when the run ended: never, if the run gave it a span to come back in; else not judged.
    const closeAfter = back !== undefined ? Math.max(0, back * binMs - window.endMs) : runBins - afterWindow >= SPAN_BINS ? -1 : null;
    return {
      ...judged,
      breakerOpenAfterMs: Math.max(0, quiet * binMs - window.startMs),
      breakerProbesPerSecond: rate(firstCalls, quiet, end, binMs),
      breakerCloseAfterMs: closeAfter,
    };
  });
}

/** The first bin from `from` whose span of SPAN_BINS bins, wholly before `to`, has a rate that `holds`. */
function firstSpan(
  calls: readonly number[],
  from: number,
  to: number,
  binMs: number,
  holds: (rate: number) => boolean,
): number | undefined {
  for (let bin = from; bin + SPAN_BINS <= to; bin++) if (holds(rate(calls, bin, bin + SPAN_BINS, binMs))) return bin;
  return undefined;
}

/** Calls per second over bins [from, to); 0 over no bins. */
function rate(calls: readonly number[], from: number, to: number, binMs: number): number {
  return to > from ? (sum(calls, from, to) * 1000) / ((to - from) * binMs) : 0;
}

function sum(values: readonly number[], from: number, to: number): number {
  let total = 0;
  for (let i = Math.max(0, from); i < to && i < values.length; i++) total += values[i]!;
  return total;
}

/** A timeline second as the result document has it. */
export interface SecondCounts {
  t: number;
  /** A bucket of this many seconds (long runs); absent: 1. */
  span?: number;
  requests: number;
  ok: number;
}

export interface WindowRecovery {
  window: string;
  /**
   * From the end of the window to the start of the first later second whose success rate is back
   * within `tolerance` of the steady state (the timeline's resolution: 1 s up to an hour); null if it never came back.
   */
  recoveryMs: number | null;
}

/** How far below the steady-state success rate a second may be and still count as recovered (5 points). */
export const RECOVERY_TOLERANCE = 0.05;

/**
 * Steady state: the success rate over the whole seconds before the first fault window. With no
 * such second (a window from the start), a healthy service is assumed: 100%.
 */
export function steadyState(timeline: readonly SecondCounts[], firstWindowStartMs: number): number {
  let requests = 0;
  let ok = 0;
  for (const second of timeline) {
    if ((second.t + (second.span ?? 1)) * 1000 > firstWindowStartMs) break;
    requests += second.requests;
    ok += second.ok;
  }
  return requests === 0 ? 1 : ok / requests;
}

/**
 * Recovery time for each window, computed on the per-second timeline. Seconds without requests, and
 * seconds that overlap another fault window, say nothing about recovery and are skipped.
 */
export function computeRecovery(
  timeline: readonly SecondCounts[],
  windows: ReadonlyArray<{ source: string; startMs: number; endMs: number }>,
  tolerance = RECOVERY_TOLERANCE,
): WindowRecovery[] {
  if (windows.length === 0) return [];
  const baseline = steadyState(timeline, Math.min(...windows.map((w) => w.startMs)));
  return windows.map((window) => {
    for (const second of timeline) {
      const startMs = second.t * 1000;
      const spanMs = (second.span ?? 1) * 1000;
      if (startMs < window.endMs || second.requests === 0) continue;
      if (windows.some((other) => other !== window && startMs < other.endMs && startMs + spanMs > other.startMs)) continue;
      if (second.ok / second.requests >= baseline - tolerance) return { window: window.source, recoveryMs: startMs - window.endMs };
    }
    return { window: window.source, recoveryMs: null };
  });
}

/** The figure `recovery<5s` is judged on: the slowest window; Infinity if one never recovered. */
export function worstRecoveryMs(recovery: readonly WindowRecovery[]): number | null {
  if (recovery.length === 0) return null;
  return Math.max(...recovery.map((r) => (r.recoveryMs === null ? Number.POSITIVE_INFINITY : r.recoveryMs)));
}

// The chaos proxy's counts, apart from the proxy itself: result documents, `resil report --merge` and
// the chaos verdicts read them without loading undici, HAR or the faults.

/** What the proxy did, counted per call. `injected` is keyed by fault name ('status:503', 'timeout'...). */
export interface ProxyStats {
  /** Dependency calls received. */
  calls: number;
  /** Calls that arrived while faults were asked for: a failure rate above 0, inside a fault window (or with none). */
  eligible: number;
  /** Of those, calls that matched the targeting (--match-*): each drew its chance of a fault. */
  considered: number;
  /** The faults the failure rate asks for: the sum of its value over the considered calls. */
  expected: number;
  /** Calls that reached the upstream (or the mock): exactly what the upstream saw. */
  passedThrough: number;
  injected: Record<string, number>;
  /**
   * Faults drawn but not injected, by fault name: the proxy was halted (a halt condition, POST /halt)
   * or its fault budget was spent (--max-faults, --max-fault-rate). Absent when none was withheld.
   */
  withheld?: Record<string, number>;
  /**
   * Faults drawn that did not apply to the answer, by fault name: the call passed unchanged
   * (`stream-error` on an answer that is no event stream, `stall` on one with nothing after its cut).
   * They are not in `injected`. Absent when there were none.
   */
  notApplicable?: Record<string, number>;
  /** Calls the upstream failed to answer (the client got a 502 or a cut connection). */
  upstreamErrors: number;
  /** Requests naming another host (absolute-form targets), refused with 400: the proxy is not an open proxy. */
  rejected: number;
  /** Replay: calls no recording matched (answered 501, or passed to the upstream when there is one). */
  unmatched: number;
  /** TCP proxies (where `calls` are connections): bytes passed on each way, upstream = client → dependency. */
  bytes?: { upstream: number; downstream: number };
}

/** The fault decider's part of ProxyStats (src/proxy/decide.ts): what it was asked and what it decided. */
export type FaultCounts = Pick<ProxyStats, 'eligible' | 'considered' | 'expected' | 'injected' | 'withheld' | 'notApplicable'>;

/** The transport's part of ProxyStats: what came in and where it went. */
export type TrafficCounts = Omit<ProxyStats, keyof FaultCounts | 'bytes'>;

export function emptyStats(): ProxyStats {
  return joinStats(emptyTrafficCounts(), emptyFaultCounts());
}

export function emptyFaultCounts(): FaultCounts {
  return { eligible: 0, considered: 0, expected: 0, injected: {} };
}

export function emptyTrafficCounts(): TrafficCounts {
  return { calls: 0, passedThrough: 0, upstreamErrors: 0, rejected: 0, unmatched: 0 };
}

/** One proxy's stats from its two parts, in the order result documents show them (`injected` is taken as it is). */
export function joinStats(traffic: TrafficCounts, faults: FaultCounts): ProxyStats {
  return {
    calls: traffic.calls,
    eligible: faults.eligible,
    considered: faults.considered,
    expected: faults.expected,
    passedThrough: traffic.passedThrough,
    injected: faults.injected,
    ...(faults.withheld ? { withheld: faults.withheld } : {}),
    ...(faults.notApplicable ? { notApplicable: faults.notApplicable } : {}),
    upstreamErrors: traffic.upstreamErrors,
    rejected: traffic.rejected,
    unmatched: traffic.unmatched,
  };
}

/**
 * Adds one proxy's counts into another's (the shards of a run, merged). Results written by a resil
 * from before eligible, considered, expected and unmatched were counted have none: they add 0.
 */
export function addStats(into: ProxyStats, from: ProxyStats): void {
  into.calls += from.calls;
  into.eligible += from.eligible ?? 0;
  into.considered += from.considered ?? 0;
  into.expected += from.expected ?? 0;
  into.passedThrough += from.passedThrough;
  into.upstreamErrors += from.upstreamErrors;
  into.rejected += from.rejected;
  into.unmatched += from.unmatched ?? 0;
  for (const [fault, n] of Object.entries(from.injected)) into.injected[fault] = (into.injected[fault] ?? 0) + n;
  for (const [fault, n] of Object.entries(from.withheld ?? {})) {
    into.withheld ??= {};
    into.withheld[fault] = (into.withheld[fault] ?? 0) + n;
  }
  for (const [fault, n] of Object.entries(from.notApplicable ?? {})) {
    into.notApplicable ??= {};
    into.notApplicable[fault] = (into.notApplicable[fault] ?? 0) + n;
  }
  if (from.bytes) {
    into.bytes ??= { upstream: 0, downstream: 0 };
    into.bytes.upstream += from.bytes.upstream;
    into.bytes.downstream += from.bytes.downstream;
  }
}

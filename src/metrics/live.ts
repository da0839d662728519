import type { StreamSnapshot } from './snapshot.js';
import type { FaultCountsView } from './prometheus.js';

/**
 * What a run looks like right now, for live metrics (--metrics-port): counts so far, requests in
 * flight, the latency histogram so far (in-process runs; null with worker threads, whose histograms
 * arrive only at the end), and the proxies' and breakers' state in chaos runs.
 */
export interface LiveView {
  scenario: string;
  total: number;
  ok: number;
  failed: number;
  /** Open model: due and never sent (known when sending stops). */
  dropped: number;
  inFlight: number;
  statusCodes: Record<string, number>;
  errors: Record<string, number>;
  /** Encoded HDR histogram (microseconds) of the latencies recorded so far, or null. */
  latency: string | null;
  /** Streamed answers so far (in-process runs), when any came. */
  streams?: StreamSnapshot;
  /** Chaos: provider → fault name → calls faulted so far (and those whose fault then did not apply). */
  faults: Record<string, FaultCountsView>;
  /** Policy mode: provider → breaker state (0 closed, 1 open, 2 half-open). */
  breakers: Record<string, 0 | 1 | 2>;
  /** Chaos: provider → its guard rails now (halted, faults withheld so far); absent outside chaos runs. */
  guards?: Record<string, { halted: boolean; withheld: Record<string, number> }>;
}

/** Called at each scrape; must be cheap (no per-request work is done for live metrics). */
export type LiveSource = () => LiveView;

/** What the load engine knows right now. */
export type EngineView = Pick<
  LiveView,
  'total' | 'ok' | 'failed' | 'dropped' | 'inFlight' | 'statusCodes' | 'errors' | 'latency' | 'breakers' | 'streams'
>;

/**
 * Where a running campaign posts its live state: the engine registers how to read its counters, a
 * chaos run how to read its proxies; the metrics server reads the board at each scrape.
 */
export class LiveBoard {
  scenario = 'load';
  engine: () => EngineView = () => ({
    total: 0,
    ok: 0,
    failed: 0,
    dropped: 0,
    inFlight: 0,
    statusCodes: {},
    errors: {},
    latency: null,
    breakers: {},
  });
  faults: () => Record<string, FaultCountsView> = () => ({});
  guards: () => LiveView['guards'] = () => undefined;

  view(): LiveView {
    const guards = this.guards();
    return { scenario: this.scenario, ...this.engine(), faults: this.faults(), ...(guards ? { guards } : {}) };
  }
}

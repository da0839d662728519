import type { Fault } from '../faults/fault.js';
import { pickFault, type MixFault } from '../faults/registry.js';
import { createRandom } from '../util/random.js';
import type { FaultPlan } from './config.js';
import { emptyFaultCounts, type FaultCounts } from './stats.js';

/**
 * What a transport knows of one HTTP call, for the targeting (--match-method, --match-path,
 * --match-header). A transport that knows nothing of calls (TCP: one decision per connection) gives
 * none, and then a plan that targets methods, paths or headers never matches.
 */
export interface CallFacts {
  readonly method: string;
  /** The origin-form request target, '/v1/chat?x=1': the query is not part of what --match-path sees. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A transport's listener, for whole-window faults (`down`): the decider says when, the listener acts. */
export interface WholeWindowListener {
  /** Closes the listener and drops its open connections; false when it was not listening (then nothing is counted). */
  goDown(): boolean;
  /** Listens again, unless it already does. */
  comeUp(): void;
}

/**
 * Applies a fault plan, whatever the transport: the fault windows against the run clock, the
 * targeting, the seeded chance and the weighted pick, counting each step (FaultCounts). The HTTP proxy
 * asks once per call; a TCP transport would ask once per connection. Anything that must stop or limit
 * injection (a halt switch, a fault budget) belongs in decide(), so every transport gets it.
 *
 * One seeded generator serves the decisions and, through random(), the faults' own draws and the mock's
 * latency: draws happen in call order, so a seed gives the same decisions run after run.
 */
export class FaultDecider<F extends MixFault = Fault> {
  private draw: () => number;
  private counts: FaultCounts = emptyFaultCounts();
  /** performance.now() when the run clock started (ms): windows are times from then. */
  private clockStart = performance.now();
  private windowTimers: NodeJS.Timeout[] = [];

  constructor(private current: FaultPlan<F>) {
    this.draw = createRandom(current.seed);
  }

  get plan(): FaultPlan<F> {
    return this.current;
  }

  /** Takes a new plan with a generator from its seed; the counts go on. Restart the clock after (startClock). */
  setPlan(plan: FaultPlan<F>): void {
    this.current = plan;
    this.draw = createRandom(plan.seed);
  }

  /** The next number of the seeded generator, in [0, 1). */
  random(): number {
    return this.draw();
  }

  /**
   * The fault for this call (or connection, when `call` is absent), or undefined to pass it through.
   * Draws: one for the chance (none at a failure rate of 1), then one for the pick (none for a mix of
   * one). A fault returned is counted as injected: the caller must inject it.
   */
  decide(call?: CallFacts): F | undefined {
    const plan = this.current;
    if (plan.failureRate === 0 || plan.down || !this.inWindow()) return undefined;
    const counts = this.counts;
    counts.eligible++;
    if (plan.matches !== null && (call === undefined || !plan.matches(call.method, withoutQuery(call.path), call.headers))) {
      return undefined;
    }
    counts.considered++;
    counts.expected += plan.failureRate;
    if (plan.failureRate < 1 && this.draw() >= plan.failureRate) return undefined;
    const fault = pickFault(plan.mix, plan.totalWeight, plan.mix.length === 1 ? 0 : this.draw());
    counts.injected[fault.name] = (counts.injected[fault.name] ?? 0) + 1;
    return fault;
  }

  /**
   * Starts the run clock now (windows are times from this moment). A `down` plan closes the listener
   * for each window, or for the whole run when it has none and a failure rate above 0; any other plan
   * makes sure it listens.
   */
  startClock(listener: WholeWindowListener): void {
    this.clockStart = performance.now();
    this.stopClock();
    const plan = this.current;
    if (!plan.down) {
      listener.comeUp();
      return;
    }
    if (plan.windows.length === 0) {
      if (plan.failureRate > 0) this.goDown(listener);
      return;
    }
    for (const window of plan.windows) {
      this.windowTimers.push(setTimeout(() => this.goDown(listener), window.startMs));
      this.windowTimers.push(setTimeout(() => listener.comeUp(), window.endMs));
    }
  }

  /** Cancels the `down` windows still to come. */
  stopClock(): void {
    for (const timer of this.windowTimers) clearTimeout(timer);
    this.windowTimers = [];
  }

  /** A copy of the counts so far. */
  faultCounts(): FaultCounts {
    return { ...this.counts, injected: { ...this.counts.injected } };
  }

  resetCounts(): void {
    this.counts = emptyFaultCounts();
  }

  private goDown(listener: WholeWindowListener): void {
    if (!listener.goDown()) return;
    const name = this.current.mix[0]!.fault.name;
    this.counts.injected[name] = (this.counts.injected[name] ?? 0) + 1;
  }

  private inWindow(): boolean {
    const windows = this.current.windows;
    if (windows.length === 0) return true;
    const elapsed = performance.now() - this.clockStart;
    for (const window of windows) if (elapsed >= window.startMs && elapsed < window.endMs) return true;
    return false;
  }
}

/** A request target's path: '/v1/chat?x=1' → '/v1/chat'. */
function withoutQuery(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

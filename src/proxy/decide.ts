import type { Fault } from '../faults/fault.js';
import { pickFault, type MixFault } from '../faults/registry.js';
import { createRandom } from '../util/random.js';
import { FaultBudget } from './budget.js';
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

/** The guard rails' state, as GET /stats and the live metrics show it. */
export interface GuardState {
  halted: boolean;
  /** When the proxy was halted (ISO 8601), null when it is not. */
  since: string | null;
  /** Why: 'POST /halt', 'probe http://…: status 503 (3 in a row)'…; null when it is not halted. */
  cause: string | null;
  /** Faults --max-faults still allows (null: no such budget). */
  faultsLeft: number | null;
  /** Faults injected ÷ calls over the --max-fault-rate window now (null: no such budget). */
  faultRate: number | null;
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
  private counts: Required<FaultCounts> = { ...emptyFaultCounts(), withheld: {}, notApplicable: {} };
  /** How many times the counts started over (resetCounts): a decision's stamp, for notApplicable. */
  countsEpoch = 0;
  /** performance.now() when the run clock started (ms): windows are times from then. */
  private clockStart = performance.now();
  private windowTimers: NodeJS.Timeout[] = [];
  private readonly budget: FaultBudget;
  private haltedBy: { since: Date; cause: string } | undefined;
  /** The listener of the last startClock, for `down`: a halt brings it up, a resume may take it down again. */
  private listener: WholeWindowListener | undefined;

  constructor(private current: FaultPlan<F>) {
    this.draw = createRandom(current.seed);
    this.budget = new FaultBudget(current.budget);
  }

  get plan(): FaultPlan<F> {
    return this.current;
  }

  /** Takes a new plan with a generator from its seed; the counts go on. Restart the clock after (startClock). */
  setPlan(plan: FaultPlan<F>): void {
    this.current = plan;
    this.draw = createRandom(plan.seed);
    this.budget.setLimits(plan.budget);
  }

  /** The next number of the seeded generator, in [0, 1). */
  random(): number {
    return this.draw();
  }

  /**
   * The fault for this call (or connection, when `call` is absent), or undefined to pass it through.
   * Draws: one for the chance (none at a failure rate of 1), then one for the pick (none for a mix of
   * one). A fault returned is counted as injected: the caller must inject it. While halted, or once the
   * fault budget is spent, the draws go on (a seed gives the same decisions after a resume) but the
   * fault drawn is counted as withheld and the call passes through.
   */
  decide(call?: CallFacts): F | undefined {
    const plan = this.current;
    this.budget.call();
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
    if (!this.mayInject()) {
      counts.withheld[fault.name] = (counts.withheld[fault.name] ?? 0) + 1;
      return undefined;
    }
    this.budget.spend();
    counts.injected[fault.name] = (counts.injected[fault.name] ?? 0) + 1;
    return fault;
  }

  /** Not halted, and the budget allows one more fault. */
  private mayInject(): boolean {
    return this.haltedBy === undefined && this.budget.allows();
  }

  get halted(): boolean {
    return this.haltedBy !== undefined;
  }

  /**
   * Stops injecting at once (false when already halted): every call passes through, and a listener a
   * `down` window closed listens again. Faults already injected run their course; transports that
   * hold faults on open connections (TCP) take them off themselves.
   */
  halt(cause: string): boolean {
    if (this.haltedBy !== undefined) return false;
    this.haltedBy = { since: new Date(), cause };
    if (this.current.down) this.listener?.comeUp();
    return true;
  }

  /** Injects again (false when not halted); inside a `down` window (or a whole-run `down`), the listener closes again. */
  resume(): boolean {
    if (this.haltedBy === undefined) return false;
    this.haltedBy = undefined;
    const plan = this.current;
    const downNow = plan.windows.length > 0 ? this.inWindow() : plan.failureRate > 0;
    if (plan.down && downNow && this.listener) this.goDown(this.listener);
    return true;
  }

  guard(): GuardState {
    const left = this.budget.left();
    return {
      halted: this.haltedBy !== undefined,
      since: this.haltedBy?.since.toISOString() ?? null,
      cause: this.haltedBy?.cause ?? null,
      faultsLeft: left.faults,
      faultRate: left.rate,
    };
  }

  /**
   * Starts the run clock now (windows are times from this moment). A `down` plan closes the listener
   * for each window, or for the whole run when it has none and a failure rate above 0; any other plan
   * makes sure it listens.
   */
  startClock(listener: WholeWindowListener): void {
    this.clockStart = performance.now();
    this.stopClock();
    this.listener = listener;
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

  /**
   * A fault decided on did not apply to its call's answer (the fault says so once it has seen it): it
   * moves from `injected` to `notApplicable`. It stays spent in the fault budget. `epoch`: countsEpoch
   * when it was decided.
   */
  notApplicable(name: string, epoch: number): void {
    // Decided before the counts last started over (a campaign's previous scenario): not this count's.
    if (epoch !== this.countsEpoch) return;
    const { injected, notApplicable } = this.counts;
    if (!injected[name]) return;
    if (--injected[name] === 0) delete injected[name];
    notApplicable[name] = (notApplicable[name] ?? 0) + 1;
  }

  /** A copy of the counts so far (`withheld` and `notApplicable` only when a fault was). */
  faultCounts(): FaultCounts {
    const { withheld, notApplicable, ...counts } = this.counts;
    return {
      ...counts,
      injected: { ...counts.injected },
      ...(Object.keys(withheld).length > 0 ? { withheld: { ...withheld } } : {}),
      ...(Object.keys(notApplicable).length > 0 ? { notApplicable: { ...notApplicable } } : {}),
    };
  }

  /** The counts start over, and so does the fault budget. */
  resetCounts(): void {
    this.countsEpoch++;
    this.counts = { ...emptyFaultCounts(), withheld: {}, notApplicable: {} };
    this.budget.reset();
  }

  /** A `down` window starts: the listener closes, unless halted or past --max-faults (then the outage is withheld). */
  private goDown(listener: WholeWindowListener): void {
    const name = this.current.mix[0]!.fault.name;
    if (this.halted || !this.budget.allowsOutage()) {
      this.counts.withheld[name] = (this.counts.withheld[name] ?? 0) + 1;
      return;
    }
    if (!listener.goDown()) return;
    this.budget.spend();
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

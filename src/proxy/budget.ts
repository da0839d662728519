import { tryParseDuration } from '../util/duration.js';

/** `--max-fault-rate 2%/1m`: at most this share of the calls over a sliding window may be faulted. */
export interface FaultRateLimit {
  /** As written: '2%/1m'. */
  source: string;
  /** 0..1. */
  ratio: number;
  windowMs: number;
}

/** The fault budget of a plan: null where unlimited. */
export interface FaultBudgetLimits {
  maxFaults: number | null;
  maxRate: FaultRateLimit | null;
}

/** Steps of the sliding window: faults and calls are kept per 1/60 of it (per second for '1m'). */
const STEPS = 60;

/** '2%/1m', '0.02/60s' → a limit; a message when it does not parse. */
export function parseFaultRateLimit(text: string): FaultRateLimit | string {
  const match = /^\s*(\d+(?:\.\d+)?)(%?)\s*\/\s*(\S+)\s*$/.exec(text);
  if (!match) return "expected RATE/WINDOW, e.g. '2%/1m' (faults injected ÷ calls over the last minute)";
  const ratio = Number(match[1]) / (match[2] === '%' ? 100 : 1);
  if (!(ratio >= 0 && ratio <= 1)) return `'${match[1]}${match[2]}' must be between 0 and 1 (or 0% to 100%)`;
  const windowMs = tryParseDuration(match[3]!);
  if (windowMs === undefined || windowMs < 1000) return `window '${match[3]}' must be a duration of 1s or more ('1m', '30s')`;
  return { source: text.trim(), ratio, windowMs };
}

/**
 * What is left of a fault budget, counted as faults are injected. The rate is kept over a sliding
 * window in 60 steps (1 s each for '1m'): memory is fixed however long the proxy runs. A fault is
 * allowed when, counting it, faults ÷ calls over the window stay at or below the ratio, so at
 * `10%/1m` and a failure rate of 1, the 10th, 20th, 30th... call of a minute is faulted.
 */
export class FaultBudget {
  private spent = 0;
  private readonly calls = new Float64Array(STEPS);
  private readonly faults = new Float64Array(STEPS);
  private windowCalls = 0;
  private windowFaults = 0;
  /** The step (a count of step lengths since `origin`) the ring's newest slot holds. */
  private step = 0;
  private readonly origin = performance.now();

  constructor(private limits: FaultBudgetLimits) {}

  /** New limits (PUT /faults); what was spent stays spent. */
  setLimits(limits: FaultBudgetLimits): void {
    const window = this.limits.maxRate?.windowMs;
    this.limits = limits;
    if (limits.maxRate?.windowMs === window) return;
    // Another window length: another step length, so the rate starts over.
    this.calls.fill(0);
    this.faults.fill(0);
    this.windowCalls = this.windowFaults = 0;
    if (limits.maxRate !== null) this.step = Math.floor((performance.now() - this.origin) / (limits.maxRate.windowMs / STEPS));
  }

  /** Everything spent is forgotten (stats reset: a campaign's next scenario, the admin API's POST /reset). */
  reset(): void {
    this.spent = 0;
    this.calls.fill(0);
    this.faults.fill(0);
    this.windowCalls = this.windowFaults = 0;
  }

  /**
   * Whether one more outage (`down`) fits: only the count budget applies, as a window starts on a
   * timer, with no call in the rate's denominator to weigh it against.
   */
  allowsOutage(): boolean {
    return this.limits.maxFaults === null || this.spent < this.limits.maxFaults;
  }

  /** A call (or a connection) is decided on: it counts in the rate's denominator. */
  call(): void {
    if (this.limits.maxRate === null) return;
    this.advance();
    this.calls[this.step % STEPS]!++;
    this.windowCalls++;
  }

  /** Whether one more fault fits the budget. */
  allows(): boolean {
    const { maxFaults, maxRate } = this.limits;
    if (maxFaults !== null && this.spent >= maxFaults) return false;
    if (maxRate === null) return true;
    this.advance();
    // Compared in whole counts (faults × 1e6 against calls × ratio × 1e6) so 10% of 100 is 10, not 9.
    return Math.round((this.windowFaults + 1) * 1e6) <= Math.round(this.windowCalls * maxRate.ratio * 1e6);
  }

  /** A fault was injected. */
  spend(): void {
    this.spent++;
    if (this.limits.maxRate === null) return;
    this.advance();
    this.faults[this.step % STEPS]!++;
    this.windowFaults++;
  }

  /** Faults the count budget still allows (null: no count budget), and the rate over the window now. */
  left(): { faults: number | null; rate: number | null } {
    const { maxFaults, maxRate } = this.limits;
    if (maxRate !== null) this.advance();
    return {
      faults: maxFaults === null ? null : Math.max(0, maxFaults - this.spent),
      rate: maxRate === null ? null : this.windowCalls === 0 ? 0 : this.windowFaults / this.windowCalls,
    };
  }

  /** Moves the window to now: the steps that fell out of it are emptied. */
  private advance(): void {
    const stepMs = this.limits.maxRate!.windowMs / STEPS;
    const now = Math.floor((performance.now() - this.origin) / stepMs);
    if (now === this.step) return;
    const gone = Math.min(STEPS, now - this.step);
    for (let i = 1; i <= gone; i++) {
      const slot = (this.step + i) % STEPS;
      this.windowCalls -= this.calls[slot]!;
      this.windowFaults -= this.faults[slot]!;
      this.calls[slot] = 0;
      this.faults[slot] = 0;
    }
    this.step = now;
  }
}

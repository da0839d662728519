import type { Correlation } from '../behaviour/call.js';
import type { FaultSettings, FaultWindow } from './config.js';
import type { GuardState } from './decide.js';
import type { ProxyStats } from './stats.js';

/** A running chaos proxy, HTTP (proxy.ts) or TCP (tcp/proxy.ts), as sessions, reports and the admin API see it. */
export interface ChaosProxy {
  readonly name: string;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  /** Where calls go: the upstream (redacted) or 'mock'. */
  readonly target: string;
  stats(): ProxyStats;
  resetStats(): void;
  faultSettings(): FaultSettings;
  /** Replaces the fault settings at run time (validated first; throws UsageError). */
  setFaults(settings: FaultSettings): void;
  /** Starts the fault-window clock now (windows are times from this moment). */
  startSchedule(): void;
  /** The fault windows of the current settings, and whether the fault is `down` (the listener closes). */
  faultWindows(): { windows: FaultWindow[]; down: boolean };
  /** How calls are correlated; undefined when they are not observed (no observer, or 'off'). */
  readonly correlation: Correlation | undefined;
  /**
   * The kill switch: stops injecting at once and passes everything through (false when already
   * halted). A listener closed by `down` listens again; a TCP proxy takes faults and toxics off its
   * open connections. The proxy never stops forwarding.
   */
  halt(cause: string): boolean;
  /** Injects again (false when not halted). */
  resume(): boolean;
  /** Halted or not, since when and why, and what is left of the fault budget. */
  guard(): GuardState;
  /** Hands every observed call still open to the observer, as open at the end (each once). */
  reportOpenCalls(): void;
  close(): Promise<void>;
}

// Types of experiments.mjs, for the TypeScript tests that run its experiments (test/sdk/*.test.ts).

import type { ProviderBehaviour } from '../../src/model/behaviour.js';

export type SdkName = 'openai' | 'anthropic';

export interface SdkKit {
  name: SdkName;
  package: string;
  version: string;
  /** The SDK's own defaults, read from a fresh client: retries and timeout (ms). */
  defaults(): { maxRetries: number; timeoutMs: number };
}

export const SDKS: Record<SdkName, SdkKit>;

export interface Experiment {
  sdk: SdkName;
  faults?: string;
  failureRate?: number;
  /** Seconds (whole) in the proxy's Retry-After. */
  retryAfter?: number;
  matchHeader?: string;
  stream?: boolean;
  client?: { maxRetries?: number; timeout?: number };
  requests?: number;
}

/** What the SDK's caller got from one request. */
export interface Outcome {
  ok: boolean;
  /** Stream events read (before the error, when one came in the stream). */
  events?: number;
  /** The thrown error's class name, status and message. */
  error?: string;
  status?: number;
  message?: string;
  elapsedMs: number;
}

/** What the proxy's dependency-side observer saw (ms; null when the situation never arose). */
export interface Seen {
  calls: number;
  requests: number;
  attempts: Record<string, number>;
  attemptsMax: number | null;
  retries: number;
  retryDelayMin: number | null;
  retryDelayMax: number | null;
  backoffGrowth: number | null;
  retryAfter: { sent: number; followed: number; violations: number };
  timeoutsHeld: number;
  dependencyTimeout: number | null;
  dependencyTimeoutMax: number | null;
}

export interface ExperimentResult {
  sdk: SdkName;
  version: string;
  outcomes: Outcome[];
  seen: Seen;
  behaviour: ProviderBehaviour;
}

export function runExperiment(experiment: Experiment): Promise<ExperimentResult>;

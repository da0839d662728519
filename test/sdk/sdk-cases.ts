import { runExperiment, SDKS, type Experiment, type SdkName } from '../../scripts/sdk/experiments.mjs';
import { cpuWait } from '../helpers/machine.js';

// What one official SDK's built-in retries and timeout do against a chaos proxy on 127.0.0.1 whose mock
// is the provider's preset and whose faults are shaped like the provider's (its error JSON, Retry-After,
// and for OpenAI retry-after-ms; its stream error event), as the proxy's dependency-side observer
// measures them (scripts/sdk/experiments.mjs; needs `npm run build`).
// What is asserted is what the SDKs document: 2 retries by default, 429 and 5xx retried, Retry-After
// honoured, else exponential backoff from 0.5 s with up to 25% jitter taken off, a 10-minute timeout.
// Tolerances: a lower bound allows the observer's 20 ms (a client's timer may fire a little early on
// its cached clock); an upper bound allows 150 ms plus what other processes kept this one off the CPU.

/** What differs between the SDKs. */
export interface SdkExpectations {
  /** Class thrown once every attempt got a 529. */
  overloadedError: string;
  /** After `Retry-After: 0`: retry at once, or fall back to the backoff (0.5 s then 1 s, less up to 25%). */
  retryAfterZero: 'at once' | 'backoff';
}

const LOWER_MS = 20;
const UPPER_MS = 150;

/** Runs one experiment, with the CPU wait it suffered (ms) for upper bounds. */
async function measured(experiment: Omit<Experiment, 'sdk'> & { sdk: SdkName }) {
  const waited = cpuWait();
  const result = await runExperiment(experiment);
  return { ...result, waitedMs: waited() };
}

export function describeSdk(sdk: SdkName, expected: SdkExpectations): void {
  const kit = SDKS[sdk];

  describe(`${kit.package} ${kit.version}`, () => {
    test('defaults read from the SDK: 2 retries, a 10-minute timeout', () => {
      expect(kit.defaults()).toEqual({ maxRetries: 2, timeoutMs: 600_000 });
    });

    test.each([
      ['not streaming', false],
      ['streaming', true],
    ] as const)('429 with Retry-After: 1 on the first attempt (%s): retried once after 1 s, then the answer', async (_label, stream) => {
      // Only calls carrying X-Stainless-Retry-Count: 0 are faulted: the retry, counted 1, passes.
      const run = await measured({ sdk, faults: 'status:429', retryAfter: 1, matchHeader: 'X-Stainless-Retry-Count: 0', stream });
      expect(run.seen).toMatchObject({ calls: 2, requests: 1, attempts: { '2': 1 }, retries: 1 });
      expect(run.seen.retryAfter).toEqual({ sent: 1, followed: 1, violations: 0 });
      expect(run.seen.retryDelayMin).toBeGreaterThanOrEqual(1000 - LOWER_MS);
      expect(run.seen.retryDelayMax).toBeLessThanOrEqual(1000 + UPPER_MS + run.waitedMs);
      expect(run.outcomes).toEqual([expect.objectContaining({ ok: true })]);
      if (stream) expect(run.outcomes[0]!.events).toBeGreaterThan(6); // 6 tokens, and the events around them
    });

    test(`429 with Retry-After: 0 on every attempt: retried ${expected.retryAfterZero}`, async () => {
      const run = await measured({ sdk, faults: 'status:429', retryAfter: 0 });
      expect(run.seen).toMatchObject({ calls: 3, requests: 1, retries: 2, retryAfter: { sent: 3, followed: 2, violations: 0 } });
      if (expected.retryAfterZero === 'at once') expect(run.seen.retryDelayMax).toBeLessThanOrEqual(50 + UPPER_MS + run.waitedMs);
      else {
        expect(run.seen.retryDelayMin).toBeGreaterThanOrEqual(375 - LOWER_MS);
        expect(run.seen.retryDelayMax).toBeGreaterThanOrEqual(750 - LOWER_MS);
      }
    });

    test("529 (overloaded) on every attempt, with the provider's Retry-After: 1: 3 attempts (the default 2 retries), 1 s apart", async () => {
      const run = await measured({ sdk, faults: 'status:529', retryAfter: 1 });
      expect(run.seen).toMatchObject({ calls: 3, requests: 1, attempts: { '3': 1 }, retries: 2 });
      expect(run.seen.retryAfter).toMatchObject({ sent: 3, followed: 2, violations: 0 });
      expect(run.seen.retryDelayMin).toBeGreaterThanOrEqual(1000 - LOWER_MS);
      expect(run.seen.retryDelayMax).toBeLessThanOrEqual(1000 + UPPER_MS + run.waitedMs);
      expect(run.outcomes).toEqual([expect.objectContaining({ ok: false, error: expected.overloadedError, status: 529 })]);
    });

    test('500 (no Retry-After) on every attempt: backoff 0.5 s then 1 s, less up to 25%, then the error', async () => {
      const run = await measured({ sdk, faults: 'status:500' });
      expect(run.seen).toMatchObject({ calls: 3, requests: 1, attempts: { '3': 1 }, retries: 2 });
      expect(run.seen.retryAfter.sent).toBe(0);
      // Two delays: the first 375-500 ms, the second 750-1000 ms.
      expect(run.seen.retryDelayMin).toBeGreaterThanOrEqual(375 - LOWER_MS);
      expect(run.seen.retryDelayMin).toBeLessThanOrEqual(500 + UPPER_MS + run.waitedMs);
      expect(run.seen.retryDelayMax).toBeGreaterThanOrEqual(750 - LOWER_MS);
      expect(run.seen.retryDelayMax).toBeLessThanOrEqual(1000 + UPPER_MS + run.waitedMs);
      expect(run.seen.backoffGrowth).toBeGreaterThan(1.3); // nominally 1.5 to 2.67
      expect(run.seen.backoffGrowth).toBeLessThan(2.9);
      expect(run.outcomes).toEqual([expect.objectContaining({ ok: false, error: 'InternalServerError', status: 500 })]);
    });

    test('timeout (the proxy holds the call), SDK timeout 300 ms and 1 retry: gives up after 300 ms, twice', async () => {
      const run = await measured({ sdk, faults: 'timeout', client: { timeout: 300, maxRetries: 1 } });
      expect(run.seen).toMatchObject({ calls: 2, requests: 1, retries: 1, timeoutsHeld: 2 });
      expect(run.seen.dependencyTimeout).toBeGreaterThanOrEqual(300 - LOWER_MS);
      expect(run.seen.dependencyTimeoutMax).toBeLessThanOrEqual(300 + UPPER_MS + run.waitedMs);
      // The retry after a timeout waits the first backoff step, 375-500 ms.
      expect(run.seen.retryDelayMin).toBeGreaterThanOrEqual(375 - LOWER_MS);
      expect(run.seen.retryDelayMax).toBeLessThanOrEqual(500 + UPPER_MS + run.waitedMs);
      // APIConnectionTimeoutError in plain Node (the report's child process asserts it: sdk-report.test.ts). Under
      // jest the abort's DOMException comes from another realm, fails the SDK's `instanceof Error` and may be
      // reported as the APIConnectionError it derives from.
      expect(run.outcomes).toEqual([
        expect.objectContaining({ ok: false, error: expect.stringMatching(/^APIConnection(Timeout)?Error$/) }),
      ]);
    });

    test("the provider's error event after 2 events (stream-error:2): never retried; the caller gets an APIError", async () => {
      const run = await measured({ sdk, faults: 'stream-error:2', stream: true });
      expect(run.seen).toMatchObject({ calls: 1, requests: 1, retries: 0 });
      expect(run.outcomes).toEqual([expect.objectContaining({ ok: false, error: 'APIError', events: 2 })]);
    });

    test.each([
      ['half its body (not streaming)', false],
      ['2 events (streaming)', true],
    ] as const)('an answer stalled 1 s after %s, SDK timeout 300 ms: the timeout ends with the headers', async (_label, stream) => {
      const run = await measured({ sdk, faults: 'stall:1s@2', stream, client: { timeout: 300 } });
      expect(run.seen).toMatchObject({ calls: 1, requests: 1, retries: 0 });
      expect(run.outcomes).toEqual([expect.objectContaining({ ok: true })]);
      expect(run.outcomes[0]!.elapsedMs).toBeGreaterThanOrEqual(1000 - LOWER_MS);
    });

    test('a stream cut after 2 events (truncate:2events): never retried; the caller gets a bare TypeError, not an SDK error', async () => {
      const run = await measured({ sdk, faults: 'truncate:2events', stream: true });
      expect(run.seen).toMatchObject({ calls: 1, requests: 1, retries: 0 });
      expect(run.outcomes).toEqual([expect.objectContaining({ ok: false, error: 'TypeError', message: 'terminated', events: 2 })]);
    });
  });
}

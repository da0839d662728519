import { runCli } from '../helpers/cli.js';

// Policy mode composes retry, breaker and failover (engine/policies.ts) around plain connections as
// attempt senders (ConnectionAttempts): the connection renders, times out and checks each attempt, the
// policies decide what happens next. chaos.test.ts covers 5xx retries, Retry-After, the breaker and
// failover, policies.test.ts each policy alone; these cover what the connection reports to the
// policies: a timed-out attempt, and a body check that fails.

/** `resil chaos --json` against its own mock (no URL: the load goes through the proxy). */
async function chaos(args: string[]) {
  const run = await runCli(['chaos', '--mock', '-n', '3', '-c', '1', '--backoff', 'fixed:1ms', '--json', ...args]);
  expect(run.code).toBe(1); // every request fails: the default success_rate threshold fails
  return JSON.parse(run.stdout) as {
    requests: { total: number; failed: number; cancelled: number };
    policy: { attempts: number; retried: number };
    errors: Record<string, number>;
    durationMs: number;
  };
}

describe('policy mode over plain connections', () => {
  test('each attempt has its own --timeout: held calls time out per attempt and are retried', async () => {
    const result = await chaos(['--failure-rate', '1', '--faults', 'timeout', '--timeout', '200ms', '--retries', '1']);
    expect(result.requests).toMatchObject({ total: 3, failed: 3, cancelled: 0 });
    expect(result.policy).toMatchObject({ attempts: 6, retried: 3 });
    expect(result.errors).toEqual({ timeout: 3 });
    // 6 attempts of 200 ms one after another (the sweep fires within 2% of the timeout, never early).
    expect(result.durationMs).toBeGreaterThanOrEqual(6 * 200);
  });

  test('a body check that fails is retried with --retry-on body, then counted as a body failure', async () => {
    const result = await chaos([
      '--mock-body',
      'nope',
      '--failure-rate',
      '0',
      '--expect-body',
      'ok',
      '--retry-on',
      'body',
      '--retries',
      '2',
    ]);
    expect(result.requests).toMatchObject({ total: 3, failed: 3 });
    expect(result.policy).toMatchObject({ attempts: 9, retried: 6 });
    expect(result.errors).toEqual({ body: 3 });
  });
});

import { loadFlags } from '../src/cli/load-flags.js';
import { policyFlags } from '../src/cli/policy-flags.js';
import { proxyFlags } from '../src/cli/proxy-flags.js';
import { LOAD_OPTIONS, SEED_OPTION } from '../src/engine/options.js';
import { buildLoadPlan } from '../src/engine/plan.js';
import { POLICY_OPTIONS, buildPolicyPlan } from '../src/engine/policy-options.js';
import { FAULT_OPTIONS, MOCK_OPTIONS, PROVIDER_OPTIONS } from '../src/proxy/config.js';
import { tryParseDuration } from '../src/util/duration.js';
import type { OptionTable } from '../src/util/option-table.js';
import { runCli } from './helpers/cli.js';

const TABLES: Record<string, OptionTable> = { LOAD_OPTIONS, POLICY_OPTIONS, FAULT_OPTIONS, MOCK_OPTIONS, PROVIDER_OPTIONS };

describe('the option tables', () => {
  test.each(Object.entries(TABLES))('%s: a flag has a help line, a campaign key a described schema', (_name, table) => {
    for (const [key, spec] of Object.entries(table)) {
      if (spec.flag !== undefined) expect([key, typeof spec.summary]).toEqual([key, 'string']);
      if (spec.campaign !== undefined) expect([key, typeof spec.schema?.description]).toEqual([key, 'string']);
      expect([key, spec.flag !== undefined || spec.campaign !== undefined]).toEqual([key, true]);
    }
  });

  test('the flags show the defaults the library applies when the option is absent', () => {
    const plan = buildLoadPlan({ url: 'http://127.0.0.1:1/' });
    expect(loadFlags.timeout.default).toBe(LOAD_OPTIONS.timeout.default);
    expect(plan.timeoutMs).toBe(tryParseDuration(LOAD_OPTIONS.timeout.default));
    expect(plan.graceMs).toBe(tryParseDuration(LOAD_OPTIONS.grace.default));
    expect([plan.method, plan.workers, plan.maxBodyBytes, plan.insecure]).toEqual([
      LOAD_OPTIONS.method.default,
      LOAD_OPTIONS.workers.default,
      LOAD_OPTIONS.maxBody.default,
      LOAD_OPTIONS.insecure.default,
    ]);
    const policy = buildPolicyPlan({}, (problem) => {
      throw new Error(problem.message);
    });
    expect([policy.retries, policy.backoffSource, policyFlags.retries.default]).toEqual([
      POLICY_OPTIONS.retries.default,
      POLICY_OPTIONS.backoff.default,
      3,
    ]);
  });

  test('one seed: load, proxy and chaos share its definition, and under chaos it seeds both the requests and the faults', async () => {
    expect(loadFlags.seed).toEqual(proxyFlags.seed);
    expect(loadFlags.seed.summary).toBe(SEED_OPTION.summary);
    const run = await runCli(['chaos', '--mock', '--failure-rate', '0.5', '-n', '20', '--seed', '41', '-t', 'success_rate>=0', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.seed).toBe(41);
    const plain = await runCli(['chaos', '--mock', '--failure-rate', '0.5', '-n', '20', '--seed', '41', '-t', 'success_rate>=0']);
    expect(plain.stderr).toMatch(/proxy dependency listening on .* · seed 41\n/);
  }, 30_000);
});

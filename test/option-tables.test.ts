import { loadFlags } from '../src/cli/load-flags.js';
import { FLAG_TABLES } from '../src/cli/command-options.js';
import Chaos from '../src/commands/chaos.js';
import Run from '../src/commands/run.js';
import { policyFlags } from '../src/cli/policy-flags.js';
import { proxyFlags } from '../src/cli/proxy-flags.js';
import { LOAD_OPTIONS, SEED_OPTION } from '../src/engine/options.js';
import { buildLoadPlan } from '../src/engine/plan.js';
import { POLICY_OPTIONS, buildPolicyPlan } from '../src/engine/policy-options.js';
import { FAULT_OPTIONS, MOCK_OPTIONS, PROVIDER_OPTIONS } from '../src/proxy/config.js';
import { tryParseDuration } from '../src/util/duration.js';
import { optionDescription, schemaProperties, type OptionTable } from '../src/util/option-table.js';
import { runCli } from './helpers/cli.js';

const TABLES: Record<string, OptionTable> = { LOAD_OPTIONS, POLICY_OPTIONS, FAULT_OPTIONS, MOCK_OPTIONS, PROVIDER_OPTIONS };

describe('the option tables', () => {
  test.each(Object.entries(TABLES))('%s: a flag has a help line, a campaign key a described schema', (_name, table) => {
    for (const [key, spec] of Object.entries(table)) {
      if (spec.flag !== undefined) expect([key, typeof spec.summary]).toEqual([key, 'string']);
      if (spec.campaign !== undefined) expect([key, typeof schemaProperties(table)[spec.campaign]?.description]).toEqual([key, 'string']);
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

  test('one seed: load, proxy and chaos share its definition, each with its own help line; under chaos it seeds requests and faults', async () => {
    expect(loadFlags.seed.summary).toBe(SEED_OPTION.summaries.load);
    expect(proxyFlags.seed.summary).toBe(SEED_OPTION.summaries.proxy);
    expect(Chaos.flags.seed.summary).toBe(SEED_OPTION.summary);
    expect({ ...loadFlags.seed, summary: '' }).toEqual({ ...proxyFlags.seed, summary: '' });
    expect(loadFlags.seed.summary).toContain('{{uuid}}');
    expect(proxyFlags.seed.summary).not.toContain('{{uuid}}');
    expect(proxyFlags.seed.summary).toContain('fault decisions');
    const run = await runCli(['chaos', '--mock', '--failure-rate', '0.5', '-n', '20', '--seed', '41', '-t', 'success_rate>=0', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.seed).toBe(41);
    const plain = await runCli(['chaos', '--mock', '--failure-rate', '0.5', '-n', '20', '--seed', '41', '-t', 'success_rate>=0']);
    expect(plain.stderr).toMatch(/proxy dependency listening on .* · seed 41\n/);
  }, 30_000);
});

describe('one definition per flag', () => {
  test('a campaign key is described by the help text, its default and the campaign note', () => {
    expect(optionDescription(LOAD_OPTIONS.timeout)).toBe('Time limit per request (default 10s).');
    expect(optionDescription(LOAD_OPTIONS.maxBody)).toBe('Bytes of each response body kept for body checks (default 1 MiB).');
    expect(optionDescription(LOAD_OPTIONS.bodyFile)).toBe('Read the request body from this file. Excludes body.');
    expect(optionDescription(LOAD_OPTIONS.headers)).toBe('Request headers, name → value.');
    expect(loadFlags.header.summary).toBe("Request headers: 'Name: value' (repeatable).");
    expect(policyFlags.retries.summary).toBe(
      "Policy mode: resil's own client retries a failed request this many times after the first attempt.",
    );
  });

  test('a flag name has one way of being shown across the tables', () => {
    const shown = new Map<string, string | undefined>();
    for (const spec of FLAG_TABLES.flatMap((table) => Object.values(table))) {
      if (spec.flag === undefined) continue;
      if (shown.has(spec.flag)) expect([spec.flag, spec.shown]).toEqual([spec.flag, shown.get(spec.flag)]);
      shown.set(spec.flag, spec.shown);
    }
    expect([shown.get('body'), shown.get('header'), shown.get('upstream'), shown.get('admin-token')]).toEqual([
      undefined,
      'header',
      'url',
      'secret',
    ]);
  });

  test('run takes --metrics-port and --shard from the same entries as load', () => {
    expect(Run.flags['metrics-port']).toEqual(loadFlags['metrics-port']);
    const shape = (flag: { type: string; multiple?: boolean; char?: string }) => [flag.type, flag.multiple, flag.char];
    expect(shape(Run.flags.shard)).toEqual(shape(loadFlags.shard));
    expect(Run.flags.shard.summary).toContain('of every scenario');
  });
});

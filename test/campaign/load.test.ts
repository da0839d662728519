import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCampaign, parseCampaign } from '../../src/campaign/load.js';
import { prepareCampaign } from '../../src/campaign/run-campaign.js';
import { CAMPAIGN_SCHEMA, campaignSchemaText, type Campaign } from '../../src/campaign/schema.js';
import { UsageError } from '../../src/errors.js';
import { buildFaultPlan } from '../../src/proxy/config.js';
import { parseListen } from '../../src/proxy/listen.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/campaigns/${name}`, import.meta.url));

/** The UsageError message `fn` throws. */
function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

const loadProblems = (name: string, env: NodeJS.ProcessEnv = {}) => problemsOf(() => loadCampaign(fixture(name), env)).split('\n');
const parseProblems = (text: string, env: NodeJS.ProcessEnv = {}) => problemsOf(() => parseCampaign(text, 'c.yaml', env)).split('\n');

describe('a valid campaign', () => {
  test('parses to the expected object, defaults applied', () => {
    const file = fixture('full.yaml');
    const expected: Campaign = {
      file,
      providers: {
        a: { listen: '127.0.0.1:9101', mock: { status: 200, body: '{"result":"a"}', latency: '20ms~40ms' } },
        b: { listen: '127.0.0.1:9102', mock: {} },
        real: { listen: '127.0.0.1:9103', upstream: 'https://api.example.com' },
      },
      service: {
        command: 'node examples/llm-gateway/server.mjs',
        env: { PROVIDER_A_URL: 'http://127.0.0.1:9101', PORT: '3000' },
        ready: 'http://127.0.0.1:3000/health',
        readyTimeout: '15s',
      },
      scenarios: [
        {
          name: 'steady',
          type: 'load',
          url: 'http://127.0.0.1:3000/v1/complete',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"prompt":"hi {{i}}"}',
          concurrency: 20,
          requests: 1000,
          duration: '10s',
          timeout: '2s',
          grace: '2s',
          expectStatus: '2xx',
          expectBody: 'result',
          expectJson: ['result', 'provider=a'],
          workers: 1,
          seed: 42,
          redact: ['x-tenant-token'],
          thresholds: ['success_rate>=0.95', 'p99<300ms'],
        },
        {
          name: 'ramp',
          type: 'load',
          url: 'http://127.0.0.1:3000/v1/complete',
          headers: { 'content-type': 'application/json' },
          concurrency: 20,
          stages: [
            { duration: '10s', rate: 50 },
            { duration: '20s', rate: 200 },
          ],
          timeout: '2s',
          expectJson: ['result'],
          thresholds: ['success_rate>=0.95', 'p99<300ms'],
        },
        {
          name: 'provider-a-outage',
          type: 'chaos',
          url: 'http://127.0.0.1:3000/v1/complete',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"prompt":"hi"}',
          concurrency: 20,
          rate: 50,
          duration: '1m',
          timeout: '2s',
          faults: {
            a: {
              failureRate: 0.3,
              faults: 'status:503=5,status:429=2,timeout=2,reset=1',
              retryAfter: 1,
              matchMethod: 'POST',
              matchPath: '/v1/**',
              matchHeader: 'x-tenant: beta',
              windows: ['10s..20s'],
            },
          },
          phases: [
            { at: '30s', for: '10s', providers: { a: { failureRate: 1, faults: 'down' } } },
            { at: '45s', for: '5s', providers: { b: { faults: 'status:500' } } },
          ],
          thresholds: ['success_rate>=0.95', 'p99<300ms', 'recovery<5s', 'amplification<=2'],
        },
      ],
    };
    expect(loadCampaign(file, {})).toEqual(expected);
  });

  test('a scenario that sets stages or a body inherits no conflicting defaults; faults from defaults reach chaos scenarios only', () => {
    const campaign = parseCampaign(
      [
        'defaults: { duration: 10s, body-file: body.json, faults: { a: { faults: timeout } } }',
        'providers: { a: { listen: 127.0.0.1:9101, mock: true } }',
        'scenarios:',
        '  - { name: s1, url: http://x/, stages: [{ duration: 5s, rate: 10 }], body: hi }',
        '  - { name: s2, type: chaos, url: http://x/ }',
      ].join('\n'),
      'c.yaml',
      {},
    );
    expect(campaign.scenarios[0]).toEqual({
      name: 's1',
      type: 'load',
      url: 'http://x/',
      stages: [{ duration: '5s', rate: 10 }],
      body: 'hi',
    });
    expect(campaign.scenarios[1]).toEqual({
      name: 's2',
      type: 'chaos',
      url: 'http://x/',
      duration: '10s',
      bodyFile: 'body.json',
      faults: { a: { faults: 'timeout' } },
    });
    expect(campaign.providers).toEqual({ a: { listen: '127.0.0.1:9101', mock: {} } });
    expect(campaign.service).toBeUndefined();
  });
});

test('a url with placeholders that hold spaces ({{randomInt 1 200}}) is a valid target, as on the command line', () => {
  const text = ['scenarios:', '  - name: a', '    url: http://127.0.0.1:3000/item/{{randomInt 1 200}}?n={{i}}', '    requests: 1'].join(
    '\n',
  );
  expect(parseCampaign(text, 'c.yaml').scenarios[0]!.url).toBe('http://127.0.0.1:3000/item/{{randomInt 1 200}}?n={{i}}');
  // A space outside a placeholder is still refused.
  expect(problemsOf(() => parseCampaign(text.replace('{{i}}', 'a b'), 'c.yaml'))).toMatch(/is not an http:\/\/ or https:\/\/ URL/);
});

describe('problems point at FILE:LINE:COL', () => {
  test('a tab used as indentation', () => {
    expect(loadProblems('bad-yaml-tab.yaml')).toEqual([
      `${fixture('bad-yaml-tab.yaml')}:3:1: syntax error: Tabs are not allowed as indentation`,
    ]);
  });

  test('an unclosed bracket is reported where it opens', () => {
    expect(loadProblems('bad-yaml-bracket.yaml')).toEqual([
      `${fixture('bad-yaml-bracket.yaml')}:4:18: syntax error: '[' is never closed (expected ']')`,
    ]);
    expect(parseProblems('scenarios:\n  - name: "steady\n')).toEqual([`c.yaml:2:11: syntax error: '"' is never closed (expected '"')`]);
  });

  test('an unknown field: at its key, naming it', () => {
    expect(loadProblems('unknown-field.yaml')).toEqual([
      `${fixture('unknown-field.yaml')}:4:5: scenarios[0]: unknown field 'durration' (did you mean 'duration'?)`,
    ]);
  });

  test('a wrong type: at the value, saying the expected type', () => {
    expect(loadProblems('wrong-type.yaml')).toEqual([
      `${fixture('wrong-type.yaml')}:4:18: scenarios[0].concurrency: expected an integer, got 'many'`,
    ]);
  });

  test('a bad duration: at the value', () => {
    expect(loadProblems('bad-duration.yaml')).toEqual([
      `${fixture('bad-duration.yaml')}:4:15: scenarios[0].duration: '5parsecs' is not a duration (use e.g. 500ms, 10s, 2m, 1m30s)`,
    ]);
    expect(parseProblems('scenarios: [{ name: a, url: "http://x/", timeout: 10 }]')).toEqual([
      "c.yaml:1:51: scenarios[0].timeout: expected a duration such as '10s' or '500ms', got 10 (a plain number is not a duration: add a unit)",
    ]);
  });

  test('every problem is listed at once, in file order', () => {
    const f = fixture('many-problems.yaml');
    expect(loadProblems('many-problems.yaml')).toEqual([
      `${f}:2:12: defaults.timeout: expected a duration such as '10s' or '500ms', got 10 (a plain number is not a duration: add a unit)`,
      `${f}:7:5: providers.a.upstream: give mock or upstream, not both`,
      `${f}:9:5: providers.b: give mock (a built-in healthy dependency), upstream (a real one) or replay (a HAR recording)`,
      `${f}:9:13: providers.b.listen: 'somewhere' is not HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:9101 or 9101)`,
      `${f}:14:5: scenarios[0].stages: stages fix the rate, the count and the duration: remove rate (or the stages)`,
      `${f}:15:5: scenarios[0]: unknown field 'colour'`,
      `${f}:16:11: scenarios[1].name: duplicate scenario name 'steady' (also scenarios[0])`,
      `${f}:18:10: scenarios[1].url: 'ftp://127.0.0.1/' is not an http:// or https:// URL`,
      `${f}:21:7: scenarios[1].faults.c: unknown provider 'c' (declared: a, b)`,
      `${f}:21:26: scenarios[1].faults.c.failure-rate: must be <= 1, got 1.5`,
      `${f}:23:9: scenarios[1].phases[0]: at 15s + for 10s ends after the scenario (20s)`,
      `${f}:23:56: scenarios[1].phases[0].providers.a.faults: unknown fault type 'explode' (known: status, latency, timeout, reset, close, truncate, stream-error, stall, slow-body, malformed, down)`,
      `${f}:24:18: scenarios[1].thresholds[0]: threshold 'p99 300ms': no comparison operator (use <, <=, >, >=, == or !=)`,
    ]);
  });

  test("option checks are the engine's, worded with the file's keys at their line and column", () => {
    const text = [
      'providers: { dep: { listen: 9101, mock: true } }',
      'scenarios:',
      "  - { name: a, url: http://127.0.0.1:1/, type: chaos, backoff: soon, retry-on: '5xx,teapot', breaker: five, retries: 1 }",
      '  - name: b',
      '    requests: 10',
      '    rate: 5',
      '    duration: 1s',
      '    url: http://127.0.0.1:1/',
      '    type: chaos',
      '    faults: { dep: { match-path: v1/**, match-header: x-tenant, fault-window: [1s..3s, 2s..4s, 5s..4s] } }',
    ].join('\n');
    expect(parseProblems(text)).toEqual([
      "c.yaml:3:64: scenarios[0].backoff: 'soon' must be exp:DURATION or fixed:DURATION, e.g. exp:100ms",
      "c.yaml:3:80: scenarios[0].retry-on: 'teapot' is not 5xx, 4xx, a status code, timeout, reset, closed, refused, body or stream",
      "c.yaml:3:103: scenarios[0].breaker: 'five' must be FAILURES/COOLDOWN, e.g. 5/10s",
      'c.yaml:5:5: scenarios[1].requests: with rate give requests or duration, not both: the rate fixes one from the other',
      "c.yaml:10:34: scenarios[1].faults.dep.match-path: 'v1/**': a path glob starts with / (e.g. /v1/**)",
      "c.yaml:10:55: scenarios[1].faults.dep.match-header: 'x-tenant': expected 'Name: value' (value may be *)",
      "c.yaml:10:88: scenarios[1].faults.dep.fault-window[1]: '2s..4s': overlaps '1s..3s'",
      "c.yaml:10:96: scenarios[1].faults.dep.fault-window[2]: '5s..4s': ends before it starts",
    ]);
    // The same checks on the command line name the flags.
    expect(() => buildFaultPlan({ windows: ['1s..3s', '2s..4s'], matchHeader: 'x-tenant' })).toThrow(
      "--fault-window '2s..4s': overlaps '1s..3s'; --match-header 'x-tenant': expected 'Name: value' (value may be *)",
    );
  });

  test("options that exclude or bound each other are checked with defaults applied, at the scenario's key", () => {
    const text = [
      'defaults:',
      '  url: http://127.0.0.1:1/',
      '  rate: 10',
      '  max-connections: 5',
      'scenarios:',
      '  - name: one',
      '    concurrency: 10',
      '    duration: 1s',
      '  - name: two',
      '    body: x',
      '    body-file: y',
      '  - name: three',
      '    requests: 5',
      '    duration: 1s',
      '  - { name: four, workers: 4, concurrency: 2, rate: 1, max-connections: 3 }',
    ].join('\n');
    expect(parseProblems(text)).toEqual([
      'c.yaml:7:5: scenarios[0].concurrency: max-connections 5 is less than concurrency 10 (the connections opened at the start)',
      'c.yaml:11:5: scenarios[1].body-file: give body or body-file, not both',
      'c.yaml:13:5: scenarios[2].requests: with rate give requests or duration, not both: the rate fixes one from the other',
      'c.yaml:15:19: scenarios[3].workers: workers 4 is more than concurrency 2: each worker needs a connection',
    ]);
    // A conflict within defaults is reported once, there; defaults' max-connections reaches open-model scenarios only.
    const inDefaults = [
      'defaults: { url: http://127.0.0.1:1/, body: a, body-file: b, max-connections: 5 }',
      'scenarios:',
      '  - { name: one }',
      '  - { name: two, max-connections: 4 }',
    ].join('\n');
    // A concurrency the schema refused is compared with nothing.
    expect(parseProblems('scenarios:\n  - { name: one, url: http://127.0.0.1:1/, concurrency: many, workers: 20 }')).toEqual([
      "c.yaml:2:57: scenarios[0].concurrency: expected an integer, got 'many'",
    ]);
    expect(parseProblems(inDefaults)).toEqual([
      'c.yaml:1:48: defaults.body-file: give body or body-file, not both',
      'c.yaml:4:18: scenarios[1].max-connections: max-connections bounds the open model (rate or stages); ' +
        'the closed model uses exactly concurrency connections',
    ]);
  });

  test('faults and phases may name declared providers only', () => {
    const f = fixture('undeclared-provider.yaml');
    expect(loadProblems('undeclared-provider.yaml')).toEqual([
      `${f}:11:7: scenarios[0].faults.openai: unknown provider 'openai' (declared: a)`,
      `${f}:16:11: scenarios[0].phases[0].providers.anthropic: unknown provider 'anthropic' (declared: a)`,
    ]);
  });

  test('a threshold may name a declared provider only, in a scenario or in defaults', () => {
    // In a block list the braces need no quotes (in a flow list [...] they do: YAML reads { as a map).
    const text = [
      'providers: { openai: { listen: 9101, mock: true }, anthropic: { listen: 9102, mock: true } }',
      'defaults:',
      '  type: chaos',
      '  url: http://127.0.0.1:1/',
      "  thresholds: ['dependency_calls{anthropic}>0', 'dependency_calls{azure}>0']",
      'scenarios:',
      '  - name: a',
      '    thresholds:',
      '      - dependency_calls{openai}>0',
      '      - dependency_calls{opnai}!=0',
      '      - p99{openai}<1s',
    ].join('\n');
    expect(parseProblems(text)).toEqual([
      "c.yaml:5:49: defaults.thresholds[1]: threshold 'dependency_calls{azure}>0': unknown provider 'azure' " +
        "(the run's providers: openai, anthropic)",
      "c.yaml:10:9: scenarios[0].thresholds[1]: threshold 'dependency_calls{opnai}!=0': unknown provider 'opnai': " +
        "did you mean 'openai'? (the run's providers: openai, anthropic)",
      expect.stringMatching(
        /^c\.yaml:11:9: scenarios\[0\]\.thresholds\[2\]: threshold 'p99\{openai\}<1s': p99 is not measured per provider \(a \{provider\} goes with dependency_calls, attempts_max, .*, retry_storm\)$/,
      ),
    ]);
  });

  test('missing fields, chaos without providers, faults on a load scenario', () => {
    expect(parseProblems('scenarios:\n  - name: a\n    type: chaos\n  - url: http://x/\n    faults: {}\n')).toEqual([
      "c.yaml:2:5: scenarios[0]: missing required field 'url' (set it in the scenario or in defaults)",
      'c.yaml:3:11: scenarios[0].type: a chaos scenario needs at least one provider: declare it under providers',
      "c.yaml:4:5: scenarios[1]: missing required field 'name'",
      'c.yaml:5:5: scenarios[1].faults: faults apply to chaos scenarios only (set type: chaos)',
    ]);
    expect(parseProblems('')).toEqual(['c.yaml:1:1: (root): the campaign is empty: it needs at least scenarios']);
    expect(parseProblems('scenarios: []\n')).toEqual(['c.yaml:1:12: scenarios: needs at least 1 entry']);
  });

  test('a campaign built in code gets the same rules on faults, worded the same, before anything starts', () => {
    const campaign: Campaign = {
      file: '(code)',
      providers: { a: { listen: '127.0.0.1:0', mock: {} } },
      scenarios: [
        { name: 'steady', type: 'load', url: 'http://127.0.0.1:1/', requests: 1, faults: { a: { failureRate: 0.5 } } },
        {
          name: 'outage',
          type: 'chaos',
          url: 'http://127.0.0.1:1/',
          requests: 1,
          phases: [{ at: '0s', for: '1s', providers: { b: { faults: 'down' } } }],
        },
      ],
    };
    expect(problemsOf(() => prepareCampaign(campaign)).split('; ')).toEqual([
      "scenario 'steady': faults: faults apply to chaos scenarios only (set type: chaos)",
      "scenario 'outage': phases[0].providers.b: unknown provider 'b' (declared: a)",
    ]);
  });

  test('a campaign built in code: a threshold on a provider it does not declare is refused before anything starts', () => {
    const campaign: Campaign = {
      file: '(code)',
      providers: { a: { listen: '127.0.0.1:0', mock: {} } },
      scenarios: [{ name: 'one', type: 'chaos', url: 'http://127.0.0.1:1/', requests: 1, thresholds: ['dependency_calls{openai}>0'] }],
    };
    expect(problemsOf(() => prepareCampaign(campaign))).toBe(
      "scenario 'one': threshold 'dependency_calls{openai}>0': unknown provider 'openai' (the run's providers: a)",
    );
  });

  test("a campaign built in code: option problems in the file's names, at their paths from the scenario", () => {
    const campaign: Campaign = {
      file: '(code)',
      providers: { a: { listen: '127.0.0.1:0', mock: {} } },
      scenarios: [
        { name: 'one', type: 'load', url: 'http://127.0.0.1:1/', rate: 10, maxConnections: 5, concurrency: 10, body: 'x', bodyFile: 'y' },
        {
          name: 'two',
          type: 'chaos',
          url: 'http://127.0.0.1:1/',
          requests: 1,
          faults: { a: { failureRate: 1.5, windows: ['5s..1s'] } },
          phases: [{ at: '0s', for: '1s', providers: { a: { matchPath: 'v1' } } }],
        },
      ],
    };
    expect(problemsOf(() => prepareCampaign(campaign)).split('; ')).toEqual([
      "scenario 'one': body-file: give body or body-file, not both",
      'max-connections: max-connections 5 is less than concurrency 10 (the connections opened at the start)',
      "scenario 'two': faults.a.failure-rate: '1.5' must be between 0 and 1",
      "faults.a.fault-window[0]: '5s..1s': ends before it starts",
      "scenario 'two': phases[0].providers.a.match-path: 'v1': a path glob starts with / (e.g. /v1/**)",
    ]);
  });

  test('a missing file', () => {
    expect(problemsOf(() => loadCampaign('no/such/resil.yaml', {}))).toBe("campaign file 'no/such/resil.yaml' not found");
  });
});

describe('${VAR} substitution', () => {
  const env = {
    RESIL_TEST_API_KEY: 'sk-very-secret',
    RESIL_TEST_HOST: 'api.internal',
    RESIL_TEST_TOKEN: 'tok-123456',
    RESIL_TEST_CONCURRENCY: '8',
  };

  test('replaces variables in string values; an unquoted number stays a number; $${X} is literal', () => {
    const campaign = loadCampaign(fixture('env.yaml'), env);
    expect(campaign.service?.env).toEqual({ API_KEY: 'sk-very-secret' });
    expect(campaign.scenarios[0]).toEqual({
      name: 'steady',
      type: 'load',
      url: 'http://api.internal:3000/v1',
      headers: { authorization: 'Bearer tok-123456' },
      concurrency: 8,
      body: 'literal ${NOT_A_VAR}',
    });
  });

  test('an unset variable is named at its line and column, and no set value leaks', () => {
    const f = fixture('env.yaml');
    const { RESIL_TEST_HOST: _host, RESIL_TEST_CONCURRENCY: _concurrency, ...partial } = env;
    const problems = loadProblems('env.yaml', partial);
    expect(problems).toEqual([
      `${f}:6:17: scenarios[0].url: environment variable 'RESIL_TEST_HOST' is not set (used as \${RESIL_TEST_HOST})`,
      `${f}:8:18: scenarios[0].concurrency: environment variable 'RESIL_TEST_CONCURRENCY' is not set (used as \${RESIL_TEST_CONCURRENCY})`,
    ]);
    expect(problems.join('\n')).not.toMatch(/sk-very-secret|tok-123456/);
  });

  test('problems with substituted values show ${VAR}, never the value', () => {
    const secret = 'hunter2-secret-value';
    const text = [
      'scenarios:',
      '  - name: a',
      '    url: "https://${RESIL_TEST_HOST}/"',
      '    duration: ${RESIL_TEST_DURATION}',
      "    thresholds: ['p99 < ${RESIL_TEST_LIMIT}']",
      '    expect-status: ${RESIL_TEST_STATUS}',
    ].join('\n');
    const problems = parseProblems(text, {
      RESIL_TEST_HOST: `bad host ${secret}`,
      RESIL_TEST_DURATION: secret,
      RESIL_TEST_LIMIT: secret,
      RESIL_TEST_STATUS: secret,
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe("c.yaml:3:10: scenarios[0].url: 'https://${RESIL_TEST_HOST}/' is not an http:// or https:// URL");
    expect(problems[1]).toBe(
      "c.yaml:4:15: scenarios[0].duration: '${RESIL_TEST_DURATION}' is not a duration (use e.g. 500ms, 10s, 2m, 1m30s)",
    );
    expect(problems[2]).toMatch(/^c\.yaml:5:18: scenarios\[0\]\.thresholds\[0\]: /);
    expect(problems[3]).toMatch(/^c\.yaml:6:20: scenarios\[0\]\.expect-status: /);
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});

describe('the values a campaign took from the environment', () => {
  test('travel with the campaign unseen (not enumerable), with their longer pieces', () => {
    const text = 'scenarios:\n  - { name: a, url: "http://127.0.0.1:1/?token=${RESIL_TEST_TOKEN}", timeout: "${RESIL_TEST_SHORT}" }\n';
    const campaign = parseCampaign(text, 'c.yaml', { RESIL_TEST_TOKEN: 'tok_live-abcdef123', RESIL_TEST_SHORT: '2s' });
    expect(campaign.secrets).toEqual(['tok_live-abcdef123', 'abcdef123', '2s']);
    expect(Object.keys(campaign)).not.toContain('secrets');
    expect(JSON.stringify(campaign)).not.toContain('"secrets"');
  });

  test('prepareCampaign scrubs them from its messages, also for a campaign built in code', () => {
    const campaign: Campaign = {
      file: '(code)',
      providers: {},
      scenarios: [{ name: 'a', type: 'load', url: 'http://127.0.0.1:1/', requests: 1, timeout: 'sk-live-98765' }],
      secrets: ['sk-live-98765'],
    };
    const message = problemsOf(() => prepareCampaign(campaign));
    expect(message).toMatch(/^scenario 'a': .*\[redacted\]/);
    expect(message).not.toContain('98765');
  });
});

describe('provider listen: the forms --listen takes', () => {
  const withListen = (...listens: string[]) =>
    [
      'providers:',
      ...listens.map((listen, i) => `  p${i}: { listen: ${listen}, mock: true }`),
      'scenarios:',
      '  - { name: s, url: http://x/ }',
    ].join('\n');

  test('PORT (a YAML number or a string), :PORT and HOST:PORT, read by the parser of --listen', () => {
    for (const listen of ['18096', '"18096"', "':18096'", '127.0.0.1:18096']) {
      const campaign = parseCampaign(withListen(listen), 'c.yaml', {});
      expect({ listen, address: parseListen(campaign.providers.p0!.listen) }).toEqual({
        listen,
        address: { host: '127.0.0.1', port: 18096 },
      });
    }
    // One address however it is written.
    expect(parseProblems(withListen('18096', '127.0.0.1:18096'))).toEqual([
      "c.yaml:3:17: providers.p1.listen: providers 'p0' and 'p1' both listen on this address",
    ]);
  });

  test('what --listen refuses, the campaign refuses', () => {
    expect(parseProblems(withListen('70000'))[0]).toMatch(/^c\.yaml:2:17: providers\.p0\.listen: must be <= 65535, got 70000/);
    expect(parseProblems(withListen('"99999"'))[0]).toMatch(/^c\.yaml:2:17: providers\.p0\.listen: .*port 99999 is above 65535/);
    expect(parseProblems(withListen('here:there'))[0]).toMatch(
      /^c\.yaml:2:17: providers\.p0\.listen: 'here:there' is not HOST:PORT, :PORT or PORT/,
    );
  });
});

describe('chaos-only thresholds', () => {
  test('a load scenario judged on dependency_calls, amplification or recovery is refused; a chaos scenario takes them', () => {
    const text = (type: string, thresholds: string) =>
      [
        'defaults: { thresholds: [recovery<5s] }',
        'providers: { a: { listen: 9101, mock: true } }',
        'scenarios:',
        `  - { name: s, type: ${type}, url: http://x/, thresholds: [${thresholds}] }`,
      ].join('\n');
    expect(parseProblems(text('load', "'dependency_calls>0', 'p99<1s', 'amplification<2'"))).toEqual([
      "c.yaml:4:57: scenarios[0].thresholds[0]: threshold 'dependency_calls>0': dependency_calls is measured by chaos runs only (set type: chaos); a load run would always fail it with no data",
      "c.yaml:4:89: scenarios[0].thresholds[2]: threshold 'amplification<2': amplification is measured by chaos runs only (set type: chaos); a load run would always fail it with no data",
    ]);
    expect(parseCampaign(text('chaos', "'dependency_calls>0', 'amplification<2'"), 'c.yaml', {}).scenarios[0]!.thresholds).toEqual([
      'dependency_calls>0',
      'amplification<2',
    ]);
    // Defaults apply to load scenarios too: refused where they are written.
    expect(parseProblems(text('load', "'p99<1s'").replace(", thresholds: ['p99<1s']", ''))).toEqual([
      "c.yaml:1:26: defaults.thresholds[0]: threshold 'recovery<5s': recovery is measured by chaos runs only (set type: chaos); a load run would always fail it with no data",
    ]);
  });
});

describe('the schema', () => {
  const schemaFile = new URL('../../schema/resil.schema.json', import.meta.url);

  test('schema/resil.schema.json is the one generated from the option tables (`npm run schema` rewrites it)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(campaignSchemaText());
    expect(CAMPAIGN_SCHEMA).toMatchObject({ $id: expect.any(String), title: expect.any(String), additionalProperties: false });
  });

  test('every object with fixed fields refuses unknown ones, and every field is described', () => {
    const walk = (schema: unknown, where: string): void => {
      if (Array.isArray(schema)) {
        for (const [i, item] of schema.entries()) walk(item, `${where}[${i}]`);
        return;
      }
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (node.properties) {
        expect([where, node.additionalProperties]).toEqual([where, false]);
        for (const [name, field] of Object.entries(node.properties as Record<string, Record<string, unknown>>)) {
          expect([`${where}.${name}`, typeof field.description]).toEqual([`${where}.${name}`, 'string']);
        }
      }
      for (const [key, value] of Object.entries(node)) walk(value, `${where}.${key}`);
    };
    walk(CAMPAIGN_SCHEMA, '#');
  });
});

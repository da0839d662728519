/**
 * Bad campaign input, fuzzed (hardening issue): every flag value, threshold expression, fault mix and
 * campaign file either runs or is a usage error (exit 2) printed as one line (campaign files: one
 * `FILE:LINE:COL:` line per problem): never another error type, never a stack trace, never a hang,
 * and never a secret (a header value or a ${VAR} substitution) echoed in a message.
 *
 * Property tests with fast-check, with a fixed seed so every run (and every counterexample) is
 * reproducible (FUZZ_SEED=N explores another seed). Library-level properties run many cases in-process; CLI-level ones spawn the built
 * CLI a few times each. Everything a spawned run could connect to is 127.0.0.1 (a refused port for
 * load, an ephemeral port for proxies); no service command is ever started.
 */
import fc from 'fast-check';
import { execSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isNode, stringify as stringifyYaml, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { parseCampaign } from '../src/campaign/load.js';
import { prepareCampaign } from '../src/campaign/run-campaign.js';
import type { LoadOptions } from '../src/engine/options.js';
import { buildLoadPlan } from '../src/engine/plan.js';
import { escapeControl, UsageError } from '../src/errors.js';
import { parseFaultMix } from '../src/faults/registry.js';
import { buildFaultPlan, checkFaultSettingsShape } from '../src/proxy/config.js';
import { parseThreshold, type Threshold } from '../src/thresholds/parse.js';
import { suggestableMetricNames } from '../src/thresholds/metrics.js';
import { tryParseDuration } from '../src/util/duration.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_240_611;
fc.configureGlobal({ seed: SEED, numRuns: 500 });

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'run.js');
const SCRATCH = mkdtempSync(join(tmpdir(), 'resil-fuzz-'));
const BODY_FILE = join(SCRATCH, 'body.txt');
writeFileSync(BODY_FILE, '{"prompt":"hi {{i}}"}');
const MISSING_FILE = join(SCRATCH, 'no-such-file.txt');
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

/** Every planted secret contains this; no message may. */
const SECRET_MARK = 'SECRET';
const SECRET_ENV: NodeJS.ProcessEnv = {
  TOKEN: 'SECRET-xyz',
  // Base64 padding, as real API keys have: '=' is also the fault-mix weight separator.
  B64: 'SECRET+/xyz==',
  // Not ASCII: valid in a URL pattern, refused later by the path check.
  WEIRD: 'SECRET-é',
  MULTI: 'SECRET\nline2',
  NUM: '5',
  EMPTY: '',
};

// ---------------------------------------------------------------------------------------------
// Outcome checks

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}\n${error.stack ?? ''}`;
  return `non-Error thrown: ${String(error)}`;
}

class PropertyViolation extends Error {}
function fail(message: string): never {
  throw new PropertyViolation(message);
}

/** Returns the value, or the UsageError (anything else fails the property). */
function valueOrUsage<T>(fn: () => T): Outcome<T> & ({ ok: true; value: T } | { ok: false; error: UsageError }) {
  const outcome = attempt(fn);
  if (!outcome.ok && !(outcome.error instanceof UsageError)) fail(`expected a value or a UsageError, got ${describeError(outcome.error)}`);
  return outcome as Outcome<T> & ({ ok: true; value: T } | { ok: false; error: UsageError });
}

function usageMessage(fn: () => unknown): string | undefined {
  const outcome = valueOrUsage(fn);
  return outcome.ok ? undefined : outcome.error.message;
}

function expectOneLine(message: string): void {
  if (message.trim() === '') fail('empty error message');
  if (/[\r\n]/.test(message)) fail(`message spans lines: ${JSON.stringify(message)}`);
}

function expectNoSecret(message: string): void {
  if (message.includes(SECRET_MARK)) fail(`message shows a secret: ${JSON.stringify(message)}`);
}

const COMPARATORS = new Set(['<', '<=', '>', '>=', '==', '!=']);
const KINDS = new Set(['ratio', 'duration', 'rate', 'count', 'factor']);

function expectThreshold(t: Threshold, source?: string): void {
  if (source !== undefined && t.source !== source) fail(`source ${JSON.stringify(t.source)} is not the input ${JSON.stringify(source)}`);
  if (typeof t.metric !== 'string' || t.metric === '') fail(`bad metric ${String(t.metric)}`);
  if (!COMPARATORS.has(t.comparator)) fail(`bad comparator ${String(t.comparator)}`);
  if (!KINDS.has(t.kind)) fail(`threshold ${JSON.stringify(t.source)} parsed with kind ${String(t.kind)} (value ${String(t.value)})`);
  if (typeof t.value !== 'number' || !Number.isFinite(t.value) || t.value < 0)
    fail(`threshold ${JSON.stringify(t.source)} parsed with value ${String(t.value)}`);
  if (t.kind === 'ratio' && t.value > 1) fail(`ratio above 1: ${t.value}`);
  if (t.metric === 'p' && !(typeof t.percentile === 'number' && t.percentile > 0 && t.percentile <= 100))
    fail(`bad percentile ${String(t.percentile)}`);
  if (t.provider !== undefined && !/^[A-Za-z0-9_.-]+$/.test(t.provider)) fail(`bad provider ${JSON.stringify(t.provider)}`);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: text pieces

const chars = (alphabet: string) => fc.constantFrom(...alphabet);
const anyText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const blank = fc.constantFrom('', '', '', ' ', '  ', '\t', '\n', '\r\n');
const digits = fc.string({ unit: chars('0123456789'), minLength: 1, maxLength: 6 });
/** More digits than a double holds: Number() of it is Infinity. */
const hugeDigits = fc.string({ unit: chars('0123456789'), minLength: 310, maxLength: 330 }).map((s) => `9${s}`);
const numberText = fc.oneof(
  { weight: 5, arbitrary: digits },
  { weight: 3, arbitrary: fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`) },
  { weight: 2, arbitrary: fc.double().map(String) },
  { weight: 2, arbitrary: fc.constantFrom('0', '0.95', '1', '1.5', '-1', '.5', '5.', '1e3', 'NaN', 'Infinity', '0x10', '1_000', '') },
  { weight: 1, arbitrary: hugeDigits },
);
const unitText = fc.constantFrom('', 'ms', 's', 'm', 'h', 'us', 'µs', '%', '/s', 'x', 'mss', 'S', 'sec', 'ns', 'd');
const durationText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(numberText, unitText).map(([n, u]) => n + u) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(digits, fc.constantFrom('h', 'm', 's', 'ms', 'us')), { minLength: 1, maxLength: 3 })
      .map((parts) => parts.map(([n, u]) => n + u).join('')),
  },
  { weight: 1, arbitrary: fc.tuple(blank, fc.constantFrom('10s', '500ms', '0', '1m30s'), blank).map((p) => p.join('')) },
  { weight: 1, arbitrary: anyText },
);

// Every name the registry takes, so a new metric is fuzzed too.
const METRICS = suggestableMetricNames();
const metricText = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...METRICS) },
  { weight: 2, arbitrary: fc.tuple(blank, numberText, blank).map(([a, n, b]) => `p(${a}${n}${b})`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'P99',
      'p99.9',
      'p(',
      'p()',
      'p)',
      'latency',
      '',
      '1abc',
      'x y',
      'constructor',
      'toString',
      '__proto__',
      'hasOwnProperty',
      'valueOf',
      'isPrototypeOf',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: chars('abcdefghijklmnopqrstuvwxyz_0123456789()'), maxLength: 10 }) },
);
// A provider qualifier ('retries{openai}'), often none, sometimes broken.
const providerText = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.constantFrom('{openai}', '{ failover-1 }', '{api.v2_x}') },
  { weight: 2, arbitrary: fc.constantFrom('{}', '{a b}', '{', '}', '{{a}}', '{a}{b}', '{__proto__}', '{a<1}') },
  { weight: 1, arbitrary: fc.string({ unit: chars('{}ab-. <'), maxLength: 6 }) },
);
const operatorText = fc.constantFrom('<', '<=', '>', '>=', '==', '=', '!=', '=>', '=<', '<<', '', '≤', '< =');
const thresholdText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(blank, metricText, providerText, blank, operatorText, blank, numberText, unitText, blank, fc.option(anyText, { nil: '' }))
      .map((parts) => parts.join('')),
  },
  { weight: 2, arbitrary: anyText },
  { weight: 1, arbitrary: fc.string({ unit: chars('p99<>=ms%() .0123456789_'), maxLength: 16 }) },
);

const FAULT_TYPE_NAMES = ['status', 'latency', 'timeout', 'reset', 'close', 'truncate', 'slow-body', 'malformed', 'down'];
const faultArgument = fc.oneof(
  fc.constantFrom(
    '503',
    '429',
    '500',
    '399',
    '600',
    '5xx',
    '0503',
    '100ms',
    '100ms~300ms',
    '300ms~100ms',
    '0',
    '1',
    '-1',
    '1.5',
    '~',
    '',
    'abc',
    '0~0',
    'ms',
    '1024',
  ),
  durationText,
  fc.tuple(durationText, durationText).map(([a, b]) => `${a}~${b}`),
  numberText,
  anyText,
);
const faultEntry = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...FAULT_TYPE_NAMES) },
      { weight: 1, arbitrary: fc.constantFrom('STATUS', 'unknown', '', 'constructor', '__proto__', 'toString') },
      { weight: 1, arbitrary: anyText },
    ),
    fc.option(faultArgument, { nil: undefined }),
    fc.option(fc.oneof(numberText, fc.constantFrom('0', '-1', '', '1e2', '.5', 'abc')), { nil: undefined }),
  )
  .map(([type, arg, weight]) => type + (arg === undefined ? '' : `:${arg}`) + (weight === undefined ? '' : `=${weight}`));
const faultMixText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.array(faultEntry, { maxLength: 5 }), fc.constantFrom(',', ', ', ' ,', ',,'))
      .map(([entries, sep]) => entries.join(sep)),
  },
  { weight: 1, arbitrary: anyText },
);

const windowText = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(durationText, fc.constantFrom('..', '...', '.', '..', '~'), durationText).map((p) => p.join('')) },
  { weight: 1, arbitrary: anyText },
);

const placeholder = fc.oneof(
  fc.constantFrom(
    '{{i}}',
    '{{ uuid }}',
    '{{randomInt 1 100}}',
    '{{randomInt 5 1}}',
    '{{randomInt}}',
    '{{}}',
    '{{ i j }}',
    '{{nope}}',
    '{{',
    '}}',
    '{{{i}}}',
    '{{randomInt -9007199254740993 9007199254740993}}',
  ),
  fc.tuple(fc.constantFrom('randomInt', 'i', 'uuid', ''), numberText, numberText).map(([w, a, b]) => `{{${w} ${a} ${b}}}`),
);
const templateText = fc
  .array(fc.oneof({ weight: 2, arbitrary: placeholder }, { weight: 3, arbitrary: anyText }), { maxLength: 4 })
  .map((parts) => parts.join(''));

/** A path-and-query for the local target: never anything that could move the host. */
const pathText = fc
  .array(fc.oneof(fc.constantFrom('/', '/v1', '/a b', '/é', '?q=1', '#frag', '%zz', '/{{i}}', '/%20'), placeholder, anyText), {
    maxLength: 4,
  })
  .map((parts) => parts.join(''));
/** URLs for the library (nothing is sent): any host, any scheme, any junk. */
const urlText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('http://127.0.0.1:1', 'https://127.0.0.1:1', 'http://[::1]:8080', 'http://example.test'), pathText)
      .map(([origin, path]) => `${origin}/${path}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'http://',
      'http:',
      'http:/x',
      'ftp://127.0.0.1/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      '127.0.0.1:8080',
      'http://127.0.0.1:99999/',
      'http://a b/',
      'http://[::1/',
      '//127.0.0.1/',
      'HTTP://127.0.0.1/',
      'http://127.0.0.1:1/\n',
    ),
  },
  { weight: 1, arbitrary: fc.webUrl() },
  { weight: 1, arbitrary: anyText },
);

const headerName = fc.oneof(
  fc.constantFrom('content-type', 'x-tenant', 'User-Agent', 'Host', 'bad name', 'é', '', 'x:y'),
  fc.string({ maxLength: 8 }),
);
const headerLine = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(headerName, fc.constantFrom(':', ': ', ' : ', '::'), anyText).map((p) => p.join('')) },
  {
    weight: 1,
    arbitrary: fc.tuple(headerName, fc.constantFrom('\n', '\r', '\0', ' \r\n x'), anyText).map(([n, br, v]) => `${n}: a${br}${v}`),
  },
  { weight: 1, arbitrary: anyText },
);
const statusText = fc.oneof(fc.constantFrom('2xx', '200,201,3xx', '6xx', '99', '600', '200,,', '', ' ', '1xx,5XX', '0200'), anyText);
const jsonCheckText = fc.oneof(
  fc.constantFrom('result', 'data.items[0].id=42', '$.a', '$', '=1', 'a..b', 'a[x]', '[0]', 'a=', 'a={"b":1}', '__proto__.x'),
  anyText,
);
const backoffText = fc.oneof(
  fc.tuple(fc.constantFrom('exp:', 'fixed:', 'lin:', ''), durationText).map((p) => p.join('')),
  anyText,
);
const retryOnText = fc.oneof(fc.constantFrom('5xx,429,timeout,reset', '4xx', '503', '399', 'closed,refused,body', 'other', ''), anyText);
const breakerText = fc.oneof(
  fc.tuple(numberText, fc.constantFrom('/', '//', ''), durationText).map((p) => p.join('')),
  anyText,
);

/** Numbers a user (or a YAML file, or a caller) might hand over: negatives, fractions, NaN, huge. */
const countValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 50 }) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 2 ** 53 + 2, 1e300, -0, 0.5) },
);
const durationValue = fc.oneof(durationText, countValue);

// ---------------------------------------------------------------------------------------------
// Library level

describe('parseThreshold', () => {
  const input = fc.oneof(
    { weight: 4, arbitrary: thresholdText },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  );

  test('returns a well-formed threshold or throws a UsageError, nothing else', () => {
    fc.assert(
      fc.property(input, (source) => {
        const outcome = valueOrUsage(() => parseThreshold(source));
        if (outcome.ok) expectThreshold(outcome.value, source);
      }),
      { numRuns: 2000 },
    );
  });

  test('a UsageError is one line and quotes the input', () => {
    fc.assert(
      fc.property(input, (source) => {
        const message = usageMessage(() => parseThreshold(source));
        if (message === undefined) return;
        expectOneLine(message);
        if (!message.includes(escapeControl(source))) fail(`message does not quote the input ${JSON.stringify(source)}: ${message}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('tryParseDuration', () => {
  test('is undefined or a finite number of milliseconds >= 0', () => {
    fc.assert(
      fc.property(durationText, (text) => {
        const ms = tryParseDuration(text);
        if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) fail(`tryParseDuration(${JSON.stringify(text)}) = ${ms}`);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Runs a latency fault's inject() with a fake call and returns the delay it asks for. */
function latencyDelay(fault: { inject(call: never): void }): number {
  let delay = Number.NaN;
  const call = { random: () => 0.5, later: (ms: number) => (delay = ms), passThrough: () => undefined };
  fault.inject(call as never);
  return delay;
}

describe('parseFaultMix', () => {
  const input = fc.oneof({ weight: 4, arbitrary: faultMixText }, { weight: 1, arbitrary: fc.string() });

  test('returns a usable mix or throws a UsageError, nothing else', () => {
    fc.assert(
      fc.property(input, (text) => {
        const outcome = valueOrUsage(() => parseFaultMix(text));
        if (!outcome.ok) return;
        if (outcome.value.length === 0) fail('empty mix accepted');
        for (const { fault, weight } of outcome.value) {
          if (!(Number.isFinite(weight) && weight > 0)) fail(`mix ${JSON.stringify(text)}: weight ${weight} of ${fault.name}`);
          if (typeof fault.name !== 'string' || fault.name === '') fail(`mix ${JSON.stringify(text)}: fault without a name`);
          if (fault.name.startsWith('latency:')) {
            const delay = latencyDelay(fault);
            if (!(Number.isFinite(delay) && delay >= 0)) fail(`mix ${JSON.stringify(text)}: ${fault.name} delays by ${delay} ms`);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a UsageError is one line', () => {
    fc.assert(
      fc.property(input, (text) => {
        const message = usageMessage(() => parseFaultMix(text));
        if (message !== undefined) expectOneLine(message);
      }),
      { numRuns: 2000 },
    );
  });
});

// LoadOptions as a caller (or the CLI, or a campaign) may hand them over.
const loadOptionsArb: fc.Arbitrary<LoadOptions> = fc
  .record(
    {
      url: urlText,
      method: fc.oneof(fc.constantFrom('GET', 'post', 'PATCH', 'G E T', '', 'get\n', 'M-SEARCH'), anyText),
      headers: fc.oneof(
        fc.array(headerLine, { maxLength: 4 }),
        fc.array(fc.tuple(headerName, anyText), { maxLength: 3 }).map((pairs) => Object.fromEntries(pairs) as Record<string, string>),
      ),
      body: templateText,
      bodyFile: fc.constantFrom(BODY_FILE, MISSING_FILE, SCRATCH, ''),
      concurrency: countValue,
      requests: countValue,
      duration: durationValue,
      rate: countValue,
      stages: fc.array(fc.record({ duration: durationValue, rate: countValue }), { maxLength: 3 }),
      timeout: durationValue,
      grace: durationValue,
      expectStatus: statusText,
      expectBody: anyText,
      expectJson: fc.array(jsonCheckText, { maxLength: 3 }),
      thresholds: fc.array(thresholdText, { maxLength: 3 }),
      workers: countValue,
      maxBody: countValue,
      insecure: fc.boolean(),
      seed: countValue,
      redact: fc.array(anyText, { maxLength: 2 }),
      policy: fc.record({ retries: countValue, backoff: backoffText, retryOn: retryOnText, breaker: breakerText }, { requiredKeys: [] }),
      failover: fc.array(urlText, { maxLength: 2 }),
    },
    { requiredKeys: ['url'] },
  )
  .map((options) => options as LoadOptions);

describe('buildLoadPlan', () => {
  test('returns a sane plan or throws a UsageError, nothing else', () => {
    fc.assert(
      fc.property(loadOptionsArb, (options) => {
        const outcome = valueOrUsage(() => buildLoadPlan(options));
        if (!outcome.ok) return;
        const plan = outcome.value;
        if (!(Number.isInteger(plan.concurrency) && plan.concurrency >= 1)) fail(`concurrency ${plan.concurrency}`);
        if (!(Number.isInteger(plan.workers) && plan.workers >= 1 && plan.workers <= plan.concurrency)) fail(`workers ${plan.workers}`);
        if (!(Number.isFinite(plan.timeoutMs) && plan.timeoutMs > 0)) fail(`timeoutMs ${plan.timeoutMs}`);
        if (!(Number.isFinite(plan.graceMs) && plan.graceMs >= 0)) fail(`graceMs ${plan.graceMs}`);
        if (plan.durationMs !== undefined && !(Number.isFinite(plan.durationMs) && plan.durationMs >= 0))
          fail(`durationMs ${plan.durationMs}`);
        if (plan.arrivals && !(Number.isFinite(plan.arrivals.total) && plan.arrivals.total >= 0))
          fail(`arrivals.total ${plan.arrivals.total}`);
        for (const threshold of plan.thresholds) expectThreshold(threshold);
      }),
      { numRuns: 1500 },
    );
  });

  test('a UsageError is one line', () => {
    fc.assert(
      fc.property(loadOptionsArb, (options) => {
        const message = usageMessage(() => buildLoadPlan(options));
        if (message !== undefined) expectOneLine(message);
      }),
      { numRuns: 1000 },
    );
  });

  test('a secret header value never appears in a UsageError', () => {
    const secretHeader = fc
      .tuple(
        fc.constantFrom('Authorization', 'authorization', 'x-api-key', 'Cookie', 'X-Custom'),
        fc.constantFrom(': ', ':', ' : '),
        fc.constantFrom('Bearer ', '', 'token='),
        fc.constantFrom('', '\n', '\r\nx: y', ' \0', ' é'),
      )
      .map(([name, sep, prefix, suffix]) => `${name}${sep}${prefix}${SECRET_ENV.TOKEN}${suffix}`);
    const options = fc
      .tuple(loadOptionsArb, secretHeader, fc.array(headerLine, { maxLength: 3 }), fc.nat(), fc.constantFrom('secret-first', 'record'))
      .map(([base, secret, others, at, shape]) => {
        const lines = [...others];
        lines.splice(at % (lines.length + 1), 0, secret);
        const headers =
          shape === 'record'
            ? Object.fromEntries(
                lines.map((line) => [line.slice(0, Math.max(0, line.indexOf(':'))).trim(), line.slice(line.indexOf(':') + 1).trim()]),
              )
            : lines;
        return { ...base, headers, redact: ['x-custom'] } as LoadOptions;
      });
    fc.assert(
      fc.property(options, (opts) => {
        const message = usageMessage(() => buildLoadPlan(opts));
        if (message !== undefined) expectNoSecret(message);
      }),
      { numRuns: 1000 },
    );
  });

  test('a header line missing its colon is not echoed whole (it may be a secret: -H "Bearer SECRET")', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Authorization Bearer ', 'Bearer ', 'x-api-key='),
        fc.array(headerLine, { maxLength: 2 }),
        (prefix, others) => {
          const message = usageMessage(() =>
            buildLoadPlan({ url: 'http://127.0.0.1:1/', headers: [...others, `${prefix}${SECRET_ENV.TOKEN}`] }),
          );
          if (message !== undefined) expectNoSecret(message);
        },
      ),
      { numRuns: 100 },
    );
  });
});

// Fault settings as JSON (admin API PUT /faults) and as typed settings.
const FAULT_KEYS = ['failureRate', 'faults', 'windows', 'retryAfter', 'matchMethod', 'matchPath', 'matchHeader', 'seed'];
const globText = fc.oneof(
  fc.constantFrom(
    '/v1/**',
    '/**',
    '*',
    '/[',
    '/{a,b}',
    '/{1..9}',
    '/(a|b',
    '/!(x)',
    '/+(a)',
    '/\\',
    'v1/**',
    '',
    '/{1..99999999}',
    '/**/**/**/**',
  ),
  fc.tuple(fc.constantFrom('/', '*'), fc.string({ unit: chars('*?[]{}(),.!+@|\\/a1'), maxLength: 12 })).map(([a, b]) => a + b),
  anyText,
);
const faultFieldValue = (key: string): fc.Arbitrary<unknown> => {
  switch (key) {
    case 'failureRate':
      return fc.oneof(fc.double(), fc.constantFrom(0, 0.5, 1, 1.5, -0.1));
    case 'faults':
      return faultMixText;
    case 'windows':
      return fc.array(windowText, { maxLength: 3 });
    case 'retryAfter':
    case 'seed':
      return countValue;
    case 'matchMethod':
      return fc.oneof(fc.constantFrom('GET', 'GET,POST', ',', ''), anyText);
    case 'matchPath':
      return globText;
    case 'matchHeader':
      return headerLine;
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
};
/** An object with own keys (safe for '__proto__'), values either well-typed or any JSON. */
const faultJsonArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...FAULT_KEYS) },
          { weight: 1, arbitrary: fc.constantFrom('constructor', '__proto__', 'toString', 'failure-rate', 'window') },
          { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
        ),
        { maxLength: 5 },
      )
      .chain((keys) =>
        fc.tuple(
          ...keys.map((key) =>
            fc.tuple(
              fc.constant(key),
              fc.oneof({ weight: 4, arbitrary: faultFieldValue(key) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
            ),
          ),
        ),
      )
      .map((entries) => {
        const record: Record<string, unknown> = {};
        for (const [key, value] of entries)
          Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
        return record;
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

describe('checkFaultSettingsShape and buildFaultPlan', () => {
  test('any JSON value: shape error, plan error (UsageError, one line) or a usable plan', () => {
    fc.assert(
      fc.property(faultJsonArb, (value) => {
        const shape = valueOrUsage(() => checkFaultSettingsShape(value));
        if (!shape.ok) {
          expectOneLine(shape.error.message);
          // A field resil does not know is reported as such, whatever its name.
          if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
            for (const key of Object.keys(value)) {
              if (!FAULT_KEYS.includes(key) && !shape.error.message.includes(`unknown field '${key}'`))
                fail(`field '${key}' not reported as unknown: ${shape.error.message}`);
            }
          }
          return;
        }
        const plan = valueOrUsage(() => buildFaultPlan(shape.value));
        if (!plan.ok) {
          expectOneLine(plan.error.message);
          return;
        }
        if (plan.value.mix.length > 0 && !(Number.isFinite(plan.value.totalWeight) && plan.value.totalWeight > 0))
          fail(`totalWeight ${plan.value.totalWeight}`);
        for (const w of plan.value.windows)
          if (!(Number.isFinite(w.startMs) && Number.isFinite(w.endMs))) fail(`window ${w.source}: ${w.startMs}..${w.endMs}`);
        plan.value.matches?.('GET', '/v1/x', { 'x-tenant': 'beta' });
      }),
      { numRuns: 1500 },
    );
  });

  test('a very long --match-path is a UsageError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 60_000, max: 70_000 }), fc.constantFrom('/a', '/*', '/{a,b}'), (length, unit) => {
        valueOrUsage(() => buildFaultPlan({ faults: 'status:503', matchPath: unit.repeat(Math.ceil(length / unit.length)) }));
      }),
      { numRuns: 5 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Campaign files

/** A campaign using every feature, with secrets in a header and in the service environment. */
function baseCampaign(): Record<string, unknown> {
  return {
    defaults: {
      timeout: '2s',
      concurrency: 20,
      headers: { 'content-type': 'application/json', authorization: 'Bearer ${TOKEN}' },
      thresholds: ['success_rate>=0.95', 'p99<300ms'],
    },
    providers: {
      a: { listen: '127.0.0.1:9101', mock: { status: 200, body: '{"result":"a"}', latency: '20ms~40ms' } },
      b: { listen: '127.0.0.1:9102', mock: true },
      real: { listen: '127.0.0.1:9103', upstream: 'https://api.example.com' },
    },
    service: {
      command: 'node server.mjs',
      env: { API_KEY: '${B64}', PORT: 3000 },
      ready: 'http://127.0.0.1:3000/health',
      'ready-timeout': '15s',
    },
    scenarios: [
      {
        name: 'steady',
        url: 'http://127.0.0.1:3000/v1/complete?key=${TOKEN}',
        method: 'POST',
        body: '{"prompt":"hi {{i}}"}',
        requests: 1000,
        duration: '10s',
        grace: '2s',
        'expect-status': '2xx',
        'expect-body': 'result',
        'expect-json': ['result', 'provider=a'],
        workers: 1,
        seed: 42,
        redact: ['x-tenant-token'],
      },
      {
        name: 'ramp',
        url: 'http://127.0.0.1:3000/v1/complete',
        stages: [
          { duration: '10s', rate: 50 },
          { duration: '20s', rate: 200 },
        ],
        'expect-json': 'result',
      },
      {
        name: 'provider-a-outage',
        type: 'chaos',
        url: 'http://127.0.0.1:3000/v1/complete',
        rate: 50,
        duration: '1m',
        faults: {
          a: {
            'failure-rate': 0.3,
            faults: 'status:503=5,status:429=2,timeout=2,reset=1',
            'retry-after': 1,
            'match-method': 'POST',
            'match-path': '/v1/**',
            'match-header': 'x-tenant: beta',
            'fault-window': ['10s..20s'],
          },
        },
        phases: [
          { at: '30s', for: '10s', providers: { a: { 'failure-rate': 1, faults: 'down' } } },
          { at: '45s', for: '5s', providers: { b: { faults: 'status:500' } } },
        ],
        thresholds: ['success_rate>=0.95', 'p99<300ms', 'recovery<5s', 'amplification<=2'],
      },
    ],
  };
}

const envReference = fc.constantFrom(
  '${TOKEN}',
  'Bearer ${TOKEN}',
  '${TOKEN}s',
  '${UNSET_VAR}',
  '${EMPTY:-5s}',
  '$${TOKEN}',
  '${TOKEN:-x}',
  '${NUM}',
  '${WEIRD}',
  '${B64}',
  '${MULTI}',
  'http://127.0.0.1:1/${WEIRD}',
  'http://127.0.0.1:1/${TOKEN}/{{i}}',
  '${TOKEN}..${NUM}s',
  '{{${TOKEN}}}',
  'p99<${TOKEN}',
  'status:${TOKEN}',
  '${NUM}s',
  '${B64},timeout',
  '${',
  '${1BAD}',
);

/** Values a mutation puts into the file. `short` keeps anything that could make a real run long out. */
function valueArb(short: boolean): fc.Arbitrary<unknown> {
  const duration = short
    ? fc.oneof(
        fc.constantFrom('0', '0s', '1ms', '50ms', '100ms', '300ms', '1s', '-1s', '1x', 'abc', '', '10', '1m30'),
        fc.string({ maxLength: 6 }),
      )
    : durationText;
  const number = short ? fc.constantFrom(-1, 0, 0.5, 1, 2, 3, 1.5, 2 ** 64, Infinity, Number.NaN) : countValue;
  const scalar = fc.oneof(
    { weight: 3, arbitrary: duration },
    { weight: 3, arbitrary: number },
    { weight: 3, arbitrary: envReference },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, '', ' ', 'load', 'chaos', 'a', 'b', 'real', 'down', 'mock') },
    {
      weight: 2,
      arbitrary: short
        ? fc.tuple(fc.constantFrom('http://127.0.0.1:1', 'https://127.0.0.1:1'), pathText).map(([o, p]) => `${o}/${p}`)
        : urlText,
    },
    { weight: 1, arbitrary: windowText },
    { weight: 1, arbitrary: faultMixText },
    { weight: 1, arbitrary: thresholdText },
    { weight: 1, arbitrary: templateText },
    { weight: 1, arbitrary: globText },
    { weight: 1, arbitrary: anyText },
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 6, arbitrary: scalar },
      { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(fc.tuple(mutationKey, tie('value')), { maxLength: 3 }).map(ownObject) },
    ),
  }));
  return value;
}

const mutationKey = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'name',
      'url',
      'type',
      'faults',
      'phases',
      'stages',
      'duration',
      'rate',
      'requests',
      'at',
      'for',
      'providers',
      'listen',
      'mock',
      'upstream',
      'fault-window',
      'thresholds',
      'headers',
      'body',
      'body-file',
      'defaults',
      'scenarios',
      'latency',
      'status',
      'failure-rate',
      'match-path',
      'match-header',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'nme',
      'urls',
      'fault-windows',
      'extra',
      'x',
      '__proto__',
      'constructor',
      'toString',
      '',
      ' ',
      '${TOKEN}',
      'a b',
      '0',
      'c',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

function ownObject(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  return record;
}

type Picks = number[];
interface Mutation {
  op: 'delete' | 'replace' | 'insert' | 'wrap' | 'unwrap' | 'duplicate' | 'stringify';
  at: Picks;
  key: string;
  value: unknown;
}
interface AliasMutation {
  anchorAt: Picks;
  targetAt: Picks;
  /** The alias goes inside the anchored node: a circular structure. */
  inside: boolean;
  count: number;
}
interface TextMutation {
  kind: 'insert' | 'delete' | 'delete-line' | 'duplicate-line' | 'indent';
  at: number;
  length: number;
  text: string;
}

function mutationArb(short: boolean): fc.Arbitrary<Mutation> {
  return fc.record({
    op: fc.constantFrom(
      'delete',
      'delete',
      'replace',
      'replace',
      'replace',
      'insert',
      'insert',
      'wrap',
      'unwrap',
      'duplicate',
      'stringify',
    ),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
    key: mutationKey,
    value: valueArb(short),
  }) as fc.Arbitrary<Mutation>;
}
const aliasArb: fc.Arbitrary<AliasMutation> = fc.record({
  anchorAt: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
  targetAt: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
  inside: fc.boolean(),
  count: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 130 }) }),
});
function textMutationArb(lineOnly: boolean): fc.Arbitrary<TextMutation> {
  return fc.record({
    kind: lineOnly
      ? fc.constantFrom('delete-line', 'duplicate-line', 'indent')
      : fc.constantFrom('insert', 'insert', 'delete', 'delete-line', 'duplicate-line', 'indent'),
    at: fc.nat(),
    length: fc.nat({ max: 6 }),
    text: fc.oneof(
      fc.constantFrom(
        ':',
        '- ',
        ' ',
        '\n',
        '\t',
        '[',
        '{',
        ']',
        '}',
        '"',
        "'",
        '&a ',
        '*a',
        '!!str ',
        '!!int ',
        '? ',
        '#',
        '${',
        '}}',
        '|\n',
        '>\n',
        '---\n',
        '...\n',
        '%YAML 1.1\n',
        '<<: *a\n',
        '\ufeff',
        '\0',
      ),
      fc.string({ maxLength: 4 }),
    ),
  }) as fc.Arbitrary<TextMutation>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Follows `picks` down from the root: each pick chooses a key (or index) of the node there. */
function resolvePath(root: unknown, picks: Picks): Array<string | number> {
  const path: Array<string | number> = [];
  let node = root;
  for (const pick of picks) {
    if (Array.isArray(node) && node.length > 0) {
      const index = pick % node.length;
      path.push(index);
      node = node[index];
    } else if (isPlainObject(node) && Object.keys(node).length > 0) {
      const keys = Object.keys(node);
      const key = keys[pick % keys.length]!;
      path.push(key);
      node = node[key];
    } else break;
  }
  return path;
}

function getAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let node = root;
  for (const segment of path) node = (node as Record<string | number, unknown>)[segment];
  return node;
}

function setOwn(container: unknown, key: string | number, value: unknown): void {
  if (Array.isArray(container)) container[key as number] = value;
  else Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

function applyMutation(root: unknown, m: Mutation): void {
  const path = resolvePath(root, m.at);
  if (path.length === 0) return;
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  const current = getAt(root, path);
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, unknown>)[last as string];
      return;
    case 'replace':
      setOwn(parent, last, structuredClone(m.value));
      return;
    case 'insert':
      if (isPlainObject(current)) setOwn(current, m.key, structuredClone(m.value));
      else if (Array.isArray(current)) current.push(structuredClone(m.value));
      else if (isPlainObject(parent)) setOwn(parent, m.key, structuredClone(m.value));
      return;
    case 'wrap':
      setOwn(parent, last, [current]);
      return;
    case 'unwrap':
      if (Array.isArray(current)) setOwn(parent, last, current[0]);
      else if (isPlainObject(current)) setOwn(parent, last, Object.values(current)[0] ?? null);
      return;
    case 'duplicate':
      if (Array.isArray(parent)) parent.push(structuredClone(current));
      return;
    case 'stringify':
      setOwn(parent, last, typeof current === 'string' ? current : (JSON.stringify(current) ?? 'null'));
      return;
  }
}

/** An anchor on one node and one alias (or a list of `count` aliases) to it at another: also circular ones. */
function applyAlias(doc: Document, data: unknown, alias: AliasMutation, index: number): void {
  const anchorPath = resolvePath(data, alias.anchorAt);
  const targetPath = alias.inside
    ? [...anchorPath, ...resolvePath(getAt(data, anchorPath), alias.targetAt)]
    : resolvePath(data, alias.targetAt);
  if (anchorPath.length === 0 || targetPath.length === 0 || (alias.inside && targetPath.length === anchorPath.length)) return;
  const node = doc.getIn(anchorPath, true);
  if (!isNode(node)) return;
  const ref = doc.createAlias(node as Scalar | YAMLMap | YAMLSeq, `a${index}`);
  doc.setIn(targetPath, alias.count === 1 ? ref : doc.createNode(Array.from({ length: alias.count }, () => ref)));
}

function applyTextMutation(text: string, m: TextMutation): string {
  const at = m.at % (text.length + 1);
  const lines = text.split('\n');
  const line = m.at % Math.max(1, lines.length);
  switch (m.kind) {
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.length + 1);
    case 'delete-line':
      lines.splice(line, 1);
      return lines.join('\n');
    case 'duplicate-line':
      lines.splice(line, 0, lines[line] ?? '');
      return lines.join('\n');
    case 'indent':
      lines[line] = ' '.repeat(m.length) + (lines[line] ?? '').trimStart();
      return lines.join('\n');
  }
}

interface CampaignCase {
  /** ${VAR} references put into leaf values of the base campaign, before the mutations. */
  references?: Reference[];
  mutations: Mutation[];
  aliases: AliasMutation[];
  text: TextMutation[];
  flow: boolean;
}

function campaignCaseArb(short: boolean): fc.Arbitrary<CampaignCase> {
  return fc.record({
    // For spawned runs (short) fewer mutations, so that some files are still valid and really run.
    mutations: fc.array(mutationArb(short), short ? { minLength: 0, maxLength: 2 } : { minLength: 1, maxLength: 5 }),
    aliases: fc.oneof(
      { weight: 4, arbitrary: fc.constant<AliasMutation[]>([]) },
      { weight: 1, arbitrary: fc.array(aliasArb, { minLength: 1, maxLength: 2 }) },
    ),
    text: fc.oneof(
      { weight: 3, arbitrary: fc.constant<TextMutation[]>([]) },
      { weight: 1, arbitrary: fc.array(textMutationArb(short), { minLength: 1, maxLength: 3 }) },
    ),
    flow: fc.boolean(),
  });
}

interface Reference {
  path: Array<string | number>;
  text: string;
  mode: 'replace' | 'prepend' | 'append';
}

/** Paths of every scalar in a campaign. */
function leafPaths(node: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(node)) return node.flatMap((item, i) => leafPaths(item, [...path, i]));
  if (isPlainObject(node)) return Object.entries(node).flatMap(([key, value]) => leafPaths(value, [...path, key]));
  return [path];
}

/** A base campaign with one or two of its values (or parts of them) taken from the environment. */
function withReferencesArb(base: unknown): fc.Arbitrary<Reference[]> {
  const reference = fc.record({
    path: fc.constantFrom(...leafPaths(base)),
    text: envReference,
    mode: fc.constantFrom('replace', 'prepend', 'append'),
  }) as fc.Arbitrary<Reference>;
  return fc.array(reference, { minLength: 1, maxLength: 2 });
}

/** Renders a campaign case to YAML text; `sanitize` runs on the data before rendering. */
function renderCampaign(c: CampaignCase, base: unknown, sanitize?: (data: unknown) => void): string {
  const data = structuredClone(base);
  for (const { path, text, mode } of c.references ?? []) {
    const original = String(getAt(data, path));
    setOwn(
      getAt(data, path.slice(0, -1)),
      path[path.length - 1]!,
      mode === 'replace' ? text : mode === 'prepend' ? text + original : original + text,
    );
  }
  for (const m of c.mutations) applyMutation(data, m);
  sanitize?.(data);
  let text: string;
  try {
    const doc = new Document(data);
    for (const [i, alias] of c.aliases.entries()) applyAlias(doc, data, alias, i);
    text = doc.toString(c.flow ? { collectionStyle: 'flow' } : {});
  } catch {
    text = stringifyYaml(data);
  }
  for (const m of c.text) text = applyTextMutation(text, m);
  return text;
}

const FILE_LINE = /^[^:]+:\d+:\d+: /;

/** parseCampaign, then (as `resil run` does) prepareCampaign: values or UsageErrors only. */
function checkCampaignText(text: string, checks: { types?: boolean; lines?: boolean; secrets?: boolean }): void {
  // Only the `types` check fails on an error other than UsageError; the others look at UsageErrors.
  const run = <T>(fn: () => T) => {
    const outcome = attempt(fn);
    if (!outcome.ok && !(outcome.error instanceof UsageError) && !checks.types) fc.pre(false);
    return valueOrUsage(() => {
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
  };
  const parsed = run(() => parseCampaign(text, 'c.yaml', SECRET_ENV));
  if (!parsed.ok) {
    const message = parsed.error.message;
    if (checks.secrets) expectNoSecret(message);
    if (checks.lines) {
      for (const line of message.split('\n')) {
        if (!FILE_LINE.test(line) && !/^campaign file/.test(line))
          fail(`line not of the form FILE:LINE:COL: ${JSON.stringify(line)}\nin ${JSON.stringify(message)}`);
      }
    }
    return;
  }
  const prepared = run(() => prepareCampaign(parsed.value));
  if (!prepared.ok) {
    if (checks.secrets) expectNoSecret(prepared.error.message);
    if (checks.lines) expectOneLine(prepared.error.message);
  }
}

const fixtureTexts: string[] = (() => {
  const dir = join(ROOT, 'test', 'fixtures', 'campaigns');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'));
})();

describe('parseCampaign', () => {
  const yamlSoup = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'scenarios:',
          'providers:',
          'defaults:',
          'service:',
          '\n',
          '  ',
          '- ',
          'name: x',
          'url: http://127.0.0.1:1/',
          ': ',
          '[',
          ']',
          '{',
          '}',
          ',',
          '&a ',
          '*a',
          '${TOKEN}',
          '"',
          "'",
          '#',
          '|',
          '? ',
          '!!binary ',
        ),
        anyText,
      ),
      { maxLength: 20 },
    )
    .map((parts) => parts.join(''));
  const fixtureMutant =
    fixtureTexts.length === 0
      ? yamlSoup
      : fc
          .tuple(fc.constantFrom(...fixtureTexts), fc.array(textMutationArb(false), { minLength: 1, maxLength: 4 }))
          .map(([text, ms]) => ms.reduce(applyTextMutation, text));
  const randomText = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }), yamlSoup, fixtureMutant);

  test('random text: a campaign or a UsageError of FILE:LINE:COL lines', () => {
    fc.assert(
      fc.property(randomText, (text) => checkCampaignText(text, { types: true, lines: true })),
      { numRuns: 1000 },
    );
  });

  const mutated = campaignCaseArb(false).map((c) => renderCampaign(c, baseCampaign()));

  // Both checks on each case: under the fixed seed two properties over `mutated` drew the same 800
  // cases and parsed each twice.
  test('mutated campaigns: a campaign or a UsageError whose every line is FILE:LINE:COL: ..., never another error', () => {
    fc.assert(
      fc.property(mutated, (text) => checkCampaignText(text, { types: true, lines: true })),
      { numRuns: 800 },
    );
  });

  test('mutated campaigns: no ${VAR} value (a secret) appears in any message', () => {
    const withSecrets = fc
      .tuple(withReferencesArb(baseCampaign()), campaignCaseArb(false), fc.boolean())
      .map(([references, c, mutate]) => renderCampaign({ ...c, references, mutations: mutate ? c.mutations : [] }, baseCampaign()));
    fc.assert(
      fc.property(withSecrets, (text) => checkCampaignText(text, { secrets: true })),
      { numRuns: 800 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// CLI level: the built CLI, spawned

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const SPAWN_TIMEOUT_MS = 15_000;
const CLI_HOME = join(SCRATCH, 'home');
mkdirSync(CLI_HOME, { recursive: true });

function spawnCli(args: string[]): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    // A minimal environment: no CI variables (nothing written to a step summary), no host names.
    const env = { PATH: process.env.PATH ?? '', HOME: CLI_HOME, NO_COLOR: '1', ...SECRET_ENV };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: SCRATCH, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, SPAWN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const STACK = /\n\s+at /;
/** How oclif shows an error that is not resil's own: indented, no 'resil:' prefix. */
const BARE_ERROR = /^\s*(?:\w*Error|Error):/m;

function checkRun(args: string[], run: Spawned, campaignFile?: string): void {
  const shown = `resil ${args.map((a) => JSON.stringify(a)).join(' ')}\nexit ${run.code}${run.signal ? ` (${run.signal})` : ''}\nstderr: ${run.stderr.slice(0, 3000)}\nstdout: ${run.stdout.slice(0, 1000)}`;
  if (run.timedOut) fail(`did not finish within ${SPAWN_TIMEOUT_MS} ms\n${shown}`);
  if (STACK.test(run.stderr) || STACK.test(run.stdout)) fail(`stack trace\n${shown}`);
  if (run.stderr.includes(SECRET_MARK) || run.stdout.includes(SECRET_MARK)) fail(`a secret is shown\n${shown}`);
  if (run.code === null || ![0, 1, 2, 3].includes(run.code)) fail(`unexpected exit\n${shown}`);
  if (BARE_ERROR.test(run.stderr)) fail(`an internal error, not a one-line usage error\n${shown}`);
  // Exit 1 means a threshold failed: the run printed its summary.
  if (run.code === 1 && run.stdout.trim() === '') fail(`exit 1 without a summary (an internal error?)\n${shown}`);
  if (run.code !== 2) return;
  const lines = run.stderr.replace(/\n$/, '').split('\n');
  if (!lines[0]!.startsWith('resil: ')) fail(`usage error not printed as 'resil: ...'\n${shown}`);
  if (campaignFile === undefined) {
    if (lines.length !== 1) fail(`usage error on ${lines.length} lines\n${shown}`);
    return;
  }
  const fileLine = new RegExp(`^${campaignFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `);
  for (const [i, line] of lines.entries()) {
    if (i === 0 && (lines.length === 1 || fileLine.test(line.slice('resil: '.length)))) continue;
    if (!fileLine.test(line)) fail(`line ${i + 1} of the usage error is not FILE:LINE:COL: ${JSON.stringify(line)}\n${shown}`);
  }
}

/** No NUL in argv (spawn refuses it), and nothing that could name another host. */
const cliText = (arb: fc.Arbitrary<string>) => arb.map((s) => s.replace(/\0/g, ''));
/** Mostly a runnable value, else a bad one: a run of all-bad flags only ever tests the first check. */
const goodOrBad = (good: readonly string[], bad: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: cliText(bad) });
const cliDuration = goodOrBad(
  ['0', '1ms', '100ms', '1s', '1.5s', '2s', `${'9'.repeat(320)}ms`],
  fc.oneof(fc.constantFrom('-1s', '10', 'abc', '', '1m30x', ' 1s', '1s\n'), fc.string({ maxLength: 5 })),
);
const cliShortDuration = goodOrBad(
  ['0', '1ms', '20ms', '100ms', `${'9'.repeat(320)}ms`],
  fc.oneof(fc.constantFrom('-1s', '10', 'abc', '', '1x'), fc.string({ maxLength: 4 })),
);
const cliInt = goodOrBad(
  ['1', '2', '3'],
  fc.oneof(fc.constantFrom('-1', '0', '1.5', 'abc', '', '1e3', '0x10', ' 2', '99999999999999999999'), fc.string({ maxLength: 3 })),
);
const cliPath = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('', 'v1', 'v1/x?q={{i}}', 'r/{{uuid}}/{{randomInt 1 9}}') },
  { weight: 1, arbitrary: cliText(pathText) },
);
const cliTarget = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.constant('http://127.0.0.1:1') },
      { weight: 1, arbitrary: fc.constantFrom('https://127.0.0.1:1', 'ftp://127.0.0.1:1', 'http:127.0.0.1:1', '127.0.0.1:1') },
    ),
    cliPath,
  )
  .map(([origin, path]) => `${origin}/${path}`);

function flag(name: string, value: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  return fc.tuple(value, fc.boolean()).map(([v, joined]) => (joined || v.startsWith('-') ? [`${name}=${v}`] : [name, v]));
}

const loadFlagArbs = [
  flag('--concurrency', cliInt),
  flag('--duration', cliDuration),
  flag('--rate', goodOrBad(['1', '5/s', '0.5', '1000'], fc.oneof(fc.constantFrom('0', '-1', 'abc', '1e9', ''), numberText))),
  flag('--method', goodOrBad(['GET', 'post', 'PATCH'], fc.oneof(fc.constantFrom('G E T', ''), anyText))),
  flag('--header', goodOrBad(['content-type: application/json', 'x-a:'], headerLine)),
  flag(
    '--header',
    fc.constantFrom(`Authorization: Bearer ${SECRET_ENV.TOKEN}`, `x-api-key: ${SECRET_ENV.TOKEN}\r\n`, `X-Api-Key:${SECRET_ENV.TOKEN}`),
  ),
  flag('--body', goodOrBad(['{"n":{{i}}}', ''], templateText)),
  flag('--body-file', fc.constantFrom(BODY_FILE, MISSING_FILE, SCRATCH, '')),
  flag('--timeout', cliDuration),
  flag('--grace', cliShortDuration),
  flag('--expect-status', goodOrBad(['2xx', '200,3xx'], statusText)),
  flag('--expect-body', cliText(anyText)),
  flag('--expect-json', goodOrBad(['result', 'a.b[0]=1'], jsonCheckText)),
  flag('--threshold', goodOrBad(['p99<300ms', 'success_rate>=0', 'rps>0', 'p(99.9)<1s'], thresholdText)),
  flag('--workers', fc.constantFrom('0', '1', '2', '-1', 'x', '99', '1.5')),
  flag('--max-body', cliInt),
  flag('--seed', cliInt),
  flag('--redact', cliText(anyText)),
  flag('--nope', cliText(anyText)),
  fc.constant<string[]>(['--insecure']),
];

/** Latency faults stay short: a spawned run must end within the time limit. */
const cliFaultMix = goodOrBad(
  ['status:503', 'status:429=2,timeout=1', 'reset,close', 'truncate:3,malformed', 'slow-body:1000', 'latency:5ms~10ms', 'down'],
  faultMixText,
).map((mix) => mix.replace(/latency:[^,=]*/g, 'latency:5ms'));
const proxyFlagArbs = [
  flag('--listen', fc.constantFrom('127.0.0.1:0', ':0', '0', '127.0.0.1:99999', 'x', '', '[::1]:0', '127.0.0.1:-1', '[::1', '127.0.0.1')),
  flag('--upstream', fc.constantFrom('http://127.0.0.1:1/', 'ftp://127.0.0.1:1/', 'http:', '')),
  flag('--mock-status', goodOrBad(['200', '503', '404'], fc.constantFrom('99', '600', '-1', 'x'))),
  flag('--mock-body', cliText(anyText)),
  flag('--mock-file', fc.constantFrom(BODY_FILE, MISSING_FILE, SCRATCH, '')),
  flag('--mock-latency', fc.oneof(cliShortDuration, fc.constantFrom('5ms~10ms', '10ms~5ms', '~', '1ms~', '~1ms'))),
  flag('--failure-rate', goodOrBad(['0', '0.5', '1', '50%'], fc.oneof(fc.constantFrom('101%', '-0.1', '1.5', 'abc', ''), numberText))),
  flag('--faults', cliFaultMix),
  flag('--fault-window', goodOrBad(['0s..100ms', '0..1ms', `0s..${'9'.repeat(320)}ms`], windowText)),
  flag('--retry-after', cliInt),
  flag('--match-method', goodOrBad(['GET', 'GET,POST'], fc.oneof(fc.constant(','), anyText))),
  flag('--match-path', goodOrBad(['/**', '/v1/*', '/{a,b}/**', `/${'a'.repeat(70_000)}`], globText)),
  flag('--match-header', goodOrBad(['x-tenant: *', 'x-a: b'], headerLine)),
  flag('--retries', fc.constantFrom('-1', '0', '1', '2', 'x', '1.5')),
  flag('--backoff', fc.constantFrom('exp:1ms', 'fixed:5ms', 'exp:', 'lin:5ms', 'fixed:abc', '', 'exp:0', `fixed:${'9'.repeat(320)}ms`)),
  flag('--retry-on', goodOrBad(['5xx,429,timeout,reset', 'closed,refused'], retryOnText)),
  flag('--breaker', goodOrBad(['5/10s', '1/1ms'], fc.oneof(fc.constantFrom('0/1s', '1/0', '/1s', 'x'), breakerText))),
  flag('--failover', fc.constantFrom('http://127.0.0.1:1/', 'http:', 'ftp://127.0.0.1:1/', '')),
];

const REPEATABLE = new Set(['--header', '--expect-json', '--threshold', '--redact', '--fault-window', '--failover']);
const flagName = (group: readonly string[]) => group[0]!.split('=')[0]!;
/** One to three flags; a flag that may be given once is given once (a second is a plain parse error). */
const cliFlags = (arbs: Array<fc.Arbitrary<string[]>>) =>
  fc
    .array(fc.oneof(...arbs), { minLength: 1, maxLength: 3 })
    .map((groups) =>
      groups
        .filter((group, i) => REPEATABLE.has(flagName(group)) || groups.findIndex((other) => flagName(other) === flagName(group)) === i)
        .flat(),
    );

/** Strips what could start anything outside this machine or run long, then keeps the file runnable-or-bad. */
function sanitizeForCli(data: unknown): void {
  const walk = (node: unknown, key: string | undefined, parent: unknown): void => {
    if (typeof node === 'string' && parent !== undefined && key !== undefined) {
      let value = node.replace(/(https?:)[\\/]*[^/?#\\\s]*/gi, '$1//127.0.0.1:1');
      if (key === 'listen' && /\d\s*$/.test(value)) value = '127.0.0.1:0';
      if (key === 'body-file' || key === 'file') value = value.length % 2 === 0 ? BODY_FILE : MISSING_FILE;
      setOwn(parent, Array.isArray(parent) ? Number(key) : key, value);
      return;
    }
    if (Array.isArray(node)) for (const [i, item] of node.entries()) walk(item, String(i), node);
    else if (isPlainObject(node)) for (const k of Object.keys(node)) walk(node[k], k, node);
  };
  walk(data, undefined, undefined);
  if (isPlainObject(data)) {
    delete data.service; // never a shell command
    const defaults = isPlainObject(data.defaults) ? data.defaults : {};
    if (Array.isArray(data.scenarios)) {
      for (const scenario of data.scenarios) {
        // Neither a count nor a duration would run the 10 s default against the refused port.
        if (
          isPlainObject(scenario) &&
          [scenario, defaults].every((s) => s.requests === undefined && s.duration === undefined && s.stages === undefined)
        )
          scenario.requests = 1;
      }
    }
  }
}

function cliCampaign(): Record<string, unknown> {
  return {
    providers: {
      a: { listen: '127.0.0.1:0', mock: { status: 200, body: '{"ok":true}', latency: '1ms' } },
      b: { listen: '127.0.0.1:0', mock: true },
    },
    defaults: { timeout: '300ms', grace: '0s', duration: '200ms', headers: { authorization: 'Bearer ${TOKEN}' } },
    scenarios: [
      { name: 'steady', url: 'http://127.0.0.1:1/x', requests: 1, thresholds: ['success_rate>=0.5'] },
      {
        name: 'outage',
        type: 'chaos',
        url: 'http://127.0.0.1:1/y',
        rate: 10,
        duration: '200ms',
        faults: { a: { faults: 'status:503=1,timeout=1', 'failure-rate': 0.5, 'fault-window': ['0s..100ms'] } },
        phases: [{ at: '50ms', for: '50ms', providers: { b: { faults: 'down' } } }],
      },
    ],
  };
}

describe('the CLI', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'commands', 'load.js'))) execSync('npx tsc -p tsconfig.build.json', { cwd: ROOT, stdio: 'inherit' });
  }, 120_000);

  // Shrinking spawns the CLI again and again: it is cut off after a while (the failure found is kept).
  const cliRuns = { numRuns: 8, interruptAfterTimeLimit: 15_000 };
  const huge = `${'9'.repeat(320)}ms`;

  test('resil load with bad flag values: runs (0/1/3) or exits 2 with one line', async () => {
    const examples: Array<[string, string[]]> = [
      ['http://127.0.0.1:1/', ['--threshold', 'p99<\n']],
      ['http://127.0.0.1:1/', ['--threshold', 'toString<1']],
    ];
    await fc.assert(
      fc.asyncProperty(cliTarget, cliFlags(loadFlagArbs), async (target, flags) => {
        const args = ['load', target, '-n', '1', ...flags];
        checkRun(args, await spawnCli(args));
      }),
      { ...cliRuns, examples },
    );
  }, 60_000);

  test('resil chaos --mock with bad flag values: runs (0/1/3) or exits 2 with one line', async () => {
    const noTimeout = loadFlagArbs.filter((_, i) => i !== 8); // --timeout is fixed: a held call must not wait 10 s
    const examples: Array<[string | undefined, string[]]> = [
      [undefined, ['--faults', 'status:503', '--match-path', `/${'a'.repeat(70_000)}`]],
      [undefined, ['--faults', 'status:503', '--fault-window', `0s..${huge}`, '--mock-latency', huge]],
    ];
    await fc.assert(
      fc.asyncProperty(fc.option(cliTarget, { nil: undefined }), cliFlags([...proxyFlagArbs, ...noTimeout]), async (target, flags) => {
        const listen = target !== undefined && !flags.some((f) => f.startsWith('--listen')) ? ['--listen', '127.0.0.1:0'] : [];
        const args = ['chaos', ...(target === undefined ? [] : [target]), '--mock', '-n', '1', '--timeout', '300ms', ...listen, ...flags];
        checkRun(args, await spawnCli(args));
      }),
      { ...cliRuns, examples },
    );
  }, 60_000);

  test('resil run with a bad campaign file: runs (0/1/3) or exits 2 with FILE:LINE:COL lines', async () => {
    const scenario = 'scenarios:\n  - name: s\n    url: http://127.0.0.1:1/\n    requests: 1\n';
    const examples: Array<[string, boolean]> = [
      [`${scenario}    headers: &h { x-a: b }\n    redact: [${Array.from({ length: 101 }, () => '*h').join(', ')}]\n`, false],
      [`${scenario}    type: &t [ *t ]\n`, false],
      [`${scenario}    duration: "1s\\nfoo"\n`, false],
    ];
    let index = 0;
    const campaignText = campaignCaseArb(true).map((c) => renderCampaign(c, cliCampaign(), sanitizeForCli));
    await fc.assert(
      fc.asyncProperty(campaignText, fc.boolean(), async (text, dryRun) => {
        const file = join(SCRATCH, `campaign-${index++}.yaml`);
        writeFileSync(file, text);
        const args = ['run', file, ...(dryRun ? ['--dry-run'] : [])];
        checkRun(args, await spawnCli(args), file);
      }),
      { ...cliRuns, examples },
    );
  }, 60_000);
});

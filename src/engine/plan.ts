import { readFileSync } from 'node:fs';
import { ProblemList, UsageError } from '../errors.js';
import { parseThreshold, withDefaults, type Threshold } from '../thresholds/parse.js';
import { tryParseDuration } from '../util/duration.js';
import { newSeed } from '../util/random.js';
import { parseTargetUrl } from '../util/url.js';
import { redactUrlText } from '../util/redact.js';
import { buildChecks, type SuccessChecks } from './checks.js';
import { flagNames, flagWording, type OptionProblem } from '../util/option-table.js';
import { LOAD_DEFAULTS, LOAD_OPTIONS, type LoadOptions } from './options.js';
import { compileTemplate, type Template } from './template.js';
import { buildPolicyPlan, POLICY_OPTIONS, type PolicyPlan } from './policy-options.js';
import { constantArrivals, stagedArrivals, type ArrivalSchedule } from './arrivals.js';

/** The default duration (ms) when neither a count nor a duration is given. */
const DEFAULT_DURATION_MS = tryParseDuration(LOAD_DEFAULTS.duration)!;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A validated, ready-to-run load plan: everything the executors need and nothing they must re-check. */
export interface LoadPlan {
  /** Options with the body file already read: what a worker thread receives to rebuild this plan. */
  options: LoadOptions;
  origin: string;
  /** Path and query, possibly templated. */
  path: Template;
  method: string;
  /** Flat [name, value, ...] list as undici takes it. */
  headers: string[];
  headerPairs: Array<[string, string]>;
  body: Template | undefined;
  model: 'closed' | 'open';
  /** Closed model: the connections. Open model: the connections opened at the start. */
  concurrency: number;
  /** Open model: the most connections, opened on demand (closed model: the concurrency). */
  maxConnections: number;
  requests: number | undefined;
  durationMs: number | undefined;
  rate: number | undefined;
  /** Open model: when each request is due. */
  arrivals: ArrivalSchedule | undefined;
  timeoutMs: number;
  graceMs: number;
  workers: number;
  maxBodyBytes: number;
  insecure: boolean;
  seed: number;
  checks: SuccessChecks;
  thresholds: Threshold[];
  redact: ReadonlySet<string>;
  /** This process's shard of the run (0 of 1 when unsharded). */
  shard: { index: number; count: number };
  /** Where requests go: the target, then (policy mode) each failover provider. */
  targets: Array<{ origin: string; path: Template }>;
  policy: PolicyPlan | undefined;
}

/** Validates options and returns the plan, or throws one UsageError listing every problem found. */
export function buildLoadPlan(input: LoadOptions): LoadPlan {
  const problems = new ProblemList();

  const url = problems.attempt(() => parseTargetUrl(input.url));
  const method = (input.method ?? LOAD_OPTIONS.method.default).toUpperCase();
  if (!TOKEN.test(method)) problems.add(`--method: '${input.method}' is not an HTTP method`);

  const headerPairs = problems.attempt(() => parseHeaders(input.headers)) ?? [];
  const nameOf = flagNames(LOAD_OPTIONS);
  for (const problem of checkExclusiveOptions(input, nameOf)) problems.add(flagWording(LOAD_OPTIONS, problem));
  let bodyText = input.body;
  if (input.bodyFile !== undefined && input.body === undefined) {
    bodyText = problems.attempt(() => readBodyFile(input.bodyFile!));
  }

  const givenConcurrency = checkCount(problems, '--concurrency', input.concurrency, 1);
  const maxConnections = checkCount(problems, '--max-connections', input.maxConnections, 1);
  const open = input.rate !== undefined || input.stages !== undefined;
  // Open model: the default start never exceeds a --max-connections the user set lower.
  const concurrency =
    givenConcurrency ??
    (open && maxConnections !== undefined ? Math.min(LOAD_DEFAULTS.concurrency, maxConnections) : LOAD_DEFAULTS.concurrency);
  if (maxConnections !== undefined && !open) {
    problems.add('--max-connections bounds the open model (--rate or stages); the closed model uses exactly --concurrency connections');
  } else if (maxConnections !== undefined && maxConnections < concurrency) {
    problems.add(`--max-connections ${maxConnections} is less than --concurrency ${concurrency} (the connections opened at the start)`);
  }
  const requests = checkCount(problems, '--requests', input.requests, 1);
  const workers = checkCount(problems, '--workers', input.workers, 1) ?? LOAD_OPTIONS.workers.default;
  const rate = input.rate;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0))
    problems.add(`--rate: '${rate}' must be a number above 0 (requests per second)`);
  const durationMs = checkDurationOption(problems, '--duration', input.duration, false);
  const timeoutMs = checkDurationOption(problems, '--timeout', input.timeout ?? LOAD_OPTIONS.timeout.default, false) ?? 0;
  const graceMs = checkDurationOption(problems, '--grace', input.grace ?? LOAD_OPTIONS.grace.default, true) ?? 0;
  const maxBodyBytes = checkCount(problems, '--max-body', input.maxBody ?? LOAD_OPTIONS.maxBody.default, 0) ?? 0;
  const staged = input.stages === undefined ? undefined : problems.attempt(() => stagedArrivals(input.stages!));
  const shard = input.shard ?? { index: 0, count: 1 };
  if (
    !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)
  ) {
    problems.add(`--shard: ${shard.index + 1}/${shard.count} is not a shard (use I/N with 1 <= I <= N)`);
  } else if (workers * shard.count > concurrency) {
    problems.add(
      shard.count === 1
        ? `--workers ${workers} is more than --concurrency ${concurrency}: each worker needs a connection`
        : `--concurrency ${concurrency} is less than ${workers * shard.count} (workers × shards): each needs a connection`,
    );
  }
  if (input.seed !== undefined && !(Number.isInteger(input.seed) && input.seed >= 0))
    problems.add(`--seed: '${input.seed}' must be a whole number >= 0`);

  const checks = problems.attempt(() => buildChecks(input));
  const userThresholds = (input.thresholds ?? [])
    .map((source) => problems.attempt(() => parseThreshold(source)))
    .filter((t): t is Threshold => t !== undefined);
  const thresholds = withDefaults(userThresholds, [LOAD_DEFAULTS.threshold]);

  const path = url ? problems.attempt(() => compilePathTemplate(input.url)) : undefined;
  const policy = input.policy ? buildPolicyPlan(input.policy, (problem) => problems.add(flagWording(POLICY_OPTIONS, problem))) : undefined;
  const failover = (input.failover ?? []).map((text) =>
    problems.attempt(() => ({ origin: parseTargetUrl(text).origin, path: compilePathTemplate(text) })),
  );
  if (failover.length > 0 && !input.policy) problems.add('--failover needs policy mode (resil chaos without a service URL)');
  const body = bodyText === undefined ? undefined : problems.attempt(() => compileTemplate(bodyText!, '--body'));

  problems.throwIfAny();

  // Credentials in the URL become Basic authentication, as curl does (unless an Authorization header is given).
  if (url && (url.username !== '' || url.password !== '') && !headerPairs.some(([name]) => name.toLowerCase() === 'authorization')) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headerPairs.push(['authorization', `Basic ${Buffer.from(credentials).toString('base64')}`]);
  }
  const headers: string[] = [];
  for (const [name, value] of headerPairs) headers.push(name, value);
  if (!headerPairs.some(([name]) => name.toLowerCase() === 'user-agent')) headers.push('user-agent', 'resil');

  const options: LoadOptions = { ...input };
  delete options.bodyFile;
  if (bodyText !== undefined) options.body = bodyText;
  const seed = input.seed ?? newSeed();
  options.seed = seed;

  return {
    options,
    origin: url!.origin,
    path: path!,
    method,
    headers,
    headerPairs,
    body,
    model: open ? 'open' : 'closed',
    concurrency,
    maxConnections: open ? (maxConnections ?? Math.max(concurrency, LOAD_DEFAULTS.maxConnections)) : concurrency,
    requests,
    // Neither a count nor a duration: run for the default duration, as autocannon and k6 do.
    durationMs: staged
      ? staged.steps.reduce((sum, step) => sum + step.durationMs, 0)
      : (durationMs ?? (requests === undefined ? DEFAULT_DURATION_MS : undefined)),
    rate,
    arrivals:
      staged ??
      (rate === undefined
        ? undefined
        : constantArrivals(rate, requests ?? Math.floor(((durationMs ?? DEFAULT_DURATION_MS) * rate) / 1000))),
    timeoutMs,
    graceMs,
    workers,
    maxBodyBytes,
    insecure: input.insecure ?? LOAD_OPTIONS.insecure.default,
    seed,
    checks: checks!,
    thresholds,
    redact: new Set((input.redact ?? []).map((name) => name.toLowerCase())),
    targets: [{ origin: url!.origin, path: path! }, ...failover.map((target) => target!)],
    shard,
    policy,
  };
}

/**
 * Options that exclude each other: body and bodyFile; rate with both requests and duration (the rate
 * fixes one from the other); stages and rate, requests, duration (the stages fix all three).
 * `nameOf` names an option as the front end does ('--rate', or 'rate').
 */
export function checkExclusiveOptions(
  options: Readonly<Partial<Record<keyof LoadOptions, unknown>>>,
  nameOf: (field: string) => string,
): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (options.body !== undefined && options.bodyFile !== undefined) {
    problems.push({ field: 'bodyFile', message: `give ${nameOf('body')} or ${nameOf('bodyFile')}, not both` });
  }
  if (options.rate !== undefined && options.requests !== undefined && options.duration !== undefined) {
    const [rate, requests, duration] = [nameOf('rate'), nameOf('requests'), nameOf('duration')];
    problems.push({
      field: 'requests',
      message: `with ${rate} give ${requests} or ${duration}, not both: the rate fixes one from the other`,
    });
  }
  const clashing = (['rate', 'duration', 'requests'] as const).filter((field) => options[field] !== undefined);
  if (options.stages !== undefined && clashing.length > 0) {
    const remove = clashing.map(nameOf).join(', ');
    problems.push({ field: 'stages', message: `stages fix the rate, the count and the duration: remove ${remove} (or the stages)` });
  }
  return problems;
}

/**
 * The path-and-query template, taken from the user's text (URL parsing would percent-encode the
 * placeholders' braces and spaces). Rendered once here so a path undici would refuse is caught now.
 */
function compilePathTemplate(text: string): Template {
  const afterScheme = text.indexOf('//') + 2;
  const slash = text.indexOf('/', afterScheme);
  const question = text.indexOf('?', afterScheme);
  const start = slash === -1 ? question : question === -1 ? slash : Math.min(slash, question);
  let raw = start === -1 ? '/' : text.slice(start);
  const hash = raw.indexOf('#');
  if (hash !== -1) raw = raw.slice(0, hash);
  if (raw.startsWith('?')) raw = `/${raw}`;
  const template = compileTemplate(raw, 'URL');
  const sample = template.constant ? template.text : template.render(0, () => 0.5);
  if (/[^\x21-\x7e]/.test(sample))
    throw new UsageError(`URL: the path '${redactUrlText(sample)}' has spaces or other characters that must be percent-encoded`);
  return template;
}

function parseHeaders(input: LoadOptions['headers']): Array<[string, string]> {
  if (input === undefined) return [];
  const lines: Array<[string, string]> = Array.isArray(input)
    ? (input as readonly string[]).map((line) => {
        const colon = line.indexOf(':');
        // Echo only the first word: a header without its colon may be a name followed by a secret.
        if (colon <= 0) {
          const name = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(line.trim())![0].slice(0, 40);
          throw new UsageError(`--header '${name}${name.length < line.trim().length ? '…' : ''}': expected 'Name: value'`);
        }
        return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      })
    : Object.entries(input as Record<string, string>);
  for (const [name, value] of lines) {
    if (!TOKEN.test(name)) throw new UsageError(`--header: '${name}' is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new UsageError(`--header ${name}: the value contains a line break`);
  }
  return lines;
}

function readBodyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`--body-file '${path}': ${reason}`);
  }
}

function checkCount(problems: ProblemList, flag: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) {
    problems.add(`${flag}: '${value}' must be a whole number >= ${min}`);
    return undefined;
  }
  return value;
}

function checkDurationOption(
  problems: ProblemList,
  flag: string,
  value: number | string | undefined,
  zeroAllowed: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : tryParseDuration(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    problems.add(`${flag}: '${value}' is not a duration (use e.g. 500ms, 10s, 2m)`);
    return undefined;
  }
  if (ms < 0 || (!zeroAllowed && ms === 0)) {
    problems.add(`${flag}: '${value}' must be ${zeroAllowed ? 'zero or more' : 'more than zero'}`);
    return undefined;
  }
  return ms;
}

import { readFileSync } from 'node:fs';
import { ProblemList, UsageError } from '../errors.js';
import { parseThreshold, withAbortOnFail, withDefaults, type Threshold } from '../thresholds/parse.js';
import { tryParseDuration } from '../util/duration.js';
import { newSeed } from '../util/random.js';
import { parseTargetUrl } from '../util/url.js';
import { redactUrlText } from '../util/redact.js';
import { buildChecks, type SuccessChecks } from './checks.js';
import { flagWording, inWording, OptionError, type OptionProblem, type OptionWording } from '../util/option-table.js';
import { LOAD_DEFAULTS, LOAD_OPTIONS, type LoadOptions } from './options.js';
import { compileTemplate, type Template } from './template.js';
import { buildPolicyPlan, POLICY_OPTIONS, type PolicyPlan } from './policy-options.js';
import { constantArrivals, stagedArrivals, type ArrivalSchedule } from './arrivals.js';
import { requestIdProblem, requestIdsFor, type RequestIdOptions, type RequestIds } from './request-ids.js';

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
  /** Chaos runs: the id headers each request carries (a header the user gives wins). */
  requestIds: RequestIds | undefined;
}

/**
 * Validates options and returns the plan, or throws one UsageError listing every problem found;
 * `word` words the options' problems (default: the command line's, naming flags).
 */
export function buildLoadPlan(input: LoadOptions, word: OptionWording = flagWording): LoadPlan {
  const problems = new ProblemList();
  const report = (problem: OptionProblem | undefined) => {
    if (problem) problems.add(word(LOAD_OPTIONS, problem));
  };
  const attempt = <T>(fn: () => T): T | undefined => problems.attempt(() => inWording(word, fn));

  const url = problems.attempt(() => parseTargetUrl(input.url));
  const method = (input.method ?? LOAD_OPTIONS.method.default).toUpperCase();
  if (!TOKEN.test(method)) report({ field: 'method', message: `'${input.method}' is not an HTTP method` });

  const headerPairs = attempt(() => parseHeaders(input.headers)) ?? [];
  for (const problem of checkExclusiveOptions(input)) report(problem);
  let bodyText = input.body;
  if (input.bodyFile !== undefined && input.body === undefined) {
    bodyText = attempt(() => readBodyFile(input.bodyFile!));
  }

  const counts = ['concurrency', 'maxConnections', 'requests', 'workers'] as const;
  for (const field of counts) report(checkCount(field, input[field], 1));
  const open = isOpenModel(input);
  const concurrency = connectionsAtStart(input);
  const maxConnections = validCount(input.maxConnections, 1);
  const requests = validCount(input.requests, 1);
  const workers = validCount(input.workers, 1) ?? LOAD_OPTIONS.workers.default;
  const maxBodyBytes = validCount(input.maxBody ?? LOAD_OPTIONS.maxBody.default, 0) ?? 0;
  const rate = input.rate;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0))
    report({ field: 'rate', message: `'${rate}' must be a number above 0 (requests per second)` });
  const durationMs = checkDurationOption(report, 'duration', input.duration, false);
  const timeoutMs = checkDurationOption(report, 'timeout', input.timeout ?? LOAD_OPTIONS.timeout.default, false) ?? 0;
  const graceMs = checkDurationOption(report, 'grace', input.grace ?? LOAD_OPTIONS.grace.default, true) ?? 0;
  report(checkCount('maxBody', input.maxBody ?? LOAD_OPTIONS.maxBody.default, 0));
  const staged = input.stages === undefined ? undefined : problems.attempt(() => stagedArrivals(input.stages!));
  const shard = input.shard ?? { index: 0, count: 1 };
  for (const problem of checkConnectionOptions(input)) report(problem);
  if (input.seed !== undefined && !(Number.isInteger(input.seed) && input.seed >= 0))
    report({ field: 'seed', message: `'${input.seed}' must be a whole number >= 0` });

  const checks = attempt(() => buildChecks(input));
  const userThresholds = (input.thresholds ?? [])
    .map((source) => problems.attempt(() => parseThreshold(source)))
    .filter((t): t is Threshold => t !== undefined);
  const thresholds = withAbortOnFail(withDefaults(userThresholds, [LOAD_DEFAULTS.threshold]), input.abortOnFail === true);

  const path = url ? problems.attempt(() => compilePathTemplate(input.url)) : undefined;
  const policy = input.policy ? buildPolicyPlan(input.policy, (problem) => problems.add(word(POLICY_OPTIONS, problem))) : undefined;
  const failover = (input.failover ?? []).map((text) =>
    problems.attempt(() => ({ origin: parseTargetUrl(text).origin, path: compilePathTemplate(text) })),
  );
  if (failover.length > 0 && !input.policy) problems.add('--failover needs policy mode (resil chaos without a service URL)');
  const body = bodyText === undefined ? undefined : problems.attempt(() => compileTemplate(bodyText!, '--body'));
  const idProblem = input.requestIds === undefined ? undefined : requestIdProblem(input.requestIds);
  if (idProblem !== undefined) problems.add(idProblem);

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
    requestIds:
      input.requestIds === undefined
        ? undefined
        : requestIdsFor(
            input.requestIds,
            headerPairs.map(([name]) => name),
          ),
  };
}

/** The plan with each request carrying ids from `ids` (a campaign gives them when it runs a prepared scenario). */
export function withRequestIds(plan: LoadPlan, ids: RequestIdOptions): LoadPlan {
  const problem = requestIdProblem(ids);
  if (problem !== undefined) throw new UsageError(problem);
  return {
    ...plan,
    options: { ...plan.options, requestIds: ids },
    requestIds: requestIdsFor(
      ids,
      plan.headerPairs.map(([name]) => name),
    ),
  };
}

/**
 * Options that exclude each other: body and bodyFile; rate with both requests and duration (the rate
 * fixes one from the other); stages and rate, requests, duration (the stages fix all three).
 */
export function checkExclusiveOptions(options: Readonly<Partial<Record<keyof LoadOptions, unknown>>>): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (options.body !== undefined && options.bodyFile !== undefined) {
    problems.push({ field: 'bodyFile', named: true, message: 'give {body} or {bodyFile}, not both' });
  }
  if (options.rate !== undefined && options.requests !== undefined && options.duration !== undefined) {
    problems.push({
      field: 'requests',
      named: true,
      message: 'with {rate} give {requests} or {duration}, not both: the rate fixes one from the other',
    });
  }
  const clashing = (['rate', 'duration', 'requests'] as const).filter((field) => options[field] !== undefined);
  if (options.stages !== undefined && clashing.length > 0) {
    const remove = clashing.map((field) => `{${field}}`).join(', ');
    problems.push({
      field: 'stages',
      named: true,
      message: `{stages} fix the rate, the count and the duration: remove ${remove} (or the stages)`,
    });
  }
  return problems;
}

/**
 * Options that bound each other's connections: max-connections (open model only) and the connections
 * opened at the start; one connection per worker (per shard). Values that are not valid counts are
 * left to their own checks (a concurrency that is not one is compared with nothing).
 */
export function checkConnectionOptions(options: Readonly<Partial<LoadOptions>>): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const maxConnections = validCount(options.maxConnections, 1);
  const concurrency = connectionsAtStart(options);
  const comparable = options.concurrency === undefined || validCount(options.concurrency, 1) !== undefined;
  if (maxConnections !== undefined && !isOpenModel(options)) {
    problems.push({
      field: 'maxConnections',
      named: true,
      message: '{maxConnections} bounds the open model ({rate} or {stages}); the closed model uses exactly {concurrency} connections',
    });
  } else if (comparable && maxConnections !== undefined && maxConnections < concurrency) {
    problems.push({
      field: 'maxConnections',
      named: true,
      message: `{maxConnections} ${maxConnections} is less than {concurrency} ${concurrency} (the connections opened at the start)`,
    });
  }
  const workers = validCount(options.workers, 1) ?? LOAD_OPTIONS.workers.default;
  const { index, count } = options.shard ?? { index: 0, count: 1 };
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    problems.push({ field: 'shard', message: `${index + 1}/${count} is not a shard (use I/N with 1 <= I <= N)` });
  } else if (comparable && workers * count > concurrency) {
    problems.push(
      count === 1
        ? {
            field: 'workers',
            named: true,
            message: `{workers} ${workers} is more than {concurrency} ${concurrency}: each worker needs a connection`,
          }
        : {
            field: 'concurrency',
            named: true,
            message: `{concurrency} ${concurrency} is less than ${workers * count} (workers × shards): each needs a connection`,
          },
    );
  }
  return problems;
}

/** Open model: requests on a schedule (a rate, or stages); closed model: each connection loops. */
function isOpenModel(options: Readonly<Partial<LoadOptions>>): boolean {
  return options.rate !== undefined || options.stages !== undefined;
}

/** The connections opened at the start; in the open model the default never exceeds a lower max-connections. */
function connectionsAtStart(options: Readonly<Partial<LoadOptions>>): number {
  const given = validCount(options.concurrency, 1);
  const maxConnections = validCount(options.maxConnections, 1);
  if (given !== undefined) return given;
  return isOpenModel(options) && maxConnections !== undefined
    ? Math.min(LOAD_DEFAULTS.concurrency, maxConnections)
    : LOAD_DEFAULTS.concurrency;
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
          const shown = `${name}${name.length < line.trim().length ? '…' : ''}`;
          throw new OptionError(LOAD_OPTIONS, { field: 'headers', value: shown, message: "expected 'Name: value'" });
        }
        return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      })
    : Object.entries(input as Record<string, string>);
  for (const [name, value] of lines) {
    if (!TOKEN.test(name)) throw new OptionError(LOAD_OPTIONS, { field: 'headers', message: `'${name}' is not a valid header name` });
    if (/[\r\n\0]/.test(value))
      throw new OptionError(LOAD_OPTIONS, { field: 'headers', named: true, message: `{headers} ${name}: the value contains a line break` });
  }
  return lines;
}

function readBodyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new OptionError(LOAD_OPTIONS, { field: 'bodyFile', value: path, message: reason });
  }
}

/** The value when it is a whole number >= min, else undefined. */
function validCount(value: unknown, min: number): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min ? value : undefined;
}

function checkCount(field: string, value: number | undefined, min: number): OptionProblem | undefined {
  if (value === undefined || validCount(value, min) !== undefined) return undefined;
  return { field, message: `'${value}' must be a whole number >= ${min}` };
}

function checkDurationOption(
  report: (problem: OptionProblem) => void,
  field: string,
  value: number | string | undefined,
  zeroAllowed: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : tryParseDuration(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    report({ field, message: `'${value}' is not a duration (use e.g. 500ms, 10s, 2m)` });
    return undefined;
  }
  if (ms < 0 || (!zeroAllowed && ms === 0)) {
    report({ field, message: `'${value}' must be ${zeroAllowed ? 'zero or more' : 'more than zero'}` });
    return undefined;
  }
  return ms;
}

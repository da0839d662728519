import { UsageError } from '../errors.js';
import { tryParseDuration } from '../util/duration.js';
import { closestName } from '../util/suggest.js';
import type { MetricKind } from '../model/result.js';
import {
  judges,
  knownMetricNames,
  metricNamed,
  windowedMetricNames,
  perProviderMetricNames,
  resolveMetricName,
  suggestableMetricNames,
} from './metrics.js';

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed threshold. `source` is the user's text, kept verbatim for reports. */
export interface Threshold {
  source: string;
  /** The registry's name of the metric: 'success_rate', 'p', 'rps'... ('p' carries `percentile`). */
  metric: string;
  percentile?: number;
  /** `NAME{provider}`: the metric measured on that provider's calls alone (metrics with `perProvider` only). */
  provider?: string;
  comparator: Comparator;
  /** In the metric's base unit: ratios as 0..1, durations in ms, rates, counts and factors as given. */
  value: number;
  kind: MetricKind;
  /** True when resil added it because the user gave none. */
  isDefault?: boolean;
  /** `over 30s`: judged on its worst window of this many ms (whole seconds) instead of the whole run. */
  windowMs?: number;
  /** `abort` / `abort after 10s`: a failure seen while the run goes on stops it, from `afterMs` after the start. */
  abort?: { afterMs: number };
}

/** The words that may follow a threshold's value: `over DURATION`, then `abort` or `abort after DURATION`. */
const SUFFIX_WORDS = ['over', 'abort', 'after'];
/** The suffixes, matched from the end of the expression; group 1 is the comparison. */
const SUFFIXES = /^(.*?)(?:\s+over\s+(\S+))?(?:\s+(abort)(?:\s+after\s+(\S+))?)?\s*$/s;

/** A metric as written: a name, for p(N) its percentile in parentheses, and maybe a provider in braces. */
const METRIC_TEXT = /[A-Za-z_][A-Za-z0-9_]*(?:\(\s*[^)]*\))?(?:\s*\{[^}]*\})?/.source;
const EXPRESSION = new RegExp(`^\\s*(${METRIC_TEXT})\\s*(<=|>=|==|!=|<|>)\\s*(.*?)\\s*$`);
const LEADING_METRIC = new RegExp(`^\\s*(${METRIC_TEXT})`);
/** The provider qualifier: 'retries{openai}' → 'retries', 'openai'. */
const QUALIFIED = /^([^{]*)\{\s*([^}]*?)\s*\}$/;
/** A provider's name as a campaign file may declare it (NAME_PATTERN). */
const PROVIDER_NAME = /^[A-Za-z0-9_.-]+$/;

/** Parses one threshold expression; a bad one is a UsageError naming the bad part. */
export function parseThreshold(source: string): Threshold {
  const [, comparison, overText, abortWord, afterText] = SUFFIXES.exec(source) as unknown as [string, string, string?, string?, string?];
  const threshold = parseComparison(source, comparison);
  if (overText !== undefined) threshold.windowMs = parseWindow(threshold, overText);
  if (abortWord !== undefined) {
    const metric = metricNamed(threshold.metric);
    if (!metric?.windowed) {
      throw new UsageError(
        `threshold '${source}': ${threshold.metric} is judged at the end of the run only, so it cannot abort it ` +
          `(abort goes with ${windowedMetricNames().join(', ')})`,
      );
    }
    threshold.abort = { afterMs: afterText === undefined ? 0 : parseSuffixDuration(source, 'after', afterText) };
  }
  return threshold;
}

/** `over DURATION`: whole seconds, on a metric measured per second, compared with <, <=, > or >=. */
function parseWindow(threshold: Threshold, text: string): number {
  const { source, metric, comparator } = threshold;
  if (!metricNamed(metric)?.windowed) {
    throw new UsageError(
      `threshold '${source}': ${metric} cannot be judged over a window (it is not measured per second; ` +
        `windows go with ${windowedMetricNames().join(', ')})`,
    );
  }
  if (comparator === '==' || comparator === '!=') {
    throw new UsageError(`threshold '${source}': a window needs <, <=, > or >= (its worst window is judged)`);
  }
  const ms = parseSuffixDuration(source, 'over', text);
  if (ms < 1000 || ms % 1000 !== 0) {
    throw new UsageError(`threshold '${source}': window '${text}' must be whole seconds, at least 1s (windows are built from seconds)`);
  }
  return ms;
}

function parseSuffixDuration(source: string, word: string, text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new UsageError(`threshold '${source}': '${word} ${text}' is not a duration (e.g. 10s, 1m)`);
  return ms;
}

function parseComparison(source: string, text: string): Threshold {
  const match = EXPRESSION.exec(text);
  if (!match) {
    const hasOperator = /[<>=!]/.test(source);
    throw new UsageError(
      hasOperator
        ? `threshold '${source}': expected METRIC OP VALUE, e.g. 'p99<300ms' or 'success_rate>=0.95'`
        : `threshold '${source}': no comparison operator (use <, <=, >, >=, == or !=)`,
    );
  }
  const [, metricText, comparator, valueText] = match as unknown as [string, string, Comparator, string];
  const { metric, percentile, provider, kind } = resolveMetric(source, metricText);
  if (valueText === '') throw new UsageError(`threshold '${source}': missing value after '${comparator}'`);
  checkTrailingWords(source, valueText);
  const value = parseValue(source, kind, valueText);
  return {
    source,
    metric,
    ...(percentile === undefined ? {} : { percentile }),
    ...(provider === undefined ? {} : { provider }),
    comparator,
    value,
    kind,
  };
}

/** Words after the value that are not a suffix in its place: the nearest suffix word, or the grammar. */
function checkTrailingWords(source: string, valueText: string): void {
  const words = valueText.split(/\s+/);
  if (words.length < 2) return;
  const word = words.find((w, i) => i > 0 && /^[A-Za-z]+$/.test(w) && !SUFFIX_WORDS.includes(w)) ?? words[1]!;
  const near = SUFFIX_WORDS.includes(word) ? undefined : closestName(word.toLowerCase(), SUFFIX_WORDS);
  const hint = near === undefined ? '' : `: did you mean '${near}'?`;
  throw new UsageError(
    `threshold '${source}': unexpected '${word}' after the value${hint} ` +
      `(after the value: 'over DURATION', then 'abort' or 'abort after DURATION')`,
  );
}

function resolveMetric(source: string, text: string): { metric: string; percentile?: number; provider?: string; kind: MetricKind } {
  const { name, provider } = splitProvider(text);
  const found = resolveMetricName(name);
  if (found) {
    const { metric, percentile, percentileText } = found;
    if (provider !== undefined) checkProvider(source, name, provider, metric.perProvider === true);
    const qualifier = provider === undefined ? {} : { provider };
    if (percentile === undefined) return { metric: metric.name, ...qualifier, kind: metric.kind };
    if (!(percentile > 0 && percentile <= 100)) {
      throw new UsageError(`threshold '${source}': percentile '${percentileText}' must be above 0 and at most 100`);
    }
    return { metric: metric.name, percentile, kind: metric.kind };
  }
  const near = closestName(name, suggestableMetricNames());
  const hint = near === undefined ? '' : `: did you mean '${near}'?`;
  throw new UsageError(`threshold '${source}': unknown metric '${name}'${hint} (known: ${knownMetricNames().join(', ')})`);
}

/** A metric as written, without blanks, and its provider qualifier: 'retries{ openai }' → 'retries', 'openai'. */
function splitProvider(text: string): { name: string; provider?: string } {
  const qualified = QUALIFIED.exec(text);
  if (!qualified) return { name: text.replace(/\s+/g, '') };
  return { name: qualified[1]!.replace(/\s+/g, ''), provider: qualified[2]! };
}

/** A qualifier only on a metric measured per provider, and only a provider's name in it. */
function checkProvider(source: string, name: string, provider: string, perProvider: boolean): void {
  if (!perProvider) {
    throw new UsageError(
      `threshold '${source}': ${name} is not measured per provider (a {provider} goes with ${perProviderMetricNames().join(', ')})`,
    );
  }
  if (provider === '') throw new UsageError(`threshold '${source}': no provider between the braces (write ${name}{NAME})`);
  if (!PROVIDER_NAME.test(provider)) {
    throw new UsageError(`threshold '${source}': '${provider}' is not a provider name (letters, digits, '_', '.' and '-')`);
  }
}

/**
 * Why a threshold's provider is not one of the run's (`known`): a campaign's declared providers, or
 * `resil chaos`'s 'dependency' and 'failover-N'. Undefined when it is, or the threshold names none.
 */
export function thresholdProviderProblem(threshold: Pick<Threshold, 'source' | 'provider'>, known: readonly string[]): string | undefined {
  const { source, provider } = threshold;
  if (provider === undefined || known.includes(provider)) return undefined;
  const near = closestName(provider, known);
  const hint = near === undefined ? '' : `: did you mean '${near}'?`;
  const list = known.length > 0 ? `the run's providers: ${known.join(', ')}` : 'the run has no provider';
  return `threshold '${source}': unknown provider '${provider}'${hint} (${list})`;
}

/**
 * The metric an expression names ('p99<300ms' → p, 99; 'retries{a}<3' → retries, a), without judging
 * the rest of it; undefined when it names none resil knows. For verdicts of a resil that did not
 * record their metric.
 */
export function metricOfExpression(expression: string): { metric: string; percentile?: number; provider?: string } | undefined {
  const text = LEADING_METRIC.exec(expression)?.[1];
  if (text === undefined) return undefined;
  const { name, provider } = splitProvider(text);
  const found = resolveMetricName(name);
  if (!found) return undefined;
  return {
    metric: found.metric.name,
    ...(found.percentile === undefined ? {} : { percentile: found.percentile }),
    ...(provider === undefined || !found.metric.perProvider ? {} : { provider }),
  };
}

function parseValue(source: string, kind: MetricKind, text: string): number {
  switch (kind) {
    case 'ratio': {
      const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
      if (percent) {
        const value = Number(percent[1]) / 100;
        if (value > 1) throw new UsageError(`threshold '${source}': '${text}' is above 100%`);
        return value;
      }
      if (/^\d+(?:\.\d+)?$/.test(text)) {
        const value = Number(text);
        if (value > 1)
          throw new UsageError(`threshold '${source}': '${text}' is above 1 (write a fraction like 0.95 or a percent like 95%)`);
        return value;
      }
      throw new UsageError(`threshold '${source}': '${text}' is not a fraction or a percent (e.g. 0.95 or 95%)`);
    }
    case 'duration': {
      if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text); // bare number: milliseconds
      const ms = tryParseDuration(text);
      if (ms === undefined) throw new UsageError(`threshold '${source}': '${text}' is not a duration (e.g. 300ms, 1s, 250us)`);
      return ms;
    }
    case 'rate':
    case 'count':
    case 'factor': {
      // A plain number ('500/s' is taken as 500).
      const plain = text.replace(/\/s$/, '');
      if (!/^\d+(?:\.\d+)?$/.test(plain)) throw new UsageError(`threshold '${source}': '${text}' is not a number`);
      return Number(plain);
    }
  }
}

/**
 * The thresholds a run is judged on: the user's, then each default whose metric the user did not
 * judge (marked isDefault). A user's `recovery<5s` keeps the default success check; their own
 * `success_rate` (or `error_rate`) threshold replaces it, so `success_rate>=0` says outright that
 * any success rate passes. A qualified threshold judges one provider: `dependency_calls{a}>0` keeps
 * the default `dependency_calls>0` on all of them.
 */
export function withDefaults(user: readonly Threshold[], defaults: readonly string[]): Threshold[] {
  const judged = new Set(user.map((t) => judges(t.metric, t.percentile, t.provider)));
  const added = defaults
    .map((source) => ({ ...parseThreshold(source), isDefault: true }))
    .filter((t) => !judged.has(judges(t.metric, t.percentile, t.provider)));
  return [...user, ...added];
}

/** A campaign's threshold as an object: `{ expr: 'p99<300ms', over: 10s, abort: true, after: 10s }`. */
export interface ThresholdObject {
  expr: string;
  over?: string;
  abort?: boolean;
  after?: string;
}

/** A campaign's threshold, a string or a ThresholdObject, as the one-line text the parser takes ('p99<300ms abort after 10s'). */
export function thresholdText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const { expr, over, abort, after } = value as ThresholdObject;
  if (after !== undefined && abort !== true) throw new UsageError(`threshold '${expr}': 'after' delays an abort: add 'abort: true'`);
  return `${expr}${over === undefined ? '' : ` over ${over}`}${abort === true ? ' abort' : ''}${after === undefined ? '' : ` after ${after}`}`;
}

/** --abort-on-fail: every threshold measured per second aborts, from the start unless it has its own `abort after`. */
export function withAbortOnFail(thresholds: Threshold[], abortOnFail: boolean): Threshold[] {
  if (!abortOnFail) return thresholds;
  return thresholds.map((t) => (t.abort || !metricNamed(t.metric)?.windowed ? t : { ...t, abort: { afterMs: 0 } }));
}

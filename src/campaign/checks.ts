// Semantic checks: what the schema cannot say. Each check looks at well-typed values only and
// stays quiet where the schema already reported a problem. Option values are checked by the
// engine's own validators, worded here with the file's keys.
import { parseExpectStatus, parseJsonCheck } from '../engine/checks.js';
import { LOAD_OPTIONS } from '../engine/options.js';
import { checkConnectionOptions, checkExclusiveOptions } from '../engine/plan.js';
import { buildPolicyPlan, POLICY_OPTIONS } from '../engine/policy-options.js';
import { compileTemplate } from '../engine/template.js';
import { checkMatchHeader, checkMatchPath, checkWindows, FAULT_OPTIONS, parseFaults } from '../proxy/config.js';
import { parseListen } from '../proxy/listen.js';
import { MAX_WAIT_MS, MOCK_DEFAULTS } from '../proxy/mock.js';
import { isProviderName } from '../proxy/providers/provider.js';
import { isTcpUpstream } from '../proxy/proxy.js';
import { tcpFaultMix } from '../proxy/tcp/faults.js';
import { parseFaultRateLimit } from '../proxy/budget.js';
import { buildHaltPlan, HALT_OPTIONS, type HaltSettings } from '../halt/plan.js';
import { chaosOnlyProblem } from '../thresholds/metrics.js';
import { parseThreshold, thresholdProviderProblem, thresholdText, type Threshold } from '../thresholds/parse.js';
import { tryParseDuration } from '../util/duration.js';
import {
  campaignFields,
  campaignNames,
  campaignWording,
  optionsFromCampaign,
  problemFields,
  type OptionProblem,
  type OptionTable,
} from '../util/option-table.js';
import { DURATION_PATTERN, LATENCY_PATTERN } from '../util/schema-patterns.js';
import type { CheckContext, Raw, Segment } from './check-context.js';
import { mergeDefaults } from './defaults.js';
import { chaosOnlyFieldProblem, unknownProviderProblem } from './fault-targets.js';
import { PATTERN_HINTS } from './schema-errors.js';

const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';

export function checkSemantics(ctx: CheckContext, root: Raw): void {
  if (!isObject(root)) return;
  const providers = isObject(root.providers) ? root.providers : {};
  const providerNames = Object.keys(providers);
  // Providers with a tcp:// upstream take TCP faults (latency, reset_peer, limit_data...), the others HTTP ones.
  const tcpProviders = new Set(
    Object.entries(providers)
      .filter(([, provider]) => isObject(provider) && isTcpUpstream(isString(provider.upstream) ? provider.upstream : undefined))
      .map(([name]) => name),
  );
  checkProviders(ctx, providers);
  if (isObject(root.service)) checkService(ctx, root.service);
  if (isObject(root.halt) && !ctx.isReported(['halt'])) {
    const halt = optionsFromCampaign<HaltSettings>(HALT_OPTIONS, root.halt);
    ctx.attempt(['halt'], () => buildHaltPlan(halt, campaignWording));
  }
  const defaults = isObject(root.defaults) ? root.defaults : undefined;
  if (defaults) checkScenarioFields(ctx, defaults, ['defaults'], providerNames, tcpProviders);

  const scenarios = Array.isArray(root.scenarios) ? root.scenarios : [];
  const names = new Map<string, number>();
  scenarios.forEach((scenario, index) => {
    if (!isObject(scenario)) return;
    const base: Segment[] = ['scenarios', index];
    checkScenarioFields(ctx, scenario, base, providerNames, tcpProviders);
    if (isString(scenario.name)) {
      const first = names.get(scenario.name);
      if (first !== undefined)
        ctx.add([...base, 'name'], `duplicate scenario name ${ctx.show([...base, 'name'], scenario.name)} (also scenarios[${first}])`);
      else names.set(scenario.name, index);
    }
    checkMerged(ctx, scenario, base, defaults, providerNames);
  });
}

function checkProviders(ctx: CheckContext, providers: Raw): void {
  const listeners = new Map<string, string>();
  for (const [name, provider] of Object.entries(providers)) {
    if (!isObject(provider)) continue;
    const base: Segment[] = ['providers', name];
    const hasMock = provider.mock !== undefined && provider.mock !== false;
    const hasUpstream = provider.upstream !== undefined;
    const hasReplay = provider.replay !== undefined;
    if (hasMock && (hasUpstream || hasReplay))
      ctx.add([...base, hasUpstream ? 'upstream' : 'replay'], `give mock or ${hasUpstream ? 'upstream' : 'replay'}, not both`, {
        atKey: true,
      });
    else if (!hasMock && !hasUpstream && !hasReplay)
      ctx.add(base, 'give mock (a built-in healthy dependency), upstream (a real one) or replay (a HAR recording)');
    if (provider.record !== undefined && !hasUpstream) ctx.add([...base, 'record'], 'record needs an upstream to record', { atKey: true });
    if ((isString(provider.listen) || typeof provider.listen === 'number') && !ctx.isReported([...base, 'listen'])) {
      const listenPath = [...base, 'listen'];
      let parsed: { host: string; port: number } | undefined;
      ctx.attempt(listenPath, () => (parsed = parseListen(String(provider.listen), 'listen')));
      if (parsed && parsed.port !== 0) {
        const address = `${parsed.host}:${parsed.port}`;
        const other = listeners.get(address);
        if (other !== undefined) ctx.add(listenPath, `providers '${other}' and '${name}' both listen on this address`);
        else listeners.set(address, name);
      }
    }
    if (isObject(provider.mock) && isString(provider.mock.latency)) {
      const path = [...base, 'mock', 'latency'];
      const [low, high] = provider.mock.latency.split('~').map((part) => tryParseDuration(part));
      if (!ctx.isReported(path)) {
        if (low === undefined || (high === undefined && provider.mock.latency.includes('~')))
          ctx.add(path, `${ctx.show(path, provider.mock.latency)} ${PATTERN_HINTS[LATENCY_PATTERN]}`);
        else if (high !== undefined && high < low) ctx.add(path, `${ctx.show(path, provider.mock.latency)}: MAX is below MIN`);
      }
    }
    if (isString(provider.upstream)) checkUrl(ctx, [...base, 'upstream'], provider.upstream, false);
    checkMockPreset(ctx, base, provider);
  }
}

/**
 * A provider's mock preset against the rest: settings only a preset reads given without one, an api
 * that contradicts it, waits past 24 h (setTimeout's limit is about 24.8 days).
 */
function checkMockPreset(ctx: CheckContext, base: Segment[], provider: Raw): void {
  const mock = provider.mock;
  const preset = isString(mock) ? mock : isObject(mock) && isString(mock.preset) ? mock.preset : undefined;
  if (isObject(mock)) {
    for (const key of ['tokens-per-s', 'ttft', 'tokens']) {
      if (mock[key] !== undefined && mock.preset === undefined) {
        ctx.add([...base, 'mock', key], `${key} sets a preset's answers: give the mock a preset (preset: openai or anthropic)`, {
          atKey: true,
        });
      }
    }
    for (const key of ['ttft', 'latency']) {
      const path = [...base, 'mock', key];
      const value = mock[key];
      const longest = isString(value) ? Math.max(...value.split('~').map((part) => tryParseDuration(part) ?? 0)) : 0;
      if (longest > MAX_WAIT_MS && !ctx.isReported(path)) ctx.add(path, `${ctx.show(path, value as string)} is longer than 24h`);
    }
    // The whole answer, as the mock times it: ttft, then a token every 1/tokens-per-s s.
    const tokens = typeof mock.tokens === 'number' ? mock.tokens : MOCK_DEFAULTS.tokens;
    const perSecond = typeof mock['tokens-per-s'] === 'number' ? mock['tokens-per-s'] : MOCK_DEFAULTS.tokensPerS;
    const ttftMs = isString(mock.ttft) ? (tryParseDuration(mock.ttft) ?? 0) : 0;
    const path = [...base, 'mock', 'tokens-per-s'];
    if (perSecond > 0 && ttftMs + ((tokens - 1) * 1000) / perSecond > MAX_WAIT_MS && !ctx.isReported(path)) {
      ctx.add(path, `${tokens} tokens at ${perSecond} a second would take longer than 24h`);
    }
  }
  if (isString(provider.api) && preset !== undefined && provider.api !== preset && isProviderName(provider.api)) {
    ctx.add([...base, 'api'], `api ${provider.api} contradicts the mock's preset ${preset}: the mock speaks ${preset}'s wire format`);
  }
}

function checkService(ctx: CheckContext, service: Raw): void {
  checkDurationField(ctx, ['service', 'ready-timeout'], service['ready-timeout']);
  if (isString(service.ready)) checkUrl(ctx, ['service', 'ready'], service.ready, false);
}

/** Checks of one scenario's own fields (or of defaults), where the values were written. */
function checkScenarioFields(
  ctx: CheckContext,
  scenario: Raw,
  base: Segment[],
  providerNames: readonly string[],
  tcpProviders: ReadonlySet<string>,
): void {
  for (const field of ['duration', 'timeout', 'grace']) checkDurationField(ctx, [...base, field], scenario[field]);
  if (Array.isArray(scenario.stages)) {
    scenario.stages.forEach((stage, i) => {
      if (isObject(stage)) checkDurationField(ctx, [...base, 'stages', i, 'duration'], stage.duration);
    });
  }
  checkPolicy(ctx, scenario, base);
  if (isString(scenario.url)) {
    checkUrl(ctx, [...base, 'url'], scenario.url, true);
  }
  if (isString(scenario.body)) {
    const body = scenario.body;
    ctx.attempt([...base, 'body'], () => compileTemplate(body, 'body'), 'body');
  }
  if (isString(scenario['expect-status'])) {
    const text = scenario['expect-status'];
    if (!ctx.isReported([...base, 'expect-status'])) ctx.attempt([...base, 'expect-status'], () => parseExpectStatus(text));
  }
  eachString(scenario['expect-json'], [...base, 'expect-json'], (text, path) => {
    if (!ctx.isReported(path)) ctx.attempt(path, () => parseJsonCheck(text));
  });
  eachThreshold(scenario.thresholds, [...base, 'thresholds'], (value, path) => {
    if (ctx.isReported(path)) return;
    let threshold: Threshold | undefined;
    // 'retries{openai}': a provider the file declares.
    ctx.attempt(path, () => (threshold = parseThreshold(thresholdText(value))));
    const problem = threshold === undefined ? undefined : thresholdProviderProblem(threshold, providerNames);
    if (problem) ctx.add(path, problem);
  });
  if (isObject(scenario.faults)) {
    for (const [provider, faults] of Object.entries(scenario.faults)) {
      const path = [...base, 'faults', provider];
      checkProviderName(ctx, path, provider, providerNames);
      if (isObject(faults)) checkFaultFields(ctx, faults, path, tcpProviders.has(provider));
    }
  }
  if (Array.isArray(scenario.phases)) {
    scenario.phases.forEach((phase, i) => {
      if (!isObject(phase)) return;
      const path = [...base, 'phases', i];
      checkDurationField(ctx, [...path, 'at'], phase.at);
      const forMs = checkDurationField(ctx, [...path, 'for'], phase.for);
      if (forMs === 0) ctx.add([...path, 'for'], 'a phase must last longer than 0');
      if (isObject(phase.providers)) {
        for (const [provider, faults] of Object.entries(phase.providers)) {
          checkProviderName(ctx, [...path, 'providers', provider], provider, providerNames);
          if (isObject(faults)) checkFaultFields(ctx, faults, [...path, 'providers', provider], tcpProviders.has(provider));
        }
      }
    });
  }
}

/** Checks that need the scenario with defaults applied. */
function checkMerged(ctx: CheckContext, scenario: Raw, base: Segment[], defaults: Raw | undefined, providerNames: readonly string[]): void {
  const merged = mergeDefaults(scenario, defaults);
  if (merged.url === undefined && !ctx.isReported([...base, 'url'])) {
    ctx.add(base, "missing required field 'url' (set it in the scenario or in defaults)");
  }
  const typePath: Segment[] =
    scenario.type !== undefined ? [...base, 'type'] : defaults?.type !== undefined ? ['defaults', 'type'] : [...base, 'name'];
  if (merged.type === 'chaos' && providerNames.length === 0) {
    ctx.add(typePath, 'a chaos scenario needs at least one provider: declare it under providers');
  }
  if (merged.type !== 'chaos') {
    for (const field of ['faults', 'phases'] as const) {
      if (scenario[field] !== undefined) ctx.add([...base, field], chaosOnlyFieldProblem(field, merged.type)!, { atKey: true });
    }
    const thresholdsBase: Segment[] = scenario.thresholds !== undefined ? [...base, 'thresholds'] : ['defaults', 'thresholds'];
    eachThreshold(merged.thresholds, thresholdsBase, (value, path) => {
      if (ctx.isReported(path)) return;
      let metric: string | undefined;
      let text = '';
      ctx.attempt(path, () => (metric = parseThreshold((text = thresholdText(value))).metric));
      const problem = metric === undefined ? undefined : chaosOnlyProblem(text, metric, 'set type: chaos');
      if (problem) ctx.add(path, problem);
    });
  }
  checkOptionPairs(ctx, merged, scenario, base, defaults);
  if (merged.type === 'chaos' && Array.isArray(merged.phases))
    checkPhaseTiming(ctx, merged, scenario.phases !== undefined ? base : ['defaults']);
}

/**
 * Options that exclude or bound each other, checked on the scenario with defaults applied (as the run
 * takes it). A problem is reported at the key of the first option it is about that the scenario sets,
 * else at the one in defaults (the same line for every scenario that inherits it, reported once).
 */
function checkOptionPairs(ctx: CheckContext, merged: Raw, scenario: Raw, base: Segment[], defaults: Raw | undefined): void {
  const options = campaignFields(LOAD_OPTIONS, merged);
  for (const problem of [...checkExclusiveOptions(options), ...checkConnectionOptions(options)]) {
    const keys = problemFields(LOAD_OPTIONS, problem).map(campaignNames(LOAD_OPTIONS));
    const own = keys.find((key) => scenario[key] !== undefined);
    const inherited = keys.find((key) => defaults?.[key] !== undefined);
    const path = own !== undefined ? [...base, own] : inherited !== undefined ? ['defaults', inherited] : base;
    ctx.add(path, campaignWording(LOAD_OPTIONS, problem), { atKey: true });
  }
}

function checkPhaseTiming(ctx: CheckContext, merged: Raw, phasesBase: Segment[]): void {
  const lengthMs = scenarioLengthMs(merged);
  const byProvider = new Map<string, Array<{ start: number; end: number; index: number }>>();
  (merged.phases as unknown[]).forEach((phase, index) => {
    if (!isObject(phase) || !isString(phase.at) || !isString(phase.for)) return;
    const start = tryParseDuration(phase.at);
    const length = tryParseDuration(phase.for);
    if (start === undefined || length === undefined || length === 0) return;
    const path = [...phasesBase, 'phases', index];
    if (lengthMs !== undefined && start + length > lengthMs) {
      ctx.add(path, `at ${phase.at} + for ${phase.for} ends after the scenario (${formatLength(lengthMs)})`);
    }
    for (const provider of isObject(phase.providers) ? Object.keys(phase.providers) : []) {
      const list = byProvider.get(provider) ?? [];
      const overlap = list.find((other) => start < other.end && other.start < start + length);
      if (overlap) ctx.add(path, `overlaps phases[${overlap.index}] for provider '${provider}'`);
      list.push({ start, end: start + length, index });
      byProvider.set(provider, list);
    }
  });
}

function scenarioLengthMs(merged: Raw): number | undefined {
  if (Array.isArray(merged.stages)) {
    let total = 0;
    for (const stage of merged.stages) {
      const ms = isObject(stage) && isString(stage.duration) ? tryParseDuration(stage.duration) : undefined;
      if (ms === undefined) return undefined;
      total += ms;
    }
    return total;
  }
  return isString(merged.duration) ? tryParseDuration(merged.duration) : undefined;
}

function formatLength(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function checkFaultFields(ctx: CheckContext, faults: Raw, base: Segment[], tcp: boolean): void {
  if (isString(faults.faults) && faults.faults !== '' && !ctx.isReported([...base, 'faults'])) {
    const mix = faults.faults;
    ctx.attempt([...base, 'faults'], () => (tcp ? parseFaults(mix, tcpFaultMix('downstream')) : parseFaults(mix)));
  }
  const rateLimit = faults['max-fault-rate'];
  if (isString(rateLimit) && !ctx.isReported([...base, 'max-fault-rate'])) {
    const limit = parseFaultRateLimit(rateLimit);
    if (typeof limit === 'string') ctx.add([...base, 'max-fault-rate'], `${ctx.show([...base, 'max-fault-rate'], rateLimit)}: ${limit}`);
  }
  const [matchPath, matchHeader] = [faults['match-path'], faults['match-header']];
  const problems = [
    isString(matchPath) ? checkMatchPath(matchPath) : undefined,
    isString(matchHeader) ? checkMatchHeader(matchHeader) : undefined,
  ].filter((problem): problem is OptionProblem => problem !== undefined);
  const windows = faults['fault-window'];
  if (isString(windows) || (Array.isArray(windows) && windows.every(isString))) {
    problems.push(...checkWindows(isString(windows) ? [windows] : windows));
  }
  for (const problem of problems) {
    const path = fieldPath(FAULT_OPTIONS, base, Array.isArray(windows) ? problem : { ...problem, index: undefined });
    // A window the schema refused (not START..END) is reported once, by the schema.
    if (!ctx.isReported(path)) ctx.add(path, campaignWording(FAULT_OPTIONS, problem));
  }
}

/** The policy options of a scenario (or of defaults), checked as resil chaos checks its flags. */
function checkPolicy(ctx: CheckContext, scenario: Raw, base: Segment[]): void {
  const given = campaignFields(POLICY_OPTIONS, scenario);
  for (const field of Object.keys(given)) if (ctx.isReported(fieldPath(POLICY_OPTIONS, base, { field }))) delete given[field];
  if (Object.keys(given).length === 0) return;
  buildPolicyPlan(given, (problem) => ctx.add(fieldPath(POLICY_OPTIONS, base, problem), campaignWording(POLICY_OPTIONS, problem)));
}

/** Where an option's problem is in the file: the option's campaign key under `base`, and the entry of a list. */
function fieldPath(table: OptionTable, base: Segment[], problem: { field: string; index?: number | undefined }): Segment[] {
  const path = [...base, table[problem.field]?.campaign ?? problem.field];
  return problem.index === undefined ? path : [...path, problem.index];
}

function checkProviderName(ctx: CheckContext, path: Segment[], name: string, declared: readonly string[]): void {
  const problem = unknownProviderProblem(name, declared);
  if (problem) ctx.add(path, problem, { atKey: true });
}

/** Milliseconds of a duration field, or undefined (a problem is added when it is not a duration). */
function checkDurationField(ctx: CheckContext, path: Segment[], value: unknown): number | undefined {
  if (!isString(value)) return undefined;
  const ms = tryParseDuration(value);
  if (ms === undefined && !ctx.isReported(path)) ctx.add(path, `${ctx.show(path, value)} ${PATTERN_HINTS[DURATION_PATTERN]}`);
  return ms;
}

function checkUrl(ctx: CheckContext, path: Segment[], text: string, template: boolean): void {
  if (ctx.isReported(path)) return;
  if (template && !ctx.attempt(path, () => compileTemplate(text, 'url'), 'url')) return;
  try {
    new URL(text);
  } catch {
    ctx.add(path, `${ctx.show(path, text)} is not a valid URL`);
  }
}

/** A scenario's thresholds: a string, or a list of strings and `{ expr, ... }` objects (with an `expr` string). */
function eachThreshold(value: unknown, base: Segment[], fn: (item: unknown, path: Segment[]) => void): void {
  if (isString(value)) fn(value, base);
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) if (isString(item) || (isObject(item) && isString(item.expr))) fn(item, [...base, i]);
  }
}

function eachString(value: unknown, base: Segment[], fn: (text: string, path: Segment[]) => void): void {
  if (isString(value)) fn(value, base);
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) if (isString(item)) fn(item, [...base, i]);
  }
}

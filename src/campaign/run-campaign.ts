import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan, withRequestIds, type LoadPlan } from '../engine/plan.js';
import { newRunId, SCENARIO_SPAN } from '../engine/request-ids.js';
import type { Progress } from '../engine/run.js';
import { runPlan } from '../session/load.js';
import { ProblemList, UsageError } from '../errors.js';
import type { LiveBoard } from '../metrics/live.js';
import { FAULT_OPTIONS, parseWindow, type FaultSettings, type FaultWindow } from '../proxy/config.js';
import { faultPlanOf, validateProxyOptions, type ProxyOptions } from '../proxy/proxy.js';
import type { ResultDocument, ScenarioResult } from '../model/result.js';
import { buildHaltPlan, type HaltPlan } from '../halt/plan.js';
import { ChaosSession, judgeAsChaos, shardFaultSeed } from '../session/chaos.js';
import { thresholdProviderProblem } from '../thresholds/parse.js';
import { tryParseDuration } from '../util/duration.js';
import { newSeed } from '../util/random.js';
import { scrubSecrets } from '../util/redact.js';
import { campaignNames, campaignWording, type OptionWording } from '../util/option-table.js';
import { formatPath, type Segment } from './check-context.js';
import { faultTargetProblems } from './fault-targets.js';
import type { Campaign, CampaignPhase, CampaignProvider, CampaignScenario, ProviderFaults } from './schema.js';
import { startService, type RunningService } from './service.js';

export interface CampaignRunOptions {
  /** Run only this scenario. */
  scenario?: string;
  /** Run this shard of every scenario. */
  shard?: { index: number; count: number };
  signal?: AbortSignal;
  onScenarioStart?: (name: string, index: number, count: number) => void;
  onScenarioDone?: (result: ScenarioResult) => void;
  onProgress?: (progress: Progress) => void;
  /** Live metrics: each scenario posts its counters here. */
  live?: LiveBoard;
  /** Where a halt (the campaign's `halt` block) is logged, one line each. */
  log?: (line: string) => void;
}

/** One scenario, validated and ready: its load plan, and per provider its base faults and timed phases. */
export interface PreparedScenario {
  name: string;
  type: 'load' | 'chaos';
  plan: LoadPlan;
  baseFaults: Map<string, FaultSettings>;
  /** Each with its name as a window (`source`: "phase 1 (10s for 5s)"). */
  phases: Array<{ atMs: number; forMs: number; source: string; providers: Map<string, FaultSettings>; down: Set<string> }>;
  /** Windows that recovery is measured after: the providers' fault windows and the phases. */
  windows: FaultWindow[];
}

/** Validates every scenario (and provider) of a campaign before anything starts; lists all problems. */
export function prepareCampaign(campaign: Campaign, only?: string, shard?: { index: number; count: number }): PreparedScenario[] {
  try {
    return prepareAll(campaign, only, shard);
  } catch (error) {
    // Messages can quote values the file took from the environment: never show them.
    if (error instanceof UsageError) throw new UsageError(scrubSecrets(error.message, campaign.secrets ?? []));
    throw error;
  }
}

function prepareAll(campaign: Campaign, only?: string, shard?: { index: number; count: number }): PreparedScenario[] {
  const names = campaign.scenarios.map((s) => s.name);
  if (only !== undefined && !names.includes(only))
    throw new UsageError(`--scenario '${only}': no such scenario (scenarios: ${names.join(', ')})`);
  const problems = new ProblemList();
  for (const [name, provider] of Object.entries(campaign.providers ?? {}))
    problems.attempt(() => validateProxyOptions(providerOptions(name, provider)));
  const prepared: PreparedScenario[] = [];
  for (const scenario of campaign.scenarios) {
    if (only !== undefined && scenario.name !== only) continue;
    const found = problems.attempt(() => prepareScenario(campaign, scenario, shard));
    if (found) prepared.push(found);
  }
  problems.throwIfAny();
  return prepared;
}

/**
 * Runs a campaign: validates it (`prepareCampaign`), then runs what was prepared (`runPreparedCampaign`).
 */
export async function runCampaign(campaign: Campaign, options: CampaignRunOptions = {}): Promise<ScenarioResult[]> {
  return runPreparedCampaign(campaign, prepareCampaign(campaign, options.scenario, options.shard), options);
}

/**
 * Runs scenarios `prepareCampaign` made of this campaign (its choice of scenario and shard is theirs):
 * starts the providers (one chaos session) and the service, runs the scenarios in order (each with
 * its faults and timed phases), and stops everything, also on error or interrupt.
 */
export async function runPreparedCampaign(
  campaign: Campaign,
  prepared: readonly PreparedScenario[],
  options: Omit<CampaignRunOptions, 'scenario' | 'shard'> = {},
): Promise<ScenarioResult[]> {
  let session: ChaosSession | undefined;
  let service: RunningService | undefined;
  const results: ScenarioResult[] = [];
  // One run id for the session; each scenario's requests take their own range of sequences.
  const runId = newRunId();
  // Checked with the campaign's other fields before this (checks.ts).
  const haltPlan = campaign.halt ? buildHaltPlan(campaign.halt, campaignWording) : null;
  try {
    session = await ChaosSession.start(
      Object.entries(campaign.providers ?? {}).map(([name, provider]) => providerOptions(name, provider)),
      { behaviour: { runId, longestRetryAfterMs: longestRetryAfterMs(prepared) } },
    );
    if (campaign.service) {
      const timeout = campaign.service.readyTimeout;
      service = await startService({
        command: campaign.service.command,
        ...(campaign.service.env ? { env: campaign.service.env } : {}),
        ...(campaign.service.ready ? { ready: campaign.service.ready } : {}),
        readyTimeoutMs: timeout === undefined ? 15_000 : tryParseDuration(timeout)!,
      });
    }
    for (const [index, scenario] of prepared.entries()) {
      if (options.signal?.aborted) break;
      options.onScenarioStart?.(scenario.name, index, prepared.length);
      if (options.live) options.live.scenario = scenario.name;
      const plan = scenario.type === 'chaos' ? withRequestIds(scenario.plan, { runId, base: index * SCENARIO_SPAN }) : scenario.plan;
      const result = { name: scenario.name, document: await runScenario({ ...scenario, plan }, session, options, haltPlan) };
      results.push(result);
      options.onScenarioDone?.(result);
      // A threshold that aborts says the service is clearly failing: the scenarios after it are not run (as k6 stops the test).
      if (result.document.abortedBy) break;
    }
    return results;
  } finally {
    await service?.stop();
    await session?.stop();
  }
}

async function runScenario(
  scenario: PreparedScenario,
  session: ChaosSession,
  options: CampaignRunOptions,
  haltPlan: HaltPlan | null,
): Promise<ResultDocument> {
  for (const proxy of session.proxies) {
    proxy.setFaults(scenario.baseFaults.get(proxy.name) ?? {});
    proxy.resetStats();
  }
  const timers: NodeJS.Timeout[] = [];
  const setFaults = (providers: Iterable<string>, settingsOf: (name: string) => FaultSettings | undefined) => {
    for (const name of providers) session.proxy(name).setFaults(settingsOf(name) ?? {});
  };
  const startPhases = () => {
    for (const phase of scenario.phases) {
      // A phase keeps the scenario's fault budget for its provider unless it sets its own: the budget is
      // the scenario's blast radius, and the phases are when faults flow.
      const withBudget = (name: string): FaultSettings | undefined => {
        const base = scenario.baseFaults.get(name);
        const budget = {
          ...(base?.maxFaults === undefined ? {} : { maxFaults: base.maxFaults }),
          ...(base?.maxFaultRate === undefined ? {} : { maxFaultRate: base.maxFaultRate }),
        };
        return { ...budget, ...phase.providers.get(name) };
      };
      timers.push(setTimeout(() => setFaults(phase.providers.keys(), withBudget), phase.atMs));
      timers.push(setTimeout(() => setFaults(phase.providers.keys(), (name) => scenario.baseFaults.get(name)), phase.atMs + phase.forMs));
    }
  };
  try {
    const document = await runPlan(scenario.plan, {
      command: scenario.type,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.live ? { live: options.live } : {}),
      ...session.runHooks({
        onStart: () => {
          // The halt conditions are checked from the first chaos scenario on, for the rest of the campaign.
          if (haltPlan && scenario.type === 'chaos') session.watchHealth(haltPlan, options.log ?? (() => {}));
          startPhases();
        },
        ...(scenario.type === 'chaos' ? { chaos: { windows: scenario.windows }, phaseWindows: phaseWindows(scenario) } : {}),
        ...(options.live ? { live: options.live } : {}),
      }),
    });
    document.scenario = scenario.name;
    return document;
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

function prepareScenario(campaign: Campaign, scenario: CampaignScenario, shard?: { index: number; count: number }): PreparedScenario {
  const type = scenario.type;
  const where = `scenario '${scenario.name}'`;
  const providers = Object.keys(campaign.providers ?? {});
  const seed = scenario.seed ?? newSeed();
  // Fault decisions differ per shard, as in `resil chaos --shard`.
  const faultSeed = shardFaultSeed(seed, shard);
  let plan: LoadPlan;
  try {
    plan = buildLoadPlan({ ...loadOptions(scenario, seed), ...(shard ? { shard } : {}) }, campaignWordingAt([]));
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
  if (type === 'chaos') judgeAsChaos(plan);
  const problems = new ProblemList();
  // The file loader has refused these already (at their line); a campaign built in code is checked here.
  for (const { path, message } of faultTargetProblems(scenario, providers)) problems.add(`${where}: ${formatPath(path)}: ${message}`);
  for (const threshold of plan.thresholds) {
    const problem = thresholdProviderProblem(threshold, providers);
    if (problem) problems.add(`${where}: ${problem}`);
  }
  /** Providers whose faults in a phase are `down` (the listener closes). */
  const down = new Set<FaultSettings>();
  const settingsFor = (name: string, faults: ProviderFaults, providerSeed: number, path: Segment[]): FaultSettings | undefined => {
    const settings = faultSettings(faults, providerSeed);
    return problems.attempt(() => {
      try {
        if (faultPlanOf(campaign.providers?.[name] ?? {}, settings, campaignWordingAt(path)).down) down.add(settings);
      } catch (error) {
        if (error instanceof UsageError) throw new UsageError(`${where}: ${error.message}`);
        throw error;
      }
      return settings;
    });
  };

  const baseFaults = new Map<string, FaultSettings>();
  const windows: FaultWindow[] = [];
  for (const [name, faults] of Object.entries(scenario.faults ?? {})) {
    if (!providers.includes(name)) continue; // reported above
    const settings = settingsFor(name, faults, faultSeed + providers.indexOf(name) + 1, ['faults', name]);
    if (settings) baseFaults.set(name, settings);
    for (const text of settings?.windows ?? []) windows.push(parseWindow(text));
  }
  const phases = (scenario.phases ?? []).map((phase: CampaignPhase, i) => {
    const atMs = tryParseDuration(phase.at) ?? 0;
    const forMs = tryParseDuration(phase.for) ?? 0;
    const source = `phase ${i + 1} (${phase.at} for ${phase.for})`;
    windows.push({ source, startMs: atMs, endMs: atMs + forMs });
    const settings = new Map<string, FaultSettings>();
    for (const [name, faults] of Object.entries(phase.providers)) {
      if (!providers.includes(name)) continue; // reported above
      const phaseSettings = settingsFor(name, faults, faultSeed + 1000 * (i + 1) + providers.indexOf(name), [
        'phases',
        i,
        'providers',
        name,
      ]);
      if (phaseSettings) settings.set(name, phaseSettings);
    }
    return { atMs, forMs, source, providers: settings, down: new Set([...settings].filter(([, s]) => down.has(s)).map(([name]) => name)) };
  });
  problems.throwIfAny();
  windows.sort((a, b) => a.startMs - b.startMs);
  return { name: scenario.name, type, plan, baseFaults, phases, windows };
}

/** Each provider's phases, as windows of its own, and whether its fault there is `down`. */
function phaseWindows(scenario: PreparedScenario): Map<string, Array<FaultWindow & { down: boolean }>> {
  const byProvider = new Map<string, Array<FaultWindow & { down: boolean }>>();
  for (const phase of scenario.phases) {
    for (const name of phase.providers.keys()) {
      const down = phase.down.has(name);
      const window = { source: phase.source, startMs: phase.atMs, endMs: phase.atMs + phase.forMs, down };
      byProvider.set(name, [...(byProvider.get(name) ?? []), window]);
    }
  }
  return byProvider;
}

/** The longest Retry-After any scenario's faults inject (ms): the default's when none sets one. */
function longestRetryAfterMs(scenarios: readonly PreparedScenario[]): number {
  let seconds: number = FAULT_OPTIONS.retryAfter.default;
  for (const scenario of scenarios) {
    const settings = [...scenario.baseFaults.values(), ...scenario.phases.flatMap((phase) => [...phase.providers.values()])];
    for (const one of settings) seconds = Math.max(seconds, one.retryAfter ?? 0);
  }
  return seconds * 1000;
}

/** Words an option's problem as the file loader does: the option's path (from the scenario's `base`), then the problem. */
function campaignWordingAt(base: readonly Segment[]): OptionWording {
  return (table, problem) => {
    const path = [...base, campaignNames(table)(problem.field), ...(problem.index === undefined ? [] : [problem.index])];
    return `${formatPath(path)}: ${campaignWording(table, problem)}`;
  };
}

/** A scenario's load fields are LoadOptions field for field; the rest (name, type, faults, phases) is the runner's. */
function loadOptions(scenario: CampaignScenario, seed: number): LoadOptions {
  const { name: _name, type: _type, faults: _faults, phases: _phases, seed: _seed, ...load } = scenario;
  return { ...load, seed };
}

function faultSettings(faults: ProviderFaults, seed: number): FaultSettings {
  return { ...faults, seed };
}

/** A provider's fields are ProxyOptions' (PROVIDER_OPTIONS maps the file's keys). */
function providerOptions(name: string, provider: CampaignProvider): ProxyOptions {
  return { name, ...provider };
}

import { CHAOS_DEFAULT_THRESHOLDS } from '../chaos/verdicts.js';
import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan, type LoadPlan } from '../engine/plan.js';
import { runPlan, type RunHooks } from './load.js';
import { UsageError } from '../errors.js';
import type { LiveBoard } from '../metrics/live.js';
import type { FaultWindow } from '../proxy/config.js';
import { checkProxyOptions, startChaosProxy, type ChaosProxy, type ProxyOptions } from '../proxy/proxy.js';
import type { ChaosFacts, ResultDocument } from '../model/result.js';
import { thresholdProviderProblem, withDefaults } from '../thresholds/parse.js';
import { newSeed } from '../util/random.js';

/**
 * A chaos session: chaos proxies in front of the dependencies, started together, driven through one
 * or more load runs, and stopped together. `resil chaos` runs one load through one session
 * (`runChaos`); `resil run` keeps one session for a campaign's providers across its scenarios.
 */
export class ChaosSession {
  private constructor(private readonly started: readonly ChaosProxy[]) {}

  /**
   * Starts one proxy per entry, in order (`onStart` is told of each once it listens). When one cannot
   * start, those already started are stopped before the error goes on.
   */
  static async start(proxies: readonly ProxyOptions[], onStart?: (proxy: ChaosProxy) => void): Promise<ChaosSession> {
    const started: ChaosProxy[] = [];
    try {
      for (const options of proxies) {
        const proxy = await startChaosProxy(options);
        started.push(proxy);
        onStart?.(proxy);
      }
    } catch (error) {
      await Promise.all(started.map((proxy) => proxy.close()));
      throw error;
    }
    return new ChaosSession(started);
  }

  /** The proxies in the order they were started. */
  get proxies(): readonly ChaosProxy[] {
    return this.started;
  }

  /** The proxy of this name (a campaign's provider name; 'dependency', 'failover-N' in `resil chaos`). */
  proxy(name: string): ChaosProxy {
    const found = this.started.find((proxy) => proxy.name === name);
    if (!found) throw new Error(`no chaos proxy named '${name}'`);
    return found;
  }

  /**
   * Hooks for one load run through the proxies. The fault-window clock of every proxy starts with the
   * first request (then `onStart` runs: a campaign starts its phase timers there). With `chaos`, the
   * proxies' counts are collected as the run's chaos facts once it is over; live metrics read the
   * proxies' injected-fault counts.
   */
  runHooks(run: {
    chaos?: { windows: readonly FaultWindow[]; clientIsSubject?: boolean };
    onStart?: () => void;
    live?: LiveBoard;
  }): Pick<RunHooks, 'onStart' | 'collectChaos'> {
    if (run.live) run.live.faults = () => Object.fromEntries(this.started.map((p) => [p.name, p.stats().injected]));
    const hooks: Pick<RunHooks, 'onStart' | 'collectChaos'> = {
      onStart: () => {
        for (const proxy of this.started) proxy.startSchedule();
        run.onStart?.();
      },
    };
    const chaos = run.chaos;
    if (chaos) hooks.collectChaos = () => this.facts(chaos.windows, chaos.clientIsSubject);
    return hooks;
  }

  /** What the proxies saw: per proxy its counts, target and address; the fault windows recovery is measured after. */
  facts(windows: readonly FaultWindow[], clientIsSubject?: boolean): ChaosFacts {
    return {
      providers: Object.fromEntries(this.started.map((p) => [p.name, { ...p.stats(), target: p.target, listen: p.url }])),
      windows: [...windows],
      ...(clientIsSubject === undefined ? {} : { clientIsSubject }),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.started.map((proxy) => proxy.close()));
  }
}

/**
 * The seed a shard's proxies draw fault decisions from: shifted by the shard's index (a prime apart),
 * so each shard of a sharded chaos run injects its own faults.
 */
export function shardFaultSeed(seed: number, shard?: { index: number }): number {
  return seed + (shard?.index ?? 0) * 7919;
}

/**
 * A chaos run is judged on the chaos defaults (success_rate>=0.9, dependency_calls>0) instead of the
 * load defaults the plan has; a user threshold on the same metric replaces the default.
 */
export function judgeAsChaos(plan: LoadPlan): void {
  plan.thresholds = withDefaults(
    plan.thresholds.filter((t) => !t.isDefault),
    CHAOS_DEFAULT_THRESHOLDS,
  );
}

export interface ChaosOptions {
  /**
   * The load. With `url` (the service under test): load goes to the service, whose dependency calls
   * go through the proxy at `proxy.listen`. Without it (policy mode): resil's own client is the
   * subject and its load goes through the proxy to the upstream's path, with `load.policy`.
   */
  load: Omit<LoadOptions, 'url'> & { url?: string };
  /** The chaos proxy in front of the dependency. */
  proxy: ProxyOptions;
  /** Policy mode: further upstreams, each behind its own proxy with the same faults. */
  failover?: readonly string[];
  /** Told of each proxy once it listens (the CLI prints its address and seed). */
  onProxyStart?: (proxy: ChaosProxy) => void;
}

/**
 * `resil chaos`: validates everything, starts the proxies, drives the load (the fault-window clock
 * starts with the first request), stops the proxies, and returns one result with both sides.
 */
export async function runChaos(options: ChaosOptions, hooks: RunHooks = {}): Promise<ResultDocument> {
  const seed = options.load.seed ?? options.proxy.seed ?? newSeed();
  const policyMode = options.load.url === undefined || options.load.url === '';
  // In policy mode the client asks for the upstream's path itself, so each proxy forwards to an origin.
  const upstreamFor = (upstream: string | undefined) => (policyMode && upstream !== undefined ? originOf(upstream) : upstream);
  const proxySeed = shardFaultSeed(seed, options.load.shard);
  const proxyOptions: ProxyOptions = { ...options.proxy, seed: proxySeed, name: options.proxy.name ?? 'dependency' };
  if (proxyOptions.upstream !== undefined) proxyOptions.upstream = upstreamFor(proxyOptions.upstream)!;
  const failoverOptions: ProxyOptions[] = (options.failover ?? []).map((upstream, i) => {
    const { listen: _listen, mock: _mock, ...faults } = proxyOptions;
    return { ...faults, upstream: upstreamFor(upstream)!, seed: proxySeed + i + 1, name: `failover-${i + 1}` };
  });

  // Check everything before anything starts.
  if (!policyMode && options.proxy.listen === undefined) {
    throw new UsageError(
      'with a service URL, --listen must give the address your service calls for its dependency (e.g. --listen 127.0.0.1:8081)',
    );
  }
  if (!policyMode && failoverOptions.length > 0) throw new UsageError('--failover is for policy mode (resil chaos without a service URL)');
  const { windows } = checkProxyOptions(proxyOptions).plan;
  failoverOptions.forEach(checkProxyOptions);
  const loadFor = (url: string, failover: string[]): LoadOptions => ({
    ...options.load,
    url,
    seed,
    ...(failover.length > 0 ? { failover } : {}),
  });
  const placeholder = (upstream: string | undefined) => `http://127.0.0.1:1${upstreamPath(upstream)}`;
  const checked = buildLoadPlan(
    policyMode
      ? { ...loadFor(placeholder(options.proxy.upstream), (options.failover ?? []).map(placeholder)), policy: options.load.policy ?? {} }
      : loadFor(options.load.url!, []),
  );
  // 'retries{failover-1}': a provider this run has ('dependency', 'failover-N').
  const providerNames = [proxyOptions, ...failoverOptions].map((proxy) => proxy.name!);
  for (const threshold of checked.thresholds) {
    const problem = thresholdProviderProblem(threshold, providerNames);
    if (problem) throw new UsageError(problem);
  }

  const session = await ChaosSession.start([proxyOptions, ...failoverOptions], options.onProxyStart);
  try {
    const [main, ...failover] = session.proxies;
    const plan: LoadPlan = policyMode
      ? buildLoadPlan({
          ...loadFor(
            main!.url + upstreamPath(options.proxy.upstream),
            failover.map((p, i) => p.url + upstreamPath(options.failover![i])),
          ),
          policy: options.load.policy ?? {},
        })
      : buildLoadPlan(loadFor(options.load.url!, []));
    judgeAsChaos(plan);
    const chaosHooks = session.runHooks({
      chaos: { windows, clientIsSubject: policyMode },
      ...(hooks.onStart ? { onStart: hooks.onStart } : {}),
      ...(hooks.live ? { live: hooks.live } : {}),
    });
    return await runPlan(plan, { ...hooks, command: hooks.command ?? 'chaos', ...chaosHooks });
  } finally {
    await session.stop();
  }
}

/** The origin of a URL, or the text itself when it does not parse (validation reports it). */
function originOf(text: string): string {
  try {
    return new URL(text).origin;
  } catch {
    return text;
  }
}

/**
 * The path and query the client asks for in policy mode (the proxy forwards to the upstream's
 * origin): those of the upstream URL, '/' for none (a mock) or one that does not parse.
 */
function upstreamPath(upstream: string | undefined): string {
  if (upstream === undefined) return '/';
  try {
    const url = new URL(upstream);
    return url.pathname + url.search;
  } catch {
    return '/';
  }
}

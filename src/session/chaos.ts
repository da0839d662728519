import { BehaviourObserver } from '../behaviour/observer.js';
import type { Correlation } from '../behaviour/call.js';
import { CHAOS_DEFAULT_THRESHOLDS } from '../chaos/verdicts.js';
import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan, type LoadPlan } from '../engine/plan.js';
import { runPlan, type RunHooks } from './load.js';
import { UsageError } from '../errors.js';
import type { LiveBoard } from '../metrics/live.js';
import { parseCorrelation, type FaultWindow } from '../proxy/config.js';
import { newRunId } from '../engine/request-ids.js';
import type { ChaosProxy } from '../proxy/chaos-proxy.js';
import { isTcpUpstream, startChaosProxy, validateProxyOptions, type ProxyOptions } from '../proxy/proxy.js';
import type { MockSettings } from '../proxy/mock.js';
import { PRESETS } from '../proxy/providers/presets.js';
import type { ChaosFacts, ResultDocument } from '../model/result.js';
import { thresholdProviderProblem, withDefaults } from '../thresholds/parse.js';
import { newSeed } from '../util/random.js';
import { startHaltMonitor, type HaltMonitor } from '../halt/monitor.js';
import { buildHaltPlan, type HaltPlan, type HaltSettings } from '../halt/plan.js';
import { formatMs } from '../util/format.js';

export interface SessionOptions {
  /** Told of each proxy once it listens. */
  onProxyStart?: (proxy: ChaosProxy) => void;
  /**
   * Observe the service's dependency calls: one BehaviourObserver shared by every proxy whose
   * correlation is not 'off' (a failover from one provider to another is one request). `runId`: the
   * run id of the request ids resil sends (request-ids.ts); `longestRetryAfterMs`: the longest
   * Retry-After the proxies inject, which bounds how long after a failure a retry is looked for;
   * `series`: keep calls per 100 ms (see ObserverOptions.series).
   */
  behaviour?: { runId?: string; longestRetryAfterMs: number; series?: boolean };
}

/**
 * A chaos session: chaos proxies in front of the dependencies, started together, driven through one
 * or more load runs, and stopped together. `resil chaos` runs one load through one session
 * (`runChaos`); `resil run` keeps one session for a campaign's providers across its scenarios. Each
 * run's behaviour (the calls the proxies saw, as attempts of requests) goes with its chaos facts.
 */
export class ChaosSession {
  private monitor: HaltMonitor | undefined;
  /** performance.now() when the last run started (or the session, before any run): halts are timed from there. */
  private runStartMs = performance.now();
  private haltedAt: { atMs: number; cause: string } | undefined;
  private log: (line: string) => void = () => {};

  private constructor(
    private readonly started: readonly ChaosProxy[],
    private readonly observer: BehaviourObserver | undefined,
  ) {}

  /**
   * Starts one proxy per entry, in order (`onProxyStart` is told of each once it listens). When one
   * cannot start, those already started are stopped before the error goes on.
   */
  static async start(proxies: readonly ProxyOptions[], options: SessionOptions = {}): Promise<ChaosSession> {
    const observer = options.behaviour ? observerFor(proxies, options.behaviour) : undefined;
    const runId = options.behaviour?.runId;
    const observing = observer && { observer, ...(runId === undefined ? {} : { runId }) };
    const started: ChaosProxy[] = [];
    try {
      for (const proxyOptions of proxies) {
        const proxy = await startChaosProxy(proxyOptions, observing);
        started.push(proxy);
        options.onProxyStart?.(proxy);
      }
    } catch (error) {
      await Promise.all(started.map((proxy) => proxy.close()));
      throw error;
    }
    return new ChaosSession(started, observer);
  }

  /**
   * Watches the service's health (halt.ts): when a condition trips, every proxy stops injecting at once
   * (haltAll). `log` gets one line per halt and per change of a check that cannot tell.
   */
  watchHealth(plan: HaltPlan, log: (line: string) => void): void {
    if (this.monitor) return;
    this.log = log;
    this.monitor = startHaltMonitor(plan, { onTrip: (cause) => this.haltAll(cause), onNotice: log });
  }

  /**
   * Every proxy stops injecting and passes everything through (the kill switch of the session). The
   * first halt is kept, with its time from the start of the run, for the result; a proxy resumed
   * through its admin API is halted again while the condition lasts.
   */
  haltAll(cause: string): void {
    let changed = false;
    for (const proxy of this.started) changed = proxy.halt(cause) || changed;
    if (!changed) return;
    const atMs = Math.round(performance.now() - this.runStartMs);
    this.haltedAt ??= { atMs, cause };
    this.log(`resil: halted at ${formatMs(atMs)}: ${cause}; every proxy passes calls through`);
  }

  /** The first halt of the session, if any. */
  get halted(): { atMs: number; cause: string } | undefined {
    return this.haltedAt;
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
   * Hooks for one load run through the proxies. The fault-window clock of every proxy, and the
   * behaviour observer's (emptied for this run), start with the first request (then `onStart` runs: a
   * campaign starts its phase timers there). With `chaos`, the proxies' counts and the behaviour are
   * collected as the run's chaos facts once it is over; live metrics read the proxies' injected-fault
   * counts. `phaseWindows`: each provider's further windows, not in its fault settings (a campaign's
   * phases), and whether its fault there is `down`.
   */
  runHooks(run: {
    chaos?: { windows: readonly FaultWindow[]; clientIsSubject?: boolean };
    phaseWindows?: ReadonlyMap<string, ReadonlyArray<FaultWindow & { down: boolean }>>;
    onStart?: () => void;
    live?: LiveBoard;
  }): Pick<RunHooks, 'onStart' | 'collectChaos'> {
    if (run.live) {
      run.live.faults = () =>
        Object.fromEntries(
          this.started.map((p) => {
            const { injected, notApplicable } = p.stats();
            return [p.name, { injected, ...(notApplicable ? { notApplicable } : {}) }];
          }),
        );
      run.live.guards = () =>
        Object.fromEntries(this.started.map((p) => [p.name, { halted: p.guard().halted, withheld: p.stats().withheld ?? {} }]));
    }
    const hooks: Pick<RunHooks, 'onStart' | 'collectChaos'> = {
      onStart: () => {
        this.runStartMs = performance.now();
        // Halted in an earlier run of the session (a campaign's scenario): this one is halted from its start.
        if (this.haltedAt) this.haltedAt = { atMs: 0, cause: this.haltedAt.cause };
        if (this.observer) this.restartObserver(this.observer, run.phaseWindows);
        for (const proxy of this.started) proxy.startSchedule();
        run.onStart?.();
      },
    };
    const chaos = run.chaos;
    if (chaos) {
      hooks.collectChaos = async () => {
        // A service answers its caller once it gives up on a held call: the close of that call may
        // still wait in this event loop when the run's last answer is in. Let it land first, so it is
        // recorded as given up on, not as open at the end.
        await new Promise<void>((resolve) => setImmediate(resolve));
        return this.facts(chaos.windows, chaos.clientIsSubject);
      };
    }
    return hooks;
  }

  /**
   * What the proxies saw: per proxy its counts, target and address; the fault windows recovery is
   * measured after; the behaviour of the calls (those still open count as open at the end).
   */
  facts(windows: readonly FaultWindow[], clientIsSubject?: boolean): ChaosFacts {
    for (const proxy of this.started) proxy.reportOpenCalls();
    const behaviour = this.observer?.document();
    return {
      providers: Object.fromEntries(this.started.map((p) => [p.name, { ...p.stats(), target: p.target, listen: p.url }])),
      windows: [...windows],
      ...(clientIsSubject === undefined ? {} : { clientIsSubject }),
      ...(behaviour ? { behaviour } : {}),
      ...(this.haltedAt ? { halted: { ...this.haltedAt } } : {}),
    };
  }

  /** A run starts: the observer forgets the last one, learns each provider's windows, and its clock starts now. */
  private restartObserver(
    observer: BehaviourObserver,
    phaseWindows: ReadonlyMap<string, ReadonlyArray<FaultWindow & { down: boolean }>> | undefined,
  ): void {
    observer.reset();
    for (const proxy of this.started) {
      if (proxy.correlation === undefined) continue;
      const own = proxy.faultWindows();
      const phases = phaseWindows?.get(proxy.name) ?? [];
      // Each window is down or not by its own fault: a provider down in one phase fails calls visibly in another.
      const windows = [
        ...own.windows.map(({ source, startMs, endMs }) => ({ source, startMs, endMs, down: own.down })),
        ...phases.map(({ source, startMs, endMs, down }) => ({ source, startMs, endMs, down })),
      ];
      observer.addProvider(
        proxy.name,
        windows.sort((a, b) => a.startMs - b.startMs),
      );
    }
    observer.startClock();
  }

  async stop(): Promise<void> {
    this.monitor?.stop();
    await Promise.all(this.started.map((proxy) => proxy.close()));
  }
}

/**
 * The session's observer, or none when every proxy's correlation is 'off'. The document names the
 * first observing proxy's correlation (a campaign's providers may differ; each proxy keys its own calls).
 */
function observerFor(
  proxies: readonly ProxyOptions[],
  settings: { longestRetryAfterMs: number; series?: boolean },
): BehaviourObserver | undefined {
  // A TCP proxy sees connections, not calls: only HTTP proxies are observed.
  const correlate = proxies
    .filter((p) => !isTcpUpstream(p.upstream))
    .map((p) => parseCorrelation(p.correlate ?? 'auto'))
    .find((c) => c.mode !== 'off');
  if (correlate === undefined) return undefined;
  const { longestRetryAfterMs, series } = settings;
  return new BehaviourObserver({
    correlate: correlate as Exclude<Correlation, { mode: 'off' }>,
    longestRetryAfterMs,
    ...(series === undefined ? {} : { series }),
  });
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
  /** Halt conditions: when one trips, every proxy stops injecting (the run goes on, marked `halted`). */
  halt?: HaltSettings;
  /** Where a halt (and a halt check that cannot tell) is logged, one line each (the CLI: stderr). */
  log?: (line: string) => void;
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
  if (policyMode && [options.proxy.upstream, ...(options.failover ?? [])].some(isTcpUpstream)) {
    throw new UsageError("policy mode sends resil's own HTTP requests: a tcp:// upstream needs a service URL that uses it");
  }
  const { windows, retryAfterSeconds } = validateProxyOptions(proxyOptions);
  failoverOptions.forEach(validateProxyOptions);
  const haltPlan = buildHaltPlan(options.halt ?? {});
  // Each request carries ids from this run's id, so the proxies can tell which calls it caused.
  const runId = newRunId();
  const loadFor = (url: string, failover: string[]): LoadOptions => ({
    ...options.load,
    url,
    seed,
    requestIds: { runId },
    ...(failover.length > 0 ? { failover } : {}),
  });
  const placeholder = (upstream: string | undefined) => `http://127.0.0.1:1${upstreamPath(upstream, options.proxy.mock)}`;
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

  const session = await ChaosSession.start([proxyOptions, ...failoverOptions], {
    ...(options.onProxyStart ? { onProxyStart: options.onProxyStart } : {}),
    behaviour: { runId, longestRetryAfterMs: retryAfterSeconds * 1000 },
  });
  try {
    const [main, ...failover] = session.proxies;
    const plan: LoadPlan = policyMode
      ? buildLoadPlan({
          ...loadFor(
            main!.url + upstreamPath(options.proxy.upstream, options.proxy.mock),
            failover.map((p, i) => p.url + upstreamPath(options.failover![i])),
          ),
          policy: options.load.policy ?? {},
        })
      : buildLoadPlan(loadFor(options.load.url!, []));
    judgeAsChaos(plan);
    const chaosHooks = session.runHooks({
      chaos: { windows, clientIsSubject: policyMode },
      // The halt conditions are checked from the first request on: a halt's time is from the start of the run.
      onStart: () => {
        if (haltPlan) session.watchHealth(haltPlan, options.log ?? (() => {}));
        hooks.onStart?.();
      },
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
 * origin): those of the upstream URL, a preset mock's chat endpoint ('/v1/chat/completions'), '/'
 * for the generic mock or an upstream that does not parse.
 */
function upstreamPath(upstream: string | undefined, mock?: MockSettings): string {
  if (upstream === undefined) return mock?.preset === undefined ? '/' : `/v1${PRESETS[mock.preset].chatPath}`;
  try {
    const url = new URL(upstream);
    return url.pathname + url.search;
  } catch {
    return '/';
  }
}

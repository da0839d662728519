import type { LoadOptions } from '../engine/options.js';
import { buildLoadPlan, type LoadPlan } from '../engine/plan.js';
import { runPlan, type RunHooks } from '../engine/run.js';
import { UsageError } from '../errors.js';
import { checkProxyOptions, startChaosProxy, type ChaosProxy, type ProxyOptions } from '../proxy/proxy.js';
import type { ChaosFacts, ResultDocument } from '../model/result.js';
import { withDefaults } from '../thresholds/parse.js';
import { newSeed } from '../util/random.js';
import { CHAOS_DEFAULT_THRESHOLDS } from './verdicts.js';

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
 * A chaos campaign: validates everything, starts the proxies, drives the load (the fault-window clock
 * starts with the first request), stops the proxies, and returns one result with both sides.
 */
export async function runChaos(options: ChaosOptions, hooks: RunHooks = {}): Promise<ResultDocument> {
  const seed = options.load.seed ?? options.proxy.seed ?? newSeed();
  const policyMode = options.load.url === undefined || options.load.url === '';
  // In policy mode the client asks for the upstream's path itself, so each proxy forwards to an origin.
  const upstreamFor = (upstream: string | undefined) => (policyMode && upstream !== undefined ? originOf(upstream) : upstream);
  // Each shard draws its own fault decisions: the seed is shifted by the shard's index.
  const proxySeed = seed + (options.load.shard?.index ?? 0) * 7919;
  const proxyOptions: ProxyOptions = { ...options.proxy, seed: proxySeed, name: options.proxy.name ?? 'dependency' };
  if (proxyOptions.upstream !== undefined) proxyOptions.upstream = upstreamFor(proxyOptions.upstream)!;
  const failoverOptions: ProxyOptions[] = (options.failover ?? []).map((upstream, i) => {
    const { listen: _listen, mock: _mock, ...faults } = proxyOptions;
    return { ...faults, upstream: upstreamFor(upstream)!, seed: proxySeed + i + 1, name: `failover-${i + 1}` };
  });

  // Check everything before anything starts.
  if (!policyMode && options.proxy.listen === undefined) {
    throw new UsageError('with a service URL, --listen must give the address your service calls for its dependency (e.g. --listen 127.0.0.1:8081)');
  }
  if (!policyMode && failoverOptions.length > 0) throw new UsageError('--failover is for policy mode (resil chaos without a service URL)');
  checkProxyOptions(proxyOptions);
  failoverOptions.forEach(checkProxyOptions);
  const loadFor = (url: string, failover: string[]): LoadOptions => ({ ...options.load, url, seed, ...(failover.length > 0 ? { failover } : {}) });
  const placeholder = (upstream: string | undefined) => `http://127.0.0.1:1${pathOf(upstream)}`;
  buildLoadPlan(
    policyMode
      ? { ...loadFor(placeholder(options.proxy.upstream), (options.failover ?? []).map(placeholder)), policy: options.load.policy ?? {} }
      : loadFor(options.load.url!, []),
  );

  const proxies: ChaosProxy[] = [];
  try {
    for (const proxy of [proxyOptions, ...failoverOptions]) {
      const started = await startChaosProxy(proxy);
      proxies.push(started);
      options.onProxyStart?.(started);
    }
    if (hooks.live) hooks.live.faults = () => Object.fromEntries(proxies.map((p) => [p.name, p.stats().injected]));
    const plan: LoadPlan = policyMode
      ? buildLoadPlan({
          ...loadFor(proxies[0]!.url + pathOf(options.proxy.upstream), proxies.slice(1).map((p, i) => p.url + pathOf(options.failover![i]))),
          policy: options.load.policy ?? {},
        })
      : buildLoadPlan(loadFor(options.load.url!, []));
    plan.thresholds = withDefaults(plan.thresholds.filter((t) => !t.isDefault), CHAOS_DEFAULT_THRESHOLDS);
    const windows = checkProxyOptions(proxyOptions).plan.windows;
    return await runPlan(plan, {
      ...hooks,
      command: hooks.command ?? 'chaos',
      onStart: () => {
        for (const proxy of proxies) proxy.startSchedule();
        hooks.onStart?.();
      },
      collectChaos: (): ChaosFacts => ({
        providers: Object.fromEntries(proxies.map((p) => [p.name, { ...p.stats(), target: p.target, listen: p.url }])),
        windows,
        clientIsSubject: policyMode,
      }),
    });
  } finally {
    await Promise.all(proxies.map((proxy) => proxy.close()));
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

/** Path and query of an upstream URL (the proxy forwards to its origin): '/' for none or a mock. */
function pathOf(upstream: string | undefined): string {
  if (upstream === undefined) return '/';
  try {
    const url = new URL(upstream);
    return url.pathname + url.search;
  } catch {
    return '/';
  }
}

import { BaseCommand } from '../cli/base.js';
import { COMMAND_OPTIONS, statusEveryMs } from '../cli/command-options.js';
import { flagFor, flagsOf, optionsFromFlags } from '../cli/option-flags.js';
import { buildHaltPlan, HALT_OPTIONS, type HaltSettings } from '../halt/plan.js';
import type { ChaosProxy } from '../proxy/chaos-proxy.js';
import { formatMs } from '../util/format.js';
import { envSummary } from '../cli/env-flags.js';
import { proxyFlags, proxyOptionsFromFlags } from '../cli/proxy-flags.js';
import { startAdminServer } from '../proxy/admin.js';
import { reachOf } from '../proxy/listen.js';
import { startToxiproxyApi } from '../proxy/toxiproxy/api.js';
import type { ProxyStats } from '../proxy/stats.js';
import { ExitCode, UsageError } from '../errors.js';
import type { BehaviourDocument } from '../model/behaviour.js';
import { ChaosSession } from '../session/chaos.js';
import { FAULT_OPTIONS } from '../proxy/config.js';
import { formatBytes } from '../util/format.js';

// biome-ignore lint/suspicious/noShadowRestrictedNames: command classes are named after their command (Load, Run, Proxy...).
export default class Proxy extends BaseCommand {
  static override summary = 'Run the chaos proxy on its own until Ctrl-C, with an optional admin API.';
  static override description =
    'Forwards to --upstream (or answers with --mock) and injects faults into a share of the calls. Put it between your service and ' +
    'one of its dependencies. With --admin-port, GET/PUT /faults, POST /reset and GET /stats change and read it at run time. ' +
    'When it stops it prints its counts, and its calls as attempts of requests (--correlate).';
  static override examples = [
    "<%= config.bin %> proxy --upstream http://127.0.0.1:9000 --listen 127.0.0.1:8081 --failure-rate 0.3 --faults 'status:503=5,timeout=1'",
    '<%= config.bin %> proxy --mock --mock-latency 20ms --listen 127.0.0.1:8081 --admin-port 8474',
    '<%= config.bin %> proxy --toxiproxy-api 8474 --config proxies.json',
  ];
  static override flags = {
    ...proxyFlags,
    'admin-port': flagFor(COMMAND_OPTIONS.adminPort),
    'admin-token': flagFor(COMMAND_OPTIONS.adminToken),
    'tally-every': flagFor(COMMAND_OPTIONS.tallyEvery),
    'status-every': flagFor(COMMAND_OPTIONS.statusEvery),
    ...flagsOf(HALT_OPTIONS),
    'toxiproxy-api': flagFor(COMMAND_OPTIONS.toxiproxyApi),
    config: flagFor(COMMAND_OPTIONS.config),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Proxy);
    const options = proxyOptionsFromFlags(flags);
    const token = flags['admin-token'] ? { token: flags['admin-token'] } : {};
    if (flags.config !== undefined && flags['toxiproxy-api'] === undefined) throw new UsageError('--config needs --toxiproxy-api');
    // With the Toxiproxy API, the flags' own proxy is optional: the API alone is a server.
    const apiAlone =
      flags['toxiproxy-api'] !== undefined && options.upstream === undefined && !options.mock && options.replay === undefined;
    const stray = (
      [
        'admin-port',
        'listen',
        'faults',
        'failure-rate',
        'fault-window',
        'record',
        'stream',
        'match-method',
        'match-path',
        'match-header',
      ] as const
    ).filter((f) => flags[f] !== undefined);
    if (apiAlone && stray.length > 0) {
      throw new UsageError(`--${stray[0]} configures the --upstream (or --mock) proxy: give one, or set proxies through the Toxiproxy API`);
    }
    const haltPlan = buildHaltPlan(optionsFromFlags<HaltSettings>(HALT_OPTIONS, flags));
    if (haltPlan && apiAlone) throw new UsageError('--halt-probe and --halt-when guard the --upstream (or --mock) proxy: give one');
    const statusEvery = statusEveryMs(flags['status-every']);
    const toxiproxy =
      flags['toxiproxy-api'] === undefined
        ? undefined
        : await startToxiproxyApi({
            listen: flags['toxiproxy-api'],
            ...token,
            ...(flags.config === undefined ? {} : { config: flags.config }),
            ...(options.seed === undefined ? {} : { seed: options.seed }),
            log: (line) => process.stdout.write(`${line}\n`),
          });
    // The calls are observed (unless --correlate off) and summed up when the proxy stops; no series:
    // the proxy runs as long as it is left, and its memory must stay flat with time too.
    const retryAfterMs = (options.retryAfter ?? FAULT_OPTIONS.retryAfter.default) * 1000;
    const session = apiAlone
      ? undefined
      : await ChaosSession.start([options], { behaviour: { longestRetryAfterMs: retryAfterMs, series: false } }).catch(async (error) => {
          await toxiproxy?.close();
          throw error;
        });
    const proxy = session?.proxies[0];
    const admin =
      flags['admin-port'] === undefined || proxy === undefined
        ? undefined
        : await startAdminServer(proxy, { port: flags['admin-port'], ...token, onGuard: (_p, event) => log(`resil proxy: ${event}`) });
    if (proxy)
      process.stdout.write(`resil proxy listening on ${proxy.url} (${reachOf(proxy.host)}) → ${proxy.target} · seed ${proxy.seed}\n`);
    if (admin) process.stdout.write(`admin API on ${admin.url}${flags['admin-token'] ? ' (token required)' : ''}\n`);
    if (toxiproxy) {
      process.stdout.write(
        `Toxiproxy API on ${toxiproxy.url} (${reachOf(toxiproxy.host)})${flags['admin-token'] ? ' (token required)' : ''}\n`,
      );
    }
    if (this.fromEnvironment.length > 0) process.stdout.write(`from environment: ${envSummary(this.shownEnvironment())}\n`);
    if (haltPlan && session) session.watchHealth(haltPlan, log);

    const everyMs = Math.max(1, Number(flags['tally-every']) || 5) * 1000;
    const tally =
      process.stdout.isTTY && proxy ? setInterval(() => process.stdout.write(`${tallyLine(proxy.stats())}\n`), everyMs) : undefined;
    // CI logs (stdout no TTY): one status line on stderr every --status-every, for runs of hours.
    const startedMs = performance.now();
    const status =
      !process.stdout.isTTY && proxy && statusEvery > 0
        ? setInterval(() => log(statusLine(proxy, performance.now() - startedMs)), statusEvery)
        : undefined;
    const signal = await new Promise<'SIGINT' | 'SIGTERM'>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    clearInterval(tally);
    clearInterval(status);
    await admin?.close();
    // One line per Toxiproxy proxy, read before the API closes them.
    const toxiproxyLines = toxiproxy?.proxies().map((p) => p.tally()) ?? [];
    await toxiproxy?.close();
    const behaviour = session?.facts([]).behaviour;
    await session?.stop();
    if (proxy) process.stdout.write(`${tallyLine(proxy.stats())}\n`);
    if (behaviour) process.stdout.write(`${behaviourLine(behaviour)}\n`);
    for (const line of toxiproxyLines) process.stdout.write(`${line}\n`);
    // A proxy stopped by the user has done its job: 0 for Ctrl-C would hide the signal from scripts, so keep the convention.
    process.exitCode = signal === 'SIGTERM' ? ExitCode.interruptedSigterm : ExitCode.interruptedSigint;
  }
}

/** The calls as requests: '120 calls as 100 requests · 20 retries (3 sooner than Retry-After) · 2 held (1 to the end)'. */
function behaviourLine({ overall }: BehaviourDocument): string {
  const early = overall.retryAfter.violations;
  const held = overall.timeouts.held;
  return (
    `behaviour: ${count(overall.calls, 'call')} as ${count(overall.requests, 'request')} · ${count(overall.retries, 'retry', 'retries')}` +
    (early > 0 ? ` (${early} sooner than Retry-After)` : '') +
    (held > 0 ? ` · ${held} held (${overall.timeouts.never} waited on to the end)` : '')
  );
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * 'resil proxy status 1h02m: calls 1,234 · injected 120 · withheld 3 · upstream errors 0 · halted (…) · faults left 7 · rss 61.2 MB'.
 */
function statusLine(proxy: ChaosProxy, upMs: number): string {
  const stats = proxy.stats();
  const guard = proxy.guard();
  const sum = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, n) => a + n, 0);
  const parts = [
    `${stats.bytes ? 'connections' : 'calls'} ${stats.calls.toLocaleString('en-US')}`,
    `injected ${sum(stats.injected).toLocaleString('en-US')}`,
    `withheld ${sum(stats.withheld).toLocaleString('en-US')}`,
    `upstream errors ${stats.upstreamErrors.toLocaleString('en-US')}`,
    guard.halted ? `HALTED since ${guard.since} (${guard.cause})` : 'injecting',
  ];
  if (guard.faultsLeft !== null) parts.push(`faults left ${guard.faultsLeft.toLocaleString('en-US')}`);
  if (guard.faultRate !== null) parts.push(`fault rate ${(guard.faultRate * 100).toFixed(2)}%`);
  parts.push(`rss ${formatBytes(process.memoryUsage.rss())}`);
  return `resil proxy status ${formatMs(upMs)}: ${parts.join(' · ')}`;
}

function tallyLine(stats: ProxyStats): string {
  const injected = Object.entries(stats.injected)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  // A TCP proxy counts connections, and the bytes each way.
  const bytes = stats.bytes ? ` · ${formatBytes(stats.bytes.upstream)} up · ${formatBytes(stats.bytes.downstream)} down` : '';
  const withheld = Object.entries(stats.withheld ?? {})
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  return (
    `${stats.bytes ? 'connections' : 'calls'} ${stats.calls} · passed through ${stats.passedThrough} · injected ${injected || 'none'} · ` +
    `${withheld ? `withheld ${withheld} · ` : ''}upstream errors ${stats.upstreamErrors}${bytes}`
  );
}

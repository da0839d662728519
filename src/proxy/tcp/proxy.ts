import { connect, createServer, type Server, type Socket } from 'node:net';
import { ProblemList } from '../../errors.js';
import type { ToxicSpec } from '../../faults/toxics/toxic.js';
import { flagWording } from '../../util/option-table.js';
import { buildFaultPlan, type FaultPlan, type FaultSettings, type FaultWindow } from '../config.js';
import { FaultDecider, type GuardState, type WholeWindowListener } from '../decide.js';
import { listenOn, parseListen, reportListenFailure } from '../listen.js';
import { emptyTrafficCounts, joinStats, type ProxyStats, type TrafficCounts } from '../stats.js';
import { formatTcpAddress, parseTcpAddress, type TcpAddress } from './address.js';
import { tcpFaultMix, type TcpFault } from './faults.js';
import { Link, type WantedToxic } from './link.js';
import type { TcpProxy, TcpProxyOptions } from './tcp-proxy.js';

/** Validates a TCP proxy's options without starting anything; throws one UsageError listing every problem. */
export function checkTcpProxyOptions(options: TcpProxyOptions): {
  plan: FaultPlan<TcpFault>;
  listen: { host: string; port: number };
  upstream: TcpAddress;
} {
  const problems = new ProblemList();
  const upstream = problems.attempt(() => parseTcpAddress(options.upstream, '--upstream'));
  const listen = problems.attempt(() => parseListen(options.listen));
  const stream = options.stream ?? 'downstream';
  if (stream !== 'upstream' && stream !== 'downstream') problems.add(`--stream '${String(stream)}': expected upstream or downstream`);
  for (const [key, flag] of [
    ['matchMethod', '--match-method'],
    ['matchPath', '--match-path'],
    ['matchHeader', '--match-header'],
  ] as const) {
    if (options[key] !== undefined) problems.add(`${flag} needs an HTTP upstream: a TCP proxy decides per connection, not per call`);
  }
  const plan = problems.attempt(() => tcpPlan(options, stream === 'upstream' ? 'upstream' : 'downstream'));
  problems.throwIfAny();
  return { plan: plan!, listen: listen!, upstream: upstream! };
}

function tcpPlan(settings: FaultSettings, stream: 'upstream' | 'downstream'): FaultPlan<TcpFault> {
  return buildFaultPlan(settings, flagWording, tcpFaultMix(stream));
}

/** Starts a TCP chaos proxy (see TcpProxy). */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const checked = checkTcpProxyOptions(options);
  return new TcpProxyServer(
    options.name ?? 'proxy',
    checked.plan,
    checked.listen,
    checked.upstream,
    options.stream ?? 'downstream',
  ).start();
}

/** One proxied connection: the client's socket, the dependency's, and a link each way. */
class TcpConnection {
  readonly toUpstream: Link;
  readonly toClient: Link;
  /** The fault this connection drew from the fault settings, if any. */
  fault: TcpFault | undefined;
  /** Whether each toxic (by key) was drawn for this connection: drawn once, when first seen. */
  readonly drawn = new Map<string, boolean>();
  private over = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    private readonly proxy: TcpProxyServer,
  ) {
    const host = { close: () => this.close(), reset: () => this.reset(), random: () => proxy.random() };
    this.toUpstream = new Link(client, upstream, host);
    this.toClient = new Link(upstream, client, host);
  }

  /** Puts the fault and the toxics drawn for this connection on its two links. */
  sync(toxics: readonly ToxicSpec[]): void {
    const wanted: Record<'upstream' | 'downstream', WantedToxic[]> = { upstream: [], downstream: [] };
    // Keyed by its spec like the toxics: a fault drawn anew replaces the old one, the same one stays.
    if (this.fault?.toxic)
      wanted[this.fault.toxic.stream].push({ key: `#fault\u0000${toxicKey(this.fault.toxic)}`, spec: this.fault.toxic });
    for (const spec of toxics) {
      const key = toxicKey(spec);
      let on = this.drawn.get(key);
      if (on === undefined) {
        // toxicity 1 and 0 draw nothing, so a seed gives the same draws whatever toxics are certain.
        on = spec.toxicity >= 1 ? true : spec.toxicity <= 0 ? false : this.proxy.random() < spec.toxicity;
        this.drawn.set(key, on);
        if (on) this.proxy.toxicApplied(spec.name);
      }
      if (on) wanted[spec.stream].push({ key, spec });
    }
    this.toUpstream.setChain(wanted.upstream);
    this.toClient.setChain(wanted.downstream);
  }

  /** Both ways closed (FIN) once what was written is out (a toxic's close: timeout, limit_data). */
  close(): void {
    this.finish();
    this.client.destroySoon();
    this.upstream.destroySoon();
  }

  /** TCP RST both ways (reset_peer), as Toxiproxy's linger 0 does. */
  reset(): void {
    this.finish();
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
  }

  /** Dropped at once (the listener goes down, the proxy closes). */
  destroy(): void {
    this.finish();
    this.client.destroy();
    this.upstream.destroy();
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.toUpstream.kill();
    this.toClient.kill();
    this.proxy.ended(this);
  }

  /** A socket failed (reset, refused): the other goes too. */
  socketFailed(): void {
    if (!this.over) this.destroy();
  }

  private socketsClosed = 0;

  /**
   * A socket closed cleanly: both its ways are done, but the other link may still be passing bytes
   * (or a held close) to the other socket. The connection is over once both are closed.
   */
  socketClosed(): void {
    if (++this.socketsClosed === 2) this.finish();
  }
}

function toxicKey(spec: ToxicSpec): string {
  return `${spec.name}\u0000${JSON.stringify(spec)}`;
}

class TcpProxyServer implements TcpProxy {
  private readonly server: Server;
  private readonly decider: FaultDecider<TcpFault>;
  private readonly connections = new Set<TcpConnection>();
  private traffic: TrafficCounts = emptyTrafficCounts();
  /** Bytes of connections already over, each way; open ones are added when stats are read. */
  private bytesDone = { upstream: 0, downstream: 0 };
  /** Connections each toxic (by name) was drawn for: counted with the injected faults. */
  private toxicCounts: Record<string, number> = {};
  private toxicList: readonly ToxicSpec[] = [];
  /** Timers that put the plan's fault on (and off) the open connections at each window's edges. */
  private windowTimers: NodeJS.Timeout[] = [];
  private listening = false;
  private closed = false;
  /** False while Toxiproxy's `enabled` is off (a `down` window is the decider's, apart). */
  enabled = true;
  port = 0;
  /** What the decider does to the listener for `down`. */
  private readonly listener: WholeWindowListener = {
    goDown: () => this.goDown(),
    comeUp: () => void this.ensureListening().catch(reportListenFailure),
  };

  constructor(
    readonly name: string,
    plan: FaultPlan<TcpFault>,
    private readonly listen: { host: string; port: number },
    private upstreamAt: TcpAddress,
    private readonly stream: 'upstream' | 'downstream',
  ) {
    this.decider = new FaultDecider(plan);
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
  }

  readonly correlation = undefined;

  get host(): string {
    return this.listen.host;
  }
  get url(): string {
    return `tcp://${formatTcpAddress({ host: this.listen.host, port: this.port })}`;
  }
  get target(): string {
    return `tcp://${this.upstreamAddress}`;
  }
  get upstreamAddress(): string {
    return formatTcpAddress(this.upstreamAt);
  }
  get seed(): number {
    return this.decider.plan.seed;
  }
  get toxics(): readonly ToxicSpec[] {
    return this.toxicList;
  }

  random(): number {
    return this.decider.random();
  }

  async start(): Promise<this> {
    await this.openListener(this.listen.port);
    this.startSchedule();
    return this;
  }

  stats(): ProxyStats {
    const bytes = { ...this.bytesDone };
    for (const connection of this.connections) {
      bytes.upstream += connection.toUpstream.bytes;
      bytes.downstream += connection.toClient.bytes;
    }
    const faults = this.decider.faultCounts();
    for (const [name, n] of Object.entries(this.toxicCounts)) faults.injected[name] = (faults.injected[name] ?? 0) + n;
    return { ...joinStats(this.traffic, faults), bytes };
  }

  toxicApplied(name: string): void {
    this.toxicCounts[name] = (this.toxicCounts[name] ?? 0) + 1;
  }

  resetStats(): void {
    this.traffic = emptyTrafficCounts();
    this.bytesDone = { upstream: 0, downstream: 0 };
    this.toxicCounts = {};
    for (const connection of this.connections) connection.toUpstream.bytes = connection.toClient.bytes = 0;
    this.decider.resetCounts();
  }

  faultSettings(): FaultSettings {
    const plan = this.decider.plan;
    return { ...plan.settings, seed: plan.seed };
  }

  setFaults(settings: FaultSettings): void {
    this.decider.setPlan(tcpPlan(settings, this.stream));
    this.startSchedule();
  }

  /**
   * Starts the window clock now. Open connections draw again at once (inside a window, or with none)
   * and at each window's start; at its end the fault comes off them. A connection opened later draws
   * when it opens. `down` windows close the listener instead (the decider's timers).
   */
  startSchedule(): void {
    for (const timer of this.windowTimers) clearTimeout(timer);
    this.windowTimers = [];
    this.decider.startClock(this.listener);
    this.drawForOpen();
    const plan = this.decider.plan;
    if (plan.down) return;
    for (const window of plan.windows) {
      // libuv may fire a timer up to 1 ms before performance.now() says it is due: the start edge waits
      // that much more, so the decider sees the window open; the end edge takes the faults off itself.
      this.windowTimers.push(setTimeout(() => this.drawForOpen(), window.startMs + 1));
      this.windowTimers.push(setTimeout(() => this.clearForOpen(), window.endMs));
    }
  }

  faultWindows(): { windows: FaultWindow[]; down: boolean } {
    const plan = this.decider.plan;
    return { windows: [...plan.windows], down: plan.down };
  }

  reportOpenCalls(): void {}

  setToxics(toxics: readonly ToxicSpec[]): void {
    this.toxicList = [...toxics];
    for (const connection of this.connections) connection.sync(this.activeToxics());
  }

  /** The toxics connections carry: none while halted (the list is kept for the resume). */
  private activeToxics(): readonly ToxicSpec[] {
    return this.decider.halted ? [] : this.toxicList;
  }

  halt(cause: string): boolean {
    if (!this.decider.halt(cause)) return false;
    // Off the open connections at once: a stage taken off passes on what it holds.
    this.clearForOpen();
    return true;
  }

  resume(): boolean {
    if (!this.decider.resume()) return false;
    this.drawForOpen();
    return true;
  }

  guard(): GuardState {
    return this.decider.guard();
  }

  async setEnabled(enabled: boolean): Promise<void> {
    if (enabled === this.enabled) return;
    this.enabled = enabled;
    if (enabled) await this.ensureListening();
    else this.goDown();
  }

  setUpstream(upstream: string): void {
    this.upstreamAt = parseTcpAddress(upstream);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.decider.stopClock();
    for (const timer of this.windowTimers) clearTimeout(timer);
    for (const connection of [...this.connections]) connection.destroy();
    if (this.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.listening = false;
  }

  /** A connection is over: its bytes go into the totals. */
  ended(connection: TcpConnection): void {
    if (!this.connections.delete(connection)) return;
    this.bytesDone.upstream += connection.toUpstream.bytes;
    this.bytesDone.downstream += connection.toClient.bytes;
  }

  // ---- per connection ----

  private accept(client: Socket): void {
    this.traffic.calls++;
    const upstream = connect({ host: this.upstreamAt.host, port: this.upstreamAt.port, allowHalfOpen: true, noDelay: true });
    const connection = new TcpConnection(client, upstream, this);
    this.connections.add(connection);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.traffic.passedThrough++;
    });
    upstream.on('error', () => {
      // The dependency refused or dropped the connection: the client's goes too.
      if (!connected) this.traffic.upstreamErrors++;
      connection.socketFailed();
    });
    client.on('error', () => connection.socketFailed());
    client.on('close', () => connection.socketClosed());
    upstream.on('close', () => connection.socketClosed());
    connection.fault = this.decider.decide();
    connection.sync(this.activeToxics());
  }

  /** Each open connection draws its fault again (none outside the windows). */
  private drawForOpen(): void {
    for (const connection of this.connections) {
      connection.fault = this.decider.decide();
      connection.sync(this.activeToxics());
    }
  }

  /** A window is over: its faults come off the open connections. */
  private clearForOpen(): void {
    for (const connection of this.connections) {
      connection.fault = undefined;
      connection.sync(this.activeToxics());
    }
  }

  // ---- the listener: `down` windows and Toxiproxy's enabled ----

  private goDown(): boolean {
    if (this.closed || !this.listening) return false;
    this.listening = false;
    this.server.close();
    for (const connection of [...this.connections]) connection.destroy();
    return true;
  }

  private async ensureListening(): Promise<void> {
    // Disabled through the API stays down whatever the windows say.
    if (this.closed || this.listening || !this.enabled) return;
    await this.openListener(this.port || this.listen.port);
  }

  private async openListener(port: number): Promise<void> {
    this.port = await listenOn(this.server, this.listen.host, port, this.name);
    this.listening = true;
  }
}

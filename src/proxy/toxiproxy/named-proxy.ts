import { UsageError } from '../../errors.js';
import type { ToxicSpec } from '../../faults/toxics/toxic.js';
import { parseListen } from '../listen.js';
import type { ChaosProxy } from '../chaos-proxy.js';
import { startChaosProxy } from '../proxy.js';
import type { ProxyStats } from '../stats.js';
import { formatBytes } from '../../util/format.js';
import { startTcpProxy } from '../tcp/proxy.js';
import type { TcpProxy } from '../tcp/tcp-proxy.js';
import { httpFaultSettings, isHttpToxic, isHttpUpstream } from './http-toxics.js';

/** A toxic as Toxiproxy's API writes it (its field order). */
export interface ToxicJson {
  attributes: Record<string, number>;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
}

/** A proxy as Toxiproxy's API writes it. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

/** What a proxy is made from: a create or populate body, or one entry of a config file. */
export interface ProxyDefinition {
  name: string;
  /** 'HOST:PORT' as Toxiproxy takes it (resil's rule: no host means 127.0.0.1). */
  listen?: string;
  /** 'HOST:PORT' or tcp://HOST:PORT (raw TCP), or an http:// or https:// URL (an HTTP proxy). */
  upstream: string;
  enabled: boolean;
  /** resil's addition: toxics set when the proxy is made (populate, config file). */
  toxics?: ToxicSpec[];
}

/**
 * One named proxy of the Toxiproxy API. It is always a TCP proxy at its listen address; for an
 * http(s):// upstream it forwards to an inner HTTP chaos proxy on 127.0.0.1 that calls the upstream,
 * so TCP toxics act on the client's connection and http_* toxics on each request.
 */
export class NamedProxy {
  private constructor(
    readonly name: string,
    private upstreamText: string,
    private tcp: TcpProxy,
    private inner: ChaosProxy | undefined,
    private readonly seed: number | undefined,
    private list: ToxicSpec[] = [],
  ) {}

  /** Starts a proxy (listening, then closed again when it is made disabled). Throws UsageError or CouldNotRunError. */
  static async start(definition: ProxyDefinition, seed: number | undefined): Promise<NamedProxy> {
    const toxics = definition.toxics ?? [];
    checkKind(definition.upstream, toxics);
    const inner = await startInner(definition.name, definition.upstream, seed);
    let tcp: TcpProxy;
    try {
      tcp = await startTcpProxy({
        name: definition.name,
        upstream: inner ? innerAddress(inner) : definition.upstream,
        ...(definition.listen === undefined ? {} : { listen: definition.listen }),
        ...(seed === undefined ? {} : { seed }),
      });
    } catch (error) {
      await inner?.close();
      throw error;
    }
    const proxy = new NamedProxy(definition.name, definition.upstream, tcp, inner, seed);
    try {
      proxy.setToxics(toxics);
      if (!definition.enabled) await tcp.setEnabled(false);
    } catch (error) {
      // Toxics refused (two http_status with different retry_after...): nothing of this proxy stays listening.
      await proxy.close();
      throw error;
    }
    return proxy;
  }

  get upstream(): string {
    return this.upstreamText;
  }

  /** The address it listens on, as Toxiproxy shows it: an IP and the real port ('127.0.0.1:41234'). */
  get listen(): string {
    return addressText(this.tcp.host, this.tcp.port);
  }

  get enabled(): boolean {
    return this.tcp.enabled;
  }

  get http(): boolean {
    return this.inner !== undefined;
  }

  get toxics(): readonly ToxicSpec[] {
    return this.list;
  }

  /** Toxiproxy lists the upstream chain, then the downstream one, each in the order the toxics were added. */
  json(): ProxyJson {
    const ordered = [...this.list.filter((t) => t.stream === 'upstream'), ...this.list.filter((t) => t.stream === 'downstream')];
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, toxics: ordered.map(toxicJson) };
  }

  /** Replaces the toxics (names unique: the caller checks): TCP ones on the connection, http_* ones per request. */
  setToxics(toxics: readonly ToxicSpec[]): void {
    checkKind(this.upstream, toxics);
    const settings = this.inner && httpFaultSettings(toxics, this.inner.seed);
    if (settings) this.inner!.setFaults(settings);
    this.tcp.setToxics(toxics.filter((t) => !isHttpToxic(t)));
    this.list = [...toxics];
  }

  /**
   * Toxiproxy's update: a new listen or upstream restarts the proxy (open connections dropped), with
   * its toxics; `enabled` opens or closes the listener. Checked before anything changes.
   */
  async update(change: { listen: string; upstream: string; enabled: boolean }): Promise<void> {
    const listenChanged = normalListen(change.listen) !== this.listen;
    if (listenChanged || change.upstream !== this.upstream) {
      checkKind(change.upstream, this.list);
      const inner = await startInner(this.name, change.upstream, this.seed);
      const target = inner ? innerAddress(inner) : change.upstream;
      try {
        if (listenChanged) {
          // The new listener first: a port it cannot take leaves this proxy as it was.
          const tcp = await startTcpProxy({ name: this.name, upstream: target, listen: change.listen, ...this.seeded() });
          await this.tcp.close();
          this.tcp = tcp;
        } else {
          this.tcp.setUpstream(target);
          await this.tcp.setEnabled(false);
        }
      } catch (error) {
        await inner?.close();
        throw error;
      }
      await this.inner?.close();
      this.inner = inner;
      this.upstreamText = change.upstream;
      this.setToxics(this.list);
    }
    if (change.enabled !== this.tcp.enabled) await this.tcp.setEnabled(change.enabled);
  }

  async setEnabled(enabled: boolean): Promise<void> {
    if (enabled !== this.tcp.enabled) await this.tcp.setEnabled(enabled);
  }

  /** True when `definition` would make another proxy than this one (Toxiproxy's Differs: listen or upstream). */
  differs(definition: ProxyDefinition): boolean {
    return normalListen(definition.listen ?? '') !== this.listen || definition.upstream !== this.upstream;
  }

  /** The TCP proxy's counts (connections as calls), and the inner HTTP proxy's (requests) for an HTTP proxy. */
  stats(): { connections: ProxyStats; requests?: ProxyStats } {
    return { connections: this.tcp.stats(), ...(this.inner ? { requests: this.inner.stats() } : {}) };
  }

  /** Its counts in one line, for `resil proxy` when it stops: 'redis (127.0.0.1:26379 → 127.0.0.1:6379): 12 connections · ...'. */
  tally(): string {
    const { connections, requests } = this.stats();
    const injected = (stats: ProxyStats) =>
      Object.entries(stats.injected)
        .map(([name, count]) => `${name} ${count}`)
        .join(', ') || 'none';
    const http = requests
      ? ` · ${requests.calls} requests · passed through ${requests.passedThrough} · injected ${injected(requests)} · ` +
        `upstream errors ${requests.upstreamErrors}`
      : ` · toxics ${injected(connections)} · upstream errors ${connections.upstreamErrors}`;
    const bytes = connections.bytes
      ? ` · ${formatBytes(connections.bytes.upstream)} up · ${formatBytes(connections.bytes.downstream)} down`
      : '';
    return `${this.name} (${this.listen} → ${this.upstream}): ${connections.calls} connections${bytes}${http}`;
  }

  async close(): Promise<void> {
    await this.tcp.close();
    await this.inner?.close();
  }

  private seeded(): { seed?: number } {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
}

function toxicJson(toxic: ToxicSpec): ToxicJson {
  return { attributes: { ...toxic.attributes }, name: toxic.name, type: toxic.type, stream: toxic.stream, toxicity: toxic.toxicity };
}

/** http_* toxics need an HTTP upstream (checked before anything changes). */
function checkKind(upstream: string, toxics: readonly ToxicSpec[]): void {
  const http = toxics.find(isHttpToxic);
  if (http && !isHttpUpstream(upstream)) {
    throw new UsageError(`${http.type} is an HTTP toxic: upstream '${upstream}' is raw TCP (give an http:// or https:// upstream)`);
  }
}

async function startInner(name: string, upstream: string, seed: number | undefined): Promise<ChaosProxy | undefined> {
  if (!isHttpUpstream(upstream)) return undefined;
  return startChaosProxy({ name, upstream, listen: '127.0.0.1:0', ...(seed === undefined ? {} : { seed }) });
}

function innerAddress(inner: ChaosProxy): string {
  return `127.0.0.1:${inner.port}`;
}

/** 'localhost:0' → '127.0.0.1:0', '[::1]:80' → '[::1]:80': how a listen address compares with the one shown. */
function normalListen(listen: string): string {
  const { host, port } = parseListen(listen, 'listen');
  return addressText(host, port);
}

function addressText(host: string, port: number): string {
  if (host === 'localhost') return `127.0.0.1:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

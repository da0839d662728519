import type { StreamDirection, ToxicSpec } from '../../faults/toxics/toxic.js';
import type { FaultSettings } from '../config.js';
import type { ChaosProxy } from '../chaos-proxy.js';

/** A TCP proxy's options: `resil proxy --upstream tcp://HOST:PORT`, a campaign provider, or Toxiproxy's API. */
export interface TcpProxyOptions extends FaultSettings {
  /** 'tcp://HOST:PORT' (or Toxiproxy's bare 'HOST:PORT'). */
  upstream: string;
  /** 'HOST:PORT' (default 127.0.0.1 on an ephemeral port). */
  listen?: string;
  name?: string;
  /** The direction the `faults` mix acts on (default downstream). Toxics carry their own. */
  stream?: StreamDirection;
}

/**
 * A chaos proxy for raw TCP (databases, caches, brokers). It takes faults two ways, which stack:
 * - the fault settings of every resil proxy (failure rate, a weighted mix of TCP faults, windows,
 *   seed): one decision per connection, counted like an HTTP proxy's per call;
 * - Toxiproxy's toxics (setToxics): each applies to a connection with its own toxicity.
 * Its stats count connections as calls, and the bytes each way.
 */
export interface TcpProxy extends ChaosProxy {
  /** Where new connections go: 'HOST:PORT'. */
  readonly upstreamAddress: string;
  /** The toxics, in the order they act (the first sees the bytes first). */
  readonly toxics: readonly ToxicSpec[];
  /**
   * Replaces the toxics. Open connections follow at once: a toxic added is drawn for each (toxicity)
   * and put at its place in the chain, one removed passes on what it holds, one changed is replaced.
   * Names must be unique (the caller checks).
   */
  setToxics(toxics: readonly ToxicSpec[]): void;
  /** Toxiproxy's `enabled`. */
  readonly enabled: boolean;
  /** false closes the listener and every open connection (as `down`); true listens again, on the same port. */
  setEnabled(enabled: boolean): Promise<void>;
  /** New connections go to this 'HOST:PORT' (or tcp://HOST:PORT); open ones keep theirs. Throws UsageError. */
  setUpstream(upstream: string): void;
}

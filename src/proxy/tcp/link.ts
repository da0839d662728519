import type { Socket } from 'node:net';
import type { Chunk, LinkOps, ToxicSpec, ToxicStage } from '../../faults/toxics/toxic.js';
import { TOXIC_TYPES } from '../../faults/toxics/registry.js';

/** Bytes waiting in a link's stages above which its source is paused (bytes), and below which it reads again. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/** The end of the stream (FIN), queued behind the data before it. */
const END = Symbol('end');
/**
 * A stage closed the connection (limit_data, timeout): what it passed on before still goes through
 * the stages after it, then the connection closes. Stages never see it.
 */
const CLOSE = Symbol('close');
type Item = Chunk | typeof END | typeof CLOSE;

/** Node's longest timer (ms); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a link needs of its connection: the whole-connection faults, and the seeded generator. */
export interface LinkHost {
  close(): void;
  reset(): void;
  random(): number;
}

/** A toxic wanted on a link: `key` tells one from another across changes (a changed toxic has a new key). */
export interface WantedToxic {
  key: string;
  spec: ToxicSpec;
}

interface Entry {
  key: string;
  stage: ToxicStage;
  /** Items waiting for this stage, oldest first. */
  queue: Item[];
  /** A write() has not called done() yet. */
  busy: boolean;
  timers: Set<NodeJS.Timeout>;
  ops: LinkOps;
  /** Being taken off: it passes on what it holds (flush) and is fed nothing more. */
  flushing: boolean;
  /** Taken off the chain: anything it still calls is ignored. */
  removed: boolean;
}

/**
 * One direction of one proxied connection: bytes read from `source` go through a chain of toxic
 * stages, in order, then to `sink`. With no stage the bytes go straight through (no timestamps, no
 * queue). Backpressure: the source pauses while the sink is full or more than HIGH_WATER bytes wait
 * in the stages. The chain can change while bytes flow (Toxiproxy's toxics are live).
 */
export class Link {
  private chain: Entry[] = [];
  private queuedBytes = 0;
  private sinkFull = false;
  private paused = false;
  private dead = false;
  /** A stage closed the connection: the source's bytes are dropped while the close goes through. */
  private closing = false;
  private sinkEnded = false;
  /** Bytes written to the sink. */
  bytes = 0;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly host: LinkHost,
  ) {
    source.on('data', (data: Buffer) => this.input(data));
    source.on('end', () => this.inputEnd());
    sink.on('drain', () => {
      this.sinkFull = false;
      this.flow();
    });
  }

  /** The toxics of this link, in order. Entries kept by key; removed ones pass on what they hold; new ones start now. */
  setChain(wanted: readonly WantedToxic[]): void {
    if (this.dead) return;
    const keys = new Set(wanted.map((w) => w.key));
    for (const entry of [...this.chain]) if (!keys.has(entry.key)) this.remove(entry);
    const kept = new Map(this.chain.map((entry) => [entry.key, entry]));
    const next: Entry[] = [];
    const started: Entry[] = [];
    for (const { key, spec } of wanted) {
      const existing = kept.get(key);
      if (existing) next.push(existing);
      else {
        const entry = this.entryFor(key, spec);
        next.push(entry);
        started.push(entry);
      }
    }
    this.chain = next;
    for (const entry of started) entry.stage.start?.(entry.ops);
  }

  /** Stops everything: timers cleared, nothing more written. */
  kill(): void {
    this.dead = true;
    for (const entry of this.chain) this.clearTimers(entry);
    this.chain = [];
  }

  // ---- bytes in ----

  private input(data: Buffer): void {
    if (this.dead || this.closing) return;
    const first = this.chain[0];
    if (first === undefined) {
      this.write(data);
      return;
    }
    this.queuedBytes += data.length;
    first.queue.push({ data, atMs: performance.now() });
    this.pump(first);
    this.flow();
  }

  private inputEnd(): void {
    if (this.dead || this.closing) return;
    const first = this.chain[0];
    if (first === undefined) this.endSink();
    else {
      first.queue.push(END);
      this.pump(first);
    }
  }

  // ---- through the chain ----

  private entryFor(key: string, spec: ToxicSpec): Entry {
    const entry: Entry = {
      key,
      stage: TOXIC_TYPES.get(spec.type)!.stage(spec.attributes),
      queue: [],
      busy: false,
      timers: new Set(),
      flushing: false,
      removed: false,
      ops: undefined!,
    };
    entry.ops = {
      push: (chunk) => {
        if (!entry.removed) this.emit(entry, chunk);
      },
      end: () => {
        if (!entry.removed) this.emit(entry, END);
      },
      close: () => {
        if (entry.removed || this.dead || this.closing) return;
        // Nothing more is read; what was passed on goes through the stages after this one first.
        this.closing = true;
        this.emit(entry, CLOSE);
      },
      reset: () => {
        if (!entry.removed && !this.dead) this.host.reset();
      },
      later: (ms, fn) => {
        if (entry.removed || this.dead) return;
        const dueMs = performance.now() + ms;
        const arm = (waitMs: number) => {
          const timer = setTimeout(
            () => {
              entry.timers.delete(timer);
              if (entry.removed || this.dead) return;
              // libuv's clock counts whole ms, so a timer may fire up to 1 ms early: a toxic's delay is a
              // floor (latency added ≥ the toxic's), so wait out the rest.
              const left = dueMs - performance.now();
              if (left > 0) arm(left);
              else fn();
            },
            Math.min(waitMs, MAX_TIMER_MS),
          );
          entry.timers.add(timer);
        };
        arm(ms);
      },
      random: () => this.host.random(),
    };
    return entry;
  }

  /** Feeds `entry` its queued items one at a time: the next goes in once the stage called done(). */
  private pump(entry: Entry): void {
    while (!entry.busy && entry.queue.length > 0 && !entry.flushing && !entry.removed && !this.dead) {
      const item = entry.queue.shift()!;
      if (item === END) {
        entry.stage.end(entry.ops);
        continue;
      }
      if (item === CLOSE) {
        this.emit(entry, CLOSE);
        continue;
      }
      this.queuedBytes -= item.data.length;
      entry.busy = true;
      let returned = false;
      entry.stage.write(item, entry.ops, () => {
        entry.busy = false;
        // done() called later (after a timer): carry on from here; called at once: the loop carries on.
        if (returned) this.pump(entry);
      });
      returned = true;
    }
    this.flow();
  }

  /** What `from` passes on goes to the next stage, or to the sink after the last. */
  private emit(from: Entry, item: Item): void {
    if (this.dead) return;
    const next = this.chain[this.chain.indexOf(from) + 1];
    if (next === undefined) {
      if (item === END) this.endSink();
      else if (item === CLOSE) this.host.close();
      else this.write(item.data);
      return;
    }
    if (item !== END && item !== CLOSE) this.queuedBytes += item.data.length;
    next.queue.push(item);
    this.pump(next);
  }

  /** Takes a stage off: it passes on what it holds (flush), its timers stop, its queue goes to whoever follows. */
  private remove(entry: Entry): void {
    entry.flushing = true;
    entry.stage.flush?.(entry.ops);
    entry.removed = true;
    this.clearTimers(entry);
    const index = this.chain.indexOf(entry);
    const next = this.chain[index + 1];
    this.chain.splice(index, 1);
    const waiting = entry.queue;
    entry.queue = [];
    if (next === undefined) {
      for (const item of waiting) {
        if (item === END) this.endSink();
        else if (item === CLOSE) this.host.close();
        else {
          this.queuedBytes -= item.data.length;
          this.write(item.data);
        }
      }
    } else {
      next.queue.push(...waiting);
      this.pump(next);
    }
  }

  private clearTimers(entry: Entry): void {
    for (const timer of entry.timers) clearTimeout(timer);
    entry.timers.clear();
  }

  // ---- bytes out ----

  private write(data: Buffer): void {
    if (this.sinkEnded || this.sink.destroyed || data.length === 0) return;
    this.bytes += data.length;
    if (!this.sink.write(data)) {
      this.sinkFull = true;
      this.flow();
    }
  }

  private endSink(): void {
    if (this.sinkEnded) return;
    this.sinkEnded = true;
    if (!this.sink.destroyed) this.sink.end();
  }

  /** Pauses or resumes the source for the sink and the stages' queues. */
  private flow(): void {
    const hold = this.sinkFull || this.queuedBytes > HIGH_WATER;
    if (hold && !this.paused) {
      this.paused = true;
      this.source.pause();
    } else if (this.paused && !this.sinkFull && this.queuedBytes < LOW_WATER) {
      this.paused = false;
      this.source.resume();
    }
  }
}

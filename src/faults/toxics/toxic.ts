/**
 * TCP faults with Toxiproxy's semantics ("toxics"): each sits on one direction of one connection (a
 * link) and reshapes the bytes that flow through it. A link's toxics form a chain, in the order they
 * were added: a chunk read from one socket goes through each stage in turn, then to the other socket.
 */

/** Which way the bytes flow: 'upstream' is client → dependency, 'downstream' dependency → client (Toxiproxy's names). */
export type StreamDirection = 'upstream' | 'downstream';

/** A toxic as Toxiproxy's API and config files write it. Attributes are whole numbers in the type's units. */
export interface ToxicSpec {
  name: string;
  type: string;
  stream: StreamDirection;
  /** Chance (0..1) that the toxic applies to one connection, drawn when the link is made (or the toxic added). */
  toxicity: number;
  attributes: Record<string, number>;
}

/** Bytes read from one socket, with when they were read (performance.now(), ms): latency counts from there. */
export interface Chunk {
  data: Buffer;
  atMs: number;
}

/** What a stage may do to its link. Its functions need no `this`: a stage may pass them on. */
export interface LinkOps {
  /** Hands a chunk to the next stage (the last stage writes to the socket). */
  push(chunk: Chunk): void;
  /** Ends this direction after what was pushed (FIN on the far socket once it is written). */
  end(): void;
  /** Closes the whole connection, both sockets (Toxiproxy's stub.Close on a timeout or limit). */
  close(): void;
  /** Resets the whole connection: RST to the client, the dependency's socket destroyed. */
  reset(): void;
  /** A timer that dies with the link. */
  later(ms: number, fn: () => void): void;
  /** The proxy's seeded generator, in [0, 1). */
  random(): number;
}

/**
 * One toxic on one link. write() and end() are called in order, each after the previous one called
 * done(): a stage handles one chunk at a time, so it keeps the stream's order without a queue of its own.
 */
export interface ToxicStage {
  /** The stage was put on a link (a connection opened, or the toxic was added to an open one). */
  start?(ops: LinkOps): void;
  /** Passes on (or holds, cuts, drops) one chunk; calls done() when it may take the next one. */
  write(chunk: Chunk, ops: LinkOps, done: () => void): void;
  /** The source ended (FIN): pass the end on (ops.end), delay it, or ignore it. */
  end(ops: LinkOps): void;
  /**
   * The toxic is removed from a live link: whatever the stage still holds goes on (nothing is dropped
   * on the floor, as in Toxiproxy). Optional: stages that hold nothing need none.
   */
  flush?(ops: LinkOps): void;
}

/** One attribute of a toxic type: its Toxiproxy name, unit and default. */
export interface ToxicAttribute {
  name: string;
  /** 'ms', 'µs', 'KB/s', 'bytes'. */
  unit: string;
  default: number;
  /** Smallest value allowed (0 unless said). */
  min?: number;
  summary: string;
}

/** A kind of toxic: its attributes, its command-line short form, and the stage it puts on a link. */
export interface ToxicType {
  readonly type: string;
  readonly summary: string;
  readonly attributes: readonly ToxicAttribute[];
  /** The short form after 'type:' in --faults, for messages: 'DURATION or MIN~MAX'. '' for none. */
  readonly argument: string;
  /** `--faults` short form → attributes (defaults filled). Throws UsageError naming the argument. */
  fromArgument(argument: string | undefined): Record<string, number>;
  /** A fresh stage for one link (attributes already checked and complete). */
  stage(attributes: Readonly<Record<string, number>>): ToxicStage;
}

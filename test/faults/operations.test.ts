import type { ByteShape, ConnectionOps, Fault, FaultType, HttpOps, UpstreamAnswer } from '../../src/faults/fault.js';
import { FAULT_TYPES, parseFaultMix } from '../../src/faults/registry.js';

// The fault contract: each fault acts only through the transport-neutral operations (ConnectionOps)
// or, for HTTP faults, the HTTP layer on top (HttpOps). A fake transport records what a fault does;
// connection-level faults get one with no HTTP operation at all, as a TCP transport would offer.
// How the operations look on the wire is proxy-faults.test.ts's business.

type Op = [string, ...unknown[]];

/** A transport that records the operations; `later` runs its callback at once, `random` returns 0.25. */
function fakeConnection(ops: Op[]): ConnectionOps {
  return {
    passThrough: () => ops.push(['passThrough']),
    pass: (shape: ByteShape) => ops.push(['pass', shape]),
    reset: () => ops.push(['reset']),
    close: () => ops.push(['close']),
    hold: () => ops.push(['hold']),
    random: () => 0.25,
    later: (ms: number, fn: () => void) => {
      ops.push(['later', ms]);
      fn();
    },
  };
}

/** The connection operations plus the HTTP layer; the upstream answers `upstream`. */
function fakeHttp(ops: Op[], upstream: UpstreamAnswer): HttpOps {
  return {
    ...fakeConnection(ops),
    retryAfterSeconds: 7,
    api: undefined,
    answer: (status, headers, body) => ops.push(['answer', status, headers, Buffer.from(body).toString()]),
    fetchUpstream: (use) => {
      ops.push(['fetchUpstream']);
      use(upstream);
    },
    send: (answer, shape) => ops.push(['send', answer.status, shape]),
    notApplicable: () => ops.push(['notApplicable']),
  };
}

const UPSTREAM: UpstreamAnswer = {
  status: 200,
  headers: ['content-type', 'text/event-stream'],
  body: Buffer.from('data: 1\n\ndata: 2\n\ndata: 3\n\n'),
};

function only(spec: string): Fault {
  return parseFaultMix(spec)[0]!.fault;
}

/** Runs a fault on the fake transport its layer allows and returns the operations it performed. */
function inject(spec: string): Op[] {
  const fault = only(spec);
  const ops: Op[] = [];
  if (fault.layer === 'connection') fault.inject(fakeConnection(ops));
  else fault.inject(fakeHttp(ops, UPSTREAM));
  return ops;
}

describe('faults act through the operations contract', () => {
  test('every fault type says its layer: connection-level ones could run on a TCP transport', () => {
    const layerOf = (type: FaultType) => type.create(type.argument === 'none' ? undefined : sample(type.type)).layer;
    const layers = Object.fromEntries([...FAULT_TYPES.values()].map((type) => [type.type, layerOf(type)]));
    expect(layers).toEqual({
      status: 'http',
      malformed: 'http',
      truncate: 'http',
      'stream-error': 'http',
      stall: 'http',
      latency: 'connection',
      timeout: 'connection',
      reset: 'connection',
      close: 'connection',
      'slow-body': 'connection',
      down: 'connection',
    });
  });

  test('reset, close and timeout are one connection operation each', () => {
    expect(inject('reset')).toEqual([['reset']]);
    expect(inject('close')).toEqual([['close']]);
    expect(inject('timeout')).toEqual([['hold']]);
  });

  test('latency waits, then passes through; a range draws from the seeded generator', () => {
    expect(inject('latency:200ms')).toEqual([['later', 200], ['passThrough']]);
    expect(inject('latency:100ms~300ms')).toEqual([['later', 150], ['passThrough']]);
  });

  test('slow-body passes the bytes at its rate: pieces of a twentieth of a second, each gap its size / rate', () => {
    const [op] = inject('slow-body:1000');
    expect(op![0]).toBe('pass');
    const shape = op![1] as ByteShape;
    expect(shape.pieceBytes).toBe(50);
    expect(shape.cutAfter).toBeUndefined();
    expect(shape.gapMs!(50)).toBe(50);
    expect(shape.gapMs!(20)).toBe(20);
  });

  test('status answers with the code, and Retry-After on 429 and 503 only', () => {
    const [answer503] = inject('status:503');
    expect(answer503!.slice(0, 2)).toEqual(['answer', 503]);
    expect(answer503![2]).toMatchObject({ 'content-type': 'application/json', 'retry-after': 7 });
    expect(JSON.parse(answer503![3] as string)).toMatchObject({ error: { type: 'injected_fault', status: 503 } });
    const [answer500] = inject('status:500');
    expect(answer500![2]).not.toHaveProperty('retry-after');
  });

  test('malformed answers a 200 whose body is not JSON', () => {
    const [answer] = inject('malformed');
    expect(answer!.slice(0, 2)).toEqual(['answer', 200]);
    expect(() => JSON.parse(answer![3] as string)).toThrow();
  });

  test('truncate fetches the whole answer and sends it cut: half by default, N bytes, N events, never all of it', () => {
    const length = UPSTREAM.body.length;
    expect(inject('truncate')).toEqual([['fetchUpstream'], ['send', 200, { cutAfter: Math.floor(length / 2) }]]);
    expect(inject('truncate:5')).toEqual([['fetchUpstream'], ['send', 200, { cutAfter: 5 }]]);
    expect(inject('truncate:2events')).toEqual([['fetchUpstream'], ['send', 200, { cutAfter: 'data: 1\n\ndata: 2\n\n'.length }]]);
    expect(inject('truncate:9999')).toEqual([['fetchUpstream'], ['send', 200, { cutAfter: length - 1 }]]);
    expect(inject('truncate:3events')).toEqual([['fetchUpstream'], ['send', 200, { cutAfter: length - 1 }]]);
  });

  test('down acts on the listener: it is never injected into one call', () => {
    const down = only('down');
    expect(down.wholeWindow).toBe(true);
    expect(() => inject('down')).toThrow('never on one call');
  });
});

/** A valid argument for a fault type that takes one. */
function sample(type: string): string | undefined {
  return { status: '503', latency: '10ms', truncate: undefined, 'slow-body': '100', 'stream-error': '1', stall: '1s' }[type];
}

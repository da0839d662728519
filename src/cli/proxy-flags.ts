import { Flags } from '@oclif/core';
import type { ProxyOptions } from '../proxy/proxy.js';
import { UsageError } from '../errors.js';

/** Flags that configure one chaos proxy: where it listens, what is behind it, which faults. */
export const proxyFlags = {
  listen: Flags.string({ summary: 'Address the proxy listens on: HOST:PORT, :PORT or PORT (host 127.0.0.1 unless given; default an ephemeral port).' }),
  upstream: Flags.string({ summary: 'The real dependency to forward to (http:// or https://).' }),
  mock: Flags.boolean({ summary: 'Answer healthy calls from a built-in mock instead of an upstream.', default: false }),
  'mock-status': Flags.integer({ summary: 'Mock: status of healthy answers.', default: 200 }),
  'mock-body': Flags.string({ summary: 'Mock: body of healthy answers.' }),
  'mock-file': Flags.string({ summary: 'Mock: read the body from this file.' }),
  'mock-latency': Flags.string({ summary: "Mock: time before each answer, '20ms' or '10ms~50ms'." }),
  'failure-rate': Flags.string({ summary: 'Chance (0..1) that one dependency call gets a fault.' }),
  faults: Flags.string({ summary: "Weighted fault mix: 'status:503=5,status:429=2,timeout=2,reset=1'." }),
  'fault-window': Flags.string({ summary: "When faults apply, from the start of the run: '10s..25s' (repeatable).", multiple: true, multipleNonGreedy: true }),
  'retry-after': Flags.integer({ summary: 'Seconds in Retry-After on injected 429 and 503.', default: 1 }),
  'match-method': Flags.string({ summary: 'Only calls with this method (or comma list) can be faulted.' }),
  'match-path': Flags.string({ summary: "Only calls whose path matches this glob can be faulted: '/v1/**'." }),
  'match-header': Flags.string({ summary: "Only calls carrying this header can be faulted: 'x-tenant: beta' (value may be *)." }),
  seed: Flags.integer({ summary: 'Seed of the fault decisions (printed, so a run can be repeated).' }),
  record: Flags.string({ summary: 'Record every forwarded exchange to this HAR 1.2 file (secrets redacted).' }),
  replay: Flags.string({ summary: 'Answer from the recordings in this HAR file (with --upstream, unmatched calls go there; else 501).' }),
  'replay-timing': Flags.string({ summary: "Replayed latencies and chunk gaps: 'recorded', 'none' or 'scale:2'.", default: 'recorded' }),
  'replay-ignore': Flags.string({ summary: "JSON body field ignored when matching recordings ('timestamp'; repeatable).", multiple: true, multipleNonGreedy: true }),
};

export function proxyOptionsFromFlags(flags: Record<string, unknown>): ProxyOptions {
  const options: ProxyOptions = { retryAfter: flags['retry-after'] as number };
  const set = (key: keyof ProxyOptions, value: unknown) => {
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  };
  set('listen', flags.listen);
  set('upstream', flags.upstream);
  if (flags.mock) {
    options.mock = { status: flags['mock-status'] as number };
    if (flags['mock-body'] !== undefined) options.mock.body = flags['mock-body'] as string;
    if (flags['mock-file'] !== undefined) options.mock.file = flags['mock-file'] as string;
    if (flags['mock-latency'] !== undefined) options.mock.latency = flags['mock-latency'] as string;
  }
  set('failureRate', flags['failure-rate'] === undefined ? undefined : parseRate(flags['failure-rate'] as string));
  set('faults', flags.faults);
  set('windows', flags['fault-window']);
  set('matchMethod', flags['match-method']);
  set('matchPath', flags['match-path']);
  set('matchHeader', flags['match-header']);
  set('seed', flags.seed);
  set('record', flags.record);
  set('replay', flags.replay);
  set('replayTiming', flags['replay-timing']);
  set('replayIgnore', flags['replay-ignore']);
  return options;
}

/** '0.3' or '30%' → 0.3. */
function parseRate(text: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const value = percent ? Number(percent[1]) / 100 : /^\d+(?:\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`--failure-rate: '${text}' must be between 0 and 1 (or 0% to 100%)`);
  return value;
}

import { Flags } from '@oclif/core';
import type { LoadOptions } from '../engine/options.js';
import { UsageError } from '../errors.js';
import { outFlagSummary } from '../report/outputs.js';

/** The flags of `resil load` (and, later, every command that drives load). */
export const loadFlags = {
  concurrency: Flags.integer({ char: 'c', summary: 'Connections (closed model: each loops request → response; open model: opened at the start).', default: 10 }),
  'max-connections': Flags.integer({ summary: 'Open model: open more connections on demand up to this many (default 1000).' }),
  requests: Flags.integer({ char: 'n', summary: 'Stop after this many requests.' }),
  duration: Flags.string({ char: 'd', summary: 'Stop sending after this long: 500ms, 10s, 2m (default 10s when -n is not given).' }),
  rate: Flags.string({ char: 'r', summary: 'Open model: requests per second on a fixed schedule (latency from the scheduled time; due requests never sent by -d are dropped).' }),
  method: Flags.string({ char: 'm', summary: 'HTTP method.', default: 'GET' }),
  header: Flags.string({ char: 'H', summary: "Request header 'Name: value' (repeatable).", multiple: true, multipleNonGreedy: true }),
  body: Flags.string({ summary: 'Request body; {{i}}, {{uuid}} and {{randomInt a b}} are filled in per request.' }),
  'body-file': Flags.string({ summary: 'Read the request body from this file.' }),
  timeout: Flags.string({ summary: 'Time limit per request.', default: '10s' }),
  grace: Flags.string({ summary: 'How long in-flight requests may finish once sending stops.', default: '2s' }),
  'expect-status': Flags.string({ summary: "Statuses that count as success: '200,201,3xx'.", default: '2xx' }),
  'expect-body': Flags.string({ summary: 'The response body must contain this text.' }),
  'expect-json': Flags.string({ summary: "JSON check: 'path' (exists) or 'path=value' (repeatable).", multiple: true, multipleNonGreedy: true }),
  threshold: Flags.string({ char: 't', summary: "Pass/fail rule: 'p99<300ms', 'success_rate>=0.95' (repeatable); judged next to the default success check, which a rule on the success rate replaces.", multiple: true, multipleNonGreedy: true }),
  workers: Flags.integer({ char: 'w', summary: 'Worker threads, for more than one core.', default: 1 }),
  'max-body': Flags.integer({ summary: 'Bytes of each response body kept for body checks.', default: 1024 * 1024 }),
  insecure: Flags.boolean({ summary: 'Accept any TLS certificate.', default: false }),
  seed: Flags.integer({ summary: 'Seed for {{uuid}} and {{randomInt}} (printed, so a run can be repeated).' }),
  redact: Flags.string({ summary: 'Another header whose value is secret (repeatable).', multiple: true, multipleNonGreedy: true }),
  'metrics-port': Flags.integer({ summary: 'Serve live Prometheus metrics on 127.0.0.1 at this port during the run.' }),
  shard: Flags.string({ summary: "Run shard I of N ('2/4'): its share of connections, requests and schedule; merge with `resil report --merge`." }),
  out: Flags.string({ char: 'o', summary: outFlagSummary('the result'), multiple: true, multipleNonGreedy: true }),
};

/** Maps parsed flags onto the library's options. Validation happens in buildLoadPlan. */
export function loadOptionsFromFlags(url: string | undefined, flags: Record<string, unknown>): LoadOptions {
  const options: LoadOptions = {
    url: url ?? '',
    method: flags.method as string,
    concurrency: flags.concurrency as number,
    timeout: flags.timeout as string,
    grace: flags.grace as string,
    expectStatus: flags['expect-status'] as string,
    workers: flags.workers as number,
    maxBody: flags['max-body'] as number,
    insecure: flags.insecure as boolean,
  };
  const optional: Array<[keyof LoadOptions, unknown]> = [
    ['maxConnections', flags['max-connections']],
    ['requests', flags.requests],
    ['duration', flags.duration],
    ['rate', flags.rate === undefined ? undefined : parseRate(flags.rate as string)],
    ['headers', flags.header],
    ['body', flags.body],
    ['bodyFile', flags['body-file']],
    ['expectBody', flags['expect-body']],
    ['expectJson', flags['expect-json']],
    ['thresholds', flags.threshold],
    ['seed', flags.seed],
    ['redact', flags.redact],
    ['shard', flags.shard === undefined ? undefined : parseShard(flags.shard as string)],
  ];
  for (const [key, value] of optional) if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  return options;
}

/** '2/4' → shard index 1 of 4. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) < 1 || Number(match[1]) > Number(match[2])) throw new UsageError(`--shard '${text}': expected I/N with 1 <= I <= N, e.g. 2/4`);
  return { index: Number(match[1]) - 1, count: Number(match[2]) };
}

/** '200', '200/s' or '1.5' → requests per second. */
function parseRate(text: string): number {
  const plain = text.trim().replace(/\/s$/, '');
  if (!/^\d+(?:\.\d+)?$/.test(plain)) throw new UsageError(`--rate: '${text}' is not a number of requests per second`);
  return Number(plain);
}

import type { Stage } from './arrivals.js';
import type { PolicyOptions } from './policy-options.js';

/**
 * What the user asked for, as the library takes it (the CLI flags map onto this one to one).
 * Durations are milliseconds or strings such as '500ms', '10s', '2m'.
 */
export interface LoadOptions {
  url: string;
  method?: string;
  /** 'Name: value' lines, or a name → value record. */
  headers?: readonly string[] | Readonly<Record<string, string>>;
  body?: string;
  bodyFile?: string;
  /** Closed model: connections each looping request → response. Open model: connections opened at the start. */
  concurrency?: number;
  /** Open model: more connections are opened on demand up to this many (default 1000, at least concurrency). */
  maxConnections?: number;
  /** Stop after this many requests. */
  requests?: number;
  /** Stop sending after this long; in the open model also the length of the schedule (rate × duration requests). */
  duration?: number | string;
  /** Open model: requests per second on a fixed schedule. */
  rate?: number;
  /** Open model in steps: each rate held for its duration, in turn (excludes rate, requests, duration). */
  stages?: readonly Stage[];
  /** Per-request time limit (default 10s). */
  timeout?: number | string;
  /** How long in-flight requests may finish once sending stops at the end or on interrupt (default 2s). */
  grace?: number | string;
  /** Expected statuses: '200,201,3xx' (default any 2xx). */
  expectStatus?: string;
  /** The body must contain this text. */
  expectBody?: string;
  /** JSON checks: 'path' (exists) or 'path=value'. */
  expectJson?: readonly string[];
  /** Threshold expressions; `success_rate>=0.95` is added unless one of them judges the success rate (withDefaults). */
  thresholds?: readonly string[];
  /** Worker threads (default 1: the main thread does the work). */
  workers?: number;
  /** Cap on the bytes of one response body kept for checks (default 1 MiB). */
  maxBody?: number;
  /** Accept any TLS certificate (self-signed test targets). */
  insecure?: boolean;
  /** Seed for {{uuid}} and {{randomInt}}; printed and stored so a run can be repeated. */
  seed?: number;
  /** Further header names whose values are secrets (Authorization, Cookie, x-api-key... always are). */
  redact?: readonly string[];
  /** Run shard `index` (0-based) of `count`: its share of connections, requests and schedule ('--shard 2/4' is index 1). */
  shard?: { index: number; count: number };
  /** Policy mode: resil's own client retries, backs off, breaks circuits and fails over. */
  policy?: PolicyOptions;
  /** Policy mode: further providers tried in order when `url` fails (same path and body). */
  failover?: readonly string[];
}

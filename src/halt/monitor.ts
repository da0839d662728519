import { request } from 'undici';
import { redactUrl, redactUrlText } from '../util/redact.js';
import type { Comparison, HaltPlan, PrometheusCondition } from './plan.js';

/** Largest probe or query body read (bytes): health answers are small. */
const MAX_BODY = 64 * 1024;

/** One check's outcome: pass, fail (with why), or unknown (a halt-when that could not be evaluated). */
type Outcome = { kind: 'pass' } | { kind: 'fail'; why: string } | { kind: 'unknown'; why: string };

export interface HaltMonitorHooks {
  /** A condition failed `after` times in a row (called again at each further failure while it lasts). */
  onTrip(cause: string): void;
  /** A halt-when turned unknown (query error, empty result), or known again: one line each time it changes. */
  onNotice(line: string): void;
}

export interface HaltMonitor {
  stop(): void;
}

/**
 * Checks every probe and halt-when every `everyMs`, each on its own timer (a check starts once the
 * last is over, so a slow service is never probed twice at once). Failures in a row are counted per
 * condition; a pass resets the count; an unknown result leaves it as it is (or counts as a failure
 * with onUnknown).
 */
export function startHaltMonitor(plan: HaltPlan, hooks: HaltMonitorHooks): HaltMonitor {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const aborts: AbortController[] = [];
  const loop = (name: string, check: (signal: AbortSignal) => Promise<Outcome>) => {
    let failures = 0;
    let unknown = false;
    const controller = new AbortController();
    const run = async () => {
      if (stopped) return;
      const outcome = await check(controller.signal).catch((error: unknown): Outcome => ({ kind: 'fail', why: String(error) }));
      if (stopped) return;
      if (outcome.kind === 'unknown' && !unknown) hooks.onNotice(`halt check ${name}: cannot tell (${outcome.why})`);
      if (outcome.kind !== 'unknown' && unknown) hooks.onNotice(`halt check ${name}: answers again`);
      unknown = outcome.kind === 'unknown';
      if (outcome.kind === 'pass') failures = 0;
      else if (outcome.kind === 'fail' || plan.onUnknown) {
        failures++;
        if (failures >= plan.after) hooks.onTrip(`${name}: ${outcome.why} (${failures} in a row)`);
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        void run();
      }, plan.everyMs);
      timers.add(timer);
    };
    aborts.push(controller);
    void run();
  };
  for (const url of plan.probes) loop(`probe ${redactUrl(url.toString())}`, (signal) => probe(plan, url, signal));
  for (const condition of plan.conditions) loop(redactUrlText(condition.source), (signal) => query(plan, condition, signal));
  return {
    stop: () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      for (const controller of aborts) controller.abort();
    },
  };
}

/** GET the health URL: its status, its latency (to the whole body) and a JSON field must pass. */
async function probe(plan: HaltPlan, url: URL, signal: AbortSignal): Promise<Outcome> {
  const start = performance.now();
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(plan.latencyMs + 1)]);
  let status: number;
  let body: string;
  try {
    const response = await request(url, { method: 'GET', signal: timeout, headers: { accept: 'application/json' } });
    status = response.statusCode;
    body = await readText(response.body);
  } catch (error) {
    if (timeout.aborted && !signal.aborted) return { kind: 'fail', why: `no answer within ${plan.latencyMs}ms` };
    return { kind: 'fail', why: errorText(error) };
  }
  const tookMs = performance.now() - start;
  const healthy = plan.status.codes.has(status) || plan.status.classes.has(Math.floor(status / 100));
  if (!healthy) return { kind: 'fail', why: `status ${status} (expected ${plan.status.source})` };
  if (tookMs > plan.latencyMs) return { kind: 'fail', why: `answered in ${Math.round(tookMs)}ms (limit ${plan.latencyMs}ms)` };
  if (plan.json) {
    const { path, op, value, source } = plan.json;
    let actual: unknown;
    try {
      actual = path.reduce<unknown>(
        (at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined),
        JSON.parse(body),
      );
    } catch {
      return { kind: 'fail', why: `body is not JSON (expected ${source})` };
    }
    const text = actual === undefined ? undefined : typeof actual === 'string' ? actual : JSON.stringify(actual);
    if ((text === value) !== (op === '==')) return { kind: 'fail', why: `${path.join('.')} is ${text ?? 'missing'} (expected ${source})` };
  }
  return { kind: 'pass' };
}

/** An instant query (GET URL/api/v1/query?query=…): true when any sample of the vector (or the scalar) meets the comparison. */
async function query(plan: HaltPlan, condition: PrometheusCondition, signal: AbortSignal): Promise<Outcome> {
  const url = new URL(`${condition.url.pathname.replace(/\/$/, '')}/api/v1/query`, condition.url);
  url.search = new URLSearchParams({ query: condition.query }).toString();
  let parsed: unknown;
  try {
    const response = await request(url, { method: 'GET', signal: AbortSignal.any([signal, AbortSignal.timeout(plan.everyMs)]) });
    const text = await readText(response.body);
    if (response.statusCode !== 200) return { kind: 'unknown', why: `Prometheus answered ${response.statusCode}: ${errorOf(text)}` };
    parsed = JSON.parse(text);
  } catch (error) {
    return { kind: 'unknown', why: `query failed: ${errorText(error)}` };
  }
  const data = (parsed as { status?: string; data?: { resultType?: string; result?: unknown } }) ?? {};
  if (data.status !== 'success' || data.data === undefined) return { kind: 'unknown', why: 'Prometheus answered no success' };
  const values = samplesOf(data.data.resultType, data.data.result);
  if (values === null) return { kind: 'unknown', why: `unexpected result type ${String(data.data.resultType)}` };
  if (values.length === 0) return { kind: 'unknown', why: 'empty result' };
  const hit = values.find((v) => compare(v, condition.op, condition.value));
  return hit === undefined ? { kind: 'pass' } : { kind: 'fail', why: `value ${hit} ${condition.op} ${condition.value}` };
}

/** The sample values of a vector or scalar result (strings such as "0.07", 'NaN', '+Inf'); null for another type. */
function samplesOf(type: string | undefined, result: unknown): number[] | null {
  if (type === 'scalar' && Array.isArray(result)) return [Number(result[1])];
  if (type !== 'vector' || !Array.isArray(result)) return null;
  return result.map((sample) => Number((sample as { value?: unknown[] }).value?.[1])).filter((v) => !Number.isNaN(v));
}

function compare(actual: number, op: Comparison, expected: number): boolean {
  switch (op) {
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < MAX_BODY) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8');
}

function errorOf(text: string): string {
  try {
    return String((JSON.parse(text) as { error?: unknown }).error ?? text.slice(0, 120));
  } catch {
    return text.slice(0, 120);
  }
}

function errorText(error: unknown): string {
  const code = (error as { code?: string }).code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

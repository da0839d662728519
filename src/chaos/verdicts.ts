import type { Halted } from '../model/result.js';
import type { ProxyStats } from '../proxy/stats.js';
import { formatMs } from '../util/format.js';

/**
 * What the proxies' counts say about whether the chaos experiment took place: the figure the
 * default `dependency_calls>0` threshold judges, the one-line cause and fix when no call came, and
 * the warnings for an experiment that happened less than asked.
 */

export type ProviderFacts = ProxyStats & { target: string; listen: string };

/** The thresholds every chaos run is judged on unless the user judges the same metric. */
export const CHAOS_DEFAULT_THRESHOLDS: readonly string[] = ['success_rate>=0.9', 'dependency_calls>0'];

/** Fewer than this many considered calls say nothing about the fault rate. */
export const LOW_RATE_MIN_CALLS = 50;
/** A shortfall is reported when chance alone would give it less often than this. */
const LOW_RATE_CHANCE = 1e-3;

/** Dependency calls the proxies received and served (calls refused as absolute-form are not). */
export function dependencyCalls(providers: Readonly<Record<string, ProxyStats>>): number {
  return Object.values(providers).reduce((sum, stats) => sum + stats.calls - stats.rejected, 0);
}

/** Faults injected into calls: every entry but `down`, which counts outages (listener closures). */
export function injectedCalls(stats: Pick<ProxyStats, 'injected'>): number {
  return Object.entries(stats.injected).reduce((sum, [name, n]) => (name === 'down' ? sum : sum + n), 0);
}

/**
 * True when `injected` is fewer than half of `expected` and chance would give so few less than once
 * in a thousand runs. The bound is Chernoff's for a sum of independent draws of mean `expected`:
 * P(X ≤ a) ≤ e^(−μ) · (e·μ/a)^a for a < μ.
 */
export function tooFewFaults(injected: number, expected: number): boolean {
  if (!(injected < expected / 2)) return false;
  const logBound = injected === 0 ? -expected : -expected + injected * (1 + Math.log(expected) - Math.log(injected));
  return logBound < Math.log(LOW_RATE_CHANCE);
}

/**
 * The cause and the fix when no dependency call reached any proxy. `clientIsSubject`: policy mode,
 * where resil's own client calls the proxy; `requests` and `refused`: what became of resil's requests.
 */
export function noCallNote(
  providers: Readonly<Record<string, ProviderFacts>>,
  run: { clientIsSubject: boolean; requests: number; refused: number },
): string {
  const entries = Object.entries(providers);
  const { clientIsSubject } = run;
  if (entries.length === 0) return 'no chaos proxy took part in this run: declare a provider and give the scenario its faults';
  if (run.requests === 0) return 'no request was sent, so no dependency call could be made';
  if (!clientIsSubject && run.refused === run.requests)
    return 'no dependency call reached the chaos proxy because no request reached the service: every connection to it was refused';
  const wasDown = entries.some(([, stats]) => (stats.injected.down ?? 0) > 0);
  const downHint = wasDown
    ? "; a proxy that is down (fault 'down') sees no call, so give the outage a fault window and let calls before or after it show"
    : '';
  if (clientIsSubject)
    return `no call reached the chaos proxy at ${entries.map(([, s]) => address(s.listen)).join(', ')}: nothing was tested${downHint}`;
  if (entries.length === 1) {
    const [, stats] = entries[0]!;
    return (
      `no dependency call reached the chaos proxy at ${address(stats.listen)}: ` +
      `point the service's dependency URL at ${stats.listen}${downHint}`
    );
  }
  const list = entries.map(([name, stats]) => `${stats.listen} (${name})`);
  return (
    'no dependency call reached the chaos proxies: ' +
    `point the service's dependency URLs at ${list.slice(0, -1).join(', ')} and ${list.at(-1)}${downHint}`
  );
}

/**
 * Everything that made the experiment smaller than asked, one line each: upstreams that did not
 * answer, calls refused as absolute-form, targeting that matched nothing, a fault rate far below the
 * one asked for, fault windows after the end of the run.
 */
export function chaosWarnings(
  providers: Readonly<Record<string, ProviderFacts>>,
  windows: ReadonlyArray<{ source: string; startMs: number }>,
  durationMs: number,
  halted?: Halted,
): string[] {
  const warnings: string[] = [];
  if (halted) warnings.push(`halted at ${formatMs(halted.atMs)}: ${halted.cause}; no fault was injected after that`);
  for (const [name, stats] of Object.entries(providers)) {
    const who = `proxy ${name} (${address(stats.listen)})`;
    if (stats.upstreamErrors > 0) {
      warnings.push(
        `${who}: ${count(stats.upstreamErrors)} of ${count(stats.passedThrough)} ${stats.passedThrough === 1 ? 'call' : 'calls'} ` +
          `passed through got no answer from the upstream ${stats.target} (the caller got a 502 or a cut connection): is it running?`,
      );
    }
    if (stats.rejected > 0) {
      warnings.push(
        `${who}: ${count(stats.rejected)} ${stats.rejected === 1 ? 'call' : 'calls'} named another host, ` +
          `as sent to an HTTP forward proxy, and got 400: make ${stats.listen} the service's dependency base URL, not its HTTP proxy`,
      );
    }
    const withheld = Object.values(stats.withheld ?? {}).reduce((sum, n) => sum + n, 0);
    if (withheld > 0) {
      warnings.push(
        `${who}: ${count(withheld)} ${withheld === 1 ? 'fault' : 'faults'} withheld (halted, or the fault budget was spent): ` +
          Object.entries(stats.withheld!)
            .map(([name, n]) => `${name} ${count(n)}`)
            .join(', '),
      );
    }
    const notApplicable = Object.values(stats.notApplicable ?? {}).reduce((sum, n) => sum + n, 0);
    if (notApplicable > 0) {
      warnings.push(
        `${who}: ${count(notApplicable)} ${notApplicable === 1 ? 'fault' : 'faults'} did not apply to the answer, which passed ` +
          'unchanged, and are not counted as injected (stream-error needs an event stream, stall an answer left after its cut): ' +
          Object.entries(stats.notApplicable!)
            .map(([name, n]) => `${name} ${count(n)}`)
            .join(', '),
      );
    }
    const eligible = stats.eligible ?? 0;
    const considered = stats.considered ?? 0;
    if (eligible > 0 && considered === 0) {
      warnings.push(
        `${who}: none of the ${count(eligible)} calls in a fault window matched the targeting ` +
          '(match-method, match-path, match-header), so no fault was injected',
      );
    } else if (considered >= LOW_RATE_MIN_CALLS && tooFewFaults(injectedCalls(stats) + notApplicable, stats.expected ?? 0)) {
      warnings.push(
        `${who}: ${count(injectedCalls(stats))} faults injected into ${count(considered)} calls, ` +
          `fewer than half the ${count(stats.expected)} the failure rate asks for`,
      );
    }
  }
  for (const window of windows) {
    if (window.startMs >= durationMs)
      warnings.push(`fault window ${window.source} starts after the run ended (${formatMs(durationMs)}): nothing was injected in it`);
  }
  return warnings;
}

/** 'http://127.0.0.1:8091' → '127.0.0.1:8091'. */
function address(listen: string): string {
  return listen.replace(/^https?:\/\//, '');
}

function count(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

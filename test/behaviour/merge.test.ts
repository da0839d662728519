import type { ObservedCall } from '../../src/behaviour/call.js';
import { type BehaviourMetricName, measureBehaviour } from '../../src/behaviour/measure.js';
import { addBehaviour } from '../../src/behaviour/merge.js';
import { BehaviourObserver } from '../../src/behaviour/observer.js';
import type { BehaviourDocument } from '../../src/model/behaviour.js';
import { BREAKER_WINDOW, breakerCalls, failed, observed } from '../helpers/observed.js';

/** What a shard's observer makes of its calls (the windows are the run's, the same in every shard). */
function shard(calls: readonly ObservedCall[]): BehaviourDocument {
  const observer = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 });
  observer.addProvider('a', [BREAKER_WINDOW]);
  observer.addProvider('b', []);
  for (const call of calls) observer.record(call);
  return observer.document(17_000);
}

/** Every kind of call: the breaker's load, retries with growth and Retry-After, a held call, failovers. */
function run(): ObservedCall[] {
  const extra: ObservedCall[] = [];
  for (let i = 0; i < 20; i++) {
    const t = 15_000 + i * 90;
    extra.push(failed(`x${i}`, t, i % 2 ? 429 : 400, { retryAfterMs: i % 2 ? 1000 : undefined, method: i % 3 ? 'GET' : 'POST' }));
    extra.push(failed(`x${i}`, t + 10 + i, 503));
    extra.push(observed(`x${i}`, t + 40 + 3 * i, { provider: i % 4 ? 'a' : 'b' }));
  }
  extra.push(observed('held', 16_900, { endedMs: 16_950, status: 0, fault: 'timeout', clientGone: true }));
  extra.push(observed('held2', 16_950, { status: 0, fault: 'timeout', openAtEnd: true, endedMs: 17_000 }));
  return [...breakerCalls(), ...extra];
}

test('two shards merged equal the whole run: counters, histograms, series, samples and windows judged again', () => {
  const calls = run();
  const whole = shard(calls);
  // A shard holds whole requests: split by key, so that each shard has requests from all along the run.
  const inFirst = (call: ObservedCall) => [...call.key].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 2 === 0;
  const merged = shard(calls.filter(inFirst));
  const second = shard(calls.filter((call) => !inFirst(call)));
  // Each half alone sees half the load: its windows judge differently (rates halve) until summed.
  expect(second.providers.a!.windows[0]!.rateBefore).not.toBe(whole.providers.a!.windows[0]!.rateBefore);
  addBehaviour(merged, second);
  expect(merged).toEqual(whole);

  const names: BehaviourMetricName[] = ['attempts_max', 'retry_delay_p50', 'backoff_growth', 'retry_jitter', 'breaker_open_after'];
  for (const name of names) expect([name, measureBehaviour(name, merged)]).toEqual([name, measureBehaviour(name, whole)]);
});

test('a shard that saw a provider the other did not adds it; an empty shard changes nothing', () => {
  const onlyB = shard([observed('k', 100, { provider: 'b' })]);
  const onlyA = shard([observed('j', 100)]);
  delete onlyA.providers.b;
  addBehaviour(onlyA, onlyB);
  expect(Object.keys(onlyA.providers).sort()).toEqual(['a', 'b']);
  expect(onlyA.overall.calls).toBe(2);

  const whole = shard(run());
  const before = structuredClone(whole);
  addBehaviour(whole, shard([]));
  expect(whole).toEqual(before);
});

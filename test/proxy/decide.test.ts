import { buildFaultPlan, type FaultSettings } from '../../src/proxy/config.js';
import { FaultDecider, type CallFacts, type WholeWindowListener } from '../../src/proxy/decide.js';
import type { ChaosProxy } from '../../src/proxy/chaos-proxy.js';
import { startChaosProxy } from '../../src/proxy/proxy.js';
import { createRandom } from '../../src/util/random.js';
import { undiciCall } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

// The fault decision apart from any transport: windows, targeting, the seeded chance and pick, the counts.

let decider: FaultDecider | undefined;
let proxy: ChaosProxy | undefined;

afterEach(async () => {
  decider?.stopClock();
  await proxy?.close();
  decider = undefined;
  proxy = undefined;
});

function deciderFor(settings: FaultSettings): FaultDecider {
  decider = new FaultDecider(buildFaultPlan(settings));
  return decider;
}

const get = (path: string, headers: CallFacts['headers'] = {}): CallFacts => ({ method: 'GET', path, headers });

/** A listener that records what the decider asks of it; goDown answers `listening`. */
function fakeListener(): WholeWindowListener & { events: string[]; listening: boolean } {
  const listener = {
    events: [] as string[],
    listening: true,
    goDown() {
      listener.events.push('down');
      const was = listener.listening;
      listener.listening = false;
      return was;
    },
    comeUp() {
      listener.events.push('up');
      listener.listening = true;
    },
  };
  return listener;
}

test('a seed gives the decider the same decisions and counts as the HTTP proxy, mock latency draws included', async () => {
  const settings: FaultSettings = { failureRate: 0.4, faults: 'status:503=3,status:429=1', matchPath: '/v1/**', seed: 7 };
  // The mock's latency range makes it draw from the same generator on every call passed through.
  proxy = await startChaosProxy({ ...settings, mock: { latency: '0ms~2ms' } });
  const paths = Array.from({ length: 80 }, (_, i) => (i % 3 === 2 ? '/health' : `/v1/items/${i}?page=${i}`));
  const fromProxy: string[] = [];
  for (const path of paths) {
    const { status } = await undiciCall(proxy.url + path);
    fromProxy.push(status === 200 ? 'pass' : `status:${status}`);
  }

  const alone = deciderFor(settings);
  const fromDecider = paths.map((path) => {
    const fault = alone.decide(get(path));
    if (fault) return fault.name;
    alone.random(); // the mock's latency draw
    return 'pass';
  });
  expect(fromDecider).toEqual(fromProxy);
  expect(new Set(fromDecider)).toEqual(new Set(['pass', 'status:503', 'status:429']));
  const { eligible, considered, expected, injected } = proxy.stats();
  expect(alone.faultCounts()).toEqual({ eligible, considered, expected, injected });
  expect(eligible).toBe(80);
  expect(considered).toBe(paths.filter((p) => p.startsWith('/v1/')).length);
});

test('draw order: one draw for the chance, then one for the pick; none at rate 1, none for a mix of one', () => {
  const seed = 11;
  const twoWay = deciderFor({ failureRate: 0.5, faults: 'status:503,status:500', seed });
  const draw = createRandom(seed);
  const wanted = Array.from({ length: 200 }, () => (draw() < 0.5 ? (draw() < 0.5 ? 'status:503' : 'status:500') : undefined));
  expect(Array.from({ length: 200 }, () => twoWay.decide(get('/'))?.name)).toEqual(wanted);
  expect(wanted.filter((name) => name === undefined).length).toBeGreaterThan(50);

  const certain = deciderFor({ failureRate: 1, faults: 'timeout', seed });
  for (let i = 0; i < 10; i++) expect(certain.decide(get('/'))?.name).toBe('timeout');
  expect(certain.random()).toBe(createRandom(seed)());
});

test('a call outside every window is not eligible, and draws nothing', () => {
  const later = deciderFor({ faults: 'status:503', failureRate: 0.5, windows: ['1h..2h'], seed: 3 });
  expect(later.decide(get('/'))).toBeUndefined();
  expect(later.faultCounts()).toEqual({ eligible: 0, considered: 0, expected: 0, injected: {} });
  expect(later.random()).toBe(createRandom(3)());

  const now = deciderFor({ faults: 'status:503', windows: ['0s..1h'], seed: 3 });
  expect(now.decide(get('/'))?.name).toBe('status:503');
  expect(now.faultCounts()).toEqual({ eligible: 1, considered: 1, expected: 1, injected: { 'status:503': 1 } });
});

test('a call the targeting does not match is eligible but not considered; the query is not part of the path', () => {
  const targeted = deciderFor({ faults: 'status:503', matchMethod: 'post', matchPath: '/v1/chat', matchHeader: 'X-Tenant: beta', seed: 1 });
  const beta = { 'x-tenant': 'beta' };
  expect(targeted.decide({ method: 'POST', path: '/v1/chat?stream=1', headers: beta })?.name).toBe('status:503');
  expect(targeted.decide({ method: 'GET', path: '/v1/chat', headers: beta })).toBeUndefined();
  expect(targeted.decide({ method: 'POST', path: '/v2/chat', headers: beta })).toBeUndefined();
  expect(targeted.decide({ method: 'POST', path: '/v1/chat', headers: { 'x-tenant': 'alpha' } })).toBeUndefined();
  expect(targeted.faultCounts()).toEqual({ eligible: 4, considered: 1, expected: 1, injected: { 'status:503': 1 } });
});

test('a connection (no call facts) is decided like a call, and never matches HTTP targeting', () => {
  const untargeted = deciderFor({ faults: 'reset', seed: 5 });
  expect(untargeted.decide()?.name).toBe('reset');
  expect(untargeted.faultCounts()).toEqual({ eligible: 1, considered: 1, expected: 1, injected: { reset: 1 } });

  const targeted = deciderFor({ faults: 'reset', matchPath: '/**', seed: 5 });
  expect(targeted.decide()).toBeUndefined();
  expect(targeted.faultCounts()).toEqual({ eligible: 1, considered: 0, expected: 0, injected: {} });
});

test('no faults asked for: nothing is eligible', () => {
  const none = deciderFor({ seed: 9 });
  for (let i = 0; i < 5; i++) expect(none.decide(get('/'))).toBeUndefined();
  expect(none.faultCounts()).toEqual({ eligible: 0, considered: 0, expected: 0, injected: {} });
});

test('a fault that did not apply moves from injected to notApplicable, unless it was decided before the counts started over', () => {
  const d = deciderFor({ faults: 'stream-error:2', failureRate: 1, seed: 4 });
  d.decide(get('/'));
  const before = d.countsEpoch;
  d.decide(get('/'));
  d.notApplicable('stream-error:2', before);
  expect(d.faultCounts()).toMatchObject({ injected: { 'stream-error:2': 1 }, notApplicable: { 'stream-error:2': 1 } });
  // A campaign's next scenario: a fault of the last one finding out late must not touch the new counts.
  d.resetCounts();
  d.decide(get('/'));
  d.notApplicable('stream-error:2', before);
  expect(d.faultCounts()).toMatchObject({ injected: { 'stream-error:2': 1 } });
  expect(d.faultCounts().notApplicable).toBeUndefined();
});

test('setPlan starts a new generator from the new seed and keeps the counts; resetCounts clears them', () => {
  const d = deciderFor({ faults: 'status:503', failureRate: 0.5, seed: 21 });
  const first = Array.from({ length: 40 }, () => d.decide(get('/'))?.name);
  const counted = d.faultCounts();
  d.setPlan(buildFaultPlan({ faults: 'status:503', failureRate: 0.5, seed: 21 }));
  expect(Array.from({ length: 40 }, () => d.decide(get('/'))?.name)).toEqual(first);
  expect(d.faultCounts().considered).toBe(2 * counted.considered);
  d.resetCounts();
  expect(d.faultCounts()).toEqual({ eligible: 0, considered: 0, expected: 0, injected: {} });
});

test('down: never decided per call; the listener goes down for each window and comes up after, counted when it went down', async () => {
  const d = deciderFor({ faults: 'down', windows: ['0s..60ms', '120ms..150ms'], seed: 2 });
  const listener = fakeListener();
  d.startClock(listener);
  expect(d.decide(get('/'))).toBeUndefined();
  await waitFor(() => listener.events.length === 4, 5_000);
  expect(listener.events).toEqual(['down', 'up', 'down', 'up']);
  expect(d.faultCounts()).toEqual({ eligible: 0, considered: 0, expected: 0, injected: { down: 2 } });

  // Without windows: down at once for the whole run; a listener that was not listening is not counted.
  const whole = deciderFor({ faults: 'down', seed: 2 });
  const closed = fakeListener();
  closed.listening = false;
  whole.startClock(closed);
  expect(closed.events).toEqual(['down']);
  expect(whole.faultCounts().injected).toEqual({});

  // Any other plan makes sure the listener listens.
  const other = deciderFor({ faults: 'status:503', seed: 2 });
  const back = fakeListener();
  back.listening = false;
  other.startClock(back);
  expect(back.events).toEqual(['up']);
});

describe('fault budgets across runs', () => {
  test('a reset (a campaign scenario, POST /reset) gives the budget back', () => {
    const d = deciderFor({ faults: 'status:503', maxFaults: 3, seed: 1 });
    const injected = () => Array.from({ length: 5 }, () => d.decide(get('/'))).filter(Boolean).length;
    expect(injected()).toBe(3);
    expect(injected()).toBe(0);
    d.resetCounts();
    expect(injected()).toBe(3);
  });

  test('a down window is weighed against --max-faults only: a rate budget with no calls yet does not withhold it', async () => {
    const d = deciderFor({ faults: 'down', windows: ['20ms..60ms'], maxFaultRate: '10%/1m', seed: 1 });
    const listener = fakeListener();
    d.startClock(listener);
    await waitFor(() => listener.events.includes('down'), 1000);
    expect(d.faultCounts()).toMatchObject({ injected: { down: 1 } });
  });
});

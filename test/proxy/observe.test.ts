import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as undiciRequest } from 'undici';
import type { ObservedCall } from '../../src/behaviour/call.js';
import { BehaviourObserver } from '../../src/behaviour/observer.js';
import { hex16 } from '../../src/engine/request-ids.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import type { CallObserver } from '../../src/proxy/observe.js';
import type { ChaosProxy } from '../../src/proxy/chaos-proxy.js';
import { startChaosProxy, type ProxyOptions } from '../../src/proxy/proxy.js';
import { cpuWait } from '../helpers/machine.js';
import { nodeCall, startRecordingServer, type SeenRequest } from '../helpers/proxy.js';
import { startServer, type TestServer } from '../helpers/servers.js';
import { sleep, waitFor } from '../helpers/wait.js';

// What a chaos proxy observes of each call it serves (ObservedCall), handed to the session's
// BehaviourObserver: real sockets, a real service in front of the proxy that retries.

const RUN_ID = '0123456789abcdef';
/** The id resil gives its request number `n` (request-ids.ts). */
const requestId = (n: number) => RUN_ID + hex16(n + 1);

/** Every call the proxy hands over, and the observer that folds them. */
class Tee implements CallObserver {
  readonly calls: ObservedCall[] = [];
  readonly behaviour = new BehaviourObserver({ correlate: { mode: 'auto' }, longestRetryAfterMs: 1000 });
  now(): number {
    return this.behaviour.now();
  }
  record(call: ObservedCall): void {
    this.calls.push(call);
    this.behaviour.record(call);
  }
}

let proxy: ChaosProxy | undefined;
let service: TestServer | undefined;
let upstream: (TestServer & { requests: SeenRequest[] }) | undefined;
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await service?.close();
  await proxy?.close();
  await upstream?.close();
  proxy = service = upstream = undefined;
});

async function observedProxy(options: ProxyOptions, tee = new Tee()): Promise<Tee> {
  proxy = await startChaosProxy({ seed: 1, ...options }, { observer: tee, runId: RUN_ID });
  return tee;
}

interface ServiceOptions {
  /** Wait between attempts (ms). */
  delayMs: number;
  /** Pass the caller's X-Request-Id on to the dependency. */
  propagate: (n: number) => boolean;
  /** POST this JSON body (by attempt: a retry may serialise it differently). */
  body?: (n: number, attempt: number) => string;
}

/**
 * A service in front of the proxy: each request (number `n` in the X-Request-Id resil would send)
 * calls the dependency, sending `x-attempt: N`, and retries a failed call (no answer, 429, 5xx) up to
 * 3 times after `delayMs`. One keep-alive connection to the dependency, so every call after the
 * first reuses it.
 */
async function startService(dependency: string, options: ServiceOptions): Promise<TestServer> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  const call = (headers: Record<string, string>, body: string | undefined) =>
    new Promise<number>((resolve) => {
      const outgoing = httpRequest(`${dependency}/v1/orders`, { method: body ? 'POST' : 'GET', headers, agent }, (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode!));
      });
      outgoing.on('error', () => resolve(0));
      outgoing.end(body);
    });
  return startServer((req, res) => {
    req.resume();
    const id = req.headers['x-request-id'] as string;
    const n = Number.parseInt(id.slice(16), 16) - 1;
    void (async () => {
      let status = 0;
      for (let attempt = 1; attempt <= 4; attempt++) {
        const headers: Record<string, string> = { 'x-attempt': String(attempt) };
        const body = options.body?.(n, attempt);
        if (body) headers['content-type'] = 'application/json';
        if (options.propagate(n)) headers['x-request-id'] = id;
        status = await call(headers, body);
        if (status !== 0 && status !== 429 && status < 500) break;
        await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      }
      res.writeHead(status === 200 ? 200 : 502).end();
    })();
  });
}

/** Sends requests 0..count-1 to the service one after the other, each with resil's X-Request-Id. */
async function drive(url: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let n = 0; n < count; n++) {
    const answer = await undiciRequest(url, { headers: { 'x-request-id': requestId(n) } });
    await answer.body.dump();
    statuses.push(answer.statusCode);
  }
  return statuses;
}

/** Every first attempt fails with 503 (Retry-After: 1), every second passes: exact counts whatever the timing. */
const FIRST_ATTEMPTS_FAIL: ProxyOptions = { mock: {}, faults: 'status:503', matchHeader: 'x-attempt: 1', retryAfter: 1 };

describe('each call the proxy serves is observed once its exchange is over', () => {
  test('a service that propagates X-Request-Id: attempts, retries, delays and the Retry-After it ignored', async () => {
    const tee = await observedProxy(FIRST_ATTEMPTS_FAIL);
    service = await startService(proxy!.url, { delayMs: 50, propagate: () => true });
    const waited = cpuWait();
    expect(await drive(service.url, 10)).toEqual(Array(10).fill(200));

    const { calls } = tee;
    expect(calls).toHaveLength(20);
    for (const [i, call] of calls.entries()) {
      const first = i % 2 === 0;
      expect(call).toMatchObject({
        provider: 'proxy',
        method: 'GET',
        key: requestId(Math.floor(i / 2)),
        keySource: 'x-request-id',
        runRequest: true,
        idempotencyKey: false,
        status: first ? 503 : 200,
        fault: first ? 'status:503' : undefined,
        retryAfterMs: first ? 1000 : undefined,
        clientGone: false,
        openAtEnd: false,
        reused: i > 0, // one keep-alive connection carries every call
      });
      expect(call.endedMs).toBeGreaterThanOrEqual(call.arrivedMs);
    }

    const document = tee.behaviour.document();
    expect(document.correlation).toEqual({ calls: 20, keyedBy: { 'x-request-id': 20 }, matched: 20 });
    const overall = document.overall;
    expect(overall).toMatchObject({ calls: 20, reusedConnections: 19, requests: 10, attempts: { '2': 10 }, retries: 10 });
    // Timed: each retry came 50 ms after the failed attempt ended (timer and loopback: +100 ms, plus CPU wait).
    const slackMs = 100 + waited();
    const delay = decodeHistogram(overall.retryDelay!);
    expect(delay.minNonZeroValue / 1000).toBeGreaterThanOrEqual(49);
    expect(delay.getValueAtPercentile(50) / 1000).toBeLessThanOrEqual(50 + slackMs);
    // Every retry came sooner than the Retry-After of 1 s: the worst by 1000 - 50 ms at most.
    expect(overall.retryAfter).toMatchObject({ followed: 10, violations: 10 });
    expect(overall.retryAfter.worstShortfallMs!).toBeLessThanOrEqual(951);
    expect(overall.retryAfter.worstShortfallMs!).toBeGreaterThanOrEqual(950 - slackMs);
    expect(overall.retryAfter.earliestMs!).toBeGreaterThanOrEqual(49);
  }, 30_000);

  test('a service that propagates no id: its POSTs are keyed by method, path and JSON body, whatever the key order', async () => {
    const tee = await observedProxy(FIRST_ATTEMPTS_FAIL);
    service = await startService(proxy!.url, {
      delayMs: 10,
      propagate: () => false,
      body: (n, attempt) => (attempt === 1 ? `{"order":${n},"item":"tea"}` : `{ "item": "tea", "order": ${n} }`),
    });
    expect(await drive(service.url, 6)).toEqual(Array(6).fill(200));
    const { calls } = tee;
    expect(calls).toHaveLength(12);
    expect(new Set(calls.map((call) => call.key)).size).toBe(6);
    expect(calls.every((call) => call.keySource === 'body' && !call.runRequest && call.method === 'POST')).toBe(true);
    expect(calls[0]!.key).toMatch(/^POST \/v1\/orders \S+$/);
    const document = tee.behaviour.document();
    expect(document.correlation).toEqual({ calls: 12, keyedBy: { body: 12 }, matched: 0 });
    // POST retried without an Idempotency-Key: unsafe.
    expect(document.overall).toMatchObject({ requests: 6, attempts: { '2': 6 }, retries: 6, unsafeRetries: 6 });
  }, 30_000);

  test('coverage: the calls whose key is one of the run ids are matched; the others are keyed by their body', async () => {
    const tee = await observedProxy(FIRST_ATTEMPTS_FAIL);
    service = await startService(proxy!.url, { delayMs: 10, propagate: (n) => n % 2 === 0, body: (n) => `{"order":${n}}` });
    await drive(service.url, 8);
    const document = tee.behaviour.document();
    expect(document.correlation).toEqual({ calls: 16, keyedBy: { 'x-request-id': 8, body: 8 }, matched: 8 });
    expect(document.overall).toMatchObject({ requests: 8, attempts: { '2': 8 }, retries: 8 });
  }, 30_000);

  test("a call keyed by the service's own Idempotency-Key still counts as traced when it carries resil's id beside it", async () => {
    const tee = await observedProxy({ mock: {} });
    await nodeCall(proxy!.url, { headers: { 'idempotency-key': 'order-1', 'x-request-id': requestId(1) } });
    await nodeCall(proxy!.url, { headers: { 'idempotency-key': 'order-2', traceparent: `00-${requestId(2)}-00f067aa0ba902b7-00` } });
    await nodeCall(proxy!.url, { headers: { 'idempotency-key': 'order-3', 'x-request-id': 'someone-elses' } });
    expect(await waitFor(() => tee.calls.length === 3, 2000)).toBe(true);
    expect(tee.calls.map((call) => [call.key, call.runRequest])).toEqual([
      ['order-1', true],
      ['order-2', true],
      ['order-3', false],
    ]);
    expect(tee.behaviour.document().correlation).toEqual({ calls: 3, keyedBy: { 'idempotency-key': 3 }, matched: 2 });
  });

  test('a held call: the one its client gave up on is timed, the one still waited on is open at the end', async () => {
    const tee = await observedProxy({ mock: {}, faults: 'timeout' });
    const waited = cpuWait();
    const gaveUp = nodeCall(proxy!.url, { timeoutMs: 200 });
    const stillWaiting = nodeCall(proxy!.url, { timeoutMs: 60_000 });
    expect((await gaveUp).error?.code).toBe('CLIENT_TIMEOUT');
    expect(await waitFor(() => tee.calls.length === 1, 2000)).toBe(true);
    const [abandoned] = tee.calls;
    expect(abandoned).toMatchObject({ fault: 'timeout', status: 0, clientGone: true, openAtEnd: false });
    const waitedMs = abandoned!.endedMs - abandoned!.arrivedMs;
    expect(waitedMs).toBeGreaterThanOrEqual(190);
    expect(waitedMs).toBeLessThanOrEqual(200 + 100 + waited());

    // Held past twice the wait given up on, the other call says its client never gave up.
    await sleep(250);
    proxy!.reportOpenCalls();
    expect(tee.calls).toHaveLength(2);
    expect(tee.calls[1]).toMatchObject({ fault: 'timeout', status: 0, clientGone: false, openAtEnd: true });
    await proxy!.close();
    expect((await stillWaiting).error).toBeDefined();
    expect(tee.calls).toHaveLength(2); // the close that ended it is not a second record
    expect(tee.behaviour.document().overall.timeouts).toMatchObject({ held: 2, never: 1 });
  }, 15_000);

  test('a call the proxy cut (reset) is no client going away; a call on a fresh connection is not reused', async () => {
    const tee = await observedProxy({ mock: {}, faults: 'reset' });
    await nodeCall(proxy!.url);
    expect(await waitFor(() => tee.calls.length === 1, 2000)).toBe(true);
    expect(tee.calls[0]).toMatchObject({ fault: 'reset', status: 0, clientGone: false, reused: false, keySource: 'body', key: 'GET /' });
  });

  test('an answer cut short (truncate) is no answer: status 0, a failed attempt, and the call after it a retry', async () => {
    const tee = await observedProxy({ mock: {}, faults: 'truncate:2' });
    const headers = { 'x-request-id': requestId(7) };
    await nodeCall(proxy!.url, { headers });
    await nodeCall(proxy!.url, { headers });
    expect(await waitFor(() => tee.calls.length === 2, 2000)).toBe(true);
    expect(tee.calls.map((call) => [call.fault, call.status, call.clientGone])).toEqual([
      ['truncate:2', 0, false],
      ['truncate:2', 0, false],
    ]);
    expect(tee.behaviour.document().overall).toMatchObject({ calls: 2, retries: 1, attempts: { '2': 1 } });
  });

  test("an upstream's 429 and 5xx pass their Retry-After on (seconds or an HTTP date); other statuses carry none", async () => {
    const inFiveSeconds = new Date(Date.now() + 5000).toUTCString();
    upstream = await startRecordingServer((seen, res) => {
      const status = Number(seen.url.slice(1));
      res.writeHead(status, { 'retry-after': status === 503 ? inFiveSeconds : '2' }).end();
    });
    const tee = await observedProxy({ upstream: upstream.url });
    for (const status of [429, 503, 529, 409]) await nodeCall(`${proxy!.url}/${status}`);
    expect(await waitFor(() => tee.calls.length === 4, 2000)).toBe(true);
    const [tooMany, unavailable, overloaded, conflict] = tee.calls;
    expect(tooMany).toMatchObject({ status: 429, retryAfterMs: 2000, fault: undefined });
    // An HTTP date has whole seconds: 4 to 5 s from when the answer passed.
    expect(unavailable!.retryAfterMs).toBeGreaterThan(3900);
    expect(unavailable!.retryAfterMs).toBeLessThanOrEqual(5000);
    // Anthropic's 529 (overloaded) carries one; a 4xx other than 429 asks for no wait.
    expect(overloaded).toMatchObject({ status: 529, retryAfterMs: 2000 });
    expect(conflict).toMatchObject({ status: 409, retryAfterMs: undefined });
  });

  test('a body read to key the call reaches the upstream whole, forwarded or fetched for a fault', async () => {
    upstream = await startRecordingServer();
    const tee = await observedProxy({ upstream: upstream.url, faults: 'slow-body:10000000', matchPath: '/slow' });
    const body = JSON.stringify({ prompt: 'x'.repeat(100_000) });
    const headers = { 'content-type': 'application/json' };
    for (const path of ['/fast', '/slow'])
      expect((await nodeCall(`${proxy!.url}${path}`, { method: 'POST', headers, body })).status).toBe(200);
    expect(upstream.requests.map((seen) => [seen.url, seen.body.toString()])).toEqual([
      ['/fast', body],
      ['/slow', body],
    ]);
    expect(await waitFor(() => tee.calls.length === 2, 2000)).toBe(true);
    expect(tee.calls.map((call) => [call.keySource, call.fault])).toEqual([
      ['body', undefined],
      ['body', 'slow-body:10000000'],
    ]);
  });

  test('a body announced over 1 MiB streams through unread, its call keyed by method and path alone', async () => {
    upstream = await startRecordingServer();
    const tee = await observedProxy({ upstream: upstream.url });
    const body = 'x'.repeat(1024 * 1024 + 1);
    expect((await nodeCall(`${proxy!.url}/upload`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body })).status).toBe(200);
    expect(upstream.requests.map((seen) => seen.body.length)).toEqual([body.length]);
    expect(await waitFor(() => tee.calls.length === 1, 2000)).toBe(true);
    expect(tee.calls[0]).toMatchObject({ keySource: 'body', key: 'POST /upload' });
  });

  test("--correlate header:NAME keys by that header (else the body); 'off' observes nothing", async () => {
    let tee = await observedProxy({ mock: {}, correlate: 'header:X-Order' });
    const headers: IncomingHttpHeaders = { 'x-order': 'order-7', 'x-request-id': requestId(0) };
    await nodeCall(proxy!.url, { headers: headers as Record<string, string> });
    await nodeCall(proxy!.url, { headers: { 'x-request-id': requestId(1) } });
    expect(await waitFor(() => tee.calls.length === 2, 2000)).toBe(true);
    expect(tee.calls.map((call) => [call.key, call.keySource])).toEqual([
      ['order-7', 'header'],
      ['GET /', 'body'],
    ]);
    await proxy!.close();

    tee = await observedProxy({ mock: {}, correlate: 'off' });
    expect(proxy!.correlation).toBeUndefined();
    await nodeCall(proxy!.url);
    proxy!.reportOpenCalls();
    expect(tee.calls).toHaveLength(0);
  });
});

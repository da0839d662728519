import { createServer, type AddressInfo } from 'node:net';
import type { Campaign } from '../campaign/schema.js';

/** Free ports on 127.0.0.1 for the demo's providers (asked of the kernel, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const server = createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * The demo's timeline in whole seconds: A failing 30% of calls, A failing every call, both down, and
 * the end. A's failing window follows a gap of steady calls (the rate a breaker is judged against).
 */
const TIMELINES = {
  full: { faultsA: [4, 9], failA: [11, 15], downBoth: [17, 19], end: 24 },
  quick: { faultsA: [2, 5], failA: [6, 8], downBoth: [9, 10], end: 12 },
} as const;

/**
 * The streamed scenario's timeline in whole seconds: A failing before the first token, A failing
 * mid-answer, and the end.
 */
const STREAM_TIMELINES = {
  full: { beforeToken: [2, 6], midAnswer: [8, 11], end: 13 },
  quick: { beforeToken: [1, 3], midAnswer: [4, 6], end: 7 },
} as const;

/**
 * The demo's chaos campaign against the example gateway. First, plain completions: steady load,
 * provider A failing 30% of calls (503/429/timeout/reset), A answering every call with a 503, both
 * providers down, then recovery. The thresholds are what a team would ask of a gateway with failover:
 * it rides out A's faults and outage, loses only the both-down window, and is back within seconds;
 * and, judged from the calls it makes to the providers, it waits as long as Retry-After asks, gives up
 * on a call after 4 attempts and a hung call within 500 ms, stops calling A within 2 s of A failing
 * everything, and moves a request to B within a second. Then streamed completions: A failing half its
 * calls before the first token (503/429/a held call/an error event), which retries and failover
 * absorb within 2 s to the first token, then A failing a fifth of its streams mid-answer (an error
 * event, a cut, a 2 s stall), which no gateway can absorb: those answers fail as `stream`, the success
 * rate's bound leaves room for them alone, and the gateway's idle timeout keeps the caller's longest
 * wait between two events under a second.
 */
export function demoCampaign(settings: { gatewayUrl: string; providerPorts: [number, number]; quick: boolean }): Campaign {
  const t = settings.quick ? TIMELINES.quick : TIMELINES.full;
  const st = settings.quick ? STREAM_TIMELINES.quick : STREAM_TIMELINES.full;
  const phase = ([from, to]: readonly [number, number]) => ({ at: `${from}s`, for: `${to - from}s` });
  const [a, b] = settings.providerPorts;
  return {
    file: '(embedded demo campaign)',
    providers: {
      // 6 tokens, the first 30 ms after the headers, then one every 20 ms: a whole answer in about 150 ms.
      a: { listen: `127.0.0.1:${a}`, mock: { preset: 'openai', latency: '20ms~40ms', ttft: '30ms', tokens: 6 } },
      b: { listen: `127.0.0.1:${b}`, mock: { preset: 'openai', latency: '30ms~60ms', ttft: '30ms', tokens: 6 } },
    },
    scenarios: [
      {
        name: 'provider-failures',
        type: 'chaos',
        url: `${settings.gatewayUrl}/v1/complete`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"prompt":"Summarise request {{i}}"}',
        rate: 50,
        duration: `${t.end}s`,
        concurrency: 100,
        timeout: '5s',
        expectJson: ['result'],
        seed: 2026,
        phases: [
          {
            ...phase(t.faultsA),
            providers: { a: { failureRate: 0.3, faults: 'status:503=5,status:429=2,timeout=2,reset=1', retryAfter: 1 } },
          },
          // Every call fails, and the proxy sees them (a `down` listener refuses them unseen): a breaker shows.
          { ...phase(t.failA), providers: { a: { failureRate: 1, faults: 'status:503' } } },
          { ...phase(t.downBoth), providers: { a: { faults: 'down' }, b: { faults: 'down' } } },
        ],
        thresholds: [
          'success_rate>=0.85',
          'p99<2500ms',
          'recovery<3s',
          'amplification<=3',
          'retry_after_violations==0',
          'attempts_max<=4',
          'dependency_timeout<=500ms',
          'breaker_open_after<2s',
          'failover_delay_p99<1500ms',
        ],
      },
      {
        name: 'streamed-answers',
        type: 'chaos',
        url: `${settings.gatewayUrl}/v1/complete`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"prompt":"Summarise request {{i}}","stream":true}',
        rate: 50,
        duration: `${st.end}s`,
        concurrency: 100,
        timeout: '5s',
        seed: 2026,
        phases: [
          // Before the first token: retried, Retry-After waited, failed over to B.
          {
            ...phase(st.beforeToken),
            providers: { a: { failureRate: 0.5, faults: 'status:503=2,status:429=1,timeout=1,stream-error:0=1', retryAfter: 1 } },
          },
          // After it (4 events: the role chunk and 3 tokens), the caller already has part of A's answer: an error
          // event, a cut or a stall beyond the gateway's idle timeout ends it with an error event.
          {
            ...phase(st.midAnswer),
            providers: { a: { failureRate: 0.2, faults: 'stream-error:4=1,truncate:4events=1,stall:2s@4=1' } },
          },
        ],
        // ttft: a request may wait out two Retry-After: 1 s at A before its third attempt, then B: about 2.1 s by design;
        // 2000 ms failed one full demo in eight, when more of A's calls were faulted than usual.
        thresholds: ['success_rate>=0.9', 'ttft_p99<2500ms', 'event_gap_max<1s', 'retry_after_violations==0', 'failover_delay_p99<1500ms'],
      },
    ],
  };
}

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

/** The demo's timeline in whole seconds: [steady until, A 30% faults from..to, A down from..to, both down from..to, end]. */
const TIMELINES = {
  full: { faultsA: [4, 9], downA: [11, 15], downBoth: [17, 19], end: 24 },
  quick: { faultsA: [2, 5], downA: [6, 8], downBoth: [9, 10], end: 12 },
} as const;

/**
 * The demo's chaos campaign against the example gateway: steady load, provider A failing 30% of
 * calls (503/429/timeout/reset), A down, both providers down, then recovery. The thresholds are what a
 * team would ask of a gateway with failover: it rides out A's faults and outage, loses only the
 * both-down window, and is back within seconds.
 */
export function demoCampaign(settings: { gatewayUrl: string; providerPorts: [number, number]; quick: boolean }): Campaign {
  const t = settings.quick ? TIMELINES.quick : TIMELINES.full;
  const phase = ([from, to]: readonly [number, number]) => ({ at: `${from}s`, for: `${to - from}s` });
  const [a, b] = settings.providerPorts;
  return {
    file: '(embedded demo campaign)',
    providers: {
      a: { listen: `127.0.0.1:${a}`, mock: { latency: '20ms~40ms', body: '{"result":"Hello from provider A"}' } },
      b: { listen: `127.0.0.1:${b}`, mock: { latency: '30ms~60ms', body: '{"result":"Hello from provider B"}' } },
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
          { ...phase(t.downA), providers: { a: { faults: 'down' } } },
          { ...phase(t.downBoth), providers: { a: { faults: 'down' }, b: { faults: 'down' } } },
        ],
        thresholds: ['success_rate>=0.85', 'p99<2500ms', 'recovery<3s', 'amplification<=3'],
      },
    ],
  };
}

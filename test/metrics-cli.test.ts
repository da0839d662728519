import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli } from './helpers/cli.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-metrics-'));

async function scrape(port: number): Promise<string> {
  const response = await request(`http://127.0.0.1:${port}/metrics`);
  return response.body.text();
}

/** The value of the first sample line that starts with `prefix`. */
function sample(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Prometheus metrics from the CLI', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_req, res) => setTimeout(() => res.end('ok'), 2));
  });
  afterAll(() => server.close());

  test('--metrics-port serves live counts during a load run; --out .prom writes the end state', async () => {
    const port = await refusedPort();
    const prom = join(scratch, 'end.prom');
    let during = '';
    const run = await runCli(['load', server.url, '-d', '3s', '-c', '4', '--metrics-port', String(port), '--out', prom], {
      onStart: () => setTimeout(() => void scrape(port).then((text) => (during = text)), 2500),
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`live metrics on http://127.0.0.1:${port}/metrics`);
    // Scraped 2.5 s after the start (about 1.5-2 s into the 3 s run): requests counted, histogram present, connections in flight.
    expect(sample(during, 'resil_requests_total{scenario="load",outcome="ok"}')).toBeGreaterThan(100);
    expect(during).toMatch(/^resil_request_duration_seconds_bucket\{.*le="\+Inf"\} \d+/m);
    expect(sample(during, 'resil_in_flight')).toBeGreaterThanOrEqual(0);
    const end = readFileSync(prom, 'utf8');
    expect(sample(end, 'resil_requests_total{scenario="load",outcome="ok"}')).toBeGreaterThan(sample(during, 'resil_requests_total{scenario="load",outcome="ok"}'));
    expect(sample(end, 'resil_threshold_ok{scenario="load",expression="success_rate>=0.95"}')).toBe(1);
  });

  test('in policy mode the breaker state and injected faults are live', async () => {
    const port = await refusedPort();
    let during = '';
    const run = await runCli(
      ['chaos', '--mock', '--failure-rate', '1', '--faults', 'status:503', '--retries', '0', '--breaker', '3/30s', '-r', '50', '-d', '3s', '--metrics-port', String(port)],
      { onStart: () => setTimeout(() => void scrape(port).then((text) => (during = text)), 1800) },
    );
    expect(run.code).toBe(1);
    expect(sample(during, 'resil_breaker_state{provider="dependency"}')).toBe(1);
    expect(sample(during, 'resil_faults_injected_total{provider="dependency",type="status:503"}')).toBe(3);
  });
});

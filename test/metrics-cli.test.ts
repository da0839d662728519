import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { outputMatches, runCli } from './helpers/cli.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';
import { sleep } from './helpers/wait.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-metrics-'));

async function scrape(port: number): Promise<string> {
  const response = await request(`http://127.0.0.1:${port}/metrics`);
  return response.body.text();
}

/**
 * Once the child says its endpoint is up, scrapes it every 50 ms until a scrape satisfies `wanted`
 * (returned) or the run is over (''): the test waits for the state it wants to see, not for a time
 * it guessed the run would need to get there on this machine.
 */
async function scrapeUntil(child: ChildProcess, port: number, wanted: (text: string) => boolean): Promise<string> {
  if (!(await outputMatches(child, /live metrics on/))) return '';
  while (child.exitCode === null && child.signalCode === null) {
    const text = await scrape(port).catch(() => '');
    if (wanted(text)) return text;
    await sleep(50);
  }
  return '';
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
    const OK = 'resil_requests_total{scenario="load",outcome="ok"}';
    const BUCKET = /^resil_request_duration_seconds_bucket\{.*le="\+Inf"\} \d+/m;
    let during: Promise<string> = Promise.resolve('');
    // The live histogram holds the seconds closed so far: it appears once the run is past its first second.
    const run = await runCli(['load', server.url, '-d', '2s', '-c', '4', '--metrics-port', String(port), '--out', prom], {
      onStart: (child) => (during = scrapeUntil(child, port, (text) => BUCKET.test(text))),
    });
    const live = await during;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`live metrics on http://127.0.0.1:${port}/metrics`);
    // A scrape during the run: requests counted, histogram present, connections in flight.
    expect(live).toMatch(BUCKET);
    expect(sample(live, OK)).toBeGreaterThan(100);
    expect(sample(live, 'resil_in_flight')).toBeGreaterThanOrEqual(0);
    const end = readFileSync(prom, 'utf8');
    expect(sample(end, OK)).toBeGreaterThan(sample(live, OK));
    expect(sample(end, 'resil_threshold_ok{scenario="load",expression="success_rate>=0.95"}')).toBe(1);
  });

  test('in policy mode the breaker state and injected faults are live', async () => {
    const port = await refusedPort();
    let during: Promise<string> = Promise.resolve('');
    // One connection, never more (-c 1 --max-connections 1): one call at a time, so exactly 3 reach the
    // provider before the breaker opens, however slow the machine makes each call. The scrape waits
    // until the open breaker has refused 10 requests.
    const run = await runCli(
      [
        'chaos',
        '--mock',
        '--failure-rate',
        '1',
        '--faults',
        'status:503',
        '--retries',
        '0',
        '--breaker',
        '3/30s',
        '-r',
        '50',
        '-c',
        '1',
        '--max-connections',
        '1',
        '-d',
        '2s',
        '--metrics-port',
        String(port),
      ],
      {
        onStart: (child) =>
          (during = scrapeUntil(child, port, (text) => sample(text, 'resil_requests_total{scenario="chaos",outcome="breaker"}') >= 10)),
      },
    );
    const live = await during;
    expect(run.code).toBe(1);
    expect(sample(live, 'resil_breaker_state{provider="dependency"}')).toBe(1);
    expect(sample(live, 'resil_faults_injected_total{provider="dependency",type="status:503"}')).toBe(3);
  });
});

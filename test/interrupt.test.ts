import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputMatches, runCli } from './helpers/cli.js';
import { refusedPort, startServer, type TestServer } from './helpers/servers.js';
import { waitFor } from './helpers/wait.js';

const scratch = mkdtempSync(join(tmpdir(), 'resil-interrupt-'));

/** True when nothing listens on the port any more (it can be bound again). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Alive and not a zombie (an exited child reparented to a PID 1 that does not reap shows as Z). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits up to `ms` for the process to be gone (a signalled process takes a moment to exit). */
async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !processAlive(pid);
}

describe('interruption', () => {
  let slow: TestServer;
  beforeAll(async () => {
    // Every answer takes 5 s: at the signal there are always requests in flight.
    slow = await startServer((_req, res) => setTimeout(() => res.end('late'), 5000));
  });
  afterAll(() => slow.close());

  test('SIGINT during chaos: stops at once, waits at most --grace, writes the partial result, frees the proxy port, exits 130', async () => {
    const port = await refusedPort();
    const out = join(scratch, 'chaos.json');
    const before = slow.seen;
    let signalledAt = 0;
    const run = await runCli(
      [
        'chaos',
        slow.url,
        '--listen',
        `127.0.0.1:${port}`,
        '--mock',
        '--failure-rate',
        '0.5',
        '-c',
        '4',
        '-d',
        '60s',
        '--grace',
        '500ms',
        '--out',
        out,
      ],
      {
        // The signal goes once all 4 connections have a request in flight (the run is under way and its
        // handlers are installed), however long start-up took on this machine.
        onStart: (child) =>
          void waitFor(() => slow.seen - before >= 4, 15_000).then((inFlight) => {
            if (!inFlight) return;
            signalledAt = Date.now();
            child.kill('SIGINT');
          }),
      },
    );
    const stoppedAfter = Date.now() - signalledAt;
    expect(signalledAt).toBeGreaterThan(0);
    expect(run.code).toBe(130);
    // Tolerance: the grace period (500 ms) plus 1 s for closing and writing; so gone long before the
    // slow answers (5 s) could have come.
    expect(stoppedAfter).toBeLessThan(1500);
    const document = JSON.parse(readFileSync(out, 'utf8'));
    expect(document).toMatchObject({ interrupted: true, command: 'chaos' });
    // The 4 requests in flight at the signal outlived the grace period: cancelled, not failed.
    expect(document.requests.cancelled).toBe(4);
    expect(document.faults).toBeDefined();
    expect(await portIsFree(port)).toBe(true);
  });

  test('SIGTERM during run: the service and the providers are stopped, the partial result is written, exit 143', async () => {
    const servicePort = await refusedPort();
    const providerPort = await refusedPort();
    const pidFile = join(scratch, 'service.pid');
    const service = join(scratch, 'service.mjs');
    writeFileSync(
      service,
      `import http from 'node:http';\nimport { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nhttp.createServer((req, res) => setTimeout(() => res.end('ok'), 5000)).listen(${servicePort}, '127.0.0.1');\n`,
    );
    const campaign = join(scratch, 'campaign.yaml');
    writeFileSync(
      campaign,
      [
        'providers:',
        `  dep: { listen: 127.0.0.1:${providerPort}, mock: true }`,
        'service:',
        `  command: ${JSON.stringify(`${process.execPath} ${service}`)}`,
        `  ready: http://127.0.0.1:${servicePort}/`,
        'scenarios:',
        '  - name: long',
        `    url: http://127.0.0.1:${servicePort}/`,
        '    duration: 60s',
        '    concurrency: 2',
        '    grace: 300ms',
        '  - name: never-reached',
        `    url: http://127.0.0.1:${servicePort}/`,
        '    requests: 1',
        '',
      ].join('\n'),
    );
    // The ready probe itself waits for the 5 s answer; give the service a ready check that passes quickly.
    writeFileSync(
      service,
      readFileSync(service, 'utf8').replace(
        "setTimeout(() => res.end('ok'), 5000)",
        "req.headers['user-agent'] === 'resil' ? setTimeout(() => res.end('ok'), 5000) : res.end('ready')",
      ),
    );
    const out = join(scratch, 'run.json');
    let signalled = false;
    const run = await runCli(['run', campaign, '--out', out], {
      // Once the first scenario has started (the service is up, the handlers are installed), however
      // long start-up took on this machine.
      onStart: (child) =>
        void outputMatches(child, /── scenario 1\/2: long/).then((started) => (signalled = started) && child.kill('SIGTERM')),
      timeoutMs: 20_000,
    });
    expect(signalled).toBe(true);
    expect(run.code).toBe(143);
    const document = JSON.parse(readFileSync(out, 'utf8'));
    expect(document.ok).toBe(false);
    expect(document.scenarios.map((s: { name: string }) => s.name)).toEqual(['long']);
    expect(document.scenarios[0].result.interrupted).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // Tolerance: the service's process group was sent SIGTERM before resil exited; allow it 1 s to go.
    expect(await exitsWithin(pid, 1000)).toBe(true);
    expect(await portIsFree(servicePort)).toBe(true);
    expect(await portIsFree(providerPort)).toBe(true);
    expect(existsSync(out)).toBe(true);
  });
});

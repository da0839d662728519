import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';

// `resil proxy --toxiproxy-api`: the API alone is a server (no --upstream), proxies from --config,
// one tally line per proxy when it stops, and one line with exit 2 for a bad config file.

describe('resil proxy --toxiproxy-api', () => {
  let dir: string;
  let echo: Server;
  let echoPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resil-toxiproxy-cli-'));
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  test('prints the API address, serves it with the config file proxies, and a tally line per proxy on Ctrl-C', async () => {
    const config = join(dir, 'proxies.json');
    writeFileSync(config, JSON.stringify([{ name: 'cache', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` }]));
    let listed: unknown;
    const run = await runCli(['proxy', '--toxiproxy-api', '0', '--config', config], {
      onStart: (child) => {
        let out = '';
        child.stdout!.on('data', (chunk) => {
          out += chunk;
          const api = /Toxiproxy API on (http:\/\/127\.0\.0\.1:\d+) \(loopback only\)/.exec(out);
          if (api && listed === undefined) {
            listed = null;
            void fetch(`${api[1]}/proxies`)
              .then((response) => response.json())
              .then((body) => (listed = body))
              .finally(() => child.kill('SIGINT'));
          }
        });
      },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(130);
    expect(run.stdout).toMatch(/^proxy cache on 127\.0\.0\.1:\d+ \(loopback only\) → 127\.0\.0\.1:\d+$/m);
    expect(listed).toMatchObject({ cache: { name: 'cache', enabled: true, toxics: [] } });
    expect(run.stdout).toMatch(/^cache \(127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+\): 0 connections/m);
  });

  test('a bad config file: one line on stderr, exit 2; flags of the --upstream proxy without one: exit 2', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ name: 'cache' }]));
    const run = await runCli(['proxy', '--toxiproxy-api', '0', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/--config .*bad\.json: missing required field: upstream at proxy 1/);

    const stray = await runCli(['proxy', '--toxiproxy-api', '0', '--faults', 'latency:10ms']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--faults configures the --upstream \(or --mock\) proxy/);
  });
});

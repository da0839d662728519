import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusedPort } from './servers.js';

/** How long a fresh redis-server may take to answer PING (ms). */
const READY_MS = 10_000;

export interface TestRedis {
  port: number;
  /** 'tcp://127.0.0.1:PORT': the upstream of a resil TCP proxy. */
  upstream: string;
  stop(): Promise<void>;
}

/** Thrown (so the test fails) when Debian's redis-server is not installed: never a silent skip. */
function missingRedis(): Error {
  return new Error(
    'redis-server is not on PATH: the Redis tests need a real one. Install it with ' +
      '`apt-get install -y --no-install-recommends redis-server` (.ci/run does this), then run the tests again.',
  );
}

/**
 * Starts a private redis-server on 127.0.0.1 on a free port, with no persistence (no RDB snapshots,
 * no append-only file) and its files in a temp dir; resolves once it answers PING. stop() ends it
 * (SIGTERM, SIGKILL after 2 s) and removes the dir.
 */
export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) throw missingRedis();
  const dir = mkdtempSync(join(tmpdir(), 'resil-redis-'));
  const port = await refusedPort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const stop = () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true }));
  const deadline = performance.now() + READY_MS;
  while (!(await pings(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING within ${READY_MS} ms (exit ${child.exitCode}): ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, upstream: `tcp://127.0.0.1:${port}`, stop };
}

/** One inline PING on a fresh connection: true when Redis answers +PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

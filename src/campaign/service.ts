import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { CouldNotRunError } from '../errors.js';

export interface ServiceSettings {
  /** Shell command that starts the service under test. */
  command: string;
  env?: Readonly<Record<string, string>>;
  /** Polled until it answers 2xx. */
  ready?: string;
  readyTimeoutMs: number;
}

export interface RunningService {
  stop(): Promise<void>;
}

/** How often the ready URL is polled (ms). */
const POLL_MS = 100;

/**
 * Starts the service under test as a child process (its own process group, so the whole tree
 * stops with it) and waits until its ready URL answers 2xx. A service that exits or never gets
 * ready is a run that cannot be carried out (exit 3), with the last lines it printed.
 */
export async function startService(settings: ServiceSettings): Promise<RunningService> {
  const child = spawn(settings.command, {
    shell: true,
    detached: true,
    env: { ...process.env, ...settings.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    );
    tail.splice(0, Math.max(0, tail.length - 5));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `code ${code}`));

  const service: RunningService = { stop: () => stopChild(child) };
  if (settings.ready === undefined) return service;
  const deadline = performance.now() + settings.readyTimeoutMs;
  while (performance.now() < deadline) {
    if (exited !== undefined) {
      throw new CouldNotRunError(
        `service '${settings.command}' exited (${exited}) before it was ready${tail.length ? `: ${tail.join(' | ')}` : ''}`,
      );
    }
    if (await answers(settings.ready)) return service;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  await service.stop();
  throw new CouldNotRunError(
    `service '${settings.command}' was not ready at ${settings.ready} within ${settings.readyTimeoutMs}ms` +
      (tail.length ? `: ${tail.join(' | ')}` : ''),
  );
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await request(url, { signal: AbortSignal.timeout(1000) });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole process group, SIGKILL after 3 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

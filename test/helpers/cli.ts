import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a user's shell would give the CLI: this one without the NODE_ENV=test that jest
 * sets. With it, oclif looks for TypeScript sources to run instead of dist/ (it loads the typescript
 * compiler to read tsconfig.json): not what users run, and 0.19 s more CPU per start.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_ENV;
  return env;
}

/** Runs the built CLI (`npm test` builds first) as a user would, without a TTY. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onStart?: (child: ChildProcess) => void; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // No colour settings from the caller's environment; unset rather than empty, as Node 22 warns on
    // stderr when NO_COLOR and FORCE_COLOR are both present.
    const env = userEnv();
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`resil ${args.join(' ')} did not finish within ${options.timeoutMs ?? 20000}ms\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onStart?.(child);
  });
}

/**
 * Resolves true once the child's stderr (or stdout) so far matches `pattern`: an event to act on,
 * where a fixed sleep would guess how long start-up takes on this machine. False if it exits first.
 */
export function outputMatches(child: ChildProcess, pattern: RegExp, stream: 'stderr' | 'stdout' = 'stderr'): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const done = (matched: boolean) => {
      child[stream]!.off('data', onData);
      child.off('exit', onExit);
      resolve(matched);
    };
    const onData = (chunk: Buffer) => {
      text += chunk;
      if (pattern.test(text)) done(true);
    };
    const onExit = () => done(false);
    child[stream]!.on('data', onData);
    child.once('exit', onExit);
  });
}

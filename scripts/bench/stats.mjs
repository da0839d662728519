import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
// Small helpers shared by the benchmark scripts.

/** A positive integer from the environment variable `name`, or `fallback` when unset. */
export function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The median of the finite numbers among `values`, or null when there are none. */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `value` with `digits` decimals, or 'n/a' when it is not a finite number. */
export function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Sends `signal` to a child process that may already be gone. */
export function killQuietly(child, signal) {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/**
 * Runs `node ARGS` as a child that prints one JSON line last, and resolves to that object. The child
 * is in `running` while it runs (so a caller can kill what is left on Ctrl-C) and is killed after
 * `timeoutMs`; `name` labels the errors.
 */
export function runJsonChild({ args, cwd, running, timeoutMs, name }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const timer = setTimeout(() => {
      killQuietly(child, 'SIGKILL');
      reject(new Error(`${name} child did not finish within ${timeoutMs / 1000} s; killed`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const line = stdout.trim().split('\n').pop();
      if (code !== 0 || !line) {
        reject(new Error(`${name} child exited with ${signal ?? `code ${code}`}; stdout: ${stdout.trim() || '(empty)'}`));
        return;
      }
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${name} child printed no JSON result: ${line}`));
      }
    });
  });
}

/** Prints a table: columns two spaces apart, left-aligned where `leftAligned` (the first), a rule before a 'median' row. */
export function printTable(header, rows, leftAligned = header.map((_, i) => i === 0)) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (r) =>
    r
      .map((cell, i) => (leftAligned[i] ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  console.log(format(header));
  console.log(rule);
  for (const r of rows) {
    if (r[0] === 'median') console.log(rule);
    console.log(format(r));
  }
}

/**
 * A bench's ways out: SIGINT and SIGTERM call `stop(signal name, exit code)`; on any exit (the last
 * resort, synchronous) every child still in `running` is killed, so none is left behind.
 */
export function guardChildren(running, stop) {
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
  process.on('exit', () => {
    for (const child of running) killQuietly(child, 'SIGKILL');
  });
}

/** The executable `name` on PATH (then in `extra` directories), or null. */
export function findOnPath(name, extra = []) {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extra]) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

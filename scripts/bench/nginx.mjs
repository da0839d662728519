// A throwaway local nginx for the benchmarks: the origin answers every request with 200 "hello world\n".
//
//   const nginx = await startNginx();   // { url, port, pid, version, stop() }
//   ...load nginx.url...
//   await nginx.stop();
//
//   const proxy = await startNginx({ proxyTo: nginx.port });   // nginx as a reverse proxy
//
//   // The origin also serves these exact paths: 200, that content-type, the body from a file:
//   await startNginx({ routes: [{ path: '/sse', contentType: 'text/event-stream', body }] });
//
// startNginx() makes sure nginx is installed (apt-get install nginx-light if not), writes nginx.conf
// into a fresh temp dir and runs nginx in the foreground as our child on 127.0.0.1:<free port>, then
// waits until it answers. stop() takes it down and removes the temp dir. nginx is also stopped if
// this process exits or gets SIGINT/SIGTERM, so it is never left running.
//
// Every instance is its own nginx: one master process (pid) and one worker process, access log off.
// With { proxyTo: PORT } the instance serves nothing itself: it is a reverse proxy to
// 127.0.0.1:PORT over keep-alive upstream connections (HTTP/1.1, "Connection" cleared), so a
// benchmark can give the proxy a process (and a core) of its own, as it gives one to every other
// proxy it compares.
//
// Node 20 built-ins only.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const answerTimeoutMs = 10_000; // how long nginx may take to answer after spawn, ms
const killAfterMs = 5_000; // SIGTERM → SIGKILL escalation in stop(), ms

/** Every nginx started here and not yet stopped: { child, dir, stop }. */
const live = new Set();

/** Starts nginx (the origin, or with proxyTo a reverse proxy); resolves to { url, port, pid, version, stop() } once it answers. */
export async function startNginx(options = {}) {
  const { proxyTo, routes = [] } = options;
  const bin = ensureNginx();
  const version = versionOfNginx(bin);
  const port = await freePort();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resil-bench-nginx-'));
  // The worker runs as an unprivileged user when we are root; let it into the directory.
  fs.chmodSync(dir, 0o755);
  // Each route's body is a file nginx serves as it is (a config string is limited to 4 KB).
  const served = routes.map((route, i) => {
    const file = path.join(dir, `route-${i}`);
    fs.writeFileSync(file, route.body, { mode: 0o644 });
    return { ...route, file };
  });
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, config(dir, proxyTo === undefined ? originServer(port, served) : proxyServer(port, proxyTo)));

  // -e: error log before the config is read (otherwise the compiled-in default path is used).
  const child = spawn(bin, ['-c', conf, '-p', `${dir}/`, '-e', `${dir}/error.log`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopping = null; // the stop() promise, once stop() has been called
  child.on('error', (error) => console.error(`bench: nginx failed to start: ${error.message}`));
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`bench: nginx exited early (${signal ?? `code ${code}`}); see ${dir}/error.log`);
  });

  const instance = {
    child,
    dir,
    /** SIGTERM (the master then stops its worker; SIGKILL would orphan it), SIGKILL after 5 s; removes the temp dir. Idempotent. */
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          killQuietly(child, 'SIGTERM');
          const timer = setTimeout(() => killQuietly(child, 'SIGKILL'), killAfterMs);
          await exited;
          clearTimeout(timer);
        }
        fs.rmSync(dir, { recursive: true, force: true });
        forget(instance);
      })();
      return stopping;
    },
  };
  remember(instance);

  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitUntilAnswering(url, answerTimeoutMs, child);
  } catch (error) {
    const log = readQuietly(path.join(dir, 'error.log'));
    await instance.stop();
    throw new Error(`${error.message}${log ? `\nnginx error.log:\n${log}` : ''}`);
  }
  return { url, port, pid: child.pid, version, stop: instance.stop };
}

/** Polls GET <url> until it answers 200 with `body` (default the origin's "hello world\n"), up to timeoutMs (ms). */
export async function waitUntilAnswering(url, timeoutMs = answerTimeoutMs, child = null, body = 'hello world\n') {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`nginx exited (code ${child.exitCode}) before answering at ${url}`);
    try {
      const answer = await get(url);
      if (answer.status === 200 && answer.body === body) return;
      last = new Error(`unexpected answer ${answer.status} ${JSON.stringify(answer.body)}`);
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nginx did not answer at ${url} within ${timeoutMs} ms: ${last?.message}`);
}

// ---------------------------------------------------------------------------------------------
// Config

function config(dir, server) {
  return `# Throwaway config written by scripts/bench/nginx.mjs
daemon off;
master_process on;
worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;

events {
  worker_connections 4096;
}

http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${server}}
`;
}

function originServer(port, routes) {
  const extra = routes.map(
    (route) => `
    location = ${route.path} {
      default_type ${route.contentType};
      alias ${route.file};
    }`,
  );
  return `
  # The origin.
  server {
    listen 127.0.0.1:${port};
    default_type text/plain;
    location / {
      return 200 "hello world\\n";
    }${extra.join('')}
  }
`;
}

function proxyServer(port, upstreamPort) {
  return `
  # A reverse proxy to the origin, keep-alive upstream connections.
  upstream origin {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
`;
}

// ---------------------------------------------------------------------------------------------
// Never leave nginx behind

const exitCodes = { SIGINT: 130, SIGTERM: 143 }; // 128 + signal number

function remember(instance) {
  if (live.size === 0) {
    process.on('exit', onExit);
    for (const signal of Object.keys(exitCodes)) process.on(signal, onSignal);
  }
  live.add(instance);
}

function forget(instance) {
  live.delete(instance);
  if (live.size === 0) {
    process.off('exit', onExit);
    for (const signal of Object.keys(exitCodes)) process.off(signal, onSignal);
  }
}

/** Synchronous last resort: SIGTERM every nginx (its master takes the worker down) and remove its dir. */
function onExit() {
  for (const { child, dir } of live) {
    killQuietly(child, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops every nginx; exits unless the importing script handles the signal too (then exiting is its job). */
async function onSignal(signal) {
  const othersListen = process.listenerCount(signal) > 1;
  await Promise.all([...live].map((instance) => instance.stop()));
  if (!othersListen) process.exit(exitCodes[signal]);
}

// ---------------------------------------------------------------------------------------------
// Installing and finding nginx

/** Path of the nginx binary; installs nginx-light with apt-get if there is none. */
function ensureNginx() {
  const found = findNginx();
  if (found) return found;
  console.error('bench: nginx not found; installing nginx-light with apt-get');
  const install = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y nginx-light'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 10 * 60 * 1000, // ms
  });
  if (install.status !== 0) throw new Error(`apt-get install nginx-light failed (${install.error?.message ?? `exit ${install.status}`})`);
  const installed = findNginx();
  if (!installed) throw new Error('nginx still not found after installing nginx-light');
  return installed;
}

function findNginx() {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'nginx');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function versionOfNginx(bin) {
  const result = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  // nginx prints "nginx version: nginx/1.22.1" on stderr.
  return (result.stderr || result.stdout || '').trim().replace(/^nginx version:\s*/, '') || 'nginx (unknown version)';
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** A free TCP port on 127.0.0.1 (listen on port 0, read the port, close). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

function readQuietly(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function killQuietly(child, signal) {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

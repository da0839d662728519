// The "bare undici proxy" peer for proxy.mjs: a minimal Node reverse proxy with no resil code, in
// its own process (so its CPU is its own). The floor a Node proxy built on undici can reach here.
//
//   node bare-proxy-child.mjs <upstream url> [max lifetime s] [dispatch|request]
//
// http.createServer + one undici Pool (connections 256, pipelining 1, keep-alive 30 s, as resil's
// proxy). Each request is forwarded to the same origin, request body streamed when there is one;
// status, headers (less the fixed hop-by-hop set; Host is set by undici) and body are copied back.
//   dispatch (default, the one proxy.mjs uses): pool.dispatch with a plain handler object: raw
//            header Buffers, body chunks written as they arrive with backpressure. Fastest of the two.
//   request  pool.request, then answer.body (a Readable) piped to the response.
// No corking, no Connection-listed header parsing, no fault layer: straightforward code only.
//
// Same protocol as proxy-child.mjs: prints one JSON line { url } once listening; on SIGTERM/SIGINT
// closes, prints one JSON line { stats: { calls, completed, upstreamErrors, clientAborts } } and
// exits 0. Exits by itself (code 2) after <max lifetime s>, in case the parent is gone.

import http from 'node:http';
import { Pool } from 'undici';

const [upstream, lifetimeText = '600', mode = 'dispatch'] = process.argv.slice(2);
if (!upstream || (mode !== 'dispatch' && mode !== 'request')) {
  console.error('usage: node bare-proxy-child.mjs <upstream url> [max lifetime s] [dispatch|request]');
  process.exit(64);
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
]);
const stats = { calls: 0, completed: 0, upstreamErrors: 0, clientAborts: 0 };

const origin = new URL(upstream);
const basePath = origin.pathname.replace(/\/$/, '');
const pool = new Pool(origin.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

function requestHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'host' || lower === 'expect' || HOP_BY_HOP.has(lower)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function responseHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1].toString('latin1'));
  }
  return out;
}

function options(request) {
  const length = request.headers['content-length'];
  const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return {
    path: basePath + request.url,
    method: request.method,
    headers: requestHeaders(request.rawHeaders),
    body: hasBody ? request : null,
  };
}

function badGateway(response) {
  stats.upstreamErrors++;
  if (response.headersSent) response.destroy();
  else response.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
}

function viaDispatch(request, response) {
  let abort = null;
  let done = false;
  let resume = null;
  let clientGone = false;
  response.once('close', () => {
    if (done) return;
    clientGone = true;
    abort?.(new Error('client went away'));
  });
  pool.dispatch(options(request), {
    onConnect(abortFn) {
      abort = abortFn;
    },
    onHeaders(statusCode, rawHeaders, resumeFn) {
      resume = resumeFn;
      response.writeHead(statusCode, responseHeaders(rawHeaders));
      return true;
    },
    onData(chunk) {
      const flowing = response.write(chunk);
      if (!flowing) response.once('drain', resume);
      return flowing;
    },
    onComplete() {
      done = true;
      stats.completed++;
      response.end();
    },
    onError() {
      done = true;
      if (clientGone) {
        stats.clientAborts++;
        return;
      }
      badGateway(response);
    },
    onResponseStarted() {},
    onUpgrade() {},
    onBodySent() {},
  });
}

function viaRequest(request, response) {
  const signal = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) signal.abort();
  });
  pool.request({ ...options(request), signal: signal.signal }).then(
    (answer) => {
      const headers = [];
      for (const [name, value] of Object.entries(answer.headers)) {
        if (HOP_BY_HOP.has(name) || value === undefined) continue;
        for (const one of Array.isArray(value) ? value : [value]) headers.push(name, one);
      }
      response.writeHead(answer.statusCode, headers);
      answer.body.pipe(response);
      answer.body.once('end', () => stats.completed++);
      answer.body.once('error', () => (signal.signal.aborted ? stats.clientAborts++ : badGateway(response)));
    },
    () => (signal.signal.aborted ? stats.clientAborts++ : badGateway(response)),
  );
}

const forward = mode === 'dispatch' ? viaDispatch : viaRequest;
const server = http.createServer({ keepAliveTimeout: 30_000 }, (request, response) => {
  stats.calls++;
  forward(request, response);
});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});

const lifetime = setTimeout(() => {
  console.error(`bare-proxy-child: still running after ${lifetimeText} s; exiting`);
  process.exit(2);
}, Number(lifetimeText) * 1000);
lifetime.unref();

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    const snapshot = { ...stats };
    server.closeAllConnections();
    await Promise.race([
      Promise.all([new Promise((resolve) => server.close(resolve)), pool.close()]),
      new Promise((resolve) => setTimeout(resolve, 3000)),
    ]);
    process.stdout.write(`${JSON.stringify({ stats: snapshot })}\n`, () => process.exit(0));
  });
}

process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/`, mode })}\n`);

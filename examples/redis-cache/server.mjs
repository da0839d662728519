// A small HTTP service that caches through Redis (ioredis) and stays up when Redis does not:
// examples/redis-cache/resil.yaml drives it while resil slows, cuts and takes down its Redis.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3200 node examples/redis-cache/server.mjs
//
// GET /item/N   → item N of a catalogue of CATALOGUE items (N modulo CATALOGUE, default 200), so that
//                 resil's {{i}} in the URL revisits items; 200 {"id","value","source"}: source 'cache'
//                 (a hit), 'origin' (a miss, then stored in Redis for 60 s without waiting for it) or
//                 'fallback' (Redis failed or was slower than CACHE_TIMEOUT_MS: the answer comes from
//                 the origin and Redis is left alone).
// GET /health   → 200 {"ok":true,"redis":STATUS}
// GET /stats    → 200 {"hits","misses","fallbacks"}
// The "origin" is a computation that takes ORIGIN_MS (default 20 ms), standing in for a database.
// Environment: REDIS_URL (default redis://127.0.0.1:6379), PORT (default 3200), CACHE_TIMEOUT_MS
// (default 100: a cache slower than this is a miss), ORIGIN_MS, CATALOGUE. Listens on 127.0.0.1 only.
import http from 'node:http';
import { Redis } from 'ioredis';

const port = wholeNumber('PORT', 3200);
const cacheTimeoutMs = wholeNumber('CACHE_TIMEOUT_MS', 100);
const originMs = wholeNumber('ORIGIN_MS', 20);
const catalogue = Math.max(1, wholeNumber('CATALOGUE', 200));
const ttlS = 60;

const cache = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  commandTimeout: cacheTimeoutMs, // a slow cache is a miss, not a slow answer
  connectTimeout: 1000,
  maxRetriesPerRequest: 0, // a failed command is not retried: the request falls back at once
  enableOfflineQueue: false, // while Redis is away, commands fail at once instead of queueing
  autoResendUnfulfilledCommands: false,
  retryStrategy: () => 200, // reconnect 200 ms after every loss, for ever
  disableClientInfo: true,
});
cache.on('error', () => {}); // each request counts its own failure; reconnecting is ioredis's job

const counts = { hits: 0, misses: 0, fallbacks: 0 };

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const item = /^\/item\/(\d{1,15})$/.exec(url.pathname);
  if (item) return answer(response, 200, await lookUp(String(Number(item[1]) % catalogue)));
  if (url.pathname === '/health') return answer(response, 200, { ok: true, redis: cache.status });
  if (url.pathname === '/stats') return answer(response, 200, counts);
  answer(response, 404, { error: 'not found' });
});

/** The cached value, or the origin's when it is not there or Redis fails. */
async function lookUp(id) {
  let cached;
  try {
    cached = await cache.get(`item:${id}`);
  } catch {
    counts.fallbacks++;
    return { id, value: await origin(id), source: 'fallback' };
  }
  if (cached !== null) {
    counts.hits++;
    return { id, value: cached, source: 'cache' };
  }
  counts.misses++;
  const value = await origin(id);
  cache.set(`item:${id}`, value, 'EX', ttlS).catch(() => {}); // best effort: the answer does not wait
  return { id, value, source: 'origin' };
}

function origin(id) {
  return new Promise((resolve) => setTimeout(() => resolve(`value of ${id}`), originMs));
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function wholeNumber(variable, fallback) {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${variable} must be a whole number, not "${text}"`);
    process.exit(2);
  }
  return value;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cache.disconnect();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
server.listen(port, '127.0.0.1', () =>
  console.log(`redis-cache listening on http://127.0.0.1:${port}, Redis at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}`),
);

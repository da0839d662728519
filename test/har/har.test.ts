import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/errors.js';
import type { RecordedExchange, ReplayEntry } from '../../src/har/har.js';
import { ReplayMatcher } from '../../src/har/matcher.js';
import { readHar } from '../../src/har/reader.js';
import { HarWriter } from '../../src/har/writer.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/har/', import.meta.url));
const SECRET = 'sk-live-PLANTED-9b1e4d7a';

function exchange(overrides: Partial<RecordedExchange> = {}): RecordedExchange {
  return {
    startedDateTime: new Date('2025-01-02T03:04:05.678Z'),
    method: 'POST',
    path: '/v1/chat?stream=1',
    requestHeaders: [
      ['Content-Type', 'application/json'],
      ['Accept', 'text/event-stream'],
    ],
    requestBody: Buffer.from('{"model":"m","messages":[]}'),
    status: 200,
    statusText: 'OK',
    responseHeaders: [['Content-Type', 'text/event-stream']],
    responseBody: Buffer.from('data: a\n\ndata: b\n\n'),
    waitMs: 120,
    totalMs: 450,
    chunks: [
      { atMs: 0, bytes: 9 },
      { atMs: 300, bytes: 9 },
    ],
    ...overrides,
  };
}

/** Structural HAR 1.2 check of the fields the spec marks required; returns the problems found. */
function harProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const nameValues = (v: unknown, what: string) => {
    need(Array.isArray(v), `${what} array`);
    if (Array.isArray(v)) {
      for (const [i, p] of v.entries())
        need(isObj(p) && typeof p.name === 'string' && typeof p.value === 'string', `${what}[${i}] name/value`);
    }
  };
  if (!isObj(doc) || !isObj(doc.log)) return ['log'];
  const log = doc.log;
  need(log.version === '1.2', 'log.version 1.2');
  need(isObj(log.creator) && typeof log.creator.name === 'string' && typeof log.creator.version === 'string', 'log.creator');
  need(Array.isArray(log.entries), 'log.entries');
  (Array.isArray(log.entries) ? log.entries : []).forEach((e: any, i: number) => {
    const at = `entries[${i}]`;
    need(
      typeof e.startedDateTime === 'string' &&
        !Number.isNaN(Date.parse(e.startedDateTime)) &&
        /T.*(Z|[+-]\d\d:\d\d)$/.test(e.startedDateTime),
      `${at}.startedDateTime ISO 8601`,
    );
    need(typeof e.time === 'number' && e.time >= 0, `${at}.time`);
    const rq = e.request;
    need(isObj(rq), `${at}.request`);
    if (isObj(rq)) {
      need(typeof rq.method === 'string', `${at}.request.method`);
      need(
        typeof rq.url === 'string' && /^https?:\/\//.test(rq.url) && !Number.isNaN(new URL(rq.url).href.length),
        `${at}.request.url absolute`,
      );
      need(typeof rq.httpVersion === 'string', `${at}.request.httpVersion`);
      nameValues(rq.cookies, `${at}.request.cookies`);
      nameValues(rq.headers, `${at}.request.headers`);
      nameValues(rq.queryString, `${at}.request.queryString`);
      if (rq.postData !== undefined)
        need(typeof rq.postData.mimeType === 'string' && typeof rq.postData.text === 'string', `${at}.request.postData`);
      need(typeof rq.headersSize === 'number', `${at}.request.headersSize`);
      need(typeof rq.bodySize === 'number', `${at}.request.bodySize`);
    }
    const rs = e.response;
    need(isObj(rs), `${at}.response`);
    if (isObj(rs)) {
      need(typeof rs.status === 'number', `${at}.response.status`);
      need(typeof rs.statusText === 'string', `${at}.response.statusText`);
      need(typeof rs.httpVersion === 'string', `${at}.response.httpVersion`);
      nameValues(rs.cookies, `${at}.response.cookies`);
      nameValues(rs.headers, `${at}.response.headers`);
      need(isObj(rs.content) && typeof rs.content.size === 'number' && typeof rs.content.mimeType === 'string', `${at}.response.content`);
      need(typeof rs.redirectURL === 'string', `${at}.response.redirectURL`);
      need(typeof rs.headersSize === 'number', `${at}.response.headersSize`);
      need(typeof rs.bodySize === 'number', `${at}.response.bodySize`);
    }
    need(isObj(e.cache), `${at}.cache`);
    const t = e.timings;
    need(isObj(t) && [t.send, t.wait, t.receive].every((n) => typeof n === 'number' && n >= -1), `${at}.timings send/wait/receive`);
    if (isObj(t)) need(Math.abs(t.send + t.wait + t.receive - e.time) < 1e-6, `${at}.time = sum of timings`);
    for (const key of Object.keys(e)) {
      need(
        [
          'startedDateTime',
          'time',
          'request',
          'response',
          'cache',
          'timings',
          'pageref',
          'serverIPAddress',
          'connection',
          'comment',
        ].includes(key) || key.startsWith('_'),
        `${at}.${key} is not a HAR field`,
      );
    }
  });
  return problems;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'resil-har-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

describe('HarWriter', () => {
  it('writes a valid HAR 1.2 with zero entries on open, then one more entry per add', () => {
    const path = join(dir, 'nested', 'rec.har');
    const writer = HarWriter.open(path);
    expect(writer.count).toBe(0);
    const empty = readJson(path);
    expect(harProblems(empty)).toEqual([]);
    expect(empty.log.entries).toEqual([]);
    expect(empty.log.creator.name).toBe('resil');
    expect(empty.log.creator.version).toMatch(/^\d+\.\d+\.\d+/);

    const entry = exchange();
    writer.add(entry);
    writer.add(exchange({ method: 'GET', path: '/health', requestBody: Buffer.alloc(0), chunks: [] }));
    writer.close();
    expect(writer.count).toBe(2);
    const doc = readJson(path);
    expect(harProblems(doc)).toEqual([]);
    expect(doc.log.entries).toHaveLength(2);
    const [first, second] = doc.log.entries;
    expect(first.startedDateTime).toBe('2025-01-02T03:04:05.678Z');
    expect(first.time).toBe(450);
    expect(first.timings).toEqual({ send: 0, wait: 120, receive: 330 });
    expect(first.request).toMatchObject({
      method: 'POST',
      url: 'http://upstream/v1/chat?stream=1',
      httpVersion: 'HTTP/1.1',
      queryString: [{ name: 'stream', value: '1' }],
      postData: { mimeType: 'application/json', text: '{"model":"m","messages":[]}' },
      headersSize: -1,
      bodySize: 27,
    });
    expect(first.request.headers).toEqual([
      { name: 'Content-Type', value: 'application/json' },
      { name: 'Accept', value: 'text/event-stream' },
    ]);
    expect(first.response).toMatchObject({
      status: 200,
      statusText: 'OK',
      content: { size: 18, mimeType: 'text/event-stream', text: 'data: a\n\ndata: b\n\n' },
      redirectURL: '',
      headersSize: -1,
      bodySize: 18,
    });
    expect(first.response.content.encoding).toBeUndefined();
    expect(first._resil).toEqual({
      chunks: [
        { atMs: 0, bytes: 9 },
        { atMs: 300, bytes: 9 },
      ],
    });
    expect(second.request.postData).toBeUndefined();
    expect(second.request.queryString).toEqual([]);
    expect(() => writer.add(exchange())).toThrow(/closed/);
  });

  it('is incremental and atomic: after every add the file is a valid HAR of exactly that many entries and no .tmp is left', () => {
    const path = join(dir, 'rec.har');
    const writer = HarWriter.open(path);
    for (let n = 1; n <= 25; n++) {
      writer.add(
        exchange({
          path: `/v1/item/${n}?page=${n}`,
          responseBody: Buffer.from(`body ${n}`),
          chunks: [{ atMs: 0, bytes: `body ${n}`.length }],
        }),
      );
      // What a crash right now would leave behind:
      expect(existsSync(`${path}.tmp`)).toBe(false);
      const doc = readJson(path);
      expect(doc.log.entries).toHaveLength(n);
      expect(harProblems(doc)).toEqual([]);
      expect(readHar(path)).toHaveLength(n);
      expect(writer.count).toBe(n);
    }
    writer.close();
    expect(readHar(path).map((e) => e.path)).toEqual(Array.from({ length: 25 }, (_, i) => `/v1/item/${i + 1}`));
  });

  it('keeps planted secrets out of the file (headers, --redact names, query parameters)', () => {
    const path = join(dir, 'rec.har');
    const writer = HarWriter.open(path, { redact: new Set(['X-Custom-Token']) });
    writer.add(
      exchange({
        path: `/v1/chat?model=m&api_key=${SECRET}&Token=${encodeURIComponent(SECRET)}&access_token=${SECRET}&page=2`,
        requestHeaders: [
          ['Authorization', `Bearer ${SECRET}`],
          ['proxy-authorization', `Basic ${SECRET}`],
          ['Cookie', `session=${SECRET}`],
          ['X-Api-Key', SECRET],
          ['api-key', SECRET],
          ['x-custom-token', SECRET],
          ['Content-Type', 'application/json'],
        ],
        responseHeaders: [
          ['Set-Cookie', `a=${SECRET}`],
          ['set-cookie', `b=${SECRET}`],
          ['Content-Type', 'text/event-stream'],
        ],
      }),
    );
    writer.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('PLANTED');
    const entry = JSON.parse(text).log.entries[0];
    expect(entry.request.url).toBe('http://upstream/v1/chat?model=m&api_key=[redacted]&Token=[redacted]&access_token=[redacted]&page=2');
    expect(entry.request.queryString).toEqual([
      { name: 'model', value: 'm' },
      { name: 'api_key', value: '[redacted]' },
      { name: 'Token', value: '[redacted]' },
      { name: 'access_token', value: '[redacted]' },
      { name: 'page', value: '2' },
    ]);
    // Names are kept so a reader sees what was sent.
    expect(entry.request.headers.map((h: any) => [h.name, h.value])).toEqual([
      ['Authorization', '[redacted]'],
      ['proxy-authorization', '[redacted]'],
      ['Cookie', '[redacted]'],
      ['X-Api-Key', '[redacted]'],
      ['api-key', '[redacted]'],
      ['x-custom-token', '[redacted]'],
      ['Content-Type', 'application/json'],
    ]);
    expect(entry.response.headers.map((h: any) => h.value)).toEqual(['[redacted]', '[redacted]', 'text/event-stream']);
  });

  it('refuses a path it cannot write with a UsageError', () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    expect(() => HarWriter.open(join(file, 'under-a-file.har'))).toThrow(UsageError);
  });
});

describe('readHar', () => {
  it("round-trips the writer's output: bodies byte-identical (binary too), chunks, timings, headers kept", () => {
    const path = join(dir, 'rec.har');
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3, 0x28, 0x7f, 0x1b]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"é":"ü ✓ 😀"}')]);
    const exchanges = [
      exchange(),
      exchange({
        method: 'PUT',
        path: '/upload/a%20b?x=1&x=2&empty=&flag',
        requestHeaders: [['Content-Type', 'application/octet-stream']],
        requestBody: binary,
        status: 503,
        statusText: 'Service Unavailable',
        responseHeaders: [
          ['Content-Type', 'application/octet-stream'],
          ['Content-Encoding', 'gzip'],
          ['X-Dup', '1'],
          ['X-Dup', '2'],
        ],
        responseBody: Buffer.concat([binary, binary]),
        waitMs: 3.5,
        totalMs: 10.25,
        chunks: [
          { atMs: 0, bytes: 4 },
          { atMs: 2.5, bytes: 14 },
        ],
      }),
      exchange({ method: 'GET', path: '/bom', requestBody: Buffer.alloc(0), responseBody: bom, chunks: [{ atMs: 0, bytes: bom.length }] }),
      exchange({
        method: 'DELETE',
        path: '/empty',
        requestBody: Buffer.alloc(0),
        status: 204,
        statusText: 'No Content',
        responseHeaders: [],
        responseBody: Buffer.alloc(0),
        chunks: [],
      }),
    ];
    const writer = HarWriter.open(path);
    for (const x of exchanges) writer.add(x);
    writer.close();

    const doc = readJson(path);
    expect(doc.log.entries[1].request.postData.encoding).toBe('base64');
    expect(doc.log.entries[1].response.content.encoding).toBe('base64');
    expect(doc.log.entries[2].response.content.encoding).toBeUndefined();

    const entries = readHar(path);
    expect(entries).toHaveLength(exchanges.length);
    entries.forEach((entry, i) => {
      const x = exchanges[i]!;
      const q = x.path.indexOf('?');
      expect(entry.method).toBe(x.method);
      expect(entry.path).toBe(q >= 0 ? x.path.slice(0, q) : x.path);
      expect(entry.query).toBe(q >= 0 ? x.path.slice(q + 1) : '');
      expect(entry.requestBody.equals(x.requestBody)).toBe(true);
      expect(entry.responseBody.equals(x.responseBody)).toBe(true);
      expect(entry.status).toBe(x.status);
      expect(entry.statusText).toBe(x.statusText);
      expect(entry.responseHeaders).toEqual(x.responseHeaders);
      expect(entry.waitMs).toBe(x.waitMs);
      expect(entry.chunks).toEqual(x.chunks);
    });
  });

  it('reads a HAR saved by browser devtools: base64 body, no _resil, wait -1, status-0 entries skipped', () => {
    const entries = readHar(join(FIXTURES, 'devtools.har'));
    expect(entries).toHaveLength(2);
    const [models, images] = entries as [ReplayEntry, ReplayEntry];
    expect(models).toMatchObject({
      method: 'GET',
      path: '/v1/models',
      query: 'limit=2&order=desc',
      status: 200,
      statusText: '',
      waitMs: 0,
      chunks: [],
    });
    expect(models.responseBody.toString()).toBe('{"ok":true}');
    expect(models.requestBody.length).toBe(0);
    // content.text is the decoded body: the wire-level headers no longer apply to it.
    expect(models.responseHeaders).toEqual([
      ['content-type', 'application/json'],
      ['x-request-id', 'req_123'],
    ]);
    expect(images).toMatchObject({
      method: 'POST',
      path: '/v1/images',
      query: '',
      status: 201,
      statusText: 'Created',
      waitMs: 40.25,
      chunks: [],
    });
    expect(images.requestBody.toString()).toBe('{"prompt":"cat"}');
    expect(images.responseBody.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]))).toBe(true);
  });

  it('takes the query from queryString when the URL has none, and accepts form params', () => {
    const path = join(dir, 'other.har');
    writeFileSync(
      path,
      JSON.stringify({
        log: {
          version: '1.2',
          creator: { name: 'other', version: '1' },
          entries: [
            {
              startedDateTime: '2024-01-01T00:00:00Z',
              time: 5,
              request: {
                method: 'post',
                url: 'https://x.example/search',
                httpVersion: 'HTTP/1.1',
                cookies: [],
                headers: [],
                queryString: [
                  { name: 'q', value: 'a b' },
                  { name: 'n', value: '1' },
                ],
                postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'k', value: 'v&w' }] },
                headersSize: -1,
                bodySize: -1,
              },
              response: {
                status: 200,
                statusText: 'OK',
                httpVersion: 'HTTP/1.1',
                cookies: [],
                headers: [],
                content: { size: 0, mimeType: 'text/plain' },
                redirectURL: '',
                headersSize: -1,
                bodySize: 0,
              },
              cache: {},
              timings: { send: 0, wait: 4, receive: 1 },
            },
          ],
        },
      }),
    );
    const [entry] = readHar(path);
    expect(entry).toMatchObject({ method: 'POST', path: '/search', query: 'q=a%20b&n=1', waitMs: 4, chunks: [] });
    expect(entry!.requestBody.toString()).toBe('k=v%26w');
    expect(entry!.responseBody.length).toBe(0);
  });

  describe('bad input is a UsageError naming the file, the entry and the field', () => {
    function harWith(mutate: (entry: any) => void): string {
      const path = join(dir, 'bad.har');
      const writer = HarWriter.open(path);
      writer.add(exchange());
      writer.add(exchange());
      writer.close();
      const doc = readJson(path);
      mutate(doc.log.entries[1]);
      writeFileSync(path, JSON.stringify(doc));
      return path;
    }
    const expectUsage = (fn: () => unknown, ...parts: Array<string | RegExp>) => {
      let error: unknown;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      for (const part of parts) expect((error as Error).message).toMatch(part);
    };

    it('missing file, not JSON, no log.entries', () => {
      const missing = join(dir, 'missing.har');
      expectUsage(() => readHar(missing), missing, 'no such file');
      const notJson = join(dir, 'not.har');
      writeFileSync(notJson, '{"log": [');
      expectUsage(() => readHar(notJson), notJson, 'not valid JSON');
      const noEntries = join(dir, 'no-entries.har');
      writeFileSync(noEntries, '{"log":{"version":"1.2"}}');
      expectUsage(() => readHar(noEntries), noEntries, 'log.entries');
    });

    it.each([
      ['status not a number', (e: any) => (e.response.status = 'OK'), 'log.entries[1].response.status: expected a number, got string "OK"'],
      ['status out of range', (e: any) => (e.response.status = 42), 'log.entries[1].response.status: 42 is not an HTTP status'],
      ['no request', (e: any) => delete e.request, 'log.entries[1].request: expected an object, got missing'],
      ['no url', (e: any) => delete e.request.url, 'log.entries[1].request.url: expected a string'],
      ['relative url', (e: any) => (e.request.url = 'v1/chat'), 'log.entries[1].request.url: "v1/chat" is not an absolute URL'],
      ['bad method', (e: any) => (e.request.method = 'GE T'), 'log.entries[1].request.method'],
      [
        'header without value type',
        (e: any) => (e.response.headers[0].value = 5),
        'log.entries[1].response.headers[0].value: expected a string',
      ],
      [
        'bad base64',
        (e: any) => Object.assign(e.response.content, { text: '%%%', encoding: 'base64' }),
        'log.entries[1].response.content.text: not valid base64',
      ],
      [
        'unknown encoding',
        (e: any) => (e.response.content.encoding = 'gzip'),
        'log.entries[1].response.content.encoding: "gzip" is not supported',
      ],
      [
        'chunks do not add up',
        (e: any) => (e._resil.chunks[0].bytes = 1),
        'log.entries[1]._resil.chunks: sizes add up to 10 bytes but the response body has 18',
      ],
      ['negative chunk offset', (e: any) => (e._resil.chunks[1].atMs = -3), 'log.entries[1]._resil.chunks[1].atMs: -3 is negative'],
      ['wait not a number', (e: any) => (e.timings.wait = null), 'log.entries[1].timings.wait: expected a number, got null'],
    ])('%s', (_name, mutate, message) => {
      const path = harWith(mutate);
      expectUsage(() => readHar(path), path, message);
    });
  });
});

function entry(method: string, pathWithQuery: string, body: string | Buffer = '', response = `${method} ${pathWithQuery}`): ReplayEntry {
  const q = pathWithQuery.indexOf('?');
  return {
    method,
    path: q >= 0 ? pathWithQuery.slice(0, q) : pathWithQuery,
    query: q >= 0 ? pathWithQuery.slice(q + 1) : '',
    requestBody: Buffer.isBuffer(body) ? body : Buffer.from(body),
    status: 200,
    statusText: 'OK',
    responseHeaders: [],
    responseBody: Buffer.from(response),
    waitMs: 0,
    chunks: [],
  };
}
const served = (e: ReplayEntry | null) => (e === null ? null : e.responseBody.toString());

describe('ReplayMatcher', () => {
  it('matches on method and path', () => {
    const m = new ReplayMatcher([entry('GET', '/v1/models'), entry('POST', '/v1/chat', 'x'), entry('get', '/v1/lower')]);
    expect(served(m.match('GET', '/v1/models', Buffer.alloc(0)))).toBe('GET /v1/models');
    expect(served(m.match('get', '/v1/models', Buffer.alloc(0)))).toBe('GET /v1/models');
    expect(served(m.match('GET', '/v1/lower', Buffer.alloc(0)))).toBe('get /v1/lower');
    expect(m.match('GET', '/v1/chat', Buffer.from('x'))).toBeNull();
    expect(m.match('POST', '/v1/models', Buffer.alloc(0))).toBeNull();
    expect(m.match('GET', '/v1/models/', Buffer.alloc(0))).toBeNull();
    expect(m.match('GET', '/v1/model', Buffer.alloc(0))).toBeNull();
  });

  it('matches the query regardless of parameter order, but not other values or parameters', () => {
    const m = new ReplayMatcher([
      entry('GET', '/s?a=1&b=2&b=3'),
      entry('GET', '/s?a=9'),
      entry('GET', '/s'),
      entry('GET', '/k?key=[redacted]&q=x'),
    ]);
    expect(served(m.match('GET', '/s?b=2&a=1&b=3', Buffer.alloc(0)))).toBe('GET /s?a=1&b=2&b=3');
    expect(served(m.match('GET', '/s?b=3&b=2&a=%31', Buffer.alloc(0)))).toBe('GET /s?a=1&b=2&b=3');
    expect(served(m.match('GET', '/s?a=9', Buffer.alloc(0)))).toBe('GET /s?a=9');
    expect(served(m.match('GET', '/s', Buffer.alloc(0)))).toBe('GET /s');
    expect(m.match('GET', '/s?a=1&b=2', Buffer.alloc(0))).toBeNull();
    expect(m.match('GET', '/s?a=1&b=2&b=3&c=4', Buffer.alloc(0))).toBeNull();
    expect(m.match('GET', '/s?a=2', Buffer.alloc(0))).toBeNull();
    // A recorded secret was redacted: any live value of it matches.
    expect(served(m.match('GET', `/k?q=x&key=${SECRET}`, Buffer.alloc(0)))).toBe('GET /k?key=[redacted]&q=x');
    expect(m.match('GET', `/k?q=y&key=${SECRET}`, Buffer.alloc(0))).toBeNull();
  });

  it('compares JSON bodies normalised (key order, ignored fields at any depth) and other bodies byte for byte', () => {
    const m = new ReplayMatcher(
      [
        entry('POST', '/v1/chat', '{"model":"a","messages":[{"role":"user","content":"hi","timestamp":1}],"request_id":"r1"}', 'model a'),
        entry('POST', '/v1/chat', '{"model":"b"}', 'model b'),
        entry('POST', '/raw', 'plain text', 'raw'),
        entry('POST', '/bin', Buffer.from([1, 2, 3]), 'bin'),
        entry('POST', '/none', '', 'none'),
      ],
      { ignoreJsonFields: ['timestamp', 'request_id'] },
    );
    const live = '{ "request_id": "r2", "messages": [ { "timestamp": 99, "content": "hi", "role": "user" } ], "model": "a" }';
    expect(served(m.match('POST', '/v1/chat', Buffer.from(live)))).toBe('model a');
    expect(served(m.match('POST', '/v1/chat', Buffer.from('{"model":"b","request_id":"x"}')))).toBe('model b');
    expect(m.match('POST', '/v1/chat', Buffer.from('{"model":"a","messages":[{"role":"user","content":"bye"}]}'))).toBeNull();
    expect(m.match('POST', '/v1/chat', Buffer.from('{"model":"c"}'))).toBeNull();
    expect(m.match('POST', '/v1/chat', Buffer.from('not json'))).toBeNull();
    expect(served(m.match('POST', '/raw', Buffer.from('plain text')))).toBe('raw');
    expect(m.match('POST', '/raw', Buffer.from('plain text '))).toBeNull();
    expect(served(m.match('POST', '/bin', Buffer.from([1, 2, 3])))).toBe('bin');
    expect(m.match('POST', '/bin', Buffer.from([1, 2]))).toBeNull();
    // An empty recorded body matches only an empty body (bodies count except for GET and HEAD).
    expect(served(m.match('POST', '/none', Buffer.alloc(0)))).toBe('none');
    expect(m.match('POST', '/none', Buffer.from('{}'))).toBeNull();

    // Without ignored fields, they count.
    const strict = new ReplayMatcher([entry('POST', '/v1/chat', '{"a":1,"timestamp":1}')]);
    expect(strict.match('POST', '/v1/chat', Buffer.from('{"timestamp":1,"a":1}'))).not.toBeNull();
    expect(strict.match('POST', '/v1/chat', Buffer.from('{"a":1,"timestamp":2}'))).toBeNull();
  });

  it('ignores bodies for GET and HEAD', () => {
    const m = new ReplayMatcher([entry('GET', '/g', 'recorded'), entry('HEAD', '/h')]);
    expect(m.match('GET', '/g', Buffer.from('anything'))).not.toBeNull();
    expect(m.match('GET', '/g', Buffer.alloc(0))).not.toBeNull();
    expect(m.match('HEAD', '/h', Buffer.from('x'))).not.toBeNull();
  });

  it('serves several recordings of the same request in turn, cycling, per request', () => {
    const m = new ReplayMatcher([
      entry('POST', '/v1/chat', '{"n":1}', 'first'),
      entry('GET', '/other', '', 'other'),
      entry('POST', '/v1/chat', '{"n":1}', 'second'),
      entry('POST', '/v1/chat', '{"n":2}', 'two'),
      entry('POST', '/v1/chat', '{"n":1}', 'third'),
    ]);
    const body = Buffer.from('{ "n": 1 }');
    const seq = Array.from({ length: 7 }, () => served(m.match('POST', '/v1/chat', body)));
    expect(seq).toEqual(['first', 'second', 'third', 'first', 'second', 'third', 'first']);
    expect(served(m.match('POST', '/v1/chat', Buffer.from('{"n":2}')))).toBe('two');
    expect(served(m.match('POST', '/v1/chat', Buffer.from('{"n":2}')))).toBe('two');
    expect(served(m.match('GET', '/other', Buffer.alloc(0)))).toBe('other');
  });

  it('nearest: same method first, then the longest common path prefix; null when nothing was recorded', () => {
    expect(new ReplayMatcher([]).nearest('GET', '/x')).toBeNull();
    const m = new ReplayMatcher([
      entry('GET', '/health'),
      entry('POST', '/v1/chat/completions', 'x'),
      entry('POST', '/v1/embeddings', 'x'),
      entry('GET', '/v1/models?limit=1'),
    ]);
    expect(m.nearest('POST', '/v1/chat/completion')).toBe('POST /v1/chat/completions');
    expect(m.nearest('POST', '/v1/embeddings/batch?x=1')).toBe('POST /v1/embeddings');
    expect(m.nearest('GET', '/v1/modelz')).toBe('GET /v1/models');
    expect(m.nearest('get', '/v1/chat/completions')).toBe('GET /v1/models');
    expect(m.nearest('DELETE', '/v1/chat/completions')).toBe('POST /v1/chat/completions');
    expect(m.nearest('PUT', '/')).not.toBeNull();
  });

  it('replays what the writer recorded, end to end', () => {
    const path = join(dir, 'rec.har');
    const writer = HarWriter.open(path);
    writer.add(
      exchange({
        path: `/v1/chat?key=${SECRET}&stream=1`,
        requestBody: Buffer.from('{"a":1,"request_id":"x"}'),
        responseBody: Buffer.from('one'),
        chunks: [],
      }),
    );
    writer.add(
      exchange({
        path: `/v1/chat?key=${SECRET}&stream=1`,
        requestBody: Buffer.from('{"a":1,"request_id":"y"}'),
        responseBody: Buffer.from('two'),
        chunks: [],
      }),
    );
    writer.close();
    const m = new ReplayMatcher(readHar(path), { ignoreJsonFields: ['request_id'] });
    const live = Buffer.from('{"request_id":"z","a":1}');
    expect(served(m.match('POST', `/v1/chat?stream=1&key=other-${SECRET}`, live))).toBe('one');
    expect(served(m.match('POST', `/v1/chat?stream=1&key=${SECRET}`, live))).toBe('two');
    expect(m.match('POST', '/v1/chat?stream=0', live)).toBeNull();
  });
});

import { bodyKey, callHeaders, traceIdOf } from '../../src/behaviour/key.js';
import type { Correlation } from '../../src/behaviour/call.js';

/** The key a call's headers give. */
const headerKey = (raw: readonly string[], correlation: Correlation) => callHeaders(raw, correlation).keyed;

const AUTO = { mode: 'auto' } as const;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('headerKey', () => {
  test('auto: Idempotency-Key first, then X-Request-Id, then the trace id of a traceparent, whatever their order and case', () => {
    const all = ['traceparent', TRACEPARENT, 'X-Request-ID', 'req-1', 'Host', 'x', 'IDEMPOTENCY-KEY', 'idem-1'];
    expect(headerKey(all, AUTO)).toEqual({ key: 'idem-1', source: 'idempotency-key' });
    expect(headerKey(all.slice(0, 6), AUTO)).toEqual({ key: 'req-1', source: 'x-request-id' });
    expect(headerKey(all.slice(0, 2), AUTO)).toEqual({ key: TRACE_ID, source: 'traceparent' });
    expect(headerKey(['Host', 'x', 'Content-Type', 'application/json'], AUTO)).toBeUndefined();
  });

  test('an empty header or an invalid traceparent gives no key', () => {
    expect(headerKey(['x-request-id', '', 'traceparent', '01-abc'], AUTO)).toBeUndefined();
    expect(headerKey(['traceparent', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`], AUTO)).toBeUndefined();
  });

  test('header:NAME reads that header alone; body reads none', () => {
    const raw = ['X-Correlation', 'c-7', 'X-Request-Id', 'req-1'];
    expect(headerKey(raw, { mode: 'header', header: 'x-correlation' })).toEqual({ key: 'c-7', source: 'header' });
    expect(headerKey(raw, { mode: 'header', header: 'X-Other' })).toBeUndefined();
    expect(headerKey(raw, { mode: 'body' })).toBeUndefined();
  });
});

test('traceIdOf: version 00, 32 + 16 + 2 hex, lower-cased; anything else is undefined', () => {
  expect(traceIdOf(TRACEPARENT.toUpperCase())).toBe(TRACE_ID);
  expect(traceIdOf(`00-${TRACE_ID}-00f067aa0ba902b7-0`)).toBeUndefined();
  expect(traceIdOf(`00-${TRACE_ID}-${'0'.repeat(16)}-01`)).toBeUndefined();
  expect(traceIdOf(`ff-${TRACE_ID}-00f067aa0ba902b7-01`)).toBeUndefined();
});

test('idempotencyKey: a non-empty Idempotency-Key, whatever the correlation', () => {
  expect(callHeaders(['idempotency-key', 'k'], AUTO).idempotencyKey).toBe(true);
  expect(callHeaders(['idempotency-key', ''], AUTO).idempotencyKey).toBe(false);
  expect(callHeaders(['x-request-id', 'k'], AUTO).idempotencyKey).toBe(false);
  expect(callHeaders(['X-Corr', 'c', 'Idempotency-Key', 'k'], { mode: 'header', header: 'x-corr' }).idempotencyKey).toBe(true);
});

describe('bodyKey', () => {
  test('JSON is normalised: key order and whitespace do not matter, values do', () => {
    const a = bodyKey('POST', '/pay?x=1', Buffer.from('{"amount": 5, "to": {"b": 2, "a": [1, {"z": 1, "y": 2}]}}'));
    const b = bodyKey('POST', '/pay?x=1', Buffer.from('\n {"to":{"a":[1,{"y":2,"z":1}],"b":2},"amount":5}'));
    expect(a).toBe(b);
    expect(a).toMatch(/^POST \/pay\?x=1 [\w-]{27}$/);
    expect(bodyKey('POST', '/pay?x=1', Buffer.from('{"amount":6,"to":{"a":[1,{"y":2,"z":1}],"b":2}}'))).not.toBe(a);
    expect(bodyKey('POST', '/pay?x=2', Buffer.from('{"amount":5,"to":{"a":[1,{"y":2,"z":1}],"b":2}}'))).not.toBe(a);
    expect(bodyKey('PUT', '/pay?x=1', Buffer.from('{"amount":5,"to":{"a":[1,{"y":2,"z":1}],"b":2}}'))).not.toBe(a);
  });

  test('strings that need escaping, numbers, nulls and nesting normalise the same whatever the layout', () => {
    const a = bodyKey('POST', '/x', Buffer.from('{"q":"say \\"hi\\"\\n","n":[1.5e3,null,true,{}],"e":"\\u00e9"}'));
    const b = bodyKey('POST', '/x', Buffer.from('{ "e": "é", "n": [1500, null, true, {}], "q": "say \\"hi\\"\\n" }'));
    expect(a).toBe(b);
    expect(bodyKey('POST', '/x', Buffer.from('{"q":"say \\"hi\\""}'))).not.toBe(bodyKey('POST', '/x', Buffer.from('{"q":"say hi"}')));
  });

  test('other bodies are hashed as bytes; no body is method and path', () => {
    expect(bodyKey('POST', '/f', Buffer.from('a=1&b=2'))).not.toBe(bodyKey('POST', '/f', Buffer.from('b=2&a=1')));
    expect(bodyKey('POST', '/f', Buffer.from('{not json'))).toBe(bodyKey('POST', '/f', Buffer.from('{not json')));
    // Nested deeper than the serialiser can recurse: hashed as bytes, never a stack overflow in the proxy.
    const deep = Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(bodyKey('POST', '/f', deep)).toMatch(/^POST \/f [\w-]{27}$/);
    expect(bodyKey('GET', '/f', undefined)).toBe('GET /f');
    expect(bodyKey('GET', '/f', Buffer.alloc(0))).toBe('GET /f');
  });
});

import { buildLoadPlan } from '../../src/engine/plan.js';
import { UsageError } from '../../src/errors.js';
import { tryParseDuration } from '../../src/util/duration.js';

const url = 'http://127.0.0.1:8080/';

describe('durations', () => {
  test.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['250us', 0.25],
    ['0', 0],
  ])('%s = %d ms', (text, ms) => expect(tryParseDuration(text)).toBe(ms));
  test.each(['5parsecs', '10', 's', '', '-1s', '1s2'])('%s is not a duration', (text) => expect(tryParseDuration(text)).toBeUndefined());
});

describe('load plan validation', () => {
  const problem = (options: Parameters<typeof buildLoadPlan>[0]) => {
    try {
      buildLoadPlan(options);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error('expected a usage error');
  };

  test.each([
    [{ url: 'not a url' }, /'not a url' is not a URL/],
    [{ url: 'ftp://127.0.0.1/' }, /'ftp:' URLs are not supported/],
    [{ url: '' }, /a target URL is required/],
    [{ url, concurrency: 0 }, /--concurrency: '0' must be a whole number >= 1/],
    [{ url, requests: -5 }, /--requests: '-5'/],
    [{ url, requests: 1.5 }, /--requests: '1.5'/],
    [{ url, duration: '5parsecs' }, /--duration: '5parsecs' is not a duration/],
    [{ url, timeout: '0' }, /--timeout: '0' must be more than zero/],
    [{ url, rate: -1 }, /--rate: '-1' must be a number above 0/],
    [{ url, headers: ['NoColonHere'] }, /--header 'NoColonHere': expected 'Name: value'/],
    [{ url, headers: ['bad name: x'] }, /'bad name' is not a valid header name/],
    [{ url, bodyFile: '/nonexistent/body.json' }, /--body-file '\/nonexistent\/body.json': no such file/],
    // Messages that name their options are whole lines: no flag is put before them.
    [{ url, body: 'a', bodyFile: 'b' }, /^give --body or --body-file, not both$/],
    [
      { url, rate: 10, requests: 10, duration: '1s' },
      /^with --rate give --requests or --duration, not both: the rate fixes one from the other$/,
    ],
    [{ url, workers: 4, concurrency: 2 }, /^--workers 4 is more than --concurrency 2: each worker needs a connection$/],
    [
      { url, rate: 10, concurrency: 20, maxConnections: 10 },
      /^--max-connections 10 is less than --concurrency 20 \(the connections opened at the start\)$/,
    ],
    [
      { url, requests: 5, maxConnections: 10 },
      /^--max-connections bounds the open model \(--rate or stages\); the closed model uses exactly --concurrency connections$/,
    ],
    [
      { url, workers: 2, concurrency: 3, shard: { index: 0, count: 2 } },
      /^--concurrency 3 is less than 4 \(workers × shards\): each needs a connection$/,
    ],
    [
      { url, stages: [{ rate: 1, duration: '1s' }], rate: 5 },
      /^stages fix the rate, the count and the duration: remove --rate \(or the stages\)$/,
    ],
    [{ url, seed: -1 }, /^--seed: '-1' must be a whole number >= 0$/],
    [{ url, headers: ['x-a: b\nc'] }, /^--header x-a: the value contains a line break$/],
    [{ url, expectStatus: '2xx,abc' }, /--expect-status: 'abc'/],
    [{ url, expectJson: ['a..b'] }, /bad path segment/],
    [{ url, body: '{{nope}}' }, /unknown placeholder '\{\{nope\}\}'/],
    [{ url, body: '{{randomInt 5}}' }, /needs two integers/],
    [{ url, thresholds: ['p99<soon'] }, /'soon' is not a duration/],
  ])('%j', (options, message) => expect(problem(options)).toMatch(message));

  test('every problem is listed at once', () => {
    const message = problem({ url: 'ftp://x', concurrency: 0, duration: 'soon', thresholds: ['nope<1'] });
    expect(message.split('; ')).toHaveLength(4);
  });

  test('defaults: closed model, 10 connections, 10 s, default threshold', () => {
    const plan = buildLoadPlan({ url });
    expect(plan).toMatchObject({ model: 'closed', concurrency: 10, durationMs: 10_000, timeoutMs: 10_000, graceMs: 2000 });
    expect(plan.thresholds).toEqual([expect.objectContaining({ source: 'success_rate>=0.95', isDefault: true })]);
    expect(plan.requests).toBeUndefined();
  });

  test('-n alone runs until the count, with no duration', () => {
    expect(buildLoadPlan({ url, requests: 100 })).toMatchObject({ requests: 100, durationMs: undefined });
  });
});

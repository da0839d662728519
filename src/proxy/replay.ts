import type { ServerResponse } from 'node:http';
import { UsageError } from '../errors.js';
import type { UpstreamAnswer } from '../faults/fault.js';
import { HOP_BY_HOP } from './forward.js';
import type { ReplayEntry } from '../har/har.js';
import type { ReplayMatcher } from '../har/matcher.js';

/** `--replay-timing`: the recorded latencies and chunk gaps, none, or scaled ('scale:2' is twice as slow). */
export type ReplayTiming = { scale: number };

export function parseReplayTiming(text: string | undefined): ReplayTiming {
  if (text === undefined || text === 'recorded') return { scale: 1 };
  if (text === 'none') return { scale: 0 };
  const match = /^scale:(\d+(?:\.\d+)?)$/.exec(text);
  if (!match) throw new UsageError(`--replay-timing '${text}': expected recorded, none or scale:FACTOR (e.g. scale:2)`);
  return { scale: Number(match[1]) };
}

/** An answer to play: its status and headers after `waitMs`, then each body chunk at its `atMs` after them. */
export type TimedAnswer = UpstreamAnswer & { waitMs: number };

/** A recording as an answer the faults can reshape: headers without hop-by-hop ones, timings scaled. */
export function answerOf(entry: ReplayEntry, timing: ReplayTiming): TimedAnswer {
  const headers: string[] = [];
  for (const [name, value] of entry.responseHeaders) if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push(name, value);
  return {
    status: entry.status,
    headers,
    body: entry.responseBody,
    chunks:
      entry.chunks.length > 0
        ? entry.chunks.map((c) => ({ atMs: c.atMs * timing.scale, bytes: c.bytes }))
        : [{ atMs: 0, bytes: entry.responseBody.length }],
    waitMs: entry.waitMs * timing.scale,
  };
}

/**
 * Plays a recording back: the status and headers after the recorded wait, then each body chunk at
 * its recorded offset (scaled by --replay-timing), then the end.
 */
export function playAnswer(response: ServerResponse, answer: TimedAnswer, later: (ms: number, fn: () => void) => void): void {
  later(answer.waitMs, () => {
    if (response.destroyed) return;
    response.writeHead(answer.status, answer.headers);
    const chunks = answer.chunks!;
    // A body that starts later (a stream's first event): the headers leave now, as the upstream's did.
    if ((chunks[0]?.atMs ?? 0) > 0) response.flushHeaders();
    // One timer at a time, paced from the start: timers of different lengths armed at once may fire out
    // of order when the event loop runs late, and the last one ended a healthy stream before the others
    // had written. The chunks already due go out in one loop (a timer each cost about 1 ms a chunk).
    const startedAt = performance.now();
    let index = 0;
    let offset = 0;
    const next = (): void => {
      if (response.destroyed) return;
      while (index < chunks.length) {
        const waitMs = startedAt + chunks[index]!.atMs - performance.now();
        if (waitMs > 0) {
          later(waitMs, next);
          return;
        }
        response.write(answer.body.subarray(offset, offset + chunks[index]!.bytes));
        offset += chunks[index]!.bytes;
        index++;
      }
      response.end();
    };
    next();
  });
}

/** The 501 for a request no recording matches: says which recorded request is closest. */
export function answerUnmatched(response: ServerResponse, matcher: ReplayMatcher, method: string, path: string): void {
  const nearest = matcher.nearest(method, path);
  const body = JSON.stringify({
    error: `resil replay: no recording matches ${method} ${path.split('?')[0]}`,
    nearest: nearest ?? null,
  });
  response.writeHead(501, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

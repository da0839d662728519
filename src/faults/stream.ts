import type { FaultCall, UpstreamAnswer } from './fault.js';

/**
 * Sends a replayed answer's body as it was recorded: each chunk at its offset after the headers.
 * Faults use it to keep a stream's shape: `keepBytes` cuts the connection once that many bytes are
 * out (truncate), `minGapMs(bytes)` stretches the gap before a chunk of that size (slow-body).
 * The caller has written the status and headers.
 */
export function sendChunks(
  call: FaultCall,
  answer: UpstreamAnswer,
  options: { keepBytes?: number; minGapMs?: (bytes: number) => number } = {},
): void {
  const { response } = call;
  const chunks = answer.chunks && answer.chunks.length > 0 ? answer.chunks : [{ atMs: 0, bytes: answer.body.length }];
  const keep = options.keepBytes ?? answer.body.length;
  let offset = 0;
  let index = 0;
  const next = (): void => {
    if (response.destroyed) return;
    if (index >= chunks.length || offset >= keep) {
      if (offset >= answer.body.length) response.end();
      else response.socket?.end(); // cut short: close without the rest
      return;
    }
    const chunk = chunks[index++]!;
    const bytes = Math.min(chunk.bytes, keep - offset);
    response.write(answer.body.subarray(offset, offset + bytes));
    offset += bytes;
    const following = chunks[index];
    if (!following || offset >= keep) {
      next();
      return;
    }
    call.later(Math.max(following.atMs - chunk.atMs, options.minGapMs?.(following.bytes) ?? 0), next);
  };
  const first = chunks[0]!;
  call.later(Math.max(first.atMs, options.minGapMs?.(first.bytes) ?? 0), next);
}

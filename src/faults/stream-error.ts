import { UsageError } from '../errors.js';
import { afterEvents, countEvents, isEventStream, splitChunks } from './events.js';
import type { Fault, FaultType } from './fault.js';

/** Without an api: an `error` event whose JSON says what happened. */
const GENERIC_ERROR_EVENT = `event: error\ndata: ${JSON.stringify({ error: { type: 'injected_fault', message: 'resil injected stream error' } })}\n\n`;

/**
 * `stream-error:N`: the answer's first N events (at most all but the last), then an error event when
 * the next one was due, then a clean end of the body: a provider failing mid-answer. With an api the
 * event is the provider's (HttpOps.api), else `event: error` with JSON data. An answer that is no
 * event stream passes unchanged. HTTP only.
 */
export const streamErrorFault: FaultType = {
  type: 'stream-error',
  argument: 'N events before the error',
  create(argument): Fault {
    if (argument === undefined || !/^\d+$/.test(argument)) {
      throw new UsageError(
        `fault 'stream-error:${argument ?? ''}': the argument is the number of events sent before the error (0 or more), e.g. stream-error:3`,
      );
    }
    const keep = Number(argument);
    return {
      name: `stream-error:${keep}`,
      layer: 'http',
      inject(ops) {
        ops.fetchUpstream((answer) => {
          if (!isEventStream(answer)) {
            ops.notApplicable();
            ops.send(answer, {});
            return;
          }
          const cut = afterEvents(answer.body, Math.min(keep, Math.max(0, countEvents(answer.body) - 1)));
          const { before, after } = splitChunks(answer, cut);
          const event = Buffer.from(ops.api?.streamErrorEvent() ?? GENERIC_ERROR_EVENT);
          const dueMs = after[0]?.atMs ?? before.at(-1)?.atMs ?? 0;
          ops.send(
            {
              ...answer,
              body: Buffer.concat([answer.body.subarray(0, cut), event]),
              chunks: [...before, { atMs: dueMs, bytes: event.length }],
            },
            {},
          );
        });
      },
    };
  },
};

import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';
import { sendChunks } from './stream.js';

/** Pieces per second the body is dribbled in (each after one tick, so N bytes take N / rate seconds). */
const TICKS_PER_SECOND = 20;

/** `slow-body:BYTES_PER_S`: the upstream's answer, its body sent at that rate (a replayed stream: its chunk gaps stretched). */
export const slowBodyFault: FaultType = {
  type: 'slow-body',
  argument: 'BYTES_PER_S',
  create(argument): Fault {
    if (argument === undefined || !/^\d+$/.test(argument) || Number(argument) < 1) {
      throw new UsageError(`fault 'slow-body:${argument ?? ''}': the argument is a rate in bytes per second, 1 or more (slow-body:1024)`);
    }
    const bytesPerSecond = Number(argument);
    const piece = Math.max(1, Math.floor(bytesPerSecond / TICKS_PER_SECOND));
    const tickMs = (1000 * piece) / bytesPerSecond;
    return {
      name: `slow-body:${bytesPerSecond}`,
      inject(call) {
        call.fetchUpstream().then(
          (answer) => {
            const { response } = call;
            if (answer.chunks) {
              // A replayed stream keeps its chunks; the gaps stretch so no chunk outruns the rate.
              response.writeHead(answer.status, answer.headers);
              sendChunks(call, answer, { minGapMs: (bytes) => (1000 * bytes) / bytesPerSecond });
              return;
            }
            const headers = answer.headers.slice();
            const hasLength = headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length');
            if (!hasLength) headers.push('content-length', String(answer.body.length));
            response.writeHead(answer.status, headers);
            let offset = 0;
            const sendPiece = () => {
              if (response.destroyed) return;
              const end = Math.min(offset + piece, answer.body.length);
              response.write(answer.body.subarray(offset, end));
              offset = end;
              if (offset >= answer.body.length) response.end();
              else call.later(tickMs, sendPiece);
            };
            call.later(tickMs, sendPiece);
          },
          () => call.request.socket.destroy(),
        );
      },
    };
  },
};

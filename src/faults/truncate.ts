import { UsageError } from '../errors.js';
import type { Fault, FaultType, UpstreamAnswer } from './fault.js';
import { sendChunks } from './stream.js';

/**
 * `truncate:BYTES` (default: half the body) or `truncate:Nevents` (a server-sent-events stream ends
 * after N events): the upstream's status and headers, then only part of the body, then the
 * connection closes; with a Content-Length, curl reports exit 18. A replayed stream keeps its
 * recorded chunking and timing up to the cut: a stream that dies mid-answer.
 */
export const truncateFault: FaultType = {
  type: 'truncate',
  argument: 'BYTES kept (default half), or Nevents',
  create(argument): Fault {
    const events = argument === undefined ? undefined : /^(\d+)events?$/.exec(argument);
    if (argument !== undefined && !events && !/^\d+$/.test(argument)) {
      throw new UsageError(`fault 'truncate:${argument}': the argument is the number of body bytes kept (0 or more), or of events (truncate:3events)`);
    }
    const keepEvents = events ? Number(events[1]) : undefined;
    const keepBytes = argument === undefined || events ? undefined : Number(argument);
    return {
      name: argument === undefined ? 'truncate' : `truncate:${argument}`,
      inject(call) {
        call.fetchUpstream().then(
          (answer) => {
            const whole = answer.body.length;
            const wanted = keepEvents !== undefined ? afterEvents(answer.body, keepEvents) : (keepBytes ?? Math.floor(whole / 2));
            const kept = Math.min(wanted, Math.max(0, whole - 1));
            const { response } = call;
            response.writeHead(answer.status, truncatedHeaders(answer));
            if (answer.chunks) {
              sendChunks(call, answer, { keepBytes: kept });
              return;
            }
            // Write the kept part, then close (FIN) without sending the rest.
            response.write(answer.body.subarray(0, kept));
            response.socket?.end();
          },
          () => call.request.socket.destroy(),
        );
      },
    };
  },
};

/** Bytes up to and including the N-th event of a server-sent-events body (events end with a blank line). */
function afterEvents(body: Buffer, count: number): number {
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf('\n\n', offset);
    if (end === -1) return body.length;
    offset = end + 2;
  }
  return offset;
}

/**
 * The answer's headers announcing the whole body: its full Content-Length, except for a replayed
 * stream that had none (chunked), which stays chunked and simply stops.
 */
function truncatedHeaders(answer: UpstreamAnswer): string[] {
  const out: string[] = [];
  let hadLength = false;
  for (let i = 0; i < answer.headers.length; i += 2) {
    if (answer.headers[i]!.toLowerCase() === 'content-length') hadLength = true;
    else out.push(answer.headers[i]!, answer.headers[i + 1]!);
  }
  if (hadLength || !answer.chunks) out.push('content-length', String(answer.body.length));
  return out;
}

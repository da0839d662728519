import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';

/**
 * `truncate:BYTES` (default: half the body): the upstream's status and headers with its full
 * Content-Length, then only BYTES of the body, then the connection closes; curl reports exit 18.
 */
export const truncateFault: FaultType = {
  type: 'truncate',
  argument: 'BYTES kept (default half)',
  create(argument): Fault {
    if (argument !== undefined && !/^\d+$/.test(argument)) {
      throw new UsageError(`fault 'truncate:${argument}': the argument is the number of body bytes kept (0 or more)`);
    }
    const keep = argument === undefined ? undefined : Number(argument);
    return {
      name: keep === undefined ? 'truncate' : `truncate:${keep}`,
      inject(call) {
        call.fetchUpstream().then(
          (answer) => {
            const kept = Math.min(keep ?? Math.floor(answer.body.length / 2), Math.max(0, answer.body.length - 1));
            const headers = withoutContentLength(answer.headers);
            headers.push('content-length', String(answer.body.length));
            const { response } = call;
            response.writeHead(answer.status, headers);
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

function withoutContentLength(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() !== 'content-length') out.push(headers[i]!, headers[i + 1]!);
  return out;
}

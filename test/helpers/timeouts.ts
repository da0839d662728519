import diagnostics from 'node:diagnostics_channel';
import { cpuWait } from './machine.js';

/** Error codes of a request that ran out of time: resil's own sweep, or undici's timers (its backstop). */
const TIMEOUTS = new Set(['RESIL_REQUEST_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** One timed-out request as the client saw it: ms from dispatch to abort, and the CPU wait in between. */
export interface TimedOut {
  ms: number;
  waitedMs: number;
}

/**
 * Records, from undici's diagnostics channels, every request in this process that times out until the
 * returned function is called (it returns them). A request's life runs from its dispatch, microseconds
 * after resil starts its clock, to its abort: the timeout as the client measured it, which a server
 * sharing the event loop can only see late, by however long the loop took to read the request.
 */
export function recordTimeouts(): () => TimedOut[] {
  const waited = cpuWait();
  // The CPU wait so far, every 20 ms (read at every dispatch, it would cost more than the requests).
  // A request's wait counts from the sample before its dispatch: a little more than its own, never less.
  const samples = [{ at: performance.now(), waited: 0 }];
  const sampler = setInterval(() => samples.push({ at: performance.now(), waited: waited() }), 20);
  const waitedBefore = (at: number) => samples.findLast((sample) => sample.at <= at)!.waited;
  const started = new WeakMap<object, number>();
  const lives: TimedOut[] = [];
  const onCreate = (message: unknown) => started.set((message as { request: object }).request, performance.now());
  const onError = (message: unknown) => {
    const { request, error } = message as { request: object; error: { code?: string } };
    const at = started.get(request);
    if (at !== undefined && TIMEOUTS.has(error.code ?? ''))
      lives.push({ ms: performance.now() - at, waitedMs: waited() - waitedBefore(at) });
  };
  diagnostics.subscribe('undici:request:create', onCreate);
  diagnostics.subscribe('undici:request:error', onError);
  return () => {
    clearInterval(sampler);
    diagnostics.unsubscribe('undici:request:create', onCreate);
    diagnostics.unsubscribe('undici:request:error', onError);
    return lives;
  };
}

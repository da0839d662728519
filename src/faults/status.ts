import { UsageError } from '../errors.js';
import type { Fault, FaultType } from './fault.js';

/**
 * `status:CODE`: answers with that error status instead of calling the upstream. 429 and 503 carry
 * Retry-After; with an api (HttpOps.api) the body and headers are that provider's. HTTP only.
 */
export const statusFault: FaultType = {
  type: 'status',
  argument: 'CODE (400-599)',
  create(argument): Fault {
    const code = Number(argument);
    if (argument === undefined || !/^\d{3}$/.test(argument) || code < 400 || code > 599) {
      throw new UsageError(`fault 'status:${argument ?? ''}': the status must be a code from 400 to 599, e.g. status:503`);
    }
    const body = JSON.stringify({ error: { type: 'injected_fault', status: code, message: `resil injected status ${code}` } });
    return {
      name: `status:${code}`,
      layer: 'http',
      inject(ops) {
        // With an api (--api, a preset mock): the provider's own error JSON and headers.
        const shaped = ops.api?.errorAnswer(code, ops.retryAfterSeconds);
        if (shaped) {
          ops.answer(code, { ...shaped.headers, 'content-length': Buffer.byteLength(shaped.body) }, shaped.body);
          return;
        }
        const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
        if (code === 429 || code === 503) headers['retry-after'] = ops.retryAfterSeconds;
        ops.answer(code, headers, body);
      },
    };
  },
};

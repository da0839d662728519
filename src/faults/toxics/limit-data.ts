import { UsageError } from '../../errors.js';
import type { ToxicType } from './toxic.js';

/** `limit_data`: the connection is closed once `bytes` bytes have gone through this direction. Short form: `limit_data:1024`. */
export const limitDataToxic: ToxicType = {
  type: 'limit_data',
  summary: 'closed after that many bytes',
  argument: 'BYTES',
  attributes: [{ name: 'bytes', unit: 'bytes', default: 0, summary: 'bytes let through before the close' }],
  fromArgument(argument) {
    const bytes = Number(argument);
    if (argument === undefined || !/^\d+$/.test(argument)) {
      throw new UsageError(`fault 'limit_data:${argument ?? ''}': expected a number of bytes (limit_data:1024)`);
    }
    return { bytes };
  },
  stage({ bytes }) {
    let left = bytes!;
    let closed = false;
    return {
      write(chunk, ops, done) {
        if (closed) return done();
        if (chunk.data.length > 0 && left > 0) {
          ops.push(chunk.data.length <= left ? chunk : { data: chunk.data.subarray(0, left), atMs: chunk.atMs });
          left -= Math.min(left, chunk.data.length);
        }
        if (left <= 0) {
          closed = true;
          ops.close();
        }
        done();
      },
      end: (ops) => ops.end(),
    };
  },
};

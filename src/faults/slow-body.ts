import { UsageError } from '../errors.js';
import type { ByteShape, Fault, FaultType } from './fault.js';

/** Pieces per second the body is dribbled in (each after a gap of its size / rate, so N bytes take N / rate seconds). */
const TICKS_PER_SECOND = 20;

/**
 * `slow-body:BYTES_PER_S`: the upstream's answer, its body sent at that rate in pieces of a twentieth
 * of it (a stream too: its chunks are split, and a recorded gap longer than the rate's is kept). Connection-level: a rate on the bytes passed (Toxiproxy's bandwidth).
 */
export const slowBodyFault: FaultType = {
  type: 'slow-body',
  argument: 'BYTES_PER_S',
  create(argument): Fault {
    if (argument === undefined || !/^\d+$/.test(argument) || Number(argument) < 1) {
      throw new UsageError(`fault 'slow-body:${argument ?? ''}': the argument is a rate in bytes per second, 1 or more (slow-body:1024)`);
    }
    const bytesPerSecond = Number(argument);
    const shape: ByteShape = {
      pieceBytes: Math.max(1, Math.floor(bytesPerSecond / TICKS_PER_SECOND)),
      gapMs: (bytes) => (1000 * bytes) / bytesPerSecond,
    };
    return { name: `slow-body:${bytesPerSecond}`, layer: 'connection', inject: (ops) => ops.pass(shape) };
  },
};

import type { Progress } from '../engine/run.js';
import { formatMs } from '../util/format.js';

/**
 * A live one-line progress display on a TTY (stderr): elapsed, done, rate, errors, in flight, thresholds failing so far.
 * Not a TTY: returns undefined, and nothing animated is written.
 */
export function createProgressLine(stream: NodeJS.WriteStream): { update(progress: Progress): void; clear(): void } | undefined {
  if (!stream.isTTY) return undefined;
  let lastTotal = 0;
  let lastElapsed = 0;
  return {
    update(progress) {
      const seconds = (progress.elapsedMs - lastElapsed) / 1000;
      const rate = seconds > 0 ? (progress.total - lastTotal) / seconds : 0;
      lastTotal = progress.total;
      lastElapsed = progress.elapsedMs;
      stream.write(
        `\r\u001b[2K  ${formatMs(progress.elapsedMs)} · ${progress.total.toLocaleString('en-US')} done · ` +
          `${Math.round(rate).toLocaleString('en-US')} req/s · ${progress.failed.toLocaleString('en-US')} errors · ` +
          `${progress.inFlight} in flight` +
          (progress.failing.length > 0 ? ` · failing: ${progress.failing.join(', ')}` : ''),
      );
    },
    clear() {
      stream.write('\r\u001b[2K');
    },
  };
}

import type { Progress } from '../engine/run.js';
import { formatMs } from '../util/format.js';

/**
 * Progress on stderr: on a TTY a live line redrawn in place; elsewhere (CI logs) one plain line every
 * `statusEveryMs` (none at 0), so a run of hours shows it is alive. Each says elapsed, done, rate since
 * the last, errors, in flight, and the thresholds failing so far.
 */
export function createProgressLine(
  stream: NodeJS.WriteStream,
  statusEveryMs = 60_000,
): { update(progress: Progress): void; clear(): void } | undefined {
  if (!stream.isTTY && statusEveryMs <= 0) return undefined;
  let lastTotal = 0;
  let lastElapsed = 0;
  const line = (progress: Progress) => {
    const seconds = (progress.elapsedMs - lastElapsed) / 1000;
    const rate = seconds > 0 ? (progress.total - lastTotal) / seconds : 0;
    lastTotal = progress.total;
    lastElapsed = progress.elapsedMs;
    return (
      `${formatMs(progress.elapsedMs)} · ${progress.total.toLocaleString('en-US')} done · ` +
      `${Math.round(rate).toLocaleString('en-US')} req/s · ${progress.failed.toLocaleString('en-US')} errors · ` +
      `${progress.inFlight} in flight` +
      (progress.failing.length > 0 ? ` · failing: ${progress.failing.join(', ')}` : '')
    );
  };
  if (!stream.isTTY) {
    let nextMs = statusEveryMs;
    return {
      update(progress) {
        // A campaign's next scenario starts its clock again.
        if (progress.elapsedMs < lastElapsed) {
          nextMs = statusEveryMs;
          lastElapsed = lastTotal = 0;
        }
        if (progress.elapsedMs < nextMs) return;
        nextMs = (Math.floor(progress.elapsedMs / statusEveryMs) + 1) * statusEveryMs;
        stream.write(`resil: ${line(progress)}\n`);
      },
      clear() {},
    };
  }
  return {
    update(progress) {
      stream.write(`\r\u001b[2K  ${line(progress)}`);
    },
    clear() {
      stream.write('\r\u001b[2K');
    },
  };
}

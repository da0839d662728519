/** One server-sent event: its `event:` name (absent for plain data events) and its `data:` lines joined with newlines. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * The events of a text/event-stream body, as they complete (a blank line ends one; `\n`, `\r\n` and
 * `\r` all end lines). Comments and events without a `data:` line are skipped, and an unfinished event
 * at the end of the body is dropped, as a browser's EventSource does.
 */
export async function* readEvents(chunks: AsyncIterable<Buffer>): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new TextDecoder();
  let pending = '';
  let name: string | undefined;
  let data: string[] = [];
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    for (;;) {
      const end = /\r\n|\r|\n/.exec(pending);
      // A lone '\r' at the end may be the first half of a '\r\n' still to come.
      if (!end || (end[0] === '\r' && end.index === pending.length - 1)) break;
      const line = pending.slice(0, end.index);
      pending = pending.slice(end.index + end[0].length);
      if (line === '') {
        if (data.length > 0) yield name === undefined ? { data: data.join('\n') } : { event: name, data: data.join('\n') };
        name = undefined;
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') name = value;
    }
  }
}

/** One event as the bytes of a text/event-stream body. */
export function formatEvent(data: string, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
}

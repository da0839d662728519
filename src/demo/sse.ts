/** One server-sent event: its `event:` name (absent for plain data events) and its `data:` lines joined with newlines. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * The longest line, and the most one event's name and data may hold together, in characters (UTF-16
 * code units; 64 KiB of ASCII JSON). A chat-completions chunk is far smaller: a body past it is broken,
 * and without a bound a provider that never ends a line would fill the gateway's memory.
 */
export const MAX_EVENT_CHARS = 64 * 1024;

/** A text/event-stream body with a line or an event longer than MAX_EVENT_CHARS. */
export class SseTooLarge extends Error {
  constructor(what: 'line' | 'event') {
    super(`stream ${what} over ${MAX_EVENT_CHARS / 1024} Ki characters`);
    this.name = 'SseTooLarge';
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** The event being read, line by line. */
class EventBuilder {
  private name: string | undefined;
  private data: string[] = [];
  private size = 0;

  /** Takes one line (without its line end); returns the event a blank line completes, if it has data. */
  line(line: string): SseEvent | undefined {
    if (line === '') {
      const event: SseEvent | undefined = this.data.length === 0 ? undefined : { data: this.data.join('\n') };
      if (event !== undefined && this.name !== undefined) event.event = this.name;
      this.name = undefined;
      this.data = [];
      this.size = 0;
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1);
    if (field === 'data') {
      this.data.push(value);
      this.size += value.length + 1;
    } else if (field === 'event') {
      this.size += value.length - (this.name?.length ?? 0);
      this.name = value;
    }
    if (this.size > MAX_EVENT_CHARS) throw new SseTooLarge('event');
    return undefined;
  }
}

/**
 * The events of a text/event-stream body, as they complete (a blank line ends one; `\n`, `\r\n` and
 * `\r` all end lines). Comments and events without a `data:` line are skipped, and an unfinished event
 * at the end of the body is dropped, as a browser's EventSource does. Each character is looked at once;
 * a line or an event longer than MAX_EVENT_CHARS throws SseTooLarge.
 */
export async function* readEvents(chunks: AsyncIterable<Buffer>): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new TextDecoder();
  const builder = new EventBuilder();
  // The start of a line earlier chunks did not end, in pieces (joined once, when the line ends).
  let partial: string[] = [];
  let partialLength = 0;
  // The previous chunk ended with CR: an LF opening the next one belongs to that line end.
  let skipLf = false;
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    if (skipLf && text.length > 0) {
      if (text.charCodeAt(0) === LF) start = 1;
      skipLf = false;
    }
    for (let i = start; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code !== LF && code !== CR) continue;
      if (partialLength + i - start > MAX_EVENT_CHARS) throw new SseTooLarge('line');
      const line = partialLength === 0 ? text.slice(start, i) : partial.join('') + text.slice(start, i);
      partial = [];
      partialLength = 0;
      if (code === CR) {
        if (i + 1 === text.length) skipLf = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
      const event = builder.line(line);
      if (event !== undefined) yield event;
    }
    if (start < text.length) {
      partial.push(start === 0 ? text : text.slice(start));
      partialLength += text.length - start;
      if (partialLength > MAX_EVENT_CHARS) throw new SseTooLarge('line');
    }
  }
}

/** One event as the bytes of a text/event-stream body. */
export function formatEvent(data: string, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
}

/**
 * Records exchanges to a HAR 1.2 file, incrementally and atomically: after every add() the whole
 * document is written to `${path}.tmp` and renamed over `path`, so a crash at any moment leaves a
 * valid HAR of everything recorded so far. open() writes a HAR with zero entries.
 *
 * Secrets never reach the file: values of secret headers (src/util/redact.ts, plus any name in
 * options.redact) and of token-like query parameters become '[redacted]'.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { REDACTED, isSecretHeader } from '../util/redact.js';
import {
  HAR_ORIGIN,
  RESIL_VERSION,
  decodeQueryComponent,
  encodeBody,
  headerValue,
  rawQueryPairs,
  redactQuery,
  splitPathQuery,
  type HarEntry,
  type HarLog,
  type HarNameValue,
  type RecordedExchange,
} from './har.js';

export class HarWriter {
  private readonly entries: string[] = [];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly redact: ReadonlySet<string>,
  ) {}

  /** Creates (or replaces) the HAR file at `path`, with zero entries. UsageError when it cannot be written. */
  static open(path: string, options: { redact?: ReadonlySet<string> } = {}): HarWriter {
    const redact = new Set([...(options.redact ?? [])].map((name) => name.toLowerCase()));
    const writer = new HarWriter(path, redact);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writer.flush();
    } catch (error) {
      throw new UsageError(`cannot write HAR file ${path}: ${(error as Error).message}`);
    }
    return writer;
  }

  /** Entries written so far. */
  get count(): number {
    return this.entries.length;
  }

  add(exchange: RecordedExchange): void {
    if (this.closed) throw new Error(`HarWriter for ${this.path} is closed`);
    this.entries.push(indent(JSON.stringify(toHarEntry(exchange, this.redact), null, 2), '    '));
    this.flush();
  }

  /** Nothing is buffered (every add() is on disk already); close() only refuses further adds. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    rmSync(`${this.path}.tmp`, { force: true });
  }

  private flush(): void {
    const head: HarLog = { log: { version: '1.2', creator: { name: 'resil', version: RESIL_VERSION }, entries: [] } };
    let text = JSON.stringify(head, null, 2);
    if (this.entries.length > 0) text = text.replace('"entries": []', () => `"entries": [\n${this.entries.join(',\n')}\n    ]`);
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${text}\n`);
    renameSync(tmp, this.path);
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function headerList(headers: ReadonlyArray<readonly [string, string]>, redact: ReadonlySet<string>): HarNameValue[] {
  return headers.map(([name, value]) => ({ name, value: isSecretHeader(name, redact) ? REDACTED : value }));
}

/** One exchange as a HAR entry, secrets redacted. */
export function toHarEntry(x: RecordedExchange, redact: ReadonlySet<string> = new Set()): HarEntry {
  const { path, query: rawQuery } = splitPathQuery(x.path);
  const query = redactQuery(rawQuery);
  const queryString = rawQueryPairs(query).map(([name, value]) => ({
    name: decodeQueryComponent(name),
    value: value === undefined ? '' : value === REDACTED ? REDACTED : decodeQueryComponent(value),
  }));
  const wait = Math.max(0, x.waitMs);
  const total = Math.max(wait, x.totalMs);
  const entry: HarEntry = {
    startedDateTime: x.startedDateTime.toISOString(),
    time: total,
    request: {
      method: x.method,
      url: `${HAR_ORIGIN}${path.startsWith('/') ? '' : '/'}${path}${query === '' ? '' : `?${query}`}`,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: headerList(x.requestHeaders, redact),
      queryString,
      ...(x.requestBody.length > 0
        ? { postData: { mimeType: headerValue(x.requestHeaders, 'content-type') ?? '', ...encodeBody(x.requestBody) } }
        : {}),
      headersSize: -1,
      bodySize: x.requestBody.length,
    },
    response: {
      status: x.status,
      statusText: x.statusText,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: headerList(x.responseHeaders, redact),
      content: {
        size: x.responseBody.length,
        mimeType: headerValue(x.responseHeaders, 'content-type') ?? '',
        ...encodeBody(x.responseBody),
      },
      redirectURL: '',
      headersSize: -1,
      bodySize: x.responseBody.length,
    },
    cache: {},
    timings: { send: 0, wait, receive: total - wait },
    _resil: { chunks: x.chunks.map(({ atMs, bytes }) => ({ atMs, bytes })) },
  };
  return entry;
}

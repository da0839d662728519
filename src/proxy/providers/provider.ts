import type { ProviderApi } from '../../faults/fault.js';

/** The LLM providers whose wire formats the proxy speaks: `--mock PRESET`, `--api NAME`. */
export const PROVIDER_NAMES = ['openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The one check of a provider's name, wherever one is given (--mock, --api, a campaign's preset and api). */
export function isProviderName(text: string): text is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(text);
}

/** What a preset needs of one chat call: the request's fields it echoes or obeys, and the answer's text. */
export interface ChatCall {
  /** The request's `model`, echoed. */
  model: string;
  /** Estimated from the request's messages (a quarter of their JSON's characters, at least 1). */
  inputTokens: number;
  /** The answer's tokens, in order: their count is the answer's output tokens. */
  tokens: readonly string[];
  /** OpenAI's `stream_options.include_usage`: a last chunk carries the usage. */
  includeUsage: boolean;
  /** Numbers the answer's id ('chatcmpl-resil-000001'). */
  serial: number;
  /** Unix seconds. */
  created: number;
}

/** A stream's events: those that open it (sent with the first token), one per token, those that close it (with the last). */
export interface ChatEvents {
  opening: string[];
  perToken: string[];
  closing: string[];
}

/**
 * One provider's chat endpoint as a mock answers it, and its error shapes (ProviderApi). The
 * formats follow each provider's public API reference; src/proxy/mock.ts times the events.
 */
export interface ProviderPreset extends ProviderApi {
  readonly name: ProviderName;
  /** Calls to a path ending so (after any prefix: '/v1') are chat calls: '/chat/completions'. */
  readonly chatPath: string;
  /** The whole answer of a call without `"stream": true`. */
  completion(call: ChatCall): string;
  /** The events of a streamed answer. */
  stream(call: ChatCall): ChatEvents;
  /** The provider's answer to a call it has no endpoint for, or a body it cannot read. */
  refusal(status: 400 | 404, message: string): { headers: Record<string, string | number>; body: string };
}

/** One server-sent event: an optional `event:` name, one `data:` line, a blank line. */
export function sse(data: string, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
}

/** Header values of a rate-limit reset RFC 3339 time this many seconds from now (Anthropic's `*-reset`). */
export function isoIn(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Numbers injected errors' request ids: each answer's differs, as a provider's do ('req_resil_000001'). */
let requestSerial = 0;

/** The next injected error's request id. */
export function nextRequestId(): string {
  return `req_resil_${String(++requestSerial).padStart(6, '0')}`;
}

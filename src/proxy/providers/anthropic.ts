import type { ChatCall, ChatEvents, ProviderPreset } from './provider.js';
import { isoIn, nextRequestId, sse } from './provider.js';

/** Requests and tokens per minute in the rate-limit headers of an injected 429 (figures of a small tier). */
const LIMIT_REQUESTS = 50;
const LIMIT_TOKENS = 40_000;

/**
 * Anthropic's messages (POST /v1/messages): a `message` object, or with `"stream": true` the events
 * message_start, content_block_start, ping, content_block_delta (one per token), content_block_stop,
 * message_delta (with the output usage) and message_stop; errors as
 * `{"type":"error","error":{"type","message"}}` (529 overloaded_error). A 429 carries
 * `anthropic-ratelimit-*`, a 429, 503 or 529 `retry-after`.
 */
export const anthropic: ProviderPreset = {
  name: 'anthropic',
  chatPath: '/messages',

  completion(call) {
    return JSON.stringify({
      ...message(call),
      content: [{ type: 'text', text: call.tokens.join('') }],
      stop_reason: 'end_turn',
      usage: { input_tokens: call.inputTokens, output_tokens: call.tokens.length },
    });
  },

  stream(call): ChatEvents {
    const event = (type: string, fields: object) => sse(JSON.stringify({ type, ...fields }), type);
    return {
      opening: [
        event('message_start', {
          message: { ...message(call), content: [], stop_reason: null, usage: { input_tokens: call.inputTokens, output_tokens: 1 } },
        }),
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        event('ping', {}),
      ],
      perToken: call.tokens.map((text) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
      closing: [
        event('content_block_stop', { index: 0 }),
        event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: call.tokens.length } }),
        event('message_stop', {}),
      ],
    };
  },

  errorAnswer(status, retryAfterSeconds) {
    const requestId = nextRequestId();
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'request-id': requestId };
    if (status === 429 || status === 503 || status === 529) headers['retry-after'] = retryAfterSeconds;
    if (status === 429) {
      const reset = isoIn(retryAfterSeconds);
      headers['anthropic-ratelimit-requests-limit'] = LIMIT_REQUESTS;
      headers['anthropic-ratelimit-requests-remaining'] = 0;
      headers['anthropic-ratelimit-requests-reset'] = reset;
      headers['anthropic-ratelimit-tokens-limit'] = LIMIT_TOKENS;
      headers['anthropic-ratelimit-tokens-remaining'] = LIMIT_TOKENS;
      headers['anthropic-ratelimit-tokens-reset'] = reset;
    }
    const [type, message] = errorKind(status);
    return { headers, body: errorBody(type, message, requestId) };
  },

  streamErrorEvent() {
    return sse(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), 'error');
  },

  refusal(status, message) {
    return {
      headers: { 'content-type': 'application/json' },
      body: errorBody(status === 404 ? 'not_found_error' : 'invalid_request_error', message, nextRequestId()),
    };
  },
};

function message(call: ChatCall) {
  return {
    id: `msg_resil_${String(call.serial).padStart(6, '0')}`,
    type: 'message',
    role: 'assistant',
    model: call.model,
    stop_sequence: null,
  };
}

function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
}

/** The error type Anthropic's API reference lists for the status, and a message. */
function errorKind(status: number): [string, string] {
  switch (status) {
    case 400:
      return ['invalid_request_error', 'resil injected status 400'];
    case 401:
      return ['authentication_error', 'invalid x-api-key'];
    case 403:
      return ['permission_error', 'Your API key does not have permission to use the specified resource.'];
    case 404:
      return ['not_found_error', 'The requested resource could not be found.'];
    case 413:
      return ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'];
    case 429:
      return ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'];
    case 503:
    case 529:
      return ['overloaded_error', 'Overloaded'];
    default:
      return status >= 500 ? ['api_error', 'Internal server error'] : ['invalid_request_error', `resil injected status ${status}`];
  }
}

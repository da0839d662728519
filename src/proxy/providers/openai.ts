import type { ChatCall, ChatEvents, ProviderPreset } from './provider.js';
import { nextRequestId, sse } from './provider.js';

/** Requests and tokens per minute in the rate-limit headers of an injected 429 (figures of a small tier). */
const LIMIT_REQUESTS = 500;
const LIMIT_TOKENS = 200_000;

/**
 * OpenAI's chat completions (POST /v1/chat/completions): a `chat.completion` object, or with
 * `"stream": true` `chat.completion.chunk` data events ending with `data: [DONE]`; errors as
 * `{"error":{"message","type","param","code"}}`. A 429 carries `x-ratelimit-*`, a 429, 503 or 529
 * `retry-after` and `retry-after-ms` (which the official SDKs read first).
 */
export const openai: ProviderPreset = {
  name: 'openai',
  chatPath: '/chat/completions',

  completion(call) {
    return JSON.stringify({
      id: id(call),
      object: 'chat.completion',
      created: call.created,
      model: call.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: call.tokens.join(''), refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: usage(call),
      system_fingerprint: 'fp_resil',
    });
  },

  stream(call): ChatEvents {
    // With include_usage every chunk has `usage: null` and a last chunk, without choices, has the usage.
    const chunk = (choices: unknown[], usageValue?: unknown) =>
      sse(
        JSON.stringify({
          id: id(call),
          object: 'chat.completion.chunk',
          created: call.created,
          model: call.model,
          system_fingerprint: 'fp_resil',
          choices,
          ...(call.includeUsage ? { usage: usageValue ?? null } : {}),
        }),
      );
    const choice = (delta: object, finish: string | null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });
    return {
      opening: [chunk([choice({ role: 'assistant', content: '', refusal: null }, null)])],
      perToken: call.tokens.map((token) => chunk([choice({ content: token }, null)])),
      closing: [chunk([choice({}, 'stop')]), ...(call.includeUsage ? [chunk([], usage(call))] : []), 'data: [DONE]\n\n'],
    };
  },

  errorAnswer(status, retryAfterSeconds) {
    const { type, code, message } = errorKind(status, retryAfterSeconds);
    const headers = errorHeaders(status, retryAfterSeconds);
    return { headers, body: errorBody(message, type, code) };
  },

  streamErrorEvent() {
    return sse(errorBody('The server had an error while processing your request. Sorry about that!', 'server_error', null));
  },

  refusal(_status, message) {
    return { headers: { 'content-type': 'application/json' }, body: errorBody(message, 'invalid_request_error', null) };
  },
};

function id(call: ChatCall): string {
  return `chatcmpl-resil-${String(call.serial).padStart(6, '0')}`;
}

function usage(call: ChatCall) {
  return { prompt_tokens: call.inputTokens, completion_tokens: call.tokens.length, total_tokens: call.inputTokens + call.tokens.length };
}

function errorBody(message: string, type: string, code: string | null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

function errorKind(status: number, retryAfterSeconds: number): { type: string; code: string | null; message: string } {
  if (status === 429) {
    return {
      type: 'requests',
      code: 'rate_limit_exceeded',
      message: `Rate limit reached for requests per min (RPM): Limit ${LIMIT_REQUESTS}. Please try again in ${retryAfterSeconds}s.`,
    };
  }
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' };
  if (status === 503 || status === 529) {
    return { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later.' };
  }
  if (status >= 500) {
    return { type: 'server_error', code: null, message: 'The server had an error while processing your request. Sorry about that!' };
  }
  return { type: 'invalid_request_error', code: null, message: `resil injected status ${status}` };
}

function errorHeaders(status: number, retryAfterSeconds: number): Record<string, string | number> {
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'x-request-id': nextRequestId() };
  if (status === 429 || status === 503 || status === 529) {
    headers['retry-after'] = retryAfterSeconds;
    headers['retry-after-ms'] = retryAfterSeconds * 1000;
  }
  if (status === 429) {
    headers['x-ratelimit-limit-requests'] = LIMIT_REQUESTS;
    headers['x-ratelimit-remaining-requests'] = 0;
    headers['x-ratelimit-reset-requests'] = `${retryAfterSeconds}s`;
    headers['x-ratelimit-limit-tokens'] = LIMIT_TOKENS;
    headers['x-ratelimit-remaining-tokens'] = LIMIT_TOKENS;
    headers['x-ratelimit-reset-tokens'] = '0s';
  }
  return headers;
}

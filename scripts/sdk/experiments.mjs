// What the official LLM SDKs' built-in retries and timeouts do, measured from the outside: each
// experiment points one SDK (its baseURL option) at a resil chaos proxy on 127.0.0.1 whose mock answers
// in the provider's wire format, injects one fault, and reads what the proxy's dependency-side observer
// saw (attempts per request, retry delays, Retry-After followed, time waited on held calls) beside what
// the SDK's caller got. Used by scripts/sdk-report.mjs and test/sdk/*.test.ts; imports resil from dist/
// (run `npm run build` first). Loopback only; every experiment is bounded by its SDK's retries and timeout.

import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { BehaviourObserver } from '../../dist/behaviour/observer.js';
import { measureBehaviour } from '../../dist/behaviour/measure.js';
import { decodeHistogram } from '../../dist/metrics/histogram.js';
import { startChaosProxy } from '../../dist/proxy/proxy.js';

const API_KEY = 'resil-test-key';

/** The version of an installed package, from its package.json. */
function installedVersion(name) {
  const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

// Until the proxy has a stream-error fault, the provider's error event mid-stream comes from a small
// hand-written body served by the generic mock: two events of the provider's stream, then its error
// event (formats from the providers' public API references). Both SDKs parse a stream body as SSE
// whatever its content-type.

/** Events a stream-error experiment lets through before the provider's error event. */
export const EVENTS_BEFORE_ERROR = 2;

const OPENAI_MODEL = 'gpt-4o-mini';
const openaiChunk = (delta) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-resil',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: OPENAI_MODEL,
    choices: [{ index: 0, delta, finish_reason: null }],
  })}\n\n`;
const OPENAI_STREAM_ERROR =
  openaiChunk({ role: 'assistant', content: '' }) +
  openaiChunk({ content: 'Hello' }) +
  `data: ${JSON.stringify({ error: { message: 'The server is overloaded', type: 'server_error', param: null, code: null } })}\n\n`;

const ANTHROPIC_MODEL = 'claude-sonnet-5-5';
const anthropicEvent = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const ANTHROPIC_STREAM_ERROR =
  anthropicEvent('message_start', {
    message: {
      id: 'msg_resil',
      type: 'message',
      role: 'assistant',
      model: ANTHROPIC_MODEL,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 1 },
    },
  }) +
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
  anthropicEvent('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });

/**
 * The two SDKs, each as: its package and installed version, its defaults as the SDK itself holds them
 * (read from a fresh client), the stream-error body, and one call that drains the answer (a stream to its end).
 */
export const SDKS = {
  openai: {
    name: 'openai',
    package: 'openai',
    version: installedVersion('openai'),
    defaults() {
      const client = new OpenAI({ apiKey: API_KEY });
      return { maxRetries: client.maxRetries, timeoutMs: client.timeout };
    },
    streamErrorBody: OPENAI_STREAM_ERROR,
    async call(baseUrl, options, tag) {
      const client = new OpenAI({ apiKey: API_KEY, baseURL: `${baseUrl}/v1`, ...options.client });
      const request = { model: OPENAI_MODEL, messages: [{ role: 'user', content: `resil request ${tag}` }] };
      if (!options.stream) return { events: 0, answer: await client.chat.completions.create(request) };
      return drain(await client.chat.completions.create({ ...request, stream: true }));
    },
  },
  anthropic: {
    name: 'anthropic',
    package: '@anthropic-ai/sdk',
    version: installedVersion('@anthropic-ai/sdk'),
    defaults() {
      const client = new Anthropic({ apiKey: API_KEY });
      return { maxRetries: client.maxRetries, timeoutMs: client.timeout };
    },
    streamErrorBody: ANTHROPIC_STREAM_ERROR,
    async call(baseUrl, options, tag) {
      const client = new Anthropic({ apiKey: API_KEY, baseURL: baseUrl, ...options.client });
      const request = { model: ANTHROPIC_MODEL, max_tokens: 64, messages: [{ role: 'user', content: `resil request ${tag}` }] };
      if (!options.stream) return { events: 0, answer: await client.messages.create(request) };
      return drain(await client.messages.create({ ...request, stream: true }));
    },
  },
};

/** Reads a stream to its end; an error in it is thrown with the events that came before it attached. */
async function drain(stream) {
  let events = 0;
  try {
    for await (const _event of stream) events++;
  } catch (error) {
    throw Object.assign(error, { eventsBeforeError: events });
  }
  return { events };
}

/**
 * One experiment: `requests` calls, one after the other, through a chaos proxy that injects `faults`.
 *   sdk: 'openai' | 'anthropic'
 *   faults: the proxy's fault mix ('status:429'), or none; failureRate defaults to 1 with faults
 *   retryAfter: seconds in the proxy's Retry-After (on 429 and 503)
 *   matchHeader: only calls carrying this header are faulted ('X-Stainless-Retry-Count: 0': first attempts)
 *   body: 'json' or 'stream' (the provider's preset answers, streamed for 'stream'), or 'streamError' (see above)
 *   client: options for the SDK's constructor (maxRetries, timeout in ms)
 * Each request has a body of its own, so the observer (correlate: body; neither SDK sends an
 * Idempotency-Key or request id) tells requests apart and groups the attempts of each.
 */
export async function runExperiment({ sdk, faults, failureRate, retryAfter = 1, matchHeader, body = 'json', client = {}, requests = 1 }) {
  const kit = SDKS[sdk];
  const observer = new BehaviourObserver({ correlate: { mode: 'body' }, longestRetryAfterMs: retryAfter * 1000, series: false });
  const proxy = await startChaosProxy(
    {
      name: kit.name,
      // The provider's preset answers (a quick pace keeps streams short); the error event comes from a hand-written body.
      mock: body === 'streamError' ? { body: kit.streamErrorBody } : { preset: kit.name, tokensPerS: 1000, tokens: 6 },
      seed: 1,
      correlate: 'body',
      retryAfter,
      ...(faults === undefined ? {} : { faults, failureRate: failureRate ?? 1 }),
      ...(matchHeader === undefined ? {} : { matchHeader }),
    },
    { observer },
  );
  observer.addProvider(kit.name, []);
  observer.startClock();
  const outcomes = [];
  try {
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      try {
        const { events } = await kit.call(proxy.url, { stream: body !== 'json', client }, `${sdk}-${i}`);
        outcomes.push({ ok: true, events, elapsedMs: performance.now() - started });
      } catch (error) {
        outcomes.push({
          ok: false,
          error: error.constructor.name,
          status: error.status,
          message: error.message,
          events: error.eventsBeforeError,
          elapsedMs: performance.now() - started,
        });
      }
    }
  } finally {
    proxy.reportOpenCalls();
    await proxy.close();
  }
  const document = observer.document();
  return { sdk, version: kit.version, outcomes, seen: figures(document, kit.name), behaviour: document.providers[kit.name] };
}

/** The observer's figures for one provider (ms; null when the situation never arose). */
function figures(document, provider) {
  const b = document.providers[provider];
  const measure = (name) => measureBehaviour(name, document, provider);
  return {
    calls: b.calls,
    requests: b.requests,
    attempts: b.attempts,
    attemptsMax: measure('attempts_max'),
    retries: b.retries,
    retryDelayMin: measure('retry_delay_min'),
    retryDelayMax: b.retryDelay === null ? null : histogramMaxMs(b.retryDelay),
    backoffGrowth: measure('backoff_growth'),
    retryAfter: { sent: b.retryAfter.sent, followed: b.retryAfter.followed, violations: b.retryAfter.violations },
    timeoutsHeld: b.timeouts.held,
    dependencyTimeout: measure('dependency_timeout'),
    dependencyTimeoutMax: measure('dependency_timeout_max'),
  };
}

function histogramMaxMs(encoded) {
  const histogram = decodeHistogram(encoded);
  try {
    return histogram.maxValue / 1000;
  } finally {
    histogram.destroy();
  }
}

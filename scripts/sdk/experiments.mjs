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

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

/**
 * The two SDKs, each as: its package and installed version, its defaults as the SDK itself holds them
 * (read from a fresh client), and one call that drains the answer (a stream to its end).
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
 *   faults: the proxy's fault mix ('status:429', 'stream-error:2'), provider-shaped; failureRate defaults to 1
 *   retryAfter: seconds in the proxy's Retry-After (on 429 and 503)
 *   matchHeader: only calls carrying this header are faulted ('X-Stainless-Retry-Count: 0': first attempts)
 *   stream: a streaming call (the answer is read to its end)
 *   client: options for the SDK's constructor (maxRetries, timeout in ms)
 * Each request has a body of its own, so the observer (correlate: body; neither SDK sends an
 * Idempotency-Key or request id) tells requests apart and groups the attempts of each.
 */
export async function runExperiment({ sdk, faults, failureRate, retryAfter = 1, matchHeader, stream = false, client = {}, requests = 1 }) {
  const kit = SDKS[sdk];
  const observer = new BehaviourObserver({ correlate: { mode: 'body' }, longestRetryAfterMs: retryAfter * 1000, series: false });
  const proxy = await startChaosProxy(
    {
      name: kit.name,
      // The provider's own answers, errors and stream events (a quick pace keeps streams short).
      mock: { preset: kit.name, tokensPerS: 1000, tokens: 6 },
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
        const { events } = await kit.call(proxy.url, { stream, client }, `${sdk}-${i}`);
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

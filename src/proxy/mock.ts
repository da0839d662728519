import { readFileSync } from 'node:fs';
import type { UpstreamAnswer } from '../faults/fault.js';
import { tryParseDuration } from '../util/duration.js';
import type { OptionProblem } from '../util/option-table.js';
import { PRESETS } from './providers/presets.js';
import { isProviderName, PROVIDER_NAMES, type ChatCall, type ProviderName, type ProviderPreset } from './providers/provider.js';
import type { TimedAnswer } from './replay.js';

/** A built-in healthy dependency: what the proxy answers when it forwards nowhere. */
export interface MockSettings {
  status?: number;
  body?: string;
  /** Read the body from this file. */
  file?: string;
  /** Time before each answer: '20ms', or '10ms~50ms' uniform. */
  latency?: string | number;
  /** Answer as this LLM provider's chat endpoint does (src/proxy/providers) instead of with `body`. */
  preset?: ProviderName;
  /** A preset's pace: tokens per second of a streamed answer (default 50). */
  tokensPerS?: number;
  /** A preset's time from the response headers to the first token: '300ms' (default 0). */
  ttft?: string | number;
  /** Tokens in a preset's answer (default 12). */
  tokens?: number;
}

export interface MockPlan {
  answer: UpstreamAnswer;
  latencyLowMs: number;
  latencySpanMs: number;
  /** A preset answers each call itself (presetAnswer). */
  preset?: PresetPlan;
}

export interface PresetPlan {
  provider: ProviderPreset;
  tokensPerS: number;
  ttftMs: number;
  tokens: number;
}

export const MOCK_DEFAULTS = { tokensPerS: 50, tokens: 12 } as const;

/** Most tokens in a preset's answer: the whole answer is built in memory (12 bytes or so a token, 100+ per streamed event). */
export const MAX_MOCK_TOKENS = 100_000;

/** Longest wait the mock and the faults take (ms): 24 h, well below setTimeout's 2^31-1 ms, past which it fires at once. */
export const MAX_WAIT_MS = 24 * 3_600_000;

/** The settings only a preset reads. */
export const PRESET_ONLY_FIELDS = ['tokensPerS', 'ttft', 'tokens'] as const;

const DEFAULT_BODY = '{"id":"mock-1","object":"completion","result":"Hello from the resil mock provider."}';

/** The mock's answer and latency; each problem goes to `report`, keyed by its field of MOCK_OPTIONS. */
export function buildMockPlan(settings: MockSettings, report: (problem: OptionProblem) => void): MockPlan {
  const status = settings.status ?? 200;
  if (!(Number.isInteger(status) && status >= 100 && status <= 599))
    report({ field: 'status', message: `'${settings.status}' is not a status code` });
  let body = settings.body ?? DEFAULT_BODY;
  if (settings.file !== undefined) {
    try {
      body = readFileSync(settings.file, 'utf8');
    } catch {
      report({ field: 'file', value: settings.file, message: 'cannot be read' });
    }
  }
  let low = 0;
  let high = 0;
  if (settings.latency !== undefined) {
    const [a, b] = String(settings.latency).split('~');
    const parsedLow = typeof settings.latency === 'number' ? settings.latency : tryParseDuration(a ?? '');
    const parsedHigh = b === undefined ? parsedLow : tryParseDuration(b);
    if (parsedLow === undefined || parsedHigh === undefined || parsedHigh < parsedLow) {
      report({ field: 'latency', message: `'${settings.latency}' is not a duration or MIN~MAX range` });
    } else if (parsedHigh > MAX_WAIT_MS) {
      report({ field: 'latency', message: `'${settings.latency}' is longer than 24h` });
    } else {
      low = parsedLow;
      high = parsedHigh;
    }
  }
  if (settings.preset === undefined) {
    for (const field of PRESET_ONLY_FIELDS) {
      if (settings[field] !== undefined) report({ field, message: "sets a preset's answers: give a preset (openai or anthropic)" });
    }
  }
  const preset = settings.preset === undefined ? undefined : presetPlan(settings, report);
  const bytes = Buffer.from(body);
  const contentType = looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
  return {
    answer: { status, headers: ['content-type', contentType, 'content-length', String(bytes.length)], body: bytes },
    latencyLowMs: low,
    latencySpanMs: high - low,
    ...(preset === undefined ? {} : { preset }),
  };
}

function presetPlan(settings: MockSettings, report: (problem: OptionProblem) => void): PresetPlan | undefined {
  const name = settings.preset!;
  const known = isProviderName(name);
  if (!known) report({ field: 'preset', value: name, message: `is no preset (known: ${PROVIDER_NAMES.join(', ')})` });
  // The status stays settable for the generic mock only; a flag's default (200) is no conflict.
  for (const field of ['body', 'file'] as const) {
    if (settings[field] !== undefined) report({ field, message: `a preset (${name}) writes its own answers` });
  }
  if (settings.status !== undefined && settings.status !== 200) {
    report({ field: 'status', message: `a preset (${name}) answers 200; inject errors with --faults status:CODE` });
  }
  const tokensPerS = settings.tokensPerS ?? MOCK_DEFAULTS.tokensPerS;
  const tokensPerSOk = Number.isFinite(tokensPerS) && tokensPerS > 0;
  if (!tokensPerSOk) report({ field: 'tokensPerS', message: `'${settings.tokensPerS}' must be above 0` });
  const tokens = settings.tokens ?? MOCK_DEFAULTS.tokens;
  const tokensOk = Number.isInteger(tokens) && tokens >= 1 && tokens <= MAX_MOCK_TOKENS;
  if (!tokensOk) report({ field: 'tokens', message: `'${settings.tokens}' must be a whole number from 1 to ${MAX_MOCK_TOKENS}` });
  const ttftMs = settings.ttft === undefined ? 0 : typeof settings.ttft === 'number' ? settings.ttft : tryParseDuration(settings.ttft);
  if (ttftMs === undefined || !(ttftMs >= 0)) report({ field: 'ttft', message: `'${settings.ttft}' is not a duration` });
  else if (ttftMs > MAX_WAIT_MS) report({ field: 'ttft', message: `'${settings.ttft}' is longer than 24h` });
  else if (tokensPerSOk && tokensOk && ttftMs + ((tokens - 1) * 1000) / tokensPerS > MAX_WAIT_MS) {
    report({ field: 'tokensPerS', message: `'${tokensPerS}': ${tokens} tokens would take longer than 24h` });
  }
  if (!known) return undefined;
  return { provider: PRESETS[name], tokensPerS, ttftMs: ttftMs ?? 0, tokens };
}

/** The words a preset's answer is made of, one token each; longer answers start over. */
const WORDS = 'Hello from the resil mock provider: every token arrives on time, unless a fault says otherwise.'.split(/(?= )/);

/** Numbers answers across presets: ids stay unique in one process. */
let serial = 0;

/**
 * A preset's answer to one call, after `latencyMs`: its chat endpoint's answer (the request's JSON
 * `model` echoed), or the provider's 404 for any other path, 400 for a body that is no JSON object
 * with a model. Streamed (`"stream": true`): the headers after the latency, the opening events with
 * the first token `ttft` later, a token every 1/tokensPerS s, the closing events with the last.
 * Whole: everything once the last token would have come (latency + ttft + (tokens - 1) / tokensPerS).
 */
export function presetAnswer(plan: PresetPlan, method: string, path: string, body: Buffer, latencyMs: number): TimedAnswer {
  const { provider } = plan;
  const refused = (status: 400 | 404, message: string): TimedAnswer => {
    const { headers, body: text } = provider.refusal(status, message);
    return whole(status, headers, text, latencyMs);
  };
  const route = path.split('?')[0]!.replace(/\/+$/, '');
  if (method !== 'POST' || !route.endsWith(provider.chatPath)) return refused(404, `Invalid URL (${method} ${route})`);
  let request: Record<string, unknown>;
  try {
    request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return refused(400, 'We could not parse the JSON body of your request.');
  }
  if (request === null || typeof request !== 'object' || typeof request.model !== 'string') {
    return refused(400, 'model: Field required');
  }
  const options = request.stream_options as { include_usage?: unknown } | null | undefined;
  const call: ChatCall = {
    model: request.model,
    inputTokens: Math.max(1, Math.ceil(JSON.stringify(request.messages ?? '').length / 4)),
    tokens: Array.from({ length: plan.tokens }, (_, i) => WORDS[i % WORDS.length]!),
    includeUsage: options?.include_usage === true,
    serial: ++serial,
    created: Math.floor(Date.now() / 1000),
  };
  const gapMs = 1000 / plan.tokensPerS;
  const lastTokenMs = plan.ttftMs + (plan.tokens - 1) * gapMs;
  if (request.stream !== true) {
    return whole(200, { 'content-type': 'application/json' }, provider.completion(call), latencyMs + lastTokenMs);
  }
  const { opening, perToken, closing } = provider.stream(call);
  const events = [
    ...opening.map((text) => ({ text, atMs: plan.ttftMs })),
    ...perToken.map((text, i) => ({ text, atMs: plan.ttftMs + i * gapMs })),
    ...closing.map((text) => ({ text, atMs: lastTokenMs })),
  ];
  // Chunked (no Content-Length), one chunk per event: truncate:Nevents, stall and stream-error cut between events.
  return {
    status: 200,
    headers: ['content-type', 'text/event-stream', 'cache-control', 'no-cache'],
    body: Buffer.from(events.map((e) => e.text).join('')),
    chunks: events.map((e) => ({ atMs: e.atMs, bytes: Buffer.byteLength(e.text) })),
    waitMs: latencyMs,
  };
}

function whole(status: number, headers: Record<string, string | number>, text: string, waitMs: number): TimedAnswer {
  const body = Buffer.from(text);
  const flat = Object.entries(headers).flatMap(([name, value]) => [name, String(value)]);
  return { status, headers: [...flat, 'content-length', String(body.length)], body, chunks: [{ atMs: 0, bytes: body.length }], waitMs };
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

import { readFileSync } from 'node:fs';
import type { ProblemList } from '../errors.js';
import type { UpstreamAnswer } from '../faults/fault.js';
import { tryParseDuration } from '../util/duration.js';

/** A built-in healthy dependency: what the proxy answers when it forwards nowhere. */
export interface MockSettings {
  status?: number;
  body?: string;
  /** Read the body from this file. */
  file?: string;
  /** Time before each answer: '20ms', or '10ms~50ms' uniform. */
  latency?: string | number;
}

export interface MockPlan {
  answer: UpstreamAnswer;
  latencyLowMs: number;
  latencySpanMs: number;
}

const DEFAULT_BODY = '{"id":"mock-1","object":"completion","result":"Hello from the resil mock provider."}';

export function buildMockPlan(settings: MockSettings, problems: ProblemList): MockPlan {
  const status = settings.status ?? 200;
  if (!(Number.isInteger(status) && status >= 100 && status <= 599))
    problems.add(`--mock-status: '${settings.status}' is not a status code`);
  let body = settings.body ?? DEFAULT_BODY;
  if (settings.file !== undefined) {
    try {
      body = readFileSync(settings.file, 'utf8');
    } catch {
      problems.add(`--mock-file '${settings.file}': cannot be read`);
    }
  }
  let low = 0;
  let high = 0;
  if (settings.latency !== undefined) {
    const [a, b] = String(settings.latency).split('~');
    const parsedLow = typeof settings.latency === 'number' ? settings.latency : tryParseDuration(a ?? '');
    const parsedHigh = b === undefined ? parsedLow : tryParseDuration(b);
    if (parsedLow === undefined || parsedHigh === undefined || parsedHigh < parsedLow) {
      problems.add(`--mock-latency: '${settings.latency}' is not a duration or MIN~MAX range`);
    } else {
      low = parsedLow;
      high = parsedHigh;
    }
  }
  const bytes = Buffer.from(body);
  const contentType = looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
  return {
    answer: { status, headers: ['content-type', contentType, 'content-length', String(bytes.length)], body: bytes },
    latencyLowMs: low,
    latencySpanMs: high - low,
  };
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

import { readFileSync } from 'node:fs';
import type { UpstreamAnswer } from '../faults/fault.js';
import { tryParseDuration } from '../util/duration.js';
import type { OptionProblem } from '../util/option-table.js';

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

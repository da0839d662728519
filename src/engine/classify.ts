import type { ErrorClass } from '../metrics/outcome.js';

/** Raised by resil itself when a request passes its --timeout. */
export class RequestTimeoutError extends Error {
  readonly code = 'RESIL_REQUEST_TIMEOUT';
}

/** Raised by resil itself when a request is abandoned because the run stopped. */
export class RequestCancelledError extends Error {
  readonly code = 'RESIL_REQUEST_CANCELLED';
}

const TIMEOUT_CODES = new Set([
  'RESIL_REQUEST_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
// 'refused' means no connection could be made at all: refused, unreachable, or a name that does not resolve.
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);
const TLS_CODES = new Set([
  'EPROTO',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** Errors that mean the body was cut short once the status line and headers had arrived. */
const CUT_SHORT_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

/**
 * Maps an error from undici or the socket to the class users see.
 * @param afterHeaders the response's status and headers had arrived before the error
 */
export function classifyError(error: unknown, afterHeaders: boolean): ErrorClass {
  const code = errorCode(error);
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (REFUSED_CODES.has(code)) return 'refused';
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_')) return 'tls';
  if (afterHeaders && CUT_SHORT_CODES.has(code)) return 'body';
  // undici 7's parser errors carry no code: a body cut short at a close shows as "Invalid EOF state".
  if (afterHeaders && (error as Error | null)?.name === 'HTTPParserError' && /Invalid EOF state/.test((error as Error).message))
    return 'body';
  if (RESET_CODES.has(code)) return 'reset';
  if (code === 'UND_ERR_SOCKET') return socketCause(error) === 'ECONNRESET' ? 'reset' : 'closed';
  return 'other';
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** undici's SocketError keeps the socket's own error, when there was one, as `cause`. */
function socketCause(error: unknown): string {
  return errorCode((error as { cause?: unknown }).cause);
}

/**
 * How one request ended (`breaker`: policy mode, every provider's circuit breaker was open). Failures
 * without a usable response get a class; a response whose status was not expected is counted as
 * `status:NNN`. `body`: cut after the headers, or a failed body check; `stream`: a server-sent-events
 * answer cut after at least one data event, or one that carried an error event (src/engine/stream.ts).
 */
export const ERROR_CLASSES = ['timeout', 'reset', 'refused', 'closed', 'body', 'stream', 'tls', 'breaker', 'other'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Index of each class in the recorder's counter array. */
export const ERROR_INDEX: Readonly<Record<ErrorClass, number>> = Object.fromEntries(ERROR_CLASSES.map((name, i) => [name, i])) as Record<
  ErrorClass,
  number
>;

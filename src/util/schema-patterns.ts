// Patterns of the campaign file's JSON Schema (plain ECMAScript), shared by the option tables that
// carry schema fragments and by the campaign loader's messages.

const DURATION_UNIT = '(?:\\d+(?:\\.\\d+)?(?:us|µs|ms|s|m|h))+';
const DURATION_BODY = `(?:0+(?:\\.0+)?|${DURATION_UNIT})`;
/** A duration, as tryParseDuration accepts it (without surrounding blanks). */
export const DURATION_PATTERN = `^${DURATION_BODY}$`;
/** A fault window START..END. */
export const WINDOW_PATTERN = `^${DURATION_BODY}\\.\\.${DURATION_BODY}$`;
/** A mock latency: DURATION or MIN~MAX. */
export const LATENCY_PATTERN = `^${DURATION_BODY}(?:~${DURATION_BODY})?$`;
/** Scenario and provider names. */
export const NAME_PATTERN = '^[A-Za-z0-9_.-]+$';
/** HOST:PORT, [IPv6]:PORT, :PORT or PORT: a first check for editors; parseListen (as for --listen) decides. */
export const LISTEN_PATTERN = '^(?:(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]*):)?\\d{1,5}$';
export const HTTP_URL_PATTERN = '^https?://[^\\s/?#]+\\S*$';
/** A load target: an HTTP(S) URL whose {{placeholders}} may hold spaces ({{randomInt 1 200}}). */
export const TARGET_URL_PATTERN = '^https?://[^\\s/?#{]+(?:[^\\s{]|\\{\\{[^}]*\\}\\})*$';
/** A chaos proxy's upstream: an HTTP(S) URL, or tcp://HOST:PORT for a TCP proxy. */
export const UPSTREAM_URL_PATTERN = '^(?:https?://[^\\s/?#]+\\S*|tcp://[^\\s/?#]+)$';
/** An HTTP header name (token). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** How a chaos proxy correlates attempts (--correlate). */
export const CORRELATE_PATTERN = "^(?:auto|body|off|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";
/** A mock's preset given as a string (`mock: openai`): PROVIDER_NAMES (src/proxy/providers/provider.ts), which a test keeps equal. */
export const MOCK_PRESET_PATTERN = '^(?:openai|anthropic)$';
export const METHOD_PATTERN = '^[A-Za-z]+$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

/** A duration field: the schema's shared definition. */
export const DURATION_REF = '#/definitions/duration';

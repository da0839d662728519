import { abortText, verdictValueText } from './result.js';
import type { ResultDocument, ScenarioResult, ThresholdVerdict } from '../model/result.js';
import { formatCount, formatMs, formatPercentOrNone, NO_DATA } from '../util/format.js';

/**
 * Renders results as JUnit XML, the format CI systems read (GitHub test-report actions, GitLab,
 * Jenkins): one <testsuite> per scenario, one <testcase> per threshold. A missed threshold is a
 * <failure>; every threshold of an interrupted run is an <error> (nothing was proved either way).
 */
export function renderJunit(scenarios: ReadonlyArray<ScenarioResult>): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let timeMs = 0;
  const suites: string[] = [];
  for (const { name, document } of scenarios) {
    const counts = suiteCounts(document);
    tests += counts.tests;
    failures += counts.failures;
    errors += counts.errors;
    timeMs += document.durationMs;
    suites.push(renderSuite(name, document, counts));
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="resil" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds(timeMs)}">\n` +
    suites.join('') +
    '</testsuites>\n'
  );
}

function suiteCounts(document: ResultDocument): { tests: number; failures: number; errors: number } {
  const tests = document.thresholds.length;
  if (document.interrupted) return { tests, failures: 0, errors: tests };
  return { tests, failures: document.thresholds.filter((t) => !t.ok).length, errors: 0 };
}

function renderSuite(name: string, document: ResultDocument, counts: { tests: number; failures: number; errors: number }): string {
  const timestamp = junitTimestamp(document.startedAt);
  const lines: string[] = [];
  lines.push(
    `  <testsuite name="${xml(name)}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="0" ` +
      `time="${seconds(document.durationMs)}"${timestamp === null ? '' : ` timestamp="${timestamp}"`}>`,
  );
  lines.push('    <properties>');
  const properties: Array<[string, string]> = [
    ['target', document.target],
    ['seed', String(document.seed)],
    ['requests', String(document.requests.total)],
    ['cancelled', String(document.requests.cancelled)],
    ['dropped', String(document.requests.dropped ?? 0)],
    ['successRate', document.successRate === null ? '' : String(document.successRate)],
    ['rps', String(document.rps)],
    ...(document.abortedBy ? ([['abortedBy', abortText(document)!]] as Array<[string, string]>) : []),
  ];
  for (const [key, value] of properties) lines.push(`      <property name="${xml(key)}" value="${xml(value)}"/>`);
  lines.push('    </properties>');

  const classname = `resil.${name}`;
  for (const verdict of document.thresholds) {
    const open = `    <testcase classname="${xml(classname)}" name="${xml(verdict.expression)}" time="0.000"`;
    if (document.interrupted) {
      lines.push(`${open}>`);
      lines.push(`      <error message="run interrupted" type="interrupted">${xml(interruptedBody(verdict, document), 'text')}</error>`);
      lines.push('    </testcase>');
    } else if (!verdict.ok) {
      lines.push(`${open}>`);
      const message = `${verdict.expression}: actual ${verdictValueText(verdict)}${verdict.note ? ` (${verdict.note})` : ''}`;
      lines.push(`      <failure message="${xml(message)}" type="threshold">${xml(failureBody(verdict, document), 'text')}</failure>`);
      lines.push('    </testcase>');
    } else {
      lines.push(`${open}/>`);
    }
  }
  // Warnings fail nothing; CI test reports show a suite's output beside its cases.
  const warnings = document.warnings ?? [];
  if (warnings.length > 0) lines.push(`    <system-out>${xml(warnings.map((w) => `warning: ${w}`).join('\n'), 'text')}</system-out>`);
  lines.push('  </testsuite>');
  return `${lines.join('\n')}\n`;
}

function failureBody(verdict: ThresholdVerdict, document: ResultDocument): string {
  return [
    `threshold ${verdict.expression} missed: measured ${verdictValueText(verdict)}`,
    ...(verdict.note ? [verdict.note] : []),
    ...runContext(document),
  ].join('\n');
}

function interruptedBody(verdict: ThresholdVerdict, document: ResultDocument): string {
  return [
    `run interrupted after ${formatMs(document.durationMs)}: partial results, threshold ${verdict.expression} not decided ` +
      `(measured so far ${verdict.formatted})`,
    ...runContext(document),
  ].join('\n');
}

/** The figures a reader wants next to a verdict: volume, success rate, tail latency. */
export function runContext(document: ResultDocument): string[] {
  const { total, ok, failed, cancelled, dropped } = document.requests;
  return [
    `requests: ${formatCount(total)} total, ${formatCount(ok)} ok, ${formatCount(failed)} failed` +
      (cancelled > 0 ? `, ${formatCount(cancelled)} cut unanswered (sent, no answer when the run ended)` : '') +
      (dropped > 0 ? `, ${formatCount(dropped)} dropped (due, never sent)` : ''),
    `success rate: ${formatPercentOrNone(document.successRate)}`,
    `p99: ${document.latencyMs ? formatMs(document.latencyMs.p99) : NO_DATA}`,
    `throughput: ${formatCount(document.rps)} req/s`,
  ];
}

/** Seconds with 3 decimals, as JUnit wants them. */
function seconds(ms: number): string {
  return (Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0).toFixed(3);
}

/** JUnit's timestamp: ISO 8601 local-less form (the schema allows no zone); times are UTC. */
function junitTimestamp(startedAt: string): string | null {
  const time = Date.parse(startedAt);
  return Number.isNaN(time) ? null : new Date(time).toISOString().slice(0, 19);
}

/**
 * Escapes text for an XML attribute or element. Characters XML 1.0 forbids outright (C0 controls
 * other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) cannot even be written as references, so
 * they become U+FFFD; in attributes tab, LF and CR are written as references so they survive
 * attribute-value normalisation (in element text only CR needs one).
 */
export function xml(text: string, context: 'attribute' | 'text' = 'attribute'): string {
  return text.replace(XML_REPLACED, (char) =>
    context === 'text' && (char === '\n' || char === '\t') ? char : (ESCAPES[char] ?? '\uFFFD'),
  );
}

/** What xml() replaces, one alternative a line (the pattern is their sources joined with |). */
const XML_REPLACED = new RegExp(
  [
    /[&<>"'\t\n\r]/.source, // markup characters, tab, LF and CR
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.source, // forbidden in XML 1.0
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.source, // a lone high surrogate
    /(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.source, // a lone low surrogate
  ].join('|'),
  'g',
);

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

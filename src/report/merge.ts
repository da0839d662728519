import { addBehaviour } from '../behaviour/merge.js';
import { UsageError } from '../errors.js';
import { addStats, emptyStats } from '../proxy/stats.js';
import { mergeSnapshots, type RecorderSnapshot } from '../metrics/snapshot.js';
import { parseThreshold, type Threshold } from '../thresholds/parse.js';
import { windowsOfTimeline } from '../thresholds/watch.js';
import { RESULT_SCHEMA, type ChaosFacts, type ResultDocument } from '../model/result.js';
import { connectionsNeeded, measuredFigures } from './result.js';

/**
 * Merges the results of the shards of one run (`--shard i/n` in n processes or machines) into the
 * result of the whole run: counters add, HDR histograms add exactly (per run and per second), the
 * timeline is recomputed, and the thresholds are evaluated on the whole. Shards of different
 * campaigns, duplicate shards and missing shards are refused. The settings are the campaign's, as the
 * first shard ran it: `workers` stays the threads per shard process (a sum read as "8 workers").
 */
export function mergeResults(documents: readonly ResultDocument[]): ResultDocument {
  if (documents.length === 0) throw new UsageError('--merge: no results to merge');
  for (const [i, document] of documents.entries()) {
    if (document.schema !== RESULT_SCHEMA) throw new UsageError(`--merge: result ${i + 1} is not a ${RESULT_SCHEMA} document`);
  }
  const first = documents[0]!;
  const count = first.shard?.count ?? 1;
  for (const document of documents) {
    if (document.fingerprint !== first.fingerprint || (document.shard?.count ?? 1) !== count) {
      throw new UsageError(
        `--merge: these results are not shards of the same campaign ` +
          `(${first.command} ${first.target} vs ${document.command} ${document.target}, or different settings)`,
      );
    }
  }
  const seen = new Set<number>();
  for (const document of documents) {
    const index = document.shard?.index ?? 0;
    if (seen.has(index)) throw new UsageError(`--merge: shard ${index + 1}/${count} is given twice`);
    seen.add(index);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0)
    throw new UsageError(`--merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i + 1}/${count}`).join(', ')} missing`);

  const snapshot = mergeSnapshots(documents.map(snapshotOf));
  // Shards run side by side: the whole run lasts as long as the longest shard.
  const durationMs = Math.max(...documents.map((d) => d.durationMs));
  const thresholds: Threshold[] = first.thresholds.map((verdict) => ({
    ...parseThreshold(verdict.expression),
    ...(verdict.default ? { isDefault: true } : {}),
  }));
  // A shard a threshold stopped stopped the whole run at its time: the earliest such shard says why.
  const abortedBy = documents.flatMap((d) => (d.abortedBy ? [d.abortedBy] : [])).sort((a, b) => a.atMs - b.atMs)[0];
  const windows = windowsOfTimeline(thresholds, snapshot.timeline, durationMs);
  const live = { ...(windows ? { windows } : {}), ...(abortedBy ? { abort: abortedBy } : {}) };
  const figures = measuredFigures(snapshot, durationMs, thresholds, chaosFactsOf(documents), live);
  const merged: ResultDocument = {
    ...first,
    startedAt: documents.map((d) => d.startedAt).sort()[0]!,
    durationMs,
    interrupted: documents.some((d) => d.interrupted),
    ...(abortedBy ? { abortedBy } : {}),
    shard: null,
    mergedShards: count,
    schedule: first.schedule
      ? {
          ...first.schedule,
          scheduled: documents.reduce((sum, d) => sum + d.schedule!.scheduled, 0),
          lateStarts: snapshot.lateStarts,
          // Shards from a resil that did not measure connections: none to add up.
          ...(documents.some((d) => d.schedule?.peakConnections === null)
            ? { peakConnections: null, waitedForConnection: null, connectionsNeeded: null }
            : {
                peakConnections: snapshot.peakConnections,
                waitedForConnection: snapshot.waitedForConnection,
                connectionsNeeded: connectionsNeeded(snapshot, peakRate(first.schedule), figures.serviceTimeMs?.mean ?? null),
              }),
        }
      : null,
    ...figures,
  };
  if (first.policy) {
    const sum = (key: 'attempts' | 'retried' | 'failovers' | 'breakerRejections') =>
      documents.reduce((total, d) => total + (d.policy?.[key] ?? 0), 0);
    merged.policy = {
      ...first.policy,
      attempts: sum('attempts'),
      retried: sum('retried'),
      failovers: sum('failovers'),
      breakerRejections: sum('breakerRejections'),
    };
  }
  return merged;
}

/** The highest scheduled rate of the whole run (requests per second). */
function peakRate(schedule: NonNullable<ResultDocument['schedule']>): number {
  return schedule.stages ? Math.max(...schedule.stages.map((stage) => stage.rate)) : (schedule.rate ?? 0);
}

/** A result document back to the snapshot it was built from (everything needed is in it). */
function snapshotOf(document: ResultDocument): RecorderSnapshot {
  return {
    total: document.requests.total,
    ok: document.requests.ok,
    cancelled: document.requests.cancelled,
    // Results written before these fields existed have none: 0.
    dropped: document.requests.dropped ?? 0,
    lateStarts: document.schedule?.lateStarts ?? 0,
    peakConnections: document.schedule?.peakConnections ?? 0,
    waitedForConnection: document.schedule?.waitedForConnection ?? 0,
    statusCodes: document.statusCodes,
    errors: document.errors,
    latency: document.histograms.latency,
    serviceTime: document.histograms.serviceTime,
    ...(document.streams
      ? {
          streams: {
            streams: document.streams.streams,
            dataEvents: document.streams.dataEvents,
            ttft: document.streams.histograms.ttft,
            eventGap: document.streams.histograms.eventGap,
          },
        }
      : {}),
    timeline: document.timeline.map((second, i) => ({
      t: second.t,
      ...(second.span === undefined ? {} : { span: second.span }),
      requests: second.requests,
      ok: second.ok,
      histogram: document.histograms.timeline[i] ?? null,
    })),
  };
}

/**
 * The proxies' counts of all shards, added per provider; the fault windows of the campaign; the
 * shards' behaviour added (only when every shard has one: a shard from an older resil has none, and a
 * part of the calls would read as all of them).
 */
function chaosFactsOf(documents: readonly ResultDocument[]): ChaosFacts | undefined {
  if (!documents[0]!.faults) return undefined;
  const providers: ChaosFacts['providers'] = {};
  for (const document of documents) {
    for (const [name, stats] of Object.entries(document.faults?.providers ?? {})) {
      addStats((providers[name] ??= { ...emptyStats(), target: stats.target, listen: stats.listen }), stats);
    }
  }
  const windows = (documents[0]!.faultWindows ?? []).map((w) => ({ source: w.window, startMs: w.startMs, endMs: w.endMs }));
  const facts: ChaosFacts = { providers, windows, clientIsSubject: documents[0]!.policy !== undefined };
  if (documents.every((document) => document.behaviour !== undefined)) {
    const [first, ...others] = documents.map((document) => document.behaviour!);
    facts.behaviour = structuredClone(first!);
    for (const behaviour of others) addBehaviour(facts.behaviour, behaviour);
  }
  return facts;
}

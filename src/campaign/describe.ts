import type { PreparedScenario } from './run-campaign.js';
import type { Campaign } from './schema.js';
import { formatMs } from '../util/format.js';
import { redactUrl } from '../util/redact.js';
import type { FaultSettings } from '../proxy/config.js';

/** `resil run --dry-run`: what would run, as text and as JSON. Sends nothing. */
export function describePlan(campaign: Campaign, scenarios: readonly PreparedScenario[]): { text: string; json: unknown } {
  const lines: string[] = [`campaign ${campaign.file}: ${scenarios.length} scenario(s)`];
  const providers = Object.entries(campaign.providers).map(([name, p]) => ({
    name,
    listen: p.listen,
    behind: p.replay
      ? `replay ${p.replay}${p.upstream ? ` (else ${redactUrl(p.upstream)})` : ''}`
      : p.upstream
        ? redactUrl(p.upstream)
        : 'mock',
  }));
  for (const p of providers) lines.push(`  provider ${p.name}: ${p.listen} → ${p.behind}`);
  if (campaign.service)
    lines.push(`  service: ${campaign.service.command}${campaign.service.ready ? ` (ready: ${redactUrl(campaign.service.ready)})` : ''}`);
  const json = scenarios.map((s) => {
    const plan = s.plan;
    const load =
      plan.model === 'open'
        ? `open model, ${plan.arrivals!.steps.map((step) => `${step.rate}/s for ${formatMs(step.durationMs)}`).join(' then ')} ` +
          `(${plan.arrivals!.total} requests), ${plan.concurrency} connections at the start, up to ${plan.maxConnections}`
        : `closed model, ${plan.concurrency} connections, ` +
          (plan.requests !== undefined ? `${plan.requests} requests` : formatMs(plan.durationMs!));
    lines.push(`  ${s.name} (${s.type}): ${plan.method} ${redactUrl(plan.options.url)}`);
    lines.push(`    ${load}`);
    for (const [name, faults] of s.baseFaults) lines.push(`    faults ${name}: ${describeFaults(faults)}`);
    for (const phase of s.phases) {
      for (const [name, faults] of phase.providers)
        lines.push(`    phase at ${formatMs(phase.atMs)} for ${formatMs(phase.forMs)}: ${name} ${describeFaults(faults)}`);
    }
    lines.push(`    thresholds: ${plan.thresholds.map((t) => t.source + (t.isDefault ? ' (default)' : '')).join(', ')}`);
    return {
      name: s.name,
      type: s.type,
      method: plan.method,
      url: redactUrl(plan.options.url),
      model: plan.model,
      concurrency: plan.concurrency,
      maxConnections: plan.model === 'open' ? plan.maxConnections : null,
      requests: plan.model === 'open' ? plan.arrivals!.total : (plan.requests ?? null),
      durationMs: plan.durationMs ?? null,
      faults: Object.fromEntries(s.baseFaults),
      phases: s.phases.map((p) => ({ atMs: p.atMs, forMs: p.forMs, providers: Object.fromEntries(p.providers) })),
      thresholds: plan.thresholds.map((t) => t.source),
    };
  });
  return { text: `${lines.join('\n')}\n`, json: { file: campaign.file, providers, scenarios: json } };
}

function describeFaults(faults: FaultSettings): string {
  const rate = faults.failureRate ?? (faults.faults !== undefined ? 1 : 0);
  const windows = faults.windows?.length ? ` in ${faults.windows.join(', ')}` : '';
  return `${faults.faults ?? 'status:503'} at ${Math.round(rate * 100)}%${windows}`;
}

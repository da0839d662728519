// Top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof`), aggregated by
// callFrame function name + url (anonymous functions also by line), sorted by self time. '(idle)'
// (waiting in the event loop) is left out of the list and of the percentages, which are of busy time.
//
//   node scripts/bench/cpuprofile-top.mjs <file.cpuprofile> [top n, default 25]
//   import { topSelfTime } from './cpuprofile-top.mjs';
//
// Node 20 built-ins only.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** { totalMs, idleMs, busyMs, top: [{ functionName, where, selfMs, selfPercent (of busyMs) }] } for a parsed .cpuprofile. */
export function topSelfTime(profile, n = 25) {
  const { nodes, samples, timeDeltas } = profile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const selfUs = new Map(); // node id → µs
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to sample i.
    const delta = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, delta));
  }
  let totalUs = 0;
  const groups = new Map(); // key → { functionName, where, us }
  for (const [id, us] of selfUs) {
    totalUs += us;
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = functionName || '(anonymous)';
    const anonymous = !functionName && url;
    const where = url ? `${shorten(url)}${anonymous ? `:${lineNumber + 1}` : ''}` : '';
    const key = `${name}\u0000${url}\u0000${anonymous ? lineNumber : ''}`;
    const group = groups.get(key) ?? { functionName: name, where, us: 0 };
    group.us += us;
    groups.set(key, group);
  }
  const idleUs = [...groups.values()].filter((g) => g.functionName === '(idle)' && !g.where).reduce((sum, g) => sum + g.us, 0);
  const busyUs = totalUs - idleUs;
  const top = [...groups.values()]
    .filter((g) => !(g.functionName === '(idle)' && !g.where))
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((g) => ({ functionName: g.functionName, where: g.where, selfMs: g.us / 1000, selfPercent: busyUs ? (100 * g.us) / busyUs : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs: busyUs / 1000, top };
}

function shorten(url) {
  let text = url.replace(/^file:\/\//, '');
  if (text.startsWith(`${repoRoot}/`)) text = text.slice(repoRoot.length + 1);
  return text.replace(/^.*\/node_modules\//, 'node_modules/');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, n = '25'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/bench/cpuprofile-top.mjs <file.cpuprofile> [top n]');
    process.exit(64);
  }
  const { totalMs, busyMs, top } = topSelfTime(JSON.parse(fs.readFileSync(file, 'utf8')), Number(n));
  console.log(`${totalMs.toFixed(0)} ms sampled, ${busyMs.toFixed(0)} ms busy (percentages are of busy time)`);
  for (const t of top)
    console.log(`${t.selfMs.toFixed(1).padStart(9)} ms ${t.selfPercent.toFixed(1).padStart(5)}%  ${t.functionName}  ${t.where}`);
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}

/**
 * The known name a mistyped `text` most likely meant: the nearest by edit distance, if it is within
 * a quarter of that name's length (at least 1). Undefined when nothing is that close.
 */
export function closestName(text: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const distance = editDistance(name, text);
    if (distance <= Math.max(1, Math.floor(name.length / 4)) && distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** "Did you mean": the nearest of a few names to a mistyped one. */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `detcet` is one edit from `detect`,
 * as a typist sees it.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate a mistyped word most likely meant: the nearest within a third of its length (at least one
 * edit), or the only candidate it is a prefix of; undefined when nothing is that close or two are equally close.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const word = input.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  const scored = candidates.map((c) => ({ c, d: editDistance(word, c.toLowerCase()) })).filter((s) => s.d <= limit).sort((x, y) => x.d - y.d);
  if (scored.length > 0) return scored.length === 1 || scored[0]!.d < scored[1]!.d ? scored[0]!.c : undefined;
  const prefixed = word.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(word)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * @module What a partial snapshot leaves out: the expirations whose stream did not complete, and how its
 * contracts split against the active epoch's geometry. Pure.
 */

/**
 * Expirations whose stream did not complete, from the client's partial reasons
 * (`{YYYY-MM-DD}:{failed|page_failed|page_cap|next_url_loop|deadline}`), sorted, each once.
 *
 * @example
 * missingExpirations(['2026-01-09:failed', '2026-01-07:page_cap']); // ['2026-01-07', '2026-01-09']
 */
export function missingExpirations(partialReasons: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of partialReasons) {
    const exp = r.split(':')[0] ?? '';
    if (/^\d{4}-\d{2}-\d{2}$/.test(exp)) out.add(exp);
  }
  return [...out].sort();
}

export interface GeometrySplit<T> {
  /** Fetched contracts that belong to the epoch: written as raw keys and substrates. */
  inside: T[];
  /** Fetched contracts the epoch does not hold: written as raw snapshot keys only. */
  outside: T[];
  /** Contract ids of the epoch this snapshot did not bring: kept as of the last write (TTLs renewed). */
  kept: string[];
}

/** Splits fetched contracts against the ids of the active epoch (its contract index). */
export function splitByGeometry<T>(
  epochIds: readonly string[],
  fetched: readonly T[],
  idOf: (t: T) => string,
): GeometrySplit<T> {
  const inEpoch = new Set(epochIds);
  const seen = new Set<string>();
  const inside: T[] = [];
  const outside: T[] = [];
  for (const t of fetched) {
    const id = idOf(t);
    if (inEpoch.has(id)) {
      inside.push(t);
      seen.add(id);
    } else outside.push(t);
  }
  return { inside, outside, kept: epochIds.filter((id) => !seen.has(id)) };
}

/**
 * @module How old a published model is, judged when it is read, not when it was built: a model whose
 * builder is wedged keeps `"stale": false` in its stored JSON forever, so readers (the API, SSE notes,
 * `/api/symbols`) compute age and staleness from its `as_of` and `CHAIN_STALE_AFTER_SEC` at read time.
 */

/** A model's age at the moment it is read. */
export interface ModelAge {
  /** The snapshot time the model was built from (ISO-8601), as stored. */
  as_of: string | null;
  /** Seconds from `as_of` to now (0.1 s resolution; never negative); null when `as_of` is unknown. */
  age_sec: number | null;
  /** True when the model was built stale (dormant epoch) or `as_of` is older than the threshold now. */
  stale: boolean;
}

/**
 * Age and staleness of a model from its header fields (`as_of` ISO-8601, `stale` as stored).
 *
 * @example
 * modelAge({ as_of: '2026-01-07T15:00:00.000Z', stale: false }, Date.parse('2026-01-07T15:03:00Z'), 120);
 * // { as_of: '2026-01-07T15:00:00.000Z', age_sec: 180, stale: true }
 */
export function modelAge(
  header: { as_of?: unknown; stale?: unknown },
  nowMs: number,
  staleAfterSec: number,
): ModelAge {
  const asOf = typeof header.as_of === 'string' ? header.as_of : null;
  const asOfMs = asOf === null ? Number.NaN : Date.parse(asOf);
  const builtStale = header.stale === true;
  if (!Number.isFinite(asOfMs)) return { as_of: asOf, age_sec: null, stale: builtStale };
  const ageSec = Math.max(0, Math.round((nowMs - asOfMs) / 100) / 10);
  return { as_of: asOf, age_sec: ageSec, stale: builtStale || ageSec > staleAfterSec };
}

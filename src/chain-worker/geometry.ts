/**
 * @module Chain geometry: the set of contract ids. Its hash decides whether a snapshot refreshes the
 * active epoch or promotes a new one. Pure.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Geometry {
  /** Sorted contract ids. */
  ids: string[];
  hash: string;
  strikeCount: number;
  expirationCount: number;
  minStrike: number | null;
  maxStrike: number | null;
}

/** Computes the geometry of a list of contracts. */
export function geometryOf(
  contracts: readonly { ticker: string; strike: number; expiration: string }[],
): Geometry {
  const ids = contracts.map((c) => c.ticker).sort();
  const h = createHash('sha1');
  for (const id of ids) h.update(id).update('\n');
  const strikes = new Set<number>();
  const expirations = new Set<string>();
  let minStrike: number | null = null;
  let maxStrike: number | null = null;
  for (const c of contracts) {
    strikes.add(c.strike);
    expirations.add(c.expiration);
    if (minStrike === null || c.strike < minStrike) minStrike = c.strike;
    if (maxStrike === null || c.strike > maxStrike) maxStrike = c.strike;
  }
  return {
    ids,
    hash: h.digest('hex').slice(0, 16),
    strikeCount: strikes.size,
    expirationCount: expirations.size,
    minStrike,
    maxStrike,
  };
}

/**
 * A new epoch id in the seed's form `{U}:{unix seconds}:{suffix}`, e.g. `SPX:1700000000:k3f9q2`.
 * The 6-character random suffix keeps two promotions in the same second distinct.
 */
export function newEpochId(underlying: string, nowMs: number): string {
  const suffix = randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6);
  return `${underlying}:${Math.floor(nowMs / 1000)}:${suffix}`;
}

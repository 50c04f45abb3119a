/**
 * @module Chain geometry: the set of contract ids. Its hash decides whether a snapshot refreshes the
 * active epoch or promotes a new one; what entered and left when it changes. Pure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseOptionTicker } from '../provider/massive/ticker.js';

export interface Geometry {
  /** Sorted contract ids. */
  ids: string[];
  /** The first 16 hex digits of {@link Geometry.sha1}. */
  hash: string;
  /** SHA-1 (hex) of the sorted ids, each followed by a newline: chain-latest's `tickers_hash` of the same set. */
  sha1: string;
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
  const sha1 = h.digest('hex');
  return {
    ids,
    hash: sha1.slice(0, 16),
    sha1,
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

/** What entered and left between two contract sets (see {@link geometryChange}). */
export interface GeometryDelta {
  expirations: { entered: string[]; left: string[] };
  strikes: { entered: number[]; left: number[] };
  contracts: { entered: number; left: number };
}

/** Expirations and strikes seen in a contract set, and the ids themselves (see {@link addGeometryOf}). */
export interface GeometrySets {
  ids: Set<string>;
  exp: Set<string>;
  strikes: Set<number>;
}

export function emptyGeometrySets(): GeometrySets {
  return { ids: new Set(), exp: new Set(), strikes: new Set() };
}

/** Adds `ids[start..end)` to `into` (the range lets a caller run it in slices). */
export function addGeometryOf(into: GeometrySets, ids: readonly string[], start = 0, end = ids.length): void {
  for (let i = start; i < end; i++) {
    const id = ids[i] as string;
    into.ids.add(id);
    const p = parseOptionTicker(id);
    if (!p) continue;
    into.exp.add(p.expiration);
    into.strikes.add(p.strike);
  }
}

function minus<T>(a: Set<T>, b: Set<T>): T[] {
  const out: T[] = [];
  for (const v of a) if (!b.has(v)) out.push(v);
  return out;
}

/** The change from `a` to `b`, both already gathered (see {@link geometryChange}). */
export function geometryDelta(a: GeometrySets, b: GeometrySets): GeometryDelta {
  let entered = 0;
  let left = 0;
  for (const id of b.ids) if (!a.ids.has(id)) entered++;
  for (const id of a.ids) if (!b.ids.has(id)) left++;
  const byNum = (x: number, y: number): number => x - y;
  return {
    expirations: { entered: minus(b.exp, a.exp).sort(), left: minus(a.exp, b.exp).sort() },
    strikes: {
      entered: minus(b.strikes, a.strikes).sort(byNum),
      left: minus(a.strikes, b.strikes).sort(byNum),
    },
    contracts: { entered, left },
  };
}

/**
 * The geometry change from the contract ids `prev` to `next`: the expirations and strikes present in one
 * and absent from the other (a strike counts as present while any expiration lists it), ascending, and how
 * many contracts entered and left. Ids that are not option tickers count as contracts only.
 */
export function geometryChange(prev: readonly string[], next: readonly string[]): GeometryDelta {
  const a = emptyGeometrySets();
  const b = emptyGeometrySets();
  addGeometryOf(a, prev);
  addGeometryOf(b, next);
  return geometryDelta(a, b);
}

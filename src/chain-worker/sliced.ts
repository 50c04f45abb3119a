/**
 * @module The normalize phase's per-chain work in bounded slices (see lib/slices.ts): normalizing and the
 * geometry of a 20,000-contract symbol took 20–90 ms in one turn of the event loop; in slices of 1,000
 * contracts the longest stretch is about a millisecond, whatever the size of the chain. Same results as
 * normalizeSnapshot and geometryOf (tested side by side).
 */
import { createHash } from 'node:crypto';
import { inSlices, nextTurn, SLICE } from '../lib/slices.js';
import { normalizeSnapshot, type NormalizeOutcome } from '../normalizers/registry.js';
import type { ParsedContract } from '../provider/massive/types.js';
import {
  addGeometryOf,
  emptyGeometrySets,
  geometryDelta,
  type Geometry,
  type GeometryDelta,
} from './geometry.js';

/** {@link normalizeSnapshot}, a slice at a time, the slices' outcomes merged in order. */
export async function normalizeSliced(
  contracts: readonly ParsedContract[],
  ctx: { underlying: string; asOf: number },
  size = SLICE,
): Promise<NormalizeOutcome> {
  const out: NormalizeOutcome = { records: [], rejected: {}, rejectedCount: 0 };
  await inSlices(
    contracts.length,
    (start, end) => {
      const part = normalizeSnapshot(contracts.slice(start, end), ctx);
      for (const r of part.records) out.records.push(r);
      out.rejectedCount += part.rejectedCount;
      addCounts(out.rejected, part.rejected);
    },
    size,
  );
  return out;
}

function addCounts<K extends string>(
  into: Partial<Record<K, number>>,
  from: Partial<Record<K, number>>,
): void {
  for (const [k, n] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + n;
}

/** {@link geometrySliced}'s first pass in progress. */
interface GeometryScan {
  ids: string[];
  strikes: Set<number>;
  expirations: Set<string>;
  minStrike: number | null;
  maxStrike: number | null;
}

/**
 * One slice of {@link geometrySliced}'s first pass. A module-level function, not a closure made per call:
 * a closure's optimized code does not outlive the call, and every cycle compiled the loop again
 * (lib/shape-anchors.ts).
 */
function geometrySlice(
  g: GeometryScan,
  contracts: readonly { ticker: string; strike: number; expiration: string }[],
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const c = contracts[i] as { ticker: string; strike: number; expiration: string };
    g.ids[i] = c.ticker;
    g.strikes.add(c.strike);
    g.expirations.add(c.expiration);
    if (g.minStrike === null || c.strike < g.minStrike) g.minStrike = c.strike;
    if (g.maxStrike === null || c.strike > g.maxStrike) g.maxStrike = c.strike;
  }
}

/**
 * {@link geometryOf} with its loops in slices. The sort stays one call (the fetch order is runs of sorted
 * pages, which the sort merges in about a millisecond per 20,000 ids), and the hash is one update per slice
 * of joined ids: the same bytes, so the same hash, as one update per id.
 */
export async function geometrySliced(
  contracts: readonly { ticker: string; strike: number; expiration: string }[],
  size = SLICE,
): Promise<Geometry> {
  const g: GeometryScan = {
    ids: new Array<string>(contracts.length),
    strikes: new Set<number>(),
    expirations: new Set<string>(),
    minStrike: null,
    maxStrike: null,
  };
  await inSlices(contracts.length, (start, end) => geometrySlice(g, contracts, start, end), size);
  const { ids, strikes, expirations, minStrike, maxStrike } = g;
  await nextTurn();
  ids.sort();
  // The hash a slice of ids at a time (joining and hashing 20,000 ids took ~5 ms in one turn): the same
  // bytes, so the same hash, as one update of every id joined.
  const h = createHash('sha1');
  await inSlices(
    ids.length,
    (start, end) => {
      h.update(`${ids.slice(start, end).join('\n')}\n`);
    },
    size,
  );
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
 * {@link geometryChange} with the parsing in slices: on a 20,000-contract promotion the whole change took
 * ~78 ms in one turn of the event loop (every id of both epochs parsed). Same result (tested side by side).
 */
export async function geometryChangeSliced(
  prev: readonly string[],
  next: readonly string[],
  size = SLICE,
): Promise<GeometryDelta> {
  const a = emptyGeometrySets();
  const b = emptyGeometrySets();
  await inSlices(prev.length, (start, end) => addGeometryOf(a, prev, start, end), size);
  await inSlices(next.length, (start, end) => addGeometryOf(b, next, start, end), size);
  await nextTurn();
  return geometryDelta(a, b);
}

/**
 * @module Builds MarketSwarm's GEX sides, heatmap document and heatmap diffs from an epoch's substrates (as
 * the columns the model thread read from them: models/substrate-columns.ts), on the compat thread of its own (compat-thread.ts), beside our models' thread, so neither our models nor the
 * main thread wait for it (the main thread only SETs and PUBLISHes bytes). The previous tiles of each symbol
 * are kept here, in the thread, to diff against; after a thread restart the first diff sends every tile as
 * changed. The thread writes the tiles as bytes ({@link buildMarketSwarmOutputsFast}: tiles.ts); the text
 * path ({@link buildMarketSwarmOutputs}: heatmap.ts, {@link splitDiff}) states the same rules readably and
 * is what the bytes are tested against.
 */
import { compatPool } from './byte-pool.js';
import { substrateColumns, type SubstrateColumns } from '../../models/substrate-columns.js';
import { marketSwarmGex, marketSwarmGexBytes } from './gex.js';
import { ByteWriter } from './bytes.js';
import {
  marketSwarmSurfaceJson,
  type MarketSwarmContract,
  type MarketSwarmSurfaceJson,
  type SurfaceInput,
} from './heatmap.js';
import { marketSwarmSurfaceBytes, memberKey, type SurfaceBytes } from './tiles.js';

/**
 * A diff message never exceeds this. The bound is 512 KB (MarketSwarm's gateway drops a client whose
 * buffer passes 1 MB); 128 KiB because Redis stores a stream entry of 512 KB in fresh memory, 0.6–1.9 ms per
 * XADD at 3 ms per MiB of fresh memory, where an entry of 128 KiB takes 9–13 µs (median) of its time
 * (README "Compat cost").
 */
export const MAX_DIFF_BYTES = 128 * 1024;

export interface CompatRequest {
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  /** The first heatmap version this build may use (ms; strictly above the last one published). */
  versionBase: number;
  maxDiffBytes?: number;
}

export interface CompatResponse {
  gexCalls: Uint8Array;
  gexPuts: Uint8Array;
  /** The full heatmap document, or null when no tile changed (nothing to publish). */
  heatmap: Uint8Array | null;
  /** Diff messages, each ≤ maxDiffBytes, versions strictly increasing; also the replay payloads. */
  diffs: Uint8Array[];
  /** The heatmap version published last (the document's), or null when nothing was published. */
  version: number | null;
  changed: number;
  removed: number;
  tiles: number;
}

const previous = new Map<string, Map<string, string>>();

/** Forgets the previous tiles (tests). */
export function resetCompatState(): void {
  previous.clear();
  previousBytes.clear();
  spareRuns.clear();
}

export interface TileDiff {
  changed: [string, string][];
  removed: string[];
}

/** Tiles whose JSON changed or appeared, and keys that disappeared. Pure. */
export function diffTiles(prev: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): TileDiff {
  const changed: [string, string][] = [];
  const removed: string[] = [];
  for (const [k, v] of next) if (prev.get(k) !== v) changed.push([k, v]);
  for (const k of prev.keys()) if (!next.has(k)) removed.push(k);
  return { changed, removed };
}

/**
 * Splits a diff into messages of at most `maxBytes` UTF-8 bytes, each `{ts, version, symbol, changed,
 * removed, dtes_available, atm_iv}` with versions `versionBase`, `versionBase + 1`, …. Pure.
 */
export function splitDiff(
  diff: TileDiff,
  head: {
    ts: number;
    symbol: string;
    versionBase: number;
    dtes_available: number[];
    atm_iv: Record<string, number>;
  },
  maxBytes: number,
): string[] {
  const tail = `,"dtes_available":${JSON.stringify(head.dtes_available)},"atm_iv":${JSON.stringify(head.atm_iv)}}`;
  const open = (v: number): string =>
    `{"ts":${head.ts},"version":${v},"symbol":${JSON.stringify(head.symbol)},"changed":{`;
  const parts = diff.changed.map(([k, tile]) => `${JSON.stringify(k)}:${tile}`);
  const messages = cutDiff(
    parts,
    diff.removed,
    (part) => Buffer.byteLength(part) + 1,
    (m) => Buffer.byteLength(open(head.versionBase + m)) + Buffer.byteLength(tail) + 16,
    maxBytes,
  );
  return messages.map(
    (m, i) =>
      `${open(head.versionBase + i)}${m.changed.join(',')}},"removed":[${m.removed.join(',')}]${tail}`,
  );
}

/**
 * Cuts a diff into messages: entries are added in order (changed, then removed) and a message closes when
 * the next entry would take it past `maxBytes` (a message is never empty, so one oversized entry stands
 * alone). `changedBytes` counts an entry with its separator; `fixedBytes(m)` is message m's envelope.
 * Removed keys come back as their JSON. Pure; both the text and the byte paths cut with it.
 */
export function cutDiff<C>(
  changed: readonly C[],
  removedKeys: readonly string[],
  changedBytes: (c: C) => number,
  fixedBytes: (message: number) => number,
  maxBytes: number,
): { changed: C[]; removed: string[] }[] {
  const out: { changed: C[]; removed: string[] }[] = [];
  let cur: { changed: C[]; removed: string[] } = { changed: [], removed: [] };
  let size = fixedBytes(0);
  const room = (n: number): void => {
    if (size + n > maxBytes && (cur.changed.length > 0 || cur.removed.length > 0)) {
      out.push(cur);
      cur = { changed: [], removed: [] };
      size = fixedBytes(out.length);
    }
    size += n;
  };
  for (const c of changed) {
    room(changedBytes(c));
    cur.changed.push(c);
  }
  for (const k of removedKeys) {
    const part = JSON.stringify(k);
    room(Buffer.byteLength(part) + 1);
    cur.removed.push(part);
  }
  if (cur.changed.length > 0 || cur.removed.length > 0) out.push(cur);
  return out;
}

function heatmapDocument(
  s: MarketSwarmSurfaceJson,
  tileJson: ReadonlyMap<string, string>,
  head: { ts: number; symbol: string; version: number },
): string {
  const tiles: string[] = [];
  for (const [k, v] of tileJson) tiles.push(`${JSON.stringify(k)}:${v}`);
  return (
    `{"ts":${head.ts},"symbol":${JSON.stringify(head.symbol)},"epoch":"current","version":${head.version},` +
    `"dtes_available":${JSON.stringify(s.dtes_available)},"dte_tile_counts":${JSON.stringify(s.dte_tile_counts)},` +
    `"atm_iv":${JSON.stringify(s.atm_iv)},"tiles":{${tiles.join(',')}}}`
  );
}

/** What the compat thread is sent: an epoch's substrate columns (the model thread's) and the build's inputs. */
export interface CompatBuildRequest extends CompatRequest {
  columns: SubstrateColumns;
  asOfMs: number;
  spot: number | null;
  widths: readonly number[];
  windowPct: number;
  /** The documents' `ts`, Unix seconds. */
  tsSec: number;
}

/** Builds from the substrate columns (the compat thread's work). */
export function buildMarketSwarmFromColumns(req: CompatBuildRequest): CompatResponse {
  const { asOfMs, spot, widths, windowPct, tsSec } = req;
  return buildFromColumns(
    req.columns,
    { asOfMs, spot, widths, windowPct, tsSec },
    {
      symbol: req.symbol,
      versionBase: req.versionBase,
      ...(req.maxDiffBytes !== undefined ? { maxDiffBytes: req.maxDiffBytes } : {}),
    },
  );
}

/** The response's byte arrays (each its own ArrayBuffer): what the thread transfers back. */
export function compatBuffers(c: CompatResponse): ArrayBuffer[] {
  return [c.gexCalls, c.gexPuts, ...(c.heatmap ? [c.heatmap] : []), ...c.diffs].map(
    (b) => b.buffer as ArrayBuffer,
  );
}

/** What a build is given besides the contracts and the request. */
export interface BuildInput {
  asOfMs: number;
  spot: number | null;
  widths: readonly number[];
  windowPct: number;
  tsSec: number;
}

/** The heatmap surface's input: the contracts, the request's symbol and the build's market inputs. */
function surfaceInput(
  contracts: readonly MarketSwarmContract[],
  req: CompatRequest,
  input: BuildInput,
): SurfaceInput {
  const { asOfMs, spot, widths, windowPct } = input;
  return { contracts, symbol: req.symbol, asOfMs, spot, widths, windowPct };
}

export function buildMarketSwarmOutputs(
  contracts: readonly MarketSwarmContract[],
  input: BuildInput,
  req: CompatRequest,
): CompatResponse {
  const enc = new TextEncoder();
  const gex = marketSwarmGex(contracts, req.symbol, input.tsSec, input.asOfMs);
  const surface = marketSwarmSurfaceJson(surfaceInput(contracts, req, input));
  const next = surface.tiles;
  const prev = previous.get(req.symbol) ?? new Map<string, string>();
  const diff = diffTiles(prev, next);
  const chunks =
    diff.changed.length + diff.removed.length === 0
      ? []
      : splitDiff(
          diff,
          {
            ts: input.tsSec,
            symbol: req.symbol,
            versionBase: req.versionBase,
            dtes_available: surface.dtes_available,
            atm_iv: surface.atm_iv,
          },
          req.maxDiffBytes ?? MAX_DIFF_BYTES,
        );
  previous.set(req.symbol, next);
  const version = chunks.length > 0 ? req.versionBase + chunks.length - 1 : null;
  return {
    gexCalls: enc.encode(JSON.stringify(gex.calls)),
    gexPuts: enc.encode(JSON.stringify(gex.puts)),
    heatmap:
      version === null
        ? null
        : enc.encode(heatmapDocument(surface, next, { ts: input.tsSec, symbol: req.symbol, version })),
    diffs: chunks.map((c) => enc.encode(c)),
    version,
    changed: diff.changed.length,
    removed: diff.removed.length,
    tiles: next.size,
  };
}

/** The previous build of each symbol as bytes (the fast path's diff base). */
const previousBytes = new Map<string, SurfaceBytes>();
/**
 * Per symbol, the buffer of the run before the previous one: nothing refers to it any more (the document
 * and the diffs are copies), so the next build writes its run there instead of into fresh pages.
 */
const spareRuns = new Map<string, Uint8Array>();

/**
 * Members of `next` whose tile bytes differ from `prev`'s (or are new), in `next`'s order, and keys `next`
 * no longer has, in the order `prev` first wrote them. When both surfaces' members are numbered in
 * increasing order (every build of a chain without repeated keys) the two are walked side by side; else
 * keys are read back from the runs and matched by text.
 */
export function diffSurfaces(
  prev: SurfaceBytes | undefined,
  next: SurfaceBytes,
): { changed: number[]; removed: string[] } {
  const changed: number[] = [];
  const removed: string[] = [];
  if (!prev) {
    for (let n = 0; n < next.members; n++) if (next.live[n] === 1) changed.push(n);
    return { changed, removed };
  }
  const nb = Buffer.from(next.run.buffer, next.run.byteOffset, next.run.length);
  const pb = Buffer.from(prev.run.buffer, prev.run.byteOffset, prev.run.length);
  const same = (p: number, n: number): boolean => {
    const ps = prev.value[p] as number;
    const pe = prev.end[p] as number;
    const ns = next.value[n] as number;
    const ne = next.end[n] as number;
    return pe - ps === ne - ns && nb.compare(pb, ps, pe, ns, ne) === 0;
  };
  if (prev.ordered && next.ordered) {
    let p = 0;
    for (let n = 0; n < next.members; n++) {
      if (next.live[n] !== 1) continue;
      const k = next.key[n] as number;
      while (p < prev.members && (prev.live[p] !== 1 || (prev.key[p] as number) < k)) {
        if (prev.live[p] === 1) removed.push(memberKey(prev, p));
        p++;
      }
      if (p < prev.members && prev.key[p] === k) {
        if (!same(p, n)) changed.push(n);
        p++;
      } else changed.push(n);
    }
    for (; p < prev.members; p++) if (prev.live[p] === 1) removed.push(memberKey(prev, p));
    return { changed, removed };
  }
  // Key → live member, in first-written order (a repeated key keeps its place, takes the later member).
  const index = (s: SurfaceBytes): Map<string, number> => {
    const m = new Map<string, number>();
    for (let n = 0; n < s.members; n++) m.set(memberKey(s, n), n);
    return m;
  };
  const prevIndex = index(prev);
  const nextIndex = index(next);
  for (let n = 0; n < next.members; n++) {
    if (next.live[n] !== 1) continue;
    const p = prevIndex.get(memberKey(next, n));
    if (p === undefined || !same(p, n)) changed.push(n);
  }
  for (const k of prevIndex.keys()) if (!nextIndex.has(k)) removed.push(k);
  return { changed, removed };
}

/** The diff messages (as {@link splitDiff} cuts them, byte for byte), each in its own buffer. */
export function splitDiffBytes(
  s: SurfaceBytes,
  diff: { changed: number[]; removed: string[] },
  head: { ts: number; symbol: string; versionBase: number },
  maxBytes: number,
): Uint8Array[] {
  const tail = Buffer.from(
    `,"dtes_available":${JSON.stringify(s.dtes_available)},"atm_iv":${JSON.stringify(s.atm_iv)}}`,
  );
  const open = (v: number): string =>
    `{"ts":${head.ts},"version":${v},"symbol":${JSON.stringify(head.symbol)},"changed":{`;
  const messages = cutDiff(
    diff.changed,
    diff.removed,
    (n) => (s.end[n] as number) - (s.start[n] as number) + 1,
    (m) => Buffer.byteLength(open(head.versionBase + m)) + tail.length + 16,
    maxBytes,
  );
  const closeChanged = Buffer.from('},"removed":[');
  return messages.map((m, i) => {
    const head0 = open(head.versionBase + i);
    const removed = Buffer.from(m.removed.join(','));
    // Sized exactly, so the message is the writer's own buffer (no copy of up to 128 KiB per message).
    let size = Buffer.byteLength(head0) + closeChanged.length + removed.length + 1 + tail.length;
    m.changed.forEach((n, j) => {
      size += (s.end[n] as number) - (s.start[n] as number) + (j > 0 ? 1 : 0);
    });
    const w = new ByteWriter(compatPool.take(size));
    w.ascii(head0);
    // Members next to each other in the run (n, n + 1, …) are one range there, commas included: one copy.
    const ch = m.changed;
    for (let j = 0; j < ch.length;) {
      const first = ch[j] as number;
      let last = first;
      while (j + 1 < ch.length && ch[j + 1] === last + 1) last = ch[++j] as number;
      j++;
      if (first !== ch[0]) w.byte(0x2c);
      w.range(s.run, s.start[first] as number, s.end[last] as number);
    }
    w.bytes(closeChanged);
    w.bytes(removed);
    w.byte(0x5d);
    w.bytes(tail);
    return w.take();
  });
}

/** The heatmap document around the surface's members, in a buffer of its own. */
export function heatmapDocumentBytes(
  s: SurfaceBytes,
  head: { ts: number; symbol: string; version: number },
): Uint8Array {
  const open = Buffer.from(
    `{"ts":${head.ts},"symbol":${JSON.stringify(head.symbol)},"epoch":"current","version":${head.version},` +
      `"dtes_available":${JSON.stringify(s.dtes_available)},"dte_tile_counts":${JSON.stringify(s.dte_tile_counts)},` +
      `"atm_iv":${JSON.stringify(s.atm_iv)},"tiles":{`,
  );
  // Sized exactly, so the document is the writer's own buffer (no second copy of ~2.5 MB).
  let size = open.length + 2;
  if (s.contiguous) size += s.run.length;
  else {
    let members = 0;
    for (let n = 0; n < s.members; n++) {
      if (s.live[n] !== 1) continue;
      size += (s.end[n] as number) - (s.start[n] as number);
      members++;
    }
    size += Math.max(0, members - 1);
  }
  const w = new ByteWriter(compatPool.take(size));
  w.bytes(open);
  if (s.contiguous) w.bytes(s.run);
  else {
    let first = true;
    for (let n = 0; n < s.members; n++) {
      if (s.live[n] !== 1) continue;
      if (!first) w.byte(0x2c);
      first = false;
      w.range(s.run, s.start[n] as number, s.end[n] as number);
    }
  }
  w.ascii('}}');
  return w.take();
}

/** Where the next run of `symbol` is written: the spare buffer, or a size for a new one (none: the default). */
function runBuffer(symbol: string, prev: SurfaceBytes | undefined): number | Uint8Array | undefined {
  if (!prev) return undefined;
  const want = prev.run.length + (prev.run.length >> 3) + 4096;
  const spare = spareRuns.get(symbol);
  spareRuns.delete(symbol);
  return spare && spare.length >= want ? spare : want;
}

/** {@link buildMarketSwarmOutputs} with the tiles written as bytes (the compat thread's path). */
export function buildMarketSwarmOutputsFast(
  contracts: readonly MarketSwarmContract[],
  input: BuildInput,
  req: CompatRequest,
): CompatResponse {
  return buildFromColumns(substrateColumns(contracts), input, req);
}

function buildFromColumns(columns: SubstrateColumns, input: BuildInput, req: CompatRequest): CompatResponse {
  const gex = marketSwarmGexBytes(columns, req.symbol, input.tsSec, input.asOfMs);
  const prev = previousBytes.get(req.symbol);
  const { asOfMs, spot, widths, windowPct } = input;
  const surface = marketSwarmSurfaceBytes(
    { columns, symbol: req.symbol, asOfMs, spot, widths, windowPct },
    // The spare run's buffer when it has room for the last build's run and an eighth more; else a new
    // one of that size: the writer is sized once instead of doubling from 1 MB.
    runBuffer(req.symbol, prev),
  );
  const diff = diffSurfaces(prev, surface);
  const chunks =
    diff.changed.length + diff.removed.length === 0
      ? []
      : splitDiffBytes(
          surface,
          diff,
          { ts: input.tsSec, symbol: req.symbol, versionBase: req.versionBase },
          req.maxDiffBytes ?? MAX_DIFF_BYTES,
        );
  previousBytes.set(req.symbol, surface);
  if (prev) spareRuns.set(req.symbol, new Uint8Array(prev.run.buffer));
  const version = chunks.length > 0 ? req.versionBase + chunks.length - 1 : null;
  return {
    gexCalls: gex.calls,
    gexPuts: gex.puts,
    heatmap:
      version === null
        ? null
        : heatmapDocumentBytes(surface, { ts: input.tsSec, symbol: req.symbol, version }),
    diffs: chunks,
    version,
    changed: diff.changed.length,
    removed: diff.removed.length,
    tiles: surface.tiles,
  };
}

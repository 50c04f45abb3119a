/**
 * @module Reads the history back: the version of a model in force at an instant (its published bytes), and
 * the GEX time series between two instants. Keys come from the index and each record's chain (no SCAN),
 * so it works the same on a cluster. Used by the HTTP API and `chain-worker history`.
 */
import { unixSeconds } from '../../lib/time.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema, ModelName } from '../../redis/keys.js';
import { EncoderThread } from './encoder-thread.js';
import { decodeRecord, reconstruct } from './record.js';
import type { IndexRow } from './recorder.js';
import { autoStepSec, downsample, type HistoryField, type IndexedVersion } from './rows.js';

export interface VersionAt {
  /** The published bytes. */
  bytes: Buffer;
  /** Its publish time, epoch ms. */
  tsMs: number;
  /** Version id, or `live` when the version in force is the current model (not yet in, or older than, the history). */
  version: string;
  epochId: string | null;
}

function parseRow(member: string): IndexRow | null {
  try {
    const r = JSON.parse(member) as IndexRow;
    return typeof r.v === 'string' ? r : null;
  } catch {
    return null;
  }
}

function msOfScore(score: string): number {
  return Math.round(Number(score) * 1000);
}

/** The published time (epoch ms) in a model's header `ts`, null when absent. */
function headerTsMs(doc: Buffer): number | null {
  const m = /"ts":"([^"]+)"/.exec(doc.subarray(0, 2048).toString('utf8'));
  if (!m?.[1]) return null;
  const t = Date.parse(m[1]);
  return Number.isFinite(t) ? t : null;
}

/** The newest kept version published at or before `atMs` (index row and time), or null. */
async function indexAt(
  bus: RedisBus,
  keys: KeySchema,
  model: ModelName,
  symbol: string,
  atMs: number,
): Promise<{ row: IndexRow; tsMs: number } | null> {
  const res = await bus.read((r) =>
    r.zrevrangebyscore(
      keys.modelHistory(model, symbol),
      unixSeconds(atMs),
      '-inf',
      'WITHSCORES',
      'LIMIT',
      0,
      1,
    ),
  );
  const [member, score] = res;
  if (member === undefined || score === undefined) return null;
  const row = parseRow(member);
  return row ? { row, tsMs: msOfScore(score) } : null;
}

/** Rebuilds versions off the main thread (a heatmap chain is seconds of parsing on a loaded machine). */
let readThread: EncoderThread | undefined;

/**
 * The published bytes of a kept version (reads its record, then the chain it stands on, in one MGET). A
 * keyframe is decompressed here; a chain is rebuilt on the history thread, so the server's event loop
 * stays free.
 */
export async function readVersion(
  bus: RedisBus,
  keys: KeySchema,
  model: ModelName,
  symbol: string,
  version: string,
): Promise<Buffer | null> {
  const rec = await bus.read((r) => r.getBuffer(keys.modelHistoryVersion(model, symbol, version)));
  if (rec === null) return null;
  const { chain } = decodeRecord(rec);
  if (chain.length === 0) return reconstruct([rec]);
  const base = await bus.getManyBuffers(chain.map((v) => keys.modelHistoryVersion(model, symbol, v)));
  if (base.some((b) => b === null)) return null;
  readThread ??= new EncoderThread();
  return readThread.reconstruct([...(base as Buffer[]), rec]);
}

/**
 * The version in force at `atMs`: the newest published at or before it, from the history or, when the
 * current model is newer than the history's newest (the history is written just after publishing, and
 * keeps nothing beyond its retention), the current model. Null when neither has one.
 */
export async function versionAt(
  bus: RedisBus,
  keys: KeySchema,
  model: ModelName,
  symbol: string,
  atMs: number,
): Promise<VersionAt | null> {
  const [kept, live] = await Promise.all([
    indexAt(bus, keys, model, symbol, atMs),
    bus.read((r) => r.getBuffer(keys.model(model, symbol))),
  ]);
  const liveTs = live ? headerTsMs(live) : null;
  if (live && liveTs !== null && liveTs <= atMs && (kept === null || liveTs > kept.tsMs)) {
    const epoch = /"epoch_id":"([^"]+)"/.exec(live.subarray(0, 2048).toString('utf8'));
    return { bytes: live, tsMs: liveTs, version: 'live', epochId: epoch?.[1] ?? null };
  }
  if (kept === null) return null;
  const bytes = await readVersion(bus, keys, model, symbol, kept.row.v);
  if (bytes === null) return null;
  return { bytes, tsMs: kept.tsMs, version: kept.row.v, epochId: kept.row.epoch_id };
}

/** One row of the series: `ts` (ISO), `epoch_id`, `trigger`, then the fields asked for. */
export type SeriesRow = { ts: string; epoch_id: string; trigger: string } & Partial<
  Record<HistoryField, number | boolean | null>
>;

export interface HistorySeries {
  symbol: string;
  model: 'gex';
  from: string;
  to: string;
  fields: HistoryField[];
  /** Seconds per row bucket (each keeps its last version); 0 = every version. */
  step: number;
  /** Versions in the range before downsampling. */
  versions: number;
  rows: SeriesRow[];
}

/** The GEX series of `symbol` over `[fromMs, toMs]` (both included), one row per kept version. */
export async function readSeries(
  bus: RedisBus,
  keys: KeySchema,
  symbol: string,
  opts: { fromMs: number; toMs: number; fields: HistoryField[]; stepSec?: number; maxRows?: number },
): Promise<HistorySeries> {
  const raw = await bus.read((r) =>
    r.zrangebyscore(
      keys.modelHistory('gex', symbol),
      unixSeconds(opts.fromMs),
      unixSeconds(opts.toMs),
      'WITHSCORES',
    ),
  );
  const versions: IndexedVersion<IndexRow>[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const row = parseRow(raw[i] as string);
    if (row) versions.push({ tsMs: msOfScore(raw[i + 1] as string), row });
  }
  // A step asked for is kept unless it would still give more than the row cap.
  const step = Math.max(
    opts.stepSec ?? 0,
    autoStepSec(versions.length, opts.fromMs, opts.toMs, opts.maxRows),
  );
  const rows = downsample(versions, opts.fromMs, step).map(({ tsMs, row }) => {
    const out: SeriesRow = { ts: new Date(tsMs).toISOString(), epoch_id: row.epoch_id, trigger: row.trigger };
    for (const f of opts.fields) out[f] = row[f] ?? null;
    return out;
  });
  return {
    symbol,
    model: 'gex',
    from: new Date(opts.fromMs).toISOString(),
    to: new Date(opts.toMs).toISOString(),
    fields: opts.fields,
    step,
    versions: versions.length,
    rows,
  };
}

/**
 * @module The GEX time series of the history: the fields a version's index row carries (taken from the
 * published GEX model when it is recorded), the `fields` selection, and the downsampling rule. Pure.
 */

/** The fields a history row can carry, in the order they are listed. */
export const HISTORY_FIELDS = [
  'spot',
  'zero_gamma',
  'call_wall',
  'put_wall',
  'abs_gamma_strike',
  'net',
  'calls',
  'puts',
  'vanna',
  'charm',
  'delta',
  'zero_gamma_0dte',
  'call_wall_0dte',
  'put_wall_0dte',
  'share_0dte',
  'volume_net',
  'volume_zero_gamma',
  'stale',
] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

/** What each field is, for the docs and the OpenAPI document. */
export const HISTORY_FIELD_HELP: Record<HistoryField, string> = {
  spot: '`spot`',
  zero_gamma: '`levels.zero_gamma`',
  call_wall: '`levels.call_wall`',
  put_wall: '`levels.put_wall`',
  abs_gamma_strike: '`levels.abs_gamma_strike`',
  net: '`totals.net` (USD per 1 % move)',
  calls: '`totals.calls`',
  puts: '`totals.puts`',
  vanna: '`totals.vanna`',
  charm: '`totals.charm`',
  delta: '`totals.delta`',
  zero_gamma_0dte: '`horizons["0dte"].levels.zero_gamma`',
  call_wall_0dte: '`horizons["0dte"].levels.call_wall`',
  put_wall_0dte: '`horizons["0dte"].levels.put_wall`',
  share_0dte: '`horizons["0dte"].share` (share of |GEX|)',
  volume_net: '`by_basis.volume.totals.net`',
  volume_zero_gamma: '`by_basis.volume.levels.zero_gamma`',
  stale: '`stale`',
};

export const DEFAULT_HISTORY_FIELDS: readonly HistoryField[] = [
  'spot',
  'zero_gamma',
  'call_wall',
  'put_wall',
  'net',
];

/** At most this many rows per answer; more versions in range are downsampled (see {@link downsample}). */
export const MAX_HISTORY_ROWS = 5_000;

type FieldValue = number | boolean | null;
export type HistoryValues = Record<HistoryField, FieldValue>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The series fields of a published GEX model (null where the model has no such value). */
export function valuesOfGex(doc: unknown): HistoryValues {
  const d = obj(doc);
  const levels = obj(d.levels);
  const totals = obj(d.totals);
  const zero = obj(obj(d.horizons)['0dte']);
  const zeroLevels = obj(zero.levels);
  const vol = obj(obj(d.by_basis).volume);
  return {
    spot: num(d.spot),
    zero_gamma: num(levels.zero_gamma),
    call_wall: num(levels.call_wall),
    put_wall: num(levels.put_wall),
    abs_gamma_strike: num(levels.abs_gamma_strike),
    net: num(totals.net),
    calls: num(totals.calls),
    puts: num(totals.puts),
    vanna: num(totals.vanna),
    charm: num(totals.charm),
    delta: num(totals.delta),
    zero_gamma_0dte: num(zeroLevels.zero_gamma),
    call_wall_0dte: num(zeroLevels.call_wall),
    put_wall_0dte: num(zeroLevels.put_wall),
    share_0dte: num(zero.share),
    volume_net: num(obj(vol.totals).net),
    volume_zero_gamma: num(obj(vol.levels).zero_gamma),
    stale: typeof d.stale === 'boolean' ? d.stale : null,
  };
}

/**
 * `spot,zero_gamma` → the fields, in the order asked, each once. An empty or absent list gives the
 * defaults; an unknown name is an error naming it and the allowed ones.
 */
export function parseFields(input: string | undefined): HistoryField[] {
  if (input === undefined || input.trim() === '') return [...DEFAULT_HISTORY_FIELDS];
  const out: HistoryField[] = [];
  for (const raw of input.split(',')) {
    const f = raw.trim();
    if (f === '') continue;
    const known = HISTORY_FIELDS.find((h) => h === f);
    if (!known) {
      throw new Error(
        `unknown field ${JSON.stringify(f.slice(0, 40))}; fields: ${HISTORY_FIELDS.join(', ')}`,
      );
    }
    if (!out.includes(known)) out.push(known);
  }
  return out.length > 0 ? out : [...DEFAULT_HISTORY_FIELDS];
}

/** One version in the index: publish time (epoch ms) and its row. */
export interface IndexedVersion<R> {
  tsMs: number;
  row: R;
}

/**
 * The step (whole seconds) that keeps at most `maxRows` rows over `[fromMs, toMs]`: 0 (every version)
 * when `count` fits, else the span divided by `maxRows`, rounded up.
 */
export function autoStepSec(count: number, fromMs: number, toMs: number, maxRows = MAX_HISTORY_ROWS): number {
  if (count <= maxRows) return 0;
  return Math.max(1, Math.ceil((toMs - fromMs) / 1000 / maxRows));
}

/**
 * Downsampling: with `stepSec` > 0, the range is cut into buckets of `stepSec` from `fromMs`, and each
 * bucket keeps its last version (the one in force at the bucket's end). Versions must be in time order.
 */
export function downsample<R>(
  versions: IndexedVersion<R>[],
  fromMs: number,
  stepSec: number,
): IndexedVersion<R>[] {
  if (stepSec <= 0) return versions;
  const out: IndexedVersion<R>[] = [];
  let lastBucket = -1;
  for (const v of versions) {
    const bucket = Math.floor((v.tsMs - fromMs) / (stepSec * 1000));
    if (bucket === lastBucket) out[out.length - 1] = v;
    else out.push(v);
    lastBucket = bucket;
  }
  return out;
}

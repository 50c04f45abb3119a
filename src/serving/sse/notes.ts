/**
 * @module Model notes: what a `model` SSE event says about one published model (never the document
 * itself), read from the first bytes of the model in Redis without parsing the rest.
 */
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema, ModelName } from '../../redis/keys.js';
import { modelAge } from '../model-age.js';

/** What a `model` event says about one published model. */
export interface ModelNote {
  model: ModelName;
  symbol: string;
  epoch_id: string;
  /** The model's publish time (ISO-8601), as in the document. */
  ts: string | null;
  /** The snapshot time it was built from (ISO-8601), as in the document. */
  as_of: string | null;
  /**
   * Stale when the note is sent: the document's own `stale` (a dormant epoch) or `as_of` older than
   * `CHAIN_STALE_AFTER_SEC` at send time (see {@link noteAt}); null when unknown.
   */
  stale: boolean | null;
  /** Seconds from `as_of` to the moment the note was sent; null when unknown. */
  age_sec: number | null;
  /** The document's `stale` as stored at build time. */
  built_stale: boolean | null;
  spot: number | null;
  contract_count: number | null;
  /** The epoch's latest write was a partial snapshot (null: the model does not say). */
  partial: boolean | null;
  /** Expirations whose stream did not complete (null: the model does not say). */
  missing_expirations: string[] | null;
  /** The model's `live.source` (`snapshot` or `stream`); null when the model has no `live` header. */
  live_source: 'snapshot' | 'stream' | null;
  /** The model's `live.last_tick_ts`: time of the newest streamed event applied (ISO-8601); else null. */
  last_tick_ts: string | null;
  /** Where to GET the document. */
  url: string;
}

export function modelUrl(model: ModelName, symbol: string): string {
  return `/api/models/${model}/${encodeURIComponent(symbol)}`;
}

/** Bytes read from the start of a model to find its header fields. */
const HEAD_BYTES = 2048;
const HEAD_FIELD =
  /"((?:[^"\\]|\\.)*)":(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|(\[(?:"(?:[^"\\]|\\.)*"(?:,"(?:[^"\\]|\\.)*")*)?\]))[,}]/y;

/**
 * Reads the leading primitive fields (and flat string arrays) of a JSON object (`{"version":1,...`) up to the first
 * nested value, without parsing the rest. Published models put their header first, so this finds
 * `epoch_id`, `ts`, `stale`... in the first few hundred bytes of a 5 MB document.
 */
export function scanHeader(prefix: string): Record<string, string | number | boolean | null | string[]> {
  const out: Record<string, string | number | boolean | null | string[]> = {};
  if (!prefix.startsWith('{')) return out;
  HEAD_FIELD.lastIndex = 1;
  for (;;) {
    const m = HEAD_FIELD.exec(prefix);
    if (!m) break;
    try {
      const name = JSON.parse(`"${m[1] ?? ''}"`) as string;
      if (m[2] !== undefined) out[name] = JSON.parse(`"${m[2]}"`) as string;
      else if (m[3] !== undefined) out[name] = Number(m[3]);
      else if (m[5] !== undefined) out[name] = JSON.parse(m[5]) as string[];
      else out[name] = m[4] === 'true' ? true : m[4] === 'false' ? false : null;
    } catch {
      break;
    }
  }
  return out;
}

const LIVE_SOURCE = /"live":\{"source":"(snapshot|stream)"/;
const LAST_TICK = /"last_tick_ts":(?:null|"([^"\\]*)")/;

/** `live.source` and `live.last_tick_ts` from a model's first bytes (the `live` header follows the flat fields). */
export function scanLive(prefix: string): Pick<ModelNote, 'live_source' | 'last_tick_ts'> {
  const source = LIVE_SOURCE.exec(prefix)?.[1];
  const tick = LAST_TICK.exec(prefix)?.[1];
  return {
    live_source: source === 'snapshot' || source === 'stream' ? source : null,
    last_tick_ts: tick ?? null,
  };
}

function noteFrom(
  model: ModelName,
  symbol: string,
  h: Record<string, unknown>,
  live: Pick<ModelNote, 'live_source' | 'last_tick_ts'> = { live_source: null, last_tick_ts: null },
): ModelNote | null {
  if (typeof h.epoch_id !== 'string') return null;
  return {
    model,
    symbol,
    epoch_id: h.epoch_id,
    ts: typeof h.ts === 'string' ? h.ts : null,
    as_of: typeof h.as_of === 'string' ? h.as_of : null,
    stale: typeof h.stale === 'boolean' ? h.stale : null,
    age_sec: null,
    built_stale: typeof h.stale === 'boolean' ? h.stale : null,
    spot: typeof h.spot === 'number' ? h.spot : null,
    contract_count: typeof h.contract_count === 'number' ? h.contract_count : null,
    partial: typeof h.partial === 'boolean' ? h.partial : null,
    missing_expirations: Array.isArray(h.missing_expirations)
      ? h.missing_expirations.filter((e): e is string => typeof e === 'string')
      : null,
    ...live,
    url: modelUrl(model, symbol),
  };
}

/** The note as it is sent at `nowMs`: age and staleness judged now, from `as_of`. */
export function noteAt(note: ModelNote, nowMs: number, staleAfterSec: number): ModelNote {
  if (note.as_of === null) return note;
  const age = modelAge({ as_of: note.as_of, stale: note.built_stale }, nowMs, staleAfterSec);
  return { ...note, stale: age.stale, age_sec: age.age_sec };
}

/** The note of a published model string (`null` when it has no readable header). */
export function noteOfDocument(model: ModelName, symbol: string, doc: string): ModelNote | null {
  const head = doc.slice(0, HEAD_BYTES);
  const quick = noteFrom(model, symbol, scanHeader(head), scanLive(head));
  if (quick) return quick;
  try {
    const parsed = JSON.parse(doc) as Record<string, unknown> & {
      live?: { source?: unknown; last_tick_ts?: unknown };
    };
    return noteFrom(model, symbol, parsed, {
      live_source:
        parsed.live?.source === 'snapshot' || parsed.live?.source === 'stream' ? parsed.live.source : null,
      last_tick_ts: typeof parsed.live?.last_tick_ts === 'string' ? parsed.live.last_tick_ts : null,
    });
  } catch {
    return null;
  }
}

/** Reads a model's header from Redis: GETRANGE of its first bytes, the full document only as a fallback. */
export async function readModelNote(
  bus: RedisBus,
  keys: KeySchema,
  model: ModelName,
  symbol: string,
): Promise<ModelNote | null> {
  const key = keys.model(model, symbol);
  const prefix = await bus.read((r) => r.getrange(key, 0, HEAD_BYTES - 1));
  if (prefix === '') return null;
  const quick = noteFrom(model, symbol, scanHeader(prefix), scanLive(prefix));
  if (quick) return quick;
  const doc = await bus.read((r) => r.get(key));
  return doc === null ? null : noteOfDocument(model, symbol, doc);
}

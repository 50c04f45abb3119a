/**
 * @module Reading `massive:events`: stream ids, entries, a symbol filter, and pages after an id. Shared by
 * the SSE hub and `chain-worker events`. An entry that is not valid JSON is skipped, never thrown.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisCommands } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';

/** One event as read back: its stream id and its JSON (`type`, `symbol`, `epoch_id`, `ts`, …). */
export interface StoredEvent {
  id: string;
  type: string;
  /** `{U}`; null for worker-wide events (`shutdown`). */
  symbol: string | null;
  /** The JSON exactly as stored. */
  json: string;
  event: Record<string, unknown>;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** The largest part of a stream id Redis takes (each of milliseconds and sequence is 64 bits unsigned). */
const MAX_ID_PART = 2n ** 64n - 1n;

/** The largest stream id: no entry can come after it. */
export const MAX_STREAM_ID = `${MAX_ID_PART}-${MAX_ID_PART}`;

/**
 * A Redis stream id (`1764577498123-0`): what `Last-Event-ID` and `--since` accept. Both parts at most
 * 2^64 - 1: a longer one (`99999999999999999999-0`) is refused by XRANGE ("Invalid stream ID").
 */
export function isStreamId(s: string | undefined | null): s is string {
  if (typeof s !== 'string' || !STREAM_ID.test(s)) return false;
  const [ms = '', seq = ''] = s.split('-');
  return BigInt(ms) <= MAX_ID_PART && BigInt(seq) <= MAX_ID_PART;
}

/** Compares two stream ids (negative: `a` is older). */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

/** An XRANGE / XREAD entry → the event, or null when it holds no readable `payload`. */
export function parseEntry(id: string, fields: readonly string[]): StoredEvent | null {
  const i = fields.indexOf('payload');
  const json = i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
  if (json === undefined) return null;
  try {
    const event = JSON.parse(json) as Record<string, unknown>;
    if (event === null || typeof event !== 'object' || typeof event.type !== 'string') return null;
    return {
      id,
      type: event.type,
      symbol: typeof event.symbol === 'string' ? event.symbol : null,
      json,
      event,
    };
  } catch {
    return null;
  }
}

/** Whether a client filtering on `symbols` (`{U}`; null = all) gets the event. Worker-wide events go to all. */
export function eventMatches(e: StoredEvent, symbols: ReadonlySet<string> | null): boolean {
  return symbols === null || e.symbol === null || symbols.has(e.symbol);
}

/**
 * Events strictly after `afterId` (`0-0`: from the start), oldest first, from the next `count` entries.
 * `next` is the id to read after next (the last entry's, even when it was unreadable) and `more` whether
 * the page was full (there may be more): an unreadable entry makes `events` shorter than the page, so
 * `events.length < count` does not mean the end.
 */
export async function readAfter(
  r: Pick<RedisCommands, 'xrange'>,
  keys: KeySchema,
  afterId: string,
  count: number,
): Promise<{ events: StoredEvent[]; next: string; more: boolean }> {
  // Nothing comes after the largest id, and XRANGE refuses it as an exclusive start.
  if (afterId === MAX_STREAM_ID) return { events: [], next: afterId, more: false };
  const entries = await r.xrange(keys.events, `(${afterId}`, '+', 'COUNT', count);
  const events: StoredEvent[] = [];
  let next = afterId;
  for (const [id, fields] of entries) {
    next = id;
    const e = parseEntry(id, fields);
    if (e) events.push(e);
  }
  return { events, next, more: entries.length >= count };
}

/** The id of the newest entry, or `0-0` for an empty (or absent) stream. */
export async function lastId(r: Pick<RedisCommands, 'xrevrange'>, keys: KeySchema): Promise<string> {
  const last = await r.xrevrange(keys.events, '+', '-', 'COUNT', 1);
  return last[0]?.[0] ?? '0-0';
}

/**
 * Blocks up to `blockMs` for entries after `afterId` (XREAD BLOCK; use a connection of its own). Returns the
 * events and the id to read after next (the last entry's, even when it was unreadable).
 */
export async function readBlocking(
  r: Redis | Cluster,
  keys: KeySchema,
  afterId: string,
  blockMs: number,
  count = 500,
): Promise<{ events: StoredEvent[]; next: string }> {
  const res = await r.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', keys.events, afterId);
  let next = afterId;
  const events: StoredEvent[] = [];
  for (const [, entries] of res ?? []) {
    for (const [id, fields] of entries) {
      next = id;
      const e = parseEntry(id, fields);
      if (e) events.push(e);
    }
  }
  return { events, next };
}

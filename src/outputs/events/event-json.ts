/**
 * @module The JSON of each `massive:events` entry, from what the chain worker and the model builder tell
 * their observers. Pure. Shapes: `chainEvent` in src/schemas/published.ts; docs/events.md.
 */
import { unixSeconds } from '../../lib/time.js';
import type { ChainEvent } from '../../schemas/published.js';
import type {
  HealthChanged,
  SnapshotApplied,
  SymbolDormant,
  SymbolRecovered,
  WorkerShutdown,
} from '../observers.js';
import type { LevelEvent } from './levels.js';

/** Longest error message an event carries. */
export const MAX_EVENT_ERROR_CHARS = 300;

/** `epoch_promoted` for a promotion; null for a refresh or a merge (nothing to announce). */
export function promotedEvent(e: SnapshotApplied): ChainEvent | null {
  if (!e.promoted || e.reason === null) return null;
  return {
    type: 'epoch_promoted',
    symbol: e.underlying,
    epoch_id: e.epochId,
    ts: e.ts,
    prev_epoch_id: e.prevEpochId,
    reason: e.reason as 'first',
    contracts: e.contractCount,
    expirations: [...e.expirations],
    geometry: e.geometry ? { ...e.geometry } : null,
    health: e.health,
    partial: e.partial,
    spot: e.spot,
  };
}

export function healthEvent(e: HealthChanged): ChainEvent {
  return {
    type: 'health_changed',
    symbol: e.underlying,
    epoch_id: e.epochId,
    ts: e.ts,
    from: e.from,
    to: e.to,
  };
}

export function dormantEvent(e: SymbolDormant): ChainEvent {
  return {
    type: 'dormant',
    symbol: e.underlying,
    epoch_id: e.epochId,
    ts: e.ts,
    dormant_count: e.dormantCount,
    error: e.error.slice(0, MAX_EVENT_ERROR_CHARS),
  };
}

export function recoveredEvent(e: SymbolRecovered): ChainEvent {
  return {
    type: 'recovered',
    symbol: e.underlying,
    epoch_id: e.epochId,
    ts: e.ts,
    prev_epoch_id: e.prevEpochId,
  };
}

export function shutdownEvent(e: WorkerShutdown): ChainEvent {
  return {
    type: 'shutdown',
    symbol: null,
    epoch_id: null,
    ts: e.ts,
    worker: e.worker,
    status: e.status,
    reason: e.reason,
    symbols: e.symbols.map((s) => ({ symbol: s.underlying, epoch_id: s.epochId })),
  };
}

/** A level event of a GEX build of `symbol` (`{U}`) as published. */
export function levelEventJson(
  l: LevelEvent,
  at: { symbol: string; epochId: string; asOfMs: number; nowMs: number },
): ChainEvent {
  return {
    ...l,
    symbol: at.symbol,
    epoch_id: at.epochId,
    ts: unixSeconds(at.nowMs),
    as_of: unixSeconds(at.asOfMs),
  };
}

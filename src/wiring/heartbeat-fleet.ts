/**
 * @module The fleet view of `massive:heartbeat`: each worker writes its own entry; the published heartbeat
 * is composed from every entry, so with several workers it never flips between them. Pure.
 *
 * Rules:
 * - An entry is **live** when it is not final (`stopped`, or the `faulty` of a controlled shutdown) and its
 *   `ts` is within the heartbeat TTL.
 * - Fleet `status` = the worst live status (ok < degraded < faulty); with no live worker, `faulty` when a
 *   worker's final heartbeat said so (kept {@link FINAL_KEEP_SEC}, so an aggregator polling later reads the
 *   reason), else `stopped` (with the reason of the last worker to stop).
 * - `last_cycle` merges every entry's cycles per symbol, newest first.
 * - `workers` lists the live entries and the final `faulty` ones; a stopped or vanished worker drops out.
 */
import { byCodeUnit } from '../lib/compare.js';

export type HeartbeatStatus = 'ok' | 'degraded' | 'faulty' | 'stopped';

export interface LastCycle {
  /** Unix seconds. */
  ts: number;
  health: string;
  epoch_id: string | null;
  latency_ms: number;
}

/** One worker's entry in `massive:heartbeat:workers` (JSON). */
export interface WorkerEntry {
  instance: string;
  status: HeartbeatStatus;
  /** Unix seconds. */
  ts: number;
  reason: string | null;
  provider: string;
  /** The worker's last heartbeat: it stopped (cleanly, or in a controlled `faulty` shutdown). */
  final: boolean;
  last_cycle: Record<string, LastCycle>;
}

/** The published heartbeat: `massive:heartbeat` and the `massive:heartbeat` channel. */
export interface FleetHeartbeat {
  service: string;
  status: HeartbeatStatus;
  /** Unix seconds: when this view was composed. */
  ts: number;
  reason: string | null;
  /** The providers of the shown workers, joined with `,` when they differ (`massive`, `sim`, `replay`). */
  provider: string | null;
  /** The worker that composed this view. */
  instance: string;
  live_workers: number;
  last_cycle: Record<string, LastCycle>;
  workers: Record<string, WorkerEntry>;
}

/** How long a final `faulty` entry (and the heartbeat key that reports it) is kept: one day. */
export const FINAL_KEEP_SEC = 86_400;

const RANK: Record<HeartbeatStatus, number> = { stopped: 0, ok: 1, degraded: 2, faulty: 3 };

export function isLive(e: WorkerEntry, nowSec: number, ttlSec: number): boolean {
  return !e.final && e.status !== 'stopped' && nowSec - e.ts <= ttlSec;
}

/** Parses one stored entry; null for anything that is not a well-formed entry. */
export function parseEntry(raw: string): WorkerEntry | null {
  try {
    const e = JSON.parse(raw) as Partial<WorkerEntry>;
    if (
      typeof e.instance !== 'string' ||
      typeof e.ts !== 'number' ||
      !Number.isFinite(e.ts) ||
      typeof e.status !== 'string' ||
      !(e.status in RANK)
    )
      return null;
    return {
      instance: e.instance,
      status: e.status,
      ts: e.ts,
      reason: typeof e.reason === 'string' ? e.reason : null,
      provider: typeof e.provider === 'string' ? e.provider : '',
      final: e.final === true,
      last_cycle: e.last_cycle && typeof e.last_cycle === 'object' ? e.last_cycle : {},
    };
  } catch {
    return null;
  }
}

export interface ComposedFleet {
  view: FleetHeartbeat;
  /** Fields of `massive:heartbeat:workers` to delete: vanished, stopped or expired entries. */
  prune: string[];
  /** Seconds the heartbeat key lives: the TTL, or {@link FINAL_KEEP_SEC} while it reports a final `faulty`. */
  expireSec: number;
}

/**
 * Composes the fleet view from every worker's stored entry.
 *
 * @example
 * composeFleet({ a: entryA, b: entryB }, Date.now() / 1000, { ttlSec: 15, service: 'chain-worker', instance: 'a' });
 */
export function composeFleet(
  entries: Record<string, WorkerEntry | null>,
  nowSec: number,
  opts: { ttlSec: number; service: string; instance: string },
): ComposedFleet {
  const live: WorkerEntry[] = [];
  const finalFaulty: WorkerEntry[] = [];
  const prune: string[] = [];
  for (const [field, e] of Object.entries(entries)) {
    if (!e) prune.push(field);
    else if (isLive(e, nowSec, opts.ttlSec)) live.push(e);
    else if (e.final && e.status === 'faulty' && nowSec - e.ts <= FINAL_KEEP_SEC) finalFaulty.push(e);
    // A stopped worker leaves at once; one that vanished without a word (killed) once a TTL has passed.
    else if (e.final || nowSec - e.ts > opts.ttlSec) prune.push(field);
  }
  // With no worker alive, the newest final word decides: a clean stop after a controlled `faulty` shutdown
  // (a restart that recovered, then stopped) supersedes it, and the superseded entries go.
  const finals = Object.entries(entries).filter((kv): kv is [string, WorkerEntry] => kv[1]?.final === true);
  const newestFinal = finals.reduce<WorkerEntry | null>(
    (n, [, e]) => (n === null || e.ts > n.ts ? e : n),
    null,
  );
  if (
    live.length === 0 &&
    newestFinal !== null &&
    newestFinal.status !== 'faulty' &&
    finalFaulty.length > 0
  ) {
    for (const [field, e] of finals) if (e.status === 'faulty') prune.push(field);
    finalFaulty.length = 0;
  }
  const shown = [...live, ...finalFaulty].sort((a, b) => byCodeUnit(a.instance, b.instance));

  let status: HeartbeatStatus;
  let reason: string | null = null;
  if (live.length > 0) {
    const worst = live.reduce((w, e) => (RANK[e.status] > RANK[w.status] ? e : w));
    status = worst.status;
    const reasons = live.filter((e) => e.status === worst.status && e.reason).map((e) => e.reason);
    reason = reasons.length > 0 ? [...new Set(reasons)].join('; ') : null;
  } else if (finalFaulty.length > 0) {
    status = 'faulty';
    const newest = finalFaulty.reduce((n, e) => (e.ts > n.ts ? e : n));
    reason = newest.reason;
  } else {
    status = 'stopped';
    // The reason the last worker gave when it stopped (`shutdown`, `SIGTERM`…), if it said one.
    reason = newestFinal?.reason ?? 'no worker alive';
  }

  // Over every entry read, so a fleet that just stopped still says what it last did.
  const lastCycle: Record<string, LastCycle> = {};
  for (const e of Object.values(entries)) {
    if (!e) continue;
    for (const [symbol, c] of Object.entries(e.last_cycle)) {
      const prev = lastCycle[symbol];
      if (!prev || c.ts > prev.ts) lastCycle[symbol] = c;
    }
  }
  const providers = [...new Set(shown.map((e) => e.provider).filter((p) => p !== ''))].sort();
  const view: FleetHeartbeat = {
    service: opts.service,
    status,
    ts: nowSec,
    reason,
    provider: providers.length > 0 ? providers.join(',') : null,
    instance: opts.instance,
    live_workers: live.length,
    last_cycle: Object.fromEntries(Object.entries(lastCycle).sort(([a], [b]) => byCodeUnit(a, b))),
    workers: Object.fromEntries(shown.map((e) => [e.instance, e])),
  };
  const expireSec = live.length === 0 && finalFaulty.length > 0 ? FINAL_KEEP_SEC : opts.ttlSec;
  return { view, prune, expireSec };
}

/**
 * @module `massive:chain:analytics*`: cumulative counters and last values (HASH), per-symbol coverage and
 * per-category health counts (HASHes), and time series (ZSETs, score = sample time, trimmed).
 *
 * Every time written is Unix seconds, fractional to the ms (`last_ts:*`, ZSET scores, the `t` of members).
 */
import { randomBytes } from 'node:crypto';
import { unixSeconds } from '../lib/time.js';
import type { HealthCategory } from '../chain-worker/health.js';
import type { RedisBus } from '../redis/bus.js';
import { ANALYTICS_SERIES, type AnalyticsSeries, type KeySchema } from '../redis/keys.js';

export interface CycleSample {
  underlying: string;
  /** Sample time, epoch ms (written to Redis as Unix seconds). */
  ts: number;
  health: HealthCategory;
  latencyMs: number;
  contracts: number;
  pages: number;
  retries: number;
  skipped: number;
  stalenessSec: number | null;
  strikeRange: number | null;
  /** Contracts per strike. */
  density: number | null;
  burst: boolean;
  failed: boolean;
  slaViolation: boolean;
  errorKind?: string;
}

const SERIES_MEMBER_NONCE = randomBytes(3).toString('hex');
let seq = 0;

/**
 * A ZSET member that is unique even when two samples share a value and a millisecond:
 * `{"v":123.4,"s":"SPX","t":1700000000.123,"n":"a1b2c3-42"}` (`t` in Unix seconds). Readers parse it as JSON.
 */
export function seriesMember(value: number, underlying: string, ts: number): string {
  seq = (seq + 1) % 1_000_000_000;
  return JSON.stringify({ v: value, s: underlying, t: ts, n: `${SERIES_MEMBER_NONCE}-${seq}` });
}

/** Samples kept while Redis refuses writes (down, OOM, READONLY); the oldest are dropped beyond this. */
export const MAX_UNSENT_SAMPLES = 1_000;

export class AnalyticsWriter {
  /** Samples Redis could not take, written before the next one. */
  private unsent: CycleSample[] = [];

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly retentionSec: number,
  ) {}

  /**
   * Records one cycle. When Redis cannot take the writes, the sample (and any later ones) is kept in memory
   * and written before the next sample, so a cycle that failed because Redis refused writes still shows
   * in the analytics once Redis recovers. Rethrows the write error. (A sample whose writes partly landed
   * before the error is written again in full.)
   */
  async record(s: CycleSample): Promise<void> {
    const batch = this.unsent;
    this.unsent = [];
    batch.push(s);
    for (let i = 0; i < batch.length; i++) {
      try {
        await this.write(batch[i] as CycleSample);
      } catch (err) {
        this.unsent = [...batch.slice(i), ...this.unsent].slice(-MAX_UNSENT_SAMPLES);
        throw err;
      }
    }
  }

  /** Keeps a sample for the next {@link record} without trying Redis now (it is unreachable). */
  defer(s: CycleSample): void {
    this.unsent = [...this.unsent, s].slice(-MAX_UNSENT_SAMPLES);
  }

  private async write(s: CycleSample): Promise<void> {
    const r = this.bus.cmd;
    const k = this.keys;
    const u = s.underlying;
    const ts = unixSeconds(s.ts);
    const ops: Promise<unknown>[] = [
      r.hincrby(k.analytics, 'cycles', 1),
      r.hincrby(k.analytics, s.failed ? 'failed_cycles' : 'snapshots', 1),
      r.hincrby(k.analytics, 'pages', s.pages),
      r.hincrby(k.analytics, 'retries', s.retries),
      r.hincrby(k.analytics, 'skipped_contracts', s.skipped),
      r.hincrby(k.fetchHealth, s.health, 1),
      r.hincrby(k.fetchHealth, `${u}:${s.health}`, 1),
      r.hset(k.analytics, {
        last_ts: ts,
        [`last_ts:${u}`]: ts,
        [`last_health:${u}`]: s.health,
        [`last_latency_ms:${u}`]: Math.round(s.latencyMs),
      }),
    ];
    if (!s.failed) {
      ops.push(
        r.hincrby(k.analytics, 'contracts', s.contracts),
        r.hincrby(k.symbolCoverage, u, 1),
        r.hset(k.analytics, { [`last_contracts:${u}`]: s.contracts, [`last_success_ts:${u}`]: ts }),
      );
    } else {
      ops.push(r.hincrby(k.analytics, 'publish_failures', 1));
      if (s.errorKind) ops.push(r.hincrby(k.analytics, `errors:${s.errorKind}`, 1));
    }
    if (s.slaViolation) ops.push(r.hincrby(k.analytics, 'sla_violations', 1));
    if (s.burst) ops.push(r.hincrby(k.analytics, 'bursts', 1));
    if (s.health === 'partial') ops.push(r.hincrby(k.analytics, 'partial_snapshots', 1));
    if (s.health === 'slow') ops.push(r.hincrby(k.analytics, 'slow_snapshots', 1));

    const samples: [AnalyticsSeries, number | null][] = [
      ['fetch_latency', s.latencyMs],
      ['staleness', s.stalenessSec],
      ['strike_range', s.strikeRange],
      ['contract_count', s.failed ? null : s.contracts],
      ['contract_density', s.density],
    ];
    const cutoff = ts - this.retentionSec;
    for (const [series, value] of samples) {
      const key = k.analyticsSeries(series);
      // Every series is trimmed, with or without a value this time (an empty chain has no strike range).
      ops.push(r.zremrangebyscore(key, '-inf', `(${cutoff}`));
      if (value === null || !Number.isFinite(value)) continue;
      ops.push(r.zadd(key, ts, seriesMember(Math.round(value * 1000) / 1000, u, ts)));
    }
    await Promise.all(ops);
  }
}

export interface SeriesPoint {
  /** Unix seconds. */
  ts: number;
  value: number;
  symbol: string;
}

/** Reads a series since `sinceSec` (Unix seconds; optionally one symbol). */
export async function readSeries(
  bus: RedisBus,
  keys: KeySchema,
  series: AnalyticsSeries,
  sinceSec: number,
  symbol?: string,
): Promise<SeriesPoint[]> {
  const members = await bus.cmd.zrangebyscore(keys.analyticsSeries(series), sinceSec, '+inf');
  const out: SeriesPoint[] = [];
  for (const m of members) {
    try {
      const p = JSON.parse(m) as { v: number; s: string; t: number };
      if (symbol === undefined || p.s === symbol) out.push({ ts: p.t, value: p.v, symbol: p.s });
    } catch {
      // Not ours: ignore.
    }
  }
  return out;
}

export { ANALYTICS_SERIES };

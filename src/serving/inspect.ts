/**
 * @module The operator's view (`chain-worker inspect`, `GET /api/epochs`): per symbol the active epoch,
 * its age and state; then the analytics summary. Reads Redis only.
 */
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import { readSeries } from '../wiring/analytics.js';
import { EpochStore } from '../wiring/epoch-store.js';
import { msOfSeconds, unixSeconds } from '../lib/time.js';
import { readMetaFields } from './meta-fields.js';

export interface SymbolView {
  symbol: string;
  epoch_id: string | null;
  epoch_age_sec: number | null;
  status: string | null;
  /**
   * The active epoch's contract index is gone (its substrates expired: no worker kept it alive). Readers
   * treat it as expired: the builder publishes nothing from it and the last model stays, with its age.
   */
  expired: boolean;
  /** The epoch's latest write was a partial snapshot, and the expirations it missed. */
  partial: boolean;
  missing_expirations: string[];
  /** The provider that wrote the epoch (`massive`, `sim`, `replay`), when the meta says. */
  provider: string | null;
  dirty: boolean;
  dormant_count: number;
  forced_dirty: boolean;
  contract_count: number;
  strike_count: number;
  expiration_count: number;
  expirations: string[];
  spot: number | null;
  /** Unix seconds, as in Redis. */
  last_refresh_ts: number | null;
  last_health: string | null;
  /** Unix seconds, as in Redis. */
  last_cycle_ts: number | null;
  /**
   * What of the epoch's meta could not be read (`'spot: not a number (got "abc")'`, `'meta: not a hash
   * (WRONGTYPE …)'`); each such field reads as absent. Empty when the meta is sound.
   */
  meta_errors: string[];
}

export interface InspectView {
  /** Unix seconds: when the view was read. */
  ts: number;
  symbols: SymbolView[];
  analytics: {
    snapshots: number;
    failed_cycles: number;
    contracts: number;
    publish_failures: number;
    sla_violations: number;
    latency_ms: { count: number; avg: number | null; p95: number | null };
    health: Record<string, number>;
    coverage: Record<string, number>;
  };
  heartbeat: unknown;
}

/** A Redis WRONGTYPE reply (a key of another type), as opposed to Redis being unreachable. */
function isWrongType(err: unknown): err is Error {
  return err instanceof Error && err.message.startsWith('WRONGTYPE');
}

/** A read of one key that answers `fallback` and notes the error when the key is of another type. */
async function tolerant<T>(p: Promise<T>, fallback: T, onError: (e: Error) => void): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (!isWrongType(err)) throw err;
    onError(err);
    return fallback;
  }
}

/** The heartbeat JSON; an unreadable one says so rather than failing the view. */
function heartbeatOf(raw: string | null): unknown {
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return { status: 'unreadable', reason: 'massive:heartbeat is not JSON' };
  }
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}

/** Builds the inspect view. `symbols` are `{U}` names; all active symbols when omitted. */
export async function inspect(
  bus: RedisBus,
  keys: KeySchema,
  symbols?: string[],
  windowMs = 3_600_000,
): Promise<InspectView> {
  const r = bus.cmd;
  const now = Date.now();
  const epochs = new EpochStore(bus, keys);
  const active = await epochs.activeAll();
  const names = [...new Set([...(symbols ?? []), ...Object.keys(active)])].sort();
  const analytics = await r.hgetall(keys.analytics);
  const views: SymbolView[] = [];
  for (const symbol of names) {
    const id = active[symbol] ?? null;
    const metaErrors: string[] = [];
    const meta = id
      ? await tolerant(epochs.meta(id), {}, (e) => metaErrors.push(`meta: not a hash (${e.message})`))
      : {};
    const f = readMetaFields(meta);
    metaErrors.push(...f.errors);
    const dirty = id ? await epochs.isDirty(id) : false;
    const expired = id ? await epochs.indexExpired(id) : false;
    const created = f.created_ts === null ? null : msOfSeconds(f.created_ts);
    const lastTs = analytics[`last_ts:${symbol}`];
    views.push({
      symbol,
      epoch_id: id,
      epoch_age_sec: created === null ? null : Math.round((now - created) / 1000),
      status: meta.status ?? null,
      expired,
      partial: meta.partial === '1',
      missing_expirations: f.missing_expirations ?? [],
      provider: meta.provider || null,
      dirty,
      dormant_count: f.dormant_count ?? 0,
      forced_dirty: meta.forced_dirty === '1',
      contract_count: f.contract_count ?? 0,
      strike_count: f.strike_count ?? 0,
      expiration_count: f.expiration_count ?? 0,
      expirations: f.expirations ?? [],
      spot: f.spot,
      last_refresh_ts: f.last_refresh_ts,
      last_health: analytics[`last_health:${symbol}`] ?? meta.last_health ?? null,
      last_cycle_ts: lastTs && Number.isFinite(Number(lastTs)) ? Number(lastTs) : null,
      meta_errors: metaErrors,
    });
  }
  const latencies = (await readSeries(bus, keys, 'fetch_latency', unixSeconds(now - windowMs)))
    .map((p) => p.value)
    .sort((a, b) => a - b);
  const health = await r.hgetall(keys.fetchHealth);
  const coverage = await r.hgetall(keys.symbolCoverage);
  // A heartbeat key of another type reads as '' (unreadable), as a non-JSON one does.
  const hb = await tolerant(r.get(keys.heartbeat), '', () => undefined);
  const toNumbers = (h: Record<string, string>): Record<string, number> =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  return {
    ts: unixSeconds(now),
    symbols: views,
    analytics: {
      snapshots: Number(analytics.snapshots ?? 0),
      failed_cycles: Number(analytics.failed_cycles ?? 0),
      contracts: Number(analytics.contracts ?? 0),
      publish_failures: Number(analytics.publish_failures ?? 0),
      sla_violations: Number(analytics.sla_violations ?? 0),
      latency_ms: {
        count: latencies.length,
        avg: latencies.length
          ? Math.round((latencies.reduce((a, b) => a + b, 0) / latencies.length) * 10) / 10
          : null,
        p95: percentile(latencies, 95),
      },
      health: toNumbers(Object.fromEntries(Object.entries(health).filter(([k]) => !k.includes(':')))),
      coverage: toNumbers(coverage),
    },
    heartbeat: heartbeatOf(hb),
  };
}

/** Plain-text rendering for the terminal. */
export function renderInspect(v: InspectView): string {
  const lines: string[] = [];
  lines.push(
    'SYMBOL  EPOCH                     AGE    STATUS      DIRTY  DORMANT  FORCED  CONTRACTS  STRIKES  EXPS  HEALTH',
  );
  for (const s of v.symbols) {
    lines.push(
      [
        s.symbol.padEnd(7),
        (s.epoch_id ?? '-').padEnd(25),
        (s.epoch_age_sec === null ? '-' : `${s.epoch_age_sec}s`).padEnd(6),
        (s.expired ? `${s.status ?? '-'}/expired` : (s.status ?? '-')).padEnd(11),
        (s.dirty ? 'yes' : 'no').padEnd(6),
        String(s.dormant_count).padEnd(8),
        (s.forced_dirty ? 'yes' : 'no').padEnd(7),
        String(s.contract_count).padEnd(10),
        String(s.strike_count).padEnd(8),
        String(s.expiration_count).padEnd(5),
        s.last_health ?? '-',
      ].join(' '),
    );
  }
  for (const s of v.symbols) {
    if (s.meta_errors.length > 0)
      lines.push(`${s.symbol}: unreadable epoch meta: ${s.meta_errors.join('; ')}`);
  }
  const a = v.analytics;
  lines.push('');
  lines.push(
    `snapshots ${a.snapshots}  failed ${a.failed_cycles}  contracts ${a.contracts}  publish_failures ${a.publish_failures}  sla_violations ${a.sla_violations}`,
  );
  lines.push(
    `fetch latency (last hour): n=${a.latency_ms.count} avg=${a.latency_ms.avg ?? '-'} ms p95=${a.latency_ms.p95 ?? '-'} ms`,
  );
  lines.push(
    `health: ${
      Object.entries(a.health)
        .map(([k, n]) => `${k}=${n}`)
        .join(' ') || '-'
    }`,
  );
  const hb = v.heartbeat as { status?: string; reason?: string | null } | null;
  lines.push(`heartbeat: ${hb ? `${hb.status ?? '?'}${hb.reason ? ` (${hb.reason})` : ''}` : 'absent'}`);
  return lines.join('\n');
}

/**
 * @module The operator's view (`chain-worker inspect`, `GET /api/epochs`): per symbol the active epoch,
 * its age and state; then the analytics summary. Reads Redis only.
 */
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import { readSeries } from '../wiring/analytics.js';
import { EpochStore } from '../wiring/epoch-store.js';
import { msOfSeconds, unixSeconds } from '../lib/time.js';

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

/** A JSON array of strings from a meta field; [] when absent or not one. */
function jsonStrings(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
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
    const meta = id ? await epochs.meta(id) : {};
    const dirty = id ? await epochs.isDirty(id) : false;
    const expired = id ? await epochs.indexExpired(id) : false;
    const created = meta.created_ts ? msOfSeconds(meta.created_ts) : null;
    views.push({
      symbol,
      epoch_id: id,
      epoch_age_sec: created === null ? null : Math.round((now - created) / 1000),
      status: meta.status ?? null,
      expired,
      partial: meta.partial === '1',
      missing_expirations: jsonStrings(meta.missing_expirations),
      provider: meta.provider || null,
      dirty,
      dormant_count: Number(meta.dormant_count ?? 0),
      forced_dirty: meta.forced_dirty === '1',
      contract_count: Number(meta.contract_count ?? 0),
      strike_count: Number(meta.strike_count ?? 0),
      expiration_count: Number(meta.expiration_count ?? 0),
      expirations: meta.expirations ? (JSON.parse(meta.expirations) as string[]) : [],
      spot: meta.spot ? Number(meta.spot) : null,
      last_refresh_ts: meta.last_refresh_ts ? Number(meta.last_refresh_ts) : null,
      last_health: analytics[`last_health:${symbol}`] ?? meta.last_health ?? null,
      last_cycle_ts: analytics[`last_ts:${symbol}`] ? Number(analytics[`last_ts:${symbol}`]) : null,
    });
  }
  const latencies = (await readSeries(bus, keys, 'fetch_latency', unixSeconds(now - windowMs)))
    .map((p) => p.value)
    .sort((a, b) => a - b);
  const health = await r.hgetall(keys.fetchHealth);
  const coverage = await r.hgetall(keys.symbolCoverage);
  const hb = await r.get(keys.heartbeat);
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
    heartbeat: hb ? (JSON.parse(hb) as unknown) : null,
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

/**
 * @module One cycle for one symbol: fetch → normalize → write snapshot keys and substrates → refresh or
 * promote the epoch → flag dirty → publish → analytics. A failed fetch publishes nothing and leaves the
 * prior epoch as the fallback.
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import { normalizeSnapshot } from '../normalizers/registry.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import type { MassiveChainClient } from '../provider/massive/chain-client.js';
import { msOfSeconds, unixSeconds } from '../lib/time.js';
import type { ChainSnapshot, ParsedContract } from '../provider/massive/types.js';
import type { RedisBus } from '../redis/bus.js';
import { classifyError } from '../redis/errors.js';
import { underlyingOf, type KeySchema } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import { AnalyticsWriter, type CycleSample } from '../wiring/analytics.js';
import { EpochLostError, EpochStore, FencedError } from '../wiring/epoch-store.js';
import {
  buildKeepAliveWrites,
  buildPruneWrites,
  buildSnapshotWrites,
  latestEntry,
} from '../wiring/snapshot-writes.js';
import { decideEpoch } from './epoch-decision.js';
import { geometryOf, newEpochId } from './geometry.js';
import { classifyHealth, type HealthCategory } from './health.js';

export interface CycleDeps {
  bus: RedisBus;
  keys: KeySchema;
  client: MassiveChainClient;
  epochs: EpochStore;
  analytics: AnalyticsWriter;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /**
   * Called right before the first write of a cycle; false means this worker no longer holds the symbol's
   * lease, and the cycle writes nothing. (The promotion itself is fenced atomically in Redis.)
   */
  checkLease?: (symbol: string) => Promise<boolean>;
}

/** The dependencies of a cycle, built from the parts every caller already has. */
export function cycleDeps(
  parts: Pick<CycleDeps, 'bus' | 'keys' | 'client' | 'config' | 'logger' | 'metrics'>,
): CycleDeps {
  return {
    ...parts,
    epochs: new EpochStore(parts.bus, parts.keys),
    analytics: new AnalyticsWriter(parts.bus, parts.keys, parts.config.analyticsRetentionSec),
  };
}

export interface CyclePhases {
  fetch: number;
  normalize: number;
  write: number;
  promote: number;
  publish: number;
  analytics: number;
}

export interface CycleResult {
  symbol: string;
  underlying: string;
  ok: boolean;
  health: HealthCategory;
  epochId: string | null;
  promoted: boolean;
  contracts: number;
  latencyMs: number;
  cycleMs: number;
  burst: boolean;
  phases: CyclePhases;
  dormantCount: number;
  error?: Error;
  /** Shutdown abandoned the cycle: not a failure. */
  abandoned?: boolean;
}

/** Seconds between the newest vendor timestamp (ns, ms or s as sent) and the as-of time. */
function stalenessOf(newest: number | null, asOf: number): number | null {
  if (newest === null || newest <= 0) return null;
  const ms = newest > 1e15 ? newest / 1e6 : newest > 1e12 ? newest : newest * 1000;
  return Math.max(0, (asOf - ms) / 1000);
}

/**
 * Runs one cycle. Never throws for fetch or Redis errors: they come back as a failed result (the caller
 * decides about shutdown); an auth error is returned with `error` set to the MassiveAuthError.
 */
export interface CycleOptions {
  /** Aborts the fetch (shutdown). */
  signal?: AbortSignal;
  /** Fetch at most this many expirations (the burst cap, set by the worker while a burst lasts). */
  maxExpirations?: number;
}

export async function runCycle(
  deps: CycleDeps,
  symbol: string,
  leaseValue: string,
  opts: CycleOptions = {},
): Promise<CycleResult> {
  const started = performance.now();
  const phases: CyclePhases = { fetch: 0, normalize: 0, write: 0, promote: 0, publish: 0, analytics: 0 };

  let snapshot: ChainSnapshot;
  try {
    snapshot = await deps.client.fetchSnapshot(symbol, { ...opts, keepRaw: false });
  } catch (err) {
    phases.fetch = performance.now() - started;
    // Shutdown abandoned the fetch: the cycle did not fail, so nothing is recorded against the epoch.
    const abandoned = opts.signal?.aborted === true;
    return failCycle(deps, symbol, err as Error, started, phases, abandoned);
  }
  phases.fetch = performance.now() - started;
  return applySnapshot(deps, snapshot, leaseValue, started, phases);
}

/**
 * Everything after the fetch: normalize, write, refresh or promote, publish, analytics. Separate so the
 * benchmark can time the write path on a snapshot fetched once.
 */
export async function applySnapshot(
  deps: CycleDeps,
  snapshot: ChainSnapshot,
  leaseValue: string,
  started = performance.now(),
  phases: CyclePhases = { fetch: 0, normalize: 0, write: 0, promote: 0, publish: 0, analytics: 0 },
): Promise<CycleResult> {
  const { config, keys, bus, epochs, logger, metrics } = deps;
  const symbol = snapshot.symbol;
  const underlying = snapshot.underlying;
  const ttl = { snapshotSec: config.snapshotTtlSec, substrateSec: config.substrateTtlSec };
  const thresholds = { slowFetchMs: config.slowFetchMs, staleAfterSec: config.staleAfterSec };
  const tNorm = performance.now();
  const norm = normalizeSnapshot(snapshot.contracts, { underlying, asOf: snapshot.asOf });
  const byId = new Map<string, ContractSubstrate>();
  for (const r of norm.records) byId.set(r.id, r);
  const written: { contract: ParsedContract; record: ContractSubstrate }[] = [];
  for (const c of snapshot.contracts) {
    const record = byId.get(c.ticker);
    if (record) written.push({ contract: c, record });
  }
  // A 10,000-contract symbol normalizes in ~10 ms and hashes its geometry in ~10 ms: give the event loop a
  // turn between the two so health checks and SSE never wait for both.
  await new Promise<void>((r) => setImmediate(r));
  const geometry = geometryOf(written.map((w) => w.contract));
  const skipped = snapshot.skipped + norm.rejectedCount;
  const burst = written.length >= config.burstThreshold;
  const stalenessSec = stalenessOf(snapshot.newestVendorTs, snapshot.asOf);
  const health = classifyHealth(
    {
      failed: false,
      contractCount: written.length,
      partial: snapshot.partial,
      stalenessSec,
      latencyMs: snapshot.latencyMs,
    },
    thresholds,
  );
  phases.normalize = performance.now() - tNorm;

  try {
    if (deps.checkLease && !(await deps.checkLease(symbol)))
      throw new FencedError(`lease for ${underlying} lost before writing`);
    const active = await epochs.readActive(underlying);
    const decision = decideEpoch(active.view, active.id, geometry.hash);
    const epochId = decision.action === 'refresh' ? decision.epochId : newEpochId(underlying, Date.now());
    const generation = bus.generation;

    const tWrite = performance.now();
    await bus.writeBulk(buildSnapshotWrites(keys, snapshot, written, epochId, ttl));
    const now = unixSeconds();
    const common = {
      symbol: underlying,
      geometry_hash: geometry.hash,
      strike_count: geometry.strikeCount,
      expiration_count: geometry.expirationCount,
      contract_count: written.length,
      expirations: JSON.stringify(snapshot.expirations),
      last_refresh_ts: now,
      dormant_count: 0,
      spot: snapshot.spot === null ? '' : String(snapshot.spot),
      as_of: unixSeconds(snapshot.asOf),
      last_health: health,
      writer: leaseValue,
    };
    if (decision.action === 'promote') {
      await epochs.writeMeta(epochId, {
        ...common,
        created_ts: now,
        forced_dirty: decision.forced ? 1 : 0,
        status: 'active',
        prev_epoch: decision.prevEpochId ?? '',
      });
    } else {
      await epochs.writeMeta(epochId, { ...common, status: 'active' });
    }
    phases.write = performance.now() - tWrite;
    metrics.redisWriteSeconds.observe({ symbol: underlying }, phases.write / 1000);

    const tPromote = performance.now();
    if (decision.action === 'promote') {
      if (bus.isCluster && bus.generation !== generation)
        throw new EpochLostError('Redis reconnected while writing the epoch');
      let prev: string | null;
      try {
        prev = await epochs.flip(underlying, epochId, leaseValue);
      } catch (err) {
        // Not promoted (fenced, or Redis lost the epoch's keys): let the meta we wrote expire.
        await epochs.retire(epochId).catch(() => undefined);
        throw err;
      }
      await epochs.appendTimeline(underlying, epochId);
      const retired = prev ?? decision.prevEpochId;
      if (retired && retired !== epochId) {
        const prevIds = await epochs.contractIds(retired);
        await epochs.retire(retired);
        if (prevIds) {
          const current = new Set(geometry.ids);
          await bus.writeBulk(
            buildPruneWrites(
              keys,
              underlying,
              prevIds.filter((id) => !current.has(id)),
            ),
          );
        }
      }
      metrics.promotions.inc({ symbol: underlying, reason: decision.reason });
      logger.info(
        { symbol: underlying, epochId, prev: retired, reason: decision.reason, contracts: written.length },
        'epoch promoted',
      );
    } else if ((await bus.cmd.hget(keys.epochActive, underlying)) !== epochId) {
      // The epoch refreshed in place stopped being active while we wrote (Redis restarted and lost it, or
      // another worker promoted): announce nothing, and retire the meta we just wrote so it expires.
      await epochs.retire(epochId);
      throw new EpochLostError(`epoch ${epochId} is no longer active; its refresh is not announced`);
    }
    await epochs.markDirty(epochId);
    phases.promote = performance.now() - tPromote;

    const tPublish = performance.now();
    const summary = {
      symbol: underlying,
      epoch_id: epochId,
      ts: unixSeconds(),
      as_of: unixSeconds(snapshot.asOf),
      expirations: snapshot.expirations,
      contract_count: written.length,
      health,
      promoted: decision.action === 'promote',
      partial: snapshot.partial,
    };
    await bus.cmd.publish(keys.snapshotChannel, JSON.stringify(summary));
    if (config.latestMode !== 'off') {
      const entry = latestEntry({
        snapshot,
        epochId,
        health,
        contractCount: written.length,
        full: config.latestMode === 'full',
        written,
      });
      await bus.script('merge-latest-1', [keys.latest], [underlying, entry]);
    }
    phases.publish = performance.now() - tPublish;

    const tAnalytics = performance.now();
    const cycleMs = performance.now() - started;
    await deps.analytics.record({
      underlying,
      ts: Date.now(),
      health,
      latencyMs: snapshot.latencyMs,
      contracts: written.length,
      pages: snapshot.pages,
      retries: snapshot.retries,
      skipped,
      stalenessSec,
      strikeRange:
        geometry.minStrike === null || geometry.maxStrike === null
          ? null
          : geometry.maxStrike - geometry.minStrike,
      density: geometry.strikeCount > 0 ? written.length / geometry.strikeCount : null,
      burst,
      failed: false,
      slaViolation: cycleMs > config.intervalSec * 1000,
    });
    phases.analytics = performance.now() - tAnalytics;

    metrics.cycleSeconds.observe({ symbol: underlying }, cycleMs / 1000);
    if (snapshot.pages > 0)
      metrics.pageSeconds.observe({ symbol: underlying }, snapshot.latencyMs / snapshot.pages / 1000);
    metrics.contractsPerSnapshot.observe({ symbol: underlying }, written.length);
    metrics.pages.inc({ symbol: underlying }, snapshot.pages);
    metrics.retries.inc({ symbol: underlying }, snapshot.retries);
    for (const [reason, n] of Object.entries({ ...snapshot.skippedReasons, ...norm.rejected })) {
      metrics.skipped.inc({ symbol: underlying, reason }, n);
    }
    metrics.health.inc({ symbol: underlying, category: health });
    if (skipped > 0)
      logger.warn(
        { symbol: underlying, skipped, reasons: { ...snapshot.skippedReasons, ...norm.rejected } },
        'contracts skipped',
      );

    return {
      symbol,
      underlying,
      ok: true,
      health,
      epochId,
      promoted: decision.action === 'promote',
      contracts: written.length,
      latencyMs: snapshot.latencyMs,
      cycleMs,
      burst,
      phases,
      dormantCount: 0,
    };
  } catch (err) {
    return failCycle(deps, symbol, err as Error, started, phases);
  }
}

async function failCycle(
  deps: CycleDeps,
  symbol: string,
  error: Error,
  started: number,
  phases: CyclePhases,
  abandoned = false,
): Promise<CycleResult> {
  const { config, keys, bus, epochs, logger, metrics } = deps;
  const underlying = underlyingOf(symbol);
  if (abandoned) {
    logger.info({ symbol: underlying, err: error.message }, 'cycle abandoned: shutting down');
  } else if (error instanceof FencedError) {
    // Another worker owns the symbol now: nothing of ours to mark failed or keep alive.
    metrics.errors.inc({ kind: 'fenced' });
    logger.info({ symbol: underlying, err: error.message }, 'cycle abandoned: lease lost');
  }
  if (abandoned || error instanceof FencedError) {
    return {
      symbol,
      underlying,
      ok: false,
      health: 'failed',
      epochId: null,
      promoted: false,
      contracts: 0,
      latencyMs: phases.fetch,
      cycleMs: performance.now() - started,
      burst: false,
      phases,
      dormantCount: 0,
      error,
      ...(abandoned ? { abandoned: true } : {}),
    };
  }
  const kind = classifyError(error);
  metrics.errors.inc({ kind });
  metrics.health.inc({ symbol: underlying, category: 'failed' });
  logger.warn({ symbol: underlying, kind, err: error.message }, 'cycle failed');
  let dormantCount = 0;
  let epochId: string | null = null;
  const sample: CycleSample = {
    underlying,
    ts: Date.now(),
    health: 'failed',
    latencyMs: phases.fetch,
    contracts: 0,
    pages: 0,
    retries: 0,
    skipped: 0,
    stalenessSec: null,
    strikeRange: null,
    density: null,
    burst: false,
    failed: true,
    slaViolation: true,
    errorKind: kind,
  };
  if (bus.client.status !== 'ready') {
    // Redis is unreachable: every command below would wait out its reconnect retries. Keep the sample for
    // the first write after Redis is back.
    deps.analytics.defer(sample);
  } else {
    try {
      // Keep the fallback epoch alive before counting the failure against it: a Redis out of memory still
      // accepts EXPIRE but refuses the dormant counter, and the fallback must outlive the refusal.
      const active = await epochs.readActive(underlying);
      epochId = active.id;
      if (active.id && active.view) {
        const lastRefresh = msOfSeconds(active.meta.last_refresh_ts ?? 0);
        if (Date.now() - lastRefresh < config.fallbackMaxSec * 1000) {
          const ids = await epochs.contractIds(active.id);
          if (ids) {
            const ttl = { snapshotSec: config.snapshotTtlSec, substrateSec: config.substrateTtlSec };
            await bus.writeBulk(buildKeepAliveWrites(keys, underlying, active.id, ids, ttl));
          }
        }
      }
      const f = await epochs.recordFailure(underlying, config.dormantThreshold);
      dormantCount = f.dormantCount;
      epochId = f.epochId;
    } catch (redisErr) {
      logger.warn(
        { symbol: underlying, err: (redisErr as Error).message },
        'could not mark the fallback epoch',
      );
    }
    // Separately: a sample Redis refuses is kept by the analytics writer and written once Redis takes writes.
    try {
      await deps.analytics.record(sample);
    } catch (redisErr) {
      logger.warn(
        { symbol: underlying, err: (redisErr as Error).message },
        'could not record the failed cycle',
      );
    }
  }
  const cycleMs = performance.now() - started;
  return {
    symbol,
    underlying,
    ok: false,
    health: 'failed',
    epochId,
    promoted: false,
    contracts: 0,
    latencyMs: phases.fetch,
    cycleMs,
    burst: false,
    phases,
    dormantCount,
    error,
  };
}

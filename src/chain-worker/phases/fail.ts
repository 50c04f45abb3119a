/**
 * @module A failed cycle: counted, and the prior epoch kept as the fallback (its keys kept alive, its
 * dormant count raised). A cycle abandoned by shutdown or a lost lease records nothing.
 */
import { msOfSeconds } from '../../lib/time.js';
import { classifyError } from '../../redis/errors.js';
import { underlyingOf } from '../../redis/keys.js';
import type { CycleSample } from '../../wiring/analytics.js';
import { FencedError } from '../../wiring/epoch-store.js';
import { buildKeepAliveWrites } from '../../wiring/snapshot-writes.js';
import type { CycleDeps, CyclePhases, CycleResult } from './context.js';

/**
 * True when the worker's lease on `symbol` is known lost: a cycle that failed after that is another
 * worker's business. Asked only while Redis answers (the question would wait out a reconnect) and only of
 * a worker that holds leases; an error asking counts as "not known lost".
 */
async function leaseLost(deps: CycleDeps, symbol: string): Promise<boolean> {
  if (!deps.checkLease || !deps.bus.connected) return false;
  try {
    return !(await deps.checkLease(symbol));
  } catch {
    return false;
  }
}

export async function failCycle(
  deps: CycleDeps,
  symbol: string,
  failure: Error,
  started: number,
  phases: CyclePhases,
  abandoned = false,
): Promise<CycleResult> {
  const { config, keys, bus, epochs, logger, metrics } = deps;
  const underlying = underlyingOf(symbol);
  // A fetch that failed once the lease was gone (it can take minutes of retries): the active epoch is the
  // new owner's, so its dormant count and keys are not ours to touch. Reported as fenced.
  const error =
    !abandoned && !(failure instanceof FencedError) && (await leaseLost(deps, symbol))
      ? new FencedError(`lease for ${underlying} lost while the cycle failed: ${failure.message}`, {
          cause: failure,
        })
      : failure;
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
  if (!bus.connected) {
    // Redis is unreachable: every command below would wait out its reconnect retries. Keep the sample for
    // the first write after Redis is back.
    deps.analytics.defer(sample);
  } else {
    try {
      // Keep the fallback epoch alive before counting the failure against it: a Redis out of memory still
      // accepts EXPIRE but may refuse the dormant counter, and the fallback must outlive the refusal.
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

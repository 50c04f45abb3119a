/**
 * @module Phase "analytics": the cycle's sample in the analytics keys, and its metrics.
 */
import type { CycleDeps, CycleState } from './context.js';
import { unixSeconds } from '../../lib/time.js';

/** Analytics hash counter of fetched contracts a partial snapshot found outside the active epoch. */
export const OUTSIDE_GEOMETRY_FIELD = 'outside_geometry_contracts';

export async function analyticsPhase(deps: CycleDeps, s: CycleState, cycleMs: number): Promise<void> {
  const { config, metrics, logger } = deps;
  const { snapshot, norm, plan } = s;
  const underlying = snapshot.underlying;
  const g = norm.geometry;
  await deps.analytics.record({
    underlying,
    ts: Date.now(),
    health: norm.health,
    latencyMs: snapshot.latencyMs,
    contracts: norm.written.length,
    pages: snapshot.pages,
    retries: snapshot.retries,
    skipped: norm.skipped,
    stalenessSec: norm.stalenessSec,
    strikeRange: g.minStrike === null || g.maxStrike === null ? null : g.maxStrike - g.minStrike,
    density: g.strikeCount > 0 ? norm.written.length / g.strikeCount : null,
    burst: norm.burst,
    failed: false,
    slaViolation: cycleMs > config.intervalSec * 1000,
  });
  const outside = plan.split?.outside.length ?? 0;
  if (outside > 0) await deps.bus.cmd.hincrby(deps.keys.analytics, OUTSIDE_GEOMETRY_FIELD, outside);

  metrics.cycleSeconds.observe({ symbol: underlying }, cycleMs / 1000);
  if (snapshot.pages > 0)
    metrics.pageSeconds.observe({ symbol: underlying }, snapshot.latencyMs / snapshot.pages / 1000);
  metrics.contractsPerSnapshot.observe({ symbol: underlying }, norm.written.length);
  metrics.pages.inc({ symbol: underlying }, snapshot.pages);
  metrics.retries.inc({ symbol: underlying }, snapshot.retries);
  for (const [reason, n] of Object.entries(norm.skippedReasons)) {
    metrics.skipped.inc({ symbol: underlying, reason }, n);
  }
  metrics.health.inc({ symbol: underlying, category: norm.health });
  metrics.lastSuccess.set({ symbol: underlying }, unixSeconds());
  if (norm.skipped > 0)
    logger.warn(
      { symbol: underlying, skipped: norm.skipped, reasons: norm.skippedReasons },
      'contracts skipped',
    );
  if (snapshot.partial)
    logger.warn(
      {
        symbol: underlying,
        epochId: plan.epochId,
        missing: norm.missingExpirations,
        merged: plan.split !== null,
        outside,
      },
      'partial snapshot',
    );
}

/**
 * @module One cycle for one symbol, as its phases: fetch → normalize → plan → write → promote or refresh
 * (flag dirty) → publish (and tell the cycle observers) → `massive:chain:latest` → analytics. Each phase is a function of its own in `phases/`. A failed fetch
 * publishes nothing and leaves the prior epoch as the fallback; a partial snapshot never shrinks the
 * active epoch (it is merged into it).
 */
import { modelWork } from '../lib/quiet-gate.js';
import { AnalyticsWriter } from '../wiring/analytics.js';
import { ChainLatestStore } from '../wiring/chain-latest.js';
import { EpochStore, FencedError } from '../wiring/epoch-store.js';
import type { FetchOptions } from '../provider/massive/chain-client.js';
import type { ChainSnapshot } from '../provider/massive/types.js';
import { cycleObservers } from '../outputs/index.js';
import { analyticsPhase } from './phases/analytics.js';
import { commitPhase } from './phases/commit.js';
import {
  zeroPhases,
  type CycleDeps,
  type CyclePhases,
  type CycleResult,
  type CycleState,
} from './phases/context.js';
import { failCycle } from './phases/fail.js';
import { normalizePhase } from './phases/normalize.js';
import { observePhase } from './phases/observe.js';
import { planPhase } from './phases/plan.js';
import { latestPhase, publishPhase } from './phases/publish.js';
import { writePhase } from './phases/write.js';

export type { CycleDeps, CyclePhases, CycleResult } from './phases/context.js';

/** The dependencies of a cycle, built from the parts every caller already has. */
export function cycleDeps(
  parts: Pick<CycleDeps, 'bus' | 'keys' | 'client' | 'config' | 'logger' | 'metrics'> &
    Pick<Partial<CycleDeps>, 'observers'>,
): CycleDeps {
  return {
    ...parts,
    epochs: new EpochStore(parts.bus, parts.keys),
    analytics: new AnalyticsWriter(parts.bus, parts.keys, parts.config.analyticsRetentionSec),
    latest: new ChainLatestStore(parts.bus, parts.keys, parts.logger),
    observers: parts.observers ?? cycleObservers(parts),
  };
}

export interface CycleOptions {
  /** Aborts the fetch (shutdown). */
  signal?: AbortSignal;
  /** Fetch at most this many expirations (the burst cap, set by the worker while a burst lasts). */
  maxExpirations?: number;
}

/**
 * How a cycle fetches: without the vendor objects (only the lifted fields and the bytes), and, on a
 * single server, with each page's bulk writes pre-encoded on the page threads (wiring/page-writes.ts).
 */
export function cycleFetchOptions(deps: Pick<CycleDeps, 'bus' | 'keys' | 'config'>): FetchOptions {
  return {
    keepRaw: false,
    ...(deps.bus.isCluster
      ? {}
      : {
          writes: {
            prefix: deps.keys.prefix,
            snapshotSec: deps.config.snapshotTtlSec,
            substrateSec: deps.config.substrateTtlSec,
          },
        }),
  };
}

/**
 * Runs one cycle. Never throws for fetch or Redis errors: they come back as a failed result (the caller
 * decides about shutdown); an auth error is returned with `error` set to the MassiveAuthError.
 */
export async function runCycle(
  deps: CycleDeps,
  symbol: string,
  leaseValue: string,
  opts: CycleOptions = {},
): Promise<CycleResult> {
  const started = performance.now();
  const phases = zeroPhases();
  // The document's assembly of another symbol of this process waits for this cycle's part (bounded).
  deps.latest.begin(symbol);
  // The history's encodes on the model thread wait while cycles and builds are in flight (lib/quiet-gate.ts).
  const release = modelWork.hold();
  try {
    let snapshot: ChainSnapshot;
    try {
      snapshot = await deps.client.fetchSnapshot(symbol, { ...opts, ...cycleFetchOptions(deps) });
    } catch (err) {
      phases.fetch = performance.now() - started;
      // Shutdown abandoned the fetch: the cycle did not fail, so nothing is recorded against the epoch.
      const abandoned = opts.signal?.aborted === true;
      return await failCycle(deps, symbol, err as Error, started, phases, abandoned);
    }
    phases.fetch = performance.now() - started;
    return await applySnapshot(deps, snapshot, leaseValue, started, phases);
  } finally {
    release();
    deps.latest.end(symbol);
  }
}

/** Runs one phase and adds its time; a phase that throws adds nothing, so a failed result's zero names where it stopped. */
async function timed<T>(phases: CyclePhases, name: keyof CyclePhases, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  phases[name] += performance.now() - t0;
  return out;
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
  phases: CyclePhases = zeroPhases(),
): Promise<CycleResult> {
  const { config, metrics } = deps;
  const underlying = snapshot.underlying;
  const norm = await timed(phases, 'normalize', () =>
    normalizePhase({
      snapshot,
      burstThreshold: config.burstThreshold,
      thresholds: { slowFetchMs: config.slowFetchMs, staleAfterSec: config.staleAfterSec },
    }),
  );
  try {
    if (deps.checkLease && !(await deps.checkLease(snapshot.symbol)))
      throw new FencedError(`lease for ${underlying} lost before writing`);
    const plan = await planPhase(deps, underlying, norm, snapshot.partial);
    const state: CycleState = { snapshot, norm, plan, leaseValue };
    await timed(phases, 'write', () => writePhase(deps, state));
    metrics.redisWriteSeconds.observe({ symbol: underlying }, phases.write / 1000);
    const commit = await timed(phases, 'promote', () => commitPhase(deps, state));
    // The build starts now, beside the publish; its models are written once the epoch is announced.
    deps.handoff?.hold(plan.epochId);
    try {
      deps.onCommitted?.();
      await timed(phases, 'publish', async () => {
        await publishPhase(deps, state);
        await observePhase(deps, state, commit);
      });
    } finally {
      deps.handoff?.release(plan.epochId);
    }
    // After the release: the models are written meanwhile, not after the multi-MB document.
    await timed(phases, 'latest', () => latestPhase(deps, state));
    const cycleMs = performance.now() - started;
    await timed(phases, 'analytics', () => analyticsPhase(deps, state, cycleMs));
    return {
      symbol: snapshot.symbol,
      underlying,
      ok: true,
      health: norm.health,
      epochId: plan.epochId,
      promoted: plan.decision.action === 'promote',
      ...(plan.decision.action === 'promote'
        ? { promoteReason: plan.decision.reason, prevEpochId: commit.prevEpochId }
        : {}),
      contracts: norm.written.length,
      latencyMs: snapshot.latencyMs,
      cycleMs,
      burst: norm.burst,
      phases,
      dormantCount: 0,
      partial: snapshot.partial,
      missingExpirations: norm.missingExpirations,
      merged: plan.split !== null,
      ...(plan.decision.action === 'merge' && plan.decision.dormant ? { stillDormant: true } : {}),
      outsideGeometry: plan.split?.outside.length ?? 0,
    };
  } catch (err) {
    return failCycle(deps, snapshot.symbol, err as Error, started, phases);
  }
}

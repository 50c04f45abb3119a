/**
 * @module Phase "plan": reads the active epoch (and, for a partial snapshot, its contract index) and
 * decides what this cycle does to it: refresh in place, merge a partial snapshot, or promote a new epoch.
 */
import { decideEpoch, type EpochDecision } from '../epoch-decision.js';
import { newEpochId } from '../geometry.js';
import { splitByGeometry, type GeometrySplit } from '../partial.js';
import type { WrittenContract } from '../../wiring/snapshot-writes.js';
import type { CycleDeps } from './context.js';
import type { NormalizedSnapshot } from './normalize.js';

export interface CyclePlan {
  decision: EpochDecision;
  /** The epoch this cycle writes: the active one, or a new id. */
  epochId: string;
  /** A merge: the fetched contracts split against the epoch's contract index. */
  split: GeometrySplit<WrittenContract> | null;
  /** Contracts the epoch holds after this cycle. */
  epochContractCount: number;
  /** The bus connection generation when the plan was made (a cluster reconnect invalidates it). */
  generation: number;
  /** The active epoch's expirations before this cycle (from its meta; null when there is none). */
  activeExpirations: string[] | null;
}

function expirationsOf(meta: Record<string, string>): string[] | null {
  if (!meta.expirations) return null;
  try {
    const v: unknown = JSON.parse(meta.expirations);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
  } catch {
    return null;
  }
}

export async function planPhase(
  deps: Pick<CycleDeps, 'bus' | 'epochs'>,
  underlying: string,
  norm: NormalizedSnapshot,
  partial: boolean,
): Promise<CyclePlan> {
  const generation = deps.bus.generation;
  const active = await deps.epochs.readActive(underlying);
  const index = partial && active.id && active.view ? await deps.epochs.contractIds(active.id) : null;
  const activeExpirations = expirationsOf(active.meta);
  const decision = decideEpoch(active.view, active.id, norm.geometry.hash, {
    partial,
    activeIndex: index !== null,
  });
  if (decision.action === 'merge') {
    const split = splitByGeometry(index ?? [], norm.written, (w) => w.contract.ticker);
    return {
      decision,
      epochId: decision.epochId,
      split,
      epochContractCount: index?.length ?? 0,
      generation,
      activeExpirations,
    };
  }
  return {
    decision,
    epochId: decision.action === 'refresh' ? decision.epochId : newEpochId(underlying, Date.now()),
    split: null,
    epochContractCount: norm.written.length,
    generation,
    activeExpirations,
  };
}

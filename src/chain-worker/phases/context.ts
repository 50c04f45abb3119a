/**
 * @module What the phases of one cycle share: the dependencies, the phase timings and the result shape.
 */
import type { Config } from '../../config/load.js';
import type { Logger } from '../../lib/logger.js';
import type { MassiveChainClient } from '../../provider/massive/chain-client.js';
import type { ChainSnapshot } from '../../provider/massive/types.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';
import type { CycleObserver } from '../../outputs/observers.js';
import type { Metrics } from '../../serving/metrics.js';
import type { AnalyticsWriter } from '../../wiring/analytics.js';
import type { ChainLatestStore } from '../../wiring/chain-latest.js';
import type { EpochStore } from '../../wiring/epoch-store.js';
import type { SubstrateHandoff } from '../../models/substrate-handoff.js';
import type { HealthCategory } from '../health.js';
import type { NormalizedSnapshot } from './normalize.js';
import type { CyclePlan } from './plan.js';

export interface CycleDeps {
  bus: RedisBus;
  keys: KeySchema;
  client: MassiveChainClient;
  epochs: EpochStore;
  analytics: AnalyticsWriter;
  /** `massive:chain:latest`: this process's part writer and assembler (one per process: assemblies coalesce). */
  latest: ChainLatestStore;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /**
   * Called right before the first write of a cycle; false means this worker no longer holds the symbol's
   * lease, and the cycle writes nothing. (The promotion itself is fenced atomically in Redis.)
   */
  checkLease?: (symbol: string) => Promise<boolean>;
  /** Outputs told about every applied snapshot (cycleDeps: those the configuration asks for). */
  observers?: readonly CycleObserver[];
  /** The model builder of this process: given the substrates written, so it need not read them back. */
  handoff?: SubstrateHandoff;
  /**
   * Called once the cycle's epoch is committed and flagged dirty, before the publish phase: the worker
   * starts the model build here (its models are written after the cycle's announcement and observers, see
   * handoff; `massive:chain:latest` is written after that release, beside the models).
   */
  onCommitted?: () => void;
}

export interface CyclePhases {
  fetch: number;
  normalize: number;
  write: number;
  promote: number;
  publish: number;
  /** The symbol's part of `massive:chain:latest` and the document's assembly (after the models were released). */
  latest: number;
  analytics: number;
}

export function zeroPhases(): CyclePhases {
  return { fetch: 0, normalize: 0, write: 0, promote: 0, publish: 0, latest: 0, analytics: 0 };
}

export interface CycleResult {
  symbol: string;
  underlying: string;
  ok: boolean;
  health: HealthCategory;
  epochId: string | null;
  promoted: boolean;
  /** A promotion: why (`first`, `geometry`, `recovery`, ...). */
  promoteReason?: string;
  /** A promotion: the epoch it replaced (null: none). */
  prevEpochId?: string | null;
  /** Contracts written by this cycle (fetched and accepted). */
  contracts: number;
  latencyMs: number;
  cycleMs: number;
  burst: boolean;
  phases: CyclePhases;
  dormantCount: number;
  error?: Error;
  /** Shutdown abandoned the cycle: not a failure. */
  abandoned?: boolean;
  /** The snapshot was partial (some expiration streams did not complete). */
  partial?: boolean;
  /** Expirations whose stream did not complete. */
  missingExpirations?: string[];
  /** A partial snapshot merged into the active epoch (its geometry and other contracts kept). */
  merged?: boolean;
  /** The epoch stays dormant after this successful cycle (a partial snapshot merged into a dormant epoch). */
  stillDormant?: boolean;
  /** Fetched contracts outside the active epoch's geometry (merge only): written as raw keys alone. */
  outsideGeometry?: number;
}

/** One cycle's data after the fetch, as the Redis phases see it. */
export interface CycleState {
  snapshot: ChainSnapshot;
  norm: NormalizedSnapshot;
  plan: CyclePlan;
  leaseValue: string;
}

/**
 * @module The outputs the configuration asks for, as observers the builder and the worker call: the
 * events stream (`massive:events`, always) and MarketSwarm's outputs (`CHAIN_COMPAT=marketswarm`).
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import type { WorkerRpc } from '../lib/worker-rpc.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import { HistoryRecorder } from './history/recorder.js';
import { EventsOutput } from './events/writer.js';
import { MarketSwarmSubscriptions } from './marketswarm/subscriptions.js';
import { MarketSwarmOutput } from './marketswarm/writer.js';
import type { CycleObserver, ModelObserver } from './observers.js';

export type {
  CycleObserver,
  ModelObserver,
  ModelsPublished,
  SubstratesRead,
  SnapshotApplied,
  HealthChanged,
  SymbolDormant,
  SymbolRecovered,
  WorkerShutdown,
} from './observers.js';

/**
 * Model observers for `config`: `CHAIN_COMPAT=marketswarm` adds MarketSwarm's outputs,
 * `CHAIN_MODEL_HISTORY_SEC` > 0 the history.
 */
export function modelObservers(deps: {
  bus: RedisBus;
  keys: KeySchema;
  config: Pick<
    Config,
    | 'compat'
    | 'compatReplayMaxLen'
    | 'modelHistorySec'
    | 'modelHistoryStreamSec'
    | 'eventsMaxLen'
    | 'eventsZeroGammaBandPct'
    | 'eventsRegimeBandPct'
    | 'eventsWallConfirmBuilds'
  >;
  logger: Logger;
  /** The thread the history encodes on (the model thread's); absent, it starts one of its own. */
  historyThread?: WorkerRpc | null;
}): ModelObserver[] {
  const out: ModelObserver[] = [];
  if (deps.config.compat === 'marketswarm')
    out.push(new MarketSwarmOutput(deps.bus, deps.keys, deps.logger, deps.config.compatReplayMaxLen));
  if (deps.config.modelHistorySec > 0)
    out.push(new HistoryRecorder(deps.bus, deps.keys, deps.config, deps.logger, deps.historyThread));
  out.push(new EventsOutput(deps.bus, deps.keys, deps.config, deps.logger));
  return out;
}

/** Closes the observers that have something to close (queued history writes, threads), all at once. */
export async function closeObservers(observers: readonly ModelObserver[]): Promise<void> {
  await Promise.all(observers.map((o) => (o.close ? o.close() : Promise.resolve())));
}

/** Shutdown began: every observer stops taking work and drops its queue ({@link ModelObserver.quiesce}). */
export function quiesceObservers(observers: readonly ModelObserver[]): void {
  for (const o of observers) o.quiesce?.();
}

/** Cycle observers for `config`: told about every applied snapshot and the worker's health, dormancy and shutdown. */
export function cycleObservers(deps: {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
}): CycleObserver[] {
  const out: CycleObserver[] = [new EventsOutput(deps.bus, deps.keys, deps.config, deps.logger)];
  if (deps.config.compat === 'marketswarm')
    out.push(new MarketSwarmSubscriptions(deps.bus, deps.keys, deps.config, deps.logger));
  return out;
}

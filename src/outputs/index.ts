/**
 * @module The outputs the configuration asks for, as observers the builder and the worker call.
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import { MarketSwarmOutput } from './marketswarm/writer.js';
import type { CycleObserver, ModelObserver } from './observers.js';

export type {
  CycleObserver,
  ModelObserver,
  ModelsPublished,
  SnapshotApplied,
  HealthChanged,
  SymbolDormant,
  SymbolRecovered,
  WorkerShutdown,
} from './observers.js';

/** Model observers for `config` (`CHAIN_COMPAT=marketswarm` adds MarketSwarm's outputs). */
export function modelObservers(deps: {
  bus: RedisBus;
  keys: KeySchema;
  config: Pick<Config, 'compat'>;
  logger: Logger;
}): ModelObserver[] {
  return deps.config.compat === 'marketswarm'
    ? [new MarketSwarmOutput(deps.bus, deps.keys, deps.logger)]
    : [];
}

/** Cycle observers for `config`: told about every applied snapshot and the worker's health, dormancy and shutdown. */
export function cycleObservers(_deps: {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
}): CycleObserver[] {
  return [];
}

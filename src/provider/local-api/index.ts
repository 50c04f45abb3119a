/** @module The local Massive-compatible API: server, datasets (sim, replay, fixtures) and fault knobs. */
export type { AdjustableDataset, ChainData, IndexSession, MarketDataset } from './dataset.js';
export { isAdjustable } from './dataset.js';
export {
  DEFAULT_FAULTS,
  QUEUED_FAULTS,
  type FaultConfig,
  type FaultPatch,
  type QueuedFault,
} from './faults.js';
export type { LocalApiStats } from './stats.js';
export { startLocalApi, type LocalApiLogger, type LocalApiOptions, type LocalApiServer } from './server.js';
export {
  runFixtureServer,
  runReplayServer,
  runSimServer,
  type ReplayServer,
  type RunSimServerOptions,
  type ServeOptions,
  type SimServer,
} from './run.js';
export {
  SimMarket,
  type OffHoursMode,
  type SimMarketKnobs,
  type SimMarketOptions,
} from '../sim/sim-market.js';
export { ReplayDataset, loadReplayDataset } from '../replay/replay-dataset.js';
export { fixtureRecording } from '../replay/fixture-recording.js';
export { captureRecording } from '../replay/capture.js';
export { loadRecording, writeRecording, RecordingError, type Recording } from '../replay/recording.js';

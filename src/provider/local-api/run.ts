/**
 * @module One-call servers: the simulated market (`chain-worker sim-server`) or a recording, on the local
 * Massive-compatible API.
 */
import { fixtureRecording } from '../replay/fixture-recording.js';
import { loadReplayDataset, ReplayDataset } from '../replay/replay-dataset.js';
import { SimMarket, type SimMarketOptions } from '../sim/sim-market.js';
import { startLocalApi, type LocalApiOptions, type LocalApiServer } from './server.js';

/** Server options other than the dataset. */
export type ServeOptions = Omit<LocalApiOptions, 'dataset'>;

export interface RunSimServerOptions extends SimMarketOptions, ServeOptions {}

export interface SimServer extends LocalApiServer {
  readonly market: SimMarket;
}

export interface ReplayServer extends LocalApiServer {
  readonly replay: ReplayDataset;
}

/**
 * Builds a {@link SimMarket} and serves it. `seed` seeds both the market and the fault PRNG.
 *
 * @example
 * const server = await runSimServer({ port: 0, seed: 7, burst: true });
 * // GET `${server.url}/v3/snapshot/options/I:SPX?limit=250` …
 * await server.close();
 */
export async function runSimServer(opts: RunSimServerOptions = {}): Promise<SimServer> {
  const {
    seed,
    tickMs,
    clock,
    burst,
    offHours,
    contractsPerExpiration,
    burstContractsPerExpiration,
    burstExpirations,
    ...serve
  } = opts;
  const marketOptions: SimMarketOptions = {};
  if (seed !== undefined) marketOptions.seed = seed;
  if (tickMs !== undefined) marketOptions.tickMs = tickMs;
  if (clock !== undefined) marketOptions.clock = clock;
  if (burst !== undefined) marketOptions.burst = burst;
  if (offHours !== undefined) marketOptions.offHours = offHours;
  if (contractsPerExpiration !== undefined) marketOptions.contractsPerExpiration = contractsPerExpiration;
  if (burstContractsPerExpiration !== undefined)
    marketOptions.burstContractsPerExpiration = burstContractsPerExpiration;
  if (burstExpirations !== undefined) marketOptions.burstExpirations = burstExpirations;
  const market = new SimMarket(marketOptions);
  const server = await startLocalApi({ ...serve, ...(seed !== undefined ? { seed } : {}), dataset: market });
  return Object.assign(server, { market });
}

/** Loads a recording file (validated) and serves it. */
export async function runReplayServer(opts: ServeOptions & { file: string }): Promise<ReplayServer> {
  const { file, ...serve } = opts;
  const replay = await loadReplayDataset(file);
  return Object.assign(await startLocalApi({ ...serve, dataset: replay }), { replay });
}

/** Serves the shared Massive fixtures (the AAPL example chain) as a recording. */
export async function runFixtureServer(opts: ServeOptions = {}): Promise<ReplayServer> {
  const replay = new ReplayDataset(fixtureRecording());
  return Object.assign(await startLocalApi({ ...opts, dataset: replay }), { replay });
}

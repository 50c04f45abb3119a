/**
 * @module Builds the provider from config: the `massive` client against the real API, or the same client
 * against the local Massive-compatible API serving the simulated market (`sim`) or a recording
 * (`replay`), started in-process on an ephemeral loopback port. The client is always the real one.
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import type { MarketDataset } from './local-api/dataset.js';
import { startLocalApi, type LocalApiServer } from './local-api/server.js';
import { MassiveChainClient } from './massive/chain-client.js';
import { MassiveHttp } from './massive/http.js';
import { ReplayDataset } from './replay/replay-dataset.js';
import { loadRecording, RecordingError } from './replay/recording.js';
import { ConfigError } from '../config/errors.js';
import { SimMarket } from './sim/sim-market.js';
import { NO_STREAM_SOURCE, SimStreamSource } from './local-api/ws-feed.js';
import { startStreamServer, type StreamServer } from './local-api/ws-server.js';

/** The vendor's real-time WebSocket (`wss://delayed.massive.com` is the 15-minute delayed feed). */
export const MASSIVE_WS_URL = 'wss://socket.massive.com';

export interface Provider {
  kind: Config['provider'];
  client: MassiveChainClient;
  http: MassiveHttp;
  /** The as-of clock (wall time; `recorded_at` in replay). */
  clock: () => number;
  /** The in-process local API (sim and replay). */
  localApi?: LocalApiServer;
  dataset?: MarketDataset;
  /** The WebSocket base URL to stream from, when the provider streams (`MASSIVE_STREAM=on`). */
  wsUrl?: string;
  /** The in-process stream server (sim). */
  streamServer?: StreamServer;
  close(): Promise<void>;
}

/** Creates the provider. Starts the local API for `sim` and `replay`. */
export async function createProvider(config: Config, logger: Logger): Promise<Provider> {
  let baseUrl = config.baseUrl;
  let localApi: LocalApiServer | undefined;
  let dataset: MarketDataset | undefined;
  let clock: () => number = Date.now;
  if (config.provider === 'sim' || config.provider === 'replay') {
    if (config.provider === 'sim') {
      dataset = new SimMarket({
        seed: config.simSeed,
        burst: config.simBurst,
        contractsPerExpiration: config.simContractsPerExpiration,
        offHours: config.simOffHours,
      });
    } else {
      const recording = await loadRecording(config.replayFile as string).catch((err: unknown) => {
        throw err instanceof RecordingError
          ? new ConfigError('MASSIVE_REPLAY_FILE', 'expected a readable recording', err.message)
          : err;
      });
      dataset = new ReplayDataset(recording);
      const ds = dataset;
      clock = () => ds.now();
    }
    localApi = await startLocalApi({
      dataset,
      ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      faults: { latencyMs: config.simLatencyMs },
      seed: config.simSeed,
    });
    baseUrl = localApi.url;
    if (config.providerDefaulted && config.provider === 'sim') {
      logger.info(
        { url: localApi.url },
        'no MASSIVE_API_KEY set: running on the simulated market (MASSIVE_PROVIDER=sim) via the local Massive-compatible API',
      );
    } else {
      logger.info({ provider: config.provider, url: localApi.url }, 'local Massive-compatible API started');
    }
  }
  let streamServer: StreamServer | undefined;
  let wsUrl: string | undefined;
  if (config.stream === 'on') {
    if (config.wsUrl) wsUrl = config.wsUrl;
    else if (config.provider === 'massive') wsUrl = MASSIVE_WS_URL;
    else if (dataset instanceof SimMarket) {
      streamServer = await startStreamServer({
        source: new SimStreamSource(dataset),
        indices: dataset.underlyings(),
        ...(config.apiKey ? { apiKey: config.apiKey } : {}),
        faults: { ratePerSec: config.simStreamRate },
        seed: config.simSeed,
        logger,
      });
      wsUrl = streamServer.url;
      logger.info({ url: streamServer.url }, 'local Massive-compatible stream server started');
    } else if (dataset instanceof ReplayDataset) {
      // A replay streams only what the recording holds: its `stream` events, at their times.
      const timeline = dataset.recording.stream ?? [];
      streamServer = await startStreamServer({
        source: NO_STREAM_SOURCE,
        timeline,
        indices: dataset.underlyings(),
        ...(config.apiKey ? { apiKey: config.apiKey } : {}),
        faults: { ratePerSec: 0 },
        seed: config.simSeed,
        logger,
      });
      wsUrl = streamServer.url;
      logger.info(
        { url: streamServer.url, events: timeline.length },
        'local Massive-compatible stream server started (replaying the recording)',
      );
    }
  }
  const { http, client } = createMassiveClient(config, {
    baseUrl,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
    clock,
    logger,
  });
  return {
    kind: config.provider,
    client,
    http,
    clock,
    ...(localApi ? { localApi } : {}),
    ...(dataset ? { dataset } : {}),
    ...(wsUrl ? { wsUrl } : {}),
    ...(streamServer ? { streamServer } : {}),
    async close() {
      await streamServer?.close();
      await http.close();
      await localApi?.close();
    },
  };
}

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  clock: () => number;
  logger: Logger;
  /** Overrides `MASSIVE_RATE_LIMIT_RPS` (tests use 0). */
  rateLimitRps?: number;
  /** Backoff steps (tests shorten them). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** The Massive HTTP layer and chain client, configured from the settings. */
export function createMassiveClient(
  config: Config,
  o: ClientOptions,
): { http: MassiveHttp; client: MassiveChainClient } {
  const http = new MassiveHttp({
    baseUrl: o.baseUrl,
    ...(o.apiKey ? { apiKey: o.apiKey } : {}),
    requestTimeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    rateLimitRps: o.rateLimitRps ?? config.rateLimit,
    connections: config.concurrency,
    logger: o.logger,
    ...(o.retryBaseMs !== undefined ? { retryBaseMs: o.retryBaseMs } : {}),
    ...(o.retryMaxMs !== undefined ? { retryMaxMs: o.retryMaxMs } : {}),
  });
  const client = new MassiveChainClient({
    http,
    clock: o.clock,
    numExpirations: config.numExpirations,
    concurrency: config.concurrency,
    fetchDeadlineMs: config.fetchDeadlineMs,
    maxPagesPerStream: config.maxPagesPerStream,
    expirationCacheSec: config.expirationCacheSec,
    strikeWindowPct: config.strikeWindowPct,
    logger: o.logger,
  });
  return { http, client };
}

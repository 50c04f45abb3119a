/**
 * @module Builds a real worker stack for integration tests: the local Massive-compatible API over a
 * simulated market, the real client, a Redis bus on a target, a key prefix, and a silent logger.
 */
import { loadConfig, type Config } from '../../src/config/load.js';
import { silentLogger, type Logger } from '../../src/lib/logger.js';
import type { MarketDataset } from '../../src/provider/local-api/dataset.js';
import { startLocalApi, type LocalApiServer } from '../../src/provider/local-api/server.js';
import { SimMarket, type SimMarketOptions } from '../../src/provider/sim/sim-market.js';
import { KeySchema } from '../../src/redis/keys.js';
import { Metrics } from '../../src/serving/metrics.js';
import { cycleDeps, type CycleDeps } from '../../src/chain-worker/cycle.js';
import type { MassiveChainClient } from '../../src/provider/massive/chain-client.js';
import type { MassiveHttp } from '../../src/provider/massive/http.js';
import { createMassiveClient } from '../../src/provider/create-provider.js';
import { cleanupPrefix, openBus, testPrefix, type RedisTarget, type TestBus } from './redis.js';

export interface Harness {
  config: Config;
  bus: TestBus;
  keys: KeySchema;
  prefix: string;
  api: LocalApiServer;
  market: MarketDataset;
  http: MassiveHttp;
  client: MassiveChainClient;
  logger: Logger;
  metrics: Metrics;
  deps: CycleDeps;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  sim?: SimMarketOptions;
  dataset?: MarketDataset;
  apiKey?: string;
  logger?: Logger;
  /** TLS options for the bus (a private CA). */
  tls?: { ca: string };
}

/** Starts the stack; `close()` stops servers and deletes every key under the test's prefix. */
export async function startHarness(target: RedisTarget, opts: HarnessOptions = {}): Promise<Harness> {
  const prefix = testPrefix();
  const config = loadConfig({
    env: {
      MASSIVE_PROVIDER: 'sim',
      MARKET_REDIS_URL: target.url,
      MARKET_REDIS_CLUSTER: target.cluster ? '1' : '0',
      CHAIN_KEY_PREFIX: prefix,
      MASSIVE_REQUEST_TIMEOUT_MS: '2000',
      MASSIVE_FETCH_DEADLINE_MS: '10000',
      MASSIVE_MAX_RETRIES: '2',
      // No model history unless a test asks for it (its writes are queued past the builder's return).
      CHAIN_MODEL_HISTORY_SEC: '0',
      ...(opts.env ?? {}),
    },
  });
  const logger = opts.logger ?? silentLogger();
  const market = opts.dataset ?? new SimMarket({ seed: 7, ...(opts.sim ?? {}) });
  const api = await startLocalApi({ dataset: market, ...(opts.apiKey ? { apiKey: opts.apiKey } : {}) });
  const bus = await openBus(target, opts.tls);
  const keys = new KeySchema(prefix);
  const metrics = new Metrics({ defaults: false });
  const { http, client } = createMassiveClient(config, {
    baseUrl: api.url,
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    clock: () => market.now(),
    logger,
    rateLimitRps: 0,
    retryBaseMs: 20,
    retryMaxMs: 200,
  });
  const deps = cycleDeps({ bus, keys, client, config, logger, metrics });
  return {
    config,
    bus,
    keys,
    prefix,
    api,
    market,
    http,
    client,
    logger,
    metrics,
    deps,
    async close() {
      await http.close();
      await api.close();
      await cleanupPrefix(bus, prefix);
      await bus.close();
    },
  };
}

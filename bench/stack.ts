/**
 * @module The worker stack the benchmark drives: the production path (`massive` provider pointed at the
 * local API process, the Redis bus, the cycle, the model builder), configured from the same settings.
 */
import { loadConfig, type Config } from '../src/config/load.js';
import { silentLogger } from '../src/lib/logger.js';
import { configureThreadNice } from '../src/lib/thread-priority.js';
import { ModelBuilder } from '../src/models/builder.js';
import { SubstrateHandoff } from '../src/models/substrate-handoff.js';
import { createProvider, type Provider } from '../src/provider/create-provider.js';
import type { Cluster, Redis } from 'ioredis';
import { RedisBus } from '../src/redis/bus.js';
import { KeySchema } from '../src/redis/keys.js';
import { Metrics } from '../src/serving/metrics.js';
import { cycleDeps, type CycleDeps } from '../src/chain-worker/cycle.js';

/** The worker's bus, plus the connection for the benchmark's own commands (FLUSHALL, INFO, MEMORY STATS). */
export class BenchBus extends RedisBus {
  get conn(): Redis | Cluster {
    return this.client;
  }
}

/** Where a benchmark child reports its main thread's policy (a failure only: the JSON says which it got). */
export const STDERR_SCHED_LOG = {
  info: (): void => undefined,
  warn: (message: string): void => void process.stderr.write(`${message}\n`),
};

export const BENCH_API_KEY = 'bench-key-not-a-secret';

export interface Stack {
  config: Config;
  bus: BenchBus;
  keys: KeySchema;
  provider: Provider;
  deps: CycleDeps;
  builder: ModelBuilder;
  close(): Promise<void>;
}

export async function createStack(opts: {
  apiUrl: string;
  redisUrl: string;
  concurrency: number;
  rateLimit: number;
  env?: Record<string, string>;
}): Promise<Stack> {
  const config = loadConfig({
    env: {
      MASSIVE_PROVIDER: 'massive',
      MASSIVE_API_KEY: BENCH_API_KEY,
      MASSIVE_BASE_URL: opts.apiUrl,
      MARKET_REDIS_URL: opts.redisUrl,
      MASSIVE_CONCURRENCY: String(opts.concurrency),
      MASSIVE_RATE_LIMIT_RPS: String(opts.rateLimit),
      MASSIVE_FETCH_DEADLINE_MS: '120000',
      MASSIVE_MAX_PAGES_PER_STREAM: '1000',
      MASSIVE_EXPIRATION_CACHE_SEC: '3600',
      LOG_LEVEL: 'silent',
      // Settings taken from the benchmark's environment: A/B runs of the threads' priority.
      ...(process.env.CHAIN_THREAD_NICE ? { CHAIN_THREAD_NICE: process.env.CHAIN_THREAD_NICE } : {}),
      // The main thread's policy of the worker processes (the benchmark's --main-thread-sched).
      ...(process.env.CHAIN_MAIN_THREAD_SCHED
        ? { CHAIN_MAIN_THREAD_SCHED: process.env.CHAIN_MAIN_THREAD_SCHED }
        : {}),
      ...(opts.env ?? {}),
    },
  });
  const logger = silentLogger();
  // The worker's start-up does the same (createRuntime): its threads yield to the event loop.
  configureThreadNice(config.threadNice, (message) => process.stderr.write(`${message}\n`));
  const bus = new BenchBus({ url: config.marketRedisUrl, name: 'chain-worker-bench' });
  await bus.ready();
  const keys = new KeySchema('');
  const metrics = new Metrics({ defaults: false });
  const provider = await createProvider(config, logger);
  // As `chain-worker run` does: the cycles hand their substrates to the builder of the process.
  const handoff = new SubstrateHandoff();
  const deps = { ...cycleDeps({ bus, keys, client: provider.client, config, logger, metrics }), handoff };
  const builder = new ModelBuilder({ bus, keys, config, logger, metrics, owner: 'bench', handoff });
  return {
    config,
    bus,
    keys,
    provider,
    deps,
    builder,
    async close() {
      await builder.stop();
      await provider.close();
      await bus.close();
    },
  };
}

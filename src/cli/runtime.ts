/**
 * @module Process wiring shared by the commands: config, logger, Redis buses, metrics, signal handling.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import { tuneHeap } from '../lib/heap.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { RedisBus } from '../redis/bus.js';
import { KeySchema } from '../redis/keys.js';
import { Metrics } from '../serving/metrics.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  bus: RedisBus;
  systemBus: RedisBus;
  keys: KeySchema;
  metrics: Metrics;
  close(): Promise<void>;
}

/** Loads config from `--config`, CHAIN_WORKER_CONFIG and the environment. */
export function configFrom(opts: { config?: string }): Config {
  return loadConfig({
    env: process.env,
    ...((opts.config ?? process.env.CHAIN_WORKER_CONFIG)
      ? { configFile: opts.config ?? process.env.CHAIN_WORKER_CONFIG }
      : {}),
  });
}

function tlsFrom(config: Config): { ca: string } | undefined {
  const file = config.redisTlsCaFile;
  if (!file) return undefined;
  try {
    return { ca: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new ConfigError(
      'REDIS_TLS_CA_FILE',
      'expected a readable PEM file',
      `${file}: ${(err as Error).message}`,
    );
  }
}

/** Creates logger, buses and metrics. */
export async function createRuntime(config: Config, name = 'chain-worker'): Promise<Runtime> {
  tuneHeap(config.heapGrowingPercent);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.apiKey, config.httpToken],
    name,
  });
  const tls = tlsFrom(config);
  const bus = new RedisBus({
    url: config.marketRedisUrl,
    cluster: config.marketRedisCluster,
    name,
    ...(tls ? { tls } : {}),
  });
  const systemBus = config.systemRedisUrl
    ? new RedisBus({ url: config.systemRedisUrl, name: `${name}-system`, ...(tls ? { tls } : {}) })
    : bus;
  const keys = new KeySchema(config.keyPrefix);
  const metrics = new Metrics();
  await bus.ready(10_000);
  if (systemBus !== bus) await systemBus.ready(10_000);
  return {
    config,
    logger,
    bus,
    systemBus,
    keys,
    metrics,
    async close() {
      await bus.close();
      if (systemBus !== bus) await systemBus.close();
      logger.flush();
    },
  };
}

/** Calls `onStop` on the first SIGINT/SIGTERM; a second signal, or `hardMs` later, exits at once. */
export function onShutdownSignals(onStop: (signal: string) => void, hardMs = 15_000): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    onStop(signal);
    setTimeout(() => process.exit(1), hardMs).unref();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Resolves with the first SIGINT/SIGTERM (for commands that serve until stopped). */
export function untilShutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const off = onShutdownSignals((signal) => {
      off();
      resolve(signal);
    });
  });
}

/** Parses `HOST:PORT` (or `PORT`). */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`--http: expected HOST:PORT, got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port > 65_535) throw new Error(`--http: port out of range: ${port}`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

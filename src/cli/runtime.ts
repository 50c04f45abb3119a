/**
 * @module Process wiring shared by the commands: config, logger, Redis buses, metrics, signal handling.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadConfig, redactUrl, type Config } from '../config/load.js';
import { tuneHeap } from '../lib/heap.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { isLoopbackHost } from '../lib/net-hosts.js';
import { applyMainThreadSched } from '../lib/main-thread-sched.js';
import { configureThreadNice, lowerHelperThreads } from '../lib/thread-priority.js';
import { configurePagePool } from '../provider/massive/page-pool.js';
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

/** The CA of REDIS_TLS_CA_FILE; an unreadable file is a {@link ConfigError} naming the setting (exit 2). */
export function tlsFrom(config: Config): { ca: string } | undefined {
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

/** Redis did not answer at start-up (exit 5, `EXIT.redisUnavailable`). The message names the URL without its password. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * Waits for PING on `bus` for at most `timeoutMs` (a server that accepts and never answers cannot hold
 * start-up longer). The failure names the setting, the URL (password hidden) and the last connection error.
 */
async function readyOrFail(bus: RedisBus, setting: string, url: string, timeoutMs: number): Promise<void> {
  let lastError: string | undefined;
  const onError = (err: Error): void => {
    lastError = err.message;
  };
  const stopListening = bus.onConnectionError(onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      bus.ready(timeoutMs),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to PING within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    const reason = lastError ?? (err as Error).message;
    throw new RedisUnavailableError(
      `Redis unreachable at ${redactUrl(url)} (${setting}) after ${timeoutMs} ms: ${reason}`,
    );
  } finally {
    clearTimeout(timer);
    stopListening();
  }
}

/**
 * Drops a bus that never became ready: no QUIT (a server that does not answer would hold it forever, and
 * a command on a disconnected client never settles), no reconnection.
 */
function abandon(bus: RedisBus): void {
  bus.abandon();
}

/** Creates logger, buses and metrics. Throws {@link RedisUnavailableError}, with every bus closed, when Redis does not answer. */
export async function createRuntime(config: Config, name = 'chain-worker'): Promise<Runtime> {
  tuneHeap(config.heapGrowingPercent);
  configurePagePool(config.pageThreads);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.apiKey, config.httpToken],
    name,
  });
  configureThreadNice(config.threadNice, (message) => logger.warn(message));
  const helpers = lowerHelperThreads();
  if (helpers !== null)
    logger.warn(`CHAIN_THREAD_NICE: V8's and libuv's threads keep the main thread's priority (${helpers})`);
  await applyMainThreadSched(config.mainThreadSched, logger);
  const tls = tlsFrom(config);
  const bus = new RedisBus({
    url: config.marketRedisUrl,
    cluster: config.marketRedisCluster,
    name,
    logger,
    ...(tls ? { tls } : {}),
  });
  const systemBus = config.systemRedisUrl
    ? new RedisBus({
        url: config.systemRedisUrl,
        name: `${name}-system`,
        logger,
        ...(tls ? { tls } : {}),
      })
    : bus;
  const keys = new KeySchema(config.keyPrefix);
  const metrics = new Metrics();
  try {
    await readyOrFail(bus, 'MARKET_REDIS_URL', config.marketRedisUrl, config.redisConnectTimeoutMs);
    if (systemBus !== bus)
      await readyOrFail(
        systemBus,
        'SYSTEM_REDIS_URL',
        config.systemRedisUrl ?? '',
        config.redisConnectTimeoutMs,
      );
  } catch (err) {
    abandon(bus);
    if (systemBus !== bus) abandon(systemBus);
    logger.flush();
    throw err;
  }
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

/** For `.catch()` on a start-up step: closes what is already open (in the order given), then rethrows. */
export function closing(...opened: { close(): Promise<void> }[]): (err: unknown) => Promise<never> {
  return async (err: unknown) => {
    for (const r of opened) await r.close().catch(() => undefined);
    throw err;
  };
}

/** Parses `HOST:PORT` (or `PORT`); a bad value is a {@link ConfigError} naming `--http`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65_535) {
    throw new ConfigError(
      '--http',
      'expected HOST:PORT or PORT (port 0-65535, IPv6 in brackets)',
      JSON.stringify(value.slice(0, 80)),
    );
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

/**
 * The `--http` address, checked before anything is opened: a bad value, or a non-loopback address without
 * `CHAIN_WORKER_HTTP_TOKEN` (unless `CHAIN_HTTP_ALLOW_NO_TOKEN=1`), is a {@link ConfigError} (exit 2).
 */
export function httpAddress(value: string, config: Config): { host: string; port: number } {
  const at = parseHostPort(value);
  if (!isLoopbackHost(at.host) && !config.httpToken && !config.httpAllowNoToken) {
    throw new ConfigError(
      'CHAIN_WORKER_HTTP_TOKEN',
      `required when --http binds beyond loopback (${at.host}); set it, or CHAIN_HTTP_ALLOW_NO_TOKEN=1 to serve without a token`,
    );
  }
  return at;
}

/**
 * A parser for a whole-number flag (`--port`, `--seed`, `--latency-ms`, `--step`): plain decimal digits,
 * surrounding blanks trimmed, from 0 to `max`, as the numeric settings are read. `Number()` took `''` as 0,
 * `0x10` as 16 and `1e3` as 1000, and let a port over 65,535 through to listen().
 */
export function wholeNumberFlag(max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? '' : ` from 0 to ${max}`;
  return (value: string): number => {
    const text = value.trim();
    const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n > max)
      throw new InvalidArgumentError(`expected a whole number${range}, plain decimal digits`);
    return n;
  };
}

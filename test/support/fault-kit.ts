/**
 * Helpers for the fault-injection and security suites (test/faults, test/security): throw-away Redis
 * servers, a worker stack on any bus (TLS included), an atomic epoch-invariant probe, a reader loop that
 * checks the invariant while faults happen, and a dump of every value under a key prefix.
 */
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger, silentLogger, type Logger } from '../../src/lib/logger.js';
import type { MarketDataset } from '../../src/provider/local-api/dataset.js';
import { startLocalApi, type LocalApiServer } from '../../src/provider/local-api/server.js';
import { MassiveChainClient } from '../../src/provider/massive/chain-client.js';
import { MassiveHttp } from '../../src/provider/massive/http.js';
import { SimMarket, type SimMarketOptions } from '../../src/provider/sim/sim-market.js';
import { RedisBus } from '../../src/redis/bus.js';
import { KeySchema } from '../../src/redis/keys.js';
import { Metrics } from '../../src/serving/metrics.js';
import { AnalyticsWriter } from '../../src/wiring/analytics.js';
import { EpochStore } from '../../src/wiring/epoch-store.js';
import type { CycleDeps } from '../../src/chain-worker/cycle.js';
import { RedisServerProcess, type RedisServerOptions } from '../../tools/redis-servers.js';
import { cleanupPrefix, testPrefix, type RedisTarget } from './redis.js';
import type { Harness } from './worker-harness.js';

/** Starts a throw-away redis-server (own port and temp dir). Call `destroy()` when done. */
export async function ownRedis(opts: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const srv = new RedisServerProcess(opts);
  await srv.start();
  return srv;
}

/** A harness target on a server we own. */
export function targetOf(srv: RedisServerProcess): RedisTarget {
  return { name: 'single', url: srv.url, cluster: false };
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface StackOptions {
  url: string;
  /** TLS options for the bus (e.g. `{ ca }`). */
  tls?: { ca: string };
  env?: Record<string, string>;
  sim?: SimMarketOptions;
  dataset?: MarketDataset;
  apiKey?: string;
  logger?: Logger;
}

/**
 * The same stack as test/support/worker-harness.ts, on a bus built from `url` and optional TLS options
 * (the harness opens its bus without TLS options, so a private CA needs this one).
 */
export async function startStack(opts: StackOptions): Promise<Harness> {
  const prefix = testPrefix();
  const config: Config = loadConfig({
    env: {
      MASSIVE_PROVIDER: 'sim',
      MARKET_REDIS_URL: opts.url,
      CHAIN_KEY_PREFIX: prefix,
      MASSIVE_REQUEST_TIMEOUT_MS: '2000',
      MASSIVE_FETCH_DEADLINE_MS: '10000',
      MASSIVE_MAX_RETRIES: '2',
      ...(opts.env ?? {}),
    },
  });
  const logger = opts.logger ?? silentLogger();
  const market = opts.dataset ?? new SimMarket({ seed: 7, ...(opts.sim ?? {}) });
  const api: LocalApiServer = await startLocalApi({
    dataset: market,
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
  });
  const bus = new RedisBus({
    url: opts.url,
    name: 'chain-worker-test',
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  await bus.ready(10_000);
  const keys = new KeySchema(prefix);
  const metrics = new Metrics({ defaults: false });
  const http = new MassiveHttp({
    baseUrl: api.url,
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    requestTimeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    rateLimitRps: 0,
    connections: config.concurrency,
    logger,
    retryBaseMs: 20,
    retryMaxMs: 200,
  });
  const client = new MassiveChainClient({
    http,
    clock: () => market.now(),
    numExpirations: config.numExpirations,
    concurrency: config.concurrency,
    fetchDeadlineMs: config.fetchDeadlineMs,
    maxPagesPerStream: config.maxPagesPerStream,
    expirationCacheSec: config.expirationCacheSec,
    strikeWindowPct: config.strikeWindowPct,
    logger,
  });
  const deps: CycleDeps = {
    bus,
    keys,
    client,
    epochs: new EpochStore(bus, keys),
    analytics: new AnalyticsWriter(bus, keys, config.analyticsRetentionSec),
    config,
    logger,
    metrics,
  };
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
      await cleanupPrefix(bus, prefix).catch(() => undefined);
      await bus.close();
    },
  };
}

/**
 * Reads, in one atomic script, the active epoch of `{U}` and whether its meta hash and contract index
 * exist: `{ id: null }` when there is no active epoch. Single server only (the script builds key names).
 */
export async function probeActive(
  bus: RedisBus,
  keys: KeySchema,
  underlying: string,
): Promise<{ id: string | null; meta: boolean; index: boolean }> {
  const lua = `
    local id = redis.call('HGET', KEYS[1], ARGV[1])
    if not id then return {} end
    return { id, redis.call('EXISTS', ARGV[2] .. 'epoch:meta:' .. id), redis.call('EXISTS', ARGV[2] .. 'epoch:' .. id .. ':contracts') }`;
  const out = (await bus.client.eval(lua, 1, keys.epochActive, underlying, keys.prefix)) as
    [string, number, number] | [];
  if (out.length === 0) return { id: null, meta: false, index: false };
  return { id: out[0], meta: out[1] === 1, index: out[2] === 1 };
}

/** Throws unless `epoch:active[U]` is unset or points at an epoch whose meta and index both exist. */
export async function assertActiveConsistent(
  bus: RedisBus,
  keys: KeySchema,
  underlying: string,
): Promise<string | null> {
  const p = await probeActive(bus, keys, underlying);
  if (p.id !== null && !(p.meta && p.index)) {
    throw new Error(`epoch:active[${underlying}] = ${p.id} but meta=${p.meta} index=${p.index}`);
  }
  return p.id;
}

export interface ReaderReport {
  /** Successful probes (Redis up). */
  reads: number;
  /** Probes that failed because Redis was unreachable. */
  errors: number;
  violations: string[];
  /** Model keys read and parsed. */
  models: number;
  /** Every epoch id seen as active. */
  seenActive: Set<string>;
}

/**
 * A reader loop on its own connection: checks the epoch invariant and that the published models of `{U}`
 * always parse as whole JSON documents naming `{U}` and an epoch of `{U}`. Errors while Redis is down are
 * counted, not failures.
 */
export function startInvariantReader(
  url: string,
  keys: KeySchema,
  underlying: string,
): { stop(): Promise<ReaderReport> } {
  const bus = new RedisBus({ url, name: 'fault-reader', maxRetriesPerRequest: 0 });
  const report: ReaderReport = { reads: 0, errors: 0, violations: [], models: 0, seenActive: new Set() };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const p = await probeActive(bus, keys, underlying);
        if (p.id !== null) {
          report.seenActive.add(p.id);
          if (!(p.meta && p.index)) report.violations.push(`active ${p.id}: meta=${p.meta} index=${p.index}`);
        }
        for (const model of ['gex', 'heatmap'] as const) {
          const raw = await bus.cmd.get(keys.model(model, underlying));
          if (raw === null) continue;
          try {
            const m = JSON.parse(raw) as { symbol?: string; epoch_id?: string; model?: string };
            if (m.symbol !== underlying || m.model !== model || !m.epoch_id?.startsWith(`${underlying}:`)) {
              report.violations.push(`${model} model names ${m.symbol}/${m.model}/${m.epoch_id}`);
            }
            report.models++;
          } catch {
            report.violations.push(`${model} model is not whole JSON (${raw.length} bytes)`);
          }
        }
        report.reads++;
      } catch {
        report.errors++;
        await sleepMs(20);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await bus.close();
      return report;
    },
  };
}

/** Every key under `prefix` with its value as text (by type: string, hash, list, set, zset). */
export async function dumpPrefix(bus: RedisBus, prefix: string): Promise<Map<string, string>> {
  const client = bus.client as Redis;
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const type = await client.type(key);
      let text: string;
      if (type === 'string') text = (await client.get(key)) ?? '';
      else if (type === 'hash') text = JSON.stringify(await client.hgetall(key));
      else if (type === 'list') text = JSON.stringify(await client.lrange(key, 0, -1));
      else if (type === 'set') text = JSON.stringify(await client.smembers(key));
      else if (type === 'zset') text = JSON.stringify(await client.zrange(key, 0, -1, 'WITHSCORES'));
      else text = `<${type}>`;
      out.set(key, text);
    }
  } while (cursor !== '0');
  return out;
}

/** A pino logger at `level` writing into memory; `text()` returns everything written so far. */
export function captureLogger(opts: { level?: string; secrets?: string[] } = {}): {
  logger: Logger;
  text(): string;
} {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({
    level: opts.level ?? 'trace',
    secrets: opts.secrets ?? [],
    destination: sink,
  });
  return { logger, text: () => chunks.join('') };
}

/** The value of a prom-client counter for one label set (0 when never incremented). */
export async function counterValue(
  metric: { get(): Promise<{ values: { labels: Record<string, string | number>; value: number }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x));
  return hit?.value ?? 0;
}

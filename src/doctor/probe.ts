/**
 * @module The doctor's edges: connect to each Redis and read INFO, PING it, and send one authenticated
 * chain-snapshot request to the API (or to the in-process local API for sim/replay). Each probe turns its
 * failure into a fact; nothing here throws at the caller.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { request } from 'undici';
import type { Config } from '../config/load.js';
import { redactUrl } from '../config/load.js';
import { nyDate } from '../domain/market-time.js';
import { silentLogger } from '../lib/logger.js';
import { createProvider, type Provider } from '../provider/create-provider.js';
import { sniFor } from '../redis/bus.js';
import { parseRedisUrls } from '../redis/redis-url.js';
import type { MassiveFacts, RedisFacts } from './checks.js';
import { parseInfo } from './checks.js';

const PINGS = 5;

/** Connects to the first node of `url` and gathers what `redisChecks` judges. */
export async function probeRedis(opts: {
  label: string;
  url: string;
  cluster: boolean;
  tls?: { ca: string };
  timeoutMs?: number;
}): Promise<RedisFacts> {
  const base = { label: opts.label, url: redactUrl(opts.url), clusterConfigured: opts.cluster };
  let ep;
  try {
    ep = parseRedisUrls(opts.url)[0];
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
  if (!ep) return { ...base, error: 'no URL' };
  const redis = new Redis({
    host: ep.host,
    port: ep.port,
    db: ep.db,
    ...(ep.username ? { username: ep.username } : {}),
    ...(ep.password !== undefined ? { password: ep.password } : {}),
    ...(ep.tls ? { tls: { ...sniFor(ep.host), ...(opts.tls ?? {}) } } : {}),
    connectionName: 'chain-worker-doctor',
    lazyConnect: true,
    connectTimeout: opts.timeoutMs ?? 3_000,
    commandTimeout: opts.timeoutMs ?? 3_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = parseInfo(await redis.info('everything'));
    const rtts: number[] = [];
    for (let i = 0; i < PINGS; i++) {
      const t0 = performance.now();
      await redis.ping();
      rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    let save: string | undefined;
    try {
      const r = (await redis.config('GET', 'save')) as string[];
      save = r[1] ?? '';
    } catch {
      save = undefined; // CONFIG is often disabled on managed services
    }
    return {
      ...base,
      info,
      pingMs: rtts[Math.floor(rtts.length / 2)] as number,
      ...(save !== undefined ? { save } : {}),
    };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  } finally {
    redis.disconnect();
  }
}

export interface MassiveProbe {
  facts: MassiveFacts;
  /** The next expirations of the first symbol when the API answered. */
  expirations?: { symbol: string; dates: string[] };
}

/** One `limit=1` chain-snapshot request for the first symbol, then (when it worked) expiration discovery. */
export async function probeMassive(config: Config, opts: { streamClient: boolean }): Promise<MassiveProbe> {
  let provider: Provider | undefined;
  const symbol = config.symbols[0] as string;
  const path = `/v3/snapshot/options/${symbol}?limit=1`;
  const base = {
    provider: config.provider,
    keySet: config.apiKey !== undefined,
    path,
    streamClient: opts.streamClient,
  };
  try {
    provider = await createProvider(config, silentLogger());
    const baseUrl = provider.localApi?.url ?? config.baseUrl;
    const sentMs = Date.now();
    let res;
    try {
      res = await request(new URL(path, baseUrl), {
        headers: config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {},
        headersTimeout: config.requestTimeoutMs,
        bodyTimeout: config.requestTimeoutMs,
      });
    } catch (err) {
      return { facts: { ...base, baseUrl, error: (err as Error).message } };
    }
    const receivedMs = Date.now();
    const date = res.headers.date;
    let results: number | undefined;
    try {
      const body = (await res.body.json()) as { results?: unknown };
      results = Array.isArray(body.results) ? body.results.length : undefined;
    } catch {
      results = undefined;
    }
    const facts: MassiveFacts = {
      ...base,
      baseUrl,
      status: res.statusCode,
      sentMs,
      receivedMs,
      ...(typeof date === 'string' ? { dateHeader: date } : {}),
      ...(results !== undefined ? { results } : {}),
    };
    if (res.statusCode < 200 || res.statusCode >= 300) return { facts };
    try {
      const { expirations } = await provider.client.discoverExpirations(
        symbol,
        nyDate(provider.clock()),
        config.numExpirations,
        AbortSignal.timeout(config.fetchDeadlineMs),
        { pages: 0, retries: 0 },
      );
      return { facts, expirations: { symbol, dates: expirations } };
    } catch {
      return { facts };
    }
  } catch (err) {
    return { facts: { ...base, baseUrl: config.baseUrl, error: (err as Error).message } };
  } finally {
    await provider?.close();
  }
}

/**
 * Helpers for the fault-injection and security suites (test/faults, test/security): throw-away Redis
 * servers, a worker stack on any bus (TLS included), an atomic epoch-invariant probe, a reader loop that
 * checks the invariant while faults happen, and a dump of every value under a key prefix.
 */
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import type { MarketDataset } from '../../src/provider/local-api/dataset.js';
import type { SimMarketOptions } from '../../src/provider/sim/sim-market.js';
import { KeySchema } from '../../src/redis/keys.js';
import { RedisServerProcess, type RedisServerOptions } from '../../tools/redis-servers.js';
import { TestBus, type RedisTarget } from './redis.js';
import { startHarness, type Harness } from './worker-harness.js';

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

/** The worker harness on a bus built from `url`, with optional TLS options (a private CA). */
export function startStack(opts: StackOptions): Promise<Harness> {
  const { url, ...rest } = opts;
  return startHarness({ name: 'single', url, cluster: false }, rest);
}

/**
 * Reads, in one atomic script, the active epoch of `{U}` and whether its meta hash and contract index
 * exist: `{ id: null }` when there is no active epoch. Single server only (the script builds key names).
 */
export async function probeActive(
  bus: TestBus,
  keys: KeySchema,
  underlying: string,
): Promise<{ id: string | null; meta: boolean; index: boolean }> {
  const lua = `
    local id = redis.call('HGET', KEYS[1], ARGV[1])
    if not id then return {} end
    return { id, redis.call('EXISTS', ARGV[2] .. 'epoch:meta:' .. id), redis.call('EXISTS', ARGV[2] .. 'epoch:' .. id .. ':contracts') }`;
  const out = (await bus.conn.eval(lua, 1, keys.epochActive, underlying, keys.prefix)) as
    [string, number, number] | [];
  if (out.length === 0) return { id: null, meta: false, index: false };
  return { id: out[0], meta: out[1] === 1, index: out[2] === 1 };
}

/** Throws unless `epoch:active[U]` is unset or points at an epoch whose meta and index both exist. */
export async function assertActiveConsistent(
  bus: TestBus,
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
): { stop(): Promise<ReaderReport>; readonly report: Readonly<ReaderReport> } {
  const bus = new TestBus({ url, name: 'fault-reader', maxRetriesPerRequest: 0 });
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
    report,
    async stop() {
      stopped = true;
      await loop;
      await bus.close();
      return report;
    },
  };
}

/** Every key under `prefix` with its value as text (by type: string, hash, list, set, zset). */
export async function dumpPrefix(bus: TestBus, prefix: string): Promise<Map<string, string>> {
  const client = bus.conn as Redis;
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
      else if (type === 'stream') text = JSON.stringify(await client.xrange(key, '-', '+'));
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

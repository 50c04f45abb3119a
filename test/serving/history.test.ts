/**
 * The model history over real HTTP and real Redis: `?at=` returns exactly the version in force at that
 * instant (several versions, at their exact boundaries), `/api/history` rows carry the values the published
 * GEX models hold (read from them independently here), retention trims the index and sets the records'
 * TTL, and the builder's published models come back byte for byte.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, binaryEnv } from '../support/binary.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { HistoryRecorder, recordTtlSec } from '../../src/outputs/history/recorder.js';
import type { RedisBus } from '../../src/redis/bus.js';
import type { KeySchema } from '../../src/redis/keys.js';
import { Metrics } from '../../src/serving/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix, type RedisTarget } from '../support/redis.js';
import { expectSchema } from '../support/schema.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { depsOf } from './support.js';

const targets = redisTargets();

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface Env {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  server: HttpServer;
  recorder: HistoryRecorder;
}

async function env(target: RedisTarget, extra: Record<string, string> = {}): Promise<Env> {
  const prefix = testPrefix();
  const config = loadConfig({
    env: {
      MASSIVE_PROVIDER: 'sim',
      MASSIVE_CHAIN_SYMBOLS: 'I:SPX,I:NDX',
      MARKET_REDIS_URL: target.url,
      MARKET_REDIS_CLUSTER: target.cluster ? '1' : '0',
      CHAIN_KEY_PREFIX: prefix,
      ...extra,
    },
  });
  const bus = await openBus(target);
  const { KeySchema } = await import('../../src/redis/keys.js');
  const keys = new KeySchema(prefix);
  const logger = silentLogger();
  const recorder = new HistoryRecorder(bus, keys, config, logger);
  const server = await startHttpServer(
    { bus, keys, config, logger, metrics: new Metrics({ defaults: false }), mode: 'serve' },
    { host: '127.0.0.1', port: 0 },
  );
  cleanup.push(async () => {
    await server.close();
    await recorder.close();
    await cleanupPrefix(bus, prefix);
    await bus.close();
  });
  return { bus, keys, config, server, recorder };
}

/** A GEX-shaped document (header first, as the builder writes it) with the given levels and totals. */
function gexDoc(i: number, tsMs: number): string {
  return JSON.stringify({
    version: 2,
    model: 'gex',
    symbol: 'SPX',
    epoch_id: `SPX:e${i < 3 ? 1 : 2}`,
    ts: new Date(tsMs).toISOString(),
    as_of: new Date(tsMs - 500).toISOString(),
    spot: 6850 + i * 1.25,
    stale: false,
    totals: { net: 1e9 - i * 1e7, calls: 2e9, puts: -1e9, vanna: 5e6 + i, charm: -3e6, delta: 4e10 },
    levels: { zero_gamma: 6840 + i, call_wall: 6900 + 5 * i, put_wall: 6800 - 5 * i, abs_gamma_strike: 6850 },
    by_strike: Array.from({ length: 50 }, (_, k) => ({ strike: 6800 + 5 * k, net: (k - 25) * 1000 + i })),
    horizons: {
      '0dte': { share: 0.25 + i / 100, levels: { zero_gamma: 6845 + i, call_wall: null, put_wall: 6810 } },
    },
    by_basis: { volume: { totals: { net: 3e8 + i }, levels: { zero_gamma: 6830 } } },
  });
}

function heatmapDoc(i: number, tsMs: number): string {
  const tiles: Record<string, unknown> = {};
  for (let k = 0; k < 40; k++)
    tiles[String(6800 + 5 * k)] = { '25': { value: (k % 7) / 4 + i / 100, description: `t${k}` } };
  return JSON.stringify({
    version: 2,
    model: 'heatmap',
    symbol: 'SPX',
    epoch_id: 'SPX:e1',
    ts: new Date(tsMs).toISOString(),
    expirations: { '2026-01-07': { butterfly: { call: tiles } } },
  });
}

async function publish(e: Env, i: number, tsMs: number, trigger: 'snapshot' | 'stream' = 'snapshot') {
  const gex = gexDoc(i, tsMs);
  const heatmap = heatmapDoc(i, tsMs);
  await e.recorder.modelsPublished({
    underlying: 'SPX',
    symbol: 'I:SPX',
    epochId: i < 3 ? 'SPX:e1' : 'SPX:e2',
    ts: tsMs,
    trigger,
    spot: 6850,
    models: { gex: Buffer.from(gex), heatmap: Buffer.from(heatmap) },
  });
  return { gex, heatmap };
}

async function get(e: Env, path: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${e.server.url}${path}`);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe.each(targets)('model history over HTTP ($name Redis)', (target) => {
  it('?at= returns the version in force at each instant, byte for byte, at the exact boundaries', async () => {
    const e = await env(target);
    const now = Date.now();
    const times = [0, 1, 2, 3, 4, 5].map((k) => now - 300_000 + k * 30_000);
    const docs = [];
    for (const [i, t] of times.entries()) docs.push(await publish(e, i, t));
    await e.recorder.idle();

    for (const [i, t] of times.entries()) {
      for (const model of ['gex', 'heatmap'] as const) {
        const exact = await get(e, `/api/models/${model}/SPX?at=${iso(t)}`);
        expect(exact.status).toBe(200);
        expect(exact.body).toBe(docs[i]?.[model]);
        expect(exact.headers.get('x-model-published')).toBe(iso(t));
        const justBefore = await get(e, `/api/models/${model}/SPX?at=${iso(t - 1)}`);
        if (i === 0) {
          expect(justBefore.status).toBe(404);
          expect(JSON.parse(justBefore.body)).toMatchObject({ error: 'history_not_found' });
        } else {
          expect(justBefore.body).toBe(docs[i - 1]?.[model]);
        }
        const lastMs = await get(e, `/api/models/${model}/I:SPX?at=${iso(t + 29_999)}`);
        expect(lastMs.body).toBe(docs[i]?.[model]);
      }
    }
    // An offset other than Z names the same instant.
    const t2 = times[2] as number;
    const offset = new Date(t2 - 5 * 3_600_000).toISOString().replace('Z', '-05:00');
    expect((await get(e, `/api/models/gex/SPX?at=${encodeURIComponent(offset)}`)).body).toBe(docs[2]?.gex);
  });

  it('/api/history rows equal the values of the published GEX models; fields, from/to and step', async () => {
    const e = await env(target);
    const now = Date.now();
    const times = [0, 1, 2, 3, 4, 5].map((k) => now - 300_000 + k * 30_000);
    const docs: string[] = [];
    for (const [i, t] of times.entries())
      docs.push((await publish(e, i, t, i === 4 ? 'stream' : 'snapshot')).gex);
    await e.recorder.idle();

    const res = await get(
      e,
      '/api/history/SPX?fields=spot,zero_gamma,call_wall,put_wall,net,zero_gamma_0dte,volume_net,share_0dte',
    );
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { rows: Record<string, unknown>[] } & Record<string, unknown>;
    expectSchema(body, 'history-series');
    expect(body).toMatchObject({
      symbol: 'SPX',
      model: 'gex',
      fields: [
        'spot',
        'zero_gamma',
        'call_wall',
        'put_wall',
        'net',
        'zero_gamma_0dte',
        'volume_net',
        'share_0dte',
      ],
      step: 0,
      versions: 6,
    });
    // Each row from the published document itself, read here field by field.
    const expected = docs.map((d, i) => {
      const g = JSON.parse(d) as {
        ts: string;
        epoch_id: string;
        spot: number;
        totals: { net: number };
        levels: { zero_gamma: number; call_wall: number; put_wall: number };
        horizons: { '0dte': { share: number; levels: { zero_gamma: number } } };
        by_basis: { volume: { totals: { net: number } } };
      };
      return {
        ts: g.ts,
        epoch_id: g.epoch_id,
        trigger: i === 4 ? 'stream' : 'snapshot',
        spot: g.spot,
        zero_gamma: g.levels.zero_gamma,
        call_wall: g.levels.call_wall,
        put_wall: g.levels.put_wall,
        net: g.totals.net,
        zero_gamma_0dte: g.horizons['0dte'].levels.zero_gamma,
        volume_net: g.by_basis.volume.totals.net,
        share_0dte: g.horizons['0dte'].share,
      };
    });
    expect(body.rows).toEqual(expected);

    const defaults = JSON.parse((await get(e, '/api/history/spx')).body) as {
      fields: string[];
      rows: object[];
    };
    expect(defaults.fields).toEqual(['spot', 'zero_gamma', 'call_wall', 'put_wall', 'net']);
    expect(Object.keys(defaults.rows[0] ?? {})).toEqual(['ts', 'epoch_id', 'trigger', ...defaults.fields]);

    // from/to include their bounds.
    const t1 = times[1] as number;
    const t3 = times[3] as number;
    const range = JSON.parse(
      (await get(e, `/api/history/SPX?from=${iso(t1)}&to=${iso(t3)}&fields=net`)).body,
    ) as {
      rows: { ts: string; net: number }[];
    };
    expect(range.rows.map((r) => r.ts)).toEqual([iso(t1), iso(times[2] as number), iso(t3)]);

    // step 60 s from `from`: each bucket keeps its last version.
    const from = times[0] as number;
    const stepped = JSON.parse(
      (await get(e, `/api/history/SPX?from=${iso(from)}&to=${iso(now)}&step=60`)).body,
    ) as {
      step: number;
      versions: number;
      rows: { ts: string }[];
    };
    expect(stepped.step).toBe(60);
    expect(stepped.versions).toBe(6);
    expect(stepped.rows.map((r) => r.ts)).toEqual([1, 3, 5].map((k) => iso(times[k] as number)));
  });

  it('bad requests: 400 on a bad at, from, to, step or field; 404 before retention, for an unknown symbol', async () => {
    const e = await env(target);
    await publish(e, 0, Date.now() - 1000);
    await e.recorder.idle();
    const cases: [string, number, string][] = [
      ['/api/models/gex/SPX?at=yesterday', 400, 'bad_query'],
      ['/api/models/gex/SPX?at=2026-01-07', 400, 'bad_query'],
      [`/api/models/gex/SPX?at=${iso(Date.now() + 3_600_000)}`, 400, 'bad_query'],
      [`/api/models/gex/SPX?at=${iso(Date.now() - 172_800_000 - 60_000)}`, 404, 'before_retention'],
      ['/api/models/gex/QQQ?at=2026-01-07T15:00:00Z', 404, 'unknown_symbol'],
      ['/api/history/SPX?fields=spot,gamma', 400, 'bad_query'],
      ['/api/history/SPX?from=2026-13-01T00:00:00Z', 400, 'bad_query'],
      [`/api/history/SPX?from=${iso(Date.now() - 1000)}&to=${iso(Date.now() - 5000)}`, 400, 'bad_query'],
      ['/api/history/SPX?step=-5', 400, 'bad_query'],
      ['/api/history/QQQ', 404, 'unknown_symbol'],
    ];
    for (const [path, status, error] of cases) {
      const res = await get(e, path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(JSON.parse(res.body)).toMatchObject({ error, message: expect.any(String) as unknown });
    }
  });
});

describe('history retention and stream builds (single Redis)', () => {
  const target = targets[0] as RedisTarget;

  it('retention: old index rows are trimmed, records expire after retention + the keyframe span', async () => {
    const e = await env(target, { CHAIN_MODEL_HISTORY_SEC: '3600' });
    const now = Date.now();
    const ttl = recordTtlSec(3600);
    // One version older than the records live, then two recent ones.
    await publish(e, 0, now - (ttl + 10) * 1000);
    await publish(e, 1, now - 60_000);
    await publish(e, 2, now - 30_000);
    await e.recorder.idle();
    const members = await e.bus.cmd.zrangebyscore(
      e.keys.modelHistory('gex', 'SPX'),
      '-inf',
      '+inf',
      'WITHSCORES',
    );
    const scores = members.filter((_, i) => i % 2 === 1).map(Number);
    expect(scores).toEqual([(now - 60_000) / 1000, (now - 30_000) / 1000]);
    const v = (JSON.parse(members[0] as string) as { v: string }).v;
    const left = await e.bus.cmd.ttl(e.keys.modelHistoryVersion('gex', 'SPX', v));
    expect(left).toBeGreaterThan(ttl - 30);
    expect(left).toBeLessThanOrEqual(ttl);
    // The index lives as long as its newest record: a symbol no longer published (or a history turned off)
    // leaves no ZSET behind. Was -1 (no TTL): rows were trimmed only by the next write, which never came.
    for (const model of ['gex', 'heatmap'] as const) {
      const indexTtl = await e.bus.cmd.ttl(e.keys.modelHistory(model, 'SPX'));
      expect(indexTtl).toBeGreaterThan(ttl - 30);
      expect(indexTtl).toBeLessThanOrEqual(ttl);
    }
    expect((await get(e, `/api/models/gex/SPX?at=${iso(now - 3_600_000 - 60_000)}`)).status).toBe(404);
  });

  it('chain-worker history prints the same rows as the API (JSON and a table); a bad --from exits 2', async () => {
    const e = await env(target);
    const now = Date.now();
    for (const k of [0, 1, 2]) await publish(e, k, now - 90_000 + k * 30_000);
    await e.recorder.idle();
    const from = iso(now - 120_000);
    const to = iso(now);
    const childEnv = binaryEnv({
      MARKET_REDIS_URL: target.url,
      CHAIN_KEY_PREFIX: e.keys.prefix,
      MASSIVE_CHAIN_SYMBOLS: 'I:SPX,I:NDX',
      LOG_LEVEL: 'warn',
    });
    const run = promisify(execFile);
    const args = ['history', '--symbol', 'I:SPX', '--from', from, '--to', to, '--fields', 'spot,zero_gamma'];
    const json = await run(BIN, [...args, '--json'], { env: childEnv });
    const api = await get(e, `/api/history/SPX?from=${from}&to=${to}&fields=spot,zero_gamma`);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(api.body));
    const table = await run(BIN, args, { env: childEnv });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toContain('SPX gex history');
    expect(lines[1]?.split(/\s+/)).toEqual(['ts', 'trigger', 'spot', 'zero_gamma']);
    expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual(
      [0, 1, 2].map((k) => [
        iso(now - 90_000 + k * 30_000),
        'snapshot',
        String(6850 + k * 1.25),
        String(6840 + k),
      ]),
    );
    const bad = await run(BIN, ['history', '--symbol', 'SPX', '--from', 'noon'], { env: childEnv }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--from') as unknown });
  });

  it('quiesce (the shutdown signal): queued versions are dropped, none taken after, the ones under way are written', async () => {
    const e = await env(target);
    const now = Date.now();
    // Six versions of each model queued at once (a backlog), then the signal.
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => publish(e, i, now - 60_000 + i * 1_000)));
    e.recorder.quiesce();
    await e.recorder.idle();
    const { recorded, dropped } = e.recorder.stats;
    // At most the first version of each stream (gex, heatmap) had started; the rest never encode.
    expect(recorded).toBeLessThanOrEqual(2);
    expect(recorded + dropped).toBe(12);
    await publish(e, 6, now);
    await e.recorder.idle();
    expect(e.recorder.stats).toMatchObject({ recorded, dropped });
    const gexRows = await e.bus.cmd.zcard(e.keys.modelHistory('gex', 'SPX'));
    const heatmapRows = await e.bus.cmd.zcard(e.keys.modelHistory('heatmap', 'SPX'));
    expect(gexRows).toBeLessThanOrEqual(1);
    expect(gexRows + heatmapRows).toBe(recorded);
  });

  it('stream builds are kept at most once per CHAIN_MODEL_HISTORY_STREAM_SEC; snapshot builds always', async () => {
    const e = await env(target, { CHAIN_MODEL_HISTORY_STREAM_SEC: '5' });
    const t0 = Date.now() - 60_000;
    const plan: [number, 'snapshot' | 'stream'][] = [
      [0, 'snapshot'],
      [1000, 'stream'],
      [4999, 'stream'],
      [5000, 'stream'],
      [6000, 'snapshot'],
      [7000, 'stream'],
      [11_000, 'stream'],
    ];
    for (const [i, [dt, trigger]] of plan.entries()) await publish(e, i, t0 + dt, trigger);
    await e.recorder.idle();
    const rows = JSON.parse((await get(e, `/api/history/SPX?from=${iso(t0)}`)).body) as {
      rows: { ts: string }[];
    };
    expect(rows.rows.map((r) => Date.parse(r.ts) - t0)).toEqual([0, 5000, 6000, 11_000]);
  });
});

describe('history from the builder (single Redis)', () => {
  const target = targets[0] as RedisTarget;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('every model the builder publishes comes back from ?at= byte for byte; the series has its levels', async () => {
    let now = Date.parse('2026-01-07T15:00:00Z');
    h = await startHarness(target, { env: { CHAIN_MODEL_HISTORY_SEC: '172800' }, sim: { clock: () => now } });
    const recorder = new HistoryRecorder(h.bus, h.keys, h.config, silentLogger());
    const builder = new ModelBuilder({
      bus: h.bus,
      keys: h.keys,
      config: h.config,
      logger: h.logger,
      metrics: h.metrics,
      owner: 't',
      observers: [recorder],
    });
    const server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 });
    const harness = h;
    cleanup.push(async () => {
      await server.close();
      await builder.stop();
      await recorder.close();
    });
    const published: { gex: string; heatmap: string }[] = [];
    for (let k = 0; k < 3; k++) {
      now += 30_000;
      const res = await runCycle(harness.deps, 'I:SPX', '');
      expect(res.ok).toBe(true);
      await builder.drain();
      published.push({
        gex: (await harness.bus.cmd.get(harness.keys.model('gex', 'SPX'))) as string,
        heatmap: (await harness.bus.cmd.get(harness.keys.model('heatmap', 'SPX'))) as string,
      });
      // Distinct publish times (the builder stamps Date.now()).
      await new Promise((r) => setTimeout(r, 5));
    }
    await recorder.idle();
    const e = { server } as Env;
    for (const p of published) {
      const ts = (JSON.parse(p.gex) as { ts: string }).ts;
      for (const model of ['gex', 'heatmap'] as const) {
        const res = await get(e, `/api/models/${model}/SPX?at=${ts}`);
        expect(res.status).toBe(200);
        expect(res.body === p[model]).toBe(true);
      }
    }
    const series = JSON.parse(
      (await get(e, '/api/history/SPX?fields=spot,zero_gamma,call_wall,put_wall,net')).body,
    ) as {
      rows: Record<string, unknown>[];
    };
    expect(series.rows).toEqual(
      published.map((p) => {
        const g = JSON.parse(p.gex) as {
          ts: string;
          epoch_id: string;
          spot: number;
          totals: { net: number };
          levels: { zero_gamma: number | null; call_wall: number | null; put_wall: number | null };
        };
        return {
          ts: g.ts,
          epoch_id: g.epoch_id,
          trigger: 'snapshot',
          spot: g.spot,
          zero_gamma: g.levels.zero_gamma,
          call_wall: g.levels.call_wall,
          put_wall: g.levels.put_wall,
          net: g.totals.net,
        };
      }),
    );
    expect(recorder.stats.recorded).toBe(6);
  });
});

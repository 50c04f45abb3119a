/**
 * Heatmap diffs: the pure diff/apply round trip on hand-made versions (table-driven) and on real models
 * from the simulated market, and the `heatmap_diff` SSE event over a socket, applied to the version the
 * client held, equal to the newly published document.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HeatmapExpiration, HeatmapModel, Tile } from '../../src/models/types.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { applyHeatmapDiff, diffHeatmap, type HeatmapDiff } from '../../src/serving/sse/heatmap-diff.js';
import { HeatmapDiffs, MAX_HEATMAP_DIFF_BYTES } from '../../src/serving/sse/heatmap-diffs.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import { expectSchema } from '../support/schema.js';
import type { Harness } from '../support/worker-harness.js';
import { SseClient, cycleAndBuild, depsOf, stack } from './support.js';

const target = redisTargets()[0] as RedisTarget;

/** A tile as the model writes it: the description ends with the price part. */
const tile = (value: number, order = 'BUY 1 SPXW 01DEC26 100 CALL'): Tile => ({
  value,
  legs: [{ strike: 100, type: 'C', qty: 1 }],
  description: `${order} @ ${Math.abs(value).toFixed(2)} ${value > 0 ? 'DEBIT' : value < 0 ? 'CREDIT' : 'EVEN'}`,
});

function exp(over: Partial<HeatmapExpiration> = {}): HeatmapExpiration {
  return {
    root: 'SPXW',
    settlement: 'PM',
    butterfly: { call: { '100': { '5': tile(1), '10': tile(2) } }, put: {} },
    vertical: { call: {}, put: { '105': { '5': tile(3) } } },
    single: { '100': { call: tile(4), put: tile(5) } },
    density: null,
    flags: { negative_butterfly: [], vertical_over_width: [] },
    ...over,
  };
}

function model(ts: string, expirations: Record<string, HeatmapExpiration>, spot = 100): HeatmapModel {
  return {
    version: 1,
    symbol: 'SPX',
    epoch_id: 'E1',
    ts,
    as_of: ts,
    spot,
    stale: false,
    contract_count: 10,
    provider: 'sim',
    partial: false,
    missing_expirations: [],
    model: 'heatmap',
    widths: [5, 10],
    window_pct: 5,
    window: null,
    expirations,
    flags: { negative_butterfly: 0, vertical_over_width: 0 },
  } as unknown as HeatmapModel;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const D = '2026-12-01';
const D2 = '2026-12-02';
const base = model('t0', { [D]: exp() });

describe('heatmap diff (pure)', () => {
  it.each<[string, HeatmapModel, Partial<HeatmapDiff>]>([
    [
      'nothing changed but the header',
      model('t1', { [D]: exp() }, 101),
      { values: {}, changed: {}, removed: [], counts: { repriced: 0, changed: 0, removed: 0 } },
    ],
    [
      'one butterfly tile and one single repriced: their values only',
      model('t1', {
        [D]: exp({
          butterfly: { call: { '100': { '5': tile(1.05), '10': tile(2) } }, put: {} },
          single: { '100': { call: tile(-0.5), put: tile(5) } },
        }),
      }),
      {
        values: { [D]: { butterfly: { call: { '100': { '5': 1.05 } } }, single: { '100': { call: -0.5 } } } },
        changed: {},
        counts: { repriced: 2, changed: 0, removed: 0 },
      },
    ],
    [
      'same value, another order (legs moved): the whole tile',
      model('t1', { [D]: exp({ vertical: { call: {}, put: { '105': { '5': tile(3, 'SELL 1 X') } } } }) }),
      {
        values: {},
        changed: { [D]: { vertical: { put: { '105': { '5': tile(3, 'SELL 1 X') } } } } },
        counts: { repriced: 0, changed: 1, removed: 0 },
      },
    ],
    [
      'other legs, same description: the whole tile',
      model('t1', {
        [D]: exp({ vertical: { call: {}, put: { '105': { '5': { ...tile(3.5), legs: [] } } } } }),
      }),
      {
        values: {},
        changed: { [D]: { vertical: { put: { '105': { '5': { ...tile(3.5), legs: [] } } } } } },
        counts: { repriced: 0, changed: 1, removed: 0 },
      },
    ],
    [
      'a width and a single side removed',
      model('t1', {
        [D]: exp({
          butterfly: { call: { '100': { '5': tile(1) } }, put: {} },
          single: { '100': { call: tile(4) } },
        }),
      }),
      {
        changed: {},
        removed: [
          [D, 'butterfly', 'call', '100', '10'],
          [D, 'single', '100', 'put'],
        ],
        counts: { repriced: 0, changed: 0, removed: 2 },
      },
    ],
    [
      'a new date; density changed',
      model('t1', {
        [D]: exp({
          density: {
            source: 'call_butterflies',
            coverage: 1,
            negative_butterflies: 0,
            points: [],
            levels: null,
            probabilities: { between_walls: null, near_zero_gamma: null },
          },
        }),
        [D2]: exp({ root: 'SPX', settlement: 'AM' }),
      }),
      { counts: { repriced: 0, changed: 5, removed: 0 }, removed_expirations: [] },
    ],
    [
      'a date gone',
      model('t1', {}),
      {
        changed: {},
        removed: [],
        removed_expirations: [D],
        counts: { repriced: 0, changed: 0, removed: 0 },
      },
    ],
  ])('%s: the diff says so, and applying it gives the new version', (_what, next, want) => {
    const diff = diffHeatmap(base, next);
    expect(diff).toMatchObject(want);
    expect(diff.base).toEqual({ epoch_id: 'E1', ts: 't0' });
    expect(diff.ts).toBe('t1');
    expect(diff.header.spot).toBe(next.spot);
    expect(diff.header).not.toHaveProperty('expirations');
    expectSchema(diff, 'sse-heatmap-diff');
    expect(applyHeatmapDiff(clone(base), diff)).toEqual(next);
  });

  it('a top-level field the new version dropped (live): applying the diff drops it too', () => {
    const live = {
      source: 'stream',
      spot_source: 'stream',
      last_tick_ts: 't0',
      streamed_contracts: 3,
      quote_age_ms: null,
    };
    const prev = { ...model('t0', { [D]: exp() }), live } as HeatmapModel;
    const next = model('t1', { [D]: exp() }, 101);
    const diff = diffHeatmap(prev, next);
    expect(diff.header).not.toHaveProperty('live');
    const applied = applyHeatmapDiff(clone(prev), diff);
    expect(applied).not.toHaveProperty('live');
    expect(applied).toEqual(next);
    // The same document byte for byte: the fields in the published order.
    expect(JSON.stringify(applied)).toBe(JSON.stringify(next));
  });
});

describe('heatmap diffs from real models and over SSE', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await h?.close();
    h = undefined;
  });

  it('sends each new version as the tiles that changed; applied to the held version it equals the new document', async () => {
    // Spot steps every 200 ms: each cycle reprices the same chain.
    h = await stack(target, { sim: { tickMs: 200 } });
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 });
    const get = async (): Promise<HeatmapModel> =>
      (await (await fetch(`${server?.url}/api/models/heatmap/SPX`)).json()) as HeatmapModel;
    const sse = await SseClient.open(`${server.url}/events?symbols=SPX,NDX&models=heatmap&diffs=SPX`);
    const plain = await SseClient.open(`${server.url}/events?symbols=SPX&models=heatmap`);
    await sse.waitFor(() => sse.models().length === 2, 10_000, 'current notes');
    await plain.waitFor(() => plain.models().length === 1, 10_000, 'current note');
    const held: HeatmapModel[] = [await get()];
    // Two new versions of the same chain a tick apart (prices move): the hub keeps the first as its
    // base, the second goes out as a diff.
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const before = sse.models().filter((m) => m.symbol === 'SPX').length;
      await cycleAndBuild(h);
      await sse.waitFor(
        () => sse.models().filter((m) => m.symbol === 'SPX').length > before,
        20_000,
        'a note',
      );
      held.push(await get());
    }
    const diffs = sse.events.filter((e) => e.event === 'heatmap_diff');
    // Only for the symbol asked for, and only to the client that asked.
    expect(diffs.map((e) => (JSON.parse(e.data) as { symbol: string }).symbol)).toEqual(['SPX']);
    expect(plain.events.filter((e) => e.event === 'heatmap_diff')).toEqual([]);
    plain.close();
    expect(diffs.length).toBe(1);
    const ev = diffs[0] as (typeof sse.events)[number];
    const diff = JSON.parse(ev.data) as HeatmapDiff;
    expectSchema(diff, 'sse-heatmap-diff');
    const [, v1, v2] = held as [HeatmapModel, HeatmapModel, HeatmapModel];
    expect(diff.base).toEqual({ epoch_id: v1.epoch_id, ts: v1.ts });
    expect(diff.ts).toBe(v2.ts);
    expect(applyHeatmapDiff(clone(v1), diff)).toEqual(v2);
    // It is smaller than the document, and sent before the version's note.
    expect(ev.data.length).toBeLessThan(JSON.stringify(v2).length);
    console.log(
      `heatmap_diff: ${ev.data.length} bytes for a ${JSON.stringify(v2).length}-byte document; counts ${JSON.stringify(diff.counts)}`,
    );
    expect(diff.counts.repriced + diff.counts.changed + diff.counts.removed).toBeGreaterThan(0);
    const order = sse.events.map((e) =>
      e.event === 'model' ? `model:${(JSON.parse(e.data) as { ts: string }).ts}` : e.event,
    );
    expect(order.indexOf('heatmap_diff')).toBe(order.indexOf(`model:${v2.ts}`) - 1);
    // The same diff computed here, independently of the hub, from the two documents.
    expect(diffHeatmap(v1, v2)).toEqual(diff);
    sse.close();

    // Over the cap, no diff (clients refetch the document on the note); under it, the diff.
    const small = new HeatmapDiffs(h.bus, h.keys, 1_000);
    const large = new HeatmapDiffs(h.bus, h.keys);
    expect([await small.next('SPX'), await large.next('SPX')]).toEqual([null, null]); // no base yet
    await new Promise((r) => setTimeout(r, 250));
    await cycleAndBuild(h);
    expect(await small.next('SPX')).toBeNull();
    const frame = await large.next('SPX');
    expect(frame?.diff.base.ts).toBe(v2.ts);
    expect(Buffer.byteLength(frame?.data ?? '')).toBeLessThanOrEqual(MAX_HEATMAP_DIFF_BYTES);
  }, 60_000);
});

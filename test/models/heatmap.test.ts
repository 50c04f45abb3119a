/** @module Heatmap tiles against hand-computed values. */
import { describe, expect, it } from 'vitest';
import {
  buildHeatmapModel,
  chooseRoot,
  butterflyTile,
  centsOfMilli,
  contractMid,
  priceKey,
  quote,
  sideContext,
  singleTile,
  verticalTile,
  orderDescription,
} from '../../src/models/heatmap/index.js';
import type { HeatmapInput, HeatmapModel, Tile } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { substrate } from './substrate-fixture.js';

/** 2026-01-07 10:00 New York. */
const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const SPOT = 6850;

interface Quote {
  mid: number | null;
  bid?: number | null;
  ask?: number | null;
}

function contract(
  root: string,
  expiration: string,
  type: 'C' | 'P',
  strike: number,
  q: Quote,
): ContractSubstrate {
  return substrate(
    root,
    expiration,
    type,
    strike,
    { bid: q.bid ?? null, ask: q.ask ?? null, mid: q.mid },
    AS_OF,
  );
}

const JAN16 = '2026-01-16';
const FEB20 = '2026-02-20';

const CHAIN: ContractSubstrate[] = [
  // SPXW (PM) on the third Friday.
  contract('SPXW', JAN16, 'C', 6775, { mid: 80 }),
  contract('SPXW', JAN16, 'C', 6800, { mid: 60 }),
  contract('SPXW', JAN16, 'C', 6825, { mid: 42.5 }),
  contract('SPXW', JAN16, 'C', 6850, { mid: 27.4 }),
  contract('SPXW', JAN16, 'C', 6852.5, { mid: null, bid: 26, ask: 26.4 }), // bid/ask fallback → 26.20
  contract('SPXW', JAN16, 'C', 6855, { mid: 24.9 }),
  contract('SPXW', JAN16, 'C', 6875, { mid: null, bid: 0, ask: 0.5 }), // no mid: tiles needing it are absent
  contract('SPXW', JAN16, 'C', 6900, { mid: 8.1 }),
  contract('SPXW', JAN16, 'C', 6925, { mid: 3.05 }),
  contract('SPXW', JAN16, 'P', 6775, { mid: 10 }),
  contract('SPXW', JAN16, 'P', 6800, { mid: 14.2 }),
  contract('SPXW', JAN16, 'P', 6825, { mid: 19.6 }),
  contract('SPXW', JAN16, 'P', 6850, { mid: 26.9 }),
  contract('SPXW', JAN16, 'P', 6875, { mid: 36 }),
  contract('SPXW', JAN16, 'P', 6900, { mid: 47.75 }),
  contract('SPXW', JAN16, 'P', 6925, { mid: 60.1 }),
  contract('SPXW', JAN16, 'P', 6950, { mid: 73.4 }),
  // SPX (AM) monthly on the same date: its mids must never be used while SPXW has contracts.
  contract('SPX', JAN16, 'C', 6850, { mid: 28 }),
  contract('SPX', JAN16, 'C', 6875, { mid: 15 }),
  contract('SPX', JAN16, 'C', 6900, { mid: 8 }),
  // A date with only the AM root.
  contract('SPX', FEB20, 'C', 6825, { mid: 90 }),
  contract('SPX', FEB20, 'C', 6850, { mid: 75 }),
  contract('SPX', FEB20, 'C', 6875, { mid: 61.5 }),
  contract('SPX', FEB20, 'P', 6825, { mid: 50.4 }),
  contract('SPX', FEB20, 'P', 6850, { mid: 50 }), // inverted: the put vertical is a credit
  // Settled yesterday.
  contract('SPXW', '2026-01-06', 'C', 6850, { mid: 1 }),
];

function input(over: Partial<HeatmapInput> = {}): HeatmapInput {
  return {
    symbol: 'SPX',
    epochId: 'SPX:1767798000:t',
    asOf: AS_OF,
    spot: SPOT,
    contracts: CHAIN,
    ts: AS_OF + 2000,
    stale: true,
    widths: [25, 2.5],
    windowPct: 1, // [6781.5, 6918.5]
    ...over,
  };
}

type Path = [
  date: string,
  kind: 'butterfly' | 'vertical',
  type: 'call' | 'put',
  strike: string,
  width: string,
];

function tileAt(model: HeatmapModel, [date, kind, type, strike, width]: Path): Tile | undefined {
  return model.expirations[date]?.[kind][type][strike]?.[width];
}

const C = 'C' as const;
const P = 'P' as const;

describe('buildHeatmapModel tiles', () => {
  const model = buildHeatmapModel(input());

  it.each<[string, Path, number, string, [number, 'C' | 'P', number][]]>([
    [
      'call butterfly, a wing outside the window',
      [JAN16, 'butterfly', 'call', '6800', '25'],
      2.5, // 80 + 42.50 − 2 × 60
      'BUY 1 SPXW 16JAN26 6775/6800/6825 CALL BUTTERFLY @ 2.50 DEBIT',
      [
        [6775, C, 1],
        [6800, C, -2],
        [6825, C, 1],
      ],
    ],
    [
      'call butterfly',
      [JAN16, 'butterfly', 'call', '6825', '25'],
      2.4, // 60 + 27.40 − 2 × 42.50
      'BUY 1 SPXW 16JAN26 6800/6825/6850 CALL BUTTERFLY @ 2.40 DEBIT',
      [
        [6800, C, 1],
        [6825, C, -2],
        [6850, C, 1],
      ],
    ],
    [
      'fractional centre with the bid/ask fallback, a credit',
      [JAN16, 'butterfly', 'call', '6852.5', '2.5'],
      -0.1, // 27.40 + 24.90 − 2 × 26.20
      'BUY 1 SPXW 16JAN26 6850/6852.5/6855 CALL BUTTERFLY @ 0.10 CREDIT',
      [
        [6850, C, 1],
        [6852.5, C, -2],
        [6855, C, 1],
      ],
    ],
    [
      'put butterfly at the window edge side',
      [JAN16, 'butterfly', 'put', '6900', '25'],
      0.6, // 36 + 60.10 − 2 × 47.75
      'BUY 1 SPXW 16JAN26 6875/6900/6925 PUT BUTTERFLY @ 0.60 DEBIT',
      [
        [6875, P, 1],
        [6900, P, -2],
        [6925, P, 1],
      ],
    ],
    [
      'call vertical sells K + w',
      [JAN16, 'vertical', 'call', '6825', '25'],
      15.1, // 42.50 − 27.40
      'BUY 1 SPXW 16JAN26 6825/6850 CALL VERTICAL @ 15.10 DEBIT',
      [
        [6825, C, 1],
        [6850, C, -1],
      ],
    ],
    [
      'call vertical on the fractional strike',
      [JAN16, 'vertical', 'call', '6852.5', '2.5'],
      1.3, // 26.20 − 24.90
      'BUY 1 SPXW 16JAN26 6852.5/6855 CALL VERTICAL @ 1.30 DEBIT',
      [
        [6852.5, C, 1],
        [6855, C, -1],
      ],
    ],
    [
      'put vertical sells K − w',
      [JAN16, 'vertical', 'put', '6850', '25'],
      7.3, // 26.90 − 19.60
      'BUY 1 SPXW 16JAN26 6850/6825 PUT VERTICAL @ 7.30 DEBIT',
      [
        [6850, P, 1],
        [6825, P, -1],
      ],
    ],
    [
      'AM-only date names its root',
      [FEB20, 'butterfly', 'call', '6850', '25'],
      1.5, // 90 + 61.50 − 2 × 75
      'BUY 1 SPX 20FEB26 6825/6850/6875 CALL BUTTERFLY @ 1.50 DEBIT',
      [
        [6825, C, 1],
        [6850, C, -2],
        [6875, C, 1],
      ],
    ],
    [
      'credit vertical',
      [FEB20, 'vertical', 'put', '6850', '25'],
      -0.4, // 50 − 50.40
      'BUY 1 SPX 20FEB26 6850/6825 PUT VERTICAL @ 0.40 CREDIT',
      [
        [6850, P, 1],
        [6825, P, -1],
      ],
    ],
  ])('%s', (_name, path, value, description, legs) => {
    expect(tileAt(model, path)).toEqual({
      value,
      description,
      legs: legs.map(([strike, type, qty]) => ({ strike, type, qty })),
    });
  });

  it.each<[string, Path]>([
    ['a wing has no mid (bid 0)', [JAN16, 'butterfly', 'call', '6850', '25']],
    ['the short leg has no mid', [JAN16, 'vertical', 'call', '6850', '25']],
    ['the centre itself has no mid', [JAN16, 'butterfly', 'call', '6875', '25']],
    ['no strike at K − w', [JAN16, 'butterfly', 'call', '6852.5', '25']],
    ['centre outside the window', [JAN16, 'butterfly', 'put', '6925', '25']],
    ['long strike outside the window', [JAN16, 'vertical', 'put', '6925', '25']],
    ['long strike outside the window', [JAN16, 'vertical', 'put', '6775', '25']],
  ])('leaves the tile out when %s', (_name, path) => {
    expect(tileAt(model, path)).toBeUndefined();
  });

  it('keys strikes by their exact value and widths as given', () => {
    const calls = model.expirations[JAN16]!.butterfly.call;
    expect(Object.keys(calls).sort()).toEqual(['6800', '6825', '6852.5']);
    expect(Object.keys(calls['6852.5']!)).toEqual(['2.5']);
    expect(model.widths).toEqual([2.5, 25]);
  });

  it('prices singles at the mid and leaves a missing side out', () => {
    const single = model.expirations[JAN16]!.single;
    expect(single['6852.5']).toEqual({
      call: {
        value: 26.2,
        legs: [{ strike: 6852.5, type: 'C', qty: 1 }],
        description: 'BUY 1 SPXW 16JAN26 6852.5 CALL @ 26.20 DEBIT',
      },
    });
    expect(single['6875']!.call).toBeUndefined();
    expect(single['6875']!.put!.value).toBe(36);
    expect(
      Object.keys(single)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([6800, 6825, 6850, 6852.5, 6855, 6875, 6900]);
  });

  it('uses the PM root alone on a date both roots share, and skips expired dates', () => {
    expect(model.expirations[JAN16]).toMatchObject({ root: 'SPXW', settlement: 'PM' });
    expect(model.expirations[FEB20]).toMatchObject({ root: 'SPX', settlement: 'AM' });
    expect(Object.keys(model.expirations)).toEqual([JAN16, FEB20]);
    const descriptions = JSON.stringify(model.expirations[JAN16]);
    expect(descriptions).not.toMatch(/BUY 1 SPX /);
  });

  it('writes the header and the window', () => {
    expect(model).toMatchObject({
      version: 2,
      model: 'heatmap',
      symbol: 'SPX',
      epoch_id: 'SPX:1767798000:t',
      ts: '2026-01-07T15:00:02.000Z',
      as_of: '2026-01-07T15:00:00.000Z',
      spot: SPOT,
      stale: true,
      contract_count: CHAIN.length,
      window_pct: 1,
      window: { low: 6781.5, high: 6918.5 },
    });
    expect(Object.keys(model).slice(0, 3)).toEqual(['version', 'model', 'symbol']);
  });

  it('round-trips through JSON unchanged', () => {
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });
});

describe('buildHeatmapModel options and edge cases', () => {
  it('uses every strike as a centre with windowPct 0', () => {
    const model = buildHeatmapModel(input({ windowPct: 0 }));
    expect(model.window).toBeNull();
    expect(tileAt(model, [JAN16, 'butterfly', 'put', '6925', '25'])?.value).toBe(0.95); // 47.75 + 73.40 − 120.20
    expect(tileAt(model, [JAN16, 'vertical', 'put', '6775', '25'])).toBeUndefined(); // no 6750
    expect(tileAt(model, [JAN16, 'vertical', 'put', '6950', '25'])?.value).toBe(13.3);
  });

  it.each([
    ['windowPct 1: no window can be placed, no tiles', 1, 0],
    ['windowPct 0: every strike', 0, 2],
  ])('without spot, %s', (_name, windowPct, dates) => {
    const model = buildHeatmapModel(input({ spot: null, windowPct }));
    expect(model.spot).toBeNull();
    expect(model.window).toBeNull();
    expect(Object.keys(model.expirations)).toHaveLength(dates);
  });

  it('publishes an empty valid model for an empty epoch', () => {
    const model = buildHeatmapModel(input({ contracts: [] }));
    expect(model.expirations).toEqual({});
    expect(model.contract_count).toBe(0);
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });

  it('never falls back to the AM root when the PM root has contracts but no mids', () => {
    const chain = [
      contract('SPXW', JAN16, 'C', 6825, { mid: null }),
      contract('SPXW', JAN16, 'C', 6850, { mid: null }),
      contract('SPXW', JAN16, 'C', 6875, { mid: null }),
      contract('SPX', JAN16, 'C', 6825, { mid: 40 }),
      contract('SPX', JAN16, 'C', 6850, { mid: 28 }),
      contract('SPX', JAN16, 'C', 6875, { mid: 15 }),
    ];
    expect(buildHeatmapModel(input({ contracts: chain })).expirations).toEqual({});
  });

  it('uses the AM root on its date once it is the only one left, until it settles at 09:30', () => {
    const chain = CHAIN.filter((c) => c.expiration === FEB20);
    const before = Date.UTC(2026, 1, 20, 14, 29); // 09:29 EST
    const after = Date.UTC(2026, 1, 20, 14, 30);
    expect(Object.keys(buildHeatmapModel(input({ contracts: chain, asOf: before })).expirations)).toEqual([
      FEB20,
    ]);
    expect(buildHeatmapModel(input({ contracts: chain, asOf: after })).expirations).toEqual({});
  });

  it('cleans the widths: positive, distinct, ascending', () => {
    const model = buildHeatmapModel(input({ widths: [25, Number.NaN, -5, 0, 25, 2.5] }));
    expect(model.widths).toEqual([2.5, 25]);
  });

  it('treats a negative or non-finite windowPct as 0', () => {
    expect(buildHeatmapModel(input({ windowPct: -3 })).window_pct).toBe(0);
    expect(buildHeatmapModel(input({ windowPct: Number.NaN })).window).toBeNull();
  });
});

describe('tile rounding: half away from zero in integer cents from thousandths (issue 14 §5)', () => {
  /** Independent: the exact value in thousandths (integers), then half-away-from-zero to the cent. */
  const refCents = (milli: number): number =>
    (Math.sign(milli) * Math.floor((Math.abs(milli) + 5) / 10)) / 100;

  it.each<[number, number, number, number]>([
    // low, centre, high mids → butterfly value
    [1.85, 2, 2.125, -0.03], // −0.025: a float nudge published −0.02
    [1.855, 2, 2.17, 0.03], // +0.025
    [0.005, 0.01, 0.03, 0.02], // +0.015
    [4.115, 4.1, 4.1, 0.02], // +0.015
    [2.345, 2.0, 1.66, 0.01], // +0.005
    [1.005, 1.0, 0.99, -0.01], // −0.005
    [3.2, 2.5, 1.8, 0],
  ])('butterfly %s / %s / %s', (low, centre, high, expected) => {
    const milli = Math.round(low * 1000) + Math.round(high * 1000) - 2 * Math.round(centre * 1000);
    expect(refCents(milli)).toBe(expected);
    const quotes = new Map([
      [priceKey(6825), quote(6825, low)],
      [priceKey(6850), quote(6850, centre)],
      [priceKey(6875), quote(6875, high)],
    ]);
    const tile = butterflyTile(quotes, sideContext('SPXW', JAN16, 'C'), 6850, 25);
    expect(tile?.value).toBe(expected);
  });

  it.each([
    [-25, -0.03],
    [25, 0.03],
    [-24, -0.02],
    [-15, -0.02],
    [5, 0.01],
    [-5, -0.01],
    [4, 0],
    [-4, 0],
    [0, 0],
    [123_455, 123.46],
  ])('centsOfMilli(%s) = %s', (milli, expected) => {
    expect(Object.is(centsOfMilli(milli), expected)).toBe(true);
  });

  it('a vertical and a single round the same way: 2.125 − 2.1 → 0.03, a mid of 2.125 → 2.13', () => {
    const quotes = new Map([
      [priceKey(6850), quote(6850, 2.125)],
      [priceKey(6875), quote(6875, 2.1)],
    ]);
    const ctx = sideContext('SPXW', JAN16, 'C');
    expect(verticalTile(quotes, ctx, 6850, 25)?.value).toBe(0.03);
    expect(singleTile(quotes, ctx, 6850)?.value).toBe(2.13);
    expect(singleTile(quotes, ctx, 6850)?.description).toMatch(/@ 2\.13 DEBIT$/);
  });
});

describe('heatmap parts', () => {
  it.each([
    ['the mid', { mid: 2.35, bid: 2, ask: 3 }, 2.35],
    ['bid/ask when mid is null', { mid: null, bid: 2.3, ask: 2.4 }, 2.35],
    ['bid/ask when mid is 0', { mid: 0, bid: 2.3, ask: 2.4 }, 2.35],
    ['null when bid is 0', { mid: null, bid: 0, ask: 0.05 }, null],
    ['null when ask is missing', { mid: null, bid: 1, ask: null }, null],
    ['null when nothing is quoted', { mid: null, bid: null, ask: null }, null],
    ['null when mid is NaN and no bid/ask', { mid: Number.NaN, bid: null, ask: null }, null],
    ['null when the mid is absurd (1e300)', { mid: 1e300, bid: null, ask: null }, null],
    ['bid/ask when the mid is absurd', { mid: 2e6, bid: 2.3, ask: 2.4 }, 2.35],
  ])('contractMid: %s', (_name, q, expected) => {
    const mid = contractMid(q);
    if (expected === null) expect(mid).toBeNull();
    else expect(mid).toBeCloseTo(expected, 12);
  });

  it.each<[string, [string, number][], string | null]>([
    [
      'PM beats AM',
      [
        ['SPX', 500],
        ['SPXW', 10],
      ],
      'SPXW',
    ],
    [
      'NDXP beats NDX',
      [
        ['NDX', 5],
        ['NDXP', 5],
      ],
      'NDXP',
    ],
    ['AM alone', [['SPX', 5]], 'SPX'],
    [
      'more contracts between PM roots',
      [
        ['AAA', 1],
        ['BBB', 2],
      ],
      'BBB',
    ],
    [
      'alphabetical on a tie',
      [
        ['BBB', 2],
        ['AAA', 2],
      ],
      'AAA',
    ],
    ['nothing', [], null],
  ])('chooseRoot: %s', (_name, counts, expected) => {
    expect(chooseRoot(new Map(counts))).toBe(expected);
  });

  it.each([
    [2.35, 'BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.35 DEBIT'],
    [-2.35, 'BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.35 CREDIT'],
    [0, 'BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 0.00 EVEN'],
  ])('orderDescription at %s', (value, expected) => {
    expect(
      orderDescription({
        root: 'SPXW',
        expiration: JAN16,
        type: 'C',
        strikes: [6825, 6850, 6875],
        structure: 'BUTTERFLY',
        value,
      }),
    ).toBe(expected);
  });
});

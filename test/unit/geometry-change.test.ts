import { describe, expect, it } from 'vitest';
import { geometryChange, type GeometryDelta } from '../../src/chain-worker/geometry.js';
import { geometryChangeSliced } from '../../src/chain-worker/sliced.js';

const C = (exp: string, strike: number, t: 'C' | 'P' = 'C'): string =>
  `O:SPXW${exp.replaceAll('-', '').slice(2)}${t}${String(strike * 1000).padStart(8, '0')}`;

const none: GeometryDelta = {
  expirations: { entered: [], left: [] },
  strikes: { entered: [], left: [] },
  contracts: { entered: 0, left: 0 },
};

describe('geometryChange', () => {
  it.each<[string, string[], string[], GeometryDelta]>([
    ['same set', [C('2026-01-02', 100)], [C('2026-01-02', 100)], none],
    ['both empty', [], [], none],
    [
      'a put added at a listed strike: a contract, no strike',
      [C('2026-01-02', 100)],
      [C('2026-01-02', 100), C('2026-01-02', 100, 'P')],
      { ...none, contracts: { entered: 1, left: 0 } },
    ],
    [
      'an expiration rolls off and one is listed',
      [C('2026-01-02', 100), C('2026-01-05', 100)],
      [C('2026-01-05', 100), C('2026-01-06', 100)],
      {
        expirations: { entered: ['2026-01-06'], left: ['2026-01-02'] },
        strikes: { entered: [], left: [] },
        contracts: { entered: 1, left: 1 },
      },
    ],
    [
      'the ladder shifts up: strikes in ascending numeric order (not text)',
      [C('2026-01-02', 95), C('2026-01-02', 100), C('2026-01-02', 99.5)],
      [C('2026-01-02', 100), C('2026-01-02', 1000), C('2026-01-02', 105)],
      {
        expirations: { entered: [], left: [] },
        strikes: { entered: [105, 1000], left: [95, 99.5] },
        contracts: { entered: 2, left: 2 },
      },
    ],
    [
      'a strike stays while any expiration lists it',
      [C('2026-01-02', 100), C('2026-01-05', 100)],
      [C('2026-01-05', 100)],
      {
        expirations: { entered: [], left: ['2026-01-02'] },
        strikes: { entered: [], left: [] },
        contracts: { entered: 0, left: 1 },
      },
    ],
    [
      'an id that is not a ticker counts as a contract only',
      ['junk'],
      [C('2026-01-02', 100)],
      {
        expirations: { entered: ['2026-01-02'], left: [] },
        strikes: { entered: [100], left: [] },
        contracts: { entered: 1, left: 1 },
      },
    ],
  ])('%s', async (_name, prev, next, want) => {
    expect(geometryChange(prev, next)).toEqual(want);
    // The sliced form (what the cycle runs) gives the same answer, with slices of one id.
    expect(await geometryChangeSliced(prev, next, 1)).toEqual(want);
  });
});

describe('geometryChangeSliced on a burst-sized promotion', () => {
  // 3 expirations × 1,000 strikes × call/put, the ladder moved up by 50 strikes and one expiration rolled.
  const chain = (exps: string[], lo: number): string[] =>
    exps.flatMap((e) =>
      Array.from({ length: 1_000 }, (_, i) => [C(e, lo + i * 5), C(e, lo + i * 5, 'P')]).flat(),
    );
  const prev = chain(['2026-01-02', '2026-01-05', '2026-01-06'], 5_000);
  const next = chain(['2026-01-05', '2026-01-06', '2026-01-07'], 5_250);

  it('equals the one-pass change: 2,000 ids entered per expiration pair, strikes moved by 50', async () => {
    const want = geometryChange(prev, next);
    expect(want.expirations).toEqual({ entered: ['2026-01-07'], left: ['2026-01-02'] });
    expect(want.strikes.left).toEqual(Array.from({ length: 50 }, (_, i) => 5_000 + i * 5));
    expect(want.strikes.entered).toEqual(Array.from({ length: 50 }, (_, i) => 9_995 + (i + 1) * 5));
    // Left: the whole rolled expiration (2,000) + 100 ids per kept expiration; entered the same.
    expect(want.contracts).toEqual({ entered: 2_200, left: 2_200 });
    expect(await geometryChangeSliced(prev, next)).toEqual(want);
  });

  it('gives the event loop turns while it parses (12,000 ids, slices of 1,000: at least 11 turns)', async () => {
    let turns = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await geometryChangeSliced(prev, next);
    running = false;
    expect(turns).toBeGreaterThanOrEqual(11);
  });
});

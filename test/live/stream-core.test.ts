import { describe, expect, it } from 'vitest';
import { QuoteBuffer, type LiveQuote } from '../../src/live/quote-buffer.js';
import { SequenceTracker } from '../../src/live/sequence.js';
import {
  chooseSubscriptions,
  diffSubscriptions,
  perSymbolBudget,
  spotMovedFar,
  type SubscriptionCandidate,
} from '../../src/live/subscription.js';

// 2026-01-07 15:00 UTC = 10:00 New York, a Wednesday.
const NOW = Date.parse('2026-01-07T15:00:00Z');

function c(
  id: string,
  expiration: string,
  strike: number,
  gamma: number | null,
  oi: number | null,
  root = 'SPXW',
): SubscriptionCandidate {
  return { id, root, expiration, strike, gamma, oi };
}

describe('chooseSubscriptions', () => {
  const cases: {
    name: string;
    contracts: SubscriptionCandidate[];
    max: number;
    spot?: number;
    current?: string[];
    want: string[];
  }[] = [
    {
      name: 'gamma × OI decides within an expiration',
      contracts: [c('a', '2026-01-08', 6850, 0.002, 100), c('b', '2026-01-08', 6900, 0.001, 500)],
      max: 1,
      want: ['b'],
    },
    {
      name: 'the i-th expiration counts 1/(1+i): equal gamma × OI goes to the nearer one',
      contracts: [c('far', '2026-01-09', 6850, 0.002, 100), c('near', '2026-01-08', 6850, 0.002, 100)],
      max: 1,
      want: ['near'],
    },
    {
      name: 'a far expiration wins only with more than (1+i)× the weight',
      contracts: [c('near', '2026-01-08', 6850, 0.002, 100), c('far', '2026-01-09', 6850, 0.002, 201)],
      max: 1,
      want: ['far'],
    },
    {
      name: 'settled contracts are never chosen (0DTE AM monthly settled at 09:30)',
      contracts: [c('am', '2026-01-07', 6850, 0.01, 9999, 'SPX'), c('pm', '2026-01-07', 6850, 0.001, 1)],
      max: 2,
      want: ['pm'],
    },
    {
      name: 'no gamma or no OI: score 0, then nearest expiration, then strike nearest spot, then ticker',
      contracts: [
        c('z', '2026-01-08', 6860, null, 10),
        c('y', '2026-01-08', 6840, 0.001, null),
        c('x', '2026-01-08', 6855, null, null),
        c('w', '2026-01-07', 7000, null, null),
        c('v', '2026-01-08', 6845, null, null),
      ],
      max: 5,
      want: ['w', 'v', 'x', 'y', 'z'],
    },
    {
      name: 'an incumbent keeps its place against a challenger less than 25% better',
      contracts: [c('old', '2026-01-08', 6850, 0.002, 100), c('new', '2026-01-08', 6855, 0.002, 120)],
      max: 1,
      current: ['old'],
      want: ['old'],
    },
    {
      name: 'an incumbent loses to a challenger more than 25% better',
      contracts: [c('old', '2026-01-08', 6850, 0.002, 100), c('new', '2026-01-08', 6855, 0.002, 130)],
      max: 1,
      current: ['old'],
      want: ['new'],
    },
    { name: 'max 0 chooses nothing', contracts: [c('a', '2026-01-08', 6850, 1, 1)], max: 0, want: [] },
  ];
  it.each(cases)('$name', ({ contracts, max, spot, current, want }) => {
    expect(
      chooseSubscriptions(contracts, {
        spot: spot ?? 6850,
        now: NOW,
        max,
        ...(current ? { current: new Set(current) } : {}),
      }),
    ).toEqual(want);
  });

  it('never exceeds the budget on a 20,000-contract chain, and re-choosing at the same spot churns nothing', () => {
    const contracts: SubscriptionCandidate[] = [];
    for (let e = 0; e < 5; e++)
      for (let k = 0; k < 2000; k++) {
        const strike = 5000 + k * 2;
        const g = Math.exp(-(((strike - 6850) / 100) ** 2)) / (1 + e);
        const exp = `2026-01-${String(8 + e).padStart(2, '0')}`;
        contracts.push(c(`C${e}-${k}`, exp, strike, g, 100 + (k % 7)), c(`P${e}-${k}`, exp, strike, g, 90));
      }
    const first = chooseSubscriptions(contracts, { spot: 6850, now: NOW, max: 1000 });
    expect(first).toHaveLength(1000);
    const again = chooseSubscriptions(contracts, {
      spot: 6850,
      now: NOW,
      max: 1000,
      current: new Set(first),
    });
    expect(diffSubscriptions(first, again)).toEqual({ subscribe: [], unsubscribe: [] });
  });
});

describe('diffSubscriptions', () => {
  it.each([
    { cur: [], next: ['a', 'b'], want: { subscribe: ['a', 'b'], unsubscribe: [] } },
    { cur: ['a', 'b'], next: [], want: { subscribe: [], unsubscribe: ['a', 'b'] } },
    { cur: ['a', 'b', 'c'], next: ['c', 'd', 'b'], want: { subscribe: ['d'], unsubscribe: ['a'] } },
    { cur: ['a'], next: ['a'], want: { subscribe: [], unsubscribe: [] } },
  ])('$cur → $next', ({ cur, next, want }) => {
    expect(diffSubscriptions(cur, next)).toEqual(want);
  });
});

describe('spotMovedFar and perSymbolBudget', () => {
  it.each([
    [6850, 6850, 0.5, false],
    [6850, 6884, 0.5, false],
    [6850, 6885, 0.5, true],
    [6850, 6815, 0.5, true],
    [0, 6900, 0.5, false],
  ])('chosen at %d, spot %d, %d%%: %s', (at, spot, pct, want) => {
    expect(spotMovedFar(at, spot, pct)).toBe(want);
  });
  it.each([
    [1000, 2, 500],
    [1000, 3, 333],
    [1000, 1, 1000],
    [1000, 0, 0],
  ])('%d contracts over %d symbols → %d each', (limit, n, want) => {
    expect(perSymbolBudget(limit, n)).toBe(want);
  });
});

describe('SequenceTracker', () => {
  it('accepts increasing q (gaps allowed), drops and counts duplicates and out-of-order', () => {
    const s = new SequenceTracker();
    const seen = [
      ['A', 1],
      ['A', 2],
      ['A', 6],
      ['B', 3],
      ['A', 6],
      ['A', 5],
      ['B', 3],
      ['B', 2],
      ['A', 9],
    ].map(([sym, q]) => s.check(sym as string, q as number));
    expect(seen).toEqual([
      'accept',
      'accept',
      'accept',
      'accept',
      'duplicate',
      'out_of_order',
      'duplicate',
      'out_of_order',
      'accept',
    ]);
    expect({ accepted: s.accepted, duplicates: s.duplicates, outOfOrder: s.outOfOrder }).toEqual({
      accepted: 5,
      duplicates: 2,
      outOfOrder: 2,
    });
    s.forget(['A']);
    expect(s.check('A', 1)).toBe('accept');
    s.reset();
    expect(s.tracked).toBe(0);
  });
});

describe('QuoteBuffer', () => {
  const q = (sym: string, t: number, bid = 1): LiveQuote => ({
    sym,
    bid,
    ask: bid + 0.1,
    t,
    q: t,
    receivedAt: t,
  });
  it('keeps only the latest quote per contract and empties on drain', () => {
    const b = new QuoteBuffer(10);
    b.put(q('A', 1, 1));
    b.put(q('A', 3, 3));
    b.put(q('A', 2, 2)); // older than the kept one: coalesced away, not kept
    b.put(q('B', 5, 5));
    expect(b.size).toBe(2);
    expect(b.coalesced).toBe(2);
    expect(b.oldestReceivedAt).toBe(1);
    expect(b.drain().map((x) => [x.sym, x.bid])).toEqual([
      ['A', 3],
      ['B', 5],
    ]);
    expect(b.size).toBe(0);
    expect(b.oldestReceivedAt).toBeNull();
  });
  it('is bounded: a firehose over more contracts than the cap drops and counts the rest', () => {
    const b = new QuoteBuffer(100);
    for (let i = 0; i < 100_000; i++) b.put(q(`S${i % 250}`, i));
    expect(b.size).toBe(100);
    expect(b.overflow).toBe(150 * 400); // every quote for S100…S249 (400 each)
    expect(b.drain()).toHaveLength(100);
  });
});

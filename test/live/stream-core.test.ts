import { describe, expect, it } from 'vitest';
import { mulberry32 as rng } from '../../src/provider/sim/prng.js';
import { QuoteBuffer, type LiveQuote } from '../../src/live/quote-buffer.js';
import { SequenceTracker } from '../../src/live/sequence.js';
import { yearsToSettlement } from '../../src/domain/market-time.js';
import {
  chooseNearest,
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
    {
      // 10:00 New York: the SPX monthly of 2026-01-02 settled; the nearest live expiration is i = 0 (weight 1),
      // the next i = 1 (weight 1/2), so 1.6× the gamma × OI there is worth 0.8 of the nearest's.
      name: 'a settled expiration still in the chain takes no rank: the nearest live one is i = 0',
      contracts: [
        c('settled', '2026-01-02', 6850, 0.01, 9999, 'SPX'),
        c('near', '2026-01-08', 6850, 0.002, 100),
        c('far', '2026-01-09', 6850, 0.002, 160),
      ],
      max: 1,
      want: ['near'],
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

/** The rule as first written (every contract scored, one sort of all): what the fast paths must equal. */
function byTheRule(
  contracts: readonly SubscriptionCandidate[],
  opts: Parameters<typeof chooseSubscriptions>[1],
) {
  if (!(opts.max > 0)) return [];
  const live = contracts.filter((x) => yearsToSettlement(opts.now, x.expiration, x.root) > 0);
  // i ranks the expirations of the candidates (settled contracts are none).
  const expirations = [...new Set(live.map((x) => x.expiration))].sort();
  const rank = new Map(expirations.map((e, i) => [e, i]));
  const scored: { id: string; score: number; exp: number; dist: number }[] = [];
  for (const x of live) {
    const exp = rank.get(x.expiration) ?? 0;
    const g = x.gamma !== null && Number.isFinite(x.gamma) && x.gamma > 0 ? x.gamma : 0;
    const oi = x.oi !== null && Number.isFinite(x.oi) && x.oi > 0 ? x.oi : 0;
    let score = (g * oi) / (1 + exp);
    if (opts.current?.has(x.id)) score *= 1.25;
    scored.push({ id: x.id, score, exp, dist: Math.abs(x.strike - opts.spot) });
  }
  scored.sort(
    (a, b) =>
      b.score - a.score || a.exp - b.exp || a.dist - b.dist || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return scored.slice(0, opts.max).map((x) => x.id);
}

describe('chooseNearest (the rule when every score is 0)', () => {
  const nearest = (contracts: SubscriptionCandidate[], max: number, spot = 6850) =>
    chooseNearest(contracts, (x) => x.id, { spot, now: NOW, max });
  const cases: {
    name: string;
    contracts: SubscriptionCandidate[];
    max: number;
    spot?: number;
    want: string[];
  }[] = [
    {
      name: 'nearest expiration first, then strike nearest spot, then ticker',
      contracts: [
        c('z', '2026-01-08', 6860, null, null),
        c('x', '2026-01-08', 6855, null, null),
        c('w', '2026-01-07', 7000, null, null),
        c('v', '2026-01-08', 6845, null, null),
      ],
      max: 4,
      want: ['w', 'v', 'x', 'z'],
    },
    {
      name: 'equal distances on both sides of spot go by ticker, across the cut',
      contracts: [
        c('b', '2026-01-08', 6855, null, null),
        c('d', '2026-01-08', 6845, null, null),
        c('a', '2026-01-08', 6845, null, null),
        c('c', '2026-01-08', 6855, null, null),
        c('e', '2026-01-08', 6850, null, null),
      ],
      max: 3,
      want: ['e', 'a', 'b'],
    },
    {
      name: 'a call and a put at one strike: ticker order (C before P)',
      contracts: [
        c('O:SPXW260108P06850000', '2026-01-08', 6850, null, null),
        c('O:SPXW260108C06850000', '2026-01-08', 6850, null, null),
        c('O:SPXW260108C06855000', '2026-01-08', 6855, null, null),
      ],
      max: 2,
      want: ['O:SPXW260108C06850000', 'O:SPXW260108P06850000'],
    },
    {
      name: 'whole expirations before the cut, part of the one at it, none after',
      contracts: [
        c('f1', '2026-01-09', 6850, null, null),
        c('n1', '2026-01-08', 7000, null, null),
        c('n2', '2026-01-08', 6000, null, null),
        c('f2', '2026-01-09', 6900, null, null),
        c('g1', '2026-01-12', 6850, null, null),
      ],
      max: 3,
      want: ['n1', 'n2', 'f1'],
    },
    {
      name: 'settled contracts are never chosen; a budget above what is left keeps all of it',
      contracts: [c('am', '2026-01-07', 6850, null, null, 'SPX'), c('pm', '2026-01-07', 6900, null, null)],
      max: 5,
      want: ['pm'],
    },
    {
      name: 'a repeated id is kept as often as the rule keeps it',
      contracts: [c('a', '2026-01-08', 6850, null, null), c('a', '2026-01-08', 6850, null, null)],
      max: 2,
      want: ['a', 'a'],
    },
    {
      name: 'a fractional budget counts whole contracts',
      contracts: [c('a', '2026-01-08', 1, null, null), c('b', '2026-01-08', 2, null, null)],
      max: 1.5,
      want: ['b'],
    },
    { name: 'max 0 chooses nothing', contracts: [c('a', '2026-01-08', 6850, null, null)], max: 0, want: [] },
    { name: 'no contracts', contracts: [], max: 10, want: [] },
    {
      name: 'a strike that is not a number is ordered as the sort of the rule orders it',
      contracts: [
        c('a', '2026-01-08', Number.NaN, null, null),
        c('b', '2026-01-08', 6860, null, null),
        c('c', '2026-01-08', 6850, null, null),
      ],
      max: 3,
      want: byTheRule(
        [
          c('a', '2026-01-08', Number.NaN, null, null),
          c('b', '2026-01-08', 6860, null, null),
          c('c', '2026-01-08', 6850, null, null),
        ],
        { spot: 6850, now: NOW, max: 3 },
      ),
    },
  ];
  it.each(cases)('$name', ({ contracts, max, spot, want }) => {
    expect(nearest(contracts, max, spot)).toEqual(want);
    expect(chooseSubscriptions(contracts, { spot: spot ?? 6850, now: NOW, max })).toEqual(want);
    expect(byTheRule(contracts, { spot: spot ?? 6850, now: NOW, max })).toEqual(want);
  });

  /**
   * A random chain: a few expirations (one of them today, whose AM-settled SPX contracts are gone), SPX and
   * SPXW, calls and puts on a coarse strike grid (so distances tie, above and below a spot on the grid or
   * half-way), tickers sometimes repeated, contracts in any order.
   */
  function randomChain(seed: number): { contracts: SubscriptionCandidate[]; spot: number; max: number } {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const exps = ['2026-01-07', '2026-01-08', '2026-01-09', '2026-01-16', '2026-02-20'].filter(
      () => r() < 0.8,
    );
    if (exps.length === 0) exps.push('2026-01-08');
    const step = pick([1, 5, 25]);
    const spot = 6850 + pick([0, step / 2, step / 3, -step / 2, 1.25]);
    const n = Math.floor(r() * 300);
    const contracts: SubscriptionCandidate[] = [];
    for (let i = 0; i < n; i++) {
      if (contracts.length > 0 && r() < 0.05) {
        contracts.push({ ...(contracts[Math.floor(r() * contracts.length)] as SubscriptionCandidate) });
        continue;
      }
      const root = r() < 0.3 ? 'SPX' : 'SPXW';
      const exp = pick(exps);
      const strike = 6850 + step * (Math.floor(r() * 21) - 10);
      const side = r() < 0.5 ? 'C' : 'P';
      const id = `O:${root}${exp.slice(2).replaceAll('-', '')}${side}${String(strike * 1000).padStart(8, '0')}`;
      contracts.push(c(id, exp, strike, null, null, root));
      // The other side at the same strike, often.
      if (r() < 0.5)
        contracts.push(
          c(id.replace(/[CP](\d{8})$/, `${side === 'C' ? 'P' : 'C'}$1`), exp, strike, null, null, root),
        );
    }
    const max = pick([0, 1, 2, 7, 50, Math.floor(r() * (contracts.length + 5))]);
    return { contracts, spot, max };
  }

  it('equals the rule on 2,000 random chains (ties, both sides of spot, calls and puts, repeats, settled)', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const { contracts, spot, max } = randomChain(seed);
      const want = byTheRule(contracts, { spot, now: NOW, max });
      const got = nearest(contracts, max, spot);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ seed, got }).toEqual({ seed, got: want });
      const viaRule = chooseSubscriptions(contracts, {
        spot,
        now: NOW,
        max,
        current: new Set(want.slice(0, 3)),
      });
      if (JSON.stringify(viaRule) !== JSON.stringify(want))
        expect({ seed, viaRule }).toEqual({ seed, viaRule: want });
    }
  });

  it('chooseSubscriptions with gamma and OI is still the rule (random chains, incumbents, zero and missing greeks)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const { contracts, spot, max } = randomChain(seed);
      const r = rng(seed + 1e6);
      const withGreeks = contracts.map((x) => ({
        ...x,
        gamma: r() < 0.2 ? null : r() < 0.1 ? 0 : Math.round(r() * 10) / 1000,
        oi: r() < 0.2 ? null : Math.floor(r() * 5) * 100,
      }));
      const current = new Set(withGreeks.filter(() => r() < 0.2).map((x) => x.id));
      const opts = { spot, now: NOW, max, current };
      const got = chooseSubscriptions(withGreeks, opts);
      const want = byTheRule(withGreeks, opts);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ seed, got }).toEqual({ seed, got: want });
    }
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
  it('drops the pending quotes of contracts no longer subscribed (and their receive time)', () => {
    const b = new QuoteBuffer(2);
    b.put(q('A', 1));
    b.put(q('B', 4));
    b.delete(['A', 'Z']);
    expect(b.size).toBe(1);
    expect(b.oldestReceivedAt).toBe(4);
    b.put(q('C', 6)); // the freed place takes another contract
    expect(b.overflow).toBe(0);
    expect(b.drain().map((x) => x.sym)).toEqual(['B', 'C']);
  });
});

import { describe, expect, it } from 'vitest';
import {
  assembleLatest,
  contractsFragment,
  deltaDocument,
  decodeLayoutEntry,
  encodeLayoutEntry,
  latestChunks,
  latestDocument,
  mergeSorted,
  packTickers,
  tickerDelta,
  tickerSetHash,
  unpackTickers,
} from '../../src/wiring/chain-latest-doc.js';
import { geometryOf } from '../../src/chain-worker/geometry.js';
import { rangeHolds } from '../../src/wiring/chain-latest.js';
import { mulberry32 } from '../../src/provider/sim/prng.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('contractsFragment', () => {
  it.each([
    { name: 'none', in: [], out: '' },
    {
      name: 'one, bytes untouched',
      in: [{ ticker: 'O:SPXW1', bytes: b('{"a":1.50}') }],
      out: '"O:SPXW1":{"a":1.50}',
    },
    {
      name: 'two, in order',
      in: [
        { ticker: 'O:B', bytes: b('{"x" : 1}') },
        { ticker: 'O:A', bytes: b('{}') },
      ],
      out: '"O:B":{"x" : 1},"O:A":{}',
    },
  ])('$name', (c) => {
    expect(contractsFragment(c.in).toString()).toBe(c.out);
  });
});

describe('assembleLatest', () => {
  it.each([
    {
      name: 'no parts',
      parts: [],
      out: '{"version":0,"ts":100,"contracts":{},"symbols":{}}',
    },
    {
      name: 'parts sorted by symbol; an empty or missing fragment adds no comma',
      parts: [
        { underlying: 'SPX', summary: '{"s":1}', contracts: b('"O:S1":{"p":1},"O:S2":{"p":2}') },
        { underlying: 'NDX', summary: b('{"n":1}'), contracts: null },
        { underlying: 'RUT', summary: '{}', contracts: b('"O:R1":{}') },
        { underlying: 'AAA', summary: '{}', contracts: b('') },
      ],
      out:
        '{"version":0,"ts":100,"contracts":{"O:R1":{},"O:S1":{"p":1},"O:S2":{"p":2}},' +
        '"symbols":{"AAA":{},"NDX":{"n":1},"RUT":{},"SPX":{"s":1}}}',
    },
  ])('$name', (c) => {
    const out = assembleLatest({ version: 0, ts: 100, parts: c.parts }).toString();
    expect(out).toBe(c.out);
    expect(() => JSON.parse(out) as unknown).not.toThrow();
    // The pieces a writer streams: the same bytes, each fragment the stored buffer itself (not a copy).
    const chunks = latestChunks({ version: 0, ts: 100, parts: c.parts });
    expect(Buffer.concat(chunks).toString()).toBe(c.out);
    for (const p of c.parts) if (p.contracts && p.contracts.length > 0) expect(chunks).toContain(p.contracts);
  });
});

describe('latestDocument: the layout', () => {
  const parts = [
    { underlying: 'SPX', summary: '{"s":1}', contracts: b('"O:S1":{"p":1},"O:S2":{"p":2}') },
    { underlying: 'NDX', summary: b('{"n":"é"}'), contracts: null },
    { underlying: 'RUT', summary: '{}', contracts: b('"O:R1":{}') },
    { underlying: 'AAA', summary: '{"a":[1,2]}', contracts: b('') },
  ];
  it.each([
    { name: 'no parts', parts: [] },
    { name: 'one part', parts: parts.slice(0, 1) },
    { name: 'every kind of part (empty, missing, non-ASCII summary)', parts },
  ])('$name: each range of the document holds exactly that part', (c) => {
    const doc = latestDocument({ version: 7, ts: 100, parts: c.parts });
    const bytes = Buffer.concat(doc.chunks);
    expect(bytes.equals(assembleLatest({ version: 7, ts: 100, parts: c.parts }))).toBe(true);
    expect([...doc.ranges.keys()].sort()).toEqual(c.parts.map((p) => p.underlying).sort());
    for (const p of c.parts) {
      const r = doc.ranges.get(p.underlying)!;
      const [ss, sl] = r.summary;
      expect(bytes.subarray(ss, ss + sl).equals(b(p.summary.toString()))).toBe(true);
      const [cs, cl] = r.contracts;
      expect(bytes.subarray(cs, cs + cl).equals(p.contracts ?? b(''))).toBe(true);
    }
  });

  it.each([
    { v: 'abc:1:2:3:4', out: { token: 'abc', range: { summary: [1, 2], contracts: [3, 4] } } },
    { v: 'abc:1:2:3', out: null },
    { v: ':1:2:3:4', out: null },
    { v: 'abc:1:-2:3:4', out: null },
    { v: 'abc:1:2.5:3:4', out: null },
    { v: 'abc:x:2:3:4', out: null },
  ])('decodeLayoutEntry($v)', ({ v, out }) => {
    expect(decodeLayoutEntry(v)).toEqual(out);
    if (out) expect(encodeLayoutEntry(out.token, out.range as never)).toBe(v);
  });
});

describe('tickerDelta and tickerSetHash', () => {
  it.each([
    { prev: [], next: ['b', 'a'], entered: ['a', 'b'], exited: [] },
    { prev: ['a', 'b'], next: ['b', 'a'], entered: [], exited: [] },
    { prev: ['a', 'b', 'c'], next: ['d', 'b'], entered: ['d'], exited: ['a', 'c'] },
    { prev: ['a'], next: [], entered: [], exited: ['a'] },
    { prev: ['a', 'a', 'b'], next: ['b', 'c', 'c'], entered: ['c'], exited: ['a'] },
    { prev: ['c', 'a'], next: ['a', 'b', 'b'], entered: ['b'], exited: ['c'] },
    { prev: ['B', 'a'], next: ['Z', 'b'], entered: ['Z', 'b'], exited: ['B', 'a'] },
    { prev: [], next: [], entered: [], exited: [] },
  ])('$prev → $next', (c) => {
    expect(tickerDelta(c.prev, c.next)).toEqual({ entered: c.entered, exited: c.exited });
    const same = c.entered.length === 0 && c.exited.length === 0;
    expect(tickerSetHash(c.prev) === tickerSetHash(c.next)).toBe(same);
  });
});

describe('tickerDelta on random lists', () => {
  /** The delta as first written: two sets, filtered, sorted. */
  const bySets = (prev: readonly string[], next: readonly string[]) => {
    const a = new Set(prev);
    const b = new Set(next);
    return {
      entered: [...b].filter((t) => !a.has(t)).sort(),
      exited: [...a].filter((t) => !b.has(t)).sort(),
    };
  };
  /** A failing seed can be replayed. */
  const rng = mulberry32;

  it('equals the set difference for sorted and unsorted lists, with repeats, on 2,000 seeds', () => {
    const alphabet = ['O:SPXW260108C0685', 'O:SPX260116P0690', 'O:NDXP260108C2500', 'a', 'B', 'é'];
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed);
      const list = () =>
        Array.from({ length: Math.floor(r() * 40) }, () => {
          const base = alphabet[Math.floor(r() * alphabet.length)] as string;
          return `${base}${Math.floor(r() * 8)}`;
        });
      const prev = list();
      const next = r() < 0.3 ? [...prev, ...list()] : list();
      for (const [p, n] of [
        [[...prev].sort(), [...next].sort()],
        [prev, next],
        [[...prev].sort(), next],
      ] as const) {
        const got = tickerDelta(p, n);
        const want = bySets(p, n);
        if (JSON.stringify(got) !== JSON.stringify(want))
          expect({ seed, p, n, got }).toEqual({ seed, p, n, got: want });
      }
    }
  });
});

describe('tickerSetHash', () => {
  it('is SHA-1 of the sorted tickers, each followed by a newline, and the geometry carries it whole', () => {
    // sha1("O:SPX260107C06850000\nO:SPX260107P06850000\n"), computed outside the project
    const digest = 'ee880ea36fd65d169dcfd9702275f50533539e0f';
    expect(tickerSetHash(['O:SPX260107P06850000', 'O:SPX260107C06850000'])).toBe(digest);
    const g = geometryOf([
      { ticker: 'O:SPX260107P06850000', strike: 6850, expiration: '2026-01-07' },
      { ticker: 'O:SPX260107C06850000', strike: 6850, expiration: '2026-01-07' },
    ]);
    expect(g.sha1).toBe(digest);
    expect(g.hash).toBe(digest.slice(0, 16));
  });

  it('of no tickers is SHA-1 of nothing', () => {
    expect(tickerSetHash([])).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
  });
});

describe('packTickers', () => {
  it('round-trips a set (sorted), the empty set included', async () => {
    expect(await unpackTickers(await packTickers(['O:SPXW261202P05000000', 'O:SPX261202C05000000']))).toEqual(
      ['O:SPX261202C05000000', 'O:SPXW261202P05000000'],
    );
    expect(await unpackTickers(await packTickers([]))).toEqual([]);
  });

  it('packs a 10,000-ticker chain under 3 bytes a ticker (its JSON array takes ~26)', async () => {
    const tickers: string[] = [];
    for (const exp of ['261201', '261202', '261203', '261204', '261207'])
      for (let k = 0; k < 1000; k++)
        for (const cp of ['C', 'P'])
          tickers.push(`O:SPXW${exp}${cp}${String(2000 + 5 * k).padStart(5, '0')}000`);
    const json = Buffer.byteLength(JSON.stringify(tickers));
    const packed = await packTickers(tickers);
    expect(json / tickers.length).toBeGreaterThan(24);
    expect(packed.length / tickers.length).toBeLessThan(3);
    expect(await unpackTickers(packed)).toEqual([...tickers].sort());
  });
});

describe('rangeHolds', () => {
  it.each([
    { what: 'summary', bytes: '{"a":1}', length: 7, ok: true },
    { what: 'summary', bytes: '{"a":1}', length: 8, ok: false },
    { what: 'summary', bytes: '"a":{}', length: 6, ok: false },
    { what: 'summary', bytes: '', length: 0, ok: false },
    { what: 'contracts', bytes: '"O:X":{"p":1}', length: 13, ok: true },
    { what: 'contracts', bytes: '{"p":1}', length: 7, ok: false },
    { what: 'contracts', bytes: '"O:X":{"p":1', length: 12, ok: false },
  ] as const)('$what $bytes ($length): $ok', ({ what, bytes, length, ok }) => {
    expect(rangeHolds(what, Buffer.from(bytes), length)).toBe(ok);
  });
});

describe('mergeSorted', () => {
  it.each([
    { name: 'no lists', in: [], out: [] },
    { name: 'empty lists', in: [[], []], out: [] },
    { name: 'one list, copied', in: [['a', 'b']], out: ['a', 'b'] },
    {
      name: 'two, interleaved',
      in: [
        ['a', 'c', 'e'],
        ['b', 'd'],
      ],
      out: ['a', 'b', 'c', 'd', 'e'],
    },
    {
      name: 'code-unit order, not locale',
      in: [
        ['B', 'a'],
        ['Z', 'b'],
      ],
      out: ['B', 'Z', 'a', 'b'],
    },
    { name: 'repeats kept', in: [['a', 'b'], ['b', 'c'], ['b']], out: ['a', 'b', 'b', 'b', 'c'] },
    { name: 'an unsorted list: sorted whole', in: [['c', 'a'], ['b']], out: ['a', 'b', 'c'] },
  ])('$name', (c) => {
    expect(mergeSorted(c.in)).toEqual(c.out);
  });

  it('equals sort() of the concatenation on 500 random sets of sorted ticker lists', () => {
    const rnd = mulberry32(7);
    for (let seed = 0; seed < 500; seed++) {
      const lists = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
        Array.from({ length: Math.floor(rnd() * 40) }, () => `O:SPXW26${Math.floor(rnd() * 1e6)}`).sort(),
      );
      const copy = lists.map((l) => [...l]);
      expect(mergeSorted(lists)).toEqual(lists.flat().sort());
      expect(lists).toEqual(copy);
    }
  });
});

describe('deltaDocument: JSON.stringify({version, ts, entered, exited}) byte for byte', () => {
  const rnd = mulberry32(7);
  const many = Array.from({ length: 5_000 }, (_, i) => `O:SPXW26120${i % 10}C0${String(5000 + i)}000`);
  const cases: { name: string; version: number; ts: number; entered: string[]; exited: string[] }[] = [
    { name: 'both empty', version: 1, ts: 1764577498, entered: [], exited: [] },
    { name: 'one each', version: 2, ts: 1764577498, entered: ['O:SPX261218C05000000'], exited: ['O:SPX1'] },
    { name: 'thousands entered, none exited', version: 40, ts: 0, entered: many, exited: [] },
    {
      name: 'tickers JSON escapes or writes as UTF-8',
      version: 3,
      ts: 1764577498,
      entered: ['\ud800', 'a"b', 'back\\slash', 'tab\there', 'é', '€', '😀', '\u0001', ''],
      exited: ['plain', 'O:NDX261218P21000000'],
    },
    {
      name: 'random printable tickers',
      version: Number.MAX_SAFE_INTEGER,
      ts: 1764577498,
      entered: Array.from({ length: 300 }, () =>
        String.fromCharCode(
          ...Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => 32 + Math.floor(rnd() * 95)),
        ),
      ),
      exited: many.slice(0, 7),
    },
  ];
  it.each(cases)('$name', ({ version, ts, entered, exited }) => {
    const bytes = deltaDocument({ version, ts, entered, exited });
    expect(bytes.equals(Buffer.from(JSON.stringify({ version, ts, entered, exited })))).toBe(true);
    expect(JSON.parse(bytes.toString())).toEqual({ version, ts, entered, exited });
  });
});

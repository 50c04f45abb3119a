import { describe, expect, it } from 'vitest';
import { ChainCollector } from '../../src/provider/massive/chain-collector.js';
import type { LiftedResult } from '../../src/provider/massive/page-lift.js';
import type { ParsedContract } from '../../src/provider/massive/types.js';

function contract(ticker: string, expiration: string): ParsedContract {
  return {
    ticker,
    root: 'SPXW',
    expiration,
    type: 'C',
    strike: 6850,
    fields: {} as ParsedContract['fields'],
  };
}

function ok(
  ticker: string,
  expiration: string,
  extra: { spot?: number | null; ts?: number | null; underlying?: { ticker: string } } = {},
): LiftedResult {
  return {
    ok: true,
    contract: contract(ticker, expiration),
    spot: extra.spot ?? null,
    ts: extra.ts ?? null,
    underlying: extra.underlying as never,
  };
}

describe('ChainCollector: what the page streams add up to', () => {
  const cases: {
    name: string;
    spot: number | null;
    pages: LiftedResult[][];
    tickers: string[];
    skipped: number;
    reasons: Record<string, number>;
    spotAfter: number | null;
    newest: number | null;
    expirations: string[];
  }[] = [
    {
      name: 'no pages',
      spot: null,
      pages: [],
      tickers: [],
      skipped: 0,
      reasons: {},
      spotAfter: null,
      newest: null,
      expirations: [],
    },
    {
      name: 'the first of a ticker wins; repeats and bad results are counted by reason',
      spot: null,
      pages: [
        [ok('O:A', '2026-12-07', { spot: 6851.5, ts: 10 }), { ok: false, reason: 'bad_ticker' }],
        [ok('O:A', '2026-12-08', { spot: 1, ts: 99 }), ok('O:B', '2026-12-08', { ts: 30 })],
        [
          { ok: false, reason: 'bad_ticker' },
          { ok: false, reason: 'bad_strike' },
        ],
      ],
      tickers: ['O:A', 'O:B'],
      skipped: 4,
      reasons: { bad_ticker: 2, duplicate: 1, bad_strike: 1 },
      spotAfter: 6851.5,
      newest: 30,
      expirations: ['2026-12-07', '2026-12-08'],
    },
    {
      name: "discovery's spot is kept over the results'",
      spot: 6800,
      pages: [[ok('O:C', '2026-12-09', { spot: 6900, ts: null })]],
      tickers: ['O:C'],
      skipped: 0,
      reasons: {},
      spotAfter: 6800,
      newest: null,
      expirations: ['2026-12-09'],
    },
  ];
  it.each(cases)('$name', (c) => {
    const col = new ChainCollector(c.spot);
    for (const page of c.pages) col.add(page);
    expect([...col.byTicker.keys()]).toEqual(c.tickers);
    expect(col.byTicker.get('O:A')?.expiration).toBe(c.tickers.includes('O:A') ? '2026-12-07' : undefined);
    expect(col.skipped).toBe(c.skipped);
    expect(col.skippedReasons).toEqual(c.reasons);
    expect(col.spot).toBe(c.spotAfter);
    expect(col.newestVendorTs).toBe(c.newest);
    expect([...col.seenExpirations]).toEqual(c.expirations);
  });

  it('keeps the first underlying asset a result carries', () => {
    const col = new ChainCollector(null);
    col.add([ok('O:A', '2026-12-07'), ok('O:B', '2026-12-07', { underlying: { ticker: 'I:SPX' } })]);
    col.add([ok('O:C', '2026-12-07', { underlying: { ticker: 'I:NDX' } })]);
    expect(col.underlyingAsset).toEqual({ ticker: 'I:SPX' });
  });
});

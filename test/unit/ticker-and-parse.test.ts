import { describe, expect, it } from 'vitest';
import { formatOptionTicker, parseOptionTicker } from '../../src/provider/massive/ticker.js';
import { parseContract, spotFromResult } from '../../src/provider/massive/parse-contract.js';

describe('option tickers', () => {
  it.each([
    ['O:SPXW260107C06850000', { root: 'SPXW', expiration: '2026-01-07', type: 'C', strike: 6850 }],
    ['O:SPX260116P04500000', { root: 'SPX', expiration: '2026-01-16', type: 'P', strike: 4500 }],
    ['O:NDXP260116C25000000', { root: 'NDXP', expiration: '2026-01-16', type: 'C', strike: 25000 }],
    ['O:AAPL230616C00150000', { root: 'AAPL', expiration: '2023-06-16', type: 'C', strike: 150 }],
    ['O:SPXW260107C06852500', { root: 'SPXW', expiration: '2026-01-07', type: 'C', strike: 6852.5 }],
  ])('parses %s from the right', (ticker, parts) => {
    expect(parseOptionTicker(ticker)).toEqual(parts);
    expect(formatOptionTicker(parts as Parameters<typeof formatOptionTicker>[0])).toBe(ticker);
  });

  it.each([
    '',
    'SPXW260107C06850000',
    'O:SPXW260107X06850000',
    'O:SPXW261307C06850000',
    'O:SPXW260107C0685000',
    'O:SPXW260107C00000000',
  ])('rejects %j', (t) => expect(parseOptionTicker(t)).toBeNull());
});

describe('parseContract', () => {
  const good = {
    details: {
      ticker: 'O:SPXW260107C06850000',
      contract_type: 'call',
      strike_price: 6850,
      expiration_date: '2026-01-07',
    },
  };
  it.each([
    [null, 'not_object'],
    [[], 'not_object'],
    [{}, 'no_ticker'],
    [{ details: { ticker: 'garbage' } }, 'bad_ticker'],
    [{ details: { ...good.details, contract_type: 'straddle' } }, 'unknown_type'],
    [{ details: { ...good.details, contract_type: 'put' } }, 'bad_ticker'],
    [{ details: { ...good.details, strike_price: -5 } }, 'bad_strike'],
    [{ details: { ...good.details, strike_price: 6855 } }, 'bad_strike'],
    [{ details: { ...good.details, expiration_date: '2026-01-08' } }, 'bad_expiration'],
  ])('skips %j as %s', (raw, reason) => {
    expect(parseContract(raw)).toEqual({ ok: false, reason });
  });

  it('accepts a contract with everything else missing (greeks: {}, no iv, no quote)', () => {
    const res = parseContract({ ...good, greeks: {} });
    expect(res.ok && res.contract).toMatchObject({
      ticker: 'O:SPXW260107C06850000',
      root: 'SPXW',
      strike: 6850,
      type: 'C',
    });
  });

  it.each([
    [{ underlying_asset: { value: 6850.12, price: 1 } }, 6850.12],
    [{ underlying_asset: { price: 159.96 } }, 159.96],
    [{ underlying_asset: {} }, null],
    [{}, null],
    [{ underlying_asset: { value: Number.NaN } }, null],
  ])('spot of %j is %s', (raw, spot) => expect(spotFromResult(raw)).toBe(spot));
});

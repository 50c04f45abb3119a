/**
 * A substrate record for model tests: identity from the arguments (`type` as the ticker's letter; the
 * substrate spells it `call`/`put`), every value null unless given.
 */
import { optionType, type ContractSubstrate } from '../../src/normalizers/substrate.js';
import { formatOptionTicker } from '../../src/provider/massive/ticker.js';

export function substrate(
  root: string,
  expiration: string,
  type: 'C' | 'P',
  strike: number,
  values: Partial<ContractSubstrate>,
  ts: number,
): ContractSubstrate {
  return {
    id: formatOptionTicker({ root, expiration, type, strike }),
    underlying: 'SPX',
    root,
    expiration,
    strike,
    type: optionType(type),
    bid: null,
    ask: null,
    mid: null,
    last: null,
    delta: null,
    gamma: null,
    theta: null,
    vega: null,
    iv: null,
    oi: null,
    volume: null,
    ts,
    ...values,
  };
}

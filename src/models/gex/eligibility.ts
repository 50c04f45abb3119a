/** @module Which contracts enter the GEX aggregates and the gamma profile, and why the others are left out. */
import { yearsToSettlement } from '../../domain/market-time.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import { isFiniteNumber } from '../json-safe.js';
import type { GexExcluded, GexIncluded } from '../types.js';

/** +1 for calls (dealers long), −1 for puts (dealers short). */
export type DealerSign = 1 | -1;

/** A contract the aggregates use: it has gamma and open interest and has not expired. */
export interface AggregateContract {
  expiration: string;
  strike: number;
  sign: DealerSign;
  gamma: number;
  oi: number;
}

/** A contract the profile uses: it has implied volatility and open interest and has not expired. */
export interface ProfileContract {
  strike: number;
  sign: DealerSign;
  /** Years (of 365 days) from as-of to settlement, > 0. */
  t: number;
  iv: number;
  oi: number;
}

export interface GexEligibility {
  aggregate: AggregateContract[];
  profile: ProfileContract[];
  excluded: GexExcluded;
  included: GexIncluded;
}

const DATE_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** True when strike, type and expiration can be read (the normalizer guarantees it; stored JSON may not). */
export function hasReadableIdentity(c: ContractSubstrate): boolean {
  return (
    isFiniteNumber(c.strike) &&
    c.strike > 0 &&
    (c.type === 'call' || c.type === 'put') &&
    typeof c.expiration === 'string' &&
    DATE_RE.test(c.expiration) &&
    typeof c.root === 'string' &&
    c.root.length > 0
  );
}

/**
 * Years from `asOf` to each (root, expiration)'s settlement, computed once per pair.
 *
 * @example
 * const t = settlementClock(Date.parse('2026-01-07T15:00:00Z'));
 * t('SPXW', '2026-01-07'); // 6 hours to the 16:00 ET settlement: 6 / 8760 ≈ 0.000685
 */
export function settlementClock(asOf: number): (root: string, expiration: string) => number {
  const byRoot = new Map<string, Map<string, number>>();
  return (root, expiration) => {
    let byExpiration = byRoot.get(root);
    if (byExpiration === undefined) {
      byExpiration = new Map();
      byRoot.set(root, byExpiration);
    }
    let t = byExpiration.get(expiration);
    if (t === undefined) {
      t = Number.isFinite(asOf) ? yearsToSettlement(asOf, expiration, root) : Number.NaN;
      byExpiration.set(expiration, t);
    }
    return t;
  };
}

/**
 * Sorts an epoch's contracts into what the aggregates and the profile can use, counting the rest.
 *
 * Counting rule (each contract once per line that applies, top to bottom):
 * 1. unreadable identity → `invalid`, nothing else is looked at;
 * 2. settled at or before `asOf` → `expired`, nothing else is looked at;
 * 3. otherwise each missing input is counted on its own: no gamma → `no_gamma`, no OI → `no_oi`,
 *    no IV → `no_iv` (a contract lacking gamma and OI counts in both).
 * Missing means null or not finite; also a negative gamma or OI, and an IV that is not positive.
 * Zero gamma or zero OI is a value, not a gap: such a contract is included and adds 0.
 */
export function classifyForGex(contracts: readonly ContractSubstrate[], asOf: number): GexEligibility {
  const excluded: GexExcluded = { no_gamma: 0, no_oi: 0, no_iv: 0, expired: 0, invalid: 0 };
  const aggregate: AggregateContract[] = [];
  const profile: ProfileContract[] = [];
  const yearsTo = settlementClock(asOf);
  for (const c of contracts) {
    if (!hasReadableIdentity(c)) {
      excluded.invalid++;
      continue;
    }
    const t = yearsTo(c.root, c.expiration);
    if (!(t > 0)) {
      excluded.expired++;
      continue;
    }
    const hasGamma = isFiniteNumber(c.gamma) && c.gamma >= 0;
    const hasOi = isFiniteNumber(c.oi) && c.oi >= 0;
    const hasIv = isFiniteNumber(c.iv) && c.iv > 0;
    if (!hasGamma) excluded.no_gamma++;
    if (!hasOi) excluded.no_oi++;
    if (!hasIv) excluded.no_iv++;
    if (!hasOi) continue;
    const sign: DealerSign = c.type === 'call' ? 1 : -1;
    const oi = c.oi as number;
    if (hasGamma) {
      aggregate.push({ expiration: c.expiration, strike: c.strike, sign, gamma: c.gamma as number, oi });
    }
    if (hasIv) profile.push({ strike: c.strike, sign, t, iv: c.iv as number, oi });
  }
  return {
    aggregate,
    profile,
    excluded,
    included: { aggregates: aggregate.length, profile: profile.length },
  };
}

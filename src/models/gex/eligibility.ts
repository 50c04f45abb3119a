/** @module Which contracts enter the GEX aggregates and the gamma profile, and why the others are left out. */
import { yearsToSettlement } from '../../domain/market-time.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import {
  gammaCeiling,
  MAX_ABS_DELTA,
  MAX_IV,
  MAX_OPEN_INTEREST,
  MAX_VOLUME,
  MIN_IV,
} from '../../normalizers/bounds.js';
import { isFiniteNumber } from '../json-safe.js';
import {
  contractCharm,
  contractDelta,
  contractGex,
  contractVanna,
  vannaCharm,
  type DealerSign,
} from './exposures.js';
import type { GexExcluded } from '../types.js';

export type { DealerSign } from './exposures.js';

/**
 * A contract GEX can look at: readable, not expired, every value inside its physical bounds. Each
 * exposure is per contract of weight 1 (one contract of open interest or of volume), dealer-signed, in
 * the published units; null when an input it needs is missing (or when there is no spot).
 */
export interface GexContract {
  expiration: string;
  strike: number;
  sign: DealerSign;
  /** Years (of 365 days) from as-of to settlement, > 0. */
  t: number;
  /** In [{@link MIN_IV}, {@link MAX_IV}], else null (a smaller IV is a failed solve). */
  iv: number | null;
  oi: number | null;
  volume: number | null;
  /** `s·gamma·100·S²·0.01`: US dollars per 1 % move. */
  gex: number | null;
  /** `s·vanna·100·S·0.01`: US dollars of delta per vol point (needs IV). */
  vanna: number | null;
  /** `s·charm·100·S/365`: US dollars of delta per calendar day (needs IV). */
  charm: number | null;
  /** `s·Δ·100·S` from the vendor's delta: US dollars of delta. */
  delta: number | null;
}

export interface GexEligibility {
  contracts: GexContract[];
  excluded: GexExcluded;
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
 * Years from `asOf` to each (root, expiration)'s settlement, computed once per pair. A class, not a
 * closure per build: its method is one long-lived function, whose optimized code outlives the build (see
 * lib/shape-anchors.ts).
 *
 * @example
 * const clock = new SettlementClock(Date.parse('2026-01-07T15:00:00Z'));
 * clock.yearsTo('SPXW', '2026-01-07'); // 6 hours to the 16:00 ET settlement: 6 / 8760 ≈ 0.000685
 */
export class SettlementClock {
  private readonly byRoot = new Map<string, Map<string, number>>();
  constructor(private readonly asOf: number) {}

  yearsTo(root: string, expiration: string): number {
    let byExpiration = this.byRoot.get(root);
    if (byExpiration === undefined) {
      byExpiration = new Map();
      this.byRoot.set(root, byExpiration);
    }
    let t = byExpiration.get(expiration);
    if (t === undefined) {
      t = Number.isFinite(this.asOf) ? yearsToSettlement(this.asOf, expiration, root) : Number.NaN;
      byExpiration.set(expiration, t);
    }
    return t;
  }
}

type Exposures = Pick<GexContract, 'gex' | 'vanna' | 'charm' | 'delta'>;

/** Each present exposure is finite, and stays finite multiplied by `weight`. */
function allFinite(e: Exposures, weight: number): boolean {
  for (const v of [e.gex, e.vanna, e.charm, e.delta]) {
    if (v !== null && !(Number.isFinite(v) && Number.isFinite(v * weight))) return false;
  }
  return true;
}

/** A contract's exposures per unit of weight at `spot`. */
function unitExposures(
  sign: DealerSign,
  strike: number,
  t: number,
  gamma: number | null,
  iv: number | null,
  delta: number | null,
  spot: number,
): Exposures {
  const greeks = iv === null ? null : vannaCharm(spot, strike, t, iv);
  return {
    gex: gamma === null ? null : contractGex(sign, gamma, 1, spot),
    vanna: greeks === null ? null : contractVanna(sign, greeks.vanna, 1, spot),
    charm: greeks === null ? null : contractCharm(sign, greeks.charm, 1, spot),
    delta: delta === null ? null : contractDelta(sign, delta, 1, spot),
  };
}

/** A finite number ≥ 0, else null. */
function nonNegative(x: number | null | undefined): number | null {
  return isFiniteNumber(x) && x >= 0 ? x : null;
}

/**
 * True when a present value is outside its physical bound (bounds.ts): gamma over the ceiling for this
 * spot, IV and time; IV over {@link MAX_IV}; |delta| over 1; OI or volume over their caps.
 */
function outOfBounds(c: ContractSubstrate, t: number, spot: number): boolean {
  const iv = isFiniteNumber(c.iv) && c.iv > 0 ? c.iv : null;
  return (
    (iv !== null && iv > MAX_IV) ||
    (isFiniteNumber(c.gamma) && c.gamma > gammaCeiling(spot, iv, t)) ||
    (isFiniteNumber(c.delta) && Math.abs(c.delta) > MAX_ABS_DELTA) ||
    (isFiniteNumber(c.oi) && c.oi > MAX_OPEN_INTEREST) ||
    (isFiniteNumber(c.volume) && c.volume > MAX_VOLUME)
  );
}

/**
 * Sorts an epoch's contracts into those GEX can use, counting the rest.
 *
 * Counting rule (each contract once per line that applies, top to bottom):
 * 1. unreadable identity, or a value outside its physical bound (bounds.ts; the gamma ceiling uses
 *    `spot`, or the strike without one) → `invalid`, nothing else is looked at;
 * 2. settled at or before `asOf` → `expired`, nothing else is looked at;
 * 3. otherwise each missing input is counted on its own: no gamma → `no_gamma`, no OI → `no_oi`,
 *    no IV → `no_iv`, no delta → `no_delta` (a contract lacking gamma and OI counts in both).
 * Missing means null or not finite; also a negative gamma or OI, and an IV under {@link MIN_IV}.
 * Zero gamma or zero OI is a value, not a gap: such a contract is included and adds 0.
 */
export function classifyForGex(
  contracts: readonly ContractSubstrate[],
  asOf: number,
  spot: number | null,
): GexEligibility {
  const excluded: GexExcluded = { no_gamma: 0, no_oi: 0, no_iv: 0, no_delta: 0, expired: 0, invalid: 0 };
  const out: GexContract[] = [];
  const clock = new SettlementClock(asOf);
  for (const c of contracts) {
    if (!hasReadableIdentity(c)) {
      excluded.invalid++;
      continue;
    }
    const t = clock.yearsTo(c.root, c.expiration);
    if (!(t > 0)) {
      excluded.expired++;
      continue;
    }
    if (outOfBounds(c, t, spot ?? c.strike)) {
      excluded.invalid++;
      continue;
    }
    const gamma = nonNegative(c.gamma);
    const oi = nonNegative(c.oi);
    const volume = nonNegative(c.volume);
    const iv = isFiniteNumber(c.iv) && c.iv >= MIN_IV ? c.iv : null;
    const delta = isFiniteNumber(c.delta) ? c.delta : null;
    const sign: DealerSign = c.type === 'call' ? 1 : -1;
    let exposures: Exposures = { gex: null, vanna: null, charm: null, delta: null };
    if (spot !== null) {
      exposures = unitExposures(sign, c.strike, t, gamma, iv, delta, spot);
      // Bounded inputs keep every product finite; this guard makes sure no non-finite value (or one
      // that overflows once multiplied by its weight) can ever reach a sum.
      if (!allFinite(exposures, Math.max(oi ?? 0, volume ?? 0))) {
        excluded.invalid++;
        continue;
      }
    }
    if (gamma === null) excluded.no_gamma++;
    if (oi === null) excluded.no_oi++;
    if (iv === null) excluded.no_iv++;
    if (delta === null) excluded.no_delta++;
    out.push({ expiration: c.expiration, strike: c.strike, sign, t, iv, oi, volume, ...exposures });
  }
  return { contracts: out, excluded };
}

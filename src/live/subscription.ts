/**
 * @module Which contracts to quote on the stream, and how to move from one choice to the next with the
 * least unsubscribe/subscribe churn. Pure.
 *
 * **The rule.** Candidates are the active epoch's contracts that have not settled. Each gets the score
 * `gamma × OI / (1 + i)`, where `i` is the rank of its expiration (0 = nearest): its share of the dealer
 * gamma, weighted toward the nearest expirations. Contracts already subscribed get their score × 1.25
 * (hysteresis), so a small reshuffle does not swap them out. Highest score first; ties, and every contract
 * without gamma or OI (score 0), go by nearest expiration, then strike nearest spot, then ticker. The first
 * `max` are quoted.
 *
 * **When to choose again.** On every promotion, on every REST snapshot of the active epoch, and when spot has
 * moved more than `farMovePct` percent from the spot of the last choice.
 */
import { yearsToSettlement } from '../domain/market-time.js';

/** The fields of a substrate the choice reads. */
export interface SubscriptionCandidate {
  id: string;
  root: string;
  expiration: string;
  strike: number;
  gamma: number | null;
  oi: number | null;
}

/** Score multiplier of a contract that is already subscribed. */
export const INCUMBENT_BONUS = 1.25;

export interface ChooseOptions {
  spot: number;
  /** The clock (epoch ms): contracts settled at or before it are not quoted. */
  now: number;
  max: number;
  /** Currently subscribed ids (they get {@link INCUMBENT_BONUS}). */
  current?: ReadonlySet<string>;
}

/**
 * Chooses at most `max` contracts to quote, best first.
 *
 * @example
 * chooseSubscriptions(substrates, { spot: 6850, now: Date.now(), max: 500 }); // ['O:SPXW…', …]
 */
export function chooseSubscriptions(
  contracts: readonly SubscriptionCandidate[],
  opts: ChooseOptions,
): string[] {
  if (!(opts.max > 0)) return [];
  const expirations = [...new Set(contracts.map((c) => c.expiration))].sort();
  const rank = new Map(expirations.map((e, i) => [e, i]));
  const settled = new Map<string, boolean>();
  const scored: { id: string; score: number; exp: number; dist: number }[] = [];
  for (const c of contracts) {
    const sk = `${c.root}|${c.expiration}`;
    let gone = settled.get(sk);
    if (gone === undefined) {
      const t = yearsToSettlement(opts.now, c.expiration, c.root);
      gone = !(t > 0);
      settled.set(sk, gone);
    }
    if (gone) continue;
    const exp = rank.get(c.expiration) ?? 0;
    const g = c.gamma !== null && Number.isFinite(c.gamma) && c.gamma > 0 ? c.gamma : 0;
    const oi = c.oi !== null && Number.isFinite(c.oi) && c.oi > 0 ? c.oi : 0;
    let score = (g * oi) / (1 + exp);
    if (opts.current?.has(c.id)) score *= INCUMBENT_BONUS;
    scored.push({ id: c.id, score, exp, dist: Math.abs(c.strike - opts.spot) });
  }
  scored.sort(
    (a, b) =>
      b.score - a.score || a.exp - b.exp || a.dist - b.dist || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return scored.slice(0, opts.max).map((s) => s.id);
}

export interface SubscriptionDiff {
  subscribe: string[];
  unsubscribe: string[];
}

/** The least churn from `current` to `next`: only what leaves is unsubscribed, only what arrives subscribed. */
export function diffSubscriptions(current: Iterable<string>, next: Iterable<string>): SubscriptionDiff {
  const cur = new Set(current);
  const nxt = new Set(next);
  return {
    subscribe: [...nxt].filter((id) => !cur.has(id)).sort(),
    unsubscribe: [...cur].filter((id) => !nxt.has(id)).sort(),
  };
}

/** True when spot moved more than `pct` percent away from the spot of the last choice. */
export function spotMovedFar(chosenAt: number, spot: number, pct: number): boolean {
  if (!(chosenAt > 0) || !(spot > 0)) return false;
  return Math.abs(spot / chosenAt - 1) * 100 > pct;
}

/** Splits a symbol budget: the connection's contract limit shared evenly by the streamed symbols. */
export function perSymbolBudget(connectionLimit: number, symbols: number): number {
  return symbols > 0 ? Math.floor(connectionLimit / symbols) : 0;
}

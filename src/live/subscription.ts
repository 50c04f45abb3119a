/**
 * @module Which contracts to quote on the stream, and how to move from one choice to the next with the
 * least unsubscribe/subscribe churn. Pure.
 *
 * **The rule.** Candidates are the active epoch's contracts that have not settled. Each gets the score
 * `gamma × OI / (1 + i)`, where `i` is the rank of its expiration among the candidates' (0 = nearest): its
 * share of the dealer gamma, weighted toward the nearest expirations. Contracts already subscribed get their score × 1.25
 * (hysteresis), so a small reshuffle does not swap them out. Highest score first; ties, and every contract
 * without gamma or OI (score 0), go by nearest expiration, then strike nearest spot, then ticker. The first
 * `max` are quoted.
 *
 * **When to choose again.** On every promotion, on every REST snapshot of the active epoch, and when spot has
 * moved more than `farMovePct` percent from the spot of the last choice (then the live thread passes the
 * gammas at the live spot: LiveSymbol.choose).
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
 * When no contract has both gamma and OI (every score is 0: MarketSwarm's list, a chain without greeks),
 * the choice is {@link chooseNearest}'s, which never sorts the whole chain; the result is the same.
 *
 * @example
 * chooseSubscriptions(substrates, { spot: 6850, now: Date.now(), max: 500 }); // ['O:SPXW…', …]
 */
export function chooseSubscriptions(
  contracts: readonly SubscriptionCandidate[],
  opts: ChooseOptions,
): string[] {
  if (!(opts.max > 0)) return [];
  if (contracts.every((c) => positive(c.gamma) * positive(c.oi) === 0))
    return chooseNearest(contracts, idOfCandidate, opts);
  const settled = new Map<string, boolean>();
  const candidates = contracts.filter((c) => {
    const sk = `${c.root}|${c.expiration}`;
    let gone = settled.get(sk);
    if (gone === undefined) {
      gone = !(yearsToSettlement(opts.now, c.expiration, c.root) > 0);
      settled.set(sk, gone);
    }
    return !gone;
  });
  // i ranks the candidates' expirations: one whose every contract settled (today's after 16:00 New York,
  // until the next discovery leaves it out) is not the nearest.
  const expirations = [...new Set(candidates.map((c) => c.expiration))].sort();
  const rank = new Map(expirations.map((e, i) => [e, i]));
  const scored: Scored[] = [];
  for (const c of candidates) {
    const exp = rank.get(c.expiration) ?? 0;
    let score = (positive(c.gamma) * positive(c.oi)) / (1 + exp);
    if (opts.current?.has(c.id)) score *= INCUMBENT_BONUS;
    scored.push({ id: c.id, score, exp, dist: Math.abs(c.strike - opts.spot) });
  }
  return firstBySort(scored, opts.max);
}

interface Scored {
  id: string;
  score: number;
  exp: number;
  dist: number;
}

/** A gamma or OI as the score reads it: 0 unless a finite positive number. */
function positive(v: number | null): number {
  return v !== null && Number.isFinite(v) && v > 0 ? v : 0;
}

function idOfCandidate(c: SubscriptionCandidate): string {
  return c.id;
}

/** The rule's order, by one sort of everything: highest score, nearest expiration, nearest strike, ticker. */
function firstBySort(scored: Scored[], max: number): string[] {
  scored.sort(
    (a, b) =>
      b.score - a.score || a.exp - b.exp || a.dist - b.dist || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return scored.slice(0, max).map((s) => s.id);
}

/** The fields of a contract {@link chooseNearest} reads (its id comes from a function). */
export interface NearestCandidate {
  root: string;
  expiration: string;
  strike: number;
}

/**
 * {@link chooseSubscriptions}' choice when every score is 0 (no contract has gamma and OI): the first `max`
 * unsettled contracts by nearest expiration, then strike nearest spot, then id; the same ids in the same
 * order. It reads the contracts in place (no object per contract) and sorts only what it keeps: whole
 * expirations are kept or dropped by count, and within the one expiration cut by the budget the distance
 * threshold is found by a numeric sort of that expiration's distances.
 *
 * @example
 * chooseNearest(applied, (c) => c.ticker, { spot: 6850, now: Date.now(), max: 500 }); // ['O:SPXW…', …]
 */
export function chooseNearest<T extends NearestCandidate>(
  contracts: readonly T[],
  idOf: (c: T) => string,
  opts: Pick<ChooseOptions, 'spot' | 'now' | 'max'>,
): string[] {
  if (!(opts.max > 0)) return [];
  const n = contracts.length;
  // Each contract's expiration slot (order of first appearance; -1: settled) and distance to spot.
  const slotOf = new Int32Array(n);
  const dist = new Float64Array(n);
  const slots = new Map<string, number>();
  const expirations: string[] = [];
  const goneByRoot: Map<string, boolean>[] = [];
  let lastExp: string | null = null;
  let lastRoot: string | null = null;
  let lastSlot = -1;
  let lastGone = false;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const c = contracts[i] as T;
    if (c.expiration !== lastExp || c.root !== lastRoot) {
      let slot = slots.get(c.expiration);
      if (slot === undefined) {
        slot = expirations.length;
        slots.set(c.expiration, slot);
        expirations.push(c.expiration);
        goneByRoot.push(new Map());
      }
      const byRoot = goneByRoot[slot] as Map<string, boolean>;
      let gone = byRoot.get(c.root);
      if (gone === undefined) {
        gone = !(yearsToSettlement(opts.now, c.expiration, c.root) > 0);
        byRoot.set(c.root, gone);
      }
      lastExp = c.expiration;
      lastRoot = c.root;
      lastSlot = slot;
      lastGone = gone;
    }
    if (lastGone) {
      slotOf[i] = -1;
      continue;
    }
    slotOf[i] = lastSlot;
    const d = Math.abs(c.strike - opts.spot);
    dist[i] = d;
    if (!Number.isFinite(d)) finite = false;
  }
  // The rank of each slot: expirations ascending (as the rule's sorted list of distinct expirations).
  const order = expirations
    .map((_, s) => s)
    .sort((a, b) => cmp(expirations[a] as string, expirations[b] as string));
  const rankOf = new Int32Array(expirations.length);
  order.forEach((s, r) => (rankOf[s] = r));
  const rank = new Int32Array(n);
  const count = new Int32Array(expirations.length);
  let live = 0;
  for (let i = 0; i < n; i++) {
    const s = slotOf[i] as number;
    if (s < 0) {
      rank[i] = -1;
      continue;
    }
    const r = rankOf[s] as number;
    rank[i] = r;
    count[r] = (count[r] as number) + 1;
    live++;
  }
  if (!finite) {
    // A distance that is not a number orders as the sort's comparator says: leave it to the sort.
    const scored: Scored[] = [];
    for (let i = 0; i < n; i++)
      if ((rank[i] as number) >= 0)
        scored.push({
          id: idOf(contracts[i] as T),
          score: 0,
          exp: rank[i] as number,
          dist: dist[i] as number,
        });
    return firstBySort(scored, opts.max);
  }
  const k = Math.min(live, Math.trunc(opts.max));
  // Expirations ranked before `cut` are kept whole; `need` contracts of the expiration ranked `cut`.
  let cut = 0;
  let need = k;
  while (cut < count.length && need >= (count[cut] as number)) need -= count[cut++] as number;
  let threshold = Infinity;
  if (need > 0) {
    const ds = new Float64Array(count[cut] as number);
    let j = 0;
    for (let i = 0; i < n; i++) if (rank[i] === cut) ds[j++] = dist[i] as number;
    ds.sort();
    threshold = ds[need - 1] as number;
  }
  const kept: number[] = [];
  const ties: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rank[i] as number;
    if (r < 0 || r > cut) continue;
    if (r < cut) kept.push(i);
    else if (need > 0) {
      const d = dist[i] as number;
      if (d < threshold) kept.push(i);
      else if (d === threshold) ties.push(i);
    }
  }
  // Records sorted by module comparators, not closures made per call: a closure's optimized code does not
  // outlive the call, and comparators made per snapshot were compiled again every cycle (lib/shape-anchors.ts).
  const chosen = nearestOf(kept, rank, dist, contracts, idOf);
  if (ties.length > 0) {
    const tied = nearestOf(ties, rank, dist, contracts, idOf);
    tied.sort(byIdThenIndex);
    for (let t = 0; t < tied.length && chosen.length < k; t++) chosen.push(tied[t] as Nearest);
  }
  chosen.sort(byNearest);
  const out: string[] = [];
  for (const c of chosen) out.push(c.id);
  return out;
}

/** A contract {@link chooseNearest} keeps: its index, expiration rank, distance to spot and id. */
interface Nearest {
  i: number;
  rank: number;
  dist: number;
  id: string;
}

function nearestOf<T>(
  indices: readonly number[],
  rank: Int32Array,
  dist: Float64Array,
  contracts: readonly T[],
  idOf: (c: T) => string,
): Nearest[] {
  const out: Nearest[] = [];
  for (const i of indices)
    out.push({ i, rank: rank[i] as number, dist: dist[i] as number, id: idOf(contracts[i] as T) });
  return out;
}

function byIdThenIndex(a: Nearest, b: Nearest): number {
  return cmp(a.id, b.id) || a.i - b.i;
}

function byNearest(a: Nearest, b: Nearest): number {
  return a.rank - b.rank || a.dist - b.dist || cmp(a.id, b.id) || a.i - b.i;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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

/**
 * @module Filtering, sorting and paging a dataset's chain for the chain endpoint, cached so that serving a
 * 20,000-contract chain page by page costs one sort per (generation, query), not one per page.
 *
 * Orders are total: ties on the sort field are broken by ticker, and `desc` is the exact reverse of `asc`,
 * so offsets are stable across pages. `sort=expiration_date` is served lazily expiration by expiration:
 * the client's discovery requests (`expiration_date.gt=X&sort=expiration_date&limit=1`) build one or two
 * expirations, never the whole chain.
 */
import { parseOptionTicker } from '../massive/ticker.js';
import type { RawContract } from '../massive/types.js';
import type { MarketDataset } from './dataset.js';
import { filterKey, inRange, type ChainQuery, type SortField } from './query.js';

interface Entry {
  ticker: string;
  strike: number;
  type: 'call' | 'put' | undefined;
  expiration: string;
  raw: RawContract;
}

export interface Page {
  items: RawContract[];
  hasMore: boolean;
}

function entryOf(raw: RawContract, expiration: string): Entry {
  const d = raw.details;
  const ticker = typeof d?.ticker === 'string' ? d.ticker : '';
  let strike = typeof d?.strike_price === 'number' ? d.strike_price : NaN;
  const ct = d?.contract_type;
  let type: Entry['type'] = ct === 'call' || ct === 'put' ? ct : undefined;
  if (Number.isNaN(strike) || type === undefined) {
    const parts = parseOptionTicker(ticker);
    if (parts) {
      if (Number.isNaN(strike)) strike = parts.strike;
      type ??= parts.type === 'C' ? 'call' : 'put';
    }
  }
  return { ticker, strike, type, expiration, raw };
}

const byTicker = (a: Entry, b: Entry): number => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0);

function comparator(sort: SortField): (a: Entry, b: Entry) => number {
  if (sort === 'ticker') return byTicker;
  if (sort === 'strike_price') {
    const key = (e: Entry): number => (Number.isNaN(e.strike) ? Infinity : e.strike);
    return (a, b) => key(a) - key(b) || byTicker(a, b);
  }
  return (a, b) => (a.expiration < b.expiration ? -1 : a.expiration > b.expiration ? 1 : byTicker(a, b));
}

/** A bounded map that forgets its oldest insertion first. */
class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, value);
  }
  clear(): void {
    this.map.clear();
  }
}

export class ChainViews {
  private readonly chunks = new BoundedCache<Entry[]>(512);
  private readonly merged = new BoundedCache<Entry[]>(64);
  private readonly lookups = new WeakMap<RawContract[], Map<string, RawContract>>();

  constructor(private readonly dataset: MarketDataset) {}

  /** Drops every cached view (after the dataset was reconfigured). */
  clear(): void {
    this.chunks.clear();
    this.merged.clear();
  }

  /** One page of the query's result, from `offset`. */
  page(underlying: string, now: number, generation: string, q: ChainQuery, offset: number): Page {
    const exps = this.dataset.expirations(underlying, now).filter((e) => inRange(e, q.expiration));
    const desc = q.order === 'desc';
    const items: RawContract[] = [];
    if (q.sort === 'expiration_date') {
      let skip = offset;
      for (const exp of desc ? [...exps].reverse() : exps) {
        const chunk = this.chunk(underlying, now, generation, exp, q);
        if (items.length === q.limit) {
          if (chunk.length > 0) return { items, hasMore: true };
          continue;
        }
        if (skip >= chunk.length) {
          skip -= chunk.length;
          continue;
        }
        let i = skip;
        for (; i < chunk.length && items.length < q.limit; i++) {
          items.push((chunk[desc ? chunk.length - 1 - i : i] as Entry).raw);
        }
        skip = 0;
        if (i < chunk.length) return { items, hasMore: true };
      }
      return { items, hasMore: false };
    }
    const all = this.sortedAll(underlying, now, generation, exps, q);
    const end = Math.min(all.length, offset + q.limit);
    for (let i = offset; i < end; i++) items.push((all[desc ? all.length - 1 - i : i] as Entry).raw);
    return { items, hasMore: end < all.length };
  }

  /** A contract by exact ticker, or null. Unparseable tickers are searched in the whole chain. */
  find(underlying: string, now: number, ticker: string): RawContract | null {
    const exp = parseOptionTicker(ticker)?.expiration;
    const results = this.dataset.chain(underlying, now, exp)?.results;
    if (!results) return null;
    let index = this.lookups.get(results);
    if (!index) {
      index = new Map();
      for (const c of results) {
        const t = c.details?.ticker;
        if (typeof t === 'string' && !index.has(t)) index.set(t, c);
      }
      this.lookups.set(results, index);
    }
    return index.get(ticker) ?? null;
  }

  /** One expiration's contracts passing the strike and type filters, ascending by ticker. */
  private chunk(underlying: string, now: number, generation: string, exp: string, q: ChainQuery): Entry[] {
    const key = `${generation}|${underlying}|${exp}|${JSON.stringify([q.strike, q.contractType ?? null])}`;
    let chunk = this.chunks.get(key);
    if (!chunk) {
      const results = this.dataset.chain(underlying, now, exp)?.results ?? [];
      chunk = [];
      for (const raw of results) {
        const e = entryOf(raw, exp);
        if (!inRange(e.strike, q.strike)) continue;
        if (q.contractType !== undefined && e.type !== q.contractType) continue;
        chunk.push(e);
      }
      chunk.sort(byTicker);
      this.chunks.set(key, chunk);
    }
    return chunk;
  }

  private sortedAll(
    underlying: string,
    now: number,
    generation: string,
    exps: string[],
    q: ChainQuery,
  ): Entry[] {
    if (exps.length === 1 && q.sort === 'ticker')
      return this.chunk(underlying, now, generation, exps[0] as string, q);
    const key = `${generation}|${underlying}|${filterKey(q)}|${q.sort}`;
    let all = this.merged.get(key);
    if (!all) {
      all = exps.flatMap((e) => this.chunk(underlying, now, generation, e, q));
      all.sort(comparator(q.sort));
      this.merged.set(key, all);
    }
    return all;
  }
}

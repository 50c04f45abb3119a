/**
 * @module Query parameters of `GET /v3/snapshot/options/{underlying}`: parsed, validated (limit 1..250,
 * enums, numbers, dates) and put in a canonical form that cursors carry and caches key on.
 */

export type SortField = 'ticker' | 'expiration_date' | 'strike_price';
export type SortOrder = 'asc' | 'desc';
export type ContractTypeFilter = 'call' | 'put';

/** Exact value and range bounds of one filtered field. */
export interface RangeFilter<T> {
  eq?: T;
  gte?: T;
  gt?: T;
  lte?: T;
  lt?: T;
}

export interface ChainQuery {
  expiration: RangeFilter<string>;
  strike: RangeFilter<number>;
  contractType?: ContractTypeFilter;
  sort: SortField;
  order: SortOrder;
  limit: number;
}

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 250;
const SORTS: readonly SortField[] = ['ticker', 'expiration_date', 'strike_price'];
const ORDERS: readonly SortOrder[] = ['asc', 'desc'];
const RANGE_OPS = ['gte', 'gt', 'lte', 'lt'] as const;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export type ParseResult = { ok: true; query: ChainQuery } | { ok: false; error: string };

/** Parses the chain endpoint's query string. Unknown parameters are ignored, like the vendor does. */
export function parseChainQuery(params: URLSearchParams): ParseResult {
  const expiration: RangeFilter<string> = {};
  const strike: RangeFilter<number> = {};
  for (const op of ['eq', ...RANGE_OPS] as const) {
    const suffix = op === 'eq' ? '' : `.${op}`;
    const date = params.get(`expiration_date${suffix}`);
    if (date !== null) {
      if (!DATE_RE.test(date) || Number.isNaN(Date.parse(date))) {
        return { ok: false, error: `Invalid expiration_date${suffix}: '${date}' is not a YYYY-MM-DD date.` };
      }
      expiration[op] = date;
    }
    const raw = params.get(`strike_price${suffix}`);
    if (raw !== null) {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) {
        return { ok: false, error: `Invalid strike_price${suffix}: '${raw}' is not a number.` };
      }
      strike[op] = n;
    }
  }
  const type = params.get('contract_type');
  if (type !== null && type !== 'call' && type !== 'put') {
    return { ok: false, error: `Invalid contract_type: '${type}' (expected call or put).` };
  }
  const sort = params.get('sort') ?? 'ticker';
  if (!SORTS.includes(sort as SortField)) {
    return { ok: false, error: `Invalid sort: '${sort}' (expected one of ${SORTS.join(', ')}).` };
  }
  const order = params.get('order') ?? 'asc';
  if (!ORDERS.includes(order as SortOrder)) {
    return { ok: false, error: `Invalid order: '${order}' (expected asc or desc).` };
  }
  const rawLimit = params.get('limit');
  const limit = rawLimit === null ? DEFAULT_LIMIT : /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    return { ok: false, error: `Invalid limit: '${rawLimit}' (must be an integer from 1 to ${MAX_LIMIT}).` };
  }
  const query: ChainQuery = { expiration, strike, sort: sort as SortField, order: order as SortOrder, limit };
  if (type !== null) query.contractType = type;
  return { ok: true, query };
}

/** A stable string for a query's filters (sort, order and limit excluded): the cache key of a filtered set. */
export function filterKey(q: ChainQuery): string {
  return JSON.stringify([q.expiration, q.strike, q.contractType ?? null]);
}

/** True when `value` satisfies every bound of `f`. */
export function inRange<T extends string | number>(value: T, f: RangeFilter<T>): boolean {
  if (f.eq !== undefined && value !== f.eq) return false;
  if (f.gte !== undefined && !(value >= f.gte)) return false;
  if (f.gt !== undefined && !(value > f.gt)) return false;
  if (f.lte !== undefined && !(value <= f.lte)) return false;
  if (f.lt !== undefined && !(value < f.lt)) return false;
  return true;
}

/**
 * @module The few substrate fields MarketSwarm's outputs read, as typed columns: the model thread, which
 * parses an epoch's substrates anyway, writes them in one pass (~1 ms for 10,000 contracts) and hands them
 * back with our models, so the compat thread does not parse the same multi-MB JSON a second time (its
 * `JSON.parse` and the garbage of 10,000 full substrates were ~40 % of its build, measured). Pure.
 *
 * A null number is NaN in its column and null again in {@link substratesOfColumns}; JSON has no NaN or
 * infinity, so the round trip is exact. The mid is {@link contractMid}'s (the only price the outputs read).
 */
import type { ContractSubstrate } from '../normalizers/substrate.js';
import { contractMid } from './heatmap/mid.js';

export interface SubstrateColumns {
  /** Distinct expirations (YYYY-MM-DD) and roots, each contract's by index. */
  expirations: string[];
  roots: string[];
  expiration: Uint16Array;
  root: Uint16Array;
  /** 1 for a call. */
  call: Uint8Array;
  strike: Float64Array;
  /** {@link contractMid}, NaN for none. */
  mid: Float64Array;
  iv: Float64Array;
  gamma: Float64Array;
  oi: Float64Array;
}

/** What {@link substratesOfColumns} gives back: the fields the MarketSwarm builds read. */
export type ColumnSubstrate = Pick<
  ContractSubstrate,
  'expiration' | 'root' | 'type' | 'strike' | 'mid' | 'bid' | 'ask' | 'iv' | 'gamma' | 'oi'
>;

function index(table: Map<string, number>, list: string[], s: string): number {
  let i = table.get(s);
  if (i === undefined) {
    i = list.length;
    list.push(s);
    table.set(s, i);
  }
  return i;
}

const num = (x: number | null): number => (x === null ? NaN : x);
const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

/** The columns of `contracts`, in their order. */
export function substrateColumns(contracts: readonly ColumnSubstrate[]): SubstrateColumns {
  const n = contracts.length;
  const expirations: string[] = [];
  const roots: string[] = [];
  const expIndex = new Map<string, number>();
  const rootIndex = new Map<string, number>();
  const cols: SubstrateColumns = {
    expirations,
    roots,
    expiration: new Uint16Array(n),
    root: new Uint16Array(n),
    call: new Uint8Array(n),
    strike: new Float64Array(n),
    mid: new Float64Array(n),
    iv: new Float64Array(n),
    gamma: new Float64Array(n),
    oi: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const c = contracts[i] as ColumnSubstrate;
    cols.expiration[i] = index(expIndex, expirations, c.expiration);
    cols.root[i] = index(rootIndex, roots, c.root);
    cols.call[i] = c.type === 'call' || (c.type as string) === 'C' ? 1 : 0;
    cols.strike[i] = c.strike;
    cols.mid[i] = num(contractMid(c));
    cols.iv[i] = num(c.iv);
    cols.gamma[i] = num(c.gamma);
    cols.oi[i] = num(c.oi);
  }
  return cols;
}

/** The contracts back as the fields the MarketSwarm builds read (bid and ask null: the mid is final). */
export function substratesOfColumns(cols: SubstrateColumns): ColumnSubstrate[] {
  const n = cols.strike.length;
  const out = new Array<ColumnSubstrate>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      expiration: cols.expirations[cols.expiration[i] as number] as string,
      root: cols.roots[cols.root[i] as number] as string,
      type: cols.call[i] === 1 ? 'call' : 'put',
      strike: cols.strike[i] as number,
      mid: orNull(cols.mid[i] as number),
      bid: null,
      ask: null,
      iv: orNull(cols.iv[i] as number),
      gamma: orNull(cols.gamma[i] as number),
      oi: orNull(cols.oi[i] as number),
    };
  }
  return out;
}

/** The columns' buffers (each its own ArrayBuffer): what a thread transfers. */
export function columnBuffers(cols: SubstrateColumns): ArrayBuffer[] {
  return [cols.expiration, cols.root, cols.call, cols.strike, cols.mid, cols.iv, cols.gamma, cols.oi].map(
    (a) => a.buffer as ArrayBuffer,
  );
}

/** @module Counters of what the local API served, for tests and the benchmark (`GET /__admin/stats`). */

export type Endpoint = 'chain' | 'contract' | 'indices' | 'unknown';

export interface LocalApiStats {
  /** ISO instant of the last reset (or start). */
  since: string;
  /** API requests (admin excluded). */
  requests: number;
  adminRequests: number;
  /** Chain pages answered 200 with a complete, valid body. */
  pagesServed: number;
  /** Contracts in those pages. */
  contractsServed: number;
  /** Body bytes written for API requests (truncated bodies count what was written). */
  bytesSent: number;
  /** Cursors whose generation no longer matched the dataset (it was reconfigured mid-walk). */
  staleCursors: number;
  /** API responses by HTTP status; `timeout` for requests never answered. */
  byStatus: Record<string, number>;
  byEndpoint: Record<Endpoint, number>;
  /** Injected faults by kind: 429, 500, 503, 401, timeout, malformed, truncated, down, unauthorized, loop. */
  faults: Record<string, number>;
}

/** A fresh, zeroed stats record. */
export function emptyStats(): LocalApiStats {
  return {
    since: new Date().toISOString(),
    requests: 0,
    adminRequests: 0,
    pagesServed: 0,
    contractsServed: 0,
    bytesSent: 0,
    staleCursors: 0,
    byStatus: {},
    byEndpoint: { chain: 0, contract: 0, indices: 0, unknown: 0 },
    faults: {},
  };
}

/** Adds one to a counter of a record. */
export function bump(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

/** A deep copy safe to hand out. */
export function copyStats(s: LocalApiStats): LocalApiStats {
  return { ...s, byStatus: { ...s.byStatus }, byEndpoint: { ...s.byEndpoint }, faults: { ...s.faults } };
}

/**
 * @module Remembers each symbol's nearest expirations between cycles, so discovery costs pages only when
 * the answer can have changed: at the New York date change, when the nearest one settles, or after a TTL.
 */
import { nyDate, settlementInstant } from '../../domain/market-time.js';

interface Entry {
  day: string;
  at: number;
  n: number;
  expirations: string[];
}

export class ExpirationCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: number) {}

  get(symbol: string, n: number, now: number): string[] | undefined {
    const e = this.entries.get(symbol);
    if (!e || e.n !== n || e.day !== nyDate(now) || now - e.at > this.ttlMs) return undefined;
    const first = e.expirations[0];
    // PM is the later settlement of a date: an expiration is listed until its last root settles.
    if (first !== undefined && now >= settlementInstant(first, 'PM')) return undefined;
    return e.expirations;
  }

  set(symbol: string, n: number, now: number, expirations: string[]): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(symbol, { day: nyDate(now), at: now, n, expirations });
  }

  invalidate(symbol: string): void {
    this.entries.delete(symbol);
  }
}

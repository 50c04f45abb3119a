/**
 * @module The coalescing buffer between the stream and the model builds: the latest quote per contract
 * since the last drain. A firehose costs memory for at most one entry per subscribed contract (capped at
 * `maxContracts`); a quote for a contract beyond the cap is dropped and counted.
 */

export interface LiveQuote {
  sym: string;
  bid: number;
  ask: number;
  /** Vendor timestamp, Unix ms. */
  t: number;
  q: number;
  /** When it was received, epoch ms (for tick-to-model latency). */
  receivedAt: number;
}

export class QuoteBuffer {
  private pending = new Map<string, LiveQuote>();
  /** Quotes that replaced an undrained one (coalesced away). */
  coalesced = 0;
  /** Quotes dropped because the buffer held `maxContracts` other contracts. */
  overflow = 0;
  /** Receive time of the oldest quote not yet drained (for latency). */
  private oldest = Number.POSITIVE_INFINITY;

  constructor(private readonly maxContracts: number) {}

  /** Keeps the quote if it is the contract's latest. */
  put(q: LiveQuote): void {
    const prev = this.pending.get(q.sym);
    if (prev) {
      this.coalesced++;
      if (q.t < prev.t) return;
    } else if (this.pending.size >= this.maxContracts) {
      this.overflow++;
      return;
    }
    this.pending.set(q.sym, q);
    if (q.receivedAt < this.oldest) this.oldest = q.receivedAt;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Receive time of the oldest undrained quote, or null when empty. */
  get oldestReceivedAt(): number | null {
    return this.pending.size > 0 ? this.oldest : null;
  }

  /** Takes every pending quote and empties the buffer. */
  drain(): LiveQuote[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    this.oldest = Number.POSITIVE_INFINITY;
    return out;
  }

  /** Drops the pending quotes of these contracts (no longer subscribed: their quotes must not be applied). */
  delete(syms: Iterable<string>): void {
    let removed = false;
    for (const s of syms) removed = this.pending.delete(s) || removed;
    if (!removed) return;
    this.oldest = Number.POSITIVE_INFINITY;
    for (const q of this.pending.values()) if (q.receivedAt < this.oldest) this.oldest = q.receivedAt;
  }

  /** Drops everything (a REST snapshot replaced the live state). */
  clear(): void {
    this.pending.clear();
    this.oldest = Number.POSITIVE_INFINITY;
  }
}

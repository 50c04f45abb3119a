/**
 * @module Per-contract sequence numbers: the feed's `q` only increases per ticker (not contiguously), so a
 * message whose `q` is at or below the last one seen is a duplicate or arrived out of order. Both are
 * dropped and counted. The numbering holds within one connection: the live chain resets its trackers when
 * a new session goes live (LiveChain.newSession).
 */

export type SequenceVerdict = 'accept' | 'duplicate' | 'out_of_order';

export class SequenceTracker {
  private readonly last = new Map<string, number>();
  duplicates = 0;
  outOfOrder = 0;
  accepted = 0;

  /** Judges one message; accepted messages move the contract's high-water mark. */
  check(sym: string, q: number): SequenceVerdict {
    const prev = this.last.get(sym);
    if (prev !== undefined) {
      if (q === prev) {
        this.duplicates++;
        return 'duplicate';
      }
      if (q < prev) {
        this.outOfOrder++;
        return 'out_of_order';
      }
    }
    this.last.set(sym, q);
    this.accepted++;
    return 'accept';
  }

  /** Forgets contracts no longer subscribed (a later subscription starts afresh). */
  forget(syms: Iterable<string>): void {
    for (const s of syms) this.last.delete(s);
  }

  /** Forgets everything (a new connection: the server may restart its numbering). */
  reset(): void {
    this.last.clear();
  }

  get tracked(): number {
    return this.last.size;
  }
}

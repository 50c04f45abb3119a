/**
 * @module The substrates a cycle just wrote, handed to the model builder of the same process: the builder
 * then skips reading them back from Redis (the contract index GET and an MGET of every substrate key).
 *
 * Each offer is one epoch's substrates as the JSON array the model thread parses (see `joinJsonArray`),
 * tagged with the `last_refresh_ts` the cycle wrote into the epoch meta. The builder takes it only for the
 * same epoch and refresh time it is about to build; anything else (no offer, an older refresh, another
 * process's write, a separate `chain-worker build`) reads Redis as before. At most one offer per symbol
 * is kept (a newer epoch of the symbol replaces it), and a take removes it.
 */
interface Offer {
  symbol: string;
  refreshTs: string;
  bytes: Uint8Array;
}

export class SubstrateHandoff {
  private readonly byEpoch = new Map<string, Offer>();

  /**
   * Offers epoch `epochId`'s substrates (symbol `{U}`) as written at `refreshTs` (the meta's value as Redis
   * returns it); replaces any offer of the symbol.
   */
  offer(symbol: string, epochId: string, refreshTs: string, bytes: Uint8Array): void {
    for (const [id, o] of this.byEpoch) if (o.symbol === symbol) this.byEpoch.delete(id);
    this.byEpoch.set(epochId, { symbol, refreshTs, bytes });
  }

  /** The offer for this epoch at this refresh time, removed; null when there is none (or an older one). */
  take(epochId: string, refreshTs: string): Uint8Array | null {
    const offer = this.byEpoch.get(epochId);
    if (offer === undefined || offer.refreshTs !== refreshTs) return null;
    this.byEpoch.delete(epochId);
    return offer.bytes;
  }

  /** Forgets an epoch's offer (the builder will not build it: superseded, or built elsewhere). */
  drop(epochId: string): void {
    this.byEpoch.delete(epochId);
  }

  /** Epochs with an offer (tests). */
  get size(): number {
    return this.byEpoch.size;
  }
}

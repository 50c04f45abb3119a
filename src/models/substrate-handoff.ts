/**
 * @module The substrates a cycle just wrote, handed to the model builder of the same process: the builder
 * then skips reading them back from Redis (the contract index GET and an MGET of every substrate key).
 *
 * Each offer is one epoch's substrates as the JSON array the model thread parses (see `joinJsonArray`),
 * tagged with the `last_refresh_ts` the cycle wrote into the epoch meta. The builder takes it only for the
 * same epoch and refresh time it is about to build; anything else (no offer, an older refresh, another
 * process's write, a separate `chain-worker build`) reads Redis as before. At most one offer per symbol
 * is kept (a newer epoch of the symbol replaces it), and a take removes it.
 *
 * It also orders the announcements: the cycle starts the build as soon as its epoch is committed (flagged
 * dirty), before its own publish phase, so the model maths overlap the publish; the builder then waits for
 * {@link SubstrateHandoff.announced} before it writes the models, so `massive:chain:snapshot` and the
 * cycle observers still hear of an epoch before its models do.
 */

/** The longest a build waits for its cycle's announcement (a cycle that never released: a bug, not a wait). */
export const ANNOUNCE_WAIT_MS = 10_000;
interface Offer {
  symbol: string;
  refreshTs: string;
  bytes: Uint8Array;
}

export class SubstrateHandoff {
  private readonly byEpoch = new Map<string, Offer>();
  private readonly gates = new Map<string, { done: Promise<void>; open: () => void }>();

  /** The cycle is about to announce `epochId`: its models wait ({@link announced}) until {@link release}. */
  hold(epochId: string): void {
    if (this.gates.has(epochId)) return;
    let open = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gates.set(epochId, { done, open });
  }

  /** The cycle announced `epochId` (or gave up): its models may be written. Idempotent. */
  release(epochId: string): void {
    const gate = this.gates.get(epochId);
    this.gates.delete(epochId);
    gate?.open();
  }

  /** Resolves when the cycle holding `epochId` has announced it (at once when none holds it). */
  async announced(epochId: string, maxMs = ANNOUNCE_WAIT_MS): Promise<void> {
    const gate = this.gates.get(epochId);
    if (gate === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      gate.done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, maxMs);
      }),
    ]);
    clearTimeout(timer);
  }

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

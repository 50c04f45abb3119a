/**
 * @module Model builds started early: when a cycle of this process offers its substrates with the epoch
 * meta it is about to write (substrate-handoff.ts), the builder starts the model maths at once, beside the
 * cycle's bulk writes, instead of after the epoch is committed. The result waits here, one per symbol (a
 * newer offer of the symbol replaces it), until the epoch's build takes it. The build uses it only for the
 * same epoch, the same refresh time and the same meta as Redis then holds ({@link EarlyBuilds.take} and
 * {@link metaFingerprint}); otherwise it builds as before. Nothing is published from an early build that
 * no committed epoch asks for. Knows nothing of Redis or threads: the builder gives it the build to run.
 */

/** The meta fields a build reads (see `ModelBuilder.requestFor`), in a fixed order: equal ⇒ the same inputs. */
const BUILD_META_FIELDS = [
  'symbol',
  'last_refresh_ts',
  'as_of',
  'spot',
  'status',
  'partial',
  'missing_expirations',
  'provider',
] as const;

/** The fields of an epoch meta that decide a build's inputs, as one string. */
export function metaFingerprint(meta: Record<string, string>): string {
  return JSON.stringify(BUILD_META_FIELDS.map((f) => meta[f] ?? null));
}

/** One early build: what it was built from, and its result (null if it failed). */
export interface EarlyBuild<R> {
  epochId: string;
  refreshTs: string;
  /** {@link metaFingerprint} of the meta it was built from. */
  fingerprint: string;
  /** When it started (the models' `ts`). */
  ts: number;
  result: Promise<R | null>;
}

export class EarlyBuilds<R> {
  private readonly bySymbol = new Map<string, EarlyBuild<R>>();

  /** Starts `run` for the symbol's epoch; replaces (and forgets) the symbol's earlier one. */
  start(
    symbol: string,
    at: { epochId: string; refreshTs: string; meta: Record<string, string>; ts: number },
    run: () => Promise<R>,
  ): void {
    const result = run().catch(() => null);
    this.bySymbol.set(symbol, {
      epochId: at.epochId,
      refreshTs: at.refreshTs,
      fingerprint: metaFingerprint(at.meta),
      ts: at.ts,
      result,
    });
  }

  /**
   * The symbol's early build of this epoch at this refresh time, removed; null when there is none (or one of
   * another epoch or refresh time, which is left for its own build).
   */
  take(symbol: string, epochId: string, refreshTs: string): EarlyBuild<R> | null {
    const e = this.bySymbol.get(symbol);
    if (e === undefined || e.epochId !== epochId || e.refreshTs !== refreshTs) return null;
    this.bySymbol.delete(symbol);
    return e;
  }

  /** Forgets the early build of an epoch that will not be built here. */
  drop(epochId: string): void {
    for (const [symbol, e] of this.bySymbol) if (e.epochId === epochId) this.bySymbol.delete(symbol);
  }

  /** Forgets every early build (stop: their results are not awaited). */
  clear(): void {
    this.bySymbol.clear();
  }

  /** Early builds waiting to be taken (tests). */
  get size(): number {
    return this.bySymbol.size;
  }
}

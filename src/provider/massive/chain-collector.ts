/**
 * @module What a snapshot's page streams add up to: the contracts by ticker (the first of a ticker wins),
 * the skipped ones by reason, the spot and underlying asset of the first result that carries them, the
 * newest vendor timestamp, and the expirations seen. A class whose `add` is called for each page: its
 * method is one function for every snapshot, so its optimized code survives from one cycle to the next
 * (a closure made per snapshot was compiled again every cycle: lib/shape-anchors.ts).
 */
import type { LiftedResult } from './page-lift.js';
import type { ChainSnapshot, ParsedContract } from './types.js';

export class ChainCollector {
  readonly byTicker = new Map<string, ParsedContract>();
  readonly seenExpirations = new Set<string>();
  readonly skippedReasons: Record<string, number> = {};
  skipped = 0;
  underlyingAsset: ChainSnapshot['underlyingAsset'] = null;
  newestVendorTs: number | null = null;

  /** `spot`: the spot known before the pages (discovery's), kept when set. */
  constructor(public spot: number | null) {}

  /** One page's lifted results. */
  add(results: readonly LiftedResult[]): void {
    for (const parsed of results) {
      if (!parsed.ok) {
        this.skip(parsed.reason);
        continue;
      }
      const c = parsed.contract;
      if (this.byTicker.has(c.ticker)) {
        this.skip('duplicate');
        continue;
      }
      if (this.spot === null) this.spot = parsed.spot;
      if (this.underlyingAsset === null && parsed.underlying) this.underlyingAsset = parsed.underlying;
      if (parsed.ts !== null && (this.newestVendorTs === null || parsed.ts > this.newestVendorTs))
        this.newestVendorTs = parsed.ts;
      this.seenExpirations.add(c.expiration);
      this.byTicker.set(c.ticker, c);
    }
  }

  private skip(reason: string): void {
    this.skipped++;
    this.skippedReasons[reason] = (this.skippedReasons[reason] ?? 0) + 1;
  }
}

/**
 * @module The Massive option-chain client: discovers the N nearest expirations in N one-contract pages,
 * then walks one paginated stream per expiration, concurrently under a cap, into a {@link ChainSnapshot}.
 */
import { nyDate } from '../../domain/market-time.js';
import { mapSettledLimit } from '../../lib/async.js';
import type { Logger } from '../../lib/logger.js';
import { underlyingOf } from '../../redis/keys.js';
import { FetchFailedError, MassiveAuthError } from './errors.js';
import { ExpirationCache } from './expiration-cache.js';
import type { MassiveHttp, RequestStats } from './http.js';
import { parseContract, spotFromResult } from './parse-contract.js';
import { splitResults } from './split-results.js';
import type { ChainPage, ChainSnapshot, ParsedContract } from './types.js';

export const PAGE_LIMIT = 250;

export interface ChainClientOptions {
  http: MassiveHttp;
  /** The as-of clock: wall time live, `recorded_at` in replay. */
  clock: () => number;
  numExpirations: number;
  concurrency: number;
  fetchDeadlineMs: number;
  maxPagesPerStream: number;
  expirationCacheSec: number;
  strikeWindowPct: number;
  logger: Logger;
}

export interface FetchOptions {
  /** Fetch fewer expirations than configured (the burst cap). */
  maxExpirations?: number;
  /** Aborts the fetch (shutdown). */
  signal?: AbortSignal;
  /**
   * Keep each parsed vendor object on the contract (default true). The worker passes false: it needs
   * only the lifted fields and the raw bytes, and dropping the objects page by page cuts peak memory.
   */
  keepRaw?: boolean;
}

interface StreamResult {
  pages: number;
  partialReason?: string;
}

interface IndicesResponse {
  results?: { ticker?: string; value?: number; error?: string }[];
}

export class MassiveChainClient {
  private readonly expirations: ExpirationCache;
  private readonly lastSpot = new Map<string, number>();

  constructor(private readonly opts: ChainClientOptions) {
    this.expirations = new ExpirationCache(opts.expirationCacheSec * 1000);
  }

  /** Fetches one full snapshot of `symbol` (e.g. `I:SPX`). Throws on auth failure or when nothing could be fetched. */
  async fetchSnapshot(symbol: string, options: FetchOptions = {}): Promise<ChainSnapshot> {
    const started = performance.now();
    const asOf = this.opts.clock();
    const deadline = AbortSignal.timeout(this.opts.fetchDeadlineMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const n = Math.min(this.opts.numExpirations, options.maxExpirations ?? Infinity);
    const stats: RequestStats = { pages: 0, retries: 0 };

    const discoveryStart = performance.now();
    let expirations = this.expirations.get(symbol, this.opts.numExpirations, asOf);
    const cached = expirations !== undefined;
    let spot: number | null = null;
    if (!expirations) {
      const found = await this.discoverExpirations(
        symbol,
        nyDate(asOf),
        this.opts.numExpirations,
        signal,
        stats,
      );
      expirations = found.expirations;
      spot = found.spot;
      // An empty answer (off-hours, holiday) is not remembered: the next cycle asks again.
      if (expirations.length > 0) this.expirations.set(symbol, this.opts.numExpirations, asOf, expirations);
    }
    expirations = expirations.slice(0, n);
    const discovery = { pages: stats.pages, ms: performance.now() - discoveryStart, cached };

    const byTicker = new Map<string, ParsedContract>();
    const skippedReasons: Record<string, number> = {};
    let skipped = 0;
    let underlyingAsset: ChainSnapshot['underlyingAsset'] = null;
    let newestVendorTs: number | null = null;
    const keepRaw = options.keepRaw !== false;
    const windowSpot = spot ?? this.lastSpot.get(symbol) ?? null;
    const streamAbort = new AbortController();
    const streamSignal = AbortSignal.any([signal, streamAbort.signal]);

    const results = await mapSettledLimit(expirations, this.opts.concurrency, async (expiration) => {
      try {
        return await this.walkExpiration(
          symbol,
          expiration,
          windowSpot,
          streamSignal,
          stats,
          (page, bytes) => {
            const results = page.results ?? [];
            const slices = results.length > 0 ? splitResults(bytes) : null;
            const exact = slices !== null && slices.length === results.length;
            for (let i = 0; i < results.length; i++) {
              const parsed = parseContract(results[i]);
              if (!parsed.ok) {
                skipped++;
                skippedReasons[parsed.reason] = (skippedReasons[parsed.reason] ?? 0) + 1;
                continue;
              }
              if (byTicker.has(parsed.contract.ticker)) {
                skipped++;
                skippedReasons.duplicate = (skippedReasons.duplicate ?? 0) + 1;
                continue;
              }
              const c = parsed.contract;
              if (spot === null) spot = spotFromResult(c.raw);
              if (underlyingAsset === null && c.raw?.underlying_asset)
                underlyingAsset = c.raw.underlying_asset;
              if (c.fields.ts !== null && (newestVendorTs === null || c.fields.ts > newestVendorTs))
                newestVendorTs = c.fields.ts;
              if (exact) {
                c.rawJson = slices[i];
                if (!keepRaw) delete c.raw;
              }
              byTicker.set(c.ticker, c);
            }
          },
        );
      } catch (err) {
        if (err instanceof MassiveAuthError) streamAbort.abort(err);
        throw err;
      }
    });

    const partialReasons: string[] = [];
    const failures: string[] = [];
    results.forEach((r, i) => {
      const exp = expirations[i] ?? '?';
      if (r.status === 'rejected') {
        if (r.reason instanceof MassiveAuthError) return;
        const msg = r.reason instanceof Error ? r.reason.message : String(r.reason);
        failures.push(`${exp}: ${msg}`);
        partialReasons.push(`${exp}:failed`);
      } else if (r.value.partialReason) {
        partialReasons.push(`${exp}:${r.value.partialReason}`);
      } else if (r.value.pages > 0 && ![...byTicker.values()].some((c) => c.expiration === exp)) {
        // A listed expiration that came back empty: discovery is out of date.
        this.expirations.invalidate(symbol);
      }
    });
    const auth = results.find((r) => r.status === 'rejected' && r.reason instanceof MassiveAuthError);
    if (auth && auth.status === 'rejected') throw auth.reason as MassiveAuthError;
    if (expirations.length > 0 && failures.length === expirations.length) {
      this.expirations.invalidate(symbol);
      throw new FetchFailedError(symbol, failures);
    }
    if (signal.aborted && options.signal?.aborted) throw options.signal.reason as Error;

    if (spot === null) spot = await this.indexSpot(symbol, signal, stats).catch(() => null);
    if (spot !== null) this.lastSpot.set(symbol, spot);

    const contracts = [...byTicker.values()];
    return {
      symbol,
      underlying: underlyingOf(symbol),
      asOf,
      spot,
      underlyingAsset,
      newestVendorTs,
      expirations,
      contracts,
      pages: stats.pages,
      retries: stats.retries,
      skipped,
      skippedReasons,
      partial: partialReasons.length > 0,
      partialReasons,
      latencyMs: performance.now() - started,
      discovery,
    };
  }

  /**
   * The N nearest expirations on or after `today`, in N requests of one contract each: sorted by
   * expiration, each asks for the first contract after the previous expiration. Also returns the spot
   * from the first result.
   */
  async discoverExpirations(
    symbol: string,
    today: string,
    n: number,
    signal: AbortSignal,
    stats: RequestStats,
  ): Promise<{ expirations: string[]; spot: number | null }> {
    const expirations: string[] = [];
    let spot: number | null = null;
    let bound = `expiration_date.gte=${today}`;
    while (expirations.length < n) {
      const page = await this.opts.http.getJson<ChainPage>(
        `/v3/snapshot/options/${symbol}?${bound}&sort=expiration_date&order=asc&limit=1`,
        signal,
        stats,
      );
      const first = page.results?.[0];
      const parsed = first ? parseContract(first) : undefined;
      const exp = parsed?.ok ? parsed.contract.expiration : first?.details?.expiration_date;
      if (!exp || expirations.includes(exp)) break;
      expirations.push(exp);
      spot ??= spotFromResult(first);
      bound = `expiration_date.gt=${exp}`;
    }
    return { expirations, spot };
  }

  private async walkExpiration(
    symbol: string,
    expiration: string,
    spot: number | null,
    signal: AbortSignal,
    stats: RequestStats,
    onPage: (page: ChainPage, bytes: Buffer) => void,
  ): Promise<StreamResult> {
    let url = `/v3/snapshot/options/${symbol}?expiration_date=${expiration}&limit=${PAGE_LIMIT}`;
    if (this.opts.strikeWindowPct > 0 && spot !== null) {
      const w = (spot * this.opts.strikeWindowPct) / 100;
      url += `&strike_price.gte=${(spot - w).toFixed(2)}&strike_price.lte=${(spot + w).toFixed(2)}`;
    }
    const cursors = new Set<string>();
    let pages = 0;
    for (;;) {
      if (signal.aborted) return { pages, partialReason: 'deadline' };
      let page: ChainPage;
      let bytes: Buffer;
      try {
        ({ doc: page, bytes } = await this.opts.http.getPage<ChainPage>(url, signal, stats));
      } catch (err) {
        // A stream that already delivered pages is kept and marked partial.
        if (pages > 0 && !(err instanceof MassiveAuthError))
          return { pages, partialReason: signal.aborted ? 'deadline' : 'page_failed' };
        throw err;
      }
      pages++;
      onPage(page, bytes);
      const next = page.next_url;
      if (!next) return { pages };
      const cursor = new URL(next, 'http://x').searchParams.get('cursor') ?? next;
      if (cursors.has(cursor)) return { pages, partialReason: 'next_url_loop' };
      cursors.add(cursor);
      if (pages >= this.opts.maxPagesPerStream) return { pages, partialReason: 'page_cap' };
      url = next;
    }
  }

  /** Spot from `/v3/snapshot/indices` when no contract carried one (index symbols only). */
  private async indexSpot(symbol: string, signal: AbortSignal, stats: RequestStats): Promise<number | null> {
    if (!symbol.startsWith('I:')) return null;
    const doc = await this.opts.http.getJson<IndicesResponse>(
      `/v3/snapshot/indices?ticker.any_of=${symbol}`,
      signal,
      stats,
    );
    const hit = doc.results?.find((r) => r.ticker === symbol && typeof r.value === 'number');
    return hit?.value ?? null;
  }
}

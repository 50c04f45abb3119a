/**
 * @module The Massive option-chain client: discovers the N nearest expirations in N one-contract pages,
 * then walks one paginated stream per expiration, concurrently under a cap, into a {@link ChainSnapshot}.
 */
import { nyDate } from '../../domain/market-time.js';
import { mapSettledLimit } from '../../lib/async.js';
import type { Logger } from '../../lib/logger.js';
import { underlyingOf } from '../../redis/keys.js';
import { FetchFailedError, MassiveAuthError, UnknownSymbolError } from './errors.js';
import { ChainCollector } from './chain-collector.js';
import { ExpirationCache } from './expiration-cache.js';
import type { MassiveHttp, RequestStats } from './http.js';
import { peekNextUrl, type DecodeOptions } from './page-decode.js';
import { liftContracts, type LiftedResult } from './page-lift.js';
import { nextTurn } from '../../lib/slices.js';
import { sharedPagePool, type PageDecoder } from './page-pool.js';
import { parseContract, spotFromResult } from './parse-contract.js';
import type { ChainPage, ChainSnapshot } from './types.js';
import type { WriteEncoding } from '../../wiring/page-writes.js';

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
  /** Decodes chain pages (default: the process-wide pool of page threads). */
  pages?: PageDecoder;
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
  /**
   * Pre-encode each page's bulk writes on the page thread (the worker's write phase then only streams
   * them; wiring/page-writes.ts). The underlying and the as-of time are the fetch's own.
   */
  writes?: Omit<WriteEncoding, 'underlying' | 'asOfMs'>;
}

/** A page's results and the next page's URL. */
interface DecodedResults {
  results: LiftedResult[];
  nextUrl: string | undefined;
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
  private readonly pages: PageDecoder;

  constructor(private readonly opts: ChainClientOptions) {
    this.expirations = new ExpirationCache(opts.expirationCacheSec * 1000);
    this.pages = opts.pages ?? sharedPagePool();
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
      if (expirations.length === 0 && spot === null) {
        // Nothing listed and no underlying value: ask the indices endpoint before calling it off-hours.
        const index = await this.indexValue(symbol, signal, stats);
        if (index.value === null) throw new UnknownSymbolError(symbol, index.error);
        spot = index.value;
      }
      // An empty answer (off-hours, holiday) is not remembered: the next cycle asks again.
      if (expirations.length > 0) this.expirations.set(symbol, this.opts.numExpirations, asOf, expirations);
    }
    const listedExpirations = expirations.length;
    expirations = expirations.slice(0, n);
    const discovery = { pages: stats.pages, ms: performance.now() - discoveryStart, cached };

    const collected = new ChainCollector(spot);
    const keepRaw = options.keepRaw !== false;
    const writes: WriteEncoding | undefined = options.writes
      ? { ...options.writes, underlying: underlyingOf(symbol), asOfMs: asOf }
      : undefined;
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
          () => ({
            keepRaw,
            wantUnderlying: collected.underlyingAsset === null,
            ...(writes ? { writes } : {}),
          }),
          (results) => collected.add(results),
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
      } else if (r.value.pages > 0 && !collected.seenExpirations.has(exp)) {
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

    let spotNow = collected.spot;
    if (spotNow === null)
      spotNow = (await this.indexValue(symbol, signal, stats).catch(() => ({ value: null }))).value;
    if (spotNow !== null) this.lastSpot.set(symbol, spotNow);

    const { underlyingAsset, newestVendorTs, skipped, skippedReasons } = collected;
    const contracts = [...collected.byTicker.values()];
    return {
      symbol,
      underlying: underlyingOf(symbol),
      asOf,
      spot: spotNow,
      underlyingAsset,
      newestVendorTs,
      expirations,
      listedExpirations,
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
    decodeOptions: () => DecodeOptions,
    onPage: (results: LiftedResult[]) => void,
  ): Promise<StreamResult> {
    let url = `/v3/snapshot/options/${symbol}?expiration_date=${expiration}&limit=${PAGE_LIMIT}`;
    if (this.opts.strikeWindowPct > 0 && spot !== null) {
      const w = (spot * this.opts.strikeWindowPct) / 100;
      url += `&strike_price.gte=${(spot - w).toFixed(2)}&strike_price.lte=${(spot + w).toFixed(2)}`;
    }
    const cursors = new Set<string>();
    const cursorOf = (u: string): string => new URL(u, 'http://x').searchParams.get('cursor') ?? u;
    // Requests started ahead, by URL (see fetchPage); aborted when the walk ends.
    const ahead = new Map<string, { stats: RequestStats; page: Promise<DecodedResults> }>();
    const aheadAbort = new AbortController();
    const aheadSignal = AbortSignal.any([signal, aheadAbort.signal]);
    /**
     * Fetches page number `n` of the stream and decodes it off the main thread (the contracts' raw JSON
     * stays in the page bytes, zero-copy). As soon as its bytes arrive, the next page is requested with
     * the `next_url` found in them (peekNextUrl) while this one decodes, so decoding never sits between
     * two requests of a stream; the walk uses that request only if the decoded page names the same URL.
     */
    const fetchPage = (u: string, n: number, st: RequestStats, sig: AbortSignal): Promise<DecodedResults> =>
      this.opts.http.getDecoded(
        u,
        sig,
        st,
        async (bytes) => {
          const hint = n < this.opts.maxPagesPerStream ? peekNextUrl(bytes) : undefined;
          if (
            hint !== undefined &&
            !ahead.has(hint) &&
            !cursors.has(cursorOf(hint)) &&
            !aheadSignal.aborted
          ) {
            const aheadStats: RequestStats = { pages: 0, retries: 0 };
            const page = fetchPage(hint, n + 1, aheadStats, aheadSignal);
            page.catch(() => undefined); // used (and its error seen) only if the walk asks for it
            ahead.set(hint, { stats: aheadStats, page });
          }
          const decoded = await this.pages.decode(bytes, decodeOptions());
          // Pages decoded meanwhile arrive together (a port's queued messages are delivered in one go):
          // each is lifted and merged in a turn's budget, not all of them in the turn they arrived in.
          await nextTurn();
          return { results: liftContracts(decoded.page, decoded.bytes), nextUrl: decoded.page.nextUrl };
        },
        this.pages.bodies,
      );
    let pages = 0;
    let pending = fetchPage(url, 1, stats, signal);
    try {
      for (;;) {
        // Cut by the deadline (or shutdown) after some pages: partial; the request already started for the
        // next page is dropped (its rejection handled: an unhandled one ends the process). Before its first
        // page a stream is not cut but failed: that request rejects below, as any request that got nothing.
        if (signal.aborted && pages > 0) {
          pending.catch(() => undefined);
          return { pages, partialReason: 'deadline' };
        }
        let page: DecodedResults;
        try {
          page = await pending;
        } catch (err) {
          // A stream that already delivered pages is kept and marked partial.
          if (pages > 0 && !(err instanceof MassiveAuthError))
            return { pages, partialReason: signal.aborted ? 'deadline' : 'page_failed' };
          throw err;
        }
        pages++;
        onPage(page.results);
        const next = page.nextUrl;
        if (!next) return { pages };
        const cursor = cursorOf(next);
        if (cursors.has(cursor)) return { pages, partialReason: 'next_url_loop' };
        cursors.add(cursor);
        if (pages >= this.opts.maxPagesPerStream) return { pages, partialReason: 'page_cap' };
        url = next;
        const started = ahead.get(next);
        ahead.delete(next);
        if (started) {
          pending = started.page.finally(() => {
            stats.pages += started.stats.pages;
            stats.retries += started.stats.retries;
          });
        } else {
          pending = fetchPage(next, pages + 1, stats, signal);
        }
      }
    } finally {
      aheadAbort.abort();
    }
  }

  /**
   * The underlying's value from `/v3/snapshot/indices` (index symbols only), or null with the vendor's
   * per-ticker error (`NOT_FOUND` for a ticker it does not know).
   */
  private async indexValue(
    symbol: string,
    signal: AbortSignal,
    stats: RequestStats,
  ): Promise<{ value: number | null; error?: string }> {
    if (!symbol.startsWith('I:')) return { value: null };
    const doc = await this.opts.http.getJson<IndicesResponse>(
      `/v3/snapshot/indices?ticker.any_of=${symbol}`,
      signal,
      stats,
    );
    const item = doc.results?.find((r) => r.ticker === symbol);
    if (typeof item?.value === 'number') return { value: item.value };
    return typeof item?.error === 'string' ? { value: null, error: item.error } : { value: null };
  }
}

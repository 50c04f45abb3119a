/**
 * The real Massive REST client against the local Massive-compatible API over real HTTP: discovery,
 * pagination, the next_url loop guard, retries, auth, malformed pages, skipped contracts, key hygiene.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import type { MarketDataset } from '../../src/provider/local-api/dataset.js';
import { startLocalApi, type LocalApiServer } from '../../src/provider/local-api/server.js';
import { MassiveChainClient } from '../../src/provider/massive/chain-client.js';
import { MassiveAuthError, FetchFailedError } from '../../src/provider/massive/errors.js';
import { MassiveHttp } from '../../src/provider/massive/http.js';
import { ReplayDataset } from '../../src/provider/replay/replay-dataset.js';
import { fixtureRecording } from '../../src/provider/replay/fixture-recording.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';

const API_KEY = 'test_key_9f8e7d6c5b4a3210';
const NOW = Date.parse('2026-01-07T15:00:00Z'); // a Wednesday, mid-session

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface Setup {
  api: LocalApiServer;
  client: MassiveChainClient;
  http: MassiveHttp;
  logs: Capture;
}

const open: Setup[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.http.close();
    await s.api.close();
  }
});

async function setup(
  opts: {
    dataset?: MarketDataset;
    env?: Partial<{
      maxPages: number;
      timeoutMs: number;
      retries: number;
      deadlineMs: number;
      n: number;
      concurrency: number;
    }>;
  } = {},
): Promise<Setup> {
  const dataset = opts.dataset ?? new SimMarket({ seed: 3, clock: () => NOW });
  const api = await startLocalApi({ dataset, apiKey: API_KEY });
  const logs = new Capture();
  const logger = createLogger({ level: 'trace', destination: logs, secrets: [API_KEY] });
  const http = new MassiveHttp({
    baseUrl: api.url,
    apiKey: API_KEY,
    requestTimeoutMs: opts.env?.timeoutMs ?? 2_000,
    maxRetries: opts.env?.retries ?? 3,
    rateLimitRps: 0,
    connections: 8,
    logger,
    retryBaseMs: 10,
    retryMaxMs: 50,
  });
  const client = new MassiveChainClient({
    http,
    clock: () => dataset.now(),
    numExpirations: opts.env?.n ?? 5,
    concurrency: opts.env?.concurrency ?? 8,
    fetchDeadlineMs: opts.env?.deadlineMs ?? 10_000,
    maxPagesPerStream: opts.env?.maxPages ?? 200,
    expirationCacheSec: 300,
    strikeWindowPct: 0,
    logger,
  });
  const s = { api, client, http, logs };
  open.push(s);
  return s;
}

describe('Massive chain client', () => {
  it('discovers the 5 nearest expirations in 5 one-contract pages, then walks each stream to the end', async () => {
    const { api, client } = await setup();
    const snap = await client.fetchSnapshot('I:SPX');
    const market = new SimMarket({ seed: 3, clock: () => NOW });
    const expected = market.expirations('I:SPX', NOW).slice(0, 5);
    expect(snap.expirations).toEqual(expected);
    expect(snap.discovery).toMatchObject({ pages: 5, cached: false });
    const all = expected.flatMap((e) => market.chain('I:SPX', NOW, e)?.results ?? []);
    expect(snap.contracts).toHaveLength(all.length);
    expect(new Set(snap.contracts.map((c) => c.ticker))).toEqual(new Set(all.map((c) => c.details?.ticker)));
    const expectedPages =
      5 +
      expected.reduce(
        (n, e) => n + Math.max(1, Math.ceil((market.chain('I:SPX', NOW, e)?.results.length ?? 0) / 250)),
        0,
      );
    expect(snap.pages).toBe(expectedPages);
    expect(snap).toMatchObject({
      partial: false,
      skipped: 0,
      retries: 0,
      spot: market.indexValue('I:SPX', NOW),
    });
    // Second fetch: discovery served from the cache.
    api.resetStats();
    const again = await client.fetchSnapshot('I:SPX');
    expect(again.discovery).toMatchObject({ pages: 0, cached: true });
  });

  it('follows next_url across many pages (burst: 2,000 contracts per expiration)', async () => {
    const { client } = await setup({ dataset: new SimMarket({ seed: 3, clock: () => NOW, burst: true }) });
    const snap = await client.fetchSnapshot('I:NDX');
    expect(snap.contracts.length).toBeGreaterThanOrEqual(10_000);
    expect(snap.pages).toBeGreaterThanOrEqual(5 + 5 * 8);
    expect(snap.partial).toBe(false);
  });

  it('guards against a next_url loop and marks the snapshot partial', async () => {
    const { api, client } = await setup({
      dataset: new SimMarket({ seed: 3, clock: () => NOW, burst: true }),
    });
    api.setFaults({ nextUrlLoop: true });
    const snap = await client.fetchSnapshot('I:SPX');
    expect(snap.partial).toBe(true);
    expect(snap.partialReasons.every((r) => r.endsWith(':next_url_loop'))).toBe(true);
    expect(snap.pages).toBeLessThan(5 + 5 * 3 + 1);
  });

  it('caps pages per stream and marks the snapshot partial', async () => {
    const { client } = await setup({
      dataset: new SimMarket({ seed: 3, clock: () => NOW, burst: true }),
      env: { maxPages: 2 },
    });
    const snap = await client.fetchSnapshot('I:SPX');
    expect(snap.partial).toBe(true);
    expect(snap.partialReasons).toContain(`${snap.expirations[0]}:page_cap`);
    expect(snap.contracts.length).toBe(5 * 2 * 250);
  });

  it('retries a 429 honouring Retry-After, and 5xx then succeeds', async () => {
    const { api, client } = await setup({ env: { n: 1 } });
    api.setFaults({ queue: ['429'], retryAfterSec: 1 });
    const t0 = performance.now();
    const snap = await client.fetchSnapshot('I:SPX');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    expect(snap.retries).toBe(1);
    expect(snap.partial).toBe(false);
    api.setFaults({ queue: ['500', '503', '500'] });
    const again = await client.fetchSnapshot('I:NDX');
    expect(again.retries).toBe(3);
    expect(again.contracts.length).toBeGreaterThan(0);
    expect(again.partial).toBe(false);
  });

  it('times out a request that never answers and retries it', async () => {
    const { api, client } = await setup({ env: { timeoutMs: 300, n: 1 } });
    api.setFaults({ queue: ['timeout'] });
    const t0 = performance.now();
    const snap = await client.fetchSnapshot('I:SPX');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
    expect(snap.retries).toBe(1);
    expect(snap.contracts.length).toBeGreaterThan(0);
  });

  it('retries a malformed and a truncated page; a page that stays malformed marks the stream partial', async () => {
    const { api, client } = await setup({ env: { n: 2, retries: 2 } });
    api.setFaults({ queue: ['malformed', 'truncated'] });
    const ok = await client.fetchSnapshot('I:SPX');
    expect(ok.retries).toBe(2);
    expect(ok.partial).toBe(false);
    // Discovery is cached now: the next requests are the two stream first pages; a stream whose first page
    // stays malformed fails, the other succeeds → partial, not failed.
    // Five malformed answers over two streams of three attempts each: one stream gets three (fails),
    // the other at most two (recovers).
    api.setFaults({ queue: ['malformed', 'malformed', 'malformed', 'malformed', 'malformed'] });
    const partial = await client.fetchSnapshot('I:SPX');
    expect(partial.partial).toBe(true);
    expect(partial.partialReasons.some((r) => r.endsWith(':failed'))).toBe(true);
    expect(partial.contracts.length).toBeGreaterThan(0);
  });

  it('fails the snapshot when every stream fails (API down)', async () => {
    const { api, client } = await setup({ env: { retries: 1 } });
    await client.fetchSnapshot('I:SPX');
    api.setFaults({ down: true });
    await expect(client.fetchSnapshot('I:SPX')).rejects.toBeInstanceOf(FetchFailedError);
  });

  it('fails the snapshot when the deadline passes before any stream got a page (API slow, fewer streams than expirations)', async () => {
    const { api, client } = await setup({ env: { deadlineMs: 1_000, concurrency: 2, retries: 0 } });
    // Expirations discovered and cached while the API is fast.
    expect((await client.fetchSnapshot('I:SPX')).partial).toBe(false);
    // Every page now takes longer than the whole deadline: no stream gets a page. The two running streams
    // fail at the deadline; the three queued behind them start after it.
    api.setFaults({ latencyMs: 1_500 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Was: a snapshot of zero contracts, partial ('deadline'): a successful, 'empty' cycle (nothing
      // counted against the epoch, the heartbeat ok; with no epoch yet, an empty epoch promoted), and the
      // queued streams' first requests rejected unhandled (in the binary: the process ends, exit 1).
      const err = await client.fetchSnapshot('I:SPX').then(
        (snap) => ({ contracts: snap.contracts.length, partialReasons: snap.partialReasons }),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FetchFailedError);
      expect((err as FetchFailedError).reasons).toHaveLength(5);
      await new Promise((r) => setTimeout(r, 200));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('treats 401 as an authentication failure: distinct error, no retry', async () => {
    const { api, client } = await setup();
    api.setFaults({ unauthorized: true });
    api.resetStats();
    const err = await client.fetchSnapshot('I:SPX').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MassiveAuthError);
    expect((err as MassiveAuthError).status).toBe(401);
    expect(api.stats().requests).toBe(1);
  });

  it('skips and counts contracts it cannot parse; keeps the good ones (real fixtures: duplicates, greeks {})', async () => {
    const rec = fixtureRecording();
    const results = [...(rec.underlyings.AAPL?.results ?? [])];
    const exp = results
      .map((r) => r.details?.expiration_date ?? '')
      .sort()
      .at(-1) as string;
    const yymmdd = exp.slice(2).replaceAll('-', '');
    const broken = [
      { details: { ticker: 'garbage', expiration_date: exp } },
      {
        details: {
          ticker: `O:AAPL${yymmdd}C00999000`,
          contract_type: 'straddle',
          expiration_date: exp,
          strike_price: 999,
        },
      },
      {
        details: {
          ticker: `O:AAPL${yymmdd}C00998000`,
          contract_type: 'call',
          expiration_date: exp,
          strike_price: -1,
        },
      },
    ];
    const dataset = new ReplayDataset({
      recorded_at: rec.recorded_at,
      underlyings: {
        AAPL: {
          underlying_asset: rec.underlyings.AAPL?.underlying_asset ?? {},
          results: [...results, ...(broken as typeof results)],
        },
      },
    });
    const { client } = await setup({ dataset });
    const snap = await client.fetchSnapshot('AAPL');
    const today = rec.recorded_at.slice(0, 10);
    const listed = results.filter((r) => (r.details?.expiration_date ?? '') >= today);
    expect(snap.contracts.length).toBe(new Set(listed.map((r) => r.details?.ticker)).size);
    expect(snap.contracts.length).toBeGreaterThan(0);
    expect(snap.skippedReasons).toMatchObject({ bad_ticker: 1, unknown_type: 1, bad_strike: 1 });
    expect(snap.skipped).toBe(3 + (snap.skippedReasons.duplicate ?? 0));
  });

  it('never writes the API key to a log line, even at trace level with retries and errors', async () => {
    const { api, client, logs } = await setup({ env: { retries: 3 } });
    api.setFaults({ queue: ['429', '500', 'malformed'], retryAfterSec: 0 });
    await client.fetchSnapshot('I:SPX');
    api.setFaults({ unauthorized: true });
    const err = await client.fetchSnapshot('I:NDX').catch((e: unknown) => e as Error);
    expect(logs.text.length).toBeGreaterThan(0);
    expect(logs.text).not.toContain(API_KEY);
    expect(String((err as Error).message)).not.toContain(API_KEY);
    expect(JSON.stringify(err)).not.toContain(API_KEY);
  });
});

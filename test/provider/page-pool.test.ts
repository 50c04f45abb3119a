/**
 * The page threads: a page decoded on a thread equals the page decoded inline, its bytes travel there and
 * back without a copy, syntax errors come back typed, many pages in flight each get their own answer, and
 * a thread that dies fails only its own pages and is replaced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodePage, decodePageWithWrites, PageSyntaxError } from '../../src/provider/massive/page-decode.js';
import { liftContracts } from '../../src/provider/massive/page-lift.js';
import { availableParallelism } from 'node:os';
import {
  configurePagePool,
  PagePool,
  pageThreadsFor,
  sharedPagePool,
} from '../../src/provider/massive/page-pool.js';

const pools: PagePool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

function pool(threads = 2): PagePool {
  const p = new PagePool(threads);
  pools.push(p);
  expect(p.threaded).toBe(true); // the compiled thread script exists (npm run build)
  return p;
}

describe('the default pool size', () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [64, 2],
  ])('%i cores → %i page threads (one core left for the main thread, at most two)', (cores, threads) => {
    expect(pageThreadsFor(cores)).toBe(threads);
  });

  it('the process-wide pool takes CHAIN_PAGE_THREADS when set, else the default for this machine', () => {
    expect(new PagePool().size).toBe(pageThreadsFor(availableParallelism()));
    configurePagePool(3);
    const p = sharedPagePool();
    pools.push(p);
    expect(p.size).toBe(3);
    configurePagePool(1);
    expect(sharedPagePool()).toBe(p); // created once: a later call changes no pool already made
  });
});

const ticker = (strike: number): string => `O:SPXW260107C${String(strike * 1000).padStart(8, '0')}`;

function pageText(n: number, strikeBase = 6000): string {
  const results = Array.from({ length: n }, (_, i) => ({
    details: { ticker: ticker(strikeBase + i), contract_type: 'call', strike_price: strikeBase + i },
    last_quote: { bid: i / 10, ask: i / 10 + 0.2, last_updated: 1767798000000000000 + i },
    greeks: i % 7 === 0 ? {} : { delta: 0.5, gamma: 0.001 * i },
    open_interest: i % 5 === 0 ? null : i * 3,
    underlying_asset: { ticker: 'I:SPX', value: 6848.25 },
  }));
  return JSON.stringify({ status: 'OK', results, next_url: `https://api/next?cursor=${strikeBase}` });
}

const opts = { keepRaw: false, wantUnderlying: true };

describe('PagePool', () => {
  it('decodes on a thread exactly as inline, handing the same bytes back (transferred, not copied)', async () => {
    const text = pageText(250);
    const inline = Buffer.from(text);
    const expected = liftContracts(decodePage(inline, opts), inline);
    const sent = Buffer.from(text);
    const { page, bytes } = await pool().decode(sent, opts);
    expect(sent.byteLength).toBe(0); // detached: moved to the thread
    expect(bytes?.toString()).toBe(text);
    expect(page.nextUrl).toBe('https://api/next?cursor=6000');
    expect(liftContracts(page, bytes)).toEqual(expected);
  });

  it('with encoded writes, keeps the page bytes on the thread: only the decoded page and its writes come back', async () => {
    const text = pageText(250);
    const withWrites = {
      ...opts,
      writes: { prefix: '', underlying: 'SPX', asOfMs: 1767798000000, snapshotSec: 60, substrateSec: 60 },
    };
    const inline = Buffer.from(text);
    const expected = liftContracts(decodePageWithWrites(inline, withWrites), inline);
    const sent = Buffer.from(text);
    const { page, bytes } = await pool().decode(sent, withWrites);
    expect(sent.byteLength).toBe(0);
    expect(bytes).toBeNull();
    const lifted = liftContracts(page, bytes);
    expect(lifted).toHaveLength(250);
    // Each contract's raw JSON, read from the writes, is its slice of the page as sent.
    const raw = (r: (typeof lifted)[number]): string => (r.ok ? String(r.contract.rawJson) : r.reason);
    expect(lifted.map(raw)).toEqual(expected.map(raw));
    expect(lifted.map(raw)[3]).toBe(JSON.stringify((JSON.parse(text) as { results: unknown[] }).results[3]));
  });

  it("copies a buffer that shares its memory, leaving the caller's view intact", async () => {
    const text = pageText(3);
    const big = Buffer.from(`xx${text}yy`);
    const view = big.subarray(2, 2 + Buffer.byteLength(text));
    const { bytes } = await pool().decode(view, opts);
    expect(bytes?.toString()).toBe(text);
    expect(view.toString()).toBe(text);
  });

  it('answers each of many pages in flight with its own page', async () => {
    const p = pool(2);
    const bases = Array.from({ length: 40 }, (_, i) => 1000 + i * 300);
    const out = await Promise.all(bases.map((b) => p.decode(Buffer.from(pageText(20, b)), opts)));
    expect(out.map((o) => o.page.nextUrl)).toEqual(bases.map((b) => `https://api/next?cursor=${b}`));
    expect(out.map((o) => o.page.tickers[0])).toEqual(bases.map((b) => ticker(b)));
    expect(p.running).toBe(2);
  });

  it('rejects a page that is not JSON with a PageSyntaxError', async () => {
    await expect(pool().decode(Buffer.from('{"results":['), opts)).rejects.toBeInstanceOf(PageSyntaxError);
  });

  it('rejects JSON that is not an object (a list) with a PageSyntaxError, as inline', async () => {
    await expect(pool().decode(Buffer.from('[]'), opts)).rejects.toThrow(
      new PageSyntaxError('the body is not a JSON object'),
    );
  });

  it('rejects a page whose status is not a success with a PageSyntaxError, as inline', async () => {
    const text = '{"status":"ERROR","request_id":"r2","error":"Internal error, please retry"}';
    await expect(pool().decode(Buffer.from(text), opts)).rejects.toThrow(
      new PageSyntaxError('status "ERROR" (request r2): Internal error, please retry'),
    );
  });

  it('fails the pages of a thread that dies, then starts a new one', async () => {
    const p = pool(1);
    await p.decode(Buffer.from(pageText(2)), opts);
    const slot = (p as unknown as { slots: { worker: import('node:worker_threads').Worker }[] }).slots[0];
    const inFlight = p.decode(Buffer.from(pageText(2000)), opts);
    await slot?.worker.terminate();
    await expect(inFlight).rejects.toThrow(/page thread exited/);
    const again = await p.decode(Buffer.from(pageText(2)), opts);
    expect(again.page.count).toBe(2);
  });

  it("decodes a page read into a body slot in place: the bytes stay the caller's, the answer as inline", async () => {
    const p = pool(1);
    const text = pageText(250);
    const inline = Buffer.from(text);
    const expected = liftContracts(decodePage(inline, opts), inline);
    const lease = p.lease(Buffer.byteLength(text));
    if (!lease) throw new Error('no body slot');
    lease.bytes.write(text);
    const { page, bytes } = await p.decode(lease.bytes, opts);
    expect(lease.bytes.toString()).toBe(text); // not detached: shared, still the caller's
    expect(bytes?.buffer).toBeInstanceOf(ArrayBuffer); // the bytes that come back are a copy of their own
    expect(bytes?.toString()).toBe(text);
    expect(liftContracts(page, bytes)).toEqual(expected);
    expect(p.bodiesLeased).toBe(1);
    lease.release();
    expect(p.bodiesLeased).toBe(0);
  });

  it('reads a reused slot as it is now, also on a thread started after the first one died', async () => {
    const p = pool(1);
    const decodeIn = async (base: number) => {
      const text = pageText(3, base);
      const lease = p.lease(Buffer.byteLength(text));
      if (!lease) throw new Error('no body slot');
      lease.bytes.write(text);
      try {
        return (await p.decode(lease.bytes, opts)).page.tickers[0];
      } finally {
        lease.release();
      }
    };
    expect(await decodeIn(1000)).toBe(ticker(1000));
    expect(await decodeIn(2000)).toBe(ticker(2000)); // the same slot, sent to the thread once
    expect(p.bodyBytes).toBe(64 * 1024);
    const slot = (p as unknown as { slots: { worker: import('node:worker_threads').Worker }[] }).slots[0];
    await slot?.worker.terminate();
    expect(await decodeIn(3000)).toBe(ticker(3000)); // a new thread is sent the slot's buffer again
  });

  it('rejects a page in a body slot that is not JSON with a PageSyntaxError', async () => {
    const p = pool(1);
    const lease = p.lease(12);
    lease?.bytes.write('{"results":[');
    await expect(p.decode(lease?.bytes ?? Buffer.alloc(0), opts)).rejects.toBeInstanceOf(PageSyntaxError);
  });

  it('refuses work once closed', async () => {
    const p = pool();
    await p.close();
    await expect(p.decode(Buffer.from('{}'), opts)).rejects.toThrow(/closed/);
  });
});

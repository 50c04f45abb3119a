/**
 * The real HTTP and chain clients against a scripted server, for 2xx answers the local API never gives:
 * a body that is JSON but not a document of the API is a malformed page (retried, then a failed stream or
 * fetch), never a TypeError and never an empty answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { MassiveChainClient } from '../../src/provider/massive/chain-client.js';
import { MalformedPageError } from '../../src/provider/massive/errors.js';
import { MassiveHttp } from '../../src/provider/massive/http.js';
import { inlineDecoder, PagePool, type PageDecoder } from '../../src/provider/massive/page-pool.js';

const KEY = 'vendor_pages_key_7c1e5a90';
// Wednesday 2026-01-07 10:00 New York.
const NOW = Date.parse('2026-01-07T15:00:00Z');
const EXP = '2026-01-07';

/** Answers request `n` (1-based, in arrival order) of the URL `u`. */
type Script = (u: URL, n: number) => { status?: number; body: unknown };

let server: Server | undefined;
let http: MassiveHttp | undefined;
let pool: PagePool | undefined;
afterEach(async () => {
  await http?.close();
  await pool?.close();
  pool = undefined;
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = http = undefined;
});

/** A server answering by `script`; `seen` lists the requests' paths. */
async function serve(script: Script): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    const { status = 200, body } = script(new URL(req.url ?? '/', 'http://x'), seen.length);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' }).end(text);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function contract(strike: number): Record<string, unknown> {
  return {
    details: {
      ticker: `O:SPXW260107C${String(strike * 1000).padStart(8, '0')}`,
      contract_type: 'call',
      exercise_style: 'european',
      expiration_date: EXP,
      shares_per_contract: 100,
      strike_price: strike,
    },
    last_quote: { bid: 1, ask: 1.2, midpoint: 1.1, last_updated: 1767798000000000000 },
    underlying_asset: { ticker: 'I:SPX', value: 6900.5, last_updated: 1767798000000000000 },
    open_interest: 10,
  };
}

const ok = (results: unknown[], extra: Record<string, unknown> = {}) => ({
  body: { status: 'OK', request_id: 'r', results, ...extra },
});

/** Discovery's one-contract requests (`limit=1`). */
const isDiscovery = (u: URL): boolean => u.searchParams.get('limit') === '1';

function client(url: string, pages: PageDecoder = inlineDecoder): MassiveChainClient {
  const logger = createLogger({ level: 'silent' });
  http = new MassiveHttp({
    baseUrl: url,
    apiKey: KEY,
    requestTimeoutMs: 1_000,
    maxRetries: 2,
    rateLimitRps: 0,
    connections: 4,
    logger,
    retryBaseMs: 5,
    retryMaxMs: 20,
  });
  return new MassiveChainClient({
    http,
    clock: () => NOW,
    numExpirations: 1,
    concurrency: 4,
    fetchDeadlineMs: 5_000,
    maxPagesPerStream: 50,
    expirationCacheSec: 0,
    strikeWindowPct: 0,
    logger,
    pages,
  });
}

/** Chain pages are decoded inline or on page threads (the worker's way): both read a page alike. */
const DECODERS: [string, () => PageDecoder][] = [
  ['inline', () => inlineDecoder],
  [
    'on a page thread',
    () => {
      pool = new PagePool(1);
      expect(pool.threaded).toBe(true); // the compiled thread script exists (npm run build)
      return pool;
    },
  ],
];

describe('a 2xx body that is JSON but not an object', () => {
  it.each([
    ['null', 'null'],
    ['a list', '[]'],
    ['a number', '5'],
  ])('%s in discovery is a malformed page: retried, then the snapshot is whole', async (_, body) => {
    const { url, seen } = await serve((u, n) =>
      n === 1 ? { body } : isDiscovery(u) ? ok([contract(6900)]) : ok([contract(6900), contract(6950)]),
    );
    const snap = await client(url).fetchSnapshot('I:SPX');
    // Discovery's request, answered badly then retried; then the one page of the expiration's stream.
    expect(seen.map((p) => new URL(p, 'http://x').searchParams.get('limit'))).toEqual(['1', '1', '250']);
    expect(snap).toMatchObject({ expirations: [EXP], retries: 1, partial: false, spot: 6900.5 });
    expect(snap.contracts.map((c) => c.strike)).toEqual([6900, 6950]);
  });

  it('a discovery answer that stays null fails the fetch with MalformedPageError after the retries', async () => {
    const { url, seen } = await serve(() => ({ body: 'null' }));
    const err = await client(url)
      .fetchSnapshot('I:SPX')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedPageError);
    expect((err as Error).cause).toMatchObject({ message: 'the body is not a JSON object' });
    expect(seen).toHaveLength(3);
  });

  it('null from the indices endpoint is retried: the spot of a chain with no expiration listed', async () => {
    let indices = 0;
    const { url } = await serve((u) => {
      if (u.pathname === '/v3/snapshot/indices')
        return ++indices === 1
          ? { body: 'null' }
          : { body: { status: 'OK', request_id: 'i', results: [{ ticker: 'I:SPX', value: 6901.25 }] } };
      return ok([]);
    });
    const snap = await client(url).fetchSnapshot('I:SPX');
    expect(indices).toBe(2);
    expect(snap).toMatchObject({ expirations: [], contracts: [], spot: 6901.25, retries: 1 });
  });
});

describe('a 2xx page whose status is not a success, or whose results are not a list', () => {
  /** A stream of two pages; page 2's first `bad` answers are `page2`. */
  function twoPages(bad: number, page2: unknown): Script {
    let page2Answers = 0;
    return (u) => {
      if (isDiscovery(u)) return ok([contract(6900)]);
      if (!u.searchParams.has('cursor'))
        return ok([contract(6900)], { next_url: '/v3/snapshot/options/I:SPX?cursor=p2' });
      return ++page2Answers <= bad ? { body: page2 } : ok([contract(6950)]);
    };
  }
  const errorPage = { status: 'ERROR', request_id: 'r2', error: 'Internal error, please retry' };

  it.each(DECODERS)(
    'a status ERROR page mid-stream is retried (decoded %s): the snapshot is whole',
    async (_, decoder) => {
      const { url, seen } = await serve(twoPages(1, errorPage));
      const snap = await client(url, decoder()).fetchSnapshot('I:SPX');
      expect(seen.filter((p) => p.includes('cursor=p2'))).toHaveLength(2);
      expect(snap).toMatchObject({ partial: false, partialReasons: [], retries: 1 });
      expect(snap.contracts.map((c) => c.strike)).toEqual([6900, 6950]);
    },
  );

  it.each(DECODERS)(
    'a page that stays status ERROR (decoded %s) marks the snapshot partial, page_failed',
    async (_, decoder) => {
      const { url, seen } = await serve(twoPages(3, errorPage));
      const snap = await client(url, decoder()).fetchSnapshot('I:SPX');
      expect(seen.filter((p) => p.includes('cursor=p2'))).toHaveLength(3); // 1 + 2 retries
      expect(snap).toMatchObject({ partial: true, partialReasons: [`${EXP}:page_failed`], retries: 2 });
      expect(snap.contracts.map((c) => c.strike)).toEqual([6900]);
    },
  );

  it('on page threads, every page body is read into a body slot and every slot is given back, retries too', async () => {
    const { url } = await serve(twoPages(1, errorPage));
    const threads = new PagePool(1);
    pool = threads;
    const snap = await client(url, threads).fetchSnapshot('I:SPX');
    expect(snap).toMatchObject({ partial: false, retries: 1 });
    expect(snap.contracts.map((c) => c.strike)).toEqual([6900, 6950]);
    expect(threads.bodyBytes).toBeGreaterThan(0);
    expect(threads.bodiesLeased).toBe(0);
  });

  it('results that are not a list are a malformed page, retried', async () => {
    const { url } = await serve(twoPages(1, { status: 'OK', request_id: 'r2', results: { a: 1 } }));
    const snap = await client(url).fetchSnapshot('I:SPX');
    expect(snap).toMatchObject({ partial: false, retries: 1 });
    expect(snap.contracts.map((c) => c.strike)).toEqual([6900, 6950]);
  });

  it('status ERROR in discovery is retried; after the retries the fetch fails, naming it', async () => {
    const once = await serve((u, n) =>
      n === 1 ? { body: errorPage } : ok([contract(isDiscovery(u) ? 6900 : 6950)]),
    );
    const snap = await client(once.url).fetchSnapshot('I:SPX');
    expect(snap).toMatchObject({ expirations: [EXP], retries: 1, partial: false });
    await http?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));

    const always = await serve(() => ({ body: errorPage }));
    const err = await client(always.url)
      .fetchSnapshot('I:SPX')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedPageError);
    expect((err as Error).cause).toMatchObject({
      message: 'status "ERROR" (request r2): Internal error, please retry',
    });
    expect(always.seen).toHaveLength(3);
  });

  it('status DELAYED, or none, is read as a page', async () => {
    const { url } = await serve((u) => {
      if (isDiscovery(u)) return { body: { request_id: 'r', results: [contract(6900)] } };
      return { body: { status: 'DELAYED', request_id: 'r', results: [contract(6900), contract(6950)] } };
    });
    const snap = await client(url).fetchSnapshot('I:SPX');
    expect(snap).toMatchObject({ partial: false, retries: 0 });
    expect(snap.contracts.map((c) => c.strike)).toEqual([6900, 6950]);
  });
});

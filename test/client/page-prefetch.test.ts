/**
 * The chain client requests a stream's next page as soon as the current page's bytes arrive (with the
 * next_url found in the bytes), while the page decodes on a page thread. Over real HTTP: a guess that the
 * decoded page contradicts is requested but never used or counted, and no page is requested past the
 * page cap.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/lib/logger.js';
import { MassiveChainClient } from '../../src/provider/massive/chain-client.js';
import { MassiveHttp } from '../../src/provider/massive/http.js';

const contract = (strike: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  details: { ticker: `O:SPX260107C0${strike}000`, contract_type: 'call', strike_price: strike },
  open_interest: strike,
  underlying_asset: { ticker: 'I:SPX', value: 6850 },
  ...extra,
});

interface Api {
  url: string;
  paths: string[];
  server: Server;
}

const open: { api: Api; http: MassiveHttp }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.http.close();
    await new Promise((r) => o.api.server.close(r));
  }
});

/** Serves discovery (one expiration) and the stream pages `pages(cursor)` answers. */
async function api(pages: (cursor: string | null, base: string) => string): Promise<Api> {
  const paths: string[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    paths.push(url.pathname + url.search);
    res.setHeader('content-type', 'application/json');
    if (url.searchParams.get('limit') === '1') {
      const first = url.searchParams.has('expiration_date.gte');
      res.end(JSON.stringify({ status: 'OK', results: first ? [contract(6000)] : [] }));
      return;
    }
    res.end(pages(url.searchParams.get('cursor'), base));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, paths, server };
}

function client(a: Api, maxPagesPerStream = 100): MassiveChainClient {
  const http = new MassiveHttp({
    baseUrl: a.url,
    requestTimeoutMs: 2_000,
    maxRetries: 0,
    rateLimitRps: 0,
    connections: 4,
    logger: silentLogger(),
  });
  open.push({ api: a, http });
  return new MassiveChainClient({
    http,
    clock: () => Date.parse('2026-01-06T15:00:00Z'),
    numExpirations: 1,
    concurrency: 4,
    fetchDeadlineMs: 10_000,
    maxPagesPerStream,
    expirationCacheSec: 60,
    strikeWindowPct: 0,
    logger: silentLogger(),
  });
}

const OPTIONS = '/v3/snapshot/options/I:SPX';

describe('next page requested while the current one decodes', () => {
  it('uses only the next_url of the decoded page: a contradicting guess is never used nor counted', async () => {
    const a = await api((cursor, base) => {
      if (cursor === null)
        // The page's next_url comes first; the last "next_url" in the bytes is inside a contract.
        return JSON.stringify({
          next_url: `${base}${OPTIONS}?cursor=real`,
          results: [contract(6850), contract(6855, { note: { next_url: `${base}${OPTIONS}?cursor=decoy` } })],
        });
      if (cursor === 'decoy') return JSON.stringify({ results: [contract(9999)] });
      return JSON.stringify({ results: [contract(6860)] });
    });
    const snap = await client(a).fetchSnapshot('I:SPX');
    expect(snap.contracts.map((c) => c.strike).sort()).toEqual([6850, 6855, 6860]);
    expect(a.paths).toContain(`${OPTIONS}?cursor=decoy`); // requested ahead, then dropped
    const streamPages = a.paths.filter((p) => !p.includes('limit=1')).length;
    expect(streamPages).toBe(3);
    expect(snap.pages).toBe(1 + 2); // discovery + the two pages the walk used
    expect(snap.partial).toBe(false);
  });

  it('requests nothing past the page cap', async () => {
    const a = await api((cursor, base) => {
      const n = cursor === null ? 1 : Number(cursor);
      return JSON.stringify({ results: [contract(6000 + n)], next_url: `${base}${OPTIONS}?cursor=${n + 1}` });
    });
    const snap = await client(a, 2).fetchSnapshot('I:SPX');
    expect(snap.partialReasons).toEqual(['2026-01-07:page_cap']);
    expect(snap.contracts.map((c) => c.strike)).toEqual([6001, 6002]);
    // Let any stray request arrive before counting.
    await new Promise((r) => setTimeout(r, 100));
    expect(a.paths.filter((p) => !p.includes('limit=1'))).toEqual([
      `${OPTIONS}?expiration_date=2026-01-07&limit=250`,
      `${OPTIONS}?cursor=2`,
    ]);
  });

  it('walks a stream whose guesses are all right, page after page', async () => {
    const a = await api((cursor, base) => {
      const n = cursor === null ? 1 : Number(cursor);
      const next = n < 6 ? { next_url: `${base}${OPTIONS}?cursor=${n + 1}` } : {};
      return JSON.stringify({ results: [contract(6000 + n)], ...next });
    });
    const snap = await client(a).fetchSnapshot('I:SPX');
    expect(snap.contracts.map((c) => c.strike)).toEqual([6001, 6002, 6003, 6004, 6005, 6006]);
    expect(snap.pages).toBe(1 + 6);
    expect(a.paths.filter((p) => !p.includes('limit=1'))).toHaveLength(6);
  });
});

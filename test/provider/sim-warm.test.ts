/**
 * The benchmark's warm-up (bench/sim-warm.ts) over the real local API: it requests only the first page of
 * each recorded stream, and afterwards walking the streams builds no chain (the timed fetch finds the
 * API's chains of the moment built, whichever fetch runs first).
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { warmChains } from '../../bench/sim-warm.js';
import type { RecordedStreams } from '../../bench/fetch-floor.js';
import { startLocalApi, type LocalApiServer } from '../../src/provider/local-api/server.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';

const NOW = Date.UTC(2026, 0, 7, 15, 0); // Wed 10:00 New York
const KEY = 'warm-test-key';
const headers = { authorization: `Bearer ${KEY}` };

/** A SimMarket that counts the chains it builds (cache misses of its per-tick chain cache). */
class CountingMarket extends SimMarket {
  built = 0;
  private readonly seen = new Set<string>();
  override chain(underlying: string, now: number, expiration?: string): ReturnType<SimMarket['chain']> {
    const key = `${this.generation(now)}|${underlying}|${expiration ?? '*'}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.built++;
    }
    return super.chain(underlying, now, expiration);
  }
}

let api: LocalApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** Walks each symbol's expirations to the end (as recordStreams records them): paths per stream. */
async function record(origin: string, market: SimMarket): Promise<Map<string, RecordedStreams>> {
  const out = new Map<string, RecordedStreams>();
  for (const symbol of ['I:SPX', 'I:NDX']) {
    const streams: RecordedStreams = [];
    for (const exp of market.expirations(symbol, NOW).slice(0, 2)) {
      const stream: string[] = [];
      let path: string | undefined = `/v3/snapshot/options/${symbol}?expiration_date=${exp}&limit=50`;
      while (path !== undefined) {
        stream.push(path);
        const res = await request(origin + path, { headers });
        const body = (await res.body.json()) as { next_url?: string };
        path = body.next_url === undefined ? undefined : body.next_url.slice(origin.length);
      }
      streams.push(stream);
    }
    out.set(symbol, streams);
  }
  return out;
}

describe('warmChains', () => {
  it('requests each stream’s first page once, after which the walks build no chain', async () => {
    const market = new CountingMarket({ clock: () => NOW, contractsPerExpiration: 120 });
    api = await startLocalApi({ dataset: market, apiKey: KEY });
    const streams = await record(api.url, market);
    const pages = [...streams.values()].flat().reduce((n, s) => n + s.length, 0);
    expect(pages).toBeGreaterThan(4); // the streams have more than their first pages

    // A new generation: every chain is to be built again (as at the API's next tick).
    market.configure({ contractsPerExpiration: 100 });
    api.resetStats();
    const built = market.built;
    const sent = await warmChains(streams, { origin: api.url, apiKey: KEY });
    expect(sent).toBe(4);
    expect(api.stats().requests).toBe(4);
    expect(api.stats().pagesServed).toBe(4);
    expect(market.built - built).toBe(4); // one chain per (symbol, expiration) walked

    const afterWarm = market.built;
    for (const stream of [...streams.values()].flat()) {
      const res = await request(api.url + (stream[0] as string), { headers });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    expect(market.built).toBe(afterWarm);
  });
});

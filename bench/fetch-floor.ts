/**
 * @module The fetch floor: the same page requests the worker made (same pages, one stream per
 * expiration, the same concurrency, connections and rate limit) replayed by a bare undici loop that
 * discards the bodies. What the fetch phase cannot beat short of asking for fewer pages.
 *
 * The requests are recorded from a real fetch (each page's URL and the `next_url` it answered with), so
 * the floor walks exactly the worker's streams: a stream's next page is requested when its previous page
 * is complete, as the worker must (the next URL is in the page).
 */
import { Agent, request } from 'undici';
import { mapSettledLimit } from '../src/lib/async.js';
import type { MassiveHttp } from '../src/provider/massive/http.js';
import { RateLimiter } from '../src/provider/massive/rate-limiter.js';

/** One symbol's page streams: each a list of request paths, in order. */
export type RecordedStreams = string[][];

/**
 * Records the chain pages `http` fetches while `run` runs: one list of streams per symbol (streams start
 * at a URL with `expiration_date=`, and follow the `next_url` each page answered with).
 */
export async function recordStreams(
  http: MassiveHttp,
  run: () => Promise<unknown>,
): Promise<Map<string, RecordedStreams>> {
  const next = new Map<string, string | undefined>();
  const starts: string[] = [];
  const original = http.getDecoded.bind(http);
  http.getDecoded = async (url, signal, stats, decode, bodies) => {
    const res = await original(url, signal, stats, decode, bodies);
    const path = http.resolvePath(url);
    const nextUrl = (res as { nextUrl?: unknown }).nextUrl;
    next.set(path, typeof nextUrl === 'string' ? http.resolvePath(nextUrl) : undefined);
    if (/[?&]expiration_date=/.test(path)) starts.push(path);
    return res;
  };
  try {
    await run();
  } finally {
    http.getDecoded = original;
  }
  const bySymbol = new Map<string, RecordedStreams>();
  for (const start of starts) {
    const symbol = /\/v3\/snapshot\/options\/([^?]+)/.exec(start)?.[1] ?? '?';
    const stream: string[] = [];
    for (let p: string | undefined = start; p !== undefined && !stream.includes(p); p = next.get(p))
      stream.push(p);
    const list = bySymbol.get(symbol) ?? [];
    list.push(stream);
    bySymbol.set(symbol, list);
  }
  return bySymbol;
}

export interface FloorOptions {
  origin: string;
  apiKey: string;
  concurrency: number;
  rateLimit: number;
}

/**
 * Replays the recorded streams (every symbol at once, each symbol's streams under the concurrency cap, as
 * the worker runs them) on a fresh agent; resolves with the elapsed ms and the pages fetched.
 */
export async function fetchFloor(
  streams: Map<string, RecordedStreams>,
  o: FloorOptions,
): Promise<{ ms: number; pages: number }> {
  // The same agent and rate limiter settings as MassiveHttp.
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 30_000, pipelining: 1 });
  const limiter = new RateLimiter(o.rateLimit, Math.max(1, Math.min(o.concurrency, o.rateLimit || 1)));
  const headers = { accept: 'application/json', authorization: `Bearer ${o.apiKey}` };
  let pages = 0;
  const t0 = performance.now();
  try {
    await Promise.all(
      [...streams.values()].map((symbolStreams) =>
        mapSettledLimit(symbolStreams, o.concurrency, async (stream) => {
          for (const path of stream) {
            await limiter.acquire();
            const res = await request(o.origin + path, { method: 'GET', headers, dispatcher: agent });
            if (res.statusCode !== 200) throw new Error(`fetch floor: HTTP ${res.statusCode} for ${path}`);
            for await (const chunk of res.body) void chunk; // read to the end, keep nothing
            pages++;
          }
        }).then((settled) => {
          const failed = settled.find((s) => s.status === 'rejected');
          if (failed) throw failed.reason as Error;
        }),
      ),
    );
    return { ms: performance.now() - t0, pages };
  } finally {
    await agent.close();
  }
}

/**
 * @module Puts the local API in the same state before each timed fetch (ours and its floor): the first
 * page of every recorded stream is requested once, on an agent of its own, so the chains of the API's
 * current tick are built before the timer starts.
 *
 * Why: the simulated API builds a tick's chains (every expiration's contracts) on the first request of
 * that tick, ~150–200 ms of its CPU on the first pages of every stream, and caches them for the tick
 * (5 s). Whichever timed fetch came first in a tick paid for it; in the scenario's order (ours, the floor,
 * one stream at a time) that was ours nearly always and the floor nearly never. A remote API serves a
 * snapshot it already holds; neither fetch should carry the build.
 */
import { Agent, request } from 'undici';
import type { RecordedStreams } from './fetch-floor.js';

/** Requests the first page of each stream (bodies discarded); resolves with the number of requests. */
export async function warmChains(
  streams: Map<string, RecordedStreams>,
  o: { origin: string; apiKey: string },
): Promise<number> {
  const agent = new Agent({ connections: 16 });
  const headers = { accept: 'application/json', authorization: `Bearer ${o.apiKey}` };
  try {
    const firsts = [...streams.values()].flatMap((s) => s.flatMap((stream) => stream.slice(0, 1)));
    await Promise.all(
      firsts.map(async (path) => {
        const res = await request(o.origin + path, { method: 'GET', headers, dispatcher: agent });
        for await (const chunk of res.body) void chunk;
      }),
    );
    return firsts.length;
  } finally {
    await agent.close();
  }
}

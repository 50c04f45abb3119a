/** @module Fault knobs of the local API, over real HTTP: queue, rates, switches, latency, admin control. */
import { errors, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSimServer, type SimServer } from '../../src/provider/local-api/run.js';
import type { QueuedFault } from '../../src/provider/local-api/faults.js';

const NOW = Date.UTC(2026, 0, 7, 15, 0);
const KEY = 'fault-key-42';
const bearer = { authorization: `Bearer ${KEY}` };

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function get(
  url: string,
  opts: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Res> {
  const res = await request(url, {
    headers: opts.headers ?? bearer,
    ...(opts.timeoutMs !== undefined ? { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs } : {}),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('fault injection', () => {
  let server: SimServer;
  let chain: string;

  beforeAll(async () => {
    server = await runSimServer({ clock: () => NOW, seed: 21, apiKey: KEY });
    chain = `${server.url}/v3/snapshot/options/I:SPX?expiration_date=2026-01-08&limit=50`;
  });
  afterEach(() => {
    server.resetFaults();
  });
  afterAll(async () => {
    await server.close();
  });

  it('plays a deterministic queue, one entry per request, then serves normally', async () => {
    const queue: QueuedFault[] = ['429', '500', '503', '401', 'malformed'];
    server.setFaults({ queue, retryAfterSec: 7 });
    const r429 = await get(chain);
    expect(r429.status).toBe(429);
    expect(r429.headers['retry-after']).toBe('7');
    expect(JSON.parse(r429.text)).toMatchObject({
      status: 'ERROR',
      error: expect.stringContaining('exceeded') as unknown,
    });
    const r500 = await get(chain);
    expect(r500.status).toBe(500);
    expect(JSON.parse(r500.text)).toMatchObject({
      status: 'ERROR',
      request_id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
    });
    expect((await get(chain)).status).toBe(503);
    const r401 = await get(chain);
    expect(r401.status).toBe(401);
    expect(JSON.parse(r401.text)).toMatchObject({ status: 'ERROR', error: 'Unknown API Key' });
    const malformed = await get(chain);
    expect(malformed.status).toBe(200);
    expect(malformed.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(malformed.text) as unknown).toThrow();
    expect(server.faults().queue).toEqual([]);
    const ok = await get(chain);
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.text) as { results: unknown[] }).results).toHaveLength(50);
  });

  it('truncated: headers and half the body, then the socket dies: the client errors', async () => {
    server.setFaults({ queue: ['truncated'] });
    await expect(get(chain)).rejects.toThrow();
    expect((await get(chain)).status).toBe(200);
    expect(server.stats().faults.truncated).toBeGreaterThanOrEqual(1);
  });

  it('timeout: the request is accepted and never answered within the client timeout', async () => {
    server.setFaults({ queue: ['timeout'] });
    const started = performance.now();
    const err = await get(chain, { timeoutMs: 300 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(errors.HeadersTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect((await get(chain)).status).toBe(200);
  });

  it('a queued fault does not get consumed by a request that fails auth', async () => {
    server.setFaults({ queue: ['500'] });
    expect((await get(chain, { headers: {} })).status).toBe(401);
    expect((await get(chain)).status).toBe(500);
  });

  it('latencyMs delays every chain page', async () => {
    server.setFaults({ latencyMs: 300 });
    const started = performance.now();
    expect((await get(chain)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const fast = performance.now();
    await get(`${server.url}/v3/snapshot/indices?ticker.any_of=I:SPX`);
    expect(performance.now() - fast).toBeLessThan(250);
  });

  it('rates at 1 always fire: errorRate, rate429, malformedRate, truncatedRate, timeoutRate', async () => {
    server.setFaults({ errorRate: 1 });
    expect((await get(chain)).status).toBe(500);
    server.setFaults({ errorRate: 0, rate429: 1, retryAfterSec: 2 });
    const r = await get(chain);
    expect([r.status, r.headers['retry-after']]).toEqual([429, '2']);
    server.setFaults({ rate429: 0, malformedRate: 1 });
    const m = await get(chain);
    expect(m.status).toBe(200);
    expect(() => JSON.parse(m.text) as unknown).toThrow();
    server.setFaults({ malformedRate: 0, truncatedRate: 1 });
    await expect(get(chain)).rejects.toThrow();
    server.setFaults({ truncatedRate: 0, timeoutRate: 1 });
    await expect(get(chain, { timeoutMs: 200 })).rejects.toBeInstanceOf(errors.HeadersTimeoutError);
  });

  it('random rates are reproducible from the seed', async () => {
    const statuses = async (s: SimServer): Promise<number[]> => {
      s.setFaults({ errorRate: 0.3, rate429: 0.2 });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await get(`${s.url}/v3/snapshot/options/I:SPX?limit=1`)).status);
      return out;
    };
    const a = await runSimServer({ clock: () => NOW, seed: 77, apiKey: KEY });
    const b = await runSimServer({ clock: () => NOW, seed: 77, apiKey: KEY });
    try {
      const sa = await statuses(a);
      expect(sa).toEqual(await statuses(b));
      expect(new Set(sa)).toEqual(new Set([200, 429, 500]));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('nextUrlLoop: a page fetched by cursor points back at the same cursor', async () => {
    server.setFaults({ nextUrlLoop: true });
    const first = JSON.parse((await get(chain)).text) as { next_url: string };
    const second = JSON.parse((await get(first.next_url)).text) as { next_url: string };
    const third = JSON.parse((await get(second.next_url)).text) as { next_url: string };
    expect(second.next_url).toBe(first.next_url);
    expect(third.next_url).toBe(first.next_url);
    // Even a one-page result keeps pointing somewhere.
    const small = JSON.parse((await get(`${chain.replace('limit=50', 'limit=250')}`)).text) as {
      next_url?: string;
    };
    expect(small.next_url).toBeDefined();
  });

  it('unauthorized and down switch every API request', async () => {
    server.setFaults({ unauthorized: true });
    const u = await get(chain);
    expect(u.status).toBe(401);
    expect(JSON.parse(u.text)).toMatchObject({ status: 'ERROR', error: 'Unknown API Key' });
    expect((await get(`${server.url}/v3/snapshot/indices?ticker=I:SPX`)).status).toBe(401);
    server.setFaults({ unauthorized: false, down: true });
    const d = await get(chain);
    expect(d.status).toBe(503);
    expect(JSON.parse(d.text)).toMatchObject({ status: 'ERROR' });
    // Admin stays reachable while the API is down.
    expect((await get(`${server.url}/__admin/health`, { headers: {} })).status).toBe(200);
  });

  it('is controllable out of process via POST /__admin/faults', async () => {
    const post = async (body: unknown) => {
      const r = await request(`${server.url}/__admin/faults`, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
    };
    const set = await post({ queue: ['503', '429'], latencyMs: 5 });
    expect(set).toMatchObject({ status: 200, body: { queue: ['503', '429'], latencyMs: 5 } });
    expect((await get(chain)).status).toBe(503);
    const reset = await post({ reset: true });
    expect(reset.body).toMatchObject({ queue: [], latencyMs: 0, down: false });
    expect((await get(chain)).status).toBe(200);
    expect((await post({ errorRate: 2 })).status).toBe(400);
    expect((await post({ queue: ['418'] })).status).toBe(400);
    expect((await post({ typo: true })).status).toBe(400);
    const bad = await request(`${server.url}/__admin/faults`, { method: 'POST', body: '{not json' });
    expect(bad.statusCode).toBe(400);
    await bad.body.text();
  });

  it('close() returns promptly even with a request held open by a timeout fault', async () => {
    const s = await runSimServer({ clock: () => NOW, faults: { queue: ['timeout'] } });
    const pending = get(`${s.url}/v3/snapshot/options/I:SPX?limit=1`).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await s.close();
    await s.close(); // idempotent
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

/**
 * `chain-worker/client` against a real HTTP server and a real Redis: `watchModels` over SSE yields the
 * current model, keeps going through a server stop and restart on the same port (reconnect with
 * Last-Event-ID) and yields the model published meanwhile; over Redis pub/sub it yields each publish;
 * `getModel` reads the stored document both ways. Every document validates against the shipped schema.
 * A 503 while the server restarts is retried; a signal already aborted opens nothing.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { getModel, watchModels, type ModelUpdate } from '../../src/client/index.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { redisTargets } from '../support/redis.js';
import { expectSchema } from '../support/schema.js';
import { waitUntil } from '../support/wait.js';
import type { Harness } from '../support/worker-harness.js';
import { cycleAndBuild, depsOf, stack } from '../serving/support.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

async function nextWithin(it: AsyncIterator<ModelUpdate>, ms: number, what: string): Promise<ModelUpdate> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
    if (r.done) throw new Error(`iteration ended waiting for ${what}`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

describe('chain-worker/client', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  let abort = new AbortController();
  afterEach(async () => {
    abort.abort();
    abort = new AbortController();
    await server?.close();
    await h?.close();
    server = undefined;
    h = undefined;
  });

  it('watchModels over SSE: current model, then through a server restart, the model published meanwhile', async () => {
    h = await stack(single, { build: false, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } });
    await cycleAndBuild(h);
    const opts = { sse: { heartbeatMs: 200, retryMs: 200 } };
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 }, opts);
    const port = Number(new URL(server.url).port);

    const it = watchModels({ url: server.url, symbols: ['SPX'], models: ['gex'], signal: abort.signal })[
      Symbol.asyncIterator
    ]();
    const first = await nextWithin(it, 10_000, 'the current model');
    const stored1 = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as { ts: string };
    expect(first).toMatchObject({ model: 'gex', symbol: 'SPX' });
    expect(first.document).toEqual(stored1);
    expect(first.eventId).toMatch(/^\d+-\d+$/);
    expectSchema(first.document, 'gex-model');

    // The server goes away; a model is published while it is down; it comes back on the same port.
    await server.close();
    server = undefined;
    await new Promise((r) => setTimeout(r, 300));
    await cycleAndBuild(h);
    const stored2 = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as { ts: string };
    expect(stored2.ts).not.toBe(stored1.ts);
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port }, opts);

    const second = await nextWithin(it, 15_000, 'the model published during the outage');
    expect(second.model).toBe('gex');
    expect(second.document).toEqual(stored2);
    expectSchema(second.document, 'gex-model');

    // getModel over HTTP reads the same document.
    expect(await getModel({ url: server.url }, 'gex', 'I:SPX')).toEqual(stored2);
    expect(await getModel({ url: server.url }, 'heatmap', 'SPX')).toEqual(
      JSON.parse((await h.bus.cmd.get(h.keys.model('heatmap', 'SPX'))) as string),
    );
  });

  it('watchModels over SSE: a 503 while the server restarts (shutting down, too many clients) is retried, not fatal', async () => {
    h = await stack(single, { build: false, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } });
    await cycleAndBuild(h);
    const opts = { sse: { heartbeatMs: 200, retryMs: 200 } };
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 }, opts);
    const port = Number(new URL(server.url).port);
    const it = watchModels({ url: server.url, symbols: ['SPX'], models: ['gex'], signal: abort.signal })[
      Symbol.asyncIterator
    ]();
    await nextWithin(it, 10_000, 'the current model');

    // The server stops; while the old process drains (or a proxy stands in) the port answers 503 as
    // the server does when closing or full; a model is published; then the new server listens.
    await server.close();
    server = undefined;
    let refused = 0;
    const stand = createServer((_req, res) => {
      refused++;
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
      res.end(JSON.stringify({ error: 'shutting_down', message: 'the server is shutting down' }));
    });
    await new Promise<void>((r) => stand.listen(port, '127.0.0.1', r));
    await cycleAndBuild(h);
    const stored2 = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as unknown;
    const next = nextWithin(it, 20_000, 'the model published during the restart');
    const failed = next.then(
      () => null,
      (err: unknown) => err as Error,
    );
    await waitUntil(() => refused >= 1, 10_000, 'a reconnect answered 503');
    stand.closeAllConnections();
    await new Promise<void>((r) => stand.close(() => r()));
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port }, opts);
    expect(await failed).toBeNull();
    expect((await next).document).toEqual(stored2);
  });

  it('watchModels with a signal already aborted ends at once and leaves no stream or connection open', async () => {
    h = await stack(single, { build: false, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } });
    await cycleAndBuild(h);
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 });
    const sseClients = async (): Promise<number | undefined> =>
      (await h!.metrics.sseClients.get()).values[0]?.value;
    const stopped = new AbortController();
    stopped.abort();
    const got: ModelUpdate[] = [];
    for await (const u of watchModels({ url: server.url, symbols: ['SPX'], signal: stopped.signal }))
      got.push(u);
    expect(got).toEqual([]);
    // An EventSource left open would have connected by now (and would reconnect for ever).
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await sseClients()).toBe(0);

    // Over Redis: no subscriber left on this prefix's models channel (the server's hub is the one there).
    const subscribers = async (): Promise<number> =>
      ((await h!.bus.conn.call('PUBSUB', 'NUMSUB', h!.keys.modelsChannel)) as [string, number])[1];
    expect(await subscribers()).toBe(1);
    for await (const u of watchModels({
      redis: single.url,
      prefix: h.keys.prefix,
      symbols: ['SPX'],
      signal: stopped.signal,
    }))
      got.push(u);
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]);
    expect(await subscribers()).toBe(1);
  });

  it('watchModels over Redis pub/sub: the current models, then each publish; getModel from Redis', async () => {
    h = await stack(single, { build: false, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } });
    await cycleAndBuild(h);
    const source = { redis: single.url, prefix: h.keys.prefix };
    const it = watchModels({ ...source, symbols: ['I:SPX'], signal: abort.signal })[Symbol.asyncIterator]();
    const initial = [await nextWithin(it, 10_000, 'model 1'), await nextWithin(it, 10_000, 'model 2')];
    expect(initial.map((u) => u.model).sort()).toEqual(['gex', 'heatmap']);
    for (const u of initial) expectSchema(u.document, `${u.model}-model`);

    await cycleAndBuild(h);
    const next = [await nextWithin(it, 10_000, 'publish 1'), await nextWithin(it, 10_000, 'publish 2')];
    for (const u of next) {
      const stored = JSON.parse((await h.bus.cmd.get(h.keys.model(u.model, 'SPX'))) as string) as unknown;
      expect(u.document).toEqual(stored);
    }
    expect(await getModel(source, 'gex', 'SPX')).toEqual(
      JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string),
    );
    expect(await getModel(source, 'gex', 'NDX')).toBeNull();
  });
});

/**
 * `getModel` against servers that accept the connection and never answer (a wedged process, a black-holed
 * proxy): over HTTP and over Redis it fails after `timeoutMs` with a `ModelRequestTimeoutError` naming
 * what it asked and how long it waited, where it used to wait for ever; `watchModels` gives up a stream
 * attempt that gets no answer and retries it. (A server that answers: watch-models.test.ts.)
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MODEL_TIMEOUT_MS,
  ModelRequestTimeoutError,
  getModel,
  watchModels,
} from '../../src/client/index.js';

/** A TCP server that accepts and then says nothing; closed (its sockets destroyed) after the test. */
async function silent(): Promise<{ server: Server; port: number }> {
  const sockets: Socket[] = [];
  const server = createNetServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** Settles within `ms`, or rejects saying it hung. */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** What `getModel` rejects with (null if it resolves), failing the test if it has not settled within 5 s. */
function getModelError(source: Parameters<typeof getModel>[0]): Promise<unknown> {
  return within(
    getModel(source, 'gex', 'SPX').then(
      () => null,
      (e: unknown) => e,
    ),
    5_000,
  );
}

describe('getModel timeout', () => {
  it('a default exists and is sane', () => {
    expect(DEFAULT_MODEL_TIMEOUT_MS).toBe(30_000);
  });

  it('HTTP: a server that accepts and never answers fails after timeoutMs with ModelRequestTimeoutError', async () => {
    const { port } = await silent();
    const t0 = Date.now();
    const err = await getModelError({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(ModelRequestTimeoutError);
    expect((err as ModelRequestTimeoutError).name).toBe('ModelRequestTimeoutError');
    expect((err as ModelRequestTimeoutError).timeoutMs).toBe(300);
    expect((err as Error).message).toBe(
      `GET /api/models/gex/SPX: no complete answer from http://127.0.0.1:${port} within 300 ms`,
    );
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(3_000);
  });

  it('HTTP: headers sent, the body never finished: the same error', async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"model":"gex",');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as { port: number }).port;
    const err = await getModelError({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    expect(err).toBeInstanceOf(ModelRequestTimeoutError);
  });

  it('watchModels over HTTP: a stream that never answers is given up after timeoutMs and retried', async () => {
    const { server, port } = await silent();
    const requests: number[] = [];
    const closed: number[] = [];
    const t0 = Date.now();
    server.on('connection', (s: Socket) => {
      s.on('data', (d: Buffer) => {
        if (d.toString().startsWith('GET /events')) requests.push(Date.now() - t0);
      });
      s.on('close', () => closed.push(Date.now() - t0));
    });
    const stop = new AbortController();
    closers.push(() => Promise.resolve(stop.abort()));
    const it = watchModels({ url: `http://127.0.0.1:${port}`, timeoutMs: 300, signal: stop.signal })[
      Symbol.asyncIterator
    ]();
    const pending = it.next();
    // The first attempt at once; given up at 300 ms (its connection closed); a second after EventSource's
    // 3 s retry.
    const deadline = Date.now() + 8_000;
    while (requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(requests.length).toBe(2);
    expect(closed[0]).toBeGreaterThanOrEqual(290);
    expect(closed[0]).toBeLessThan(requests[1] as number);
    stop.abort();
    expect(await within(pending, 2_000)).toEqual({ done: true, value: undefined });
  });

  it('Redis: a server that accepts and never answers fails after timeoutMs with ModelRequestTimeoutError', async () => {
    const { port } = await silent();
    const t0 = Date.now();
    const err = await getModelError({ redis: `redis://127.0.0.1:${port}`, timeoutMs: 300 });
    expect(err).toBeInstanceOf(ModelRequestTimeoutError);
    expect((err as Error).message).toBe(
      `GET massive:models:gex:SPX: no answer from redis://127.0.0.1:${port} within 300 ms`,
    );
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});

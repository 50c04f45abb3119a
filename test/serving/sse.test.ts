/**
 * The SSE stream over a real listening socket: framing, current models on connect and on resume,
 * live notes from `massive:models`, the heartbeat, and a slow client dropped while another keeps going.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { formatComment, formatSse, noteOfDocument, scanHeader } from '../../src/serving/sse.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { SseClient, cycleAndBuild, depsOf, eventually, splitBlocks, stack, toEvent } from './support.js';
import { expectSchema } from '../support/schema.js';

const target = redisTargets()[0] as RedisTarget;

describe('SSE framing (pure)', () => {
  it('splits data on every line break, keeps event and id on one line, ends with a blank line', () => {
    expect(formatSse({ event: 'model', id: '1-2', data: '{"a":1}' })).toBe(
      'event: model\nid: 1-2\ndata: {"a":1}\n\n',
    );
    expect(formatSse({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(formatSse({ data: '' })).toBe('data: \n\n');
    expect(formatSse({ data: 'x\n' })).toBe('data: x\ndata: \n\n');
    expect(formatSse({ event: 'mo\r\ndel', id: '1\n2\r3\u00004' })).toBe('event: model\nid: 1234\n\n');
    expect(formatSse({ retry: 2500.7, event: 'hello', data: '{}' })).toBe(
      'event: hello\nretry: 2500\ndata: {}\n\n',
    );
    expect(formatComment('ping')).toBe(': ping\n\n');
    expect(formatComment('a\nb')).toBe(': a\n: b\n\n');
    // what a browser would read back
    const block = splitBlocks(formatSse({ event: 'model', id: '7-1', data: 'line 1\nline 2' }))
      .blocks[0] as string[];
    expect(toEvent(block)).toEqual({ event: 'model', id: '7-1', data: 'line 1\nline 2' });
  });

  it('reads a model header from its first bytes', () => {
    const doc = JSON.stringify({
      version: 1,
      model: 'heatmap',
      symbol: 'SPX',
      epoch_id: 'SPX:1:ab"c',
      ts: '2026-01-07T15:00:01.500Z',
      as_of: '2026-01-07T15:00:00.000Z',
      spot: 6900.5,
      stale: true,
      contract_count: 7,
      provider: 'sim',
      partial: true,
      missing_expirations: ['2026-01-09', 'x"y'],
      widths: [5, 10],
      expirations: {},
    });
    expect(scanHeader(doc)).toEqual({
      version: 1,
      model: 'heatmap',
      symbol: 'SPX',
      epoch_id: 'SPX:1:ab"c',
      ts: '2026-01-07T15:00:01.500Z',
      as_of: '2026-01-07T15:00:00.000Z',
      spot: 6900.5,
      stale: true,
      contract_count: 7,
      provider: 'sim',
      partial: true,
      missing_expirations: ['2026-01-09', 'x"y'],
    });
    expect(noteOfDocument('heatmap', 'SPX', doc)).toEqual({
      model: 'heatmap',
      symbol: 'SPX',
      epoch_id: 'SPX:1:ab"c',
      ts: '2026-01-07T15:00:01.500Z',
      as_of: '2026-01-07T15:00:00.000Z',
      stale: true,
      age_sec: null,
      built_stale: true,
      spot: 6900.5,
      contract_count: 7,
      partial: true,
      missing_expirations: ['2026-01-09', 'x"y'],
      live_source: null,
      last_tick_ts: null,
      url: '/api/models/heatmap/SPX',
    });
    // The `live` header after the flat fields: its source and last tick are read from the first bytes too.
    const header = {
      version: 1,
      model: 'gex',
      symbol: 'SPX',
      epoch_id: 'E',
      ts: 'T',
      stale: false,
      partial: false,
      missing_expirations: [],
    };
    const tick = '2026-01-07T15:00:01.250Z';
    const live = { source: 'stream', spot_source: 'stream', last_tick_ts: tick, streamed_contracts: 9 };
    for (const [doc, want] of [
      [
        { ...header, live, by_strike: [] },
        { live_source: 'stream', last_tick_ts: tick },
      ],
      [
        { ...header, live: { ...live, source: 'snapshot', last_tick_ts: null }, by_strike: [] },
        { live_source: 'snapshot', last_tick_ts: null },
      ],
      [
        { ...header, by_strike: [] },
        { live_source: null, last_tick_ts: null },
      ],
      // header not first (full parse)
      [
        { by_strike: [], ...header, live },
        { live_source: 'stream', last_tick_ts: tick },
      ],
    ] as const)
      expect(noteOfDocument('gex', 'SPX', JSON.stringify(doc))).toMatchObject(want);
    // A model from before `partial` existed: the note says it does not know.
    expect(noteOfDocument('gex', 'SPX', JSON.stringify({ epoch_id: 'E', stale: false }))).toMatchObject({
      partial: null,
      missing_expirations: null,
    });
    // header not first: falls back to a full parse
    expect(
      noteOfDocument('gex', 'SPX', JSON.stringify({ by_strike: [], epoch_id: 'E', ts: null, stale: false })),
    ).toMatchObject({
      epoch_id: 'E',
      stale: false,
    });
    expect(noteOfDocument('gex', 'SPX', 'not json')).toBeNull();
  });
});

describe('SSE over a socket (single Redis)', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  const clients: SseClient[] = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close();
    server = undefined;
    await h?.close();
    h = undefined;
  });

  async function open(path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = await SseClient.open(`${(server as HttpServer).url}${path}`, headers);
    clients.push(c);
    return c;
  }

  it('frames events, sends current models first, then live notes; resume with Last-Event-ID; heartbeat', async () => {
    h = await stack(target);
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 }, { sse: { heartbeatMs: 150 } });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const epoch = await h.bus.cmd.hget(h.keys.epochActive, 'SPX');

    const c = await open('/events?symbols=SPX&models=gex,heatmap');
    expect(c.status).toBe(200);
    expect(c.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.res.headers['cache-control']).toContain('no-cache');
    await c.waitFor(() => c.models().length >= 2, 10_000, 'the current models');

    // hello first, then one event per subscribed model, each with the current epoch
    expect(c.events[0]).toMatchObject({ event: 'hello', retry: 3000 });
    expect(JSON.parse((c.events[0] as { data: string }).data)).toMatchObject({
      symbols: ['SPX'],
      models: ['gex', 'heatmap'],
      resumed_from: null,
    });
    expectSchema((c.events[0] as { data: string }).data, 'sse-hello');
    const initial = c.models();
    for (const m of initial) expectSchema(m, 'sse-model');
    expect(initial.map((m) => `${m.model}:${m.symbol}`).sort()).toEqual(['gex:SPX', 'heatmap:SPX']);
    for (const m of initial) {
      expect(m.epoch_id).toBe(epoch);
      expect(m.url).toBe(`/api/models/${m.model}/SPX`);
      const doc = JSON.parse((await h.bus.cmd.get(h.keys.model(m.model as 'gex', 'SPX'))) as string) as {
        ts: string;
        stale: boolean;
      };
      expect(m.ts).toBe(doc.ts);
      expect(m.stale).toBe(doc.stale);
    }

    // framing: every block ends with a blank line; only known fields. Ids are stream ids: `hello` carries
    // the resume point (the newest `massive:events` entry when it connected); model notes carry none.
    const { blocks } = splitBlocks(c.raw);
    for (const b of blocks)
      for (const line of b) expect(line).toMatch(/^(event: [a-z_]+|id: \d+-\d+|retry: \d+|data: .*|: ping)$/);
    const newest = (await h.bus.conn.xrevrange(h.keys.events, '+', '-', 'COUNT', 1))[0]?.[0];
    expect(newest).toBeDefined();
    expect(c.events[0]?.id).toBe(newest);
    expect(JSON.parse((c.events[0] as { data: string }).data)).toMatchObject({ events_from: newest });
    expect(c.events.filter((e) => e.event === 'model').every((e) => e.id === undefined)).toBe(true);

    // heartbeat comment with the injected period
    await c.waitFor(() => c.comments.includes(': ping'), 3_000, 'a heartbeat');
    expect(c.raw).toContain('\n: ping\n\n');

    // a NDX-only client must not see SPX
    const ndx = await open('/events?symbols=NDX&models=gex');
    await ndx.waitFor(() => ndx.models().length >= 1, 10_000, 'NDX model');

    // a new cycle + build publishes on massive:models: the note reaches the client
    (h.market as SimMarket).adjust({ contractsPerExpiration: 120 });
    const before = c.models().length;
    await cycleAndBuild(h, ['I:SPX']);
    await c.waitFor(() => c.models().length >= before + 2, 10_000, 'live notes');
    const live = c.models().slice(before);
    const newEpoch = await h.bus.cmd.hget(h.keys.epochActive, 'SPX');
    expect(live.map((m) => m.model).sort()).toEqual(['gex', 'heatmap']);
    for (const m of live) {
      expect(m.symbol).toBe('SPX');
      expect(m.epoch_id).toBe(newEpoch);
      const doc = JSON.parse((await h.bus.cmd.get(h.keys.model(m.model as 'gex', 'SPX'))) as string) as {
        ts: string;
      };
      expect(m.ts).toBe(doc.ts);
    }
    expect(ndx.models().every((m) => m.symbol === 'NDX' && m.model === 'gex')).toBe(true);

    // The new geometry promoted an epoch: its event reaches the SPX client live, with its stream id.
    await c.waitFor(() => c.events.some((e) => e.event === 'epoch_promoted'), 10_000, 'epoch_promoted');
    const promoted = c.events.find((e) => e.event === 'epoch_promoted');
    expect(JSON.parse(promoted?.data ?? '{}')).toMatchObject({ symbol: 'SPX', epoch_id: newEpoch });
    expect(ndx.events.some((e) => e.event === 'epoch_promoted')).toBe(false);

    // resume: Last-Event-ID (the last id the browser saw: a stream id) gets the current models again
    // (models are state, not a log) and no event it already had.
    const lastId = [...c.events].reverse().find((e) => e.id !== undefined)?.id as string;
    expect(lastId).toBe(promoted?.id);
    c.close();
    const resumed = await open('/events?symbols=SPX', { 'last-event-id': lastId });
    await resumed.waitFor(() => resumed.models().length >= 2, 10_000, 'models on resume');
    expect(JSON.parse((resumed.events[0] as { data: string }).data)).toMatchObject({
      resumed_from: lastId,
      events_from: lastId,
    });
    expect(resumed.events[0]?.id).toBe(lastId);
    expect(resumed.models().map((m) => m.epoch_id)).toEqual([newEpoch, newEpoch]);
    expect(resumed.events.some((e) => e.event === 'epoch_promoted')).toBe(false);

    // the gauge follows connects and disconnects
    await eventually(
      async () => (await h!.metrics.sseClients.get()).values[0]?.value === 2,
      5_000,
      'sse_clients = 2',
    );
  });

  it('a client that stops reading is disconnected and counted; another client keeps receiving', async () => {
    h = await stack(target);
    const cap = 256 * 1024;
    server = await startHttpServer(
      depsOf(h),
      { host: '127.0.0.1', port: 0 },
      { sse: { heartbeatMs: 60_000, maxBufferedBytes: cap } },
    );
    const { port } = new URL(server.url);

    // The slow client: a raw socket that sends the request and never reads.
    const slow = connect({ host: '127.0.0.1', port: Number(port) });
    sockets.push(slow);
    await new Promise<void>((resolve, reject) => {
      slow.once('connect', resolve);
      slow.once('error', reject);
    });
    let slowBytes = 0;
    let slowClosed = false;
    slow.on('data', (b: Buffer) => {
      slowBytes += b.length;
      slow.pause();
    });
    slow.on('close', () => {
      slowClosed = true;
    });
    slow.on('error', () => undefined);
    slow.write(
      'GET /events?symbols=SPX&models=gex HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n',
    );

    const fast = await open('/events?symbols=SPX&models=gex');
    await fast.waitFor(() => fast.models().length >= 1, 10_000, 'initial model');
    await eventually(() => slowBytes > 0, 5_000, 'slow client connected');
    await eventually(
      async () => (await h!.metrics.sseClients.get()).values[0]?.value === 2,
      5_000,
      'two clients',
    );

    // Big notes fill the slow client's buffers quickly: a stored model whose epoch id is 32 KB long.
    const publisher = h.bus.cmd;
    const key = h.keys.model('gex', 'SPX');
    const bigEpoch = `SPX:big:${'x'.repeat(32 * 1024)}`;
    await publisher.set(
      key,
      JSON.stringify({
        version: 1,
        model: 'gex',
        symbol: 'SPX',
        epoch_id: bigEpoch,
        ts: new Date().toISOString(),
        stale: false,
      }),
    );
    const msg = JSON.stringify({ model: 'gex', symbol: 'SPX', epoch_id: bigEpoch, ts: Date.now(), key });
    const dropped = async (): Promise<number> => (await h!.metrics.sseDropped.get()).values[0]?.value ?? 0;
    const deadline = Date.now() + 30_000;
    let sent = 0;
    while ((await dropped()) === 0) {
      if (Date.now() > deadline) throw new Error(`slow client not dropped after ${sent} messages`);
      await Promise.all(Array.from({ length: 20 }, () => publisher.publish(h!.keys.modelsChannel, msg)));
      sent += 20;
      // let the fast client keep up
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await dropped()).toBe(1);
    // Read what the kernel still held: the stream then ends (the server closed it).
    const bytesAtDrop = slowBytes;
    slow.removeAllListeners('data');
    slow.on('data', (b: Buffer) => {
      slowBytes += b.length;
    });
    slow.resume();
    await eventually(() => slowClosed, 5_000, 'slow socket closed by the server');
    // It was dropped for its buffer, long before it could have read everything that was published.
    expect(bytesAtDrop).toBeLessThan(sent * bigEpoch.length);
    expect(slowBytes).toBeLessThan(sent * bigEpoch.length);
    await eventually(
      async () => (await h!.metrics.sseClients.get()).values[0]?.value === 1,
      5_000,
      'one client left',
    );

    // The fast client still gets what comes next.
    await publisher.set(
      key,
      JSON.stringify({
        version: 1,
        model: 'gex',
        symbol: 'SPX',
        epoch_id: 'SPX:final',
        ts: new Date().toISOString(),
        stale: false,
      }),
    );
    await publisher.publish(
      h.keys.modelsChannel,
      JSON.stringify({ model: 'gex', symbol: 'SPX', epoch_id: 'SPX:final', ts: Date.now(), key }),
    );
    await fast.waitFor(() => fast.models().some((m) => m.epoch_id === 'SPX:final'), 15_000, 'the final note');
    expect(fast.ended).toBe(false);
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^chain_worker_sse_dropped_total 1$/m);
    expect(metrics).toMatch(/^chain_worker_sse_clients 1$/m);
  }, 60_000);

  it('ignores malformed channel messages and closes streams on shutdown', async () => {
    h = await stack(target);
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 });
    const c = await open('/events');
    await c.waitFor(() => c.models().length >= 4, 10_000, 'four current models');
    expect(new Set(c.models().map((m) => `${m.model}:${m.symbol}`))).toEqual(
      new Set(['gex:SPX', 'heatmap:SPX', 'gex:NDX', 'heatmap:NDX']),
    );
    for (const bad of [
      'not json',
      '{}',
      '{"model":"nope","symbol":"SPX","epoch_id":"x"}',
      '{"model":"gex","symbol":5}',
    ]) {
      await h.bus.cmd.publish(h.keys.modelsChannel, bad);
    }
    const count = c.models().length;
    await h.bus.cmd.publish(
      h.keys.modelsChannel,
      JSON.stringify({ model: 'gex', symbol: 'NDX', epoch_id: 'x', ts: Date.now() }),
    );
    await c.waitFor(() => c.models().length === count + 1, 5_000, 'the good message');
    expect(c.models().at(-1)).toMatchObject({ model: 'gex', symbol: 'NDX' });
    const t0 = Date.now();
    await server.close();
    server = undefined;
    await c.waitFor(() => c.ended, 5_000, 'stream end');
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});

/**
 * `massive:events` on the SSE stream over real HTTP: named events whose id is the stream id, the
 * `symbols=` filter (worker-wide events pass), and resuming with `Last-Event-ID` (header or query) while
 * events keep arriving: every event after the id exactly once, in stream order.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EventsOutput } from '../../src/outputs/events/writer.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { openBus, redisTargets, type RedisTarget, type TestBus } from '../support/redis.js';
import { expectSchema } from '../support/schema.js';
import type { Harness } from '../support/worker-harness.js';
import { SseClient, depsOf, stack } from './support.js';

const target = redisTargets()[0] as RedisTarget;
const EVENT_TYPES = new Set(['health_changed', 'shutdown', 'epoch_promoted']);

describe('SSE events (single Redis)', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  const clients: SseClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
    await h?.close();
    h = undefined;
  });

  it('named events with stream ids, filtered by symbol; Last-Event-ID resumes exactly while events keep coming', async () => {
    h = await stack(target, { build: false });
    const hh = h;
    server = await startHttpServer(
      depsOf(h),
      { host: '127.0.0.1', port: 0 },
      { sse: { eventsBlockMs: 300 } },
    );
    const url = server.url;
    const open = async (path: string, headers: Record<string, string> = {}): Promise<SseClient> => {
      const c = await SseClient.open(`${url}${path}`, headers);
      clients.push(c);
      return c;
    };
    const out = new EventsOutput(h.bus, h.keys, h.config, h.logger);
    let n = 0;
    const health = (symbol: string): Promise<string> =>
      out.emit({
        type: 'health_changed',
        symbol,
        epoch_id: null,
        ts: Date.now() / 1000,
        from: `s${++n}`,
        to: 'ok',
      });
    const shutdown = (): Promise<string> =>
      out.emit({
        type: 'shutdown',
        symbol: null,
        epoch_id: null,
        ts: Date.now() / 1000,
        worker: 'w',
        status: 'stopped',
        reason: 'signal SIGTERM',
        symbols: [],
      });
    /** What an SPX client must get after `after`: SPX and worker-wide events, in stream order. */
    const expectedAfter = async (after: string): Promise<string[]> =>
      (await hh.bus.conn.xrange(hh.keys.events, `(${after}`, '+'))
        .filter(([, f]) => {
          const e = JSON.parse(f[1] as string) as { symbol: string | null };
          return e.symbol === null || e.symbol === 'SPX';
        })
        .map(([id]) => id);
    const streamEvents = (c: SseClient): { event: string; id: string | undefined; data: string }[] =>
      c.events.filter((e) => EVENT_TYPES.has(e.event));

    // A new client starts at the newest entry (hello carries it): it does not replay older events.
    const a = await open('/events?symbols=SPX&models=gex');
    await a.waitFor(() => a.events.length >= 1, 10_000, 'hello');
    const start = a.events[0]?.id as string;
    expect(start).toMatch(/^\d+-\d+$/);
    for (let i = 0; i < 3; i++) await health('SPX');
    await health('NDX');
    await shutdown();
    await health('SPX');
    const want1 = await expectedAfter(start);
    expect(want1).toHaveLength(5);
    await a.waitFor(() => streamEvents(a).length >= 5, 10_000, 'live events');
    expect(streamEvents(a).map((e) => e.id)).toEqual(want1);
    expect(streamEvents(a).map((e) => e.event)).toEqual([
      'health_changed',
      'health_changed',
      'health_changed',
      'shutdown',
      'health_changed',
    ]);
    for (const e of streamEvents(a)) {
      expectSchema(e.data, 'event');
      const stored = await hh.bus.conn.xrange(hh.keys.events, e.id as string, e.id as string);
      expect(e.data).toBe(stored[0]?.[1][1]);
    }

    // Disconnect; events go on; reconnect with the last id seen while a burst is being written.
    const lastSeen = streamEvents(a).at(-1)?.id as string;
    a.close();
    for (let i = 0; i < 4; i++) await health(i % 2 ? 'SPX' : 'NDX');
    const burst = (async () => {
      for (let i = 0; i < 60; i++) await health(i % 3 ? 'SPX' : 'NDX');
    })();
    const b = await open('/events?symbols=SPX&models=gex', { 'last-event-id': lastSeen });
    await burst;
    const want2 = await expectedAfter(lastSeen);
    expect(want2.length).toBeGreaterThanOrEqual(42);
    await b.waitFor(() => streamEvents(b).length >= want2.length, 15_000, 'the resumed events');
    await new Promise((r) => setTimeout(r, 700)); // nothing more (a repeat) arrives later
    expect(streamEvents(b).map((e) => e.id)).toEqual(want2);
    expect(b.events[0]).toMatchObject({ event: 'hello', id: lastSeen });

    // `?lastEventId=` (an EventSource that cannot set the header) resumes the same way.
    const c = await open(`/events?symbols=SPX&models=gex&lastEventId=${encodeURIComponent(start)}`);
    const want3 = await expectedAfter(start);
    await c.waitFor(() => streamEvents(c).length >= want3.length, 15_000, 'events after ?lastEventId');
    expect(streamEvents(c).map((e) => e.id)).toEqual(want3);

    // A Last-Event-ID that is not a stream id is only echoed: live events from now on.
    const d = await open('/events?symbols=NDX&models=gex', { 'last-event-id': 'not-an-id' });
    await d.waitFor(() => d.events.length >= 1, 10_000, 'hello');
    expect(JSON.parse(d.events[0]?.data ?? '{}')).toMatchObject({ resumed_from: 'not-an-id' });
    const id = await health('NDX');
    await d.waitFor(() => streamEvents(d).length >= 1, 10_000, 'a live NDX event');
    expect(streamEvents(d).map((e) => e.id)).toEqual([id]);
  });
});

describe('SSE events: resuming past what the stream holds', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  const clients: SseClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
    await h?.close();
    h = undefined;
  });
  /** A stack without builds, the HTTP server on it (events polled every 300 ms) and an events writer. */
  const serve = async (): Promise<{ h: Harness; server: HttpServer; out: EventsOutput }> => {
    h = await stack(target, { build: false });
    server = await startHttpServer(
      depsOf(h),
      { host: '127.0.0.1', port: 0 },
      { sse: { eventsBlockMs: 300 } },
    );
    return { h, server, out: new EventsOutput(h.bus, h.keys, h.config, h.logger) };
  };

  it('resumes from the newest entry: live events arrive (an id from a flushed stream, or past 2^64)', async () => {
    const { server: srv, out } = await serve();
    const health = (): Promise<string> =>
      out.emit({
        type: 'health_changed',
        symbol: 'SPX',
        epoch_id: null,
        ts: Date.now() / 1000,
        from: 'ok',
        to: 'slow',
      });
    let newest = await health();
    // An id a week ahead (a stream that was flushed and refilled, another Redis), and one that is a
    // stream id by its shape but past what Redis accepts (XRANGE answers "Invalid stream ID").
    const ahead = `${Date.now() + 7 * 86_400_000}-0`;
    for (const lastEventId of [ahead, '99999999999999999999-0']) {
      const c = await SseClient.open(`${srv.url}/events?symbols=SPX&models=gex`, {
        'last-event-id': lastEventId,
      });
      clients.push(c);
      await c.waitFor(() => c.events.length >= 1, 10_000, 'hello');
      expect(c.events[0]).toMatchObject({ event: 'hello', id: newest });
      expect(JSON.parse(c.events[0]?.data ?? '{}')).toMatchObject({
        resumed_from: lastEventId,
        events_from: newest,
      });
      const id = await health();
      await c.waitFor(
        () => c.events.some((e) => e.event === 'health_changed'),
        5_000,
        `a live event after Last-Event-ID ${lastEventId}`,
      );
      expect(c.events.filter((e) => e.event === 'health_changed').map((e) => e.id)).toEqual([id]);
      newest = id;
    }
  });

  it('an entry that is not an event does not end the catch-up: every event after the id arrives', async () => {
    const { h: hh, server: srv, out } = await serve();
    const from = await out.emit({
      type: 'health_changed',
      symbol: 'SPX',
      epoch_id: null,
      ts: Date.now() / 1000,
      from: 'ok',
      to: 'slow',
    });
    // Another writer's entry (no JSON payload) in the first catch-up page, then 600 events: more than
    // one page (500) of entries.
    await hh.bus.conn.xadd(hh.keys.events, '*', 'payload', 'not json');
    const pipe = hh.bus.conn.pipeline();
    for (let i = 0; i < 600; i++)
      pipe.xadd(
        hh.keys.events,
        '*',
        'payload',
        JSON.stringify({
          type: 'health_changed',
          symbol: 'SPX',
          epoch_id: null,
          ts: Date.now() / 1000,
          from: `s${i}`,
          to: 'ok',
        }),
      );
    const ids = ((await pipe.exec()) ?? []).map(([, id]) => id as string);
    expect(ids).toHaveLength(600);
    const c = await SseClient.open(`${srv.url}/events?symbols=SPX&models=gex`, { 'last-event-id': from });
    clients.push(c);
    const got = (): (string | undefined)[] =>
      c.events.filter((e) => e.event === 'health_changed').map((e) => e.id);
    await c.waitFor(() => got().length >= 600, 10_000, 'the 600 events after the id');
    await new Promise((r) => setTimeout(r, 500)); // nothing more (a repeat) arrives later
    expect(got()).toEqual(ids);
  });
});

describe('SSE events: a catch-up that fails', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  let limited: TestBus | undefined;
  const user = `cwtest-${randomBytes(4).toString('hex')}`;
  const clients: SseClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
    await limited?.close();
    limited = undefined;
    await h?.bus.conn.call('ACL', 'DELUSER', user);
    await h?.close();
    h = undefined;
  });

  it('ends the stream, so the client reconnects from its last id: the events it could not read are not skipped', async () => {
    h = await stack(target, { build: false });
    // The server's Redis user may not XRANGE (the catch-up's read): the catch-up fails as on a Redis
    // error, while the live reader (XREAD) works.
    await h.bus.conn.call('ACL', 'SETUSER', user, 'on', '>cw-test-pw', '~*', '&*', '+@all', '-xrange');
    const url = new URL(target.url);
    url.username = user;
    url.password = 'cw-test-pw';
    limited = await openBus({ ...target, url: url.toString() });
    server = await startHttpServer(
      depsOf(h, { bus: limited }),
      { host: '127.0.0.1', port: 0 },
      { sse: { eventsBlockMs: 300 } },
    );
    const out = new EventsOutput(h.bus, h.keys, h.config, h.logger);
    const health = (): Promise<string> =>
      out.emit({
        type: 'health_changed',
        symbol: 'SPX',
        epoch_id: null,
        ts: Date.now() / 1000,
        from: 'ok',
        to: 'slow',
      });
    const from = await health();
    const missed = [await health(), await health(), await health()];
    const c = await SseClient.open(`${server.url}/events?symbols=SPX&models=gex`, { 'last-event-id': from });
    clients.push(c);
    await c.waitFor(() => c.events.length >= 1, 10_000, 'hello');
    expect(c.events[0]).toMatchObject({ event: 'hello', id: from });
    // Not left open past the events it could not send: a live event must not come before them.
    const live = await health();
    await c.waitFor(
      () => c.ended || c.events.some((e) => e.event === 'health_changed'),
      5_000,
      'the stream to end',
    );
    expect(c.events.filter((e) => e.event === 'health_changed').map((e) => e.id)).toEqual([]);
    expect(c.ended).toBe(true);

    // Redis answers again; the client reconnects with the last id it got (hello's): every event once.
    await h.bus.conn.call('ACL', 'SETUSER', user, '+xrange');
    const again = await SseClient.open(`${server.url}/events?symbols=SPX&models=gex`, {
      'last-event-id': from,
    });
    clients.push(again);
    await again.waitFor(
      () => again.events.filter((e) => e.event === 'health_changed').length >= 4,
      10_000,
      'the events after the id',
    );
    expect(again.events.filter((e) => e.event === 'health_changed').map((e) => e.id)).toEqual([
      ...missed,
      live,
    ]);
  });
});

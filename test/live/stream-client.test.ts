import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createLogger } from '../../src/lib/logger.js';
import { SequenceTracker } from '../../src/live/sequence.js';
import { SimStreamSource } from '../../src/provider/local-api/ws-feed.js';
import { startStreamServer, type StreamServer } from '../../src/provider/local-api/ws-server.js';
import {
  backoffDelay,
  MassiveStreamClient,
  StreamConnection,
} from '../../src/provider/massive/stream-client.js';
import type { QuoteEvent, StreamEvent } from '../../src/provider/massive/stream-protocol.js';
import { formatOptionTicker } from '../../src/provider/massive/ticker.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import { waitUntil } from '../support/wait.js';

const KEY = 'stream-test-key-3f9a';
// Far enough out that the contracts never settle during the test.
const EXP = '2031-06-20';
const tickers = [6800, 6850, 6900].flatMap((k) =>
  (['C', 'P'] as const).map((type) => formatOptionTicker({ root: 'SPXW', expiration: EXP, type, strike: k })),
);

function capture(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), lines };
}

let server: StreamServer | undefined;
let client: MassiveStreamClient | undefined;
let conn: StreamConnection | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  conn?.close();
  conn = undefined;
  await server?.close();
  server = undefined;
});

async function setup(opts: { silenceMs?: number; rate?: number } = {}) {
  const market = new SimMarket({ seed: 7 });
  server = await startStreamServer({
    source: new SimStreamSource(market),
    indices: ['I:SPX', 'I:NDX'],
    apiKey: KEY,
    faults: { ratePerSec: opts.rate ?? 600 },
  });
  const { logger, lines } = capture();
  const events: StreamEvent[] = [];
  const fatal: string[] = [];
  client = new MassiveStreamClient({
    baseUrl: server.url,
    apiKey: KEY,
    logger,
    onEvents: (_feed, evs) => events.push(...evs),
    onFatal: (feed, reason) => fatal.push(`${feed}:${reason}`),
    silenceMs: opts.silenceMs ?? 5_000,
    backoffBaseMs: 20,
    backoffMaxMs: 100,
  });
  client.options.setSubscriptions(tickers.map((t) => `Q.${t}`));
  client.indices.setSubscriptions(['V.I:SPX']);
  client.start();
  return { server, client, events, fatal, lines, market };
}

const quotes = (events: StreamEvent[]): QuoteEvent[] => events.filter((e): e is QuoteEvent => e.ev === 'Q');

describe('stream client against the local stream server', () => {
  it('connects, authenticates, subscribes; quotes follow the simulated spot', async () => {
    const { server, events, market } = await setup();
    await waitUntil(() => quotes(events).length >= 60 && events.some((e) => e.ev === 'V'), 5000, 'events');
    expect(server.subscriptions().map((s) => s.channels)).toEqual(
      expect.arrayContaining([[...tickers.map((t) => `Q.${t}`)].sort(), ['V.I:SPX']]),
    );
    expect(new Set(quotes(events).map((q) => q.sym))).toEqual(new Set(tickers));
    for (const q of quotes(events)) expect(q.ap).toBeGreaterThan(q.bp);
    const v = events.find((e) => e.ev === 'V');
    expect(v?.ev === 'V' && v.val).toBe(market.liveSpot('I:SPX', v?.ev === 'V' ? v.t : 0));
    // At a tick start the streamed spot is the REST snapshot's spot.
    const tickStart = market.tickOf(Date.now()) * market.tickMs;
    expect(market.liveSpot('I:SPX', tickStart)).toBe(market.indexValue('I:SPX', tickStart));
  });

  it('reconnects and re-subscribes after a dropped connection', async () => {
    const { server, client, events } = await setup();
    await waitUntil(() => quotes(events).length > 10, 5000, 'first quotes');
    server.drop();
    events.length = 0;
    await waitUntil(
      () => server.stats().authSuccess >= 4 && quotes(events).length > 10,
      5000,
      'resubscribed',
    );
    expect(client.options.stats.reconnects).toBe(1);
    expect(client.indices.stats.reconnects).toBe(1);
    const opts = server.subscriptions().find((s) => s.feed === 'options');
    expect(opts?.channels).toEqual(tickers.map((t) => `Q.${t}`).sort());
  });

  it('a subscription change on a live session sends only the difference', async () => {
    const { server, client, events } = await setup();
    await waitUntil(() => quotes(events).length > 0, 5000, 'quotes');
    const before = server.stats().subscribeMessages;
    client.options.setSubscriptions([...tickers.slice(1), 'O:SPXW310620C07000000'].map((t) => `Q.${t}`));
    await waitUntil(
      () =>
        server
          .subscriptions()
          .find((s) => s.feed === 'options')
          ?.channels.includes('Q.O:SPXW310620C07000000'),
      5000,
      'new channel',
    );
    const s = server.stats();
    expect(s.subscribeMessages - before).toBe(1);
    expect(s.unsubscribeMessages).toBe(1);
    expect(server.subscriptions().find((x) => x.feed === 'options')?.channels).not.toContain(
      `Q.${tickers[0]}`,
    );
  });

  it('detects a silent connection and reconnects', async () => {
    const { server, client, events } = await setup({ silenceMs: 300 });
    await waitUntil(() => quotes(events).length > 0, 5000, 'quotes');
    server.setFaults({ silent: true });
    await waitUntil(() => client.options.stats.silences >= 1, 5000, 'silence detected');
    server.setFaults({ silent: false });
    events.length = 0;
    await waitUntil(() => quotes(events).length > 0 && client.options.state === 'live', 5000, 'live again');
    expect(client.options.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('auth_failed is fatal for streaming: reported once, never retried, and the key is never logged', async () => {
    const market = new SimMarket({ seed: 7 });
    server = await startStreamServer({
      source: new SimStreamSource(market),
      indices: ['I:SPX'],
      apiKey: 'other',
    });
    const { logger, lines } = capture();
    const fatal: string[] = [];
    client = new MassiveStreamClient({
      baseUrl: server.url,
      apiKey: KEY,
      logger,
      onEvents: () => undefined,
      onFatal: (feed, reason) => fatal.push(`${feed}:${reason}`),
      backoffBaseMs: 10,
    });
    client.start();
    await waitUntil(() => fatal.length === 2, 5000, 'both feeds failed');
    await new Promise((r) => setTimeout(r, 300));
    expect(fatal.sort()).toEqual(['indices:auth_failed', 'options:auth_failed']);
    expect(server.stats().connections).toBe(2);
    expect(client.options.state).toBe('failed');
    const text = lines.join('');
    expect(text).not.toContain(KEY);
    expect(lines.filter((l) => l.includes('stream authentication failed'))).toHaveLength(2);
  });

  it('duplicate and out-of-order sequence numbers are dropped and counted exactly', async () => {
    const { server, events } = await setup({ rate: 2000 });
    server.setFaults({ duplicateRate: 0.2, outOfOrderRate: 0.2 });
    await waitUntil(() => server.stats().outOfOrderSent > 50, 5000, 'faulty quotes');
    server.setFaults({ ratePerSec: 0 });
    // Nothing is sent from here on; every frame already sent is waited for, however loaded the machine.
    const st = server.stats();
    const sent = st.quotesSent + st.duplicatesSent + st.outOfOrderSent;
    await waitUntil(() => quotes(events).length >= sent, 5000, 'every quote sent');
    const seq = new SequenceTracker();
    const kept = new Map<string, number[]>();
    for (const q of quotes(events)) {
      if (seq.check(q.sym, q.q) === 'accept') kept.set(q.sym, [...(kept.get(q.sym) ?? []), q.q]);
    }
    expect(seq.duplicates).toBe(st.duplicatesSent);
    expect(seq.outOfOrder).toBe(st.outOfOrderSent);
    expect(seq.accepted).toBe(st.quotesSent);
    for (const qs of kept.values())
      for (let i = 1; i < qs.length; i++) expect(qs[i]).toBeGreaterThan(qs[i - 1] ?? 0);
  });

  it('a backlog of frames is delivered in order over several turns of the event loop, a few frames a turn', async () => {
    // A server in this process cannot send while the test holds the loop, so this one sends the backlog at
    // once: on the subscription, 12 frames of 1,000 quotes in one go (what a socket holds after a stall
    // at 20,000 quotes/s).
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const sent: QuoteEvent[][] = [];
    let q = 0;
    for (let f = 0; f < 12; f++) {
      sent.push(
        Array.from({ length: 1000 }, (_, i) => ({
          ev: 'Q' as const,
          sym: tickers[i % tickers.length] as string,
          bx: 1,
          ax: 1,
          bp: 10 + i / 1000,
          ap: 10.2 + i / 1000,
          bs: 1,
          as: 1,
          t: 1_900_000_000_000 + f,
          q: ++q,
        })),
      );
    }
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
      ws.on('message', (m: Buffer) => {
        const msg = JSON.parse(m.toString()) as { action: string };
        if (msg.action === 'auth')
          ws.send(JSON.stringify([{ ev: 'status', status: 'auth_success', message: 'authenticated' }]));
        else if (msg.action === 'subscribe') for (const frame of sent) ws.send(JSON.stringify(frame));
      });
    });
    const { port } = wss.address() as { port: number };
    // A turn counter: one setImmediate per turn of the loop, the phase the client's frame queue drains in.
    let turn = 0;
    let spinning = true;
    const spin = (): void => {
      turn++;
      if (spinning) setImmediate(spin);
    };
    spin();
    const calls: { turn: number; events: StreamEvent[] }[] = [];
    try {
      client = new MassiveStreamClient({
        baseUrl: `ws://127.0.0.1:${port}`,
        apiKey: KEY,
        logger: capture().logger,
        // 2 ms of work per frame: with a 3 ms budget, at most two frames are handled in one turn.
        onEvents: (feed, evs) => {
          if (feed !== 'options') return;
          calls.push({ turn, events: evs });
          const until = performance.now() + 2;
          while (performance.now() < until);
        },
      });
      client.options.setSubscriptions(tickers.map((t) => `Q.${t}`));
      client.start();
      await waitUntil(() => calls.length === 12, 10_000, 'the backlog delivered');
    } finally {
      spinning = false;
      client?.close();
      await new Promise((r) => wss.close(r));
    }
    const perTurn = new Map<number, number>();
    for (const c of calls) perTurn.set(c.turn, (perTurn.get(c.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
    expect(perTurn.size).toBeGreaterThanOrEqual(6);
    // Every quote, once, in the order sent.
    expect(calls.map((c) => c.events)).toEqual(sent);
  });

  it("a dropped socket's queued frames are all delivered before the next session goes live", async () => {
    // The first session sends 30 frames at once and closes; the client takes 4 ms over each, so they are
    // still queued when the next socket opens. What resets per session on `live` (the live chain's
    // sequence marks) must never see one of them afterwards.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const quote = (q: number): QuoteEvent => ({
      ev: 'Q',
      sym: tickers[0] as string,
      bx: 1,
      ax: 1,
      bp: 10,
      ap: 10.2,
      bs: 1,
      as: 1,
      t: 1_900_000_000_000,
      q,
    });
    let sessions = 0;
    wss.on('connection', (ws) => {
      const session = ++sessions;
      ws.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
      ws.on('message', (m: Buffer) => {
        const msg = JSON.parse(m.toString()) as { action: string };
        if (msg.action === 'auth')
          ws.send(JSON.stringify([{ ev: 'status', status: 'auth_success', message: 'authenticated' }]));
        else if (msg.action === 'subscribe' && session === 1) {
          for (let f = 0; f < 30; f++) ws.send(JSON.stringify([quote(5000 + f)]));
          ws.close();
        } else if (msg.action === 'subscribe') ws.send(JSON.stringify([quote(1)]));
      });
    });
    const { port } = wss.address() as { port: number };
    const log: string[] = [];
    const conn = new StreamConnection({
      url: `ws://127.0.0.1:${port}/options`,
      feed: 'options',
      apiKey: KEY,
      logger: capture().logger,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
      onState: (state) => log.push(state),
      onEvents: (evs) => {
        for (const e of evs) log.push(`q${e.ev === 'Q' ? e.q : '?'}`);
        const until = performance.now() + 4;
        while (performance.now() < until);
      },
    });
    try {
      conn.setSubscriptions([`Q.${tickers[0] as string}`]);
      conn.start();
      await waitUntil(() => log.includes('q1'), 10_000, "the second session's quote");
    } finally {
      conn.close();
      await new Promise((r) => wss.close(r));
    }
    const old = Array.from({ length: 30 }, (_, f) => `q${5000 + f}`);
    const secondLive = log.lastIndexOf('live');
    // In order: the first session, its 30 quotes, then the second session going live, then its quote.
    expect(log.indexOf('live')).toBeLessThan(log.indexOf('q5000'));
    expect(log.filter((x) => x.startsWith('q'))).toEqual([...old, 'q1']);
    expect(log.indexOf('q5029')).toBeLessThan(secondLive);
    expect(secondLive).toBeLessThan(log.indexOf('q1'));
    // Some of them were still queued while the next socket was opening (the case this is about).
    expect(log.indexOf('q5029')).toBeGreaterThan(log.lastIndexOf('connecting'));
  });

  it('a slow consumer is told so and disconnected, then the client reconnects', async () => {
    const { server, client, events } = await setup();
    await waitUntil(() => quotes(events).length > 0, 5000, 'quotes');
    server.setFaults({ slowConsumer: true });
    await waitUntil(() => client.options.stats.disconnectNotices >= 1, 5000, 'slow-consumer notice');
    server.setFaults({ slowConsumer: false });
    await waitUntil(
      () => client.options.state === 'live' && client.options.stats.reconnects >= 1,
      5000,
      'back',
    );
    expect(server.stats().slowConsumers).toBeGreaterThanOrEqual(1);
  });
});

describe('auth_timeout', () => {
  it('is retried with backoff, not fatal: the key was never judged', async () => {
    // Three sessions answer the auth with auth_timeout (the client was late with it) and close; the
    // fourth authenticates.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    let sessions = 0;
    wss.on('connection', (ws) => {
      const session = ++sessions;
      ws.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
      ws.on('message', () => {
        if (session <= 3) {
          ws.send(
            JSON.stringify([{ ev: 'status', status: 'auth_timeout', message: 'authentication timed out' }]),
          );
          ws.close();
        } else ws.send(JSON.stringify([{ ev: 'status', status: 'auth_success', message: 'authenticated' }]));
      });
    });
    const { port } = wss.address() as { port: number };
    const { logger, lines } = capture();
    const fatal: string[] = [];
    conn = new StreamConnection({
      url: `ws://127.0.0.1:${port}/options`,
      feed: 'options',
      apiKey: KEY,
      logger,
      onEvents: () => undefined,
      onFatal: (reason) => fatal.push(reason),
      backoffBaseMs: 20,
      backoffMaxMs: 1_000,
      random: () => 1,
    });
    let outcome: string | undefined;
    try {
      conn.start();
      await waitUntil(() => conn?.state === 'live' || conn?.state === 'failed', 5_000, 'an outcome');
      outcome = conn.state;
    } finally {
      conn.close();
      await new Promise((r) => wss.close(r));
    }
    expect(outcome).toBe('live');
    expect(fatal).toEqual([]);
    expect(sessions).toBe(4);
    const lost = lines
      .map((l) => JSON.parse(l) as { msg: string; reason: string; retryInMs: number })
      .filter((l) => l.msg === 'stream connection lost')
      .map(({ reason, retryInMs }) => ({ reason, retryInMs }));
    expect(lost).toEqual([20, 40, 80].map((retryInMs) => ({ reason: 'auth_timeout', retryInMs })));
    expect(lines.join('')).not.toContain('stream authentication failed');
  });
});

describe('reconnect backoff', () => {
  /** The options connection to a local stream server that tells every session it is a slow consumer. */
  async function kicked(healthySessionMs?: number) {
    server = await startStreamServer({
      source: new SimStreamSource(new SimMarket({ seed: 7 })),
      indices: ['I:SPX'],
      apiKey: KEY,
      faults: { slowConsumer: true },
    });
    const { logger, lines } = capture();
    conn = new StreamConnection({
      url: `${server.url}/options`,
      feed: 'options',
      apiKey: KEY,
      logger,
      onEvents: () => undefined,
      backoffBaseMs: 50,
      backoffMaxMs: 5_000,
      random: () => 1, // no jitter: 50, 100, 200, 400, … ms
      ...(healthySessionMs !== undefined ? { healthySessionMs } : {}),
    });
    conn.setSubscriptions([`Q.${tickers[0] as string}`]);
    conn.start();
    const lost = (): { reason: string; retryInMs: number }[] =>
      lines
        .map((l) => JSON.parse(l) as { msg: string; reason: string; retryInMs: number })
        .filter((l) => l.msg === 'stream connection lost')
        .map(({ reason, retryInMs }) => ({ reason, retryInMs }));
    return { server, conn, lost };
  }

  it('grows when every session is cut right after auth_success: a disconnect notice is a failed attempt', async () => {
    const { server, lost } = await kicked();
    await waitUntil(() => lost().length >= 5, 10_000, 'five sessions cut');
    expect(lost().slice(0, 5)).toEqual(
      [50, 100, 200, 400, 800].map((retryInMs) => ({ reason: 'slow_consumer', retryInMs })),
    );
    expect(server.stats().authSuccess).toBe(server.stats().slowConsumers);
  });

  it('starts again from the base after a session that stayed live for healthySessionMs', async () => {
    const { server, conn, lost } = await kicked(300);
    await waitUntil(() => lost().length >= 3, 10_000, 'three sessions cut');
    server.setFaults({ slowConsumer: false });
    await waitUntil(() => conn.state === 'live', 10_000, 'a session that lasts');
    await new Promise((r) => setTimeout(r, 500));
    const cut = lost().length;
    server.drop();
    await waitUntil(() => lost().length === cut + 1, 10_000, 'the drop');
    const delays = lost().map((l) => l.retryInMs);
    expect(delays.slice(0, cut)).toEqual([50, 100, 200, 400, 800].slice(0, cut));
    expect(delays[cut]).toBe(50);
  });
});

describe('backoffDelay', () => {
  it.each([
    [0, 0, 125],
    [0, 1, 250],
    [3, 0.5, 1500],
    [10, 1, 15_000],
    [40, 0, 7_500],
  ])('attempt %d, random %d → %d ms', (attempt, r, want) => {
    expect(backoffDelay(attempt, 250, 15_000, () => r)).toBe(want);
  });
});

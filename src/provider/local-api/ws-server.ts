/**
 * @module The local Massive-compatible WebSocket server: feeds `/options` (quotes `Q`, trades `T`) and
 * `/indices` (values `V`) on their own port, with the vendor's session (connected → auth → auth_success /
 * auth_failed → subscribe → arrays of events), a firehose knob and fault knobs. Admin: `GET|POST
 * /__admin/stream` (faults, stats; `{"drop": true}` drops every connection).
 *
 * A timeline (a recording's `stream` events) is played on every connection from its first subscription:
 * an event `offset_ms` after it, if the connection is subscribed to its channel, once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { mulberry32 } from '../sim/prng.js';
import {
  parseClientMessage,
  STATUS,
  type Feed,
  type IndexValueEvent,
  type QuoteEvent,
  type StatusEvent,
  type StreamEvent,
  type TradeEvent,
} from '../massive/stream-protocol.js';
import type { StreamSource } from './ws-feed.js';
import type { LocalApiLogger } from './server.js';

/** The vendor's limit of quoted option contracts per connection. */
export const MAX_QUOTED_CONTRACTS = 1000;
/** How often the server sends a batch of events. */
export const BATCH_MS = 50;
/** How often each subscribed index sends its value. */
export const INDEX_PERIOD_MS = 1000;
/** Share of quote messages followed by a trade (for `T` subscribers). */
const TRADE_SHARE = 0.05;

export const streamFaultsSchema = z.strictObject({
  /** Quote messages per second per connection, spread round-robin over its subscribed contracts. */
  ratePerSec: z.number().min(0).max(1_000_000),
  /** Answer every auth with `auth_failed` and close. */
  authFailed: z.boolean(),
  /** Send nothing at all (the connection stays open). */
  silent: z.boolean(),
  /** Share of quotes sent twice (same `q`). */
  duplicateRate: z.number().min(0).max(1),
  /** Share of quotes followed by a re-send of the contract's previous quote (an older `q`). */
  outOfOrderRate: z.number().min(0).max(1),
  /** Tell every connection it is a slow consumer and close it (as the vendor does). */
  slowConsumer: z.boolean(),
  /** A connection with more than this many bytes unsent is a slow consumer and is closed. */
  maxBufferedBytes: z.number().int().min(1024),
});
export type StreamFaults = z.infer<typeof streamFaultsSchema>;

export const DEFAULT_STREAM_FAULTS: StreamFaults = {
  ratePerSec: 1000,
  authFailed: false,
  silent: false,
  duplicateRate: 0,
  outOfOrderRate: 0,
  slowConsumer: false,
  maxBufferedBytes: 8 * 1024 * 1024,
};

export interface StreamServerStats {
  connections: number;
  open: number;
  authSuccess: number;
  authFailed: number;
  subscribeMessages: number;
  unsubscribeMessages: number;
  quotesSent: number;
  tradesSent: number;
  valuesSent: number;
  duplicatesSent: number;
  outOfOrderSent: number;
  framesSent: number;
  drops: number;
  slowConsumers: number;
  /** Currently subscribed quote channels over all connections. */
  quoteSubscriptions: number;
}

/** A recorded event and when to send it: `offset_ms` after a connection's first subscription. */
export interface TimedStreamEvent {
  offset_ms: number;
  feed: Feed;
  event: QuoteEvent | TradeEvent | IndexValueEvent;
}

export interface StreamServerOptions {
  source: StreamSource;
  /** Recorded events to play (in `offset_ms` order), as a replay does. */
  timeline?: readonly TimedStreamEvent[];
  /** Index tickers `V.*` expands to. */
  indices: readonly string[];
  /** When set, auth needs it; otherwise any key authenticates. */
  apiKey?: string;
  faults?: Partial<StreamFaults>;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 = ephemeral. @defaultValue 0 */
  port?: number;
  /** Seed of the fault PRNG. @defaultValue 1 */
  seed?: number;
  /** Clock (epoch ms). @defaultValue Date.now */
  clock?: () => number;
  logger?: LocalApiLogger;
}

export interface StreamServer {
  /** `ws://host:port` (feeds at `/options`, `/indices`). */
  readonly url: string;
  readonly port: number;
  faults(): StreamFaults;
  setFaults(f: Partial<StreamFaults>): void;
  /** Drops every connection at once (no close frame: like a network cut). */
  drop(): void;
  stats(): StreamServerStats;
  /** Channels currently subscribed, per open connection. */
  subscriptions(): { feed: Feed; channels: string[] }[];
  close(): Promise<void>;
}

interface Session {
  ws: WebSocket;
  feed: Feed;
  authed: boolean;
  quotes: Set<string>;
  quoteList: string[] | null;
  trades: Set<string>;
  indices: Set<string>;
  cursor: number;
  budget: number;
  nextIndexAt: number;
  seq: Map<string, number>;
  last: Map<string, QuoteEvent>;
  /** When the connection first subscribed (the timeline's zero), or null. */
  playFrom: number | null;
  /** Next timeline event to consider. */
  playCursor: number;
}

const status = (s: string, message: string): StatusEvent => ({ ev: 'status', status: s, message });

/** Starts the stream server. Resolves once it listens. */
export async function startStreamServer(opts: StreamServerOptions): Promise<StreamServer> {
  const clock = opts.clock ?? Date.now;
  const rand = mulberry32(opts.seed ?? 1);
  let faults: StreamFaults = streamFaultsSchema.parse({ ...DEFAULT_STREAM_FAULTS, ...opts.faults });
  const sessions = new Set<Session>();
  const stats: StreamServerStats = {
    connections: 0,
    open: 0,
    authSuccess: 0,
    authFailed: 0,
    subscribeMessages: 0,
    unsubscribeMessages: 0,
    quotesSent: 0,
    tradesSent: 0,
    valuesSent: 0,
    duplicatesSent: 0,
    outOfOrderSent: 0,
    framesSent: 0,
    drops: 0,
    slowConsumers: 0,
    quoteSubscriptions: 0,
  };

  const send = (s: Session, events: StreamEvent[]): void => {
    if (events.length === 0 || s.ws.readyState !== WebSocket.OPEN) return;
    s.ws.send(JSON.stringify(events));
    stats.framesSent++;
  };

  function onMessage(s: Session, text: string): void {
    const msg = parseClientMessage(text);
    if (!msg) {
      send(s, [status(STATUS.error, 'malformed message')]);
      return;
    }
    if (msg.action === 'auth') {
      if (faults.authFailed || (opts.apiKey !== undefined && msg.params !== opts.apiKey)) {
        stats.authFailed++;
        send(s, [status(STATUS.authFailed, 'authentication failed')]);
        s.ws.close(1008, 'authentication failed');
        return;
      }
      s.authed = true;
      stats.authSuccess++;
      send(s, [status(STATUS.authSuccess, 'authenticated')]);
      return;
    }
    if (!s.authed) {
      send(s, [status('auth_required', 'authentication required')]);
      return;
    }
    const params = msg.params
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const out: StatusEvent[] = [];
    if (msg.action === 'subscribe') {
      stats.subscribeMessages++;
      s.playFrom ??= clock();
    } else stats.unsubscribeMessages++;
    for (const p of params) {
      const dot = p.indexOf('.');
      const ch = p.slice(0, dot);
      const ticker = p.slice(dot + 1);
      const set =
        s.feed === 'options'
          ? ch === 'Q'
            ? s.quotes
            : ch === 'T'
              ? s.trades
              : null
          : ch === 'V'
            ? s.indices
            : null;
      if (dot <= 0 || !ticker || set === null) {
        out.push(status(STATUS.error, `unknown channel: ${p}`));
        continue;
      }
      if (msg.action === 'subscribe') {
        if (set === s.quotes && !set.has(ticker) && set.size >= MAX_QUOTED_CONTRACTS) {
          out.push(status(STATUS.error, `limit of ${MAX_QUOTED_CONTRACTS} quoted contracts reached: ${p}`));
          continue;
        }
        set.add(ticker);
        out.push(status(STATUS.success, `subscribed to: ${p}`));
      } else {
        set.delete(ticker);
        if (set === s.quotes) s.last.delete(ticker);
        out.push(status(STATUS.success, `unsubscribed to: ${p}`));
      }
    }
    s.quoteList = null; // rebuilt lazily by the next batch
    send(s, out);
  }

  function quoteEvent(s: Session, sym: string, now: number): QuoteEvent | null {
    const n = (s.seq.get(sym) ?? 0) + 1;
    const quote = opts.source.quote(sym, now, n);
    if (!quote) return null;
    // Increasing, unique, not contiguous (gaps of 1–3), as the vendor's.
    const q = (s.last.get(sym)?.q ?? 1_000_000) + 1 + (n % 3);
    s.seq.set(sym, n);
    const e: QuoteEvent = { ev: 'Q', sym, ...quote, t: now, q };
    return e;
  }

  const timeline = opts.timeline ?? [];

  /** The timeline's events due by `elapsed` ms on this connection, for its subscribed channels. */
  function playTimeline(s: Session, elapsed: number, events: StreamEvent[]): void {
    while (s.playCursor < timeline.length) {
      const te = timeline[s.playCursor] as TimedStreamEvent;
      if (te.offset_ms > elapsed) break;
      s.playCursor++;
      if (te.feed !== s.feed) continue;
      const e = te.event;
      if (e.ev === 'Q' && s.quotes.has(e.sym)) {
        events.push(e);
        stats.quotesSent++;
      } else if (e.ev === 'T' && s.trades.has(e.sym)) {
        events.push(e);
        stats.tradesSent++;
      } else if (e.ev === 'V' && (s.indices.has(e.T) || s.indices.has('*'))) {
        events.push(e);
        stats.valuesSent++;
      }
    }
  }

  function tick(): void {
    const now = clock();
    for (const s of sessions) {
      if (s.ws.readyState !== WebSocket.OPEN || !s.authed) continue;
      if (faults.slowConsumer || s.ws.bufferedAmount > faults.maxBufferedBytes) {
        stats.slowConsumers++;
        send(s, [status(STATUS.slowConsumer, 'slow consumer: the client is not reading fast enough')]);
        s.ws.close(1008, 'slow consumer');
        continue;
      }
      if (faults.silent) continue;
      const events: StreamEvent[] = [];
      if (timeline.length > 0 && s.playFrom !== null) playTimeline(s, now - s.playFrom, events);
      if (s.feed === 'indices' && now >= s.nextIndexAt && s.indices.size > 0) {
        s.nextIndexAt = now + INDEX_PERIOD_MS;
        const tickers = s.indices.has('*') ? opts.indices : [...s.indices];
        for (const T of tickers) {
          const val = opts.source.indexValue(T, now);
          if (val === null) continue;
          const v: IndexValueEvent = { ev: 'V', T, val, t: now };
          events.push(v);
          stats.valuesSent++;
        }
      }
      if (s.feed === 'options' && s.quotes.size > 0) {
        s.quoteList ??= [...s.quotes];
        s.budget += (faults.ratePerSec * BATCH_MS) / 1000;
        let n = Math.floor(s.budget);
        s.budget -= n;
        const list = s.quoteList;
        while (n-- > 0) {
          const sym = list[s.cursor++ % list.length] as string;
          const e = quoteEvent(s, sym, now);
          if (!e) continue;
          events.push(e);
          stats.quotesSent++;
          const prev = s.last.get(sym);
          s.last.set(sym, e);
          if (faults.duplicateRate > 0 && rand() < faults.duplicateRate) {
            events.push({ ...e });
            stats.duplicatesSent++;
          }
          if (prev && faults.outOfOrderRate > 0 && rand() < faults.outOfOrderRate) {
            events.push({ ...prev });
            stats.outOfOrderSent++;
          }
          if (s.trades.has(sym) && rand() < TRADE_SHARE) {
            const t: TradeEvent = {
              ev: 'T',
              sym,
              x: e.bx,
              p: Math.round(((e.bp + e.ap) / 2) * 20) / 20,
              s: 1 + Math.floor(rand() * 10),
              c: [209],
              t: now,
              q: e.q,
            };
            events.push(t);
            stats.tradesSent++;
          }
        }
      }
      send(s, events);
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  wss.on('connection', (ws: WebSocket, feed: Feed) => {
    const s: Session = {
      ws,
      feed,
      authed: false,
      quotes: new Set(),
      quoteList: null,
      trades: new Set(),
      indices: new Set(),
      cursor: 0,
      budget: 0,
      nextIndexAt: 0,
      seq: new Map(),
      last: new Map(),
      playFrom: null,
      playCursor: 0,
    };
    sessions.add(s);
    stats.connections++;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) onMessage(s, data.toString('utf8'));
    });
    ws.on('close', () => sessions.delete(s));
    ws.on('error', () => sessions.delete(s));
    send(s, [status(STATUS.connected, 'Connected Successfully')]);
    opts.logger?.debug({ feed }, 'local stream: connection');
  });

  function admin(req: IncomingMessage, res: ServerResponse): void {
    const reply = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = (req.url ?? '/').split('?')[0];
    if (url !== '/__admin/stream') return reply(404, { error: 'not found' });
    if (req.method === 'GET') return reply(200, { faults, stats: api.stats() });
    if (req.method !== 'POST') return reply(405, { error: 'method not allowed' });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        const { drop, ...patch } = body;
        api.setFaults(patch);
        if (drop === true) api.drop();
        reply(200, { faults });
      } catch (err) {
        reply(400, { error: (err as Error).message });
      }
    });
  }

  const http = createServer(admin);
  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    const feed: Feed | null = path === '/options' ? 'options' : path === '/indices' ? 'indices' : null;
    if (!feed) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, feed));
  });
  const timer = setInterval(tick, BATCH_MS);
  timer.unref();

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const api: StreamServer = {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    faults: () => ({ ...faults }),
    setFaults: (f) => {
      faults = streamFaultsSchema.parse({ ...faults, ...f });
    },
    drop: () => {
      for (const s of sessions) {
        stats.drops++;
        s.ws.terminate();
      }
      sessions.clear();
    },
    stats: () => {
      let open = 0;
      let quoteSubscriptions = 0;
      for (const s of sessions) {
        if (s.ws.readyState === WebSocket.OPEN) open++;
        quoteSubscriptions += s.quotes.size;
      }
      return { ...stats, open, quoteSubscriptions };
    },
    subscriptions: () =>
      [...sessions].map((s) => ({
        feed: s.feed,
        channels: [
          ...[...s.quotes].map((t) => `Q.${t}`),
          ...[...s.trades].map((t) => `T.${t}`),
          ...[...s.indices].map((t) => `V.${t}`),
        ].sort(),
      })),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        for (const s of sessions) s.ws.terminate();
        sessions.clear();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
  return api;
}

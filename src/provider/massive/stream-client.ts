/**
 * @module The Massive WebSocket client, beside the REST client: one connection per feed (`options`,
 * `indices`), each authenticating, subscribing, and keeping itself alive.
 *
 * - Reconnects with exponential backoff and jitter after a drop, an error, a silence of `silenceMs`
 *   (no frame and no ping) or a disconnect notice, then re-authenticates and re-subscribes to everything
 *   wanted. The backoff starts again from its base only once a session has stayed live for
 *   {@link HEALTHY_SESSION_MS}.
 * - `auth_failed` is fatal for streaming only: logged once, no more reconnects; the REST loop is untouched.
 *   `auth_timeout` is not (the auth arrived late, the key was not judged): it is retried like a drop.
 * - The API key is sent only in the auth message: never logged, never in an error.
 */
import { WebSocket } from 'ws';
import type { Logger } from '../../lib/logger.js';
import { parseFrame, STATUS, subscriptionMessages, type Feed, type StreamEvent } from './stream-protocol.js';

export const DEFAULT_SILENCE_MS = 15_000;
export const DEFAULT_BACKOFF_BASE_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 15_000;
/**
 * Most time spent parsing and delivering queued frames in one turn of the event loop (ms): the frame that
 * crosses it is the turn's last (a frame is never split).
 */
export const FRAME_BUDGET_MS = 3;
/** How long a connection may take to open and authenticate before it is cut and retried. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long a session must stay live before the reconnect backoff starts again from its base (ms). Not at
 * `auth_success`: a server that authenticates and then cuts the connection (`max_connections`,
 * `force_disconnect`, `slow_consumer`) had the client reconnect at the base delay for ever, 3–4 times a
 * second. Not at the first data event either: `slow_consumer` is sent precisely to a client that has been
 * receiving data. A session cut sooner is a failed attempt; a server that cuts every session later costs
 * at most one reconnect at the base delay per 10 s.
 */
export const HEALTHY_SESSION_MS = 10_000;

export type ConnectionState =
  'idle' | 'connecting' | 'authenticating' | 'live' | 'backoff' | 'failed' | 'closed';

export interface StreamConnectionStats {
  /** Frames received. */
  frames: number;
  /** Data events received (Q, T, V). */
  messages: number;
  /** Connections opened after the first. */
  reconnects: number;
  /** Reconnects caused by silence. */
  silences: number;
  /** Events that could not be read. */
  malformed: number;
  /** `slow_consumer`, `force_disconnect`, `max_connections` notices. */
  disconnectNotices: number;
}

export interface StreamConnectionOptions {
  /** Full feed URL, e.g. `wss://socket.massive.com/options`. */
  url: string;
  feed: Feed;
  apiKey: string;
  logger: Logger;
  /** Data events, in order, with their receive time (epoch ms). */
  onEvents: (events: StreamEvent[], receivedAt: number) => void;
  /** Called once when authentication fails (streaming stops for good). */
  onFatal?: (reason: string) => void;
  /** Called on every state change. */
  onState?: (state: ConnectionState) => void;
  /** @defaultValue {@link DEFAULT_SILENCE_MS} */
  silenceMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** @defaultValue {@link HEALTHY_SESSION_MS} */
  healthySessionMs?: number;
  /** For jitter. @defaultValue Math.random */
  random?: () => number;
  /**
   * Connected only while something is wanted: with no subscription the connection is not opened, and it is
   * closed (state `idle`) when the last one goes; the next subscription opens it again. @defaultValue false
   */
  onDemand?: boolean;
}

/** Backoff before reconnect attempt `attempt` (0-based): exponential, capped, "equal jitter" (½ to 1×). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

/** One feed's connection. */
export class StreamConnection {
  private ws: WebSocket | undefined;
  private stateValue: ConnectionState = 'idle';
  private readonly wanted = new Set<string>();
  /** What the current session has been sent (reset on every new connection). */
  private readonly sent = new Set<string>();
  /** Failed attempts since the last healthy session (the next backoff's exponent). */
  private attempt = 0;
  private opened = 0;
  private silenceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Set at `auth_success`: when it fires the session is healthy and the backoff starts again from its base. */
  private healthyTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** {@link start} was called (an on-demand connection may still be idle). */
  private started = false;
  /** The next connection follows an idle spell, not a loss: not counted as a reconnect. */
  private fresh = false;
  readonly stats: StreamConnectionStats = {
    frames: 0,
    messages: 0,
    reconnects: 0,
    silences: 0,
    malformed: 0,
    disconnectNotices: 0,
  };

  constructor(private readonly opts: StreamConnectionOptions) {}

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Channels wanted (sent on every (re)connection). */
  get subscriptions(): ReadonlySet<string> {
    return this.wanted;
  }

  start(): void {
    if (this.stopped || this.ws || this.retryTimer || this.stateValue === 'failed') return;
    this.started = true;
    if (this.opts.onDemand && this.wanted.size === 0) return;
    this.connect();
  }

  /**
   * Makes `params` the wanted set; a live session gets only the difference. On demand, the first channel
   * opens the connection (the session subscribes once authenticated) and removing the last closes it.
   */
  setSubscriptions(params: Iterable<string>): void {
    const next = new Set(params);
    for (const p of [...this.wanted]) if (!next.has(p)) this.wanted.delete(p);
    for (const p of next) this.wanted.add(p);
    if (this.opts.onDemand && this.started && !this.stopped && this.stateValue !== 'failed') {
      if (this.wanted.size === 0) {
        this.idle();
        return;
      }
      if (!this.ws && !this.retryTimer) this.connect();
    }
    this.sync();
  }

  /** Closes the socket (and any pending retry) until something is wanted again; the backoff starts afresh. */
  private idle(): void {
    if (this.stateValue === 'idle') return;
    this.clearTimers();
    this.dropSocket();
    this.attempt = 0;
    this.fresh = true;
    this.setState('idle');
    this.opts.logger.info({ feed: this.opts.feed }, 'stream connection closed: nothing to stream');
  }

  /** Closes for good. Idempotent. */
  close(): void {
    this.stopped = true;
    this.clearTimers();
    this.dropSocket();
    if (this.stateValue !== 'failed') this.setState('closed');
  }

  private setState(s: ConnectionState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.opts.onState?.(s);
  }

  private clearTimers(): void {
    clearTimeout(this.silenceTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    clearTimeout(this.healthyTimer);
    this.silenceTimer = this.retryTimer = this.connectTimer = this.healthyTimer = undefined;
  }

  private connect(): void {
    if (this.opened > 0 && !this.fresh) this.stats.reconnects++;
    this.fresh = false;
    this.opened++;
    this.sent.clear();
    this.setState('connecting');
    const ws = new WebSocket(this.opts.url, { handshakeTimeout: CONNECT_TIMEOUT_MS });
    this.ws = ws;
    this.connectTimer = setTimeout(() => this.retry('connect timeout'), CONNECT_TIMEOUT_MS);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.onFrame(data.toString('utf8'));
    });
    ws.on('ping', () => this.armSilence());
    ws.on('close', (code: number) => this.retry(`closed (${code})`));
    ws.on('error', (err: Error) => this.retry(err.message));
  }

  private armSilence(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      this.stats.silences++;
      this.retry(`silent for ${this.opts.silenceMs ?? DEFAULT_SILENCE_MS} ms`);
    }, this.opts.silenceMs ?? DEFAULT_SILENCE_MS);
  }

  /**
   * A frame is only queued in the turn that reads it (with its receive time); {@link drain} parses and
   * delivers queued frames, in order, at most {@link FRAME_BUDGET_MS} of them per turn of the event loop.
   * After any stall the socket holds a backlog (libuv reads up to 32 × 64 KiB in one turn, a dozen frames
   * of ~1,000 quotes at 20,000 quotes/s), and parsing all of it at once made the live stream's longest
   * main-thread turns (12–23 ms of CPU in a profile).
   */
  private onFrame(text: string): void {
    this.stats.frames++;
    this.armSilence();
    this.queue.push({ text, ws: this.ws, receivedAt: Date.now() });
    if (!this.draining) {
      this.draining = true;
      setImmediate(this.drain);
    }
  }

  private readonly queue: { text: string; ws: WebSocket | undefined; receivedAt: number }[] = [];
  private draining = false;

  /** Handles queued frames until the turn's budget is spent; the rest on the next turn. */
  private readonly drain = (): void => {
    const start = performance.now();
    let next = 0;
    while (next < this.queue.length && !this.stopped) {
      const f = this.queue[next++] as { text: string; ws: WebSocket | undefined; receivedAt: number };
      this.handleFrame(f.text, f.ws, f.receivedAt);
      if (performance.now() - start >= FRAME_BUDGET_MS) break;
    }
    this.queue.splice(0, this.stopped ? this.queue.length : next);
    if (this.queue.length > 0) setImmediate(this.drain);
    else this.draining = false;
  };

  /**
   * One frame: its data events go to `onEvents` with the frame's receive time, even when its socket has
   * been replaced since (they were received); its status events only while that socket is the current one.
   * The queue keeps the order of receipt across sockets: a replaced socket's frames (its listeners are gone
   * before the next socket opens) are all handled before the next session's `connected` and `auth_success`,
   * so no event of an older session reaches `onEvents` after a later session's `live` state change.
   */
  private handleFrame(text: string, from: WebSocket | undefined, receivedAt: number): void {
    const { events, malformed } = parseFrame(text);
    this.stats.malformed += malformed;
    const data: StreamEvent[] = [];
    for (const e of events) {
      if (e.ev !== 'status') {
        data.push(e);
        continue;
      }
      if (from !== this.ws) continue;
      switch (e.status) {
        case STATUS.success:
          // The spec's connect event says `success` / "Connected Successfully"; the live feed says `connected`.
          if (this.stateValue !== 'connecting') break;
        // falls through
        case STATUS.connected:
          this.setState('authenticating');
          this.ws?.send(JSON.stringify({ action: 'auth', params: this.opts.apiKey }));
          break;
        case STATUS.authSuccess:
          clearTimeout(this.connectTimer);
          clearTimeout(this.healthyTimer);
          this.healthyTimer = setTimeout(() => {
            this.attempt = 0;
          }, this.opts.healthySessionMs ?? HEALTHY_SESSION_MS);
          this.setState('live');
          this.opts.logger.info({ feed: this.opts.feed, channels: this.wanted.size }, 'stream authenticated');
          this.sync();
          break;
        case STATUS.authFailed:
          this.fail(e.status);
          return;
        case STATUS.authTimeout:
          // The auth came too late (a stalled event loop, a slow link): the key was never judged. A failed
          // attempt like a drop, retried with backoff, never fatal: the backoff already bounds the calls to
          // one per `backoffMaxMs`, and turning streaming off until a restart would outlast the cause.
          this.retry(e.status);
          break;
        case STATUS.slowConsumer:
        case STATUS.forceDisconnect:
        case STATUS.maxConnections:
          this.stats.disconnectNotices++;
          this.opts.logger.warn(
            { feed: this.opts.feed, status: e.status },
            'stream disconnected by the server',
          );
          // The session is over (the server closes it next): one failed attempt, so a server that cuts
          // every session before it is healthy is called back after longer and longer waits.
          this.retry(e.status);
          break;
        case STATUS.error:
          this.opts.logger.debug({ feed: this.opts.feed, message: e.message }, 'stream status error');
          break;
        default:
          break;
      }
    }
    if (data.length > 0) {
      this.stats.messages += data.length;
      this.opts.onEvents(data, receivedAt);
    }
  }

  /** Sends the difference between what is wanted and what this session was sent. */
  private sync(): void {
    const ws = this.ws;
    if (this.stateValue !== 'live' || !ws || ws.readyState !== WebSocket.OPEN) return;
    const add = [...this.wanted].filter((p) => !this.sent.has(p));
    const remove = [...this.sent].filter((p) => !this.wanted.has(p));
    for (const m of subscriptionMessages('unsubscribe', remove)) ws.send(m);
    for (const m of subscriptionMessages('subscribe', add)) ws.send(m);
    for (const p of remove) this.sent.delete(p);
    for (const p of add) this.sent.add(p);
  }

  /** Forgets the current socket and terminates it, so none of its late events reach us. */
  private dropSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
  }

  private fail(status: string): void {
    this.clearTimers();
    this.dropSocket();
    if (this.stateValue === 'failed') return;
    this.setState('failed');
    // Once: the connection never retries after this, so this line cannot repeat.
    this.opts.logger.error(
      { feed: this.opts.feed, status },
      'stream authentication failed: streaming is off until restart (REST snapshots go on)',
    );
    this.opts.onFatal?.(status);
  }

  private retry(reason: string): void {
    if (this.stopped || this.stateValue === 'failed') return;
    const ws = this.ws;
    if (!ws) return; // already scheduled
    this.ws = undefined;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
    this.clearTimers();
    const delay = backoffDelay(
      this.attempt++,
      this.opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      this.opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
      this.opts.random ?? Math.random,
    );
    this.setState('backoff');
    this.opts.logger.warn({ feed: this.opts.feed, reason, retryInMs: delay }, 'stream connection lost');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.connect();
    }, delay);
  }
}

export interface MassiveStreamOptions {
  /** Base URL without the feed, e.g. `wss://socket.massive.com` or `wss://delayed.massive.com`. */
  baseUrl: string;
  apiKey: string;
  logger: Logger;
  onEvents: (feed: Feed, events: StreamEvent[], receivedAt: number) => void;
  onFatal?: (feed: Feed, reason: string) => void;
  onState?: (feed: Feed, state: ConnectionState) => void;
  silenceMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  /** See {@link StreamConnectionOptions.onDemand}. @defaultValue false */
  onDemand?: boolean;
}

/** Both feeds: quotes and trades on `options`, index values on `indices`. */
export class MassiveStreamClient {
  readonly options: StreamConnection;
  readonly indices: StreamConnection;

  constructor(opts: MassiveStreamOptions) {
    const base = opts.baseUrl.replace(/\/+$/, '');
    const make = (feed: Feed): StreamConnection =>
      new StreamConnection({
        url: `${base}/${feed}`,
        feed,
        apiKey: opts.apiKey,
        logger: opts.logger,
        onEvents: (events, at) => opts.onEvents(feed, events, at),
        ...(opts.onFatal ? { onFatal: (r: string) => opts.onFatal?.(feed, r) } : {}),
        ...(opts.onState ? { onState: (s: ConnectionState) => opts.onState?.(feed, s) } : {}),
        ...(opts.silenceMs !== undefined ? { silenceMs: opts.silenceMs } : {}),
        ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}),
        ...(opts.backoffMaxMs !== undefined ? { backoffMaxMs: opts.backoffMaxMs } : {}),
        ...(opts.random ? { random: opts.random } : {}),
        ...(opts.onDemand ? { onDemand: true } : {}),
      });
    this.options = make('options');
    this.indices = make('indices');
  }

  start(): void {
    this.options.start();
    this.indices.start();
  }

  close(): void {
    this.options.close();
    this.indices.close();
  }
}

/**
 * @module The Massive WebSocket protocol (feeds `options` and `indices`): the messages a client sends, the
 * events a server sends, and a lenient parser of server frames. Pure.
 *
 * A session: the server greets with `status: connected`; the client sends `{action: "auth", params: key}`;
 * the server answers `auth_success` or `auth_failed`; the client sends `{action: "subscribe", params:
 * "Q.O:SPXW…,Q.O:…"}` (and `unsubscribe`); every server frame is a JSON array of events, each with `ev`.
 */

/** `Q`: an option quote (NBBO). */
export interface QuoteEvent {
  ev: 'Q';
  sym: string;
  bx: number;
  ax: number;
  bp: number;
  ap: number;
  bs: number;
  as: number;
  /** Unix ms. */
  t: number;
  /** Sequence: increasing per contract, not contiguous. */
  q: number;
}

/** `T`: an option trade. */
export interface TradeEvent {
  ev: 'T';
  sym: string;
  x: number;
  p: number;
  s: number;
  c: number[];
  t: number;
  q: number;
}

/** `V`: an index value. */
export interface IndexValueEvent {
  ev: 'V';
  /** e.g. `I:SPX`. */
  T: string;
  val: number;
  t: number;
}

/** `status`: connection, auth, subscription and disconnect notices. */
export interface StatusEvent {
  ev: 'status';
  status: string;
  message: string;
}

export type StreamEvent = QuoteEvent | TradeEvent | IndexValueEvent | StatusEvent;

export type Feed = 'options' | 'indices';

/** Statuses the server sends. */
export const STATUS = {
  connected: 'connected',
  authSuccess: 'auth_success',
  authFailed: 'auth_failed',
  authTimeout: 'auth_timeout',
  success: 'success',
  error: 'error',
  maxConnections: 'max_connections',
  forceDisconnect: 'force_disconnect',
  slowConsumer: 'slow_consumer',
} as const;

export interface ClientMessage {
  action: 'auth' | 'subscribe' | 'unsubscribe';
  params: string;
}

/** A subscription parameter: `Q.O:SPXW261201C06850000`, `T.O:…`, `V.I:SPX`. */
export function channelParam(channel: 'Q' | 'T' | 'V', ticker: string): string {
  return `${channel}.${ticker}`;
}

/** Most channels in one subscribe message (keeps frames small; the server accepts any number). */
export const PARAMS_PER_MESSAGE = 200;

/** Subscribe/unsubscribe messages for many params, in chunks. */
export function subscriptionMessages(
  action: 'subscribe' | 'unsubscribe',
  params: readonly string[],
): string[] {
  const out: string[] = [];
  for (let i = 0; i < params.length; i += PARAMS_PER_MESSAGE) {
    out.push(JSON.stringify({ action, params: params.slice(i, i + PARAMS_PER_MESSAGE).join(',') }));
  }
  return out;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Reads one event; null when it is not one the worker uses or is malformed (bad input never throws). */
export function parseEvent(raw: unknown): StreamEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const e = raw as Record<string, unknown>;
  switch (e.ev) {
    case 'Q':
      if (!isStr(e.sym) || !isNum(e.bp) || !isNum(e.ap) || !isNum(e.t) || !isNum(e.q)) return null;
      return {
        ev: 'Q',
        sym: e.sym,
        bx: isNum(e.bx) ? e.bx : 0,
        ax: isNum(e.ax) ? e.ax : 0,
        bp: e.bp,
        ap: e.ap,
        bs: isNum(e.bs) ? e.bs : 0,
        as: isNum(e.as) ? e.as : 0,
        t: e.t,
        q: e.q,
      };
    case 'T':
      if (!isStr(e.sym) || !isNum(e.p) || !isNum(e.s) || !isNum(e.t) || !isNum(e.q)) return null;
      return {
        ev: 'T',
        sym: e.sym,
        x: isNum(e.x) ? e.x : 0,
        p: e.p,
        s: e.s,
        c: Array.isArray(e.c) ? e.c.filter(isNum) : [],
        t: e.t,
        q: e.q,
      };
    case 'V':
      if (!isStr(e.T) || !isNum(e.val) || !isNum(e.t)) return null;
      return { ev: 'V', T: e.T, val: e.val, t: e.t };
    case 'status':
      if (!isStr(e.status)) return null;
      return { ev: 'status', status: e.status, message: typeof e.message === 'string' ? e.message : '' };
    default:
      return null;
  }
}

/** Parses one server frame (a JSON array of events, or a single event); counts what it could not read. */
export function parseFrame(text: string): { events: StreamEvent[]; malformed: number } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { events: [], malformed: 1 };
  }
  const list = Array.isArray(data) ? data : [data];
  const events: StreamEvent[] = [];
  let malformed = 0;
  for (const raw of list) {
    const e = parseEvent(raw);
    if (e) events.push(e);
    else malformed++;
  }
  return { events, malformed };
}

/** Parses a client message (server side); null when malformed. */
export function parseClientMessage(text: string): ClientMessage | null {
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    if (
      (m.action === 'auth' || m.action === 'subscribe' || m.action === 'unsubscribe') &&
      typeof m.params === 'string'
    ) {
      return { action: m.action, params: m.params };
    }
  } catch {
    // fall through
  }
  return null;
}

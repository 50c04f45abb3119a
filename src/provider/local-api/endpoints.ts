/**
 * @module The three snapshot endpoints as pure reply builders (routing, query and cursor handling, result
 * shapes), plus the error replies of injected faults. The server adds auth, faults and delivery.
 */
import type { ChainViews } from './chain-view.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { MarketDataset } from './dataset.js';
import type { QueuedFault } from './faults.js';
import { indexResult } from './indices.js';
import { MAX_LIMIT, parseChainQuery, type ChainQuery } from './query.js';
import { errorReply, MESSAGES, notFoundReply, type Reply } from './reply.js';

/** What the endpoints read and report to. */
export interface EndpointContext {
  dataset: MarketDataset;
  views: ChainViews;
  /** Origin written into `next_url`. */
  baseUrl(): string;
  /** The `nextUrlLoop` fault is on. */
  nextUrlLoop(): boolean;
  onLoop(): void;
  /** A cursor's generation no longer matched the dataset. */
  onStaleCursor(): void;
}

export type Route =
  | { endpoint: 'chain'; underlying: string }
  | { endpoint: 'contract'; underlying: string; contract: string }
  | { endpoint: 'indices' }
  | { endpoint: 'unknown' };

export const OPTIONS_PREFIX = '/v3/snapshot/options/';

/** Maps a request path to an endpoint (path segments percent-decoded). */
export function route(path: string): Route {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === '/v3/snapshot/indices') return { endpoint: 'indices' };
  if (!p.startsWith(OPTIONS_PREFIX)) return { endpoint: 'unknown' };
  let parts: string[];
  try {
    parts = p.slice(OPTIONS_PREFIX.length).split('/').map(decodeURIComponent);
  } catch {
    return { endpoint: 'unknown' };
  }
  const [underlying, contract] = parts;
  if (parts.length === 1 && underlying) return { endpoint: 'chain', underlying };
  if (parts.length === 2 && underlying && contract) return { endpoint: 'contract', underlying, contract };
  return { endpoint: 'unknown' };
}

function pathSegment(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':');
}

export function chainReply(
  ctx: EndpointContext,
  underlying: string,
  params: URLSearchParams,
  requestId: string,
): Reply {
  const { dataset, views } = ctx;
  const cursorText = params.get('cursor');
  let query: ChainQuery;
  let offset = 0;
  let now: number;
  let generation: string;
  if (cursorText !== null) {
    const cursor = decodeCursor(cursorText);
    if (!cursor) return errorReply(400, requestId, 'Invalid cursor.');
    if (cursor.underlying !== underlying)
      return errorReply(400, requestId, 'Cursor does not match this underlying.');
    ({ query, offset, now, generation } = cursor);
    const current = dataset.generation(now);
    if (current !== generation) {
      ctx.onStaleCursor();
      generation = current;
    }
  } else {
    const parsed = parseChainQuery(params);
    if (!parsed.ok) return errorReply(400, requestId, parsed.error);
    query = parsed.query;
    now = dataset.now();
    generation = dataset.generation(now);
  }
  if (!dataset.underlyings().includes(underlying)) {
    return { status: 200, body: { status: 'OK', request_id: requestId, results: [] } };
  }
  const page = views.page(underlying, now, generation, query, offset);
  const body: { status: string; request_id: string; results: unknown[]; next_url?: string } = {
    status: 'OK',
    request_id: requestId,
    results: page.items,
  };
  let next: string | undefined;
  if (ctx.nextUrlLoop()) {
    ctx.onLoop();
    next = cursorText ?? encodeCursor({ underlying, query, offset: offset + query.limit, now, generation });
  } else if (page.hasMore) {
    next = encodeCursor({ underlying, query, offset: offset + query.limit, now, generation });
  }
  if (next !== undefined)
    body.next_url = `${ctx.baseUrl()}${OPTIONS_PREFIX}${pathSegment(underlying)}?cursor=${next}`;
  return { status: 200, body };
}

/** `GET /v3/snapshot/options/{underlying}/{contract}`: one contract, or 404 `NOT_FOUND`. */
export function contractReply(
  ctx: EndpointContext,
  underlying: string,
  contract: string,
  requestId: string,
): Reply {
  const { dataset, views } = ctx;
  const found = dataset.underlyings().includes(underlying)
    ? views.find(underlying, dataset.now(), contract)
    : null;
  if (!found) return notFoundReply(requestId, MESSAGES.contractNotFound);
  return { status: 200, body: { status: 'OK', request_id: requestId, results: found } };
}

/**
 * `GET /v3/snapshot/indices`: `ticker.any_of` (≤ 250), or `ticker`, or every `I:` underlying (up to
 * `limit`); unknown tickers become per-ticker `NOT_FOUND` items. Not paginated.
 */
export function indicesReply(ctx: EndpointContext, params: URLSearchParams, requestId: string): Reply {
  const { dataset } = ctx;
  const anyOf = params.get('ticker.any_of');
  const single = params.get('ticker');
  const rawLimit = params.get('limit');
  const limit = rawLimit === null ? 10 : /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    return errorReply(
      400,
      requestId,
      `Invalid limit: '${rawLimit}' (must be an integer from 1 to ${MAX_LIMIT}).`,
    );
  }
  let tickers: string[];
  if (anyOf !== null) {
    tickers = anyOf
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    if (tickers.length > MAX_LIMIT) {
      return errorReply(400, requestId, `ticker.any_of accepts at most ${MAX_LIMIT} tickers.`);
    }
  } else if (single !== null) {
    tickers = [single];
  } else {
    tickers = dataset
      .underlyings()
      .filter((t) => t.startsWith('I:'))
      .sort()
      .slice(0, limit);
  }
  const now = dataset.now();
  const results = tickers.map((t) => indexResult(dataset, t, now));
  return { status: 200, body: { status: 'OK', request_id: requestId, results } };
}

/** The error reply of an injected status fault (429 with `Retry-After`, 500, 503, 401). */
export function faultReply(
  fault: Exclude<QueuedFault, 'timeout' | 'malformed' | 'truncated'>,
  retryAfterSec: number,
  requestId: string,
): Reply {
  switch (fault) {
    case '429':
      return errorReply(429, requestId, MESSAGES.rateLimited, { 'retry-after': String(retryAfterSec) });
    case '500':
      return errorReply(500, requestId, MESSAGES.internal);
    case '503':
      return errorReply(503, requestId, MESSAGES.unavailable);
    case '401':
      return errorReply(401, requestId, MESSAGES.badKey);
  }
}

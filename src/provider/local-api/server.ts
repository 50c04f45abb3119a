/**
 * @module The local Massive-compatible REST API (node:http): the chain, contract and indices snapshot
 * endpoints over a {@link MarketDataset}, with API-key auth, cursor pagination, vendor error bodies, fault
 * injection and admin endpoints.
 *
 * Order of decisions for an API request: unknown route (404) → `down` (503) → `unauthorized` (401) →
 * API key (401) → one fault from the queue, else from the seeded rates → `latencyMs` (chain pages) → answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin, type AdminContext } from './admin.js';
import { checkAuth } from './auth.js';
import { ChainViews } from './chain-view.js';
import type { MarketDataset } from './dataset.js';
import {
  chainReply,
  contractReply,
  faultReply,
  indicesReply,
  route,
  type EndpointContext,
} from './endpoints.js';
import { FaultInjector, type FaultConfig, type QueuedFault } from './faults.js';
import { errorReply, MESSAGES, newRequestId, notFoundReply, type Reply } from './reply.js';
import { bump, copyStats, emptyStats, type Endpoint, type LocalApiStats } from './stats.js';

/** The subset of a pino logger the server uses. */
export interface LocalApiLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LocalApiOptions {
  dataset: MarketDataset;
  /** When set, API requests need it (`?apiKey=` or `Authorization: Bearer`). Admin endpoints never do. */
  apiKey?: string;
  /** Initial faults (all off by default). */
  faults?: Partial<FaultConfig>;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 = ephemeral. @defaultValue 0 */
  port?: number;
  /** Seed of the fault PRNG. @defaultValue 1 */
  seed?: number;
  logger?: LocalApiLogger;
  /** Origin written into `next_url` (e.g. behind a port mapping). @defaultValue the listening URL */
  publicUrl?: string;
}

export interface LocalApiServer {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly dataset: MarketDataset;
  /** The current fault config. */
  faults(): FaultConfig;
  /** Merges into the fault config (a `queue` replaces the pending one). Throws on invalid values. */
  setFaults(f: Partial<FaultConfig>): void;
  /** All faults off, queue emptied. */
  resetFaults(): void;
  stats(): LocalApiStats;
  resetStats(): void;
  /** Stops listening and drops every connection (hanging `timeout` requests included). Idempotent. */
  close(): Promise<void>;
}

/** Body delivery: as is, cut to half a JSON document (complete HTTP), or half then a destroyed socket. */
type Delivery = 'normal' | 'malformed' | 'truncated';

/** Starts the local API. Resolves once it listens. */
export async function startLocalApi(opts: LocalApiOptions): Promise<LocalApiServer> {
  const { dataset, logger } = opts;
  const host = opts.host ?? '127.0.0.1';
  const injector = new FaultInjector(opts.seed ?? 1, opts.faults ?? {});
  const views = new ChainViews(dataset);
  const timers = new Set<NodeJS.Timeout>();
  let stats = emptyStats();
  let baseUrl = '';

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const admin: AdminContext = {
    dataset,
    faults: () => injector.config(),
    patchFaults: (patch) => injector.set(patch),
    stats: () => copyStats(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    marketChanged: () => views.clear(),
  };
  const endpoints: EndpointContext = {
    dataset,
    views,
    baseUrl: () => baseUrl,
    nextUrlLoop: () => injector.config().nextUrlLoop,
    onLoop: () => bump(stats.faults, 'loop'),
    onStaleCursor: () => {
      stats.staleCursors++;
    },
  };

  function send(res: ServerResponse, reply: Reply, delivery: Delivery = 'normal'): number {
    if (res.destroyed || res.writableEnded) return 0;
    const text = JSON.stringify(reply.body);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...reply.headers };
    if (delivery === 'normal') {
      const body = Buffer.from(text, 'utf8');
      res.writeHead(reply.status, { ...headers, 'content-length': String(body.length) }).end(body);
      return body.length;
    }
    const full = Buffer.from(text, 'utf8');
    const half = full.subarray(0, Math.max(1, Math.floor(full.length / 2)));
    if (delivery === 'malformed') {
      res.writeHead(200, { ...headers, 'content-length': String(half.length) }).end(half);
    } else {
      res.writeHead(200, { ...headers, 'content-length': String(full.length) });
      res.write(half, () => res.destroy());
    }
    return half.length;
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    requestId: string,
  ): Promise<void> {
    const started = performance.now();
    stats.requests++;
    const r = route(url.pathname);
    const endpoint: Endpoint = r.endpoint;
    bump(stats.byEndpoint, endpoint);
    let fault: QueuedFault | 'down' | 'unauthorized' | null = null;
    let reply: Reply;
    let delivery: Delivery = 'normal';
    const cfg = injector.config();
    if (r.endpoint === 'unknown') {
      reply = notFoundReply(requestId, MESSAGES.notFound);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply = errorReply(405, requestId, MESSAGES.methodNotAllowed, { allow: 'GET' });
    } else if (cfg.down) {
      fault = 'down';
      reply = errorReply(503, requestId, MESSAGES.unavailable);
    } else if (cfg.unauthorized) {
      fault = 'unauthorized';
      reply = errorReply(401, requestId, MESSAGES.badKey);
    } else {
      const auth = checkAuth(opts.apiKey, url.searchParams, req.headers);
      if (!auth.ok) {
        reply = errorReply(401, requestId, auth.error);
      } else {
        fault = injector.next();
        if (fault === 'timeout') {
          bump(stats.faults, fault);
          bump(stats.byStatus, 'timeout');
          logger?.debug(
            { requestId, path: url.pathname, endpoint, fault },
            'local-api: holding request (timeout fault)',
          );
          return; // accepted, never answered: close() or the client's abort ends it
        }
        if (r.endpoint === 'chain' && cfg.latencyMs > 0) await sleep(cfg.latencyMs);
        if (fault === null || fault === 'malformed' || fault === 'truncated') {
          if (fault !== null) delivery = fault;
          reply =
            r.endpoint === 'chain'
              ? chainReply(endpoints, r.underlying, url.searchParams, requestId)
              : r.endpoint === 'contract'
                ? contractReply(endpoints, r.underlying, r.contract, requestId)
                : indicesReply(endpoints, url.searchParams, requestId);
        } else {
          reply = faultReply(fault, cfg.retryAfterSec, requestId);
        }
      }
    }
    if (fault !== null) bump(stats.faults, fault);
    const bytes = send(res, reply, delivery);
    const status = delivery === 'normal' ? reply.status : 200;
    bump(stats.byStatus, String(status));
    stats.bytesSent += bytes;
    if (r.endpoint === 'chain' && status === 200 && delivery === 'normal') {
      stats.pagesServed++;
      const results = (reply.body as { results?: unknown[] }).results;
      stats.contractsServed += results?.length ?? 0;
    }
    logger?.debug(
      { requestId, path: url.pathname, endpoint, status, fault, ms: Math.round(performance.now() - started) },
      'local-api request',
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local');
    } catch {
      send(res, errorReply(400, requestId, 'Bad request URL.'));
      return;
    }
    if (url.pathname.startsWith('/__admin/')) {
      stats.adminRequests++;
      send(res, await handleAdmin(admin, req, url.pathname, requestId));
      return;
    }
    await handleApi(req, res, url, requestId);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger?.warn(
        { err: err instanceof Error ? err.message : String(err), path: req.url?.split('?')[0] },
        'local-api: handler failed',
      );
      if (!res.headersSent) send(res, errorReply(500, newRequestId(), MESSAGES.internal));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost =
    host === '0.0.0.0' || host === '::' || host === ''
      ? '127.0.0.1'
      : host.includes(':')
        ? `[${host}]`
        : host;
  const url = (opts.publicUrl ?? `http://${urlHost}:${port}`).replace(/\/+$/, '');
  baseUrl = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    dataset,
    faults: () => injector.config(),
    setFaults: (f) => {
      injector.set(f);
    },
    resetFaults: () => injector.reset(),
    stats: () => copyStats(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * @module The HTTP server (fastify): health, readiness and metrics; the JSON API; the SSE stream; the
 * dashboard. `chain-worker run --http` runs it beside the worker, `chain-worker serve --http` alone on
 * Redis. See docs/serving.md for the endpoints.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError } from '../config/errors.js';
import type { Config } from '../config/load.js';
import type { Socket } from 'node:net';
import { isAllowedHost, isLoopbackHost } from '../lib/net-hosts.js';
import type { Logger } from '../lib/logger.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import { registerAuth } from './auth.js';
import type { Metrics } from './metrics.js';
import { registerApiRoutes } from './routes/api.js';
import { registerChainRoutes } from './routes/chain.js';
import { configuredSymbols, type ServingContext } from './routes/context.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { sendError } from './routes/errors.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOpenApi } from './openapi.js';
import { SseHub, type SseOptions } from './sse.js';

export interface HttpServerDeps {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  mode: 'run' | 'serve';
  /** Last successful cycle time (run mode). */
  lastSuccessTs?: () => number;
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

export interface HttpAppOptions {
  /** SSE heartbeat period and slow-client cap (tests shorten them). */
  sse?: SseOptions;
  /** Folder of index.html, app.js and style.css. */
  dashboardDir?: string;
  /** The address the server listens on (always an allowed `Host`). */
  boundHost?: string;
}

/**
 * Builds the app without listening: `app.inject()` works in-process. The SSE hub's Redis subscriber
 * opens when the app is ready and closes with it, so always `await app.close()`.
 */
export function buildHttpApp(deps: HttpServerDeps, opts: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    // Keep-alive and stalled responses would otherwise hold close() open.
    forceCloseConnections: true,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Malformed URLs (bad percent-encoding, a parameter over 200 characters): JSON like every other error.
    frameworkErrors: (err, _req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void sendError(reply, tooLong ? 414 : 400, tooLong ? 'uri_too_long' : 'bad_url', err.message);
    },
  });
  const symbols = configuredSymbols(deps);
  const hub = new SseHub(
    {
      bus: deps.bus,
      keys: deps.keys,
      logger: deps.logger,
      metrics: deps.metrics,
      symbols,
      staleAfterSec: deps.config.staleAfterSec,
    },
    { maxClients: deps.config.httpMaxSseClients, ...opts.sse },
  );
  const ctx: ServingContext = { deps, hub, symbols, startedMs: Date.now() };
  registerGuards(app, deps, opts.boundHost ?? '127.0.0.1');

  app.addHook('onReady', () => hub.start());
  // SSE streams never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', () => hub.close());
  app.addHook('onClose', () => hub.close());

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status =
      typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600
        ? err.statusCode
        : 500;
    if (status >= 500) deps.logger.warn({ err: err.message, url: req.url, status }, 'HTTP request failed');
    const code =
      err.name === 'HttpError' && err.code
        ? err.code
        : status >= 500
          ? 'internal'
          : (err.code ?? 'bad_request');
    const message = status === 500 ? 'internal error (see the server log)' : err.message;
    return sendError(reply, status, code, message);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allow = methodsOf(path);
    if (allow.length > 0) {
      return sendError(
        reply.header('allow', allow.join(', ')),
        405,
        'method_not_allowed',
        `${req.method} is not allowed on ${path.slice(0, 200)}; allowed: ${allow.join(', ')}`,
      );
    }
    return sendError(reply, 404, 'not_found', `no route for ${req.method} ${path.slice(0, 200)}`);
  });

  // Every route's pattern and methods, so a wrong method on a known path is a 405 with `Allow`, not a 404.
  const routes: { re: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (r) => {
    routes.push({ re: routePattern(r.url), methods: Array.isArray(r.method) ? r.method : [r.method] });
  });
  const methodsOf = (path: string): string[] => {
    const out = new Set<string>();
    for (const r of routes) if (r.re.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  };

  registerAuth(app, deps.config.httpToken);
  registerOpenApi(app);
  // Routes load after the swagger plugin (plugins load in order), so GET /openapi.json lists every one.
  void app.register((scope, _opts, done) => {
    registerHealthRoutes(scope, ctx);
    registerApiRoutes(scope, ctx);
    registerChainRoutes(scope, ctx);
    registerEventRoutes(scope, ctx);
    registerDashboardRoutes(scope, opts.dashboardDir ? { dir: opts.dashboardDir } : {});
    done();
  });
  return app;
}

/** A route URL (`/api/models/:model/:symbol`, `/*`) as a regular expression over request paths. */
export function routePattern(url: string): RegExp {
  const body = url
    .split('/')
    .map((part) =>
      part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${body.replace(/\/+$/, '')}/*$`);
}

/**
 * Guards in front of every route: the `Host` check (DNS rebinding: a page on an attacker's name that
 * resolves to this address must not read it) and the connection cap (sockets over
 * `CHAIN_HTTP_MAX_CONNECTIONS` get a 503 and are closed).
 */
function registerGuards(app: FastifyInstance, deps: HttpServerDeps, boundHost: string): void {
  const { config, metrics } = deps;
  let open = 0;
  const overCap = new WeakSet<object>();
  app.server.on('connection', (socket: Socket) => {
    open++;
    metrics.httpConnections.set(open);
    if (open > config.httpMaxConnections) overCap.add(socket);
    socket.once('close', () => {
      open--;
      metrics.httpConnections.set(open);
    });
  });
  app.addHook('onRequest', async (req, reply) => {
    if (overCap.has(req.raw.socket)) {
      metrics.httpRejected.inc({ reason: 'connections' });
      return sendError(
        reply.header('connection', 'close').header('retry-after', '5'),
        503,
        'too_many_connections',
        `this server keeps at most ${config.httpMaxConnections} connections open (CHAIN_HTTP_MAX_CONNECTIONS)`,
      );
    }
    const host = req.headers.host;
    if (!isAllowedHost(host, boundHost, config.httpAllowedHosts)) {
      metrics.httpRejected.inc({ reason: 'host' });
      return sendError(
        reply,
        403,
        'host_not_allowed',
        `Host ${JSON.stringify((host ?? '').slice(0, 100))} is not served here (DNS-rebinding guard); list it in CHAIN_HTTP_ALLOWED_HOSTS`,
      );
    }
  });
}

/** Listen failures that come from the address asked for (`--http`), not from a bug. */
const ADDRESS_ERRORS = new Set([
  'EADDRINUSE',
  'EACCES',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
]);

/**
 * One `/metrics` scrape at start, in-process (`inject`: the app's hooks, with the bound Host and the token
 * a scraper sends), answered and discarded. The first scrape of a process runs cold code (fastify's routing
 * and reply path, prom-client's default collectors): 28–31 ms of main-thread CPU in one turn in a profile
 * of the live benchmark, whose only scrape it was; then the stream is live and every turn counts.
 * Best-effort: a failure here is not the server's.
 */
async function warmMetrics(app: FastifyInstance, url: string, token: string | undefined): Promise<void> {
  await app
    .inject({
      method: 'GET',
      url: '/metrics',
      headers: { host: new URL(url).host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
    .catch(() => undefined);
}

/** Builds the app and listens on `at` (127.0.0.1 unless told otherwise; port 0 picks one). */
export async function startHttpServer(
  deps: HttpServerDeps,
  at: { host: string; port: number },
  opts: HttpAppOptions = {},
): Promise<HttpServer> {
  const host = at.host || '127.0.0.1';
  if (!isLoopbackHost(host) && !deps.config.httpToken && !deps.config.httpAllowNoToken) {
    throw new ConfigError(
      'CHAIN_WORKER_HTTP_TOKEN',
      `required when the HTTP server binds beyond loopback (${host}); or set CHAIN_HTTP_ALLOW_NO_TOKEN=1`,
    );
  }
  const app = buildHttpApp(deps, { ...opts, boundHost: host });
  let url: string;
  try {
    url = await app.listen({ host, port: at.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && ADDRESS_ERRORS.has(code))
      throw new ConfigError(
        '--http',
        `expected an address this process can listen on`,
        `${host}:${at.port}: ${code}`,
      );
    throw err;
  }
  await warmMetrics(app, url, deps.config.httpToken);
  const addr = app.server.address();
  const bound = addr && typeof addr === 'object' ? addr : undefined;
  if (!isLoopbackHost(host)) {
    deps.logger.warn(
      { address: bound?.address, port: bound?.port, auth: deps.config.httpToken ? 'token' : 'none' },
      'HTTP server listens beyond loopback',
    );
  }
  deps.logger.info(
    {
      url,
      address: bound
        ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
        : url,
      mode: deps.mode,
      auth: deps.config.httpToken ? 'token' : 'none',
    },
    'HTTP server listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => (closing ??= app.close()),
  };
}

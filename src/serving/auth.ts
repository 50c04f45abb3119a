/**
 * @module Optional bearer-token auth (`CHAIN_WORKER_HTTP_TOKEN`) for everything but `/healthz`.
 *
 * Scripts and Prometheus send `Authorization: Bearer <token>`. A browser cannot add a header to a page
 * load or to an EventSource, so the dashboard is opened once as `/?token=<token>`: the server answers
 * with an HttpOnly, SameSite=Lax cookie holding a digest of the token (never the token itself) and
 * redirects to `/`, which drops the token from the address bar and history. Lax (not Strict) so a link to
 * the dashboard from a chat or a runbook works; every endpoint is a read-only GET, and cross-site
 * subresource requests (fetch, img, iframe) still carry no cookie. Comparisons are constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendError } from './routes/errors.js';

export const TOKEN_COOKIE = 'chain_worker_token';

/** Paths served without a token. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time string comparison (through SHA-256, so lengths do not leak either). */
export function sameSecret(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

/** The cookie value for a token: a domain-separated digest, useless as a bearer token. */
export function cookieValue(token: string): string {
  return createHash('sha256').update(`chain-worker-dashboard\0${token}`).digest('base64url');
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  const h = req.headers.cookie;
  if (typeof h !== 'string') return undefined;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** True when the request carries the token (header or dashboard cookie). */
export function isAuthorized(req: FastifyRequest, token: string): boolean {
  const b = bearer(req);
  if (b !== undefined && sameSecret(token, b)) return true;
  const c = cookie(req, TOKEN_COOKIE);
  return c !== undefined && sameSecret(cookieValue(token), c);
}

/** The path of a request URL without its query and without trailing slashes (`/healthz/` is `/healthz`). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

/** Adds the token check to every route (no-op without a token). */
export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req.url);
    if (OPEN_PATHS.has(path)) return;
    if (path === '/' && req.method === 'GET') {
      const q = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
      const presented = q.get('token');
      if (presented !== null && sameSecret(token, presented)) {
        const secure = req.protocol === 'https' ? '; Secure' : '';
        return reply
          .code(303)
          .header(
            'set-cookie',
            `${TOKEN_COOKIE}=${cookieValue(token)}; Path=/; HttpOnly; SameSite=Lax${secure}`,
          )
          .header('cache-control', 'no-store')
          .header('location', '/')
          .send();
      }
    }
    if (isAuthorized(req, token)) return;
    return sendError(
      reply.header('www-authenticate', 'Bearer realm="chain-worker"'),
      401,
      'unauthorized',
      'this server requires a token: send "Authorization: Bearer <token>", or open the dashboard once as /?token=<token>',
    );
  });
}

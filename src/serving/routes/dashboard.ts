/**
 * @module The dashboard as static files: `src/serving/dashboard/{index.html,app.js,style.css}` and
 * ECharts' prebuilt `echarts.min.js` from node_modules. Nothing to build: files are read on first use,
 * gzipped once, revalidated by ETag, and reread when they change on disk.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PACKAGE_ROOT } from '../../lib/repo-paths.js';
import { acceptsGzip } from './api.js';

/** Where index.html, app.js and style.css live (also in the published package: see package.json files). */
export const DASHBOARD_DIR = resolve(PACKAGE_ROOT, 'src/serving/dashboard');

export function echartsPath(): string {
  return createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
}

interface Asset {
  file: string;
  type: string;
  cacheControl: string;
}

interface Loaded {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gz: Buffer;
  etag: string;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // ECharts positions its tooltip with inline styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export function registerDashboardRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DASHBOARD_DIR;
  const noCache = 'no-cache';
  const assets: Record<string, Asset> = {
    '/': { file: resolve(dir, 'index.html'), type: 'text/html; charset=utf-8', cacheControl: noCache },
    '/app.js': {
      file: resolve(dir, 'app.js'),
      type: 'text/javascript; charset=utf-8',
      cacheControl: noCache,
    },
    '/style.css': { file: resolve(dir, 'style.css'), type: 'text/css; charset=utf-8', cacheControl: noCache },
    '/vendor/echarts.min.js': {
      file: echartsPath(),
      type: 'text/javascript; charset=utf-8',
      cacheControl: 'public, max-age=3600',
    },
  };
  const cache = new Map<string, Loaded>();

  const load = (a: Asset): Loaded => {
    const st = statSync(a.file);
    const hit = cache.get(a.file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = readFileSync(a.file);
    const loaded: Loaded = {
      mtimeMs: st.mtimeMs,
      size: st.size,
      body,
      gz: gzipSync(body),
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
    };
    cache.set(a.file, loaded);
    return loaded;
  };

  const serve = (a: Asset) => (req: FastifyRequest, reply: FastifyReply) => {
    const f = load(a);
    void reply
      .header('content-type', a.type)
      .header('cache-control', a.cacheControl)
      .header('etag', f.etag)
      .header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff');
    if (a.type.startsWith('text/html'))
      void reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    if (acceptsGzip(req)) return reply.header('content-encoding', 'gzip').send(f.gz);
    return reply.send(f.body);
  };

  for (const [path, asset] of Object.entries(assets)) app.get(path, serve(asset));
  app.get('/index.html', (_req, reply) => reply.redirect('/', 301));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());
}

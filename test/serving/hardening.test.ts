/**
 * HTTP hardening (issue 10, "Also harden"): the Host check (DNS rebinding), caps on SSE clients and on
 * connections (503 JSON, counted), 405 with Allow for a wrong method, a truncated Last-Event-ID echo,
 * trailing slashes (auth included), and a non-loopback bind that requires the token. Real sockets.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { captureLogger } from '../support/fault-kit.js';
import { redisTargets } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { depsOf, stack } from './support.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
const TOKEN = 'hardening-token-123';

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request over a fresh socket (`host` sets the Host header as a browser would). */
function get(
  url: string,
  path: string,
  o: { method?: string; host?: string; headers?: Record<string, string>; firstChunk?: boolean } = {},
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: o.method ?? 'GET',
        agent: false,
        headers: { ...(o.host ? { host: o.host } : {}), ...(o.headers ?? {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString('utf8');
          // An SSE stream never ends: stop after its hello.
          if (o.firstChunk && body.includes('\n\n')) {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
            res.destroy();
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', () => undefined);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP hardening', () => {
  let h: Harness;
  const servers: HttpServer[] = [];
  beforeAll(async () => {
    h = await stack(single, { build: false });
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await h.close();
  });
  async function serve(config: Partial<Harness['config']> = {}, host = '127.0.0.1'): Promise<string> {
    const s = await startHttpServer(depsOf(h, { config: { ...h.config, ...config } }), { host, port: 0 });
    servers.push(s);
    return s.url;
  }

  it('Host check: loopback names, IP literals and the bound address pass; another name gets 403 JSON, counted', async () => {
    const url = await serve();
    const port = new URL(url).port;
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      '10.1.2.3',
      `LOCALHOST:${port}`,
      'app.localhost',
    ]) {
      expect((await get(url, '/healthz', { host })).status, host).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'rebind.attacker.test', `localhost.evil.example:${port}`]) {
      const r = await get(url, '/api/symbols', { host });
      expect(r.status, host).toBe(403);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'host_not_allowed' });
      expect((await get(url, '/healthz', { host })).status).toBe(403);
    }
    const metrics = (await get(url, '/metrics')).body;
    expect(metrics).toMatch(/chain_worker_http_rejected_total\{reason="host"\} 6/);
  });

  it('CHAIN_HTTP_ALLOWED_HOSTS adds names; "*" allows any', async () => {
    const listed = await serve({ httpAllowedHosts: ['dash.example'] });
    expect((await get(listed, '/healthz', { host: 'dash.example:8080' })).status).toBe(200);
    expect((await get(listed, '/healthz', { host: 'other.example' })).status).toBe(403);
    const any = await serve({ httpAllowedHosts: ['*'] });
    expect((await get(any, '/healthz', { host: 'whatever.example' })).status).toBe(200);
  });

  it('a wrong method on a known route is 405 with Allow; an unknown route stays 404', async () => {
    const url = await serve();
    const cases: [string, string, string][] = [
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/api/models/gex/SPX', 'GET, HEAD'],
      ['PUT', '/api/epochs/', 'GET, HEAD'],
      ['POST', '/events', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await get(url, path, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.allow).toBe(allow);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'method_not_allowed' });
    }
    const r = await get(url, '/nope', { method: 'POST' });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'not_found' });
  });

  it('every route answers the same with a trailing slash, token rules included', async () => {
    const url = await serve({ httpToken: TOKEN });
    expect((await get(url, '/healthz/')).status).toBe(200);
    expect((await get(url, '/healthz')).status).toBe(200);
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const path of [
      '/readyz',
      '/metrics',
      '/api/symbols',
      '/api/epochs',
      '/api/analytics/latency',
      '/api/models/gex/SPX',
    ]) {
      const plain = await get(url, path, { headers: auth });
      const slash = await get(url, `${path}/`, { headers: auth });
      expect(slash.status, path).toBe(plain.status);
      expect((await get(url, `${path}/`)).status, `${path}/ without token`).toBe(401);
    }
  });

  it('SSE clients are capped: one more gets 503 too_many_clients (counted); the long Last-Event-ID echo is truncated', async () => {
    const url = await serve({ httpMaxSseClients: 2 });
    const longId = 'x'.repeat(10_000);
    const a = await get(url, '/events', { firstChunk: true, headers: { 'last-event-id': longId } });
    expect(a.status).toBe(200);
    const hello = JSON.parse(
      /event: hello\n(?:[a-z]+: [^\n]*\n)*?data: (.*)\n/.exec(a.body)?.[1] ?? '{}',
    ) as {
      resumed_from: string;
    };
    expect(hello.resumed_from).toBe('x'.repeat(64));
    // Hold two streams open.
    const held: IncomingMessage[] = [];
    for (let i = 0; i < 2; i++) {
      held.push(
        await new Promise<IncomingMessage>((resolve) => {
          httpRequest(`${url}/events`, { agent: false }, resolve).end();
        }),
      );
    }
    try {
      const third = await get(url, '/events');
      expect(third.status).toBe(503);
      expect(third.headers['retry-after']).toBe('5');
      expect(JSON.parse(third.body)).toMatchObject({ error: 'too_many_clients' });
      expect((await get(url, '/metrics')).body).toMatch(
        /chain_worker_http_rejected_total\{reason="sse_clients"\} 1/,
      );
    } finally {
      for (const r of held) r.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(url, '/events', { firstChunk: true })).status).toBe(200);
  });

  it('connections are capped: a socket over the cap gets 503 too_many_connections and is closed', async () => {
    const url = await serve({ httpMaxConnections: 3 });
    const u = new URL(url);
    const idle: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = connect(Number(u.port), u.hostname);
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    try {
      const r = await get(url, '/healthz');
      expect(r.status).toBe(503);
      expect(r.headers.connection).toBe('close');
      expect(JSON.parse(r.body)).toMatchObject({ error: 'too_many_connections' });
    } finally {
      for (const s of idle) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const ok = await get(url, '/metrics');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/chain_worker_http_rejected_total\{reason="connections"\} 1/);
    expect(ok.body).toMatch(/chain_worker_http_connections 1/);
  });

  it('the server renders /metrics once as it starts, through the Host and token checks (nothing rejected)', async () => {
    for (const [config, host] of [
      [{}, '127.0.0.1'],
      [{ httpToken: TOKEN }, '127.0.0.1'],
      [{ httpToken: TOKEN }, '0.0.0.0'],
    ] as const) {
      const deps = depsOf(h, { config: { ...h.config, ...config } });
      const metrics = deps.metrics;
      const render = metrics.render.bind(metrics);
      let renders = 0;
      metrics.render = async () => {
        renders++;
        return render();
      };
      const rejectedBefore = (await deps.metrics.httpRejected.get()).values.reduce((n, v) => n + v.value, 0);
      const s = await startHttpServer(deps, { host, port: 0 });
      servers.push(s);
      expect(renders).toBe(1);
      const rejected = (await deps.metrics.httpRejected.get()).values.reduce((n, v) => n + v.value, 0);
      expect(rejected).toBe(rejectedBefore);
      metrics.render = render;
    }
  });

  it('a non-loopback bind needs the token unless CHAIN_HTTP_ALLOW_NO_TOKEN; the real bound address is logged', async () => {
    await expect(startHttpServer(depsOf(h), { host: '0.0.0.0', port: 0 })).rejects.toThrow(ConfigError);
    await expect(startHttpServer(depsOf(h), { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /CHAIN_WORKER_HTTP_TOKEN/,
    );
    const log = captureLogger({ level: 'info' });
    const s = await startHttpServer(
      depsOf(h, { logger: log.logger, config: { ...h.config, httpAllowNoToken: true } }),
      {
        host: '0.0.0.0',
        port: 0,
      },
    );
    servers.push(s);
    expect(log.text()).toMatch(/"address":"0\.0\.0\.0:\d+"/);
    expect(log.text()).toMatch(/HTTP server listens beyond loopback/);
    const withToken = await startHttpServer(depsOf(h, { config: { ...h.config, httpToken: TOKEN } }), {
      host: '0.0.0.0',
      port: 0,
    });
    servers.push(withToken);
    expect((await get(withToken.url, '/healthz')).status).toBe(200);
  });
});

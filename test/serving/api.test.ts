/**
 * The HTTP handlers in-process (`app.inject()`) against real Redis, on a key prefix of their own:
 * shapes and values of every endpoint, JSON errors, readiness, and the optional token.
 */
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/redis/bus.js';
import { ANALYTICS_SERIES } from '../../src/redis/keys.js';
import { inspect, type InspectView } from '../../src/serving/inspect.js';
import { Metrics } from '../../src/serving/metrics.js';
import { buildHttpApp } from '../../src/serving/server.js';
import { readSeries } from '../../src/wiring/analytics.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { depsOf, stack } from './support.js';
import { expectSchema } from '../support/schema.js';

const target = redisTargets()[0] as RedisTarget;
const TOKEN = 'test-token-0123456789';

let h: Harness | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  await h?.close();
  h = undefined;
});

function json(res: { body: string }): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** inspect() output without the parts that move with the clock. */
function stable(v: InspectView): unknown {
  return { ...v, ts: 0, symbols: v.symbols.map((s) => ({ ...s, epoch_age_sec: 0 })) };
}

describe('serving API (app.inject, single Redis)', () => {
  it('before any cycle: alive, not ready (503 with a reason), no models (404 JSON)', async () => {
    h = await stack(target, { build: false });
    app = buildHttpApp(depsOf(h, { lastSuccessTs: () => 0 }));

    const health = await app.inject('/healthz');
    expect(health.statusCode).toBe(200);
    expect(json(health)).toMatchObject({ status: 'ok', mode: 'run' });

    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['content-type']).toMatch(/^application\/json/);
    expect(json(ready)).toMatchObject({
      status: 'not_ready',
      error: 'not_ready',
      reason: 'no successful cycle yet',
      redis: 'ok',
    });

    const symbols = await app.inject('/api/symbols');
    const none = { gex: null, heatmap: null };
    expect(json(symbols)).toEqual({
      symbols: [
        { symbol: 'SPX', ticker: 'I:SPX', models: { gex: false, heatmap: false }, age: none },
        { symbol: 'NDX', ticker: 'I:NDX', models: { gex: false, heatmap: false }, age: none },
      ],
    });

    const missing = await app.inject('/api/models/gex/SPX');
    expect(missing.statusCode).toBe(404);
    expect(json(missing)).toEqual({
      error: 'model_not_found',
      message: expect.stringContaining('SPX') as unknown,
    });

    await app.close();
    app = buildHttpApp(depsOf(h, { mode: 'serve', lastSuccessTs: undefined }));
    const serveReady = await app.inject('/readyz');
    expect(serveReady.statusCode).toBe(503);
    expect(json(serveReady)).toMatchObject({
      status: 'not_ready',
      mode: 'serve',
      reason: 'no published model yet',
    });
  });

  it('after a cycle and a build: ready, models exactly as stored, epochs = inspect(), analytics series', async () => {
    h = await stack(target);
    const { bus, keys } = h;
    app = buildHttpApp(depsOf(h));

    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(json(ready)).toMatchObject({ status: 'ready', mode: 'run', redis: 'ok' });

    // serve mode: ready on a fresh model; not ready once the model is older than readyMaxAgeSec
    const serve = buildHttpApp(depsOf(h, { mode: 'serve' }));
    try {
      const r = await serve.inject('/readyz');
      expect(r.statusCode).toBe(200);
      expect(json(r)).toMatchObject({ status: 'ready', mode: 'serve' });
    } finally {
      await serve.close();
    }
    const old = buildHttpApp(
      depsOf(h, { lastSuccessTs: () => Date.now() - (h as Harness).config.readyMaxAgeSec * 1000 - 5_000 }),
    );
    try {
      const r = await old.inject('/readyz');
      expect(r.statusCode).toBe(503);
      expect(String(json(r).reason)).toMatch(/^last successful cycle is [\d.]+s old \(max \d+s\)$/);
    } finally {
      await old.close();
    }

    const symbols = await app.inject('/api/symbols');
    const fresh = {
      as_of: expect.any(String) as unknown,
      age_sec: expect.any(Number) as unknown,
      stale: false,
    };
    expect(json(symbols)).toEqual({
      symbols: [
        {
          symbol: 'SPX',
          ticker: 'I:SPX',
          models: { gex: true, heatmap: true },
          age: { gex: fresh, heatmap: fresh },
        },
        {
          symbol: 'NDX',
          ticker: 'I:NDX',
          models: { gex: true, heatmap: true },
          age: { gex: fresh, heatmap: fresh },
        },
      ],
    });

    for (const model of ['gex', 'heatmap'] as const) {
      for (const symbol of ['SPX', 'NDX']) {
        const stored = await bus.cmd.get(keys.model(model, symbol));
        expect(stored).not.toBeNull();
        const res = await app.inject(`/api/models/${model}/${symbol}`);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.body).toBe(stored);
        expectSchema(res.body, `${model}-model`);
        // gzip on request: the same bytes once inflated
        const gz = await app.inject({
          url: `/api/models/${model}/${symbol}`,
          headers: { 'accept-encoding': 'gzip' },
        });
        expect(gz.statusCode).toBe(200);
        if (gz.headers['content-encoding'] === 'gzip')
          expect(gunzipSync(gz.rawPayload).toString('utf8')).toBe(stored);
        else expect(gz.body).toBe(stored);
        // revalidation
        const etag = res.headers.etag as string;
        expect(etag).toMatch(/^W\/"/);
        const again = await app.inject({
          url: `/api/models/${model}/${symbol}`,
          headers: { 'if-none-match': etag },
        });
        expect(again.statusCode).toBe(304);
      }
    }
    const byTicker = await app.inject('/api/models/gex/I%3ASPX');
    expect(byTicker.body).toBe(await bus.cmd.get(keys.model('gex', 'SPX')));

    const epochs = await app.inject('/api/epochs');
    expect(epochs.statusCode).toBe(200);
    const expected = await inspect(bus, keys, ['SPX', 'NDX']);
    const got = json(epochs) as unknown as InspectView;
    expect(stable(got)).toEqual(stable(expected));
    expect(Math.abs(got.ts - expected.ts)).toBeLessThan(5); // Unix seconds
    expect(got.symbols.map((s) => s.epoch_id)).toEqual(expected.symbols.map((s) => s.epoch_id));
    expect(got.symbols.every((s) => typeof s.epoch_id === 'string')).toBe(true);

    for (const series of ANALYTICS_SERIES) {
      const all = await app.inject(`/api/analytics/${series}?since=0`);
      expect(all.statusCode).toBe(200);
      expect(json(all)).toEqual({
        series,
        symbol: null,
        since: 0,
        points: await readSeries(bus, keys, series, 0),
      });
    }
    const spx = await app.inject('/api/analytics/fetch_latency?since=0&symbol=SPX');
    const spxBody = json(spx) as { symbol: string; points: { symbol: string; ts: number; value: number }[] };
    expect(spxBody.symbol).toBe('SPX');
    expect(spxBody.points).toHaveLength(1);
    expect(spxBody.points[0]).toMatchObject({ symbol: 'SPX' });
    expect(spxBody.points).toEqual(await readSeries(bus, keys, 'fetch_latency', 0, 'SPX'));
    // default window: the last hour
    const recent = json(await app.inject('/api/analytics/contract_count')) as {
      since: number;
      points: unknown[];
    };
    expect(recent.points).toHaveLength(2);
    // `since` and every point's `ts` are Unix seconds
    expect(Date.now() / 1000 - recent.since).toBeGreaterThanOrEqual(3_600);
    expect(Date.now() / 1000 - recent.since).toBeLessThan(3_700);
    for (const p of recent.points as { ts: number }[])
      expect(Math.abs(Date.now() / 1000 - p.ts)).toBeLessThan(600);
    const fractional = await app.inject(`/api/analytics/contract_count?since=${recent.since.toFixed(3)}`);
    expect((json(fractional) as { points: unknown[] }).points).toHaveLength(2);
    const future = json(
      await app.inject(`/api/analytics/contract_count?since=${Date.now() / 1000 + 60}`),
    ) as {
      points: unknown[];
    };
    expect(future.points).toEqual([]);

    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'chain_worker_cycle_seconds',
      'chain_worker_contracts_per_snapshot',
      'chain_worker_sse_clients',
      'chain_worker_sse_dropped_total',
      'chain_worker_model_build_seconds',
      'chain_worker_epoch_promotions_total',
    ]) {
      expect(metrics.body).toContain(`# TYPE ${name} `);
    }
    expect(metrics.body).toMatch(/chain_worker_cycle_seconds_count\{symbol="SPX"\} 1/);
  });

  it('bad requests get a 4xx JSON {error, message}, never a 500', async () => {
    h = await stack(target, { build: false });
    app = buildHttpApp(depsOf(h));
    const cases: [string, number, string][] = [
      ['/api/models/gex/FOO', 404, 'unknown_symbol'],
      ['/api/models/bogus/SPX', 404, 'unknown_model'],
      ['/api/analytics/bogus', 404, 'unknown_series'],
      ['/api/analytics/fetch_latency?since=abc', 400, 'bad_query'],
      ['/api/analytics/fetch_latency?since=-5', 400, 'bad_query'],
      ['/api/analytics/fetch_latency?since=1.5e3', 400, 'bad_query'],
      [`/api/analytics/fetch_latency?since=${Date.now()}`, 400, 'bad_query'], // milliseconds, not seconds
      ['/api/analytics/fetch_latency?since=1&since=2', 400, 'bad_query'],
      ['/api/analytics/fetch_latency?symbol=FOO', 400, 'unknown_symbol'],
      ['/events?symbols=SPX,FOO', 400, 'unknown_symbol'],
      ['/events?models=gex,nope', 400, 'unknown_model'],
      ['/no/such/route', 404, 'not_found'],
      [`/api/models/gex/${'x'.repeat(500)}`, 414, 'uri_too_long'],
      ['/api/models/gex/%E0%A4%A', 400, 'bad_url'],
    ];
    for (const [url, status, error] of cases) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
      const body = json(res);
      expect(body.error, url).toBe(error);
      expect(typeof body.message, url).toBe('string');
      expect(Object.keys(body).sort(), url).toEqual(['error', 'message']);
    }
    const post = await app.inject({ method: 'POST', url: '/api/symbols', payload: 'x' });
    // A wrong method on a known route (issue 10 hardening): 405 with Allow, no longer 404.
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(json(post).error).toBe('method_not_allowed');
  });

  it('with a token: 401 without it, 200 with Bearer or the dashboard cookie; /healthz stays open', async () => {
    h = await stack(target, { build: false, env: { CHAIN_WORKER_HTTP_TOKEN: TOKEN } });
    expect(h.config.httpToken).toBe(TOKEN);
    app = buildHttpApp(depsOf(h));

    expect((await app.inject('/healthz')).statusCode).toBe(200);
    for (const url of [
      '/readyz',
      '/metrics',
      '/api/symbols',
      '/api/epochs',
      '/api/models/gex/SPX',
      '/events',
      '/',
      '/app.js',
    ]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(401);
      expect(json(res).error, url).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await app.inject({ url, headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.statusCode, url).toBe(401);
    }
    const ok = await app.inject({ url: '/api/symbols', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    const metrics = await app.inject({ url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).not.toContain(TOKEN);

    // The dashboard: /?token= sets a cookie (a digest, not the token) and redirects to /.
    const login = await app.inject(`/?token=${TOKEN}`);
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^chain_worker_token=[\w-]+; Path=\/; HttpOnly; SameSite=Lax/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0] as string;
    const page = await app.inject({ url: '/', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect((await app.inject({ url: '/api/symbols', headers: { cookie } })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/', headers: { cookie: 'chain_worker_token=forged' } })).statusCode,
    ).toBe(401);
    expect((await app.inject('/?token=wrong-token-value')).statusCode).toBe(401);
    // HEAD never opens a stream
    expect((await app.inject({ method: 'HEAD', url: '/events', headers: { cookie } })).statusCode).toBe(405);
  });

  it('serves the dashboard files and ECharts from node_modules', async () => {
    h = await stack(target, { build: false });
    app = buildHttpApp(depsOf(h));
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('data-testid="gex-chart"');
    expect(page.body).toContain('/vendor/echarts.min.js');
    const js = await app.inject('/app.js');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('EventSource');
    expect((await app.inject('/style.css')).headers['content-type']).toMatch(/^text\/css/);
    const echarts = await app.inject({
      url: '/vendor/echarts.min.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(echarts.statusCode).toBe(200);
    expect(echarts.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(echarts.rawPayload).length).toBeGreaterThan(500_000);
    const etag = echarts.headers.etag as string;
    expect(
      (await app.inject({ url: '/vendor/echarts.min.js', headers: { 'if-none-match': etag } })).statusCode,
    ).toBe(304);
    // gzip;q=0 says gzip is not acceptable (as the model API reads it): the file goes out as it is.
    const plain = await app.inject({ url: '/app.js', headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(js.body);
  });
});

describe('serving API with Redis down', () => {
  it('answers 503 JSON, not 500, and /healthz still 200', async () => {
    const bus = new RedisBus({
      url: 'redis://127.0.0.1:1',
      name: 'chain-worker-test-down',
      maxRetriesPerRequest: 0,
    });
    const h0 = await stack(target, { build: false });
    h = h0;
    app = buildHttpApp({ ...depsOf(h0), bus, metrics: new Metrics({ defaults: false }) });
    try {
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(json(ready)).toMatchObject({ status: 'not_ready', redis: 'unreachable' });
      for (const url of [
        '/api/symbols',
        '/api/models/gex/SPX',
        '/api/epochs',
        '/api/analytics/fetch_latency',
      ]) {
        const res = await app.inject(url);
        expect(res.statusCode, url).toBe(503);
        expect(json(res).error, url).toBe('redis_unavailable');
      }
    } finally {
      await app.close();
      app = undefined;
      await bus.close();
    }
  }, 30_000);
});

/**
 * Staleness is judged when a model is read, not when it was built: a model frozen by a wedged builder
 * still says `"stale": false` in its stored JSON, yet the API's headers, `/api/symbols` and the SSE notes
 * say how old it is and that it is stale. The stored document is served byte for byte.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { modelAge } from '../../src/serving/model-age.js';
import { noteAt, type ModelNote } from '../../src/serving/sse.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { SseClient, depsOf, stack } from './support.js';

const target = redisTargets()[0] as RedisTarget;
const T0 = Date.parse('2026-01-07T15:00:00.000Z');

describe('modelAge (pure)', () => {
  it.each([
    // [what, header, now, staleAfterSec, expected]
    [
      'fresh',
      { as_of: '2026-01-07T15:00:00.000Z', stale: false },
      T0 + 30_000,
      120,
      { age_sec: 30, stale: false },
    ],
    [
      'exactly at the threshold',
      { as_of: '2026-01-07T15:00:00.000Z', stale: false },
      T0 + 120_000,
      120,
      { age_sec: 120, stale: false },
    ],
    [
      'past the threshold',
      { as_of: '2026-01-07T15:00:00.000Z', stale: false },
      T0 + 120_100,
      120,
      { age_sec: 120.1, stale: true },
    ],
    [
      'frozen for an hour',
      { as_of: '2026-01-07T15:00:00.000Z', stale: false },
      T0 + 3_600_000,
      120,
      { age_sec: 3600, stale: true },
    ],
    [
      'built stale (dormant) stays stale',
      { as_of: '2026-01-07T15:00:00.000Z', stale: true },
      T0 + 1_000,
      120,
      { age_sec: 1, stale: true },
    ],
    [
      'as_of in the future (clock skew)',
      { as_of: '2026-01-07T15:00:05.000Z', stale: false },
      T0,
      120,
      { age_sec: 0, stale: false },
    ],
    [
      'rounded to 0.1 s',
      { as_of: '2026-01-07T15:00:00.000Z', stale: false },
      T0 + 1_234,
      120,
      { age_sec: 1.2, stale: false },
    ],
    ['no as_of', { stale: false }, T0, 120, { as_of: null, age_sec: null, stale: false }],
    [
      'unparseable as_of',
      { as_of: 'yesterday', stale: true },
      T0,
      120,
      { as_of: 'yesterday', age_sec: null, stale: true },
    ],
  ])('%s', (_what, header, now, after, expected) => {
    const asOf = (header as { as_of?: string }).as_of ?? null;
    expect(modelAge(header, now, after)).toEqual({ as_of: asOf, ...expected });
  });

  it('a note is judged when it is sent', () => {
    const note: ModelNote = {
      model: 'gex',
      symbol: 'SPX',
      epoch_id: 'SPX:1:a',
      ts: '2026-01-07T15:00:01.000Z',
      as_of: '2026-01-07T15:00:00.000Z',
      stale: false,
      age_sec: null,
      built_stale: false,
      spot: 1,
      contract_count: 1,
      partial: false,
      missing_expirations: [],
      live_source: null,
      last_tick_ts: null,
      url: '/api/models/gex/SPX',
    };
    expect(noteAt(note, T0 + 10_000, 120)).toMatchObject({ stale: false, age_sec: 10 });
    expect(noteAt(note, T0 + 600_000, 120)).toMatchObject({ stale: true, age_sec: 600 });
    expect(noteAt({ ...note, as_of: null }, T0 + 600_000, 120)).toMatchObject({
      stale: false,
      age_sec: null,
    });
  });
});

describe('readers judge staleness at read time (single Redis)', () => {
  let h: Harness | undefined;
  let server: HttpServer | undefined;
  const clients: SseClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
    await h?.close();
    h = undefined;
  });

  /** Rewrites the stored model as a wedged builder would have left it: built `ageSec` ago, `stale: false`. */
  async function freeze(hh: Harness, ageSec: number): Promise<string> {
    const key = hh.keys.model('gex', 'SPX');
    const doc = JSON.parse((await hh.bus.cmd.get(key)) as string) as Record<string, unknown>;
    const asOf = new Date(Date.now() - ageSec * 1000).toISOString();
    const frozen = JSON.stringify({ ...doc, as_of: asOf, ts: asOf, stale: false });
    await hh.bus.cmd.set(key, frozen);
    return frozen;
  }

  it('the API says how old a frozen model is and that it is stale; the body is the stored document', async () => {
    h = await stack(target, { env: { CHAIN_STALE_AFTER_SEC: '120' } });
    const frozen = await freeze(h, 600);
    server = await startHttpServer(depsOf(h, { mode: 'serve' }), { host: '127.0.0.1', port: 0 });

    const res = await fetch(`${server.url}/api/models/gex/SPX`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(frozen);
    expect(res.headers.get('x-model-stale')).toBe('true');
    const age = Number(res.headers.get('x-model-age-seconds'));
    expect(age).toBeGreaterThanOrEqual(600);
    expect(age).toBeLessThan(610);
    expect(res.headers.get('x-model-as-of')).toBe((JSON.parse(frozen) as { as_of: string }).as_of);

    // The heatmap, just built, is fresh.
    const hm = await fetch(`${server.url}/api/models/heatmap/SPX`);
    await hm.arrayBuffer();
    expect(hm.headers.get('x-model-stale')).toBe('false');
    expect(Number(hm.headers.get('x-model-age-seconds'))).toBeLessThan(60);

    const symbols = (await (await fetch(`${server.url}/api/symbols`)).json()) as {
      symbols: { symbol: string; age: Record<string, { age_sec: number; stale: boolean } | null> }[];
    };
    const spx = symbols.symbols.find((s) => s.symbol === 'SPX');
    expect(spx?.age.gex?.stale).toBe(true);
    expect(spx?.age.gex?.age_sec).toBeGreaterThanOrEqual(600);
    expect(spx?.age.heatmap?.stale).toBe(false);
  });

  it('SSE notes carry the age at send time, and a model that turns stale is announced again', async () => {
    h = await stack(target, { env: { CHAIN_STALE_AFTER_SEC: '3' } });
    // Built 1 s ago, stored stale:false: fresh when the client connects, stale 2 s later.
    await freeze(h, 1);
    server = await startHttpServer(
      depsOf(h, { mode: 'serve' }),
      { host: '127.0.0.1', port: 0 },
      { sse: { staleCheckMs: 200 } },
    );
    const c = await SseClient.open(`${server.url}/events?symbols=SPX&models=gex`);
    clients.push(c);
    await c.waitFor(() => c.models().length >= 1, 10_000, 'the current note');
    const first = c.models()[0] as ReturnType<SseClient['models']>[number] & { age_sec: number };
    expect(first.stale).toBe(false);
    expect(first.age_sec).toBeGreaterThanOrEqual(1);
    expect(first.age_sec).toBeLessThan(3);
    await c.waitFor(() => c.models().some((m) => m.stale === true), 6_000, 'a note saying stale');
    const turned = c.models().find((m) => m.stale === true) as typeof first;
    expect(turned.epoch_id).toBe(first.epoch_id);
    expect(turned.age_sec).toBeGreaterThan(3);
    // Said once, not on every check.
    await new Promise((r) => setTimeout(r, 600));
    expect(c.models().filter((m) => m.stale === true)).toHaveLength(1);
  });
});

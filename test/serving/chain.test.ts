/**
 * `GET /api/chain/{symbol}?expiration=`: one expiration of the active epoch, read back from the contract
 * substrates in Redis and compared field by field; the rows of other dates are not there; bad queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chainRow, type ChainRow } from '../../src/serving/routes/chain.js';
import { buildHttpApp } from '../../src/serving/server.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { depsOf, stack } from './support.js';
import { readIndex } from '../support/contract-index.js';

const target = redisTargets()[0] as RedisTarget;

describe('chain rows (pure)', () => {
  const sub = {
    id: 'O:SPXW261201C06850000',
    expiration: '2026-12-01',
    strike: 6850,
    type: 'call',
    bid: 1.1,
    ask: 1.3,
    mid: 1.2,
    iv: 0.15,
    delta: 0.4,
    gamma: 0.01,
    oi: 100,
    volume: 7,
  };
  it.each<[string, string | null, string, Partial<ChainRow> | null]>([
    [
      'a contract of the date',
      JSON.stringify(sub),
      '2026-12-01',
      { strike: 6850, type: 'call', bid: 1.1, volume: 7 },
    ],
    ['another date', JSON.stringify(sub), '2026-12-02', null],
    [
      'missing greeks are null',
      JSON.stringify({ ...sub, gamma: null, iv: 'x' }),
      '2026-12-01',
      { gamma: null, iv: null },
    ],
    ['unreadable', '{', '2026-12-01', null],
    ['absent', null, '2026-12-01', null],
    ['type C is not a substrate type', JSON.stringify({ ...sub, type: 'C' }), '2026-12-01', null],
  ])('%s', (_what, raw, date, want) => {
    const row = chainRow(raw, date);
    if (want === null) expect(row).toBeNull();
    else expect(row).toMatchObject(want);
  });
});

describe('GET /api/chain/{symbol}', () => {
  let h: Harness;
  let app: FastifyInstance;
  beforeAll(async () => {
    h = await stack(target);
    app = buildHttpApp(depsOf(h));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  it('returns every contract of the date as stored, sorted by strike, calls first', async () => {
    const epochId = (await h.bus.cmd.hget(h.keys.epochActive, 'SPX')) as string;
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
    const subs = await Promise.all(
      ids.map(
        async (id) =>
          JSON.parse((await h.bus.cmd.get(h.keys.epochContract(epochId, id))) as string) as Record<
            string,
            unknown
          >,
      ),
    );
    const date = subs.map((s) => s.expiration as string).sort()[0] as string;
    const want = subs.filter((s) => s.expiration === date);
    expect(want.length).toBeGreaterThan(10);

    const res = await app.inject(`/api/chain/SPX?expiration=${date}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      symbol: string;
      epoch_id: string;
      as_of: string;
      expiration: string;
      contracts: ChainRow[];
    }>();
    expect(body).toMatchObject({ symbol: 'SPX', epoch_id: epochId, expiration: date });
    const asOf = Number(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'as_of'));
    expect(Date.parse(body.as_of)).toBe(Math.round(asOf * 1000));
    expect(body.contracts.length).toBe(want.length);
    for (const c of body.contracts) {
      const s = want.find((x) => x.id === c.id) as Record<string, unknown>;
      for (const f of [
        'strike',
        'type',
        'bid',
        'ask',
        'mid',
        'iv',
        'delta',
        'gamma',
        'oi',
        'volume',
      ] as const)
        expect(c[f], `${c.id} ${f}`).toBe(s[f] ?? null);
    }
    const order = body.contracts.map((c) => [c.strike, c.type]);
    expect(order).toEqual(
      [...order].sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] === 'call' ? -1 : 1)),
    );
  });

  it.each([
    ['/api/chain/SPX', 400, 'bad_query'],
    ['/api/chain/SPX?expiration=12-01', 400, 'bad_query'],
    // The shape of a date but no day of the calendar: not a date with no contracts.
    ['/api/chain/SPX?expiration=2026-13-45', 400, 'bad_query'],
    ['/api/chain/SPX?expiration=2026-02-30', 400, 'bad_query'],
    ['/api/chain/SPX?expiration=2026-00-10', 400, 'bad_query'],
    ['/api/chain/FOO?expiration=2026-12-01', 404, 'unknown_symbol'],
  ])('%s → %i %s', async (url, status, error) => {
    const res = await app.inject(url);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error });
  });

  it('a date with no contracts is an empty list', async () => {
    const res = await app.inject('/api/chain/SPX?expiration=2001-01-01');
    expect(res.statusCode).toBe(200);
    expect(res.json<{ contracts: unknown[] }>().contracts).toEqual([]);
  });

  it('an unreadable contract index is a 404 chain_not_found naming it, not a 500; other symbols still answer', async () => {
    const epochId = (await h.bus.cmd.hget(h.keys.epochActive, 'NDX')) as string;
    for (const raw of ['not zlib, not JSON', '["a", 1]', '[not json']) {
      await h.bus.cmd.set(h.keys.epochContracts(epochId), raw, 'EX', 60);
      const res = await app.inject('/api/chain/NDX?expiration=2026-12-01');
      expect(res.statusCode, raw).toBe(404);
      const body = res.json<{ error: string; message: string }>();
      expect(body.error, raw).toBe('chain_not_found');
      expect(body.message.startsWith(`the contract index of epoch ${epochId} is unreadable: `), raw).toBe(
        true,
      );
    }
    expect((await app.inject('/api/chain/SPX?expiration=2001-01-01')).statusCode).toBe(200);
  });
});

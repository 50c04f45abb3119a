/**
 * `GET /api/epochs` (and `inspect()`) with one epoch's meta unreadable: a field that is not a number or
 * not a JSON array, the meta key of another type, an unreadable heartbeat. The list still answers 200; the
 * other symbols are as before, the bad one is kept and names what it could not read in `meta_errors`.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../src/serving/server.js';
import type { InspectView, SymbolView } from '../../src/serving/inspect.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { depsOf, stack } from './support.js';

const target = redisTargets()[0] as RedisTarget;

let h: Harness | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  await h?.close();
  h = undefined;
});

function row(v: InspectView, symbol: string): SymbolView {
  const r = v.symbols.find((s) => s.symbol === symbol);
  if (!r) throw new Error(`no row for ${symbol}`);
  return r;
}

describe('GET /api/epochs with one malformed epoch meta', () => {
  it('bad fields: 200, the other symbol intact, the bad one read as absent and named in meta_errors', async () => {
    h = await stack(target);
    app = buildHttpApp(depsOf(h));
    const before = JSON.parse((await app.inject('/api/epochs')).body) as InspectView;
    const spx = row(before, 'SPX');
    expect(spx.meta_errors).toEqual([]);
    const ndxId = row(before, 'NDX').epoch_id as string;
    expect(row(before, 'NDX').meta_errors).toEqual([]);

    await h.bus.cmd.hset(h.keys.epochMeta(ndxId), {
      expirations: 'not json',
      missing_expirations: '{"a":1}',
      dormant_count: 'x',
      contract_count: '12abc',
      spot: 'abc',
      created_ts: 'yesterday',
    });
    const res = await app.inject('/api/epochs');
    expect(res.statusCode).toBe(200);
    const after = JSON.parse(res.body) as InspectView;
    expect({ ...row(after, 'SPX'), epoch_age_sec: 0 }).toEqual({ ...spx, epoch_age_sec: 0 });
    const ndx = row(after, 'NDX');
    expect(ndx).toMatchObject({
      epoch_id: ndxId,
      epoch_age_sec: null,
      expirations: [],
      missing_expirations: [],
      dormant_count: 0,
      contract_count: 0,
      spot: null,
    });
    expect(ndx.meta_errors).toEqual([
      'created_ts: not a number (got "yesterday")',
      'dormant_count: not a number (got "x")',
      'contract_count: not a number (got "12abc")',
      'expirations: not a JSON array of strings (got "not json")',
      'missing_expirations: not a JSON array of strings (got "{\\"a\\":1}")',
      'spot: not a number (got "abc")',
    ]);
  });

  it('the meta key of another type, an unreadable heartbeat: 200, marked, the rest served', async () => {
    h = await stack(target);
    app = buildHttpApp(depsOf(h));
    const before = JSON.parse((await app.inject('/api/epochs')).body) as InspectView;
    const ndxId = row(before, 'NDX').epoch_id as string;
    await h.bus.cmd.del(h.keys.epochMeta(ndxId));
    await h.bus.cmd.set(h.keys.epochMeta(ndxId), 'a string, not a hash');
    await h.bus.cmd.set(h.keys.heartbeat, '{not json');

    const res = await app.inject('/api/epochs');
    expect(res.statusCode).toBe(200);
    const after = JSON.parse(res.body) as InspectView;
    expect(row(after, 'SPX')).toMatchObject({ epoch_id: row(before, 'SPX').epoch_id, meta_errors: [] });
    expect(row(after, 'SPX').contract_count).toBeGreaterThan(0);
    const ndx = row(after, 'NDX');
    expect(ndx).toMatchObject({ epoch_id: ndxId, status: null, contract_count: 0 });
    expect(ndx.meta_errors).toEqual([expect.stringMatching(/^meta: not a hash \(WRONGTYPE/)]);
    expect(after.heartbeat).toEqual({ status: 'unreadable', reason: 'massive:heartbeat is not JSON' });
  });
});

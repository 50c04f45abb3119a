/**
 * The history on the model thread (models/model-thread-entry.ts): the pool lends its first thread's RPC to
 * the history, whose encodes run after the builds; a build that arrives while history work is queued is
 * taken before it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModelThreadPool } from '../../src/models/model-thread.js';
import type { BuildRequest } from '../../src/models/build-models.js';
import { EncoderThread } from '../../src/outputs/history/encoder-thread.js';
import { reconstruct } from '../../src/outputs/history/record.js';
import { substrate } from '../models/substrate-fixture.js';

const AS_OF = Date.UTC(2026, 0, 7, 15, 0);

function buildRequest(): BuildRequest {
  const contracts = [6800, 6850, 6900].flatMap((k) =>
    (['C', 'P'] as const).map((t) =>
      substrate(
        'SPXW',
        '2026-01-09',
        t,
        k,
        { mid: 10, bid: 9.5, ask: 10.5, iv: 0.15, gamma: 0.002, oi: 100 },
        AS_OF / 1000,
      ),
    ),
  );
  return {
    symbol: 'SPX',
    epochId: 'SPX:1:abcdef',
    asOf: AS_OF,
    spot: 6850,
    ts: AS_OF,
    stale: false,
    widths: [50],
    windowPct: 5,
    substrates: new TextEncoder().encode(JSON.stringify(contracts)),
  };
}

/** A version of ~1.5 MB whose first encode (a keyframe: brotli) takes tens of ms; versions differ in one value. */
function bigVersion(seed: number): Uint8Array {
  const rows = Array.from({ length: 40_000 }, (_, i) => ({ k: i, v: i === 0 ? seed : Math.sin(i) }));
  return new TextEncoder().encode(JSON.stringify({ rows }));
}

describe('history on the model thread', () => {
  const pools: ModelThreadPool[] = [];
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.close();
  });

  it('the history lane is the first model thread, the one builds take', async () => {
    const pool = new ModelThreadPool(1);
    pools.push(pool);
    const lane = pool.historyLane();
    expect(lane).not.toBeNull();
    const lease = await pool.acquire();
    expect(lease.thread.lane()).toBe(lane);
    lease.release();
  });

  it('encodes and rebuilds there; a build sent behind queued history work is answered before it', async () => {
    const pool = new ModelThreadPool(1);
    pools.push(pool);
    const history = new EncoderThread(pool.historyLane() ?? undefined);
    const done: string[] = [];
    const encode = (id: string, seed: number): Promise<Uint8Array> =>
      history
        .encode({ stream: 'heatmap:SPX', id, tsMs: AS_OF + seed, published: bigVersion(seed), gex: false })
        .then((r) => {
          done.push(id);
          return r.record;
        });
    // Sent in this order within one turn: the thread takes in all three before its second job.
    const first = encode('v1', 1);
    const second = encode('v2', 2);
    const lease = await pool.acquire();
    const built = lease.thread.build(buildRequest()).then((r) => {
      done.push('build');
      return r;
    });
    const [r1, r2, models] = await Promise.all([first, second, built]);
    lease.release();
    // FIFO would answer v1, v2, build. Here the build is taken as soon as the job under way (v1, if the
    // thread had started it) is done: before v2 either way.
    expect([...done].sort()).toEqual(['build', 'v1', 'v2']);
    expect(done.indexOf('build')).toBeLessThan(done.indexOf('v2'));
    expect(models.contracts).toBe(6);
    // The records are the history's: the keyframe, then a patch on it, each giving its version back.
    expect(Buffer.from(reconstruct([Buffer.from(r1)])).equals(Buffer.from(bigVersion(1)))).toBe(true);
    const rebuilt = await history.reconstruct([Buffer.from(r1), Buffer.from(r2)]);
    expect(rebuilt.equals(Buffer.from(bigVersion(2)))).toBe(true);
    // Closing the history leaves the shared thread to its owner: the pool still builds.
    await history.close();
    const again = await pool.acquire();
    expect((await again.thread.build(buildRequest())).contracts).toBe(6);
    again.release();
  });

  it('a closed pool refuses the history lane (its thread is not started again behind its owner)', async () => {
    const pool = new ModelThreadPool(1);
    const history = new EncoderThread(pool.historyLane() ?? undefined);
    const encode = (): Promise<unknown> =>
      history.encode({ stream: 'gex:SPX', id: 'v', tsMs: AS_OF, published: bigVersion(1), gex: false });
    await expect(encode()).resolves.toMatchObject({ kind: 'keyframe' });
    await pool.close();
    await expect(encode()).rejects.toThrow(/model thread closed/);
  });
});

/**
 * The model thread pool: as many builds hold a thread at once as the pool has threads; the next waits for
 * one to be given back, first come first served; a thread given back twice counts once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModelThreadPool } from '../../src/models/model-thread.js';

/** 'settled' if `p` settles within a few turns of the loop, else 'pending'. */
async function state(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  return Promise.race([
    p.then(() => 'settled' as const),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), 20)),
  ]);
}

describe('ModelThreadPool', () => {
  const pools: ModelThreadPool[] = [];
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.close();
  });
  const pool = (n: number): ModelThreadPool => {
    const p = new ModelThreadPool(n);
    pools.push(p);
    return p;
  };

  it('lends two distinct threads at once from a pool of two; a third waits for one back', async () => {
    const p = pool(2);
    const a = await p.acquire();
    const b = await p.acquire();
    expect(a.thread).not.toBe(b.thread);
    const c = p.acquire();
    expect(await state(c)).toBe('pending');
    b.release();
    expect((await c).thread).toBe(b.thread);
  });

  it('a pool of one serializes: waiters get the thread in order, a double release counts once', async () => {
    const p = pool(1);
    const a = await p.acquire();
    const order: string[] = [];
    const b = p.acquire().then((l) => (order.push('b'), l));
    const c = p.acquire().then((l) => (order.push('c'), l));
    a.release();
    a.release();
    const lb = await b;
    expect(lb.thread).toBe(a.thread);
    expect(await state(c)).toBe('pending');
    lb.release();
    expect((await c).thread).toBe(a.thread);
    expect(order).toEqual(['b', 'c']);
  });

  it('rejects a size below one', () => {
    expect(() => new ModelThreadPool(0)).toThrow(/expected ≥ 1/);
  });
});

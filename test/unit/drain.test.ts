import { describe, expect, it } from 'vitest';
import { Drain } from '../../src/models/drain.js';

/** A build that ends when the test says so; records the order builds start and end. */
function harness(dirty: string[]) {
  const log: string[] = [];
  const pending = new Map<string, () => void>();
  let idleCalls = 0;
  let stopped = false;
  const failing = new Set<string>();
  const drain = new Drain<string>({
    dirtyIds: () => Promise.resolve([...dirty]),
    build: (id) =>
      new Promise<string>((resolve, reject) => {
        log.push(`start ${id}`);
        pending.set(id, () => {
          log.push(`end ${id}`);
          dirty.splice(dirty.indexOf(id), 1);
          if (failing.has(id)) reject(new Error(`build ${id} failed`));
          else resolve(id);
        });
      }),
    outputsIdle: () => {
      idleCalls++;
      return Promise.resolve();
    },
    stopped: () => stopped,
  });
  const finish = async (id: string): Promise<void> => {
    await until(() => pending.has(id));
    const f = pending.get(id) as () => void;
    pending.delete(id);
    f();
  };
  return { drain, log, finish, failing, idle: () => idleCalls, stop: () => (stopped = true), pending };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!cond()) throw new Error('condition not reached');
}

describe('Drain', () => {
  it('builds two symbols at once, one epoch at a time per symbol, then waits for the outputs', async () => {
    const dirty = ['SPX:1:a', 'NDX:1:b', 'SPX:2:c'];
    const h = harness(dirty);
    const done = h.drain.run();
    await until(() => h.log.length === 2);
    expect(h.log).toEqual(['start SPX:1:a', 'start NDX:1:b']);
    await h.finish('SPX:1:a');
    await until(() => h.log.includes('start SPX:2:c'));
    await h.finish('NDX:1:b');
    await h.finish('SPX:2:c');
    expect((await done).sort()).toEqual(['NDX:1:b', 'SPX:1:a', 'SPX:2:c']);
    expect(h.log).toEqual([
      'start SPX:1:a',
      'start NDX:1:b',
      'end SPX:1:a',
      'start SPX:2:c',
      'end NDX:1:b',
      'end SPX:2:c',
    ]);
    expect(h.idle()).toBe(1);
  });

  it('a call while a drain runs joins it and starts an epoch made dirty meanwhile at once', async () => {
    const dirty = ['SPX:1:a'];
    const h = harness(dirty);
    const first = h.drain.run();
    await until(() => h.log.length === 1);
    dirty.push('NDX:1:b');
    const second = h.drain.run();
    await until(() => h.log.includes('start NDX:1:b'));
    expect(h.log).toEqual(['start SPX:1:a', 'start NDX:1:b']);
    await h.finish('NDX:1:b');
    await h.finish('SPX:1:a');
    expect(second).toBe(first);
    expect((await first).sort()).toEqual(['NDX:1:b', 'SPX:1:a']);
  });

  it('an epoch still dirty after its build (refreshed meanwhile) is built again in the same drain', async () => {
    const dirty = ['SPX:1:a'];
    const h = harness(dirty);
    const done = h.drain.run();
    await until(() => h.log.length === 1);
    // A refresh lands during the build (the epoch is flagged dirty again: the build's end clears one flag
    // of two), and a scan meanwhile sees it dirty while in flight.
    dirty.push('SPX:1:a');
    void h.drain.run();
    await h.finish('SPX:1:a');
    await until(() => h.log.length === 3);
    expect(h.log).toEqual(['start SPX:1:a', 'end SPX:1:a', 'start SPX:1:a']);
    await h.finish('SPX:1:a');
    expect(await done).toEqual(['SPX:1:a', 'SPX:1:a']);
  });

  it('a failed build fails the drain once every other build has ended; the outputs are not awaited', async () => {
    const h = harness(['SPX:1:a', 'NDX:1:b']);
    h.failing.add('SPX:1:a');
    const done = h.drain.run();
    await h.finish('SPX:1:a');
    await h.finish('NDX:1:b');
    await expect(done).rejects.toThrow('build SPX:1:a failed');
    expect(h.idle()).toBe(0);
    await h.drain.settled();
  });

  it('stopping starts nothing new', async () => {
    const h = harness(['SPX:1:a', 'SPX:2:b']);
    const done = h.drain.run();
    await until(() => h.log.length === 1);
    h.stop();
    await h.finish('SPX:1:a');
    expect(await done).toEqual(['SPX:1:a']);
    expect(h.log).toEqual(['start SPX:1:a', 'end SPX:1:a']);
  });
});

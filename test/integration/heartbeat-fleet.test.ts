/**
 * Issue 10 defect 7 and issue 11 §3: with two workers the heartbeat describes the fleet (it never flips
 * between them, one copy never shows no cycles), SIGTERM on one does not say `stopped` while the other
 * runs, every heartbeat is PUBLISHed on `massive:heartbeat`, and the final `faulty` of a controlled
 * shutdown is kept so an aggregator polling later reads it with its reason.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ChainWorker } from '../../src/chain-worker/worker.js';
import type { FleetHeartbeat } from '../../src/wiring/heartbeat-fleet.js';
import { Heartbeat } from '../../src/wiring/heartbeat.js';
import { redisTargets } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

describe('fleet heartbeat', () => {
  let h: Harness | undefined;
  const workers: ChainWorker[] = [];
  let sub: Redis | undefined;
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.stop();
      await w.shutdown();
    }
    sub?.disconnect();
    sub = undefined;
    await h?.close();
    h = undefined;
  });

  it('two workers: one view that never flips, each worker listed, published on the channel; SIGTERM on one is not stopped', async () => {
    h = await startHarness(single, {
      sim: { contractsPerExpiration: 10 },
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.3', CHAIN_HEARTBEAT_SEC: '0.2', CHAIN_LEASE_TTL_SEC: '3' },
    });
    const hh = h;
    const published: FleetHeartbeat[] = [];
    sub = hh.bus.duplicate() as Redis;
    sub.on('message', (_ch: string, msg: string) => published.push(JSON.parse(msg) as FleetHeartbeat));
    await sub.subscribe(hh.keys.heartbeatChannel);

    const a = new ChainWorker({ ...hh.deps, systemBus: hh.bus }, { id: 'w-a' });
    const b = new ChainWorker({ ...hh.deps, systemBus: hh.bus }, { id: 'w-b' });
    workers.push(a, b);
    const runA = a.run();
    const runB = b.run();
    // Both hold one symbol each and have cycled.
    await waitUntil(
      () =>
        a.lastResults.size > 0 &&
        b.lastResults.size > 0 &&
        a.leases.held.size === 1 &&
        b.leases.held.size === 1,
      15_000,
      'both workers cycling one symbol each',
    );
    await waitUntil(
      async () => {
        const v = JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) ?? '{}') as Partial<FleetHeartbeat>;
        return v.live_workers === 2 && Object.keys(v.last_cycle ?? {}).length === 2;
      },
      5_000,
      'a fleet view with both',
    );

    // Sample the key for ~1.5 s: every read shows both workers and both symbols' cycles, status ok.
    const reads: FleetHeartbeat[] = [];
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      reads.push(JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) as string) as FleetHeartbeat);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const v of reads) {
      // The view never flipped between the two writers.
      expect(v.status).toBe('ok');
      expect(Object.keys(v.workers).sort()).toEqual(['w-a', 'w-b']);
      expect(Object.keys(v.last_cycle).sort()).toEqual(['NDX', 'SPX']);
      expect(v.provider).toBe('sim');
      expect(v.ts).toBeGreaterThan(1e9);
      expect(v.ts).toBeLessThan(1e10);
    }
    // Every heartbeat also went out on the channel, same JSON as the key.
    await waitUntil(() => published.length >= 4, 3_000, 'heartbeats on the channel');
    const last = published.at(-1) as FleetHeartbeat;
    expect(Object.keys(last.workers).sort()).toEqual(['w-a', 'w-b']);
    // Both workers wrote (and published) the view, and every view they published is the same fleet.
    expect(new Set(published.map((p) => p.instance))).toEqual(new Set(['w-a', 'w-b']));
    for (const p of published.slice(-4)) expect(Object.keys(p.workers).sort()).toEqual(['w-a', 'w-b']);

    // SIGTERM on A (its shutdown path): the fleet is still ok, A has left, B remains.
    a.stop('SIGTERM');
    await runA;
    const afterA = JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) as string) as FleetHeartbeat;
    expect(afterA.status).toBe('ok');
    expect(Object.keys(afterA.workers)).toEqual(['w-b']);
    expect(afterA.live_workers).toBe(1);
    expect(published.some((p) => p.status === 'stopped')).toBe(false);

    // B stops too: now, and only now, the fleet is stopped.
    b.stop('SIGTERM');
    await runB;
    const afterB = JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) as string) as FleetHeartbeat;
    expect(afterB).toMatchObject({ status: 'stopped', live_workers: 0, workers: {} });
    expect(await hh.bus.cmd.ttl(hh.keys.heartbeat)).toBeLessThanOrEqual(hh.config.heartbeatTtlSec);
    await waitUntil(() => published.at(-1)?.status === 'stopped', 2_000, 'stopped published');
  }, 60_000);

  it("a controlled shutdown's faulty heartbeat is kept (a day), with its reason, for a later poll", async () => {
    h = await startHarness(single);
    const hb = new Heartbeat(h.bus, h.keys, {
      service: 'chain-worker',
      instance: 'w-f',
      periodSec: 5,
      ttlSec: 1,
      logger: h.logger,
      provider: 'massive',
    });
    await hb.beat();
    expect(await h.bus.cmd.ttl(h.keys.heartbeat)).toBeLessThanOrEqual(1);
    await hb.stop('faulty', 'authentication failed: 401');
    await new Promise((r) => setTimeout(r, 1_300)); // past the ordinary TTL
    const v = JSON.parse((await h.bus.cmd.get(h.keys.heartbeat)) as string) as FleetHeartbeat;
    expect(v).toMatchObject({ status: 'faulty', reason: 'authentication failed: 401', provider: 'massive' });
    expect(v.workers['w-f']).toMatchObject({ status: 'faulty', final: true });
    const ttl = await h.bus.cmd.ttl(h.keys.heartbeat);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
    // A new worker starting later turns the fleet ok again while still listing the faulted one.
    const next = new Heartbeat(h.bus, h.keys, {
      service: 'chain-worker',
      instance: 'w-g',
      periodSec: 5,
      ttlSec: 1,
      logger: h.logger,
      provider: 'massive',
    });
    const view = await next.beat();
    expect(view.status).toBe('ok');
    expect(Object.keys(view.workers)).toEqual(['w-f', 'w-g']);
  }, 30_000);
});

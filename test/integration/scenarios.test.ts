/**
 * The seed's five operational scenarios against real Redis and the local API's fault knobs:
 * normal, burst, stale, failure and off-hours.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT, type WorkerDeps } from '../../src/chain-worker/worker.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import type { SnapshotApplied } from '../../src/outputs/observers.js';
import { FencedError } from '../../src/wiring/epoch-store.js';
import { redisTargets } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

function workerFor(h: Harness, id = 'w-test'): ChainWorker {
  return new ChainWorker({ ...h.deps, systemBus: h.bus }, { id });
}

/** A worker of SPX alone on the harness (its own heartbeat on the harness's bus). */
function spxWorker(h: Harness, id: string, deps: Partial<WorkerDeps> = {}): ChainWorker {
  return new ChainWorker(
    { ...h.deps, ...deps, systemBus: h.bus, config: { ...h.config, symbols: ['I:SPX'] } },
    { id },
  );
}

/** The heartbeat JSON the worker last stored in Redis. */
async function storedHeartbeat(h: Harness): Promise<{ status: string; reason: string | null }> {
  return JSON.parse((await h.bus.cmd.get(h.keys.heartbeat)) as string) as {
    status: string;
    reason: string | null;
  };
}

/** A worker against an API that fails: fast cycles, dormant after two failures, never the exit-3 limit. */
const FAILING_API_ENV = {
  MASSIVE_CHAIN_INTERVAL_SEC: '0.1',
  CHAIN_DORMANT_THRESHOLD: '2',
  CHAIN_MAX_CONSECUTIVE_FAILURES: '1000',
  MASSIVE_MAX_RETRIES: '0',
};

describe.each(redisTargets())('operational scenarios on $name', (target) => {
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown();
    worker = undefined;
    await h?.close();
    h = undefined;
  });

  it('normal: ~2,000 contracts, cadence = interval, stretched when fetches are slow; latencies recorded', async () => {
    h = await startHarness(target, { env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.5' } });
    const a = await runCycle(h.deps, 'I:SPX', '');
    const b = await runCycle(h.deps, 'I:NDX', '');
    expect(a.contracts + b.contracts).toBeGreaterThanOrEqual(1_900);
    expect(a.contracts + b.contracts).toBeLessThanOrEqual(2_500);
    expect(await h.bus.cmd.zcard(h.keys.analyticsSeries('fetch_latency'))).toBe(2);

    worker = workerFor(h);
    const run = worker.run();
    await waitUntil(() => worker?.state.get('I:SPX')?.lastDelayMs, 5_000, 'a worker cycle');
    // A fast cycle waits the interval (a loaded machine may stretch it by the documented rule).
    const firstCycle = worker.lastResults.get('I:SPX')?.cycleMs ?? 0;
    expect(worker.state.get('I:SPX')?.lastDelayMs).toBe(
      firstCycle > 250 ? Math.max(500, 2 * firstCycle) : 500,
    );
    // Slow pages (400 ms; one page per stream here): the cycle exceeds half the interval, so the wait stretches to 2 × cycle.
    h.api.setFaults({ latencyMs: 400 });
    const before = worker.lastResults.get('I:SPX');
    await waitUntil(
      () =>
        worker?.lastResults.get('I:SPX') !== before && (worker?.lastResults.get('I:SPX')?.cycleMs ?? 0) > 250,
      5_000,
      'a slow cycle',
    );
    const slow = worker.lastResults.get('I:SPX');
    expect(worker.state.get('I:SPX')?.lastDelayMs).toBeGreaterThanOrEqual(
      Math.round(2 * (slow?.cycleMs ?? 0)) - 1,
    );
    expect(worker.state.get('I:SPX')?.lastDelayMs).toBeGreaterThan(500);
    worker.stop();
    expect(await run).toBe(EXIT.ok);
  });

  it('burst: 20,000+ contracts all written; debounce; expiration cap; partial and slow in analytics', async () => {
    h = await startHarness(target, {
      sim: { burst: true },
      env: { CHAIN_BURST_MAX_EXPIRATIONS: '3', CHAIN_SLOW_FETCH_MS: '1', MASSIVE_CHAIN_INTERVAL_SEC: '1' },
    });
    const spx = await runCycle(h.deps, 'I:SPX', '');
    const ndx = await runCycle(h.deps, 'I:NDX', '');
    expect(spx.contracts + ndx.contracts).toBeGreaterThanOrEqual(20_000);
    expect(spx.burst && ndx.burst).toBe(true);
    for (const res of [spx, ndx]) {
      const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(res.epochId as string));
      expect(ids).toHaveLength(res.contracts);
      const subs = await h.bus.getMany(
        ids.map((id) => h?.keys.epochContract(res.epochId as string, id) as string),
      );
      expect(subs.every((v) => v !== null)).toBe(true);
    }
    expect(spx.health).toBe('slow');
    expect(await h.bus.cmd.hget(h.keys.analytics, 'bursts')).toBe('2');
    expect(Number(await h.bus.cmd.hget(h.keys.analytics, 'slow_snapshots'))).toBe(2);
    // While the burst lasts, the worker caps the next fetch at CHAIN_BURST_MAX_EXPIRATIONS.
    const capped = await runCycle(h.deps, 'I:SPX', '', { maxExpirations: h.config.burstMaxExpirations });
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(capped.epochId as string));
    expect(JSON.parse(meta.expirations as string)).toHaveLength(3);
    // Debounce: a burst cycle waits interval × CHAIN_BURST_INTERVAL_FACTOR.
    worker = workerFor(h);
    const run = worker.run();
    await waitUntil(() => worker?.state.get('I:SPX')?.lastDelayMs, 10_000, 'a burst cycle');
    expect(worker.state.get('I:SPX')?.lastDelayMs).toBeGreaterThanOrEqual(2_000);
    worker.stop();
    await run;
    // A page cap makes the snapshot partial.
    await h.close();
    h = await startHarness(target, { sim: { burst: true }, env: { MASSIVE_MAX_PAGES_PER_STREAM: '2' } });
    const partial = await runCycle(h.deps, 'I:SPX', '');
    expect(partial.health).toBe('partial');
    expect(await h.bus.cmd.hget(h.keys.analytics, 'partial_snapshots')).toBe('1');
    expect(await h.bus.cmd.hget(h.keys.fetchHealth, 'partial')).toBe('1');
    // Four 10,000-contract cycles and a worker run: ~10 s on an idle machine, over 30 s on a loaded one.
  }, 90_000);

  it('burst with an expiration cap: the cap holds while the chain is a burst, no flip between capped and whole chains', async () => {
    h = await startHarness(target, {
      sim: { burst: true },
      env: {
        CHAIN_BURST_MAX_EXPIRATIONS: '3',
        CHAIN_BURST_THRESHOLD: '9000',
        CHAIN_BURST_INTERVAL_FACTOR: '1',
        MASSIVE_CHAIN_INTERVAL_SEC: '0.2',
      },
    });
    const seen: { action: string; expirations: number; contracts: number }[] = [];
    const probe = {
      name: 'probe',
      snapshotApplied: (e: SnapshotApplied): Promise<void> => {
        seen.push({ action: e.action, expirations: e.expirations.length, contracts: e.contracts.length });
        return Promise.resolve();
      },
    };
    worker = spxWorker(h, 'w-burst-cap', { observers: [probe] });
    const run = worker.run();
    await waitUntil(() => seen.length >= 5, 60_000, 'five cycles');
    worker.stop();
    expect(await run).toBe(EXIT.ok);
    // The whole chain (a burst), then the capped chain promoted once and refreshed in place.
    // Was: promote 5, promote 3, promote 5, promote 3, ... (a capped fetch under the threshold ended the
    // burst, the next uncapped one started it again: a promotion and 2 expirations' keys churned each cycle).
    expect(seen[0]).toMatchObject({ action: 'promote', expirations: 5 });
    expect(seen[0]?.contracts).toBeGreaterThanOrEqual(9_000);
    expect(seen.slice(1, 5).map((e) => [e.action, e.expirations])).toEqual([
      ['promote', 3],
      ['refresh', 3],
      ['refresh', 3],
      ['refresh', 3],
    ]);
    expect(worker.lastResults.get('I:SPX')?.burst).toBe(true);
  }, 90_000);

  it('symbols cycle independently: a slow symbol does not hold back the cadence of another', async () => {
    // No massive:chain:latest: its assembly waits (up to 1 s, by design) for the other symbol's part.
    h = await startHarness(target, { env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.3', CHAIN_LATEST_MODE: 'off' } });
    // SPX's fetches take 3 s (then it waits 2 × its cycle); NDX's are fast (every 0.3 s).
    const real = h.deps.client;
    const client = Object.create(real) as typeof real;
    client.fetchSnapshot = async (symbol, opts) => {
      if (symbol === 'I:SPX') await new Promise((r) => setTimeout(r, 3_000));
      return real.fetchSnapshot(symbol, opts);
    };
    const starts: number[] = [];
    const probe = {
      name: 'probe',
      snapshotApplied: (e: SnapshotApplied): Promise<void> => {
        if (e.underlying === 'NDX') starts.push(Date.now());
        return Promise.resolve();
      },
    };
    worker = new ChainWorker(
      {
        ...h.deps,
        client,
        observers: [probe],
        systemBus: h.bus,
        config: { ...h.config, symbols: ['I:SPX', 'I:NDX'] },
      },
      { id: 'w-independent' },
    );
    const run = worker.run();
    await waitUntil(
      () => (worker?.lastResults.get('I:SPX') ? starts.length >= 1 : false),
      10_000,
      'first cycles',
    );
    const from = starts.length;
    await new Promise((r) => setTimeout(r, 4_000));
    worker.stop();
    expect(await run).toBe(EXIT.ok);
    const gaps = starts.slice(from).map((t, i) => t - (starts[from + i - 1] ?? t));
    // Was: NDX's cycles waited for SPX's whole cycle whenever both were due (gaps of 3 s and more). A gap
    // up to 2 s is a loaded machine's (NDX's own cycle every 0.3 s took up to 1.01 s once in CI, with
    // SPX's fetch at 1.5 s and a 1 s bound).
    expect(Math.max(...gaps)).toBeLessThan(2_000);
    expect(starts.length - from).toBeGreaterThanOrEqual(6);
  }, 60_000);

  it('stale: API down → prior epoch stays readable and alive, dormant_count rises, dormant + degraded, forced recovery', async () => {
    h = await startHarness(target, {
      env: {
        MASSIVE_CHAIN_INTERVAL_SEC: '0.1',
        CHAIN_DORMANT_THRESHOLD: '3',
        CHAIN_SUBSTRATE_TTL_SEC: '30',
        CHAIN_SNAPSHOT_TTL_SEC: '30',
        MASSIVE_MAX_RETRIES: '0',
      },
    });
    const first = await runCycle(h.deps, 'I:SPX', '');
    const epochId = first.epochId as string;
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
    const sample = h.keys.epochContract(epochId, ids[0] as string);
    await h.bus.cmd.expire(sample, 12); // below the 30 s TTL, longer than three failed cycles on a loaded machine
    h.api.setFaults({ down: true });
    worker = spxWorker(h, 'w-stale');
    const run = worker.run();
    await waitUntil(
      async () => (await h?.bus.cmd.hget(h.keys.epochMeta(epochId), 'status')) === 'dormant',
      10_000,
      'dormant',
    );
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(epochId));
    expect(Number(meta.dormant_count)).toBeGreaterThanOrEqual(3);
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBe(epochId);
    expect(await h.bus.cmd.get(sample)).not.toBeNull();
    expect(await h.bus.cmd.ttl(sample)).toBeGreaterThan(12); // kept alive while it is the fallback
    await worker.heartbeat.beat();
    const hb = await storedHeartbeat(h);
    expect(hb.status).toBe('degraded');
    expect(hb.reason).toMatch(/dormant/);
    expect(Number(await h.bus.cmd.hget(h.keys.analytics, 'publish_failures'))).toBeGreaterThanOrEqual(3);
    expect(Number(await h.bus.cmd.hget(h.keys.analytics, 'sla_violations'))).toBeGreaterThanOrEqual(3);

    // Recovery: a fresh epoch even though the geometry is the same, flagged forced_dirty.
    h.api.resetFaults();
    const fresh = await waitUntil(
      async () => {
        const id = await h?.bus.cmd.hget(h.keys.epochActive, 'SPX');
        return id !== epochId ? id : null;
      },
      10_000,
      'recovery',
    );
    const freshMeta = await h.bus.cmd.hgetall(h.keys.epochMeta(fresh));
    expect(freshMeta).toMatchObject({
      forced_dirty: '1',
      status: 'active',
      prev_epoch: epochId,
      geometry_hash: meta.geometry_hash,
    });
    // The flip is visible before the worker retires the superseded epoch (the next commands of its cycle).
    await waitUntil(
      async () => (await h?.bus.cmd.hget(h.keys.epochMeta(epochId), 'status')) === 'superseded',
      5_000,
      'the dormant epoch retired',
    );
    await waitUntil(() => worker?.heartbeat.state.status === 'ok', 5_000, 'heartbeat ok');
    worker.stop();
    expect(await run).toBe(EXIT.ok);
  });

  it('stale, then partial snapshots: the epoch stays dormant and the heartbeat degraded until a complete one', async () => {
    h = await startHarness(target, {
      env: FAILING_API_ENV,
    });
    const first = await runCycle(h.deps, 'I:SPX', '');
    const epochId = first.epochId as string;
    h.api.setFaults({ down: true });
    worker = spxWorker(h, 'w-dormant-partial');
    const run = worker.run();
    await waitUntil(() => worker?.heartbeat.state.status === 'degraded', 10_000, 'degraded');
    expect(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'status')).toBe('dormant');
    // The API answers again, but every stream loops on its next_url: partial snapshots, merged into the
    // dormant epoch, which stays dormant (its models stale) until a complete snapshot recovers it.
    h.api.setFaults({ down: false, nextUrlLoop: true });
    await waitUntil(() => worker?.lastResults.get('I:SPX')?.merged === true, 10_000, 'a merged partial');
    expect(worker.lastResults.get('I:SPX')).toMatchObject({ ok: true, epochId, health: 'partial' });
    expect(await h.bus.cmd.hget(h.keys.epochMeta(epochId), 'status')).toBe('dormant');
    // Was: 'ok' (any successful cycle cleared it) while the epoch it serves was still dormant.
    expect(worker.heartbeat.state.status).toBe('degraded');
    expect(worker.heartbeat.state.reason).toMatch(/^SPX epoch dormant/);
    h.api.resetFaults();
    await waitUntil(() => worker?.heartbeat.state.status === 'ok', 10_000, 'heartbeat ok');
    expect(worker.lastResults.get('I:SPX')?.epochId).not.toBe(epochId);
    worker.stop();
    expect(await run).toBe(EXIT.ok);
  });

  it('stale with no epoch yet: API down from the start → heartbeat degraded at the dormant threshold, ok on recovery', async () => {
    h = await startHarness(target, {
      env: FAILING_API_ENV,
    });
    h.api.setFaults({ down: true });
    worker = spxWorker(h, 'w-down-from-start');
    const run = worker.run();
    await waitUntil(() => (worker?.state.get('I:SPX')?.failures ?? 0) >= 2, 10_000, 'two failed cycles');
    // Nothing to mark dormant: no epoch was ever promoted.
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBeNull();
    await worker.heartbeat.beat();
    const hb = await storedHeartbeat(h);
    // Was: status ok (only an epoch's dormant_count turned it degraded) until the exit-3 limit.
    expect(hb.status).toBe('degraded');
    expect(hb.reason).toMatch(/^SPX: \d+ failed cycles in a row, no active epoch to fall back on$/);
    h.api.resetFaults();
    await waitUntil(() => worker?.heartbeat.state.status === 'ok', 10_000, 'heartbeat ok');
    expect(worker.heartbeat.state.reason).toBeNull();
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toMatch(/^SPX:\d+:[0-9a-z]{6}$/);
    worker.stop();
    expect(await run).toBe(EXIT.ok);
  });

  it('a degraded worker whose failing symbol moves to another worker reports ok again', async () => {
    h = await startHarness(target, {
      env: { ...FAILING_API_ENV, CHAIN_LEASE_TTL_SEC: '1.5' },
    });
    await runCycle(h.deps, 'I:SPX', '');
    h.api.setFaults({ down: true });
    worker = spxWorker(h, 'w-loses-spx');
    const run = worker.run();
    await waitUntil(() => worker?.heartbeat.state.status === 'degraded', 10_000, 'degraded');
    // Another worker takes SPX over (its lease, registered as live): this one holds nothing any more.
    h.api.resetFaults();
    await h.bus.cmd.zadd(h.keys.workers, Date.now() / 1000 + 3600, 'w-other');
    await h.bus.cmd.set(h.keys.workerLease('SPX'), 'w-other|999', 'PX', 60_000);
    await waitUntil(() => worker?.leases.held.size === 0, 10_000, 'lease lost');
    // Was: degraded for good (the failures of a symbol it no longer holds still counted, and no cycle of
    // its own came to clear them).
    await waitUntil(() => worker?.heartbeat.state.status === 'ok', 5_000, 'heartbeat ok');
    expect(worker.heartbeat.state.reason).toBeNull();
    worker.stop();
    expect(await run).toBe(EXIT.ok);
  });

  it('a refresh written after the lease was lost is not announced: FencedError, the epoch not flagged dirty', async () => {
    h = await startHarness(target);
    await h.bus.cmd.set(h.keys.workerLease('SPX'), 'w-mine|1', 'PX', 60_000);
    const first = await runCycle(h.deps, 'I:SPX', 'w-mine|1');
    expect(first).toMatchObject({ ok: true, promoted: true });
    const id = first.epochId as string;
    await h.bus.cmd.srem(h.keys.epochDirty, id);
    // The same chain again (a refresh of the same epoch), but the lease went to another worker meanwhile.
    await h.bus.cmd.set(h.keys.workerLease('SPX'), 'w-other|2', 'PX', 60_000);
    const announced: string[] = [];
    const sub = h.bus.duplicate() as Redis;
    await sub.subscribe(h.keys.snapshotChannel);
    sub.on('message', (_c: string, m: string) => announced.push(m));
    try {
      // On a cluster the first cycle's announcement can reach this subscriber's node late (the cluster bus
      // carries PUBLISH between nodes): only what was published from here on counts.
      const since = Date.now() / 1000;
      const refresh = await runCycle(h.deps, 'I:SPX', 'w-mine|1');
      expect(refresh.ok).toBe(false);
      expect(refresh.error).toBeInstanceOf(FencedError);
      expect(refresh.error?.message).toBe(`lease for SPX lost; not announcing ${id}`);
      // Was: announced on massive:chain:snapshot and flagged dirty for the builders, the lease notwithstanding.
      expect(await h.bus.cmd.sismember(h.keys.epochDirty, id)).toBe(0);
      expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBe(id);
      await h.bus.cmd.publish(h.keys.snapshotChannel, 'fence-post');
      await waitUntil(() => announced.includes('fence-post'), 5_000, 'own publish');
      const fromHere = announced.filter(
        (m) => m === 'fence-post' || (JSON.parse(m) as { ts: number }).ts >= since,
      );
      expect(fromHere).toEqual(['fence-post']);
    } finally {
      sub.disconnect();
    }
  });

  it('a lease TTL whose milliseconds are not a whole number in floating point (16.1 s) still takes the lease', async () => {
    // 16.1 × 1000 = 16100.000000000002: sent as PX, Redis refused it ("value is not an integer"), so the
    // worker never held a symbol and never cycled, logging "lease rebalance failed (Redis?)" for ever.
    h = await startHarness(target, {
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2', CHAIN_LEASE_TTL_SEC: '16.1' },
    });
    expect(h.config.leaseTtlSec * 1000).not.toBe(16_100);
    worker = spxWorker(h, 'w-lease-16.1');
    const run = worker.run();
    await waitUntil(() => worker?.lastResults.get('I:SPX')?.ok, 10_000, 'a cycle under the lease');
    const pttl = await h.bus.cmd.pttl(h.keys.workerLease('SPX'));
    expect(pttl).toBeGreaterThan(10_000);
    expect(pttl).toBeLessThanOrEqual(16_100);
    expect(await h.bus.cmd.get(h.keys.workerLease('SPX'))).toMatch(/^w-lease-16\.1\|\d+$/);
    worker.stop();
    expect(await run).toBe(EXIT.ok);
  });

  it('failure: 401 ends in a controlled shutdown (exit 4, heartbeat faulty), prior epoch left readable', async () => {
    h = await startHarness(target, { env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.1' } });
    const first = await runCycle(h.deps, 'I:SPX', '');
    const publishedBefore = await h.bus.cmd.hget(h.keys.analytics, 'snapshots');
    h.api.setFaults({ unauthorized: true });
    worker = spxWorker(h, 'w-401');
    expect(await worker.run()).toBe(EXIT.auth);
    const hb = await storedHeartbeat(h);
    expect(hb.status).toBe('faulty');
    expect(hb.reason).toMatch(/authentication failed/);
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBe(first.epochId);
    expect(await h.bus.cmd.exists(h.keys.epochContracts(first.epochId as string))).toBe(1);
    expect(await h.bus.cmd.hget(h.keys.analytics, 'snapshots')).toBe(publishedBefore);
    expect(await h.bus.cmd.hget(h.keys.analytics, 'errors:auth')).toBe('1');
    expect(h.api.stats().requests).toBeGreaterThan(0);
  });

  it('failure: more consecutive failures than the limit end in exit 3; nothing is published from a failed fetch', async () => {
    h = await startHarness(target, {
      env: {
        MASSIVE_CHAIN_INTERVAL_SEC: '0.1',
        CHAIN_MAX_CONSECUTIVE_FAILURES: '2',
        MASSIVE_MAX_RETRIES: '0',
      },
    });
    h.api.setFaults({ errorRate: 1 });
    const sub = h.bus.duplicate();
    const messages: string[] = [];
    sub.on('message', (_c: string, m: string) => messages.push(m));
    await sub.subscribe(h.keys.snapshotChannel);
    worker = spxWorker(h, 'w-fail');
    expect(await worker.run()).toBe(EXIT.tooManyFailures);
    sub.disconnect();
    expect(messages).toEqual([]);
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBeNull();
    expect(Number(await h.bus.cmd.hget(h.keys.analytics, 'failed_cycles'))).toBe(3);
    expect(await h.bus.cmd.hget(h.keys.fetchHealth, 'failed')).toBe('3');
    const hb = await storedHeartbeat(h);
    expect(hb.status).toBe('faulty');
  });

  it('off-hours: an empty chain promotes a zero-contract epoch with health empty', async () => {
    h = await startHarness(target, { sim: { offHours: 'empty' } });
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res).toMatchObject({ ok: true, health: 'empty', contracts: 0, promoted: true });
    const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(res.epochId as string));
    expect(meta).toMatchObject({
      contract_count: '0',
      strike_count: '0',
      expiration_count: '0',
      status: 'active',
    });
    expect(await readIndex(h.bus.cmd, h.keys.epochContracts(res.epochId as string))).toEqual([]);
    expect(await h.bus.cmd.hget(h.keys.fetchHealth, 'empty')).toBe('1');
    // Thin chain: a few expirations only.
    (h.market as SimMarket).adjust({ offHours: 'thin' });
    const thin = await runCycle(h.deps, 'I:SPX', '');
    expect(thin.ok).toBe(true);
    expect(thin.contracts).toBeGreaterThan(0);
    expect(thin.contracts).toBeLessThan(500);
  });
});

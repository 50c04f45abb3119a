/**
 * Faults of the Massive API, injected by the local API: a 429 storm (with Retry-After honoured), 5xx,
 * request timeouts, truncated and malformed bodies, a next_url loop, and a 401 in the middle of a run.
 * Each runs the real client and cycle against the shared single server under its own key prefix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle, type CycleResult } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { GexModel } from '../../src/models/types.js';
import { FencedError } from '../../src/wiring/epoch-store.js';
import { counterValue } from '../support/fault-kit.js';
import { redisTargets } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

async function analytics(h: Harness): Promise<Record<string, string>> {
  return h.bus.cmd.hgetall(h.keys.analytics);
}

/** The epoch's index, substrates and meta agree with the cycle result. */
async function expectWritten(h: Harness, res: CycleResult): Promise<void> {
  const id = res.epochId as string;
  const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(id));
  expect(ids).toHaveLength(res.contracts);
  expect(new Set(ids).size).toBe(ids.length);
  const subs = await h.bus.getMany(ids.map((c) => h.keys.epochContract(id, c)));
  expect(subs.filter((s) => s === null)).toHaveLength(0);
  expect(await h.bus.cmd.hget(h.keys.epochMeta(id), 'contract_count')).toBe(String(res.contracts));
}

describe('Massive API faults', () => {
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown();
    worker = undefined;
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  it('a 429 storm (half the requests, Retry-After: 0): the snapshot completes in full, every retry counted', async () => {
    h = await startHarness(single, { env: { MASSIVE_MAX_RETRIES: '12' } });
    const clean = await runCycle(h.deps, 'I:SPX', '');
    h.api.resetStats();
    h.api.setFaults({ rate429: 0.5, retryAfterSec: 0 });
    const res = await runCycle(h.deps, 'I:SPX', '');
    const served429 = h.api.stats().faults['429'] ?? 0;
    expect(served429).toBeGreaterThanOrEqual(2);
    expect(res).toMatchObject({ ok: true, health: 'ok', contracts: clean.contracts, epochId: clean.epochId });
    await expectWritten(h, res);
    const a = await analytics(h);
    expect(Number(a.retries)).toBe(served429);
    expect(a.snapshots).toBe('2');
    expect(a.partial_snapshots).toBeUndefined();
    expect(a.failed_cycles).toBeUndefined();
    expect(await counterValue(h.metrics.retries, { symbol: 'SPX' })).toBe(served429);
    const latest = (
      JSON.parse((await h.bus.cmd.get(h.keys.latest)) as string) as {
        symbols: Record<string, { retries: number }>;
      }
    ).symbols;
    expect(latest.SPX?.retries).toBe(served429);
  });

  it('Retry-After is honoured: two 429s with Retry-After: 1 on the first request delay the fetch by ≥ 2 s', async () => {
    h = await startHarness(single);
    h.api.setFaults({ queue: ['429', '429'], retryAfterSec: 1 });
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res.ok).toBe(true);
    expect(res.latencyMs).toBeGreaterThanOrEqual(1_950); // the client's own backoff would be ~20-60 ms
    expect(res.latencyMs).toBeLessThan(6_000);
    expect(await h.bus.cmd.hget(h.keys.analytics, 'retries')).toBe('2');
  });

  it('500s and 503s are retried: the snapshot completes; persistent 500s fail the cycle, prior epoch kept alive', async () => {
    h = await startHarness(single, { env: { MASSIVE_MAX_RETRIES: '6', CHAIN_SUBSTRATE_TTL_SEC: '60' } });
    const first = await runCycle(h.deps, 'I:SPX', '');
    h.api.resetStats();
    h.api.setFaults({ queue: ['500', '503', '500'], errorRate: 0.2 });
    const res = await runCycle(h.deps, 'I:SPX', '');
    const stats = h.api.stats();
    const served5xx = (stats.faults['500'] ?? 0) + (stats.faults['503'] ?? 0);
    expect(served5xx).toBeGreaterThanOrEqual(3);
    expect(res).toMatchObject({ ok: true, health: 'ok', contracts: first.contracts });
    expect(Number(await h.bus.cmd.hget(h.keys.analytics, 'retries'))).toBe(served5xx);

    // Every request 500 (retries exhausted): nothing published, the prior epoch stays the fallback.
    const id = first.epochId as string;
    const sample = h.keys.epochContract(
      id,
      (await readIndex(h.bus.cmd, h.keys.epochContracts(id)))[0] as string,
    );
    await h.bus.cmd.expire(sample, 15); // about to expire, yet longer than the failing cycle on a loaded machine
    h.api.setFaults({ queue: [], errorRate: 1 });
    const failed = await runCycle(h.deps, 'I:SPX', '');
    expect(failed.ok).toBe(false);
    expect(failed.error?.name).toBe('FetchFailedError');
    expect(failed.error?.message).toMatch(/HTTP 500/);
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBe(id);
    expect(await h.bus.cmd.hget(h.keys.epochMeta(id), 'dormant_count')).toBe('1');
    expect(await h.bus.cmd.ttl(sample)).toBeGreaterThan(15); // kept alive as the fallback
    expect(await analytics(h)).toMatchObject({
      failed_cycles: '1',
      'errors:fetch_failed': '1',
      snapshots: '2',
    });
  });

  it('a fetch that fails after the lease was lost charges nothing to the epoch, now another worker’s', async () => {
    h = await startHarness(single, { env: { MASSIVE_MAX_RETRIES: '1' } });
    const first = await runCycle(h.deps, 'I:SPX', '');
    const id = first.epochId as string;
    const metaBefore = await h.bus.cmd.hgetall(h.keys.epochMeta(id));
    const analyticsBefore = await analytics(h);
    h.api.setFaults({ queue: [], errorRate: 1 });
    // The lease went to another worker while this one's requests were failing.
    let asked = 0;
    const lost = { ...h.deps, checkLease: () => Promise.resolve((asked++, false)) };
    const failed = await runCycle(lost, 'I:SPX', '');
    expect(asked).toBe(1);
    expect(failed).toMatchObject({ ok: false, epochId: null, dormantCount: 0 });
    expect(failed.error).toBeInstanceOf(FencedError);
    expect((failed.error?.cause as Error).name).toBe('FetchFailedError');
    expect(failed.error?.message).toMatch(/^lease for SPX lost while the cycle failed: .*HTTP 500/);
    // Neither the count nor the status of the epoch moved, and no failed cycle is in the analytics.
    expect(await h.bus.cmd.hgetall(h.keys.epochMeta(id))).toEqual(metaBefore);
    expect(await analytics(h)).toEqual(analyticsBefore);
    expect(await counterValue(h.metrics.errors, { kind: 'fenced' })).toBe(1);
  });

  it('request timeouts (MASSIVE_REQUEST_TIMEOUT_MS=300) are retried; a hung API fails the cycle within the bound', async () => {
    h = await startHarness(single, { env: { MASSIVE_REQUEST_TIMEOUT_MS: '300', MASSIVE_MAX_RETRIES: '2' } });
    h.api.setFaults({ queue: ['timeout', 'timeout'] });
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res.ok).toBe(true);
    expect(res.health).toBe('ok');
    expect(res.latencyMs).toBeGreaterThanOrEqual(590);
    expect(h.api.stats().faults.timeout).toBe(2);
    expect(await h.bus.cmd.hget(h.keys.analytics, 'retries')).toBe('2');
    await expectWritten(h, res);

    // Every request hangs: (1 + retries) × 300 ms plus backoff per request, then the cycle fails.
    h.api.setFaults({ timeoutRate: 1 });
    const t0 = performance.now();
    const failed = await runCycle(h.deps, 'I:SPX', '');
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(failed.ok).toBe(false);
    expect(failed.error?.message).toMatch(/timeout/);
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBe(res.epochId);
  });

  it('a truncated body (socket cut mid-page) and a malformed body are retried: the snapshot is complete', async () => {
    h = await startHarness(single);
    const clean = await runCycle(h.deps, 'I:SPX', '');
    h.api.setFaults({ queue: ['truncated', 'malformed', 'truncated'] });
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res).toMatchObject({ ok: true, health: 'ok', contracts: clean.contracts });
    const stats = h.api.stats();
    expect(stats.faults).toMatchObject({ truncated: 2, malformed: 1 });
    expect(await h.bus.cmd.hget(h.keys.analytics, 'retries')).toBe('3');
    await expectWritten(h, res);
  });

  it('a next_url loop stops at the repeated cursor: partial snapshot recorded, contracts written once', async () => {
    h = await startHarness(single);
    h.api.setFaults({ nextUrlLoop: true });
    const t0 = performance.now();
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(res).toMatchObject({ ok: true, health: 'partial', promoted: true });
    expect(res.contracts).toBeGreaterThan(500);
    await expectWritten(h, res);
    expect(h.api.stats().faults.loop).toBeGreaterThanOrEqual(5);
    expect(await analytics(h)).toMatchObject({ partial_snapshots: '1', snapshots: '1' });
    expect(await h.bus.cmd.hget(h.keys.fetchHealth, 'SPX:partial')).toBe('1');
    const latest = (
      JSON.parse((await h.bus.cmd.get(h.keys.latest)) as string) as {
        symbols: Record<string, { partial: boolean; partial_reasons: string[] }>;
      }
    ).symbols;
    expect(latest.SPX?.partial).toBe(true);
    expect(latest.SPX?.partial_reasons).toHaveLength(5);
    expect(latest.SPX?.partial_reasons.every((r) => r.endsWith(':next_url_loop'))).toBe(true);
  });

  it('a 401 in the middle of a run: exit 4, heartbeat faulty, the prior epoch and its model still readable', async () => {
    h = await startHarness(single, { env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2' } });
    const hh = h;
    builder = new ModelBuilder({ ...hh, owner: 'b-401' });
    const b = builder;
    worker = new ChainWorker(
      {
        ...hh.deps,
        systemBus: hh.bus,
        config: { ...hh.config, symbols: ['I:SPX'] },
        onDirty: async () => void (await b.drain()),
      },
      { id: 'w-401-mid' },
    );
    const w = worker;
    const run = w.run();
    await waitUntil(
      async () => Number(await hh.bus.cmd.hget(hh.keys.analytics, 'snapshots')) >= 3,
      10_000,
      'three good cycles',
    );
    hh.api.setFaults({ queue: ['401'] }); // one 401, then the API would answer again
    const t0 = Date.now();
    expect(await run).toBe(EXIT.auth);
    expect(Date.now() - t0).toBeLessThan(3_000);
    worker = undefined;
    const hb = JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) as string) as {
      status: string;
      reason: string;
    };
    expect(hb).toMatchObject({ status: 'faulty' });
    expect(hb.reason).toMatch(/authentication failed .*HTTP 401/);
    const active = (await hh.bus.cmd.hget(hh.keys.epochActive, 'SPX')) as string;
    const last = [...w.lastResults.values()][0];
    expect(last?.error?.name).toBe('MassiveAuthError');
    const ids = await readIndex(hh.bus.cmd, hh.keys.epochContracts(active));
    const subs = await hh.bus.getMany(ids.map((c) => hh.keys.epochContract(active, c)));
    expect(subs.every((s) => s !== null)).toBe(true);
    expect(await hh.bus.cmd.hget(hh.keys.epochMeta(active), 'status')).toBe('active');
    const gex = JSON.parse((await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(gex.epoch_id).toBe(active);
    expect(await hh.bus.cmd.hget(hh.keys.analytics, 'errors:auth')).toBe('1');
    expect(await hh.bus.cmd.exists(hh.keys.workerLease('SPX'))).toBe(0); // released on the way out
  });
});

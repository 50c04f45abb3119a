/**
 * Fault: Redis restarted (SIGKILL, no persistence: every key is gone) in the middle of a cycle, on a
 * redis-server this file owns. The cycle is counted failed, nothing crashes, the next cycle promotes a
 * complete epoch, `epoch:active` never points at an epoch without its meta and contract index (checked
 * after every step and by a reader loop during the restarts), and a published model is never torn.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCycle, type CycleResult } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { GexModel } from '../../src/models/types.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { RawPipeline } from '../../src/redis/raw-pipeline.js';
import { EpochStore } from '../../src/wiring/epoch-store.js';
import { snapshotKeyOf } from '../../src/wiring/snapshot-writes.js';
import { parseOptionTicker } from '../../src/provider/massive/ticker.js';
import type { RedisServerProcess } from '../../tools/redis-servers.js';
import {
  assertActiveConsistent,
  captureLogger,
  counterValue,
  ownRedis,
  sleepMs,
  startInvariantReader,
  targetOf,
} from '../support/fault-kit.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

/** Every key an epoch needs is present: meta, index, one substrate and one raw snapshot key per contract. */
async function expectCompleteEpoch(h: Harness, res: CycleResult): Promise<void> {
  const id = res.epochId as string;
  const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(id));
  expect(meta).toMatchObject({ symbol: 'SPX', status: 'active', contract_count: String(res.contracts) });
  const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(id));
  expect(ids).toHaveLength(res.contracts);
  const subs = await h.bus.getMany(ids.map((c) => h.keys.epochContract(id, c)));
  expect(subs.filter((s) => s === null)).toHaveLength(0);
  // The substrate spells the type out; the raw key keeps the ticker's letter: read the identity from the id.
  const parsed = subs.map((s) => {
    const p = parseOptionTicker((JSON.parse(s as string) as { id: string }).id);
    if (p === null) throw new Error('unreadable substrate id');
    return p;
  });
  const raw = await h.bus.getMany(parsed.map((p) => snapshotKeyOf(h.keys, 'SPX', p)));
  expect(raw.filter((r) => r === null)).toHaveLength(0);
}

describe('Redis restarted mid-cycle', () => {
  let srv: RedisServerProcess;
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  let worker: ChainWorker | undefined;

  beforeEach(async () => {
    srv = await ownRedis();
  });
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown().catch(() => undefined);
    worker = undefined;
    await builder?.stop();
    builder = undefined;
    await srv.start().catch(() => undefined); // up again if a test failed while it was down
    await h?.close();
    h = undefined;
    await srv.destroy();
  });

  function newBuilder(hh: Harness): ModelBuilder {
    builder = new ModelBuilder({
      bus: hh.bus,
      keys: hh.keys,
      config: hh.config,
      logger: hh.logger,
      metrics: hh.metrics,
      owner: 'b-restart',
    });
    return builder;
  }

  it('killed during the fetch, back after the cycle gave up: counted failed, the next cycle promotes a complete epoch', async () => {
    const log = captureLogger({ level: 'warn' });
    h = await startHarness(targetOf(srv), { logger: log.logger });
    const b = newBuilder(h);
    const first = await runCycle(h.deps, 'I:SPX', '');
    expect(first).toMatchObject({ ok: true, promoted: true });
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBe(first.epochId);
    await b.drain();
    expect(
      (JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel).epoch_id,
    ).toBe(first.epochId);

    // Pages take 200 ms: Redis dies while the fetch is in flight and stays down until the cycle's first
    // Redis command has failed; it comes back (empty: SIGKILL, no persistence) while the cycle records it.
    h.api.setFaults({ latencyMs: 200 });
    const pending = runCycle(h.deps, 'I:SPX', '');
    await sleepMs(80);
    await srv.stop();
    await waitUntil(() => log.text().includes('"msg":"cycle failed"'), 10_000, 'the cycle to fail');
    await srv.start();
    const failed = await pending;
    expect(failed.ok).toBe(false);
    expect(failed.health).toBe('failed');
    expect(failed.error?.name).toBe('MaxRetriesPerRequestError');
    expect(failed.phases.fetch).toBeGreaterThanOrEqual(150); // the fetch itself completed
    expect(failed.cycleMs - failed.phases.fetch).toBeLessThan(5_000); // no waiting on a Redis that is gone
    expect(await counterValue(h.metrics.errors, { kind: 'redis' })).toBe(1);
    expect(await counterValue(h.metrics.health, { symbol: 'SPX', category: 'failed' })).toBe(1);
    await h.bus.ready(10_000);
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBeNull(); // all keys are gone

    h.api.resetFaults();
    const next = await runCycle(h.deps, 'I:SPX', '');
    expect(next).toMatchObject({ ok: true, promoted: true });
    expect(next.epochId).not.toBe(first.epochId);
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBe(next.epochId);
    await expectCompleteEpoch(h, next);
    expect(await counterValue(h.metrics.promotions, { symbol: 'SPX', reason: 'first' })).toBe(2);
    // The failed cycle is in the analytics of the restarted server.
    const analytics = await h.bus.cmd.hgetall(h.keys.analytics);
    expect(analytics).toMatchObject({ failed_cycles: '1', snapshots: '1', cycles: '2', 'errors:redis': '1' });
    const outcomes = await b.drain();
    expect(outcomes.find((o) => o.epochId === next.epochId)?.status).toBe('built');
    expect(
      (JSON.parse((await h.bus.cmd.get(h.keys.model('gex', 'SPX'))) as string) as GexModel).epoch_id,
    ).toBe(next.epochId);
  });

  it('restarted between the epoch writes and the flip: the flip refuses (MISSING), nothing points at the lost epoch', async () => {
    h = await startHarness(targetOf(srv));
    const first = await runCycle(h.deps, 'I:SPX', '');
    expect(first.ok).toBe(true);
    // An epoch store that restarts Redis right before the promotion script runs.
    let armed = true;
    const server = srv;
    class RestartBeforeFlip extends EpochStore {
      override async flip(underlying: string, epochId: string, leaseValue: string): Promise<string | null> {
        if (armed) {
          armed = false;
          await server.stop();
          await server.start();
        }
        return super.flip(underlying, epochId, leaseValue);
      }
    }
    const deps = { ...h.deps, epochs: new RestartBeforeFlip(h.bus, h.keys) };
    (h.market as SimMarket).adjust({ contractsPerExpiration: 120 }); // new geometry: the cycle promotes
    const lost = await runCycle(deps, 'I:SPX', '');
    expect(lost.ok).toBe(false);
    expect(lost.error?.name).toBe('EpochLostError');
    expect(lost.error?.message).toMatch(/lost its keys before promotion/);
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBeNull();

    const next = await runCycle(deps, 'I:SPX', '');
    expect(next).toMatchObject({ ok: true, promoted: true });
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBe(next.epochId);
    await expectCompleteEpoch(h, next);
    expect(await h.bus.cmd.hget(h.keys.analytics, 'failed_cycles')).toBe('1');
  });

  it('restarted during a refresh in place (same geometry): the refresh is not announced, the next cycle promotes', async () => {
    h = await startHarness(targetOf(srv));
    const first = await runCycle(h.deps, 'I:SPX', '');
    expect(first.ok).toBe(true);
    // The epoch store restarts Redis right before the refresh writes the meta: the substrates went to the
    // old server, the meta to the new, empty one, where nothing is active.
    let armed = true;
    const server = srv;
    class RestartBeforeMeta extends EpochStore {
      override async writeMeta(
        epochId: string,
        fields: Parameters<EpochStore['writeMeta']>[1],
      ): Promise<void> {
        if (armed) {
          armed = false;
          await server.stop();
          await server.start();
        }
        return super.writeMeta(epochId, fields);
      }
    }
    const deps = { ...h.deps, epochs: new RestartBeforeMeta(h.bus, h.keys) };
    const sub = h.bus.duplicate();
    const announced: string[] = [];
    sub.on('message', (_c: string, m: string) => announced.push(m));
    await sub.subscribe(h.keys.snapshotChannel);
    const lost = await runCycle(deps, 'I:SPX', '');
    expect(lost.ok).toBe(false);
    expect(lost.error?.name).toBe('EpochLostError');
    expect(lost.error?.message).toMatch(/no longer active/);
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBeNull();
    // Nothing points at the lost epoch and its stray meta expires like a retired one.
    expect(await h.bus.cmd.sismember(h.keys.epochDirty, first.epochId as string)).toBe(0);
    expect(await h.bus.cmd.hget(h.keys.epochMeta(first.epochId as string), 'status')).toBe('superseded');
    expect(await h.bus.cmd.ttl(h.keys.epochMeta(first.epochId as string))).toBeGreaterThan(0);
    expect(await h.bus.cmd.get(h.keys.latest)).toBeNull();

    const next = await runCycle(deps, 'I:SPX', '');
    expect(next).toMatchObject({ ok: true, promoted: true });
    expect(next.epochId).not.toBe(first.epochId);
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBe(next.epochId);
    await expectCompleteEpoch(h, next);
    await new Promise((r) => setTimeout(r, 50));
    sub.disconnect();
    expect(announced.map((m) => (JSON.parse(m) as { epoch_id: string }).epoch_id)).toEqual([next.epochId]);
    expect(await h.bus.cmd.hgetall(h.keys.analytics)).toMatchObject({ failed_cycles: '1', snapshots: '1' });
  });

  it('killed during the bulk write of a burst chain: the write fails fast (no hang, no unhandled rejection), then recovers', async () => {
    const log = captureLogger({ level: 'warn' });
    h = await startHarness(targetOf(srv), { sim: { burst: true }, logger: log.logger });
    const orig = h.bus.writeBulk.bind(h.bus);
    let armed = true;
    let killedAt = 0;
    const server = srv;
    const arm = (commands: number): void => {
      if (!armed || commands <= 5_000) return;
      armed = false;
      setTimeout(() => {
        killedAt = Date.now();
        void server.stop();
      }, 10);
    };
    h.bus.writeBulk = (cmds) => {
      const p = orig(cmds);
      arm(cmds.length);
      return p;
    };
    // The substrates go out pre-encoded by the page threads (writeEncoded): cut that write too.
    const origEncoded = h.bus.writeEncoded.bind(h.bus);
    h.bus.writeEncoded = (source) => {
      const p = origEncoded(source);
      arm(source.commands);
      return p;
    };
    const pending = runCycle(h.deps, 'I:SPX', '');
    const failedAt = await waitUntil(
      () => (log.text().includes('"msg":"cycle failed"') ? Date.now() : 0),
      10_000,
      'the write to fail',
    );
    await srv.start();
    const failed = await pending;
    expect(failed.ok).toBe(false);
    expect(failed.error?.message).toBe('redis bulk connection closed');
    expect(failed.phases.write).toBe(0); // failed inside the write phase
    expect(killedAt).toBeGreaterThan(0);
    console.info(`bulk write cut by SIGKILL: the cycle failed ${failedAt - killedAt} ms after the kill`);
    expect(failedAt - killedAt).toBeLessThan(2_000);
    expect(await counterValue(h.metrics.errors, { kind: 'redis' })).toBe(1);
    await h.bus.ready(10_000);
    const next = await runCycle(h.deps, 'I:SPX', '');
    expect(next).toMatchObject({ ok: true, promoted: true, burst: true });
    expect(next.contracts).toBeGreaterThanOrEqual(10_000);
    await expectCompleteEpoch(h, next);
  });

  it('a worker loop survives three restarts under a reader: never an active epoch without meta and index, never a torn model', async () => {
    h = await startHarness(targetOf(srv), {
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2', CHAIN_LEASE_TTL_SEC: '1.5', CHAIN_HEARTBEAT_SEC: '0.2' },
    });
    const b = newBuilder(h);
    worker = new ChainWorker(
      {
        ...h.deps,
        systemBus: h.bus,
        config: { ...h.config, symbols: ['I:SPX'] },
        onDirty: async () => void (await b.drain()),
      },
      { id: 'w-restart' },
    );
    const results: CycleResult[] = [];
    const run = worker.run();
    let exited = false;
    void run.then(() => (exited = true));
    const reader = startInvariantReader(srv.url, h.keys, 'SPX');
    const w = worker;
    const hh = h;
    await waitUntil(() => w.lastResults.get('I:SPX')?.ok, 10_000, 'a first good cycle');
    h.api.setFaults({ latencyMs: 60 }); // cycles last long enough for a kill to land inside one
    for (const downMs of [150, 400, 700]) {
      await sleepMs(150 + Math.floor(Math.random() * 250));
      await srv.stop();
      await sleepMs(downMs);
      await srv.start();
      const since = Date.now();
      // Recovery: a good cycle ends with its epoch active and complete on the restarted (empty) server. (A
      // cycle that spanned the restart fails if the restart landed before its flip, or succeeds and then
      // loses its keys with everything else if it landed after; the reader checks the invariant throughout.)
      const good = await waitUntil(
        async () => {
          const r = w.lastResults.get('I:SPX');
          const hb = w.heartbeat.state.lastCycle.SPX;
          if (!r?.ok || !hb || hb.ts * 1000 <= since) return null; // hb.ts: Unix seconds
          return (await assertActiveConsistent(hh.bus, hh.keys, 'SPX')) === r.epochId ? r : null;
        },
        15_000,
        'a good cycle after the restart',
      );
      results.push(good);
      expect(exited).toBe(false);
    }
    // The models end on the active epoch. The reader keeps reading until it has read one whole: on a loaded
    // machine every model published before the last restart can be wiped by it before the reader gets there.
    const active = await assertActiveConsistent(h.bus, h.keys, 'SPX');
    await waitUntil(
      async () =>
        (JSON.parse((await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) ?? '{}') as { epoch_id?: string })
          .epoch_id === active,
      10_000,
      'the model of the active epoch',
    );
    await waitUntil(() => reader.report.models > 0, 10_000, 'the reader to read a model');
    const report = await reader.stop();
    expect(report.violations).toEqual([]);
    expect(report.reads).toBeGreaterThan(20);
    expect(report.errors).toBeGreaterThan(0); // the reader did run through the outages
    expect(report.models).toBeGreaterThan(0);
    expect(results).toHaveLength(3);
    worker.stop();
    expect(await run).toBe(EXIT.ok);
    const hb = JSON.parse((await h.bus.cmd.get(h.keys.heartbeat)) as string) as { status: string };
    expect(hb.status).toBe('stopped');
  });
});

describe('bulk-write connection dropped while the socket buffer is full', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('rejects the batch promptly instead of waiting for a drain that never comes', async () => {
    // A "Redis" that accepts, never reads (the client's buffer fills) and then drops the connection.
    const sockets: Socket[] = [];
    server = createServer((s) => {
      sockets.push(s);
      s.pause();
      setTimeout(() => s.destroy(), 300);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const pipe = new RawPipeline({ host: '127.0.0.1', port, db: 0, tls: false });
    const value = 'x'.repeat(2_000);
    const cmds = Array.from({ length: 20_000 }, (_, i) => ['SET', `k${i}`, value] as const);
    const t0 = Date.now();
    await expect(pipe.run(cmds)).rejects.toThrow(/redis bulk connection closed/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // The pipeline is usable again: the next batch opens a new connection (and fails the same way here).
    await expect(pipe.run([['SET', 'a', 'b']])).rejects.toThrow(/closed/);
    expect(sockets.length).toBe(2);
    pipe.close();
  }, 10_000);
});

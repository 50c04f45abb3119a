/**
 * What the builder's drain waits for: the outputs that build models from the substrates (MarketSwarm's) are
 * written before it answers; the history is a background queue it never waits for, which
 * `ModelBuilder.idle()` waits for instead, and which encodes only while no cycle or build is in flight.
 * Real cycles, real builds, real Redis (single server).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { silentLogger } from '../../src/lib/logger.js';
import { modelWork } from '../../src/lib/quiet-gate.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { HistoryRecorder } from '../../src/outputs/history/recorder.js';
import type { ModelObserver } from '../../src/outputs/observers.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

/** An output whose queued work is written only when the test opens the gate. */
function gatedOutput(name: string, buildsFromSubstrates: boolean) {
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const seen = { published: 0, substrates: 0, idleCalls: 0 };
  const output: ModelObserver = {
    name,
    modelsPublished: () => {
      seen.published++;
      return Promise.resolve();
    },
    idle: () => {
      seen.idleCalls++;
      return gate;
    },
    ...(buildsFromSubstrates
      ? {
          substratesRead: () => {
            seen.substrates++;
          },
        }
      : {}),
  };
  return { output, open, seen };
}

/** 'settled' if `p` settles within `ms`, else 'pending'. */
async function within(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const out = await Promise.race([
    p.then(() => 'settled' as const),
    new Promise<'pending'>((r) => {
      timer = setTimeout(() => r('pending'), ms);
    }),
  ]);
  clearTimeout(timer);
  return out;
}

describe('builder drain and the outputs (single Redis)', () => {
  const target = redisTargets()[0];
  let h: Harness | undefined;
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
    await h?.close();
    h = undefined;
  });

  function builder(hh: Harness, observers: ModelObserver[]): ModelBuilder {
    const b = new ModelBuilder({ ...hh, owner: 'drain', observers });
    cleanup.push(() => b.stop());
    return b;
  }

  it('answers while a history-like queue is still pending; idle() waits for it', async () => {
    if (!target) throw new Error('no target');
    h = await startHarness(target);
    const history = gatedOutput('history', false);
    cleanup.push(() => Promise.resolve(history.open()));
    const b = builder(h, [history.output]);
    const spx = await runCycle(h.deps, 'I:SPX', '');
    expect(spx.ok).toBe(true);
    const drained = b.drain();
    // Before the fix the drain awaited every output's idle(): it never answered while the gate was shut.
    expect(await within(drained, 10_000)).toBe('settled');
    const outcomes = await drained;
    expect(outcomes.map((o) => [o.epochId, o.status])).toEqual([[spx.epochId, 'built']]);
    expect(history.seen.published).toBe(1);
    expect(await h.bus.cmd.sismember(h.keys.epochClean, spx.epochId as string)).toBe(1);
    const idle = b.idle();
    expect(await within(idle, 200)).toBe('pending');
    history.open();
    expect(await within(idle, 5_000)).toBe('settled');
  });

  it('waits for an output that builds from the substrates (MarketSwarm-like) before answering', async () => {
    if (!target) throw new Error('no target');
    h = await startHarness(target);
    const models = gatedOutput('models', true);
    cleanup.push(() => Promise.resolve(models.open()));
    const b = builder(h, [models.output]);
    expect((await runCycle(h.deps, 'I:SPX', '')).ok).toBe(true);
    const drained = b.drain();
    // The drain reaches the output's idle() once our models are published, and stays there.
    for (let i = 0; i < 400 && models.seen.idleCalls === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await within(drained, 300)).toBe('pending');
    expect(models.seen).toMatchObject({ substrates: 1, published: 1 });
    expect(models.seen.idleCalls).toBeGreaterThanOrEqual(1);
    models.open();
    expect(await within(drained, 5_000)).toBe('settled');
    expect((await drained).map((o) => o.status)).toEqual(['built']);
  });

  /** A harness with the history on, the real recorder and a builder that feeds it. */
  async function withHistory(): Promise<{ hh: Harness; recorder: HistoryRecorder; b: ModelBuilder }> {
    if (!target) throw new Error('no target');
    const hh = await startHarness(target, { env: { CHAIN_MODEL_HISTORY_SEC: '172800' } });
    h = hh;
    const recorder = new HistoryRecorder(hh.bus, hh.keys, hh.config, silentLogger());
    cleanup.push(() => recorder.close());
    return { hh, recorder, b: builder(hh, [recorder]) };
  }

  it('the real history recorder: rows of both models exist once idle() resolves', async () => {
    const { hh: h, recorder, b } = await withHistory();
    expect((await runCycle(h.deps, 'I:SPX', '')).ok).toBe(true);
    const published = Date.now();
    expect((await b.drain()).map((o) => o.status)).toEqual(['built']);
    await b.idle();
    expect(recorder.stats).toMatchObject({ recorded: 2, keyframes: 2, dropped: 0, failed: 0 });
    for (const model of ['gex', 'heatmap'] as const) {
      const rows = await h.bus.conn.zrange(h.keys.modelHistory(model, 'SPX'), 0, -1, 'WITHSCORES');
      expect(rows).toHaveLength(2);
      const score = Number(rows[1]);
      // Scored by the model's publish time, Unix seconds.
      expect(Math.abs(score - published / 1000)).toBeLessThan(30);
      const row = JSON.parse(rows[0] as string) as { v: string; trigger: string };
      expect(row.trigger).toBe('snapshot');
      const ttl = await h.bus.cmd.ttl(h.keys.modelHistoryVersion(model, 'SPX', row.v));
      expect(ttl).toBeGreaterThan(172_800);
    }
  });

  it('the history encodes once the cycles and builds in flight are done (lib/quiet-gate.ts)', async () => {
    const { hh: h, recorder, b } = await withHistory();
    // A cycle holds the gate from its start to its end; a build from its start to its models written.
    const cycle = runCycle(h.deps, 'I:SPX', '');
    expect(modelWork.quiet).toBe(false);
    expect((await cycle).ok).toBe(true);
    expect(modelWork.quiet).toBe(true);
    // Another symbol's cycle in flight (held here): the SPX versions wait to be encoded.
    const inFlight = modelWork.hold();
    cleanup.push(() => Promise.resolve(inFlight()));
    expect((await b.drain()).map((o) => o.status)).toEqual(['built']);
    const idle = b.idle();
    expect(await within(idle, 1_000)).toBe('pending');
    expect(recorder.stats.recorded).toBe(0);
    expect(await h.bus.conn.zcard(h.keys.modelHistory('heatmap', 'SPX'))).toBe(0);
    inFlight();
    expect(await within(idle, 10_000)).toBe('settled');
    expect(recorder.stats).toMatchObject({ recorded: 2, keyframes: 2, dropped: 0, failed: 0 });
    for (const model of ['gex', 'heatmap'] as const)
      expect(await h.bus.conn.zcard(h.keys.modelHistory(model, 'SPX'))).toBe(1);
  });

  it('a shutdown drops the versions waiting for a quiet moment at once', async () => {
    const { hh: h, recorder, b } = await withHistory();
    expect((await runCycle(h.deps, 'I:SPX', '')).ok).toBe(true);
    const inFlight = modelWork.hold();
    cleanup.push(() => Promise.resolve(inFlight()));
    expect((await b.drain()).map((o) => o.status)).toEqual(['built']);
    // Without the wake-up, close() waited out CLOSE_WAIT_MS (2 s) for versions that never started.
    expect(await within(recorder.close(), 1_000)).toBe('settled');
    expect(recorder.stats).toMatchObject({ recorded: 0, dropped: 2 });
    expect(await h.bus.conn.zcard(h.keys.modelHistory('gex', 'SPX'))).toBe(0);
  });

  it.each(['1', '2'])(
    'CHAIN_MODEL_THREADS=%s: an epoch committed during a drain builds in that drain; a refresh during its build is built again',
    async (threads) => {
      if (!target) throw new Error('no target');
      h = await startHarness(target, { env: { CHAIN_MODEL_THREADS: threads } });
      expect(h.config.modelThreads).toBe(Number(threads));
      const hh = h;
      const published: string[] = [];
      const ref: { b?: ModelBuilder } = {};
      let joined: Promise<unknown> | undefined;
      const output: ModelObserver = {
        name: 'commits-meanwhile',
        modelsPublished: async (e) => {
          published.push(e.underlying);
          if (published.length !== 1) return;
          // While SPX's first build writes: NDX is committed and SPX refreshed, each nudging the drain.
          expect((await runCycle(hh.deps, 'I:NDX', '')).ok).toBe(true);
          const refresh = await runCycle(hh.deps, 'I:SPX', '');
          expect(refresh).toMatchObject({ ok: true, promoted: false });
          joined = ref.b?.drain();
        },
      };
      const b = builder(hh, [output]);
      ref.b = b;
      const spx = await runCycle(hh.deps, 'I:SPX', '');
      const outcomes = await b.drain();
      expect(joined).toBeDefined();
      expect(await joined).toBe(outcomes);
      const built = outcomes.filter((o) => o.status === 'built').map((o) => o.symbol);
      expect(built.sort()).toEqual(['NDX', 'SPX', 'SPX']);
      expect(published.sort()).toEqual(['NDX', 'SPX', 'SPX']);
      expect(await hh.bus.conn.scard(hh.keys.epochDirty)).toBe(0);
      expect(await hh.bus.cmd.sismember(hh.keys.epochClean, spx.epochId as string)).toBe(1);
      const gex = JSON.parse((await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) as string) as {
        epoch_id: string;
      };
      expect(gex.epoch_id).toBe(spx.epochId);
    },
  );
});

/**
 * @module The six benchmark scenarios. Each returns raw samples; main.ts summarizes and prints them.
 */
import type { Redis } from 'ioredis';
import { applySnapshot, cycleFetchOptions, runCycle, type CycleResult } from '../src/chain-worker/cycle.js';
import { buildModelsFrom } from '../src/models/build-models.js';
import type { ContractSubstrate } from '../src/normalizers/substrate.js';
import { normalizeSnapshot } from '../src/normalizers/registry.js';
import type { ChainSnapshot } from '../src/provider/massive/types.js';
import type { BulkCommand } from '../src/redis/bus.js';
import { encodeContractIndex } from '../src/wiring/contract-index.js';
import { buildSnapshotWrites } from '../src/wiring/snapshot-writes.js';
import { startProbe, type GcTally, type TurnBreakdown } from './probes.js';
import { clientPipelineWrite, rawSocketWrite } from './raw-baseline.js';
import { measureRedisMemory } from './redis-dataset.js';
import type { Stack } from './stack.js';

export const SYMBOLS = ['I:SPX', 'I:NDX'] as const;

async function flush(stack: Stack): Promise<void> {
  await stack.bus.conn.call('FLUSHALL');
}

export interface BurstRun {
  totalMs: number;
  contracts: number;
  phases: Record<string, number>;
  buildMs: { gex: number; heatmap: number; read: number; write: number; wall: number };
  /** Builds whose substrates came from the cycle (the handoff) rather than Redis. */
  handoffBuilds: number;
  peakRssMb: number;
  maxBlockMs: number;
  /** Most main-thread CPU between two turns of the event loop (null off Linux). */
  maxBlockCpuMs: number | null;
  /** Time the main thread waited for a CPU (the machine's load), ms. */
  runQueueMs: number | null;
  /** CPU the worker process used during the cycle, every thread (user + system), ms. */
  workerCpuMs: number;
  /** CPU the Redis server used meanwhile (`INFO cpu`: user + system, every thread), ms. */
  redisCpuMs: number;
  /** Minor page faults of the worker process (every thread) during the cycle. */
  minorFaults: number;
  /** The cycle's longest turn of the event loop, split into CPU, run queue and off-CPU time. */
  worstTurn: TurnBreakdown | null;
  /** The main isolate's collections during the cycle. */
  gc: GcTally;
}

/** The Redis server's CPU so far (user + system), ms. */
async function redisCpuMs(stack: Stack): Promise<number> {
  const info = (await stack.bus.conn.call('INFO', 'cpu')) as string;
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** One full cycle for both symbols (concurrently, as the worker runs them) and both model builds. */
export async function burstCycle(stack: Stack): Promise<BurstRun> {
  await flush(stack);
  const redis0 = await redisCpuMs(stack);
  const cpu0 = process.cpuUsage();
  const probe = startProbe();
  const t0 = performance.now();
  // As the worker does: a symbol's models build as soon as its own epoch is committed (drain coalesces).
  const drains: Promise<Awaited<ReturnType<Stack['builder']['drain']>>>[] = [];
  const results = await Promise.all(
    SYMBOLS.map(async (s) => {
      let started = false;
      const onCommitted = (): void => {
        started = true;
        drains.push(stack.builder.drain());
      };
      const r = await runCycle({ ...stack.deps, onCommitted }, s, '');
      if (r.ok && !started) drains.push(stack.builder.drain());
      return r;
    }),
  );
  const tb = performance.now();
  // Coalesced drains share one outcome list: count each outcome once.
  const outcomes = [...new Set((await Promise.all(drains)).flat())];
  const t1 = performance.now();
  const { peakRssMb, maxBlockMs, maxBlockCpuMs, runQueueMs, minorFaults, worstTurn, gc } = probe.stop();
  const cpu = process.cpuUsage(cpu0);
  const redisCpu = (await redisCpuMs(stack)) - redis0;
  for (const r of results) if (!r.ok) throw new Error(`cycle failed: ${r.error?.message ?? ''}`);
  const phases: Record<string, number> = {};
  for (const k of Object.keys(results[0]?.phases ?? {})) {
    phases[k] = Math.max(...results.map((r: CycleResult) => r.phases[k as keyof CycleResult['phases']]));
  }
  const built = outcomes.filter((o) => o.status === 'built');
  const sum = (f: (m: NonNullable<(typeof built)[number]['ms']>) => number): number =>
    built.reduce((n, o) => n + (o.ms ? f(o.ms) : 0), 0);
  return {
    totalMs: t1 - t0,
    contracts: results.reduce((n, r) => n + r.contracts, 0),
    phases,
    buildMs: {
      gex: sum((m) => m.gex),
      heatmap: sum((m) => m.heatmap),
      read: sum((m) => m.read),
      write: sum((m) => m.write),
      wall: t1 - tb,
    },
    handoffBuilds: built.filter((o) => o.source === 'handoff').length,
    peakRssMb,
    maxBlockMs,
    maxBlockCpuMs,
    runQueueMs,
    workerCpuMs: (cpu.user + cpu.system) / 1000,
    redisCpuMs: redisCpu,
    minorFaults,
    worstTurn,
    gc,
  };
}

/** Fetches both symbols once, as a cycle does (for scenarios that reuse a snapshot). */
export async function fetchBoth(stack: Stack): Promise<ChainSnapshot[]> {
  const opts = cycleFetchOptions(stack.deps);
  return Promise.all(SYMBOLS.map((s) => stack.provider.client.fetchSnapshot(s, opts)));
}

export interface WriteRun {
  workerMs: number;
  /** The worker's phases (the slower symbol's), ms. */
  phases: Record<string, number>;
  bulkCommands: number;
  rawMs: number;
  pipelineMs: number;
}

/** The worker's write path for pre-fetched snapshots vs the same SETs pre-encoded on a raw socket. */
export async function writePhase(
  stack: Stack,
  snapshots: ChainSnapshot[],
  redis: { host: string; port: number },
): Promise<WriteRun> {
  await flush(stack);
  const t0 = performance.now();
  const res = await Promise.all(snapshots.map((s) => applySnapshot(stack.deps, s, '')));
  const workerMs = performance.now() - t0;
  for (const r of res) if (!r.ok) throw new Error(`write failed: ${r.error?.message ?? ''}`);
  const phases: Record<string, number> = {};
  for (const k of ['normalize', 'write', 'promote', 'publish', 'analytics'] as const)
    phases[k] = Math.max(...res.map((r) => r.phases[k]));

  // The same keys and values: rebuild the bulk SETs the worker sent (substrates, raw snapshots, index).
  const commands: BulkCommand[] = [];
  for (let i = 0; i < snapshots.length; i++) {
    const snap = snapshots[i] as ChainSnapshot;
    const norm = normalizeSnapshot(snap.contracts, { underlying: snap.underlying, asOf: snap.asOf });
    const byId = new Map(norm.records.map((r) => [r.id, r]));
    const written = snap.contracts.flatMap((c) => {
      const record = byId.get(c.ticker);
      return record ? [{ contract: c, record }] : [];
    });
    const index = await encodeContractIndex(written.map((w) => w.contract.ticker));
    commands.push(
      ...buildSnapshotWrites(
        stack.keys,
        snap,
        written,
        res[i]?.epochId as string,
        { snapshotSec: 300, substrateSec: 300 },
        index,
      ),
    );
  }
  await flush(stack);
  const rawMs = await rawSocketWrite(redis.host, redis.port, commands);
  await flush(stack);
  const pipelineMs = await clientPipelineWrite(stack.bus.conn as Redis, commands);
  return { workerMs, phases, bulkCommands: commands.length, rawMs, pipelineMs };
}

export interface FetchRun {
  ms: number;
  pages: number;
  contracts: number;
}

/** Fetch of both symbols with the stack's concurrency (concurrently, as the worker does) or one stream at a time. */
export async function fetchPhase(stack: Stack, oneAtATime: boolean): Promise<FetchRun> {
  const t0 = performance.now();
  const snaps: ChainSnapshot[] = [];
  if (oneAtATime)
    for (const s of SYMBOLS)
      snaps.push(await stack.provider.client.fetchSnapshot(s, cycleFetchOptions(stack.deps)));
  else snaps.push(...(await fetchBoth(stack)));
  return {
    ms: performance.now() - t0,
    pages: snaps.reduce((n, s) => n + s.pages, 0),
    contracts: snaps.reduce((n, s) => n + s.contracts.length, 0),
  };
}

/**
 * Builds both models for each symbol from the substrates as the model thread does (`buildModelsFrom`:
 * each model's maths and its JSON bytes), and the build floor: one `JSON.parse` of the same substrates as
 * the model thread receives them (one JSON array per symbol).
 */
export function modelBuilds(
  snapshots: ChainSnapshot[],
  widths: Record<string, number[]>,
  windowPct: number,
): { gexMs: number; heatmapMs: number; parseMs: number } {
  let gexMs = 0;
  let heatmapMs = 0;
  let parseMs = 0;
  for (const s of snapshots) {
    const contracts: ContractSubstrate[] = normalizeSnapshot(s.contracts, {
      underlying: s.underlying,
      asOf: s.asOf,
    }).records;
    const json = `[${contracts.map((c) => JSON.stringify(c)).join(',')}]`;
    const tp = performance.now();
    JSON.parse(json);
    parseMs += performance.now() - tp;
    const built = buildModelsFrom(contracts, {
      symbol: s.underlying,
      epochId: 'bench',
      asOf: s.asOf,
      spot: s.spot,
      ts: Date.now(),
      stale: false,
      widths: widths[s.underlying] ?? [5],
      windowPct,
    });
    gexMs += built.ms.gex;
    heatmapMs += built.ms.heatmap;
  }
  return { gexMs, heatmapMs, parseMs };
}

/**
 * Redis memory per contract for one cycle's keys (no models), then with the models: the growth of
 * `MEMORY STATS` dataset.bytes (used_memory less Redis's own overhead such as client buffers, which the
 * bulk write inflates for a moment), and of used_memory itself after the buffers settle. The cycle and
 * the build run once unmeasured first (see redis-dataset.ts: Redis's first call of a command allocates
 * memory that no contract holds).
 */
export async function redisMemory(stack: Stack): Promise<{
  bytesPerContract: number;
  usedMemoryPerContract: number;
  withModelsBytesPerContract: number;
  contracts: number;
}> {
  let contracts = 0;
  const cycle = async (): Promise<void> => {
    const results = await Promise.all(SYMBOLS.map((s) => runCycle(stack.deps, s, '')));
    contracts = results.reduce((n, r) => n + r.contracts, 0);
  };
  const [before, after, withModels] = await measureRedisMemory(stack.bus.conn as Redis, [
    cycle,
    () => stack.builder.drain(),
  ]);
  if (!before || !after || !withModels) throw new Error('redis memory: a measurement is missing');
  return {
    bytesPerContract: (after.dataset - before.dataset) / contracts,
    usedMemoryPerContract: (after.used - before.used) / contracts,
    withModelsBytesPerContract: (withModels.dataset - before.dataset) / contracts,
    contracts,
  };
}

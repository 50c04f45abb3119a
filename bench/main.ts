/**
 * @module `npm run bench`: the burst benchmark. Starts its own redis-server and the local Massive API in
 * another process (fixed per-page latency), then runs six scenarios; every comparison is measured in the
 * same run. Prints a table, or one JSON object with --json.
 */
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { RedisServerProcess } from '../tools/redis-servers.js';
import { SimProcess } from './sim-process.js';
import { BENCH_API_KEY, createStack, type Stack } from './stack.js';
import { fetchBoth, fetchPhase, modelBuilds, redisMemory, writePhase, type BurstRun } from './scenarios.js';
import { round, summarize, type Summary } from './stats.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'latency-ms': { type: 'string', default: '40' },
    runs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '10' },
    rate: { type: 'string', default: '250' },
    growth: { type: 'string', default: '2000,5000,10000,20000,40000' },
  },
});
const latencyMs = Number(args['latency-ms']);
const runs = Number(args.runs);
const concurrency = Number(args.concurrency);
const rate = Number(args.rate);
const growthSizes = (args.growth ?? '')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const log = (msg: string): void => {
  if (!args.json) process.stderr.write(`bench: ${msg}\n`);
};

const s = (xs: number[]): Summary => summarize(xs);
const exec = promisify(execFile);

/** Runs burst cycles in a worker process of its own (see worker-child.ts). */
async function workerProcess(api: string, redis: string, n: number): Promise<BurstRun[]> {
  const child = resolve(import.meta.dirname, 'worker-child.js');
  const { stdout } = await exec(
    process.execPath,
    [
      child,
      '--api',
      api,
      '--redis',
      redis,
      '--runs',
      String(n),
      '--concurrency',
      String(concurrency),
      '--rate',
      String(rate),
    ],
    { maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
  );
  return (JSON.parse(stdout) as { runs: BurstRun[] }).runs;
}
const r1 = (x: number): number => round(x, 1);
const brief = (x: Summary): { median: number; min: number; max: number } => ({
  median: r1(x.median),
  min: r1(x.min),
  max: r1(x.max),
});

async function main(): Promise<void> {
  const redis = new RedisServerProcess({ args: ['--maxmemory-policy', 'noeviction'] });
  await redis.start();
  const sim = new SimProcess({ latencyMs, apiKey: BENCH_API_KEY });
  await sim.start();
  const redisUrl = `redis://127.0.0.1:${redis.port}`;
  const stacks: Stack[] = [];
  try {
    const stack = await createStack({ apiUrl: sim.url, redisUrl, concurrency, rateLimit: rate });
    const seq = await createStack({ apiUrl: sim.url, redisUrl, concurrency: 1, rateLimit: rate });
    stacks.push(stack, seq);

    // Expiration discovery, cold (a fresh client): pages and time.
    await sim.market({ burst: true });
    const cold = await fetchBoth(stack);
    const discovery = {
      pages: cold.reduce((n, x) => n + x.discovery.pages, 0) / cold.length,
      ms: cold.reduce((n, x) => n + x.discovery.ms, 0) / cold.length,
    };

    log(`1/6 burst cycle end to end (${runs} runs, in a worker process of its own)`);
    const burst = await workerProcess(sim.url, redisUrl, runs);

    log('5/6 Redis memory per contract');
    const mem = await redisMemory(stack);

    log(`2/6 write phase vs raw socket (${runs} runs)`);
    const snapshots = await fetchBoth(stack);
    const writes = [];
    for (let i = 0; i < runs; i++)
      writes.push(await writePhase(stack, snapshots, { host: '127.0.0.1', port: redis.port }));

    log(`3/6 fetch phase vs one stream at a time (${runs} runs)`);
    await fetchPhase(seq, true); // warm the sequential client's discovery cache
    const conc = [];
    const serial = [];
    const t0 = performance.now();
    const req0 = (await sim.stats()).requests;
    for (let i = 0; i < runs; i++) {
      conc.push(await fetchPhase(stack, false));
      serial.push(await fetchPhase(seq, true));
    }
    const observedRps = ((await sim.stats()).requests - req0) / ((performance.now() - t0) / 1000);
    const maxConcRps = Math.max(...conc.map((c) => c.pages / (c.ms / 1000)));

    log(`4/6 model builds (${runs} runs)`);
    const builds = [];
    for (let i = 0; i < runs; i++)
      builds.push(modelBuilds(snapshots, stack.config.widths, stack.config.heatmapWindowPct));

    log(`6/6 growth ${growthSizes.join(', ')}`);
    const growth = [];
    for (const n of growthSizes) {
      await sim.market({ burst: false, contractsPerExpiration: Math.round(n / 10) });
      const gr = await workerProcess(sim.url, redisUrl, Math.min(3, runs));
      const cyc = s(gr.map((g) => g.totalMs));
      growth.push({
        contracts: gr[0]?.contracts ?? 0,
        cycle_ms: r1(cyc.median),
        rss_mb: r1(Math.max(...gr.map((g) => g.peakRssMb))),
        max_event_loop_block_ms: r1(Math.max(...gr.map((g) => g.maxBlockMs))),
        us_per_contract: r1((cyc.median * 1000) / (gr[0]?.contracts ?? 1)),
      });
    }

    const burstTotal = s(burst.map((b) => b.totalMs));
    const phases = Object.fromEntries(
      Object.keys(burst[0]?.phases ?? {}).map((k) => [k, brief(s(burst.map((b) => b.phases[k] ?? 0)))]),
    );
    const buildWall = s(burst.map((b) => b.buildMs.wall));
    const workerWrite = s(writes.map((w) => w.workerMs));
    const rawWrite = s(writes.map((w) => w.rawMs));
    const pipeWrite = s(writes.map((w) => w.pipelineMs));
    const keys = writes[0]?.bulkCommands ?? 0;
    const concFetch = s(conc.map((c) => c.ms));
    const serialFetch = s(serial.map((c) => c.ms));
    const gex = s(builds.map((b) => b.gexMs));
    const heat = s(builds.map((b) => b.heatmapMs));
    const result = {
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? '?',
        mem_gb: r1(totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: {
        latency_ms: latencyMs,
        runs,
        concurrency,
        rate_limit_rps: rate,
        window_pct: stack.config.heatmapWindowPct,
      },
      contracts: burst[0]?.contracts ?? 0,
      burst_cycle_ms: r1(burstTotal.median),
      burst_cycle: { total: brief(burstTotal), phases, build_wall: brief(buildWall) },
      write_ratio: round(rawWrite.median / workerWrite.median, 2),
      write: {
        keys,
        worker_ms: brief(workerWrite),
        raw_socket_ms: brief(rawWrite),
        ioredis_pipeline_ms: brief(pipeWrite),
        worker_keys_per_s: Math.round(keys / (workerWrite.median / 1000)),
        raw_keys_per_s: Math.round(keys / (rawWrite.median / 1000)),
        pipeline_ratio: round(rawWrite.median / pipeWrite.median, 2),
      },
      fetch_speedup: round(serialFetch.median / concFetch.median, 2),
      fetch: {
        pages: conc[0]?.pages ?? 0,
        concurrent_ms: brief(concFetch),
        one_stream_at_a_time_ms: brief(serialFetch),
        max_concurrent_rps: r1(maxConcRps),
        observed_avg_rps: r1(observedRps),
        discovery_pages_per_symbol: discovery.pages,
        discovery_ms_per_symbol: r1(discovery.ms),
      },
      build_ms: r1(gex.median + heat.median),
      builds: { gex_ms: brief(gex), heatmap_ms: brief(heat) },
      worker_peak_rss_mb: r1(Math.max(...burst.map((b) => b.peakRssMb))),
      redis_bytes_per_contract: Math.round(mem.bytesPerContract),
      redis_used_memory_per_contract: Math.round(mem.usedMemoryPerContract),
      redis_bytes_per_contract_with_models: Math.round(mem.withModelsBytesPerContract),
      max_event_loop_block_ms: r1(Math.max(...burst.map((b) => b.maxBlockMs))),
      growth,
    };
    if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printTable(result);
  } finally {
    for (const st of stacks) await st.close();
    await sim.stop();
    await redis.destroy();
  }
}

type Result = Record<string, unknown> & {
  machine: { cpus: number; cpu: string; mem_gb: number; node: string };
  burst_cycle: {
    total: ReturnType<typeof brief>;
    phases: Record<string, ReturnType<typeof brief>>;
    build_wall: ReturnType<typeof brief>;
  };
  write: {
    keys: number;
    worker_ms: ReturnType<typeof brief>;
    raw_socket_ms: ReturnType<typeof brief>;
    ioredis_pipeline_ms: ReturnType<typeof brief>;
    worker_keys_per_s: number;
    raw_keys_per_s: number;
    pipeline_ratio: number;
  };
  fetch: {
    pages: number;
    concurrent_ms: ReturnType<typeof brief>;
    one_stream_at_a_time_ms: ReturnType<typeof brief>;
    max_concurrent_rps: number;
    observed_avg_rps: number;
    discovery_pages_per_symbol: number;
    discovery_ms_per_symbol: number;
  };
  builds: { gex_ms: ReturnType<typeof brief>; heatmap_ms: ReturnType<typeof brief> };
  growth: {
    contracts: number;
    cycle_ms: number;
    rss_mb: number;
    max_event_loop_block_ms: number;
    us_per_contract: number;
  }[];
};

function printTable(r: Result): void {
  const m = (b: { median: number; min: number; max: number }, u = 'ms'): string =>
    `${b.median} ${u} (${b.min}–${b.max})`;
  const lines = [
    `machine: ${r.machine.cpus} cores (${r.machine.cpu}), ${r.machine.mem_gb} GiB, Node ${r.machine.node}`,
    `settings: ${JSON.stringify(r.settings)}; median (min–max)`,
    '',
    `1. burst cycle, ${String(r.contracts)} contracts, fetch → both models published: ${m(r.burst_cycle.total)}`,
    ...Object.entries(r.burst_cycle.phases).map(([k, v]) => `     ${k.padEnd(10)} ${m(v)}`),
    `     builds     ${m(r.burst_cycle.build_wall)}`,
    `2. write phase, ${r.write.keys} keys: worker ${m(r.write.worker_ms)} = ${r.write.worker_keys_per_s} keys/s; raw socket ${m(r.write.raw_socket_ms)} = ${r.write.raw_keys_per_s} keys/s; ratio ${String(r.write_ratio)} (ioredis pipeline: ${m(r.write.ioredis_pipeline_ms)}, ratio ${r.write.pipeline_ratio})`,
    `3. fetch, ${r.fetch.pages} pages: concurrent ${m(r.fetch.concurrent_ms)}; one stream at a time ${m(r.fetch.one_stream_at_a_time_ms)}; speedup ${String(r.fetch_speedup)}× (max ${r.fetch.max_concurrent_rps} req/s vs limit ${String((r.settings as { rate_limit_rps: number }).rate_limit_rps)}); discovery ${r.fetch.discovery_pages_per_symbol} pages, ${r.fetch.discovery_ms_per_symbol} ms per symbol (cold)`,
    `4. model builds: GEX ${m(r.builds.gex_ms)}, heatmap ${m(r.builds.heatmap_ms)}; total ${String(r.build_ms)} ms`,
    `5. memory: worker peak RSS ${String(r.worker_peak_rss_mb)} MB; Redis ${String(r.redis_bytes_per_contract)} B/contract of dataset (${String(r.redis_used_memory_per_contract)} of used_memory; ${String(r.redis_bytes_per_contract_with_models)} with models); max event-loop block ${String(r.max_event_loop_block_ms)} ms`,
    '6. growth:',
    '     contracts  cycle_ms  µs/contract  rss_mb  max_block_ms',
    ...r.growth.map(
      (g) =>
        `     ${String(g.contracts).padStart(9)}  ${String(g.cycle_ms).padStart(8)}  ${String(g.us_per_contract).padStart(11)}  ${String(g.rss_mb).padStart(6)}  ${String(g.max_event_loop_block_ms).padStart(12)}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

/**
 * @module `npm run bench`: the burst benchmark. Starts its own redis-server and the local Massive API in
 * another process (fixed per-page latency), then runs six scenarios; every target is a ratio to a floor
 * measured in the same run (fetch: a bare undici loop; write: pre-encoded commands on a raw socket;
 * build: JSON.parse of the substrates). Prints a table, or one JSON object with --json; `--only` runs a
 * subset of the scenarios. The seventh, `live` (bench/live.ts), streams quotes at `--live-rates` into a worker
 * of its own over a 20,000-contract-per-symbol chain. The eighth, `compat` (bench/compat.ts), runs the burst
 * cycle with `CHAIN_COMPAT=none` and `marketswarm` side by side and reads the server's SLOWLOG meanwhile.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { benchUsage, parseBenchArgs, UsageError, type BenchArgs, type Scenario } from './args.js';
import { RedisServerProcess } from '../tools/redis-servers.js';
import { nyDateTime } from '../src/domain/market-time.js';
import { asChainWorker, benchChild } from './launch-line.js';
import { SimProcess } from './sim-process.js';
import { redisSched, setRedisSched } from './redis-priority.js';
import { BENCH_API_KEY, createStack, type Stack } from './stack.js';
import type { FetchChildResult } from './fetch-child.js';
import {
  fetchBoth,
  modelBuilds,
  redisMemory,
  writePhase,
  type BurstRun,
  type FetchRun,
  type WriteRun,
} from './scenarios.js';
import {
  addTallies,
  mainGcReport,
  worstTurnReport,
  type MainGc,
  type TurnBreakdown,
  type WorstTurn,
} from './probes.js';
import { firstTouch, type FirstTouch } from './first-touch.js';
import { policyName } from '../src/lib/main-thread-sched.js';
import { round, summarize, type Summary } from './stats.js';
import { liveRun, type LiveRun } from './live.js';
import {
  COMPAT_MODES,
  compatRuns,
  roundOrder,
  type CompatMode,
  type CompatRuns,
  type SlowlogSummary,
} from './compat.js';

let parsed: BenchArgs;
try {
  parsed = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`bench: ${err.message} (npm run bench -- --help lists the options)\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(benchUsage());
  process.exit(0);
}
const args = parsed;
const { latencyMs, chainCompat, redisSchedCompat, simNice, simNiceFetch, runs, concurrency, rate } = args;
const growthSizes = args.growth;
// The worker processes (growth, burst, fetch, compat, live) inherit it: their main thread's policy.
process.env.CHAIN_MAIN_THREAD_SCHED = args.mainThreadSched;
/** The main thread's policy each worker process reported (Linux's numbers: 0 normal, 1 FIFO, 2 RR). */
const childPolicies = new Set<number | null>();
const only = args.only;
const want = (x: Scenario): boolean => only.has(x);
const log = (msg: string): void => {
  if (!args.json) process.stderr.write(`bench: ${msg}\n`);
};

const exec = promisify(execFile);

/** Runs burst cycles in a worker process of its own (see worker-child.ts). */
async function workerProcess(
  api: string,
  redis: string,
  n: number,
  extra: string[] = [],
): Promise<BurstRun[]> {
  // Started as bin/chain-worker is (its interpreter line sets the memory settings), so its RSS is what users get.
  const run = asChainWorker(benchChild('worker-child'), [
    '--api',
    api,
    '--redis',
    redis,
    '--runs',
    String(n),
    '--warm-up',
    String(args.warmUp),
    '--concurrency',
    String(concurrency),
    '--rate',
    String(rate),
    ...extra,
  ]);
  const { stdout } = await exec(run.command, run.args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  const out = JSON.parse(stdout) as { runs: BurstRun[]; mainThreadPolicy: number | null };
  childPolicies.add(out.mainThreadPolicy);
  return out.runs;
}
const r1 = (x: number): number => round(x, 1);
/** Linux's policy numbers as names (`unknown` where a process could not read its own). */
const policyNames = (xs: (number | null)[]): string[] => [...new Set(xs.map(policyName))].sort();
type Brief = { median: number; min: number; max: number };
const brief = (x: Summary): Brief => ({ median: r1(x.median), min: r1(x.min), max: r1(x.max) });
/** Summary of samples, or null when the scenario did not run. */
const sb = (xs: number[]): Brief | null => (xs.length > 0 ? brief(summarize(xs)) : null);
const med = (xs: number[]): number => summarize(xs).median;
/** a / b rounded to 2 digits, or null when either is missing. */
const ratio = (a: number, b: number): number | null =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : null;
const maxOf = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length > 0 ? r1(Math.max(...v)) : null;
};

async function main(): Promise<void> {
  // Before anything else runs: the machine's own cost of fresh memory.
  const touch = firstTouch();
  const redis = new RedisServerProcess({ args: ['--maxmemory-policy', 'noeviction'] });
  await redis.start();
  const sim = new SimProcess({ latencyMs, apiKey: BENCH_API_KEY, nice: simNiceFetch });
  await sim.start();
  const redisUrl = `redis://127.0.0.1:${redis.port}`;
  const stacks: Stack[] = [];
  try {
    const env = { CHAIN_COMPAT: chainCompat };
    const stack = await createStack({ apiUrl: sim.url, redisUrl, concurrency, rateLimit: rate, env });
    stacks.push(stack);

    // Expiration discovery, cold (a fresh client): pages and time.
    await sim.market({ burst: true });
    const cold = await fetchBoth(stack);
    const discovery = {
      pages: cold.reduce((n, x) => n + x.discovery.pages, 0) / cold.length,
      ms: cold.reduce((n, x) => n + x.discovery.ms, 0) / cold.length,
    };

    let burst: BurstRun[] = [];
    if (want('burst')) {
      log(`1/7 burst cycle end to end (${runs} runs, in a worker process of its own)`);
      burst = await workerProcess(sim.url, redisUrl, runs, ['--compat', chainCompat]);
    }

    let mem: Awaited<ReturnType<typeof redisMemory>> | undefined;
    let compatMem: Awaited<ReturnType<typeof redisMemory>> | undefined;
    if (want('memory')) {
      log('5/7 Redis memory per contract (our key schema alone, then with the MarketSwarm outputs)');
      // Our own schema: CHAIN_COMPAT=none (the MarketSwarm outputs add `massive:chain:latest` with every
      // contract's vendor JSON, and more; measured separately below).
      const withOutputs = async (compat: string): Promise<Stack> => {
        const st = await createStack({
          apiUrl: sim.url,
          redisUrl,
          concurrency,
          rateLimit: rate,
          env: { CHAIN_COMPAT: compat },
        });
        stacks.push(st);
        return st;
      };
      mem = await redisMemory(chainCompat === 'none' ? stack : await withOutputs('none'));
      compatMem = await redisMemory(await withOutputs('marketswarm'));
    }

    const snapshots = await fetchBoth(stack);
    const writes: WriteRun[] = [];
    if (want('write')) {
      log(`2/7 write phase vs raw socket (${runs} runs)`);
      for (let i = 0; i < runs; i++)
        writes.push(await writePhase(stack, snapshots, { host: '127.0.0.1', port: redis.port }));
    }

    const conc: FetchRun[] = [];
    const serial: FetchRun[] = [];
    const floor: { ms: number; pages: number }[] = [];
    let observedRps = NaN;
    let maxConcRps = NaN;
    if (want('fetch')) {
      log(
        `3/7 fetch phase vs its floor (bare undici, same requests) and one stream at a time (${runs} runs)`,
      );
      // In a process of its own, started as the worker is (see fetch-child.ts).
      const run = asChainWorker(benchChild('fetch-child'), [
        '--api',
        sim.url,
        '--redis',
        redisUrl,
        '--runs',
        String(runs),
        '--concurrency',
        String(concurrency),
        '--rate',
        String(rate),
      ]);
      const { stdout } = await exec(run.command, run.args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
      const child = JSON.parse(stdout) as FetchChildResult;
      childPolicies.add(child.mainThreadPolicy);
      conc.push(...child.conc);
      floor.push(...child.floor);
      serial.push(...child.serial);
      observedRps = child.observedRps;
      maxConcRps = Math.max(...conc.map((c) => c.pages / (c.ms / 1000)));
    }

    const builds: ReturnType<typeof modelBuilds>[] = [];
    if (want('build')) {
      log(`4/7 model builds vs JSON.parse of the same substrates (${runs} runs)`);
      for (let i = 0; i < runs; i++)
        builds.push(modelBuilds(snapshots, stack.config.widths, stack.config.heatmapWindowPct));
    }

    // From here on the worker's event loop and Redis's command times are measured: the API process goes
    // below the worker (a remote API never takes the worker's cores).
    if (simNice !== simNiceFetch) {
      const refused = sim.setNice(simNice);
      if (refused) log(`could not set the API process's nice to ${simNice}: ${refused}`);
    }
    const growth = [];
    if (want('growth')) {
      log(`6/7 growth ${growthSizes.join(', ')}`);
      for (const n of growthSizes) {
        await sim.market({ burst: false, contractsPerExpiration: Math.round(n / 10) });
        const gr = await workerProcess(sim.url, redisUrl, Math.min(3, runs), ['--compat', chainCompat]);
        const cyc = summarize(gr.map((g) => g.totalMs));
        growth.push({
          contracts: gr[0]?.contracts ?? 0,
          cycle_ms: r1(cyc.median),
          rss_mb: r1(Math.max(...gr.map((g) => g.peakRssMb))),
          max_event_loop_block_ms: r1(Math.max(...gr.map((g) => g.maxBlockMs))),
          max_event_loop_block_cpu_ms: maxOf(gr.map((g) => g.maxBlockCpuMs)),
          us_per_contract: r1((cyc.median * 1000) / (gr[0]?.contracts ?? 1)),
          worst_turn: worstTurnOf(gr),
          main_gc: mainGcReport(addTallies(gr.map((g) => g.gc))),
        });
      }
    }

    const liveRuns: LiveRun[] = [];
    if (want('live')) {
      const liveRates = args.liveRates;
      log(`7/7 live stream at ${liveRates.join(', ')} quote messages/s (a worker process each)`);
      for (const r of liveRates)
        liveRuns.push(await liveRun({ rate: r, seconds: args.liveSeconds, warmup: 5, serverNice: simNice }));
    }

    let compat: CompatRuns | undefined;
    // The redis-server's scheduling during the compat scenario as `chrt` reports it (`SCHED_FIFO 1`).
    let compatSched: string | null = null;
    if (want('compat')) {
      const rounds = args.compatRounds;
      const compatRunsPerRound = args.compatRuns;
      log(
        `compat: burst cycle with CHAIN_COMPAT=none and marketswarm, ${rounds} alternating rounds of ${compatRunsPerRound} runs, SLOWLOG ≥ ${args.slowlogUs} µs`,
      );
      await sim.market({ burst: true });
      const pid = redis.pid;
      if (pid !== undefined && redisSchedCompat === 'fifo') {
        const refused = await setRedisSched(pid, 'fifo');
        if (refused) log(`could not give the bench's redis-server real-time priority: ${refused}`);
      }
      compatSched = pid !== undefined ? await redisSched(pid) : '?';
      try {
        compat = await compatRuns({
          redis: stack.bus.conn,
          rounds,
          runs: compatRunsPerRound,
          slowlogUs: args.slowlogUs,
          worker: (mode, n) => workerProcess(sim.url, redisUrl, n, ['--compat', mode]),
        });
      } finally {
        if (pid !== undefined && redisSchedCompat === 'fifo') await setRedisSched(pid, 'other');
      }
    }

    const burstTotal = burst.map((b) => b.totalMs);
    const phases = Object.fromEntries(
      Object.keys(burst[0]?.phases ?? {}).map((k) => [k, sb(burst.map((b) => b.phases[k] ?? 0))]),
    );
    const workerWrite = writes.map((w) => w.workerMs);
    const rawWrite = writes.map((w) => w.rawMs);
    const pipeWrite = writes.map((w) => w.pipelineMs);
    const keys = writes[0]?.bulkCommands ?? 0;
    const concFetch = conc.map((c) => c.ms);
    const floorFetch = floor.map((c) => c.ms);
    const gex = builds.map((b) => b.gexMs);
    const heat = builds.map((b) => b.heatmapMs);
    const parse = builds.map((b) => b.parseMs);
    const buildMs = med(gex) + med(heat);
    const result = {
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? '?',
        mem_gb: r1(totalmem() / 2 ** 30),
        node: process.version,
        loadavg_1m: r1(loadavg()[0] ?? 0),
        first_touch: touch,
      },
      settings: {
        latency_ms: latencyMs,
        runs,
        warm_up_bursts: args.warmUp,
        concurrency,
        rate_limit_rps: rate,
        window_pct: stack.config.heatmapWindowPct,
        scenarios: [...only],
        chain_compat: chainCompat,
        thread_nice: stack.config.threadNice,
        sim_nice: simNice,
        sim_nice_fetch: simNiceFetch,
        redis_sched_compat: compatSched,
        // Asked for, and what the worker processes' main threads got (the live scenario's logs its own).
        main_thread_sched: { requested: args.mainThreadSched, applied: policyNames([...childPolicies]) },
        // The chain follows the clock (the simulated market lists expirations from its New York date):
        // after 16:00 the day's expiration has expired, and the chain's contracts and bytes differ.
        market: {
          ny_time: snapshots[0] ? nyDateTime(snapshots[0].asOf) : null,
          expirations: Object.fromEntries(snapshots.map((x) => [x.symbol, x.expirations])),
        },
      },
      contracts: burst[0]?.contracts ?? snapshots.reduce((n, x) => n + x.contracts.length, 0),
      // The ratios: ours against a floor measured in this run (see the README's Performance section).
      fetch_ratio: ratio(med(floorFetch), med(concFetch)),
      write_ratio: ratio(med(rawWrite), med(workerWrite)),
      cycle_ratio: ratio(med(floorFetch) + med(rawWrite), med(burstTotal)),
      build_ratio: ratio(buildMs, med(parse)),
      burst_cycle_ms: burst.length > 0 ? r1(med(burstTotal)) : null,
      burst_cycle: {
        total: sb(burstTotal),
        phases,
        build_wall: sb(burst.map((b) => b.buildMs.wall)),
        // Summed over both symbols' builds: the substrate read, and the model thread's maths.
        build_phases: Object.fromEntries(
          (['read', 'gex', 'heatmap', 'write'] as const).map((k) => [k, sb(burst.map((b) => b.buildMs[k]))]),
        ),
        handoff_builds: sb(burst.map((b) => b.handoffBuilds)),
        run_queue_ms: sb(burst.flatMap((b) => (b.runQueueMs === null ? [] : [b.runQueueMs]))),
        minor_faults: sb(burst.map((b) => b.minorFaults)),
        worst_turn: worstTurnOf(burst),
        main_gc: mainGcReport(addTallies(burst.map((b) => b.gc))),
      },
      write: {
        keys,
        worker_ms: sb(workerWrite),
        worker_phases: Object.fromEntries(
          Object.keys(writes[0]?.phases ?? {}).map((k) => [k, sb(writes.map((w) => w.phases[k] ?? 0))]),
        ),
        raw_socket_ms: sb(rawWrite),
        ioredis_pipeline_ms: sb(pipeWrite),
        worker_keys_per_s: Math.round(keys / (med(workerWrite) / 1000)) || null,
        raw_keys_per_s: Math.round(keys / (med(rawWrite) / 1000)) || null,
        pipeline_ratio: ratio(med(rawWrite), med(pipeWrite)),
      },
      fetch_speedup: ratio(med(serial.map((c) => c.ms)), med(concFetch)),
      fetch: {
        pages: conc[0]?.pages ?? 0,
        concurrent_ms: sb(concFetch),
        floor_ms: sb(floorFetch),
        floor_pages: floor[0]?.pages ?? 0,
        one_stream_at_a_time_ms: sb(serial.map((c) => c.ms)),
        max_concurrent_rps: Number.isFinite(maxConcRps) ? r1(maxConcRps) : null,
        observed_avg_rps: Number.isFinite(observedRps) ? r1(observedRps) : null,
        discovery_pages_per_symbol: discovery.pages,
        discovery_ms_per_symbol: r1(discovery.ms),
      },
      build_ms: builds.length > 0 ? r1(buildMs) : null,
      builds: { gex_ms: sb(gex), heatmap_ms: sb(heat), parse_floor_ms: sb(parse) },
      worker_peak_rss_mb: maxOf(burst.map((b) => b.peakRssMb)),
      redis_bytes_per_contract: mem ? Math.round(mem.bytesPerContract) : null,
      redis_used_memory_per_contract: mem ? Math.round(mem.usedMemoryPerContract) : null,
      redis_bytes_per_contract_with_models: mem ? Math.round(mem.withModelsBytesPerContract) : null,
      // What CHAIN_COMPAT=marketswarm (the default) adds per contract, models excluded.
      redis_compat_extra_bytes_per_contract:
        mem && compatMem ? Math.round(compatMem.bytesPerContract - mem.bytesPerContract) : null,
      max_event_loop_block_ms: maxOf(burst.map((b) => b.maxBlockMs)),
      max_event_loop_block_cpu_ms: maxOf(burst.map((b) => b.maxBlockCpuMs)),
      growth,
      live: liveRuns.length > 0 ? liveSummary(liveRuns) : null,
      compat: compat ? compatSummary(compat) : null,
    };
    const out = { ...result, targets: targets(result) };
    if (args.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else printTable(out);
  } finally {
    for (const st of stacks) await st.close();
    await sim.stop();
    await redis.destroy();
  }
}

type Result = {
  machine: {
    cpus: number;
    cpu: string;
    mem_gb: number;
    node: string;
    loadavg_1m: number;
    first_touch: FirstTouch;
  };
  settings: Record<string, unknown>;
  contracts: number;
  fetch_ratio: number | null;
  write_ratio: number | null;
  cycle_ratio: number | null;
  build_ratio: number | null;
  burst_cycle: {
    total: Brief | null;
    phases: Record<string, Brief | null>;
    build_wall: Brief | null;
    build_phases: Record<string, Brief | null>;
    handoff_builds: Brief | null;
    run_queue_ms: Brief | null;
    minor_faults: Brief | null;
    worst_turn: WorstTurn | null;
    /** The main isolate's collections over the measured bursts, added up. */
    main_gc: MainGc;
  };
  write: {
    keys: number;
    worker_ms: Brief | null;
    worker_phases: Record<string, Brief | null>;
    raw_socket_ms: Brief | null;
    ioredis_pipeline_ms: Brief | null;
    worker_keys_per_s: number | null;
    raw_keys_per_s: number | null;
    pipeline_ratio: number | null;
  };
  fetch_speedup: number | null;
  fetch: {
    pages: number;
    concurrent_ms: Brief | null;
    floor_ms: Brief | null;
    floor_pages: number;
    one_stream_at_a_time_ms: Brief | null;
    max_concurrent_rps: number | null;
    observed_avg_rps: number | null;
    discovery_pages_per_symbol: number;
    discovery_ms_per_symbol: number;
  };
  build_ms: number | null;
  builds: { gex_ms: Brief | null; heatmap_ms: Brief | null; parse_floor_ms: Brief | null };
  worker_peak_rss_mb: number | null;
  redis_bytes_per_contract: number | null;
  redis_used_memory_per_contract: number | null;
  redis_bytes_per_contract_with_models: number | null;
  redis_compat_extra_bytes_per_contract: number | null;
  max_event_loop_block_ms: number | null;
  max_event_loop_block_cpu_ms: number | null;
  growth: {
    contracts: number;
    cycle_ms: number;
    rss_mb: number;
    max_event_loop_block_ms: number;
    max_event_loop_block_cpu_ms: number | null;
    us_per_contract: number;
    /** The longest turn of the runs, split up (see bench/probes.ts, TurnBreakdown). */
    worst_turn: WorstTurn | null;
    /** The main isolate's collections over the measured cycles, added up (see bench/probes.ts, GcTally). */
    main_gc: MainGc;
  }[];
  live: LiveSummary | null;
  compat: CompatSummary | null;
};

/** The longest of the runs' longest turns, as reported, or null when none could be split up. */
function worstTurnOf(runs: readonly { worstTurn: TurnBreakdown | null }[]): WorstTurn | null {
  let w: TurnBreakdown | null = null;
  for (const r of runs) if (r.worstTurn && (!w || r.worstTurn.wallMs > w.wallMs)) w = r.worstTurn;
  return worstTurnReport(w);
}

interface LiveSummary {
  contracts: number;
  /** By quote rate (messages/s asked of the stream server). */
  tick_to_model_ms: Record<string, { p50: number; p95: number }>;
  /** The most over the rates. */
  cpu_share: number;
  max_event_loop_block_ms: number;
  max_event_loop_block_cpu_ms: number | null;
  redis_commands_per_sec: number;
  runs: LiveRun[];
}

interface CompatSide {
  burst_cycle_ms: Brief | null;
  build_wall_ms: Brief | null;
  publish_ms: Brief | null;
  /** The cycle's `massive:chain:latest` phase (part and assembly, after the models were released). */
  latest_ms: Brief | null;
  worker_peak_rss_mb: number | null;
  /** CPU per burst cycle of the worker process (every thread) and of the Redis server, ms: the load-robust cost. */
  worker_cpu_ms: Brief | null;
  redis_cpu_ms: Brief | null;
  slowlog: SlowlogSummary;
}
interface CompatSummary {
  contracts: number;
  none: CompatSide;
  marketswarm: CompatSide;
  /** Burst cycles measured per mode (rounds × runs). */
  runs: number;
  /** (marketswarm − none) / none of the median burst cycle over every round, in percent. */
  burst_cycle_cost_pct: number | null;
  /** The same within each round (its two processes ran next to each other): the spread of the estimate. */
  burst_cycle_cost_pct_by_round: (number | null)[];
  /** Each round's burst cycles (ms) and the worker's CPU per burst (ms), per mode, in the order they ran. */
  rounds: {
    first: CompatMode;
    burst_cycle_ms: Record<CompatMode, number[]>;
    worker_cpu_ms: Record<CompatMode, number[]>;
  }[];
  /** The same for the model build (wall time of the builds after the writes). */
  build_cost_pct: number | null;
  /** The longest worker command in SLOWLOG over both modes, ms (null: none reached the threshold). */
  slowlog_longest_ms: number | null;
}

function compatSummary(c: CompatRuns): CompatSummary {
  const side = (mode: CompatMode): CompatSide => {
    const rs = c.runs[mode];
    return {
      burst_cycle_ms: sb(rs.map((r) => r.totalMs)),
      build_wall_ms: sb(rs.map((r) => r.buildMs.wall)),
      publish_ms: sb(rs.map((r) => r.phases.publish ?? 0)),
      latest_ms: sb(rs.map((r) => r.phases.latest ?? 0)),
      worker_peak_rss_mb: maxOf(rs.map((r) => r.peakRssMb)),
      worker_cpu_ms: sb(rs.map((r) => r.workerCpuMs)),
      redis_cpu_ms: sb(rs.map((r) => r.redisCpuMs)),
      slowlog: c.slowlog[mode],
    };
  };
  const cost = (f: (r: BurstRun) => number, runs = c.runs): number | null => {
    const a = runs.none.map(f);
    const b = runs.marketswarm.map(f);
    return a.length > 0 && b.length > 0 ? round(((med(b) - med(a)) / med(a)) * 100, 1) : null;
  };
  const longest = [c.slowlog.none.longest, c.slowlog.marketswarm.longest]
    .filter((x): x is NonNullable<typeof x> => x !== null)
    .reduce((m, x) => Math.max(m, x.us), 0);
  return {
    contracts: c.runs.marketswarm[0]?.contracts ?? 0,
    none: side('none'),
    marketswarm: side('marketswarm'),
    runs: Math.min(c.runs.none.length, c.runs.marketswarm.length),
    burst_cycle_cost_pct: cost((r) => r.totalMs),
    burst_cycle_cost_pct_by_round: c.rounds.map((r) => cost((x) => x.totalMs, r)),
    rounds: c.rounds.map((r, i) => ({
      first: roundOrder(i)[0] as CompatMode,
      burst_cycle_ms: {
        none: r.none.map((x) => round(x.totalMs, 1)),
        marketswarm: r.marketswarm.map((x) => round(x.totalMs, 1)),
      },
      worker_cpu_ms: {
        none: r.none.map((x) => round(x.workerCpuMs, 1)),
        marketswarm: r.marketswarm.map((x) => round(x.workerCpuMs, 1)),
      },
    })),
    build_cost_pct: cost((r) => r.buildMs.wall),
    slowlog_longest_ms: longest > 0 ? round(longest / 1000, 2) : null,
  };
}

function liveSummary(runs: LiveRun[]): LiveSummary {
  return {
    contracts: runs[0]?.contracts ?? 0,
    tick_to_model_ms: Object.fromEntries(runs.map((r) => [String(r.rate), r.tick_to_model_ms])),
    cpu_share: Math.max(...runs.map((r) => r.cpu_share)),
    max_event_loop_block_ms: Math.max(...runs.map((r) => r.max_event_loop_block_ms)),
    max_event_loop_block_cpu_ms: maxOf(runs.map((r) => r.max_event_loop_block_cpu_ms)),
    redis_commands_per_sec: Math.max(...runs.map((r) => r.redis_commands_per_sec)),
    runs,
  };
}

interface Target {
  value: number | null;
  target: string;
  ok: boolean | null;
}

/** Each target of issue 12 with this run's value (null: the scenario did not run). */
function targets(r: Result): Record<string, Target> {
  const atLeast = (value: number | null, min: number): Target => ({
    value,
    target: `>= ${min}`,
    ok: value === null ? null : value >= min,
  });
  const atMost = (value: number | null, max: number): Target => ({
    value,
    target: `<= ${max}`,
    ok: value === null ? null : value <= max,
  });
  const out: Record<string, Target> = {
    fetch_ratio: atLeast(r.fetch_ratio, 0.85),
    write_ratio: atLeast(r.write_ratio, 0.7),
    cycle_ratio: atLeast(r.cycle_ratio, 0.6),
    redis_bytes_per_contract: atMost(r.redis_bytes_per_contract, 1100),
  };
  for (const g of r.growth) {
    if (g.contracts >= 19_000) {
      out[`max_event_loop_block_ms_${g.contracts}`] = atMost(g.max_event_loop_block_ms, 20);
      out[`max_event_loop_block_cpu_ms_${g.contracts}`] = atMost(g.max_event_loop_block_cpu_ms, 20);
    }
    if (g.contracts >= 19_000 && g.contracts <= 21_000) out[`rss_mb_${g.contracts}`] = atMost(g.rss_mb, 200);
  }
  // Issue 13: about a second from tick to model (one build period plus a build), no block over 20 ms.
  for (const run of r.live?.runs ?? []) {
    out[`live_tick_to_model_p50_ms_${run.rate}`] = atMost(run.tick_to_model_ms.p50, 1500);
    out[`live_max_event_loop_block_ms_${run.rate}`] = atMost(run.max_event_loop_block_ms, 20);
    out[`live_max_event_loop_block_cpu_ms_${run.rate}`] = atMost(run.max_event_loop_block_cpu_ms, 20);
  }
  // Issue 11: MarketSwarm's outputs cost under 10% of the burst cycle; no Redis command of 5 ms or more.
  if (r.compat) {
    out.compat_burst_cycle_cost_pct = atMost(r.compat.burst_cycle_cost_pct, 10);
    out.compat_slowlog_over_5ms = atMost(
      r.compat.none.slowlog.over_5ms + r.compat.marketswarm.slowlog.over_5ms,
      0,
    );
  }
  return out;
}

function printTable(r: Result & { targets: Record<string, Target> }): void {
  const m = (b: Brief | null, u = 'ms'): string => (b ? `${b.median} ${u} (${b.min}–${b.max})` : 'n/a');
  const lines = [
    `machine: ${r.machine.cpus} cores (${r.machine.cpu}), ${r.machine.mem_gb} GiB, Node ${r.machine.node}, load ${r.machine.loadavg_1m}; fresh memory ${r.machine.first_touch.first_ms_per_mib} ms/MiB written first, ${r.machine.first_touch.again_ms_per_mib} again`,
    `settings: ${JSON.stringify(r.settings)}; median (min–max)`,
    '',
    `ratios: fetch ${String(r.fetch_ratio)}, write ${String(r.write_ratio)}, cycle ${String(r.cycle_ratio)}, build/parse ${String(r.build_ratio)}`,
    `1. burst cycle, ${String(r.contracts)} contracts, fetch → both models published: ${m(r.burst_cycle.total)}`,
    ...Object.entries(r.burst_cycle.phases).map(([k, v]) => `     ${k.padEnd(10)} ${m(v)}`),
    `     builds     ${m(r.burst_cycle.build_wall)}`,
    `     waiting for a CPU (machine load): ${m(r.burst_cycle.run_queue_ms)}`,
    `     fresh pages touched (minor faults, whole process): ${m(r.burst_cycle.minor_faults)}`,
    `2. write phase, ${r.write.keys} keys: worker ${m(r.write.worker_ms)} = ${String(r.write.worker_keys_per_s)} keys/s; raw socket (floor) ${m(r.write.raw_socket_ms)} = ${String(r.write.raw_keys_per_s)} keys/s; ratio ${String(r.write_ratio)} (ioredis pipeline: ${m(r.write.ioredis_pipeline_ms)}, ratio ${String(r.write.pipeline_ratio)})`,
    `3. fetch, ${r.fetch.pages} pages: concurrent ${m(r.fetch.concurrent_ms)}; floor (bare undici, ${r.fetch.floor_pages} pages) ${m(r.fetch.floor_ms)}: ratio ${String(r.fetch_ratio)}; one stream at a time ${m(r.fetch.one_stream_at_a_time_ms)}: speedup ${String(r.fetch_speedup)}× (max ${String(r.fetch.max_concurrent_rps)} req/s vs limit ${String(r.settings.rate_limit_rps)}); discovery ${r.fetch.discovery_pages_per_symbol} pages, ${r.fetch.discovery_ms_per_symbol} ms per symbol (cold)`,
    `4. model builds: GEX ${m(r.builds.gex_ms)}, heatmap ${m(r.builds.heatmap_ms)}; total ${String(r.build_ms)} ms; JSON.parse of the same substrates (floor) ${m(r.builds.parse_floor_ms)}: ratio ${String(r.build_ratio)}`,
    `5. memory: worker peak RSS ${String(r.worker_peak_rss_mb)} MB; Redis ${String(r.redis_bytes_per_contract)} B/contract of dataset, CHAIN_COMPAT=none (${String(r.redis_used_memory_per_contract)} of used_memory; ${String(r.redis_bytes_per_contract_with_models)} with models; MarketSwarm outputs add ${String(r.redis_compat_extra_bytes_per_contract)}); longest event-loop block ${String(r.max_event_loop_block_ms)} ms wall, ${String(r.max_event_loop_block_cpu_ms)} ms of main-thread CPU`,
    '6. growth:',
    '     contracts  cycle_ms  µs/contract  rss_mb  block_ms  block_cpu_ms  longest turn: wall = cpu + run queue + off cpu',
    ...r.growth.map(
      (g) =>
        `     ${String(g.contracts).padStart(9)}  ${String(g.cycle_ms).padStart(8)}  ${String(g.us_per_contract).padStart(11)}  ${String(g.rss_mb).padStart(6)}  ${String(g.max_event_loop_block_ms).padStart(8)}  ${String(g.max_event_loop_block_cpu_ms).padStart(12)}  ${g.worst_turn ? `${g.worst_turn.wall_ms} = ${g.worst_turn.cpu_ms} + ${g.worst_turn.run_queue_ms} + ${g.worst_turn.off_cpu_ms}${g.worst_turn.gc_ms === undefined ? '' : ` (gc ${g.worst_turn.gc_ms})`}` : 'n/a'}`,
    ),
    `7. live stream, ${String(r.live?.contracts ?? 'n/a')} contracts:`,
    '     msgs/s  sent/s  tick→model p50/p95 ms (floor, ratio)  builds/s  cpu (cores)  block_ms  block_cpu_ms  redis cmd/s  thread ms (hydrate+models+substrates)',
    ...(r.live?.runs ?? []).map(
      (x) =>
        `     ${String(x.rate).padStart(6)}  ${String(x.quotes_per_sec_sent).padStart(6)}  ${`${x.tick_to_model_ms.p50} / ${x.tick_to_model_ms.p95} (${x.tick_to_model_floor_ms}, ${x.tick_to_model_p50_ratio})`.padStart(36)}  ${String(x.builds_per_sec).padStart(8)}  ${String(x.cpu_share).padStart(11)}  ${String(x.max_event_loop_block_ms).padStart(8)}  ${String(x.max_event_loop_block_cpu_ms).padStart(12)}  ${String(x.redis_commands_per_sec).padStart(11)}  ${x.thread_ms.hydrate} + ${x.thread_ms.models} + ${x.thread_ms.substrates}`,
    ),
    ...(r.compat
      ? [
          `8. compat, ${r.compat.contracts} contracts, ${r.compat.runs} bursts per mode: burst cycle none ${m(r.compat.none.burst_cycle_ms)}, marketswarm ${m(r.compat.marketswarm.burst_cycle_ms)}: +${String(r.compat.burst_cycle_cost_pct)}% (by round: ${r.compat.burst_cycle_cost_pct_by_round.map(String).join(', ')}); builds none ${m(r.compat.none.build_wall_ms)}, marketswarm ${m(r.compat.marketswarm.build_wall_ms)}: +${String(r.compat.build_cost_pct)}%; publish none ${m(r.compat.none.publish_ms)}, marketswarm ${m(r.compat.marketswarm.publish_ms)}; chain:latest none ${m(r.compat.none.latest_ms)}, marketswarm ${m(r.compat.marketswarm.latest_ms)}`,
          ...COMPAT_MODES.map((mode) => {
            const s = r.compat?.[mode].slowlog;
            return `     SLOWLOG (≥ ${String(s?.threshold_us)} µs) ${mode}: ${String(s?.entries)} entries, longest ${s?.longest ? `${s.longest.us} µs (${s.longest.command})` : 'none'}, ≥ 5 ms: ${String(s?.over_5ms)}; by family: ${(s?.by_family ?? []).map((f) => `${f.family} ${f.us} µs ×${f.count}`).join(', ')}`;
          }),
        ]
      : []),
    '',
    'targets:',
    ...Object.entries(r.targets).map(
      ([k, t]) =>
        `     ${k.padEnd(36)} ${String(t.value).padStart(8)}  ${t.target.padEnd(8)} ${t.ok === null ? '' : t.ok ? 'ok' : 'MISSED'}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

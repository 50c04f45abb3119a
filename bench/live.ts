/**
 * @module The streaming scenario (issue 13): tick → published model latency, the worker's CPU share, its
 * longest event-loop block and the Redis commands per second caused by streaming, at given quote rates.
 *
 * Its own redis-server; the local REST API and stream server over a burst simulated market (20,000
 * contracts per symbol, SPX + NDX, 500 quoted per symbol) in this process; the worker (`chain-worker run
 * --http`, bench/live-child.ts) in a child process, so its CPU and event-loop figures are its own. One REST
 * cycle at start (interval 3600 s), then only the stream. Measured after the first live model and a warm-up:
 * latency = receive of the oldest event in a build → both models SET and announced (the worker's debug
 * log); CPU = the process's (all threads) over wall time; block = the child's own event-loop probe (wall and
 * main-thread CPU between two turns, see probes.ts); Redis commands = INFO over the window.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { startLocalApi } from '../src/provider/local-api/server.js';
import { SimStreamSource } from '../src/provider/local-api/ws-feed.js';
import { startStreamServer } from '../src/provider/local-api/ws-server.js';
import { SimMarket } from '../src/provider/sim/sim-market.js';
import { freePort, RedisServerProcess } from '../tools/redis-servers.js';
import { mainGcReport, worstTurnReport, type MainGc, type ProbeResult, type WorstTurn } from './probes.js';
import { asChainWorker, benchChild } from './launch-line.js';
import { niceSelf } from './nice-self.js';

export interface LiveRun {
  rate: number;
  contracts: number;
  quotes_per_sec_sent: number;
  builds_per_sec: number;
  tick_to_model_ms: { p50: number; p95: number };
  /**
   * What the design allows for the oldest event of a build, from this run's own build times: it waits for
   * the next build to start (one period, or one build when a build takes longer) and then for that build
   * (median live-thread work): max(period, build) + build. The floor's p50 ratio shows what the main thread
   * and Redis add, whatever the machine's load.
   */
  tick_to_model_floor_ms: number;
  tick_to_model_p50_ratio: number;
  /** Worker process CPU (every thread) over wall time, in cores (1 = one core busy). */
  cpu_share: number;
  max_event_loop_block_ms: number;
  /** Most main-thread CPU between two turns of the loop (what the block costs on an idle machine); null off Linux. */
  max_event_loop_block_cpu_ms: number | null;
  /** The longest turn of the loop, split into CPU, run queue and off-CPU time (see probes.ts). */
  worst_turn: WorstTurn | null;
  /** The main isolate's collections during the measured seconds (null if the probe did not answer). */
  main_gc: MainGc | null;
  redis_commands_per_sec: number;
  /** Median work per build in the symbol's live thread, ms. */
  thread_ms: { hydrate: number; models: number; substrates: number };
  measured_seconds: number;
  /**
   * The nice value the benchmark's own threads (the local API and stream server) ran at while the worker
   * was measured, or null when lowering them was refused.
   */
  server_nice: number | null;
}

export interface LiveOptions {
  rate: number;
  seconds: number;
  warmup: number;
  /** Contracts per root on each of the burst expirations (2,000 → 20,000 contracts per symbol). */
  burstContractsPerExpiration?: number;
  /**
   * Nice value for this process's threads while the worker runs (0 = leave them): the local API and the
   * stream server run here and stand in for Massive's machines, as the API process does at `--sim-nice`
   * in the growth scenario. Applied after the worker and its redis-server have started (they keep theirs).
   */
  serverNice?: number;
}

const KEY = 'bench-live-key';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

async function commands(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One rate: a fresh worker, measured for `seconds` after its first live model and `warmup` seconds. */
export async function liveRun(o: LiveOptions): Promise<LiveRun> {
  const redisServer = new RedisServerProcess();
  await redisServer.start();
  const market = new SimMarket({
    seed: 42,
    burst: true,
    burstContractsPerExpiration: o.burstContractsPerExpiration ?? 2000,
  });
  const api = await startLocalApi({ dataset: market, apiKey: KEY });
  const stream = await startStreamServer({
    source: new SimStreamSource(market),
    indices: market.underlyings(),
    apiKey: KEY,
    faults: { ratePerSec: o.rate },
  });
  const httpPort = await freePort();
  const http = `http://127.0.0.1:${httpPort}`;
  // Started as bin/chain-worker is (its interpreter line: the malloc settings and the main isolate's
  // young generation), so its turns are the shipped worker's; 'ipc' gives it the channel fork would.
  const run = asChainWorker(benchChild('live-child'), [`127.0.0.1:${httpPort}`]);
  const child = spawn(run.command, run.args, {
    env: {
      ...process.env,
      MASSIVE_PROVIDER: 'massive',
      MASSIVE_API_KEY: KEY,
      MASSIVE_BASE_URL: api.url,
      MASSIVE_WS_URL: stream.url,
      MARKET_REDIS_URL: redisServer.url,
      MASSIVE_CHAIN_INTERVAL_SEC: '3600',
      MASSIVE_RATE_LIMIT_RPS: '0',
      CHAIN_LIVE_MODEL_HZ: '1',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const niced = o.serverNice ? niceSelf(o.serverNice) : null;
  const latencies: number[] = [];
  const threadMs: { hydrate: number[]; models: number[]; substrates: number[] } = {
    hydrate: [],
    models: [],
    substrates: [],
  };
  let measuring = false;
  let builds = 0;
  let firstLive = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.includes('live models published')) return;
    firstLive = true;
    if (!measuring) return;
    const m = JSON.parse(line) as {
      tickToModelMs?: number | null;
      threadMs?: { hydrate: number; models: number; substrates: number };
    };
    builds++;
    if (typeof m.tickToModelMs === 'number') latencies.push(m.tickToModelMs);
    if (m.threadMs) {
      threadMs.hydrate.push(m.threadMs.hydrate);
      threadMs.models.push(m.threadMs.models);
      threadMs.substrates.push(m.threadMs.substrates);
    }
  });
  const ask = <T>(msg: object, answer: string): Promise<T> =>
    new Promise((res) => {
      const on = (m: { probe?: string; result?: unknown }): void => {
        if (m.probe !== answer) return;
        child.off('message', on);
        res(m.result as T);
      };
      child.on('message', on);
      child.send(msg);
    });
  const redis = new Redis(redisServer.url);
  try {
    const deadline = Date.now() + 180_000;
    while (!firstLive) {
      if (Date.now() > deadline) throw new Error('live bench: no live model within 180 s');
      await sleep(200);
    }
    await sleep(o.warmup * 1000);
    await ask({ probe: 'start' }, 'started');
    const cpu0 = await metric(http, 'chain_worker_process_cpu_seconds_total');
    const cmd0 = await commands(redis);
    const sent0 = stream.stats().quotesSent;
    const t0 = performance.now();
    measuring = true;
    await sleep(o.seconds * 1000);
    measuring = false;
    const wall = (performance.now() - t0) / 1000;
    const probe = await ask<ProbeResult | null>({ probe: 'stop' }, 'result');
    const cpu1 = await metric(http, 'chain_worker_process_cpu_seconds_total');
    const cmd1 = await commands(redis);
    const sent1 = stream.stats().quotesSent;
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    const buildMs = pct(threadMs.hydrate, 0.5) + pct(threadMs.models, 0.5) + pct(threadMs.substrates, 0.5);
    const floorMs = Math.max(1000, buildMs) + buildMs;
    const p50 = pct(latencies, 0.5);
    return {
      rate: o.rate,
      contracts:
        market.chain('I:SPX', market.now())!.results.length +
        market.chain('I:NDX', market.now())!.results.length,
      quotes_per_sec_sent: Math.round((sent1 - sent0) / wall),
      builds_per_sec: Math.round((builds / wall) * 100) / 100,
      tick_to_model_ms: { p50, p95: pct(latencies, 0.95) },
      tick_to_model_floor_ms: Math.round(floorMs),
      tick_to_model_p50_ratio: Math.round((p50 / floorMs) * 100) / 100,
      cpu_share: Math.round(((cpu1 - cpu0) / wall) * 100) / 100,
      max_event_loop_block_ms: probe ? r1(probe.maxBlockMs) : Number.NaN,
      max_event_loop_block_cpu_ms: probe && probe.maxBlockCpuMs !== null ? r1(probe.maxBlockCpuMs) : null,
      worst_turn: worstTurnReport(probe?.worstTurn ?? null),
      main_gc: probe ? mainGcReport(probe.gc) : null,
      redis_commands_per_sec: Math.round((cmd1 - cmd0) / wall),
      thread_ms: {
        hydrate: r1(pct(threadMs.hydrate, 0.5)),
        models: r1(pct(threadMs.models, 0.5)),
        substrates: r1(pct(threadMs.substrates, 0.5)),
      },
      measured_seconds: r1(wall),
      server_nice: niced === null ? 0 : niced.refused === null ? (o.serverNice ?? 0) : null,
    };
  } finally {
    const notRestored = niced?.restore() ?? null;
    if (notRestored)
      process.stderr.write(`bench: live: could not restore this process's priority: ${notRestored}\n`);
    if (child.connected) child.disconnect();
    child.kill('SIGTERM');
    await exited;
    redis.disconnect();
    await stream.close();
    await api.close();
    await redisServer.destroy();
  }
}

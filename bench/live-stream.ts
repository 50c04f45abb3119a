/**
 * @module Streaming benchmark (issue 13), run on its own: `node dist/bench/live-stream.js [--rates
 * 5000,20000] [--seconds 20] [--warmup 8]`.
 *
 * Its own redis-server; the local REST API and stream server over a burst simulated market (~30,000
 * contracts for SPX + NDX) in this process; the worker (`chain-worker run --http`) in a child process, so
 * its CPU and event-loop figures are its own. One REST cycle at start (interval 3600 s), then only the
 * stream: tick-to-published-model latency (receive of the oldest event in a build → both models SET and
 * announced; from the worker's debug log), the worker's CPU share, its longest event-loop block (prom-client's
 * event-loop lag max, reset at the window start), and Redis commands per second (INFO).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { PACKAGE_ROOT } from '../src/lib/repo-paths.js';
import { startLocalApi } from '../src/provider/local-api/server.js';
import { SimStreamSource } from '../src/provider/local-api/ws-feed.js';
import { startStreamServer } from '../src/provider/local-api/ws-server.js';
import { SimMarket } from '../src/provider/sim/sim-market.js';
import { freePort, RedisServerProcess } from '../tools/redis-servers.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const rates = arg('rates', '5000,20000').split(',').map(Number);
const seconds = Number(arg('seconds', '20'));
const warmup = Number(arg('warmup', '8'));
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

async function runRate(rate: number): Promise<Record<string, number>> {
  const redisServer = new RedisServerProcess();
  await redisServer.start();
  const market = new SimMarket({ seed: 42, burst: true, burstContractsPerExpiration: 1000 });
  const api = await startLocalApi({ dataset: market, apiKey: KEY });
  const stream = await startStreamServer({
    source: new SimStreamSource(market),
    indices: market.underlyings(),
    apiKey: KEY,
    faults: { ratePerSec: rate },
  });
  const httpPort = await freePort();
  const http = `http://127.0.0.1:${httpPort}`;
  const child = spawn(
    process.execPath,
    [resolve(PACKAGE_ROOT, 'bin/chain-worker'), 'run', '--http', `127.0.0.1:${httpPort}`],
    {
      env: {
        ...process.env,
        MASSIVE_PROVIDER: 'massive',
        MASSIVE_API_KEY: KEY,
        MASSIVE_BASE_URL: api.url,
        MASSIVE_WS_URL: stream.url,
        MARKET_REDIS_URL: redisServer.url,
        MASSIVE_CHAIN_INTERVAL_SEC: '3600',
        MASSIVE_RATE_LIMIT_RPS: '0',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const latencies: number[] = [];
  let measuring = false;
  let builds = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.includes('live models published')) return;
    const m = JSON.parse(line) as { tickToModelMs?: number | null };
    if (!measuring) return;
    builds++;
    if (typeof m.tickToModelMs === 'number') latencies.push(m.tickToModelMs);
  });
  const redis = new Redis(redisServer.url);
  try {
    await new Promise((r) => setTimeout(r, warmup * 1000));
    await metric(http, 'chain_worker_nodejs_eventloop_lag_max_seconds'); // resets the lag histogram
    const cpu0 = await metric(http, 'chain_worker_process_cpu_seconds_total');
    const cmd0 = await commands(redis);
    const sent0 = stream.stats().quotesSent;
    const t0 = performance.now();
    measuring = true;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = await metric(http, 'chain_worker_process_cpu_seconds_total');
    const lagMax = await metric(http, 'chain_worker_nodejs_eventloop_lag_max_seconds');
    const cmd1 = await commands(redis);
    const sent1 = stream.stats().quotesSent;
    return {
      rate,
      quotes_per_sec_sent: Math.round((sent1 - sent0) / wall),
      contracts:
        market.chain('I:SPX', market.now())!.results.length +
        market.chain('I:NDX', market.now())!.results.length,
      builds_per_sec: Math.round((builds / wall) * 100) / 100,
      tick_to_model_p50_ms: pct(latencies, 0.5),
      tick_to_model_p95_ms: pct(latencies, 0.95),
      worker_cpu_share_pct: Math.round(((cpu1 - cpu0) / wall) * 1000) / 10,
      longest_block_ms: Math.round(lagMax * 1000),
      redis_commands_per_sec: Math.round((cmd1 - cmd0) / wall),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    redis.disconnect();
    await stream.close();
    await api.close();
    await redisServer.destroy();
  }
}

const rows: Record<string, number>[] = [];
for (const rate of rates) rows.push(await runRate(rate));
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
else console.table(rows);

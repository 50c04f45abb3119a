/**
 * @module The live chain's "done when" check: `node dist/tools/live-cadence.js [--seconds 60] [--redis
 * redis://127.0.0.1:6379]`. Runs `chain-worker run` as `npm start` does (the simulated market) under a
 * throw-away key prefix and port, listens to `massive:models` and reads every announced GEX model; prints
 * per symbol how many builds came from the stream and from REST snapshots, the gap between live builds
 * after a 15 s start-up, and how many distinct spots the live builds had between two snapshot models.
 * Deletes its keys at the end.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { PACKAGE_ROOT } from '../src/lib/repo-paths.js';
import { KeySchema } from '../src/redis/keys.js';
import { freePort } from './redis-servers.js';

interface Seen {
  at: number;
  source: string | undefined;
  spot: number | null;
  spotSource: string | undefined;
  streamed: number | undefined;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
  },
});
const seconds = Number(values.seconds);
const redisUrl = values.redis ?? 'redis://127.0.0.1:6379';
const prefix = `live-cadence-${process.pid}:`;
const keys = new KeySchema(prefix);
const port = await freePort();
const child = spawn(
  process.execPath,
  [resolve(PACKAGE_ROOT, 'bin/chain-worker'), 'run', '--http', `127.0.0.1:${port}`],
  {
    env: { ...process.env, CHAIN_KEY_PREFIX: prefix, LOG_LEVEL: 'warn', MARKET_REDIS_URL: redisUrl },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const exited = new Promise((r) => child.once('exit', r));
const sub = new Redis(redisUrl);
const redis = new Redis(redisUrl);
const t0 = Date.now();
const seen = new Map<string, Seen[]>();
await sub.subscribe(keys.modelsChannel);
sub.on('message', (_channel: string, text: string) => {
  const m = JSON.parse(text) as { model: string; symbol: string; key: string };
  if (m.model !== 'gex') return;
  void redis.get(m.key).then((raw) => {
    if (!raw) return;
    const g = JSON.parse(raw) as {
      spot: number | null;
      live?: { source: string; spot_source: string; streamed_contracts: number };
    };
    const list = seen.get(m.symbol) ?? [];
    list.push({
      at: Date.now() - t0,
      source: g.live?.source,
      spot: g.spot,
      spotSource: g.live?.spot_source,
      streamed: g.live?.streamed_contracts,
    });
    seen.set(m.symbol, list);
  });
});
try {
  await new Promise((r) => setTimeout(r, seconds * 1000));
} finally {
  child.kill('SIGTERM');
  await exited;
  sub.disconnect();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
  redis.disconnect();
}
for (const [symbol, list] of seen) {
  const live = list.filter((p) => p.source === 'stream');
  const steady = live.filter((p) => p.at > 15_000);
  const gaps = steady
    .slice(1)
    .map((p, i) => p.at - (steady[i] as Seen).at)
    .sort((a, b) => a - b);
  const segments: Set<number | null>[] = [new Set()];
  for (const p of list) {
    if (p.source === 'snapshot') segments.push(new Set());
    else segments.at(-1)?.add(p.spot);
  }
  const spots = live.map((p) => p.spot ?? Number.NaN);
  console.log(
    JSON.stringify({
      symbol,
      stream_builds: live.length,
      snapshot_builds: list.length - live.length,
      live_builds_per_sec_after_15s: Math.round((steady.length / (seconds - 15)) * 100) / 100,
      gap_ms: { p50: gaps[Math.floor(gaps.length / 2)] ?? null, max: gaps.at(-1) ?? null },
      spot_sources: [...new Set(live.map((p) => p.spotSource))],
      streamed_contracts: [...new Set(live.map((p) => p.streamed))],
      distinct_live_spots_between_snapshots: segments.map((s) => s.size).filter((n) => n > 0),
      live_spot_range: [Math.min(...spots), Math.max(...spots)],
    }),
  );
}

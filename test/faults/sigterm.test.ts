/**
 * Fault: SIGTERM to the real binary (`bin/chain-worker run`, built by `npm test`'s pretest) while a cycle
 * is in flight. Pages take 300 ms (MASSIVE_SIM_LATENCY_MS), and the signal is sent the moment the
 * in-process local API receives a request, so it always lands inside a fetch.
 *
 * Measured bound: exit 0 within SIGTERM_EXIT_BOUND_MS (docs/faults.md records the measured times).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KeySchema } from '../../src/redis/keys.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { ownRedis, sleepMs } from '../support/fault-kit.js';
import { BIN, binaryEnv } from '../support/binary.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
/** The documented bound from SIGTERM to process exit with a cycle in flight. */
export const SIGTERM_EXIT_BOUND_MS = 3_000;

const prefixes: string[] = [];
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});
afterAll(async () => {
  const bus = await openBus(single);
  for (const p of prefixes) await cleanupPrefix(bus, p);
  await bus.close();
});

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return binaryEnv({ MARKET_REDIS_URL: single.url, MASSIVE_PROVIDER: 'sim', LOG_LEVEL: 'info', ...extra });
}

/** Starts `chain-worker run` (the test's child, killed after it): its output so far, and its exit. */
function startRun(env: NodeJS.ProcessEnv): {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
} {
  const proc = spawn(BIN, ['run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; at: number }>((res) =>
    proc.once('exit', (code) => res({ code, at: performance.now() })),
  );
  return { proc, output: () => out, exited };
}

async function apiRequests(url: string): Promise<number> {
  const res = await request(`${url}/__admin/stats`);
  return ((await res.body.json()) as { requests: number }).requests;
}

describe('SIGTERM with a cycle in flight (real binary)', () => {
  it('exits 0 within the bound, heartbeat stopped, leases released, the prior epochs intact, nothing counted failed', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const k = new KeySchema(prefix);
    const { proc, output, exited } = startRun(
      env({ CHAIN_KEY_PREFIX: prefix, MASSIVE_SIM_LATENCY_MS: '300', MASSIVE_CHAIN_INTERVAL_SEC: '1' }),
    );
    const bus = await openBus(single);
    try {
      const apiUrl = await waitUntil(
        () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output())?.[1],
        15_000,
        'the local API url in the log',
      );
      await waitUntil(
        async () => Object.keys(await bus.cmd.hgetall(k.epochActive)).length === 2,
        20_000,
        'two epochs',
      );
      const before = await bus.cmd.hgetall(k.epochActive);
      // Wait for the next request to reach the API: from then on a fetch is in flight for ≥ 300 ms.
      const base = await apiRequests(apiUrl);
      await waitUntil(async () => (await apiRequests(apiUrl)) > base, 10_000, 'a request in flight', 5);
      const t0 = performance.now();
      proc.kill('SIGTERM');
      const { code, at } = await exited;
      const exitMs = at - t0;
      console.info(`SIGTERM mid-cycle → exit ${code} in ${Math.round(exitMs)} ms`);
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(SIGTERM_EXIT_BOUND_MS);
      expect(output()).toMatch(/"msg":"shutting down"/);
      expect(output()).toMatch(/"exitCode":0,"msg":"chain-worker stopped"/);
      const hb = JSON.parse((await bus.cmd.get(k.heartbeat)) as string) as { status: string; reason: string };
      expect(hb.status).toBe('stopped');
      expect(hb.reason).toBe('shutdown');
      expect(await bus.cmd.zcard(k.workers)).toBe(0);
      expect(await bus.cmd.exists(k.workerLease('SPX'), k.workerLease('NDX'))).toBe(0);
      // The abandoned cycle wrote nothing and counted nothing: the epochs it would have refreshed are intact.
      const after = await bus.cmd.hgetall(k.epochActive);
      for (const u of ['SPX', 'NDX']) {
        const id = after[u] as string;
        expect(id).toBe(before[u]);
        const meta = await bus.cmd.hgetall(k.epochMeta(id));
        expect(meta).toMatchObject({ status: 'active', dormant_count: '0' });
        expect(await bus.cmd.exists(k.epochContracts(id))).toBe(1);
      }
      expect(await bus.cmd.hget(k.analytics, 'failed_cycles')).toBeNull();
    } finally {
      await bus.close();
    }
  });
});

describe('SIGTERM while Redis is down (real binary)', () => {
  it('exits 0 within the bound: nothing waits on the Redis that is gone (leases and heartbeat left to expire)', async () => {
    const srv = await ownRedis();
    try {
      const { proc, output, exited } = startRun(
        binaryEnv({
          MARKET_REDIS_URL: srv.url,
          MASSIVE_PROVIDER: 'sim',
          LOG_LEVEL: 'info',
          MASSIVE_CHAIN_INTERVAL_SEC: '1',
        }),
      );
      await waitUntil(
        () => (output().match(/"msg":"cycle done"/g) ?? []).length >= 2,
        20_000,
        'two good cycles',
      );
      await srv.stop();
      // Long enough for the client to be reconnecting with its longest back-off (2 s between attempts).
      await sleepMs(4_000);
      const t0 = performance.now();
      proc.kill('SIGTERM');
      const { code, at } = await exited;
      const exitMs = at - t0;
      console.info(`SIGTERM with Redis down → exit ${code} in ${Math.round(exitMs)} ms`);
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(SIGTERM_EXIT_BOUND_MS);
      expect(output()).toMatch(/"exitCode":0,"msg":"chain-worker stopped"/);
      expect(output()).toMatch(/"msg":"Redis unreachable at shutdown: leases and heartbeat left to expire"/);
    } finally {
      await srv.destroy();
    }
  }, 60_000);
});

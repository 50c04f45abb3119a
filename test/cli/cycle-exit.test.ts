/**
 * Exit code 6 of the binary: `run --once` when a symbol's cycle failed (the API unreachable), and `fetch`
 * of an underlying the API does not know; exit 4 of `fetch` and `record` when the API refuses the key.
 */
import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KeySchema } from '../../src/redis/keys.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix } from '../support/redis.js';

const run = promisify(execFile);
const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
const prefixes: string[] = [];

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return binaryEnv({ MARKET_REDIS_URL: single.url, LOG_LEVEL: 'warn', ...extra });
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

type ExecError = { code: number; stdout: string; stderr: string };

afterAll(async () => {
  const bus = await openBus(single);
  for (const p of prefixes) await cleanupPrefix(bus, p);
  await bus.close();
});

describe('exit code 6 (a failed cycle in run --once, an unknown symbol in fetch)', () => {
  it('run --once against an unreachable API exits 6; failed cycles are counted, nothing is promoted', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const port = await closedPort();
    const err = (await run(BIN, ['run', '--once'], {
      env: env({
        CHAIN_KEY_PREFIX: prefix,
        MASSIVE_PROVIDER: 'massive',
        MASSIVE_API_KEY: 'k-test-unreachable',
        MASSIVE_BASE_URL: `http://127.0.0.1:${port}`,
        MASSIVE_MAX_RETRIES: '0',
        MASSIVE_REQUEST_TIMEOUT_MS: '500',
      }),
      timeout: 30_000,
    }).catch((e: unknown) => e)) as ExecError;
    expect(err.code).toBe(6);
    const bus = await openBus(single);
    const k = new KeySchema(prefix);
    try {
      expect(await bus.cmd.hgetall(k.epochActive)).toEqual({});
      expect(await bus.cmd.hget(k.analytics, 'failed_cycles')).toBe('2');
    } finally {
      await bus.close();
    }
  });

  it('run --once with every cycle ok still exits 0', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const out = await run(BIN, ['run', '--once', '--no-build'], {
      env: env({ CHAIN_KEY_PREFIX: prefix, MASSIVE_CHAIN_SYMBOLS: 'I:SPX' }),
      timeout: 30_000,
    });
    expect(out.stderr).toBe('');
  });

  it('run --once while another worker holds every symbol exits 7 after one lease TTL, having fetched nothing', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const k = new KeySchema(prefix);
    const bus = await openBus(single);
    try {
      // Another live worker holding both leases for longer than this run lasts.
      for (const u of ['SPX', 'NDX']) await bus.cmd.set(k.workerLease(u), 'other-worker|1', 'PX', 120_000);
      await bus.cmd.zadd(k.workers, Date.now() / 1000 + 120, 'other-worker');
      const t0 = Date.now();
      const err = (await run(BIN, ['run', '--once', '--no-build'], {
        env: env({ CHAIN_KEY_PREFIX: prefix, CHAIN_LEASE_TTL_SEC: '2' }),
        timeout: 30_000,
      }).catch((e: unknown) => e)) as ExecError & { killed?: boolean };
      const ms = Date.now() - t0;
      // Was: it never exited (killed at the 30 s limit) while the other worker held the leases.
      expect(err.killed ?? false).toBe(false);
      expect(err.code).toBe(7);
      expect(ms).toBeGreaterThanOrEqual(2_000);
      expect(ms).toBeLessThan(15_000);
      expect(err.stderr + err.stdout).toContain(
        'run --once: no symbol lease could be taken within CHAIN_LEASE_TTL_SEC (2 s): another worker holds every symbol; nothing fetched',
      );
      // Nothing fetched or promoted; the other worker's leases are untouched.
      expect(await bus.cmd.hgetall(k.epochActive)).toEqual({});
      expect(await bus.cmd.get(k.workerLease('SPX'))).toBe('other-worker|1');
      expect(await bus.cmd.get(k.workerLease('NDX'))).toBe('other-worker|1');
    } finally {
      await bus.close();
    }
  });

  it('fetch and record with a key the API refuses (401) exit 4, as run does', async () => {
    // An API that refuses every key, as the real one does an unknown key.
    const api = createHttpServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"status":"ERROR","request_id":"r1","error":"Unknown API Key"}');
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const { port } = api.address() as { port: number };
    const refused = {
      MASSIVE_PROVIDER: 'massive',
      MASSIVE_API_KEY: 'k-refused-123456',
      MASSIVE_BASE_URL: `http://127.0.0.1:${port}`,
      MASSIVE_MAX_RETRIES: '0',
      MASSIVE_STREAM: 'off',
    };
    try {
      for (const args of [
        ['fetch', '--symbol', 'I:SPX'],
        ['record', '--out', '/tmp/chain-worker-refused.rec'],
      ]) {
        const err = (await run(BIN, args, { env: env(refused), timeout: 30_000 }).catch(
          (e: unknown) => e,
        )) as ExecError;
        // Was: exit 1 (an unexpected error) for the same refusal run reports as 4.
        expect(err.code).toBe(4);
        expect(err.stderr).toBe(
          'chain-worker: Massive API authentication failed (HTTP 401, request r1): Unknown API Key\n',
        );
        expect(err.stderr).not.toContain('k-refused-123456');
      }
    } finally {
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});

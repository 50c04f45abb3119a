/**
 * `chain-worker doctor` as an operator runs it: against the local Redis and the in-process local API
 * (everything ok, exit 0), against a throw-away redis-server with maxmemory + allkeys-lru (memory warns),
 * and against an API that answers 403 (fail, exit 1, said plainly).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/checks.js';
import { RedisServerProcess } from '../../tools/redis-servers.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { redisTargets } from '../support/redis.js';

const run = promisify(execFile);
const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

interface Report {
  ok: boolean;
  checks: Check[];
  config: Record<string, unknown>;
}

async function doctor(
  env: Record<string, string>,
  args = ['--json'],
): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(BIN, ['doctor', ...args], { env: binaryEnv(env), timeout: 30_000 });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

function check(r: Report, section: RegExp, name: string): Check {
  const c = r.checks.find((x) => section.test(x.section) && x.name === name);
  if (!c) throw new Error(`no ${String(section)} ${name}`);
  return c;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const f of cleanups) await f();
});

describe('chain-worker doctor', () => {
  it('local Redis and the local API: every check passes, exit 0', async () => {
    const { code, out } = await doctor({ MARKET_REDIS_URL: single.url, MASSIVE_PROVIDER: 'sim' });
    const r = JSON.parse(out) as Report;
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    expect(r.ok).toBe(true);
    expect(check(r, /^redis \(market bus\)$/, 'reachable').status).toBe('ok');
    expect(check(r, /^redis \(market bus\)$/, 'version').detail).toMatch(/^Redis \d+\.\d+/);
    expect(check(r, /^redis \(market bus\)$/, 'latency').detail).toMatch(/^PING \d+\.\d\d ms$/);
    const snap = check(r, /^massive/, 'options chain snapshot');
    expect(snap.status).toBe('ok');
    expect(snap.detail).toMatch(/\/v3\/snapshot\/options\/I:SPX\?limit=1: 200, 1 result/);
    // The local API sends a Date header (node:http does), so the clock is compared, not skipped.
    expect(check(r, /^massive/, 'clock').detail).toBe('within 1 s of the API');
    const exp = check(r, /^market$/, 'next expirations');
    expect(exp.detail).toMatch(/^I:SPX: \d{4}-\d\d-\d\d(, \d{4}-\d\d-\d\d){4}$/);
    expect(check(r, /^market$/, 'new york session').detail).toMatch(/^\d{4}-\d\d-\d\d: /);
    expect(check(r, /^config$/, 'main thread policy')).toMatchObject({
      status: 'ok',
      detail: 'normal (CHAIN_MAIN_THREAD_SCHED=other)',
    });
    expect(r.config.MARKET_REDIS_URL).toBe(single.url.replace(/(\/\/[^:/@,]*:)[^@/,]*@/g, '$1***@'));
  });

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    'CHAIN_MAIN_THREAD_SCHED=fifo as root: tried on the doctor itself, ok',
    async () => {
      const { code, out } = await doctor({
        MARKET_REDIS_URL: single.url,
        MASSIVE_PROVIDER: 'sim',
        CHAIN_MAIN_THREAD_SCHED: 'fifo',
      });
      const r = JSON.parse(out) as Report;
      expect(code).toBe(0);
      expect(check(r, /^config$/, 'main thread policy')).toMatchObject({
        status: 'ok',
        detail: "SCHED_FIFO 1: set on this process's main thread",
      });
    },
  );

  it('an unreadable REDIS_TLS_CA_FILE is a bad setting: exit 2, one line naming it, as run says', async () => {
    // Was: exit 1 with Node's "ENOENT: no such file or directory, open '/nonexistent/ca.pem'" (no setting named).
    const err = (await run(BIN, ['doctor', '--json'], {
      env: binaryEnv({
        MARKET_REDIS_URL: single.url,
        MASSIVE_PROVIDER: 'sim',
        REDIS_TLS_CA_FILE: '/nonexistent/ca.pem',
      }),
      timeout: 30_000,
    }).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stdout).toBe('');
    expect(err.stderr).toBe(
      "chain-worker: Invalid configuration: REDIS_TLS_CA_FILE: expected a readable PEM file (got /nonexistent/ca.pem: ENOENT: no such file or directory, open '/nonexistent/ca.pem')\n",
    );
  });

  it('a Redis with maxmemory and allkeys-lru warns about evicting epoch keys (exit 0: a warning)', async () => {
    const srv = new RedisServerProcess({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    cleanups.push(() => srv.destroy());
    await srv.start();
    const { code, out } = await doctor({ MARKET_REDIS_URL: srv.url, MASSIVE_PROVIDER: 'sim' });
    const r = JSON.parse(out) as Report;
    const mem = check(r, /^redis \(market bus\)$/, 'memory');
    expect(mem.status).toBe('warn');
    expect(mem.detail).toMatch(/^maxmemory 64 MB, policy allkeys-lru$/);
    expect(mem.advice).toMatch(/evict epoch keys/);
    expect(check(r, /^redis \(market bus\)$/, 'persistence').detail).toBe('RDB off, AOF off');
    expect(code).toBe(0);
  });

  it('an API answering 403: fail, plainly, exit 1; the key is not printed', async () => {
    const key = 'mk_doctor_test_key_0123456789';
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"status":"NOT_AUTHORIZED","message":"You are not entitled to this data."}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const env = {
      MARKET_REDIS_URL: single.url,
      MASSIVE_PROVIDER: 'massive',
      MASSIVE_API_KEY: key,
      MASSIVE_BASE_URL: `http://127.0.0.1:${port}`,
    };
    const json = await doctor(env);
    expect(json.code).toBe(1);
    const r = JSON.parse(json.out) as Report;
    expect(r.ok).toBe(false);
    const snap = check(r, /^massive$/, 'options chain snapshot');
    expect(snap.status).toBe('fail');
    expect(snap.detail).toMatch(/403 Forbidden$/);
    expect(snap.advice).toMatch(/plan is not entitled to the options chain snapshot/);
    expect(seen[0]).toBe(`Bearer ${key}`);
    expect(r.config.MASSIVE_API_KEY).toBe('[set]');
    const text = await doctor(env, []);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(
      /FAIL {2}options chain snapshot +GET http:\/\/127\.0\.0\.1:\d+\/v3\/snapshot\/options\/I:SPX\?limit=1: 403 Forbidden/,
    );
    expect(text.out).toMatch(/\d+ ok, \d+ warnings, [1-9]\d* failed/);
    expect(json.out + text.out).not.toContain(key);
  });
});

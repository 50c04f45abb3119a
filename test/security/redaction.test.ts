/**
 * The Massive API key never leaves the process: not in any log line (trace level, failures included: 429s,
 * 5xx, truncated and malformed pages, a 401 and the recovery after it), not in any Redis value or key name
 * under the test prefix (every type read: string, hash, list, set, zset), not in errors or the heartbeat;
 * and the real binary (sim provider, whose local API demands the key) prints it nowhere either.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { KeySchema } from '../../src/redis/keys.js';
import { captureLogger, dumpPrefix } from '../support/fault-kit.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { BIN, binaryEnv } from '../support/binary.js';

const run = promisify(execFile);
const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
const KEY = `mk_live_${randomBytes(16).toString('hex')}`;

/** Fails naming the first key whose name or value holds the API key; returns how many keys were read, by type. */
async function expectKeyAbsentFromRedis(
  h: Pick<Harness, 'bus'>,
  prefix: string,
): Promise<Map<string, string>> {
  const dump = await dumpPrefix(h.bus, prefix);
  const leaks = [...dump].filter(([k, v]) => k.includes(KEY) || v.includes(KEY)).map(([k]) => k);
  expect(leaks).toEqual([]);
  return dump;
}

describe('API key redaction (in process)', () => {
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown();
    worker = undefined;
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  it('through successes, 429s, 5xx, bad pages, a 401 and the recovery: absent from every log line and Redis value', async () => {
    const log = captureLogger({ level: 'trace', secrets: [KEY] });
    h = await startHarness(single, {
      apiKey: KEY,
      logger: log.logger,
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2', MASSIVE_MAX_RETRIES: '6', CHAIN_HEARTBEAT_SEC: '0.2' },
    });
    const hh = h;
    builder = new ModelBuilder({ ...hh, owner: 'b-redact' });
    const b = builder;
    expect(await runCycle(hh.deps, 'I:SPX', '')).toMatchObject({ ok: true });

    // Failures the client retries: each is logged at debug with its error.
    hh.api.setFaults({ queue: ['429', '429', '500', '503', 'truncated', 'malformed'], retryAfterSec: 0 });
    const retried = await runCycle(hh.deps, 'I:SPX', '');
    expect(retried.ok).toBe(true);
    expect(log.text()).toMatch(/massive: retrying/);

    // A 401 mid-run: controlled shutdown (error log with the vendor message, faulty heartbeat).
    const deps = { ...hh.deps, systemBus: hh.bus, onDirty: async () => void (await b.drain()) };
    worker = new ChainWorker(deps, { id: 'w-redact-1' });
    const first = worker.run();
    await waitUntil(
      async () => Number(await hh.bus.cmd.hget(hh.keys.analytics, 'snapshots')) >= 4,
      10_000,
      'cycles',
    );
    hh.api.setFaults({ unauthorized: true });
    expect(await first).toBe(EXIT.auth);
    const failed = [...worker.lastResults.values()].find((r) => !r.ok);
    expect(failed?.error?.message).toMatch(/HTTP 401/);
    expect(failed?.error?.message).not.toContain(KEY);
    expect(log.text()).toMatch(/"msg":"controlled shutdown"/);

    // Recovery: a new worker with the key accepted again.
    hh.api.resetFaults();
    worker = new ChainWorker(deps, { id: 'w-redact-2' });
    const second = worker.run();
    const before = Number(await hh.bus.cmd.hget(hh.keys.analytics, 'snapshots'));
    await waitUntil(
      async () => Number(await hh.bus.cmd.hget(hh.keys.analytics, 'snapshots')) >= before + 4,
      10_000,
      'recovery',
    );
    worker.stop();
    expect(await second).toBe(EXIT.ok);
    worker = undefined;

    // Logs: the key is absent, and nothing even tried to log it (the scrubber and redact paths would leave a mark).
    const text = log.text();
    expect(text.length).toBeGreaterThan(3_000);
    expect(text).toMatch(/"level":20,/); // debug lines were written (the code has no trace-level lines)
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('[redacted]');
    expect(text).not.toContain(KEY.slice(8)); // not even the random part alone

    // Redis: every key under the prefix, every type.
    const dump = await expectKeyAbsentFromRedis(hh, hh.prefix);
    const types = new Set<string>();
    for (const k of dump.keys()) types.add(await hh.bus.cmd.type(k));
    expect([...types].sort()).toEqual(['hash', 'list', 'set', 'stream', 'string', 'zset']);
    expect(dump.size).toBeGreaterThan(1_000);
    expect(dump.get(hh.keys.heartbeat)).toMatch(/"status":"stopped"/);
    // The key was really required: a request without it is refused.
    const res = await request(`${hh.api.url}/v3/snapshot/options/I:SPX?limit=1`);
    expect(res.statusCode).toBe(401);
    await res.body.dump();
    // A vendor next_url that carries the key as a query parameter loses it before the request is made.
    expect(
      hh.http.resolvePath(`https://api.massive.com/v3/snapshot/options/I:SPX?cursor=abc&apiKey=${KEY}`),
    ).not.toContain(KEY);
  });
});

describe('API key redaction (real binary, trace level)', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    const bus = await openBus(single);
    for (const p of prefixes) await cleanupPrefix(bus, p);
    await bus.close();
  });

  function env(extra: Record<string, string>): NodeJS.ProcessEnv {
    return binaryEnv({
      MARKET_REDIS_URL: single.url,
      MASSIVE_PROVIDER: 'sim',
      MASSIVE_API_KEY: KEY,
      LOG_LEVEL: 'trace',
      ...extra,
    });
  }

  it('run with injected 429s, 5xx, bad pages and a final 401 (exit 4): stdout, stderr and Redis hold no key', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const proc = spawn(BIN, ['run'], {
      env: env({
        CHAIN_KEY_PREFIX: prefix,
        MASSIVE_CHAIN_INTERVAL_SEC: '0.2',
        MASSIVE_CHAIN_SYMBOLS: 'I:SPX',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const bus = await openBus(single);
    const k = new KeySchema(prefix);
    try {
      const apiUrl = await waitUntil(
        () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1],
        15_000,
        'local API url',
      );
      const admin = async (body: object): Promise<void> => {
        const res = await request(`${apiUrl}/__admin/faults`, {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.statusCode).toBe(200);
        await res.body.dump();
      };
      await waitUntil(
        async () => Number(await bus.cmd.hget(k.analytics, 'snapshots')) >= 1,
        15_000,
        'a cycle',
      );
      await admin({ queue: ['429', '500', '503', 'truncated', 'malformed'], retryAfterSec: 0 });
      await waitUntil(
        async () => Number(await bus.cmd.hget(k.analytics, 'retries')) >= 5,
        15_000,
        'retried cycles',
      );
      await admin({ unauthorized: true });
      expect(await exited).toBe(EXIT.auth);
      expect(out).toMatch(/"level":20,/);
      expect(out).toMatch(/massive: retrying/);
      expect(out).toMatch(/authentication failed/);
      expect(out).not.toContain(KEY);
      expect(out).not.toContain('[redacted]');
      const dump = await expectKeyAbsentFromRedis({ bus }, prefix);
      expect(dump.size).toBeGreaterThan(100);
      expect(JSON.parse(dump.get(k.heartbeat) as string)).toMatchObject({ status: 'faulty' });
    } finally {
      proc.kill('SIGKILL');
      await bus.close();
    }
  });

  it('config output, and the key pasted into another setting, never print it', async () => {
    const { stdout } = await run(BIN, ['config'], { env: env({}) });
    expect(JSON.parse(stdout)).toMatchObject({ MASSIVE_API_KEY: '[set]' });
    expect(stdout).not.toContain(KEY);
    const err = (await run(BIN, ['run', '--once'], { env: env({ MASSIVE_CHAIN_INTERVAL_SEC: KEY }) }).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stdout: string;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/MASSIVE_CHAIN_INTERVAL_SEC/);
    expect(`${err.stdout}${err.stderr}`).not.toContain(KEY);
  });
});

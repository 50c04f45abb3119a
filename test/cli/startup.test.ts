/**
 * Start-up failures of the real binary (issue 10, defects 3 and 5): each exits by itself, promptly, with
 * the documented code and one line on stderr naming the cause; nothing opened before the failure keeps
 * the process alive.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openBus, redisTargets } from '../support/redis.js';
import { ownRedis, targetOf } from '../support/fault-kit.js';
import { EXIT } from '../../src/chain-worker/worker.js';
import { BIN, binaryEnv } from '../support/binary.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the binary to its end (killed after `limitMs`: a hang shows as code null). */
function runBinary(args: string[], env: Record<string, string>, limitMs = 20_000): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: binaryEnv(env), timeout: limitMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - t0 });
      },
    );
  });
}

/** stderr is exactly one line starting with `chain-worker: `, and no stack trace. */
function expectOneLine(stderr: string, re: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^chain-worker: /);
  expect(lines[0]).toMatch(re);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('chain-worker config (defect 5)', () => {
  it.each([
    [['config'], { MASSIVE_CHAIN_INTERVAL_SEC: 'abc' }, /MASSIVE_CHAIN_INTERVAL_SEC/],
    [['config'], { MASSIVE_RATE_LIMIT_RPS: '0x10' }, /MASSIVE_RATE_LIMIT_RPS/],
    [['config'], { MARKET_REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /MARKET_REDIS_URL/],
    [['--config', '/nonexistent/chain-worker.json', 'config'], {}, /--config.*nonexistent/],
    [['config'], { CHAIN_WORKER_CONFIG: '/nonexistent/c.json' }, /CHAIN_WORKER_CONFIG.*nonexistent/],
  ])('%j with %j: exit 2, one line naming it', async (args, env, re) => {
    const r = await runBinary(args, env);
    expect(r.code).toBe(EXIT.config);
    expectOneLine(r.stderr, re);
    expect(r.stdout).toBe('');
  });

  it('a good configuration still prints it (exit 0)', async () => {
    const r = await runBinary(['config'], { MASSIVE_RATE_LIMIT_RPS: ' ' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ MASSIVE_RATE_LIMIT_RPS: 100 });
  });
});

describe('record --stream-seconds: plain decimal seconds', () => {
  it.each(['0x10', '1e2', '', ' '])('%j: exit 2 naming the flag, nothing recorded', async (v) => {
    // Was: read by Number() as 16 s, 100 s, 0 and 0: the snapshots fetched and a recording written.
    const out = `/tmp/chain-worker-ops-${process.pid}-${v.trim() || 'blank'}.rec`;
    const r = await runBinary(['record', '--out', out, '--stream-seconds', v], {
      MARKET_REDIS_URL: single.url,
      MASSIVE_PROVIDER: 'sim',
    });
    expect(r.code).toBe(EXIT.config);
    expectOneLine(
      r.stderr,
      /^chain-worker: Invalid configuration: --stream-seconds: expected seconds from 0 to 3600, plain decimal digits/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('whole-number flags: plain decimal digits, in range', () => {
  it.each([
    [
      ['sim-server', '--port', '70000'],
      /option '--port <n>' argument '70000' is invalid\. expected a whole number from 0 to 65535/,
    ],
    [
      ['sim-server', '--port', ''],
      /option '--port <n>' argument '' is invalid\. expected a whole number from 0 to 65535/,
    ],
    [['sim-server', '--port', '0x1f90'], /option '--port <n>' argument '0x1f90' is invalid/],
    [
      ['sim-server', '--seed', '1e3'],
      /option '--seed <n>' argument '1e3' is invalid\. expected a whole number, plain decimal digits/,
    ],
    [
      ['history', '--symbol', 'SPX', '--step', '0x10'],
      /option '--step <seconds>' argument '0x10' is invalid/,
    ],
    [['history', '--symbol', 'SPX', '--step', ' '], /option '--step <seconds>' argument ' ' is invalid/],
  ])('%j: exit 2 at once, one line naming the flag', async (args, re) => {
    // Was: 70000 reached listen() (exit 1, "options.port should be >= 0 and < 65536", no flag named); '' and
    // 0x1f90 were read by Number() as ports 0 and 8080 (the server started and listened); 1e3 as seed 1000;
    // --step 0x10 as 16 s and ' ' as 0. Then exit 1, commander's code for every usage error.
    const r = await runBinary(args, { MARKET_REDIS_URL: single.url }, 10_000);
    expect(r.code).toBe(EXIT.config);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
    expect(r.stdout).toBe('');
  });
});

describe("commander's usage errors: exit 2, as every bad flag", () => {
  it.each([
    [['run', '--bogus'], /^chain-worker: unknown option '--bogus'$/],
    [['--bogus'], /^chain-worker: unknown option '--bogus'$/],
    [['events', '--since'], /^chain-worker: option '--since <id>' argument missing$/],
    [['fetch'], /^chain-worker: required option '--symbol <symbol>' not specified$/],
    [['frobnicate'], /^chain-worker: unknown command 'frobnicate'$/],
    [
      ['run', '--once', 'extra'],
      /^chain-worker: too many arguments for 'run'\. Expected 0 arguments but got 1\.$/,
    ],
  ])('%j: exit 2, one line, nothing run', async (args, re) => {
    // Was: exit 1, the code of an unexpected error, where README's exit codes give 2 to a bad configuration.
    const r = await runBinary(args, { MARKET_REDIS_URL: single.url }, 10_000);
    expect(r.code).toBe(EXIT.config);
    expectOneLine(r.stderr, re);
    expect(r.stdout).toBe('');
  });

  it('--help still exits 0 with the usage on stdout', async () => {
    for (const args of [['--help'], ['run', '--help']]) {
      const r = await runBinary(args, {}, 10_000);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: chain-worker /);
      expect(r.stderr).toBe('');
    }
  });
});

/** A free loopback port (listened on, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('start-up failures of run and serve (defect 3)', () => {
  const redis = { MARKET_REDIS_URL: single.url, LOG_LEVEL: 'warn', MASSIVE_CHAIN_SYMBOLS: 'I:SPX' };
  let holder: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (holder) await new Promise((r) => holder?.close(r));
    holder = undefined;
  });

  /** A TCP server on a free port: `hold` accepts and never answers; otherwise it just occupies the port. */
  async function occupy(): Promise<number> {
    holder = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => holder?.listen(0, '127.0.0.1', r));
    return (holder.address() as AddressInfo).port;
  }

  it.each([['run'], ['serve']])(
    '%s --http on a port in use: exit 2 naming --http and the address',
    async (cmd) => {
      const port = await occupy();
      const r = await runBinary([cmd, '--http', `127.0.0.1:${port}`], redis);
      expect(r.code).toBe(EXIT.config);
      expectOneLine(r.stderr, new RegExp(`--http.*127\\.0\\.0\\.1:${port}: EADDRINUSE`));
      expect(r.ms).toBeLessThan(15_000);
    },
  );

  it.each([
    ['run', 'abc'],
    ['run', '127.0.0.1:70000'],
    ['serve', 'host name:80'],
    ['serve', ':8080'],
  ])('%s --http %j: exit 2 naming --http', async (cmd, value) => {
    // The flag is checked before anything is opened: the Redis it is given (a listener that counts
    // connections and never answers) is never connected to. (A bound on the time taken, 5 s, failed once
    // under the whole suite's load on two cores: 9.9 s for a start-up that takes 0.6 s alone.)
    let connections = 0;
    const redisStandIn = createServer((s) => {
      connections++;
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => redisStandIn.listen(0, '127.0.0.1', r));
    const port = (redisStandIn.address() as AddressInfo).port;
    try {
      const r = await runBinary([cmd, '--http', value], {
        ...redis,
        MARKET_REDIS_URL: `redis://127.0.0.1:${port}`,
      });
      expect(r.code).toBe(EXIT.config);
      expectOneLine(r.stderr, /Invalid configuration: --http: expected HOST:PORT/);
      expect(connections).toBe(0);
    } finally {
      await new Promise((r) => redisStandIn.close(r));
    }
  });

  it('run --http on a non-loopback address without a token: exit 2 naming CHAIN_WORKER_HTTP_TOKEN', async () => {
    const r = await runBinary(['run', '--http', '0.0.0.0:0'], {
      ...redis,
      MARKET_REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(r.code).toBe(EXIT.config);
    expectOneLine(
      r.stderr,
      /CHAIN_WORKER_HTTP_TOKEN: required when --http binds beyond loopback.*CHAIN_HTTP_ALLOW_NO_TOKEN/,
    );
  });

  it('a missing or invalid replay file: exit 2 naming MASSIVE_REPLAY_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-startup-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"recorded_at": 5');
    for (const file of [join(dir, 'missing.json'), bad]) {
      const r = await runBinary(['run', '--once'], {
        ...redis,
        MASSIVE_PROVIDER: 'replay',
        MASSIVE_REPLAY_FILE: file,
      });
      expect(r.code).toBe(EXIT.config);
      expectOneLine(r.stderr, /Invalid configuration: MASSIVE_REPLAY_FILE: expected a readable recording/);
      expect(r.stderr).toContain(file);
      expect(r.ms).toBeLessThan(15_000);
    }
  });

  it.each([['run'], ['serve']])(
    '%s with nothing listening on the Redis port: exit 5 within the connect timeout, URL named without password',
    async (cmd) => {
      const port = await freePort();
      const r = await runBinary([cmd, ...(cmd === 'serve' ? ['--http', '127.0.0.1:0'] : [])], {
        ...redis,
        MARKET_REDIS_URL: `redis://:hunter2secret@127.0.0.1:${port}/0`,
        REDIS_CONNECT_TIMEOUT_MS: '1500',
      });
      expect(r.code).toBe(EXIT.redisUnavailable);
      expectOneLine(
        r.stderr,
        new RegExp(
          `Redis unreachable at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 \\(MARKET_REDIS_URL\\) after 1500 ms: .*ECONNREFUSED`,
        ),
      );
      expect(`${r.stdout}${r.stderr}`).not.toContain('hunter2secret');
      expect(r.ms).toBeGreaterThanOrEqual(1_400);
      // Well under the harness's 20 s: the message above is the connect timeout's; a start-up alone took
      // 9.9 s once under the whole suite's load on two cores.
      expect(r.ms).toBeLessThan(15_000);
    },
  );

  it.each([['run'], ['serve']])(
    '%s against a server that accepts and never answers: exit 5 within the connect timeout',
    async (cmd) => {
      const port = await occupy();
      const r = await runBinary([cmd, ...(cmd === 'serve' ? ['--http', '127.0.0.1:0'] : [])], {
        ...redis,
        MARKET_REDIS_URL: `redis://127.0.0.1:${port}`,
        REDIS_CONNECT_TIMEOUT_MS: '1500',
      });
      expect(r.code).toBe(EXIT.redisUnavailable);
      expectOneLine(
        r.stderr,
        new RegExp(
          `Redis unreachable at redis://127\\.0\\.0\\.1:${port} \\(MARKET_REDIS_URL\\) after 1500 ms`,
        ),
      );
      expect(r.ms).toBeLessThan(15_000);
      expect(sockets.size).toBeGreaterThanOrEqual(1);
    },
  );
});

describe('start-up failures of build', () => {
  it('build whose Redis user may not subscribe: exit 1 naming the refusal, nothing left open', async () => {
    // A user with every command but no channel: the builder's SUBSCRIBE to the dirty nudge is refused
    // after the buses (and the subscriber's connection) are open. Was: the line printed, then a hang.
    const srv = await ownRedis();
    const admin = await openBus(targetOf(srv));
    try {
      await admin.conn.call('ACL', 'SETUSER', 'nochan', 'on', '>pw', '~*', '+@all', 'resetchannels');
      const r = await runBinary(
        ['build'],
        {
          MARKET_REDIS_URL: `redis://nochan:pw@127.0.0.1:${srv.port}`,
          LOG_LEVEL: 'warn',
          MASSIVE_CHAIN_SYMBOLS: 'I:SPX',
        },
        15_000,
      );
      expect(r.code).toBe(EXIT.internal);
      expectOneLine(r.stderr, /NOPERM .*channels/);
      expect(r.ms).toBeLessThan(10_000);
      // Every connection the binary opened is gone: only this test's own remain.
      const clients = String(await admin.conn.call('CLIENT', 'LIST'));
      expect(clients).not.toMatch(/user=nochan/);
    } finally {
      await admin.close();
      await srv.destroy();
    }
  });
});

/**
 * Redis with a password and Redis over TLS (a throw-away CA and server certificate made with openssl): a
 * full cycle for SPX and NDX plus a model build on each, through both the ioredis client and the raw
 * bulk-write connection (src/redis/raw-pipeline.ts). Wrong or missing credentials fail without echoing
 * the password; a client without the CA is refused (certificates are verified); the real binary
 * connects with `rediss://` and REDIS_TLS_CA_FILE.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { redactUrl } from '../../src/config/load.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { RedisBus } from '../../src/redis/bus.js';
import { KeySchema } from '../../src/redis/keys.js';
import { RawPipeline } from '../../src/redis/raw-pipeline.js';
import { parseRedisUrl } from '../../src/redis/redis-url.js';
import { snapshotKeyOf } from '../../src/wiring/snapshot-writes.js';
import { parseOptionTicker } from '../../src/provider/massive/ticker.js';
import { freePort, type RedisServerProcess } from '../../tools/redis-servers.js';
import { captureLogger, ownRedis, startStack, targetOf } from '../support/fault-kit.js';
import { cleanupPrefix, testPrefix, TestBus } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { readIndex } from '../support/contract-index.js';

const run = promisify(execFile);

/** SPX and NDX cycles, a model build, and every key the cycle and the builder should have written. */
async function fullCycleAndModels(h: Harness): Promise<void> {
  const results = [await runCycle(h.deps, 'I:SPX', ''), await runCycle(h.deps, 'I:NDX', '')];
  const builder = new ModelBuilder({ ...h, owner: 'b-sec' });
  try {
    const outcomes = await builder.drain();
    expect(outcomes.map((o) => o.status)).toEqual(['built', 'built']);
  } finally {
    await builder.stop();
  }
  for (const res of results) {
    expect(res).toMatchObject({ ok: true, promoted: true });
    const u = res.underlying;
    const id = res.epochId as string;
    expect(await h.bus.cmd.hget(h.keys.epochActive, u)).toBe(id);
    // Written by the raw bulk connection: the index, every substrate and every raw snapshot key.
    const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(id));
    expect(ids.length).toBe(res.contracts);
    expect(res.contracts).toBeGreaterThan(500);
    const subs = await h.bus.getMany(ids.map((c) => h.keys.epochContract(id, c)));
    expect(subs.filter((s) => s === null)).toHaveLength(0);
    // The substrate spells the type out; the raw key keeps the ticker's letter: read the identity from the id.
    const parts = subs.map((s) => {
      const p = parseOptionTicker((JSON.parse(s as string) as { id: string }).id);
      if (p === null) throw new Error('unreadable substrate id');
      return p;
    });
    const raw = await h.bus.getMany(parts.map((p) => snapshotKeyOf(h.keys, u, p)));
    expect(raw.filter((r) => r === null)).toHaveLength(0);
    expect(await h.bus.cmd.ttl(h.keys.epochContract(id, ids[0] as string))).toBeGreaterThan(0);
    // Written by ioredis: meta, analytics, latest, and the builder's models.
    expect(await h.bus.cmd.hget(h.keys.epochMeta(id), 'contract_count')).toBe(String(res.contracts));
    for (const model of ['gex', 'heatmap'] as const) {
      const m = JSON.parse((await h.bus.cmd.get(h.keys.model(model, u))) as string) as {
        epoch_id: string;
        contract_count: number;
      };
      expect(m).toMatchObject({ epoch_id: id, contract_count: res.contracts });
    }
    expect(await h.bus.cmd.sismember(h.keys.epochClean, id)).toBe(1);
  }
  expect(await h.bus.cmd.hget(h.keys.analytics, 'snapshots')).toBe('2');
}

describe('Redis with a password', () => {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  let srv: RedisServerProcess;
  let h: Harness | undefined;
  beforeAll(async () => {
    srv = await ownRedis({ password });
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await srv.destroy();
  });

  it('a full cycle and the model builder work over an authenticated client and bulk connection', async () => {
    expect(srv.url).toContain(password);
    h = await startHarness(targetOf(srv));
    await fullCycleAndModels(h);
    // Both kinds of connection were authenticated ones (requirepass refuses everything else).
    const clients = (await h.bus.conn.call('CLIENT', 'LIST')) as string;
    expect(
      clients.split('\n').filter((l) => l.includes('name=chain-worker-test')).length,
    ).toBeGreaterThanOrEqual(1);
    expect(clients.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
  });

  it('no or a wrong password: refused, and no error or log line echoes the password', async () => {
    const url = `redis://127.0.0.1:${srv.port}`;
    const wrong = `redis://:${password}-x@127.0.0.1:${srv.port}`;
    // Bulk connection without a password: every write answered NOAUTH.
    const anon = new RawPipeline(parseRedisUrl(url));
    const outcome = await anon.run([['SET', 'cw-sec-probe', 'v']]);
    expect([...outcome.errors.values()][0]).toMatch(/^NOAUTH/);
    anon.close();
    // Bulk connection with a wrong password: the handshake fails, without the password in the message.
    const bad = new RawPipeline(parseRedisUrl(wrong));
    const err = (await bad.run([['SET', 'cw-sec-probe', 'v']]).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/handshake failed: WRONGPASS/);
    expect(err.message).not.toContain(password);
    bad.close();
    // A worker stack on the wrong password: the cycle fails, nothing leaks into its error or the logs.
    const log = captureLogger({ level: 'trace' });
    const bus = new RedisBus({ url: wrong, maxRetriesPerRequest: 0 });
    const e2 = (await bus.ready(1_000).catch((e: unknown) => e)) as Error;
    expect(e2).toBeInstanceOf(Error);
    expect(`${e2.message} ${String(e2.stack)}`).not.toContain(password);
    await bus.close();
    const hh = await startStack({ url: srv.url, logger: log.logger });
    // The cycle's ioredis client is fine; its bulk writes go through a connection with the wrong password.
    const wrongBus = new RedisBus({ url: wrong, maxRetriesPerRequest: 0 });
    try {
      hh.bus.writeBulk = wrongBus.writeBulk.bind(wrongBus);
      hh.bus.writeEncoded = wrongBus.writeEncoded.bind(wrongBus);
      const res = await runCycle(hh.deps, 'I:SPX', '');
      expect(res.ok).toBe(false);
      expect(res.error?.message).toMatch(/WRONGPASS/);
      expect(res.error?.message).not.toContain(password);
      expect(log.text()).toMatch(/WRONGPASS/);
      expect(log.text()).not.toContain(password);
    } finally {
      await wrongBus.close();
      await hh.close();
    }
    expect(redactUrl(srv.url)).not.toContain(password);
    expect(
      await run(BIN, ['config'], { env: { ...process.env, MARKET_REDIS_URL: srv.url } }).then(
        (r) => r.stdout,
      ),
    ).not.toContain(password);
  });
});

describe('Redis over TLS (private CA)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-tls-'));
  const caFile = join(dir, 'ca.crt');
  let ca = '';
  let srv: RedisServerProcess;
  let port = 0;
  let h: Harness | undefined;

  beforeAll(async () => {
    const ssl = (args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir, timeout: 20_000 });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await ssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=chain-worker test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await ssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(
      join(dir, 'ext.cnf'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    await ssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    ]);
    ca = readFileSync(caFile, 'utf8');
    port = await freePort();
    srv = await ownRedis({
      port,
      args: [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        join(dir, 'server.crt'),
        '--tls-key-file',
        join(dir, 'server.key'),
        '--tls-ca-cert-file',
        caFile,
        '--tls-auth-clients',
        'no',
      ],
      cliArgs: ['--tls', '--cacert', caFile],
    });
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await srv?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a full cycle and the model builder work over rediss:// with the CA (client and bulk connection)', async () => {
    h = await startStack({ url: `rediss://127.0.0.1:${port}`, tls: { ca } });
    await fullCycleAndModels(h);
  });

  it('certificates are verified: without the CA, both the client and the bulk connection are refused; plaintext gets nothing', async () => {
    const url = `rediss://127.0.0.1:${port}`;
    const bus = new RedisBus({ url, maxRetriesPerRequest: 0 });
    await expect(bus.ready(1_500)).rejects.toThrow();
    await bus.close();
    const pipe = new RawPipeline(parseRedisUrl(url));
    await expect(pipe.run([['SET', 'cw-tls-probe', 'v']])).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
    pipe.close();
    // The TLS port does not speak plaintext RESP.
    const plain = new RawPipeline(parseRedisUrl(`redis://127.0.0.1:${port}`), {}, 1_000);
    await expect(
      Promise.race([
        plain.run([['PING']]),
        new Promise((_, rej) => setTimeout(() => rej(new Error('no answer')), 1_500)),
      ]),
    ).rejects.toThrow();
    plain.close();
  });

  it('the binary: run --once over rediss:// with REDIS_TLS_CA_FILE leaves every key for SPX and NDX', async () => {
    const prefix = testPrefix();
    const { stdout } = await run(BIN, ['run', '--once'], {
      env: binaryEnv({
        MASSIVE_PROVIDER: 'sim',
        MARKET_REDIS_URL: `rediss://127.0.0.1:${port}`,
        REDIS_TLS_CA_FILE: caFile,
        CHAIN_KEY_PREFIX: prefix,
        LOG_LEVEL: 'info',
      }),
      timeout: 25_000,
    });
    expect(stdout).toMatch(/"exitCode":0/);
    const bus = new TestBus({ url: `rediss://127.0.0.1:${port}`, tls: { ca } });
    const k = new KeySchema(prefix);
    try {
      await bus.ready(5_000);
      const active = await bus.cmd.hgetall(k.epochActive);
      expect(Object.keys(active).sort()).toEqual(['NDX', 'SPX']);
      for (const u of ['SPX', 'NDX']) {
        const id = active[u] as string;
        expect(
          await bus.cmd.exists(
            k.epochMeta(id),
            k.epochContracts(id),
            k.model('gex', u),
            k.model('heatmap', u),
          ),
        ).toBe(4);
      }
      expect(JSON.parse((await bus.cmd.get(k.heartbeat)) as string)).toMatchObject({ status: 'stopped' });
    } finally {
      await cleanupPrefix(bus, prefix);
      await bus.close();
    }
  });
});

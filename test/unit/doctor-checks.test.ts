/**
 * The doctor's pure verdicts, table-driven: Redis INFO facts, API answers and `Date` headers, the New York
 * session (regular day, early close, holiday, weekend), contradictory settings and the main thread's
 * scheduling policy.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  clockSkewMs,
  configChecks,
  doctorExitCode,
  marketChecks,
  massiveChecks,
  parseInfo,
  redisChecks,
  schedCheck,
  type Check,
  type MassiveFacts,
  type RedisFacts,
} from '../../src/doctor/checks.js';
import { isEarlyClose, marketSession } from '../../src/domain/market-session.js';
import { nyWallClockToUtc } from '../../src/domain/market-time.js';

const INFO = `# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n# Memory\r\nused_memory:1048576\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n# Persistence\r\naof_enabled:0\r\nrdb_last_bgsave_status:ok\r\naof_last_write_status:ok\r\n# Cluster\r\ncluster_enabled:0\r\n`;

function redisFacts(over: Partial<RedisFacts> = {}, info: Record<string, string> = {}): RedisFacts {
  return {
    label: 'market bus',
    url: 'redis://127.0.0.1:6379',
    clusterConfigured: false,
    info: { ...parseInfo(INFO), ...info },
    pingMs: 0.2,
    save: '3600 1',
    ...over,
  };
}

function byName(checks: Check[], name: string): Check {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name}: ${checks.map((x) => x.name).join(', ')}`);
  return c;
}

describe('parseInfo', () => {
  it('reads fields across sections, skipping headers', () => {
    expect(parseInfo(INFO)).toMatchObject({ redis_version: '7.2.4', maxmemory: '0', cluster_enabled: '0' });
    expect(Object.keys(parseInfo(INFO))).not.toContain('# Server');
  });
});

describe('redisChecks', () => {
  it.each<[string, Partial<RedisFacts>, Record<string, string>, string, Check['status'], RegExp]>([
    ['healthy', {}, {}, 'memory', 'ok', /no maxmemory/],
    ['unreachable', { error: 'connect ECONNREFUSED 127.0.0.1:1' }, {}, 'reachable', 'fail', /ECONNREFUSED/],
    ['old version', {}, { redis_version: '5.0.7' }, 'version', 'warn', /Redis 5\.0\.7/],
    ['new version', {}, { redis_version: '8.0.1' }, 'version', 'ok', /Redis 8\.0\.1/],
    ['cluster server, standalone config', {}, { cluster_enabled: '1' }, 'cluster', 'fail', /cluster node/],
    ['cluster matches', { clusterConfigured: true }, { cluster_enabled: '1' }, 'cluster', 'ok', /^cluster$/],
    [
      'allkeys-lru',
      {},
      { maxmemory: String(100 * 1048576), maxmemory_policy: 'allkeys-lru' },
      'memory',
      'warn',
      /maxmemory 100 MB, policy allkeys-lru/,
    ],
    [
      'volatile-ttl',
      {},
      { maxmemory: String(100 * 1048576), maxmemory_policy: 'volatile-ttl' },
      'memory',
      'warn',
      /volatile-ttl/,
    ],
    [
      'noeviction, roomy',
      {},
      { maxmemory: String(100 * 1048576), maxmemory_policy: 'noeviction' },
      'memory',
      'ok',
      /1\.0 MB of 100 MB/,
    ],
    [
      'noeviction, nearly full',
      {},
      { maxmemory: String(100 * 1048576), used_memory: String(95 * 1048576), maxmemory_policy: 'noeviction' },
      'memory',
      'warn',
      /95 MB of 100 MB/,
    ],
    ['rdb + aof', {}, { aof_enabled: '1' }, 'persistence', 'ok', /RDB save 3600 1, AOF on/],
    ['no persistence', { save: '' }, {}, 'persistence', 'ok', /RDB off, AOF off/],
    ['CONFIG refused', { save: undefined }, {}, 'persistence', 'ok', /RDB unknown/],
    ['bgsave failing', {}, { rdb_last_bgsave_status: 'err' }, 'persistence', 'warn', /last bgsave err/],
    ['slow ping', { pingMs: 25 }, {}, 'latency', 'warn', /PING 25\.00 ms/],
    ['fast ping', { pingMs: 0.12 }, {}, 'latency', 'ok', /PING 0\.12 ms/],
  ])('%s', (_, over, info, name, status, detail) => {
    const facts = redisFacts(over, info);
    if ('save' in over && over.save === undefined) delete facts.save;
    const c = byName(redisChecks(facts), name);
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(detail);
    expect(c.advice.length).toBeGreaterThan(5);
    expect(c.advice).not.toContain('\n');
  });

  it('an unreachable server yields one failing check and exit 1', () => {
    const checks = redisChecks(redisFacts({ error: 'timeout' }));
    expect(checks.map((c) => [c.name, c.status])).toEqual([['reachable', 'fail']]);
    expect(doctorExitCode(checks)).toBe(1);
  });
});

function massiveFacts(over: Partial<MassiveFacts> = {}): MassiveFacts {
  const sentMs = Date.parse('2026-12-01T15:00:00.200Z');
  return {
    provider: 'massive',
    baseUrl: 'https://api.massive.com',
    keySet: true,
    path: '/v3/snapshot/options/I:SPX?limit=1',
    status: 200,
    results: 1,
    dateHeader: 'Tue, 01 Dec 2026 15:00:00 GMT',
    sentMs,
    receivedMs: sentMs + 40,
    streamClient: false,
    ...over,
  };
}

describe('massiveChecks', () => {
  it.each<[string, Partial<MassiveFacts>, string, Check['status'], RegExp]>([
    ['entitled', {}, 'options chain snapshot', 'ok', /: 200, 1 result/],
    ['no key', { keySet: false }, 'api key', 'fail', /not set/],
    ['sim needs no key', { provider: 'sim', keySet: false }, 'api key', 'ok', /not needed/],
    ['401', { status: 401 }, 'options chain snapshot', 'fail', /401 Unauthorized/],
    ['403', { status: 403 }, 'options chain snapshot', 'fail', /403 Forbidden/],
    ['429', { status: 429 }, 'options chain snapshot', 'warn', /429/],
    ['503', { status: 503 }, 'options chain snapshot', 'fail', /HTTP 503/],
    [
      'unreachable',
      { status: undefined, error: 'getaddrinfo ENOTFOUND' },
      'options chain snapshot',
      'fail',
      /ENOTFOUND/,
    ],
    ['clock in sync', {}, 'clock', 'ok', /within 1 s/],
    ['clock 5 s ahead', { dateHeader: 'Tue, 01 Dec 2026 14:59:55 GMT' }, 'clock', 'warn', /ahead by 4\.2 s/],
    [
      'clock 2 min behind',
      { dateHeader: 'Tue, 01 Dec 2026 15:02:00 GMT' },
      'clock',
      'fail',
      /behind by 119\.8 s/,
    ],
    ['no Date header', { dateHeader: undefined }, 'clock', 'warn', /no Date header/],
    ['no stream client', {}, 'websocket', 'skip', /no WebSocket stream client/],
    ['websocket not probed', { streamClient: true }, 'websocket', 'skip', /not probed/],
    [
      'websocket authenticated',
      {
        streamClient: true,
        stream: { url: 'wss://socket.massive.com/options', outcome: 'authenticated', ms: 120 },
      },
      'websocket',
      'ok',
      /options: authenticated in 120 ms/,
    ],
    [
      'websocket auth_failed',
      {
        streamClient: true,
        stream: { url: 'wss://socket.massive.com/options', outcome: 'rejected', ms: 90 },
      },
      'websocket',
      'warn',
      /auth_failed/,
    ],
    [
      'websocket silent',
      {
        streamClient: true,
        stream: { url: 'wss://socket.massive.com/options', outcome: 'timeout', ms: 8000 },
      },
      'websocket',
      'warn',
      /no answer in 8000 ms/,
    ],
  ])('%s', (_, over, name, status, detail) => {
    const facts = massiveFacts(over);
    for (const [k, v] of Object.entries(over))
      if (v === undefined) delete (facts as unknown as Record<string, unknown>)[k];
    const c = byName(massiveChecks(facts), name);
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(detail);
  });

  it('403 says the plan is not entitled, 401 that the key was rejected', () => {
    expect(byName(massiveChecks(massiveFacts({ status: 403 })), 'options chain snapshot').advice).toMatch(
      /not entitled to the options chain snapshot/,
    );
    expect(byName(massiveChecks(massiveFacts({ status: 401 })), 'options chain snapshot').advice).toMatch(
      /rejected the key/,
    );
  });

  it('clock skew: independent arithmetic on the header midpoint', () => {
    const sent = Date.parse('2026-12-01T15:00:10.000Z');
    // Server second 15:00:00 → midpoint 15:00:00.5; local midpoint 15:00:10.05; slack 0.5 + 0.05.
    expect(clockSkewMs('Tue, 01 Dec 2026 15:00:00 GMT', sent, sent + 100)).toBeCloseTo(9_550 - 550, 6);
    expect(clockSkewMs('Tue, 01 Dec 2026 15:00:10 GMT', sent, sent + 100)).toBe(0);
    expect(clockSkewMs('garbage', sent, sent)).toBeUndefined();
  });
});

describe('market session', () => {
  const ny = (date: string, h: number, m: number): number => nyWallClockToUtc(date, h, m);
  it.each<[string, number, string, boolean]>([
    ['Tuesday 10:00', ny('2026-12-01', 10, 0), 'open', false],
    ['Tuesday 09:00', ny('2026-12-01', 9, 0), 'pre-market', false],
    ['Tuesday 16:30', ny('2026-12-01', 16, 30), 'after-hours', false],
    ['Saturday', ny('2026-12-05', 12, 0), 'weekend', false],
    ['Thanksgiving', ny('2026-11-26', 12, 0), 'holiday', false],
    ['Black Friday 12:00', ny('2026-11-27', 12, 0), 'open', true],
    ['Black Friday 13:30', ny('2026-11-27', 13, 30), 'after-hours', true],
    ['Christmas Eve 2025 (Wed)', ny('2025-12-24', 12, 59), 'open', true],
    ['Christmas 2025', ny('2025-12-25', 10, 0), 'holiday', false],
    ['July 3 2025 (Thu)', ny('2025-07-03', 14, 0), 'after-hours', true],
    ['Good Friday 2026', ny('2026-04-03', 11, 0), 'holiday', false],
  ])('%s', (_, ms, state, early) => {
    const s = marketSession(ms);
    expect(s.state).toBe(state);
    expect(s.earlyClose).toBe(early);
  });

  it('next open skips weekends and holidays', () => {
    // Wednesday 2026-11-25 after the close → Thursday is Thanksgiving → Friday 09:30.
    expect(marketSession(ny('2026-11-25', 17, 0)).nextOpenMs).toBe(ny('2026-11-27', 9, 30));
    expect(marketSession(ny('2026-12-05', 12, 0)).nextOpenMs).toBe(ny('2026-12-07', 9, 30));
    expect(isEarlyClose('2026-07-03')).toBe(false); // the observed Independence Day holiday itself
  });

  it('marketChecks names the session and lists the expirations', () => {
    const checks = marketChecks(ny('2026-11-27', 12, 0), {
      symbol: 'I:SPX',
      dates: ['2026-11-27', '2026-11-30'],
    });
    expect(byName(checks, 'new york session').detail).toMatch(
      /2026-11-27: open, closes .*13:00 ET \(early close\)/,
    );
    expect(byName(checks, 'next expirations').detail).toBe('I:SPX: 2026-11-27, 2026-11-30');
  });
});

describe('configChecks', () => {
  const cfg = (env: Record<string, string>) => loadConfig({ env });
  it.each<[string, Record<string, string>, string, Check['status']]>([
    ['defaults are consistent', {}, 'consistency', 'ok'],
    ['interval < fetch deadline', { MASSIVE_CHAIN_INTERVAL_SEC: '10' }, 'interval vs fetch deadline', 'warn'],
    [
      'timeout ≥ deadline',
      { MASSIVE_REQUEST_TIMEOUT_MS: '30000' },
      'request timeout vs fetch deadline',
      'warn',
    ],
    ['heartbeat ttl ≤ period', { CHAIN_HEARTBEAT_TTL_SEC: '5' }, 'heartbeat ttl vs period', 'fail'],
    ['heartbeat ttl < 2× period', { CHAIN_HEARTBEAT_TTL_SEC: '8' }, 'heartbeat ttl vs period', 'warn'],
    ['lease ttl < heartbeat', { CHAIN_LEASE_TTL_SEC: '3' }, 'lease ttl vs heartbeat', 'warn'],
    ['stale-after < interval', { CHAIN_STALE_AFTER_SEC: '20' }, 'stale-after vs interval', 'warn'],
    ['ready age < interval', { CHAIN_READY_MAX_AGE_SEC: '20' }, 'readiness vs interval', 'warn'],
    [
      'snapshot ttl < 2× interval',
      { CHAIN_SNAPSHOT_TTL_SEC: '50' },
      'chain snapshot ttl sec vs interval',
      'warn',
    ],
  ])('%s', (_, env, name, status) => {
    const checks = configChecks(cfg(env));
    const c = byName(checks, name);
    expect(c.status).toBe(status);
    if (status !== 'ok') expect(checks.find((x) => x.name === 'consistency')).toBeUndefined();
  });

  it('in effect: the settings changed from their defaults, secrets hidden', () => {
    const c = byName(
      configChecks(
        cfg({ MASSIVE_API_KEY: 'secret-key-123', MASSIVE_CHAIN_SYMBOLS: 'I:SPX', LOG_LEVEL: 'warn' }),
      ),
      'in effect',
    );
    expect(c.detail).toBe(
      'provider massive; MASSIVE_CHAIN_SYMBOLS=I:SPX MASSIVE_API_KEY=[set] LOG_LEVEL=warn',
    );
  });
});

describe('schedCheck (CHAIN_MAIN_THREAD_SCHED)', () => {
  it.each<[string, Parameters<typeof schedCheck>, Check['status'], string]>([
    [
      'not asked for',
      ['other', { ok: true, policy: 'other' }],
      'ok',
      'normal (CHAIN_MAIN_THREAD_SCHED=other)',
    ],
    ['set', ['fifo', { ok: true, policy: 'fifo' }], 'ok', "SCHED_FIFO 1: set on this process's main thread"],
    ['set (rr)', ['rr', { ok: true, policy: 'rr' }], 'ok', "SCHED_RR 1: set on this process's main thread"],
    [
      'refused',
      ['fifo', { ok: false, reason: "chrt: failed to set pid 7's policy: Operation not permitted" }],
      'warn',
      "CHAIN_MAIN_THREAD_SCHED=fifo not possible here: chrt: failed to set pid 7's policy: Operation not permitted",
    ],
    [
      'no chrt',
      ['rr', { ok: false, reason: 'chrt not found (util-linux)' }],
      'warn',
      'CHAIN_MAIN_THREAD_SCHED=rr not possible here: chrt not found (util-linux)',
    ],
  ])('%s', (_, args, status, detail) => {
    const c = schedCheck(...args);
    expect(c).toMatchObject({ section: 'config', name: 'main thread policy', status, detail });
    // Never a failure: the worker runs at the normal policy without it.
    expect(doctorExitCode([c])).toBe(0);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, redactedConfig, redactUrl } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';

describe('config', () => {
  it('has the seed defaults and falls back to sim without a key', () => {
    const c = loadConfig({ env: {} });
    expect(c.symbols).toEqual(['I:SPX', 'I:NDX']);
    expect(c.intervalSec).toBe(30);
    expect(c.numExpirations).toBe(5);
    expect(c.marketRedisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.baseUrl).toBe('https://api.massive.com');
    expect(c.provider).toBe('sim');
    expect(c.providerDefaulted).toBe(true);
    expect(c.widths).toEqual({ SPX: [20, 25, 30, 35, 40, 45, 50], NDX: [50, 100, 150, 200] });
  });

  it('uses massive when a key is set', () => {
    const c = loadConfig({ env: { MASSIVE_API_KEY: 'k-123456' } });
    expect(c.provider).toBe('massive');
  });

  it.each([
    [{ MASSIVE_CHAIN_INTERVAL_SEC: 'abc' }, 'MASSIVE_CHAIN_INTERVAL_SEC'],
    [{ MASSIVE_CHAIN_NUM_EXPIRATIONS: '0' }, 'MASSIVE_CHAIN_NUM_EXPIRATIONS'],
    [{ MASSIVE_CHAIN_SYMBOLS: 'I:SPX,lower' }, 'MASSIVE_CHAIN_SYMBOLS'],
    [{ MASSIVE_PROVIDER: 'yahoo' }, 'MASSIVE_PROVIDER'],
    [{ MASSIVE_PROVIDER: 'replay' }, 'MASSIVE_REPLAY_FILE'],
    [{ MASSIVE_PROVIDER: 'massive' }, 'MASSIVE_API_KEY'],
    [{ MARKET_REDIS_URL: 'http://x' }, 'MARKET_REDIS_URL'],
    [{ MASSIVE_WIDTHS_SPX: '20,-5' }, 'MASSIVE_WIDTHS_SPX'],
    [{ MASSIVE_BASE_URL: 'not a url' }, 'MASSIVE_BASE_URL'],
    [{ CHAIN_MODEL_THREADS: '0' }, 'CHAIN_MODEL_THREADS'],
    [{ CHAIN_MODEL_THREADS: '9' }, 'CHAIN_MODEL_THREADS'],
    [{ CHAIN_MODEL_THREADS: '1.5' }, 'CHAIN_MODEL_THREADS'],
    [{ CHAIN_PAGE_THREADS: '9' }, 'CHAIN_PAGE_THREADS'],
    [{ CHAIN_PAGE_THREADS: '-1' }, 'CHAIN_PAGE_THREADS'],
  ])('%j stops start-up naming %s', (env, name) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(new RegExp(`^Invalid configuration: ${name}`));
  });

  it('never puts the API key in an error message', () => {
    const key = 'sk_live_abcdefghijklmnop';
    try {
      loadConfig({ env: { MASSIVE_API_KEY: key, MASSIVE_CHAIN_INTERVAL_SEC: key } });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(key);
    }
    expect(JSON.stringify(redactedConfig(loadConfig({ env: { MASSIVE_API_KEY: key } })))).not.toContain(key);
  });

  it('never echoes a secret pasted into another setting: errors, the file key under a blank env, config output', () => {
    const key = 'sk_live_abcdefghijklmnop';
    const token = 'tok-0123456789';
    const messageOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        return (err as Error).message;
      }
      return expect.unreachable();
    };
    // The several-URLs check of MARKET_REDIS_URL quoted the value without scrubbing the secrets.
    const several = messageOf(() =>
      loadConfig({ env: { MASSIVE_API_KEY: key, MARKET_REDIS_URL: `redis://${key}@a:6379,redis://b:6379` } }),
    );
    expect(several).toMatch(
      /^Invalid configuration: MARKET_REDIS_URL: several URLs need MARKET_REDIS_CLUSTER=1/,
    );
    expect(several).not.toContain(key);
    // A key from the file, the environment's copy blank (unset): still a secret.
    const dir = mkdtempSync(join(tmpdir(), 'cw-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ settings: { MASSIVE_API_KEY: key } }));
    const fromFile = messageOf(() =>
      loadConfig({ env: { MASSIVE_API_KEY: ' ', MASSIVE_CHAIN_INTERVAL_SEC: key }, configFile: file }),
    );
    expect(fromFile).toMatch(/^Invalid configuration: MASSIVE_CHAIN_INTERVAL_SEC: .*\(got "\[redacted\]"\)$/);
    expect(fromFile).not.toContain(key);
    // `chain-worker config` and doctor print redactedConfig: the key in the base URL, the token in a host list.
    const shown = redactedConfig(
      loadConfig({
        env: {
          MASSIVE_API_KEY: key,
          CHAIN_WORKER_HTTP_TOKEN: token,
          MASSIVE_BASE_URL: `https://api.massive.com/?apiKey=${key}`,
          CHAIN_HTTP_ALLOWED_HOSTS: `desk.example,${token}`,
        },
      }),
    );
    expect(JSON.stringify(shown)).not.toContain(key);
    expect(JSON.stringify(shown)).not.toContain(token);
    expect(shown.MASSIVE_BASE_URL).toBe('https://api.massive.com/?apiKey=[redacted]');
    expect(shown.CHAIN_HTTP_ALLOWED_HOSTS).toEqual(['desk.example', '[redacted]']);
    expect(shown.MASSIVE_API_KEY).toBe('[set]');
    expect(shown.CHAIN_WORKER_HTTP_TOKEN).toBe('[set]');
  });

  it('reads the seed-shaped file; env overrides it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        buses: {
          'market-redis': { url: 'redis://10.0.0.1:6380' },
          'system-redis': { url: 'redis://10.0.0.2:6379' },
        },
        settings: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX', MASSIVE_CHAIN_INTERVAL_SEC: 10 },
      }),
    );
    const c = loadConfig({ env: { MASSIVE_CHAIN_INTERVAL_SEC: '15' }, configFile: file });
    expect(c.marketRedisUrl).toBe('redis://10.0.0.1:6380');
    expect(c.systemRedisUrl).toBe('redis://10.0.0.2:6379');
    expect(c.symbols).toEqual(['I:SPX']);
    expect(c.intervalSec).toBe(15);
    writeFileSync(file, JSON.stringify({ settings: { NOPE: 1 } }));
    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(/settings\.NOPE/);
    writeFileSync(file, '{oops');
    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(/expected valid JSON/);
  });

  it('redacts passwords in Redis URLs', () => {
    expect(redactUrl('redis://user:secret@host:6379/2')).toBe('redis://user:***@host:6379/2');
    expect(redactUrl('rediss://:pw@a:1,rediss://:pw@b:2')).toBe('rediss://:***@a:1,rediss://:***@b:2');
  });
});

/** Every setting whose value is a number, with its default (from the settings table itself). */
const NUMERIC = Object.entries(SETTINGS)
  .filter(([, s]) => typeof s.default === 'number')
  .map(([key, s]) => ({ key, name: s.name, def: s.default as number }));

describe('numeric settings (issue 10, defect 6)', () => {
  it('covers every numeric setting of the table', () => {
    expect(NUMERIC.length).toBeGreaterThanOrEqual(30);
    expect(NUMERIC.map((n) => n.name)).toContain('MASSIVE_RATE_LIMIT_RPS');
    expect(NUMERIC.map((n) => n.name)).toContain('MASSIVE_HEATMAP_WINDOW_PCT');
  });

  describe.each(NUMERIC)('$name', ({ key, name, def }) => {
    const read = (value: string): unknown =>
      (loadConfig({ env: { [name]: value } }) as unknown as Record<string, unknown>)[key];

    it.each(['', ' ', '   ', '\t', ' \n '])('a blank value %j is unset: the default %s applies', (v) => {
      expect(read(v)).toBe(def);
    });

    it('a blank value in the environment falls back to the config file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cw-config-'));
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ settings: { [name]: def } }));
      const c = loadConfig({ env: { [name]: '  ' }, configFile: file }) as unknown as Record<string, unknown>;
      expect(c[key]).toBe(def);
    });

    it('reads plain decimal digits, trimmed', () => {
      expect(read(String(def))).toBe(def);
      expect(read(` ${def} `)).toBe(def);
    });

    it.each([
      '0x10',
      '0b1',
      '0o7',
      '1e3',
      '1E1',
      'Infinity',
      '-Infinity',
      'NaN',
      '+1',
      '.5',
      '5.',
      '1_000',
      '1,5',
      'abc',
    ])('rejects %j naming the setting', (v) => {
      expect(() => read(v)).toThrow(ConfigError);
      expect(() => read(v)).toThrow(
        new RegExp(`^Invalid configuration: ${name}: expected .*plain decimal digits`),
      );
    });
  });

  it('MASSIVE_RATE_LIMIT_RPS=" " keeps the rate limit; "0" still turns it off', () => {
    expect(loadConfig({ env: { MASSIVE_RATE_LIMIT_RPS: ' ' } }).rateLimit).toBe(100);
    expect(loadConfig({ env: { MASSIVE_RATE_LIMIT_RPS: '0' } }).rateLimit).toBe(0);
    expect(loadConfig({ env: { MASSIVE_HEATMAP_WINDOW_PCT: ' ' } }).heatmapWindowPct).toBe(5);
    expect(loadConfig({ env: { MASSIVE_HEATMAP_WINDOW_PCT: '2.5' } }).heatmapWindowPct).toBe(2.5);
  });

  it('widths accept decimal lists only', () => {
    expect(loadConfig({ env: { MASSIVE_WIDTHS_SPX: ' 10, 20 ,5' } }).widthsSpx).toEqual([5, 10, 20]);
    expect(() => loadConfig({ env: { MASSIVE_WIDTHS_SPX: '0x10,20' } })).toThrow(/MASSIVE_WIDTHS_SPX/);
    expect(() => loadConfig({ env: { MASSIVE_WIDTHS_SPX: '1e2' } })).toThrow(/MASSIVE_WIDTHS_SPX/);
  });

  it('other blank settings are unset too', () => {
    const c = loadConfig({
      env: { MASSIVE_API_KEY: '   ', MASSIVE_CHAIN_SYMBOLS: ' ', MASSIVE_SIM_BURST: ' ' },
    });
    expect(c.apiKey).toBeUndefined();
    expect(c.provider).toBe('sim');
    expect(c.symbols).toEqual(['I:SPX', 'I:NDX']);
    expect(c.simBurst).toBe(false);
    expect(loadConfig({ env: { MASSIVE_SIM_BURST: ' TRUE ' } }).simBurst).toBe(true);
  });
});

describe('Redis URLs (issue 10, defect 3)', () => {
  it.each([
    ['redis://127.0.0.1:99999', /MARKET_REDIS_URL: .*port 99999 is out of range/],
    ['redis://127.0.0.1:0', /MARKET_REDIS_URL: .*port 0 is out of range/],
    ['redis://127.0.0.1:6379/abc', /MARKET_REDIS_URL: .*database "abc" is not a decimal number/],
    ['redis://127.0.0.1:6379/0x1', /MARKET_REDIS_URL: .*database "0x1"/],
    ['redis://127.0.0.1:6379/-1', /MARKET_REDIS_URL: .*database "-1"/],
    ['redis://[::1:6379', /MARKET_REDIS_URL: .*not a valid URL/],
  ])('%s stops start-up naming MARKET_REDIS_URL', (url, re) => {
    expect(() => loadConfig({ env: { MARKET_REDIS_URL: url } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { MARKET_REDIS_URL: url } })).toThrow(re);
  });

  it('a bad SYSTEM_REDIS_URL is named too, and no password is echoed', () => {
    expect(() => loadConfig({ env: { SYSTEM_REDIS_URL: 'redis://u:hunter22@h:70000' } })).toThrow(
      /^Invalid configuration: SYSTEM_REDIS_URL: .*port 70000/,
    );
    try {
      loadConfig({ env: { MARKET_REDIS_URL: 'redis://u:hunter22@h:6379/db' } });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/MARKET_REDIS_URL/);
      expect((err as Error).message).not.toContain('hunter22');
    }
  });

  it('SYSTEM_REDIS_URL is one server: a comma-separated list stops start-up naming it', () => {
    expect(() =>
      loadConfig({ env: { SYSTEM_REDIS_URL: 'redis://:hunter22@10.0.0.1:6379,redis://10.0.0.2:6379' } }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ env: { SYSTEM_REDIS_URL: 'redis://:hunter22@10.0.0.1:6379,redis://10.0.0.2:6379' } });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(
        /^Invalid configuration: SYSTEM_REDIS_URL: .*2 URLs given, the system bus is one server/,
      );
      expect((err as Error).message).not.toContain('hunter22');
    }
    expect(loadConfig({ env: { SYSTEM_REDIS_URL: ' redis://10.0.0.2:6380/1 ' } }).systemRedisUrl).toBe(
      'redis://10.0.0.2:6380/1',
    );
  });

  it('good URLs still parse: db, IPv6, TLS, a cluster seed list', () => {
    expect(loadConfig({ env: { MARKET_REDIS_URL: ' redis://:pw@10.0.0.1:6380/3 ' } }).marketRedisUrl).toBe(
      'redis://:pw@10.0.0.1:6380/3',
    );
    expect(loadConfig({ env: { MARKET_REDIS_URL: 'rediss://[::1]:6379' } }).marketRedisUrl).toBe(
      'rediss://[::1]:6379',
    );
    expect(
      loadConfig({ env: { MARKET_REDIS_URL: 'redis://a:7000,redis://b:7001', MARKET_REDIS_CLUSTER: '1' } })
        .marketRedisCluster,
    ).toBe(true);
  });
});

describe('MASSIVE_WS_URL: a URL the stream client can open', () => {
  it.each([
    [
      'ws://127.0.0.1:99999',
      /^Invalid configuration: MASSIVE_WS_URL: .*port 99999 is out of range \(1-65535\)/,
    ],
    ['ws://127.0.0.1:0', /^Invalid configuration: MASSIVE_WS_URL: .*port 0 is out of range/],
    ['wss://socket.massive.com:abc', /^Invalid configuration: MASSIVE_WS_URL: .*not a valid URL/],
    ['ws://:8080', /^Invalid configuration: MASSIVE_WS_URL: .*not a valid URL/],
    ['wss://a b', /^Invalid configuration: MASSIVE_WS_URL: .*not a valid URL/],
  ])('%s stops start-up naming MASSIVE_WS_URL', (url, re) => {
    expect(() => loadConfig({ env: { MASSIVE_WS_URL: url } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { MASSIVE_WS_URL: url } })).toThrow(re);
  });

  it.each([
    ['wss://socket.massive.com', 'wss://socket.massive.com'],
    ['wss://delayed.massive.com/', 'wss://delayed.massive.com/'],
    ['ws://127.0.0.1:8765', 'ws://127.0.0.1:8765'],
    ['ws://[::1]:8765', 'ws://[::1]:8765'],
  ])('%s is kept as given', (url, want) => {
    expect(loadConfig({ env: { MASSIVE_WS_URL: url } }).wsUrl).toBe(want);
  });
});

describe('MASSIVE_CHAIN_SYMBOLS: each underlying once', () => {
  it.each([
    ['I:SPX,I:SPX', 'I:SPX and I:SPX are both SPX'],
    ['SPX,I:NDX,I:SPX', 'SPX and I:SPX are both SPX'],
    ['I:NDX, I:SPX ,I:NDX', 'I:NDX and I:NDX are both NDX'],
  ])('%s stops start-up naming the setting and the underlying', (list, why) => {
    expect(() => loadConfig({ env: { MASSIVE_CHAIN_SYMBOLS: list } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { MASSIVE_CHAIN_SYMBOLS: list } })).toThrow(
      `Invalid configuration: MASSIVE_CHAIN_SYMBOLS: expected each underlying once: ${why}`,
    );
  });

  it('distinct underlyings still load, in the order given', () => {
    expect(loadConfig({ env: { MASSIVE_CHAIN_SYMBOLS: 'I:NDX,I:SPX,AAPL' } }).symbols).toEqual([
      'I:NDX',
      'I:SPX',
      'AAPL',
    ]);
  });
});

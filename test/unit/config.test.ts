import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, redactedConfig, redactUrl } from '../../src/config/load.js';

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

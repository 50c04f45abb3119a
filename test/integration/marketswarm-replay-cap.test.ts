/**
 * The MarketSwarm heatmap replay stream is capped by CHAIN_COMPAT_REPLAY_MAXLEN, not by MarketSwarm's
 * 50,000 (each entry is a diff of up to 128 KiB: 50,000 of them would be ~6 GB of Redis).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MarketSwarmOutput } from '../../src/outputs/marketswarm/writer.js';
import {
  cleanupPrefix,
  openBus,
  redisTargets,
  testKeys,
  testPrefix,
  type TestBus,
} from '../support/redis.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('MarketSwarm heatmap replay cap', () => {
  let bus: TestBus | undefined;
  let prefix = '';
  afterEach(async () => {
    if (bus) {
      await cleanupPrefix(bus, prefix);
      await bus.close();
    }
    bus = undefined;
  });

  it('defaults to 1,000 entries and rejects a cap below 10, naming the setting', () => {
    expect(loadConfig({ env: {} }).compatReplayMaxLen).toBe(1_000);
    expect(loadConfig({ env: { CHAIN_COMPAT_REPLAY_MAXLEN: '250' } }).compatReplayMaxLen).toBe(250);
    expect(() => loadConfig({ env: { CHAIN_COMPAT_REPLAY_MAXLEN: '5' } })).toThrow(
      /CHAIN_COMPAT_REPLAY_MAXLEN/,
    );
  });

  it('keeps about the configured number of diffs, the newest ones', async () => {
    const target = redisTargets()[0]!;
    bus = await openBus(target);
    prefix = testPrefix();
    const keys = testKeys(prefix);
    const out = new MarketSwarmOutput(bus, keys, silentLogger(), 100);
    const diffs = Array.from({ length: 450 }, (_, i) =>
      enc(JSON.stringify({ version: i + 1, changed: {}, removed: [] })),
    );
    await out.write('I:SPX', 6000, Date.now(), {
      gexCalls: enc('{}'),
      gexPuts: enc('{}'),
      heatmap: enc('{"version":450}'),
      diffs,
      version: 450,
      changed: 0,
      removed: 0,
      tiles: 0,
    });
    const stream = keys.compatHeatmapReplay('I:SPX');
    const len = await bus.conn.xlen(stream);
    // `MAXLEN ~` trims whole stream nodes (100 entries each by default): at most one node over the cap.
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThanOrEqual(200);
    const last = (await bus.conn.xrevrange(stream, '+', '-', 'COUNT', 1))[0]!;
    expect(JSON.parse(last[1][1]!)).toMatchObject({ version: 450 });
  });
});

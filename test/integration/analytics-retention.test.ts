/**
 * The analytics ZSETs keep CHAIN_ANALYTICS_RETENTION_SEC of samples, every one of them: a cycle that has no
 * value for a series (an empty chain: no strike range, density or staleness; a failed cycle: only the
 * fetch latency) still trims it, so a weekend of empty cycles or an outage leaves no sample older than the
 * retention in any series.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ANALYTICS_SERIES, AnalyticsWriter, type CycleSample } from '../../src/wiring/analytics.js';
import {
  cleanupPrefix,
  openBus,
  redisTargets,
  testKeys,
  testPrefix,
  type TestBus,
} from '../support/redis.js';

const RETENTION_SEC = 3_600;

function sample(over: Partial<CycleSample>): CycleSample {
  return {
    underlying: 'SPX',
    ts: Date.now(),
    health: 'ok',
    latencyMs: 120,
    contracts: 2_000,
    pages: 8,
    retries: 0,
    skipped: 0,
    stalenessSec: 1.5,
    strikeRange: 400,
    density: 4,
    burst: false,
    failed: false,
    slaViolation: false,
    ...over,
  };
}

describe.each(redisTargets())('analytics retention on $name', (target) => {
  let bus: TestBus | undefined;
  let prefix = '';
  afterEach(async () => {
    if (bus) {
      await cleanupPrefix(bus, prefix);
      await bus.close();
    }
    bus = undefined;
  });

  it.each([
    [
      'an empty chain (no range, density or staleness)',
      { health: 'empty', contracts: 0, stalenessSec: null, strikeRange: null, density: null },
    ],
    [
      'a failed cycle (only the fetch latency)',
      {
        health: 'failed',
        failed: true,
        contracts: 0,
        stalenessSec: null,
        strikeRange: null,
        density: null,
        slaViolation: true,
        errorKind: 'fetch_failed',
      },
    ],
  ] as const)('%s trims every series to the retention', async (_name, later) => {
    prefix = testPrefix();
    const keys = testKeys(prefix);
    bus = await openBus(target);
    const w = new AnalyticsWriter(bus, keys, RETENTION_SEC);
    const now = Date.now();
    const old = now - 2 * RETENTION_SEC * 1000;
    await w.record(sample({ ts: old }));
    for (const s of ANALYTICS_SERIES) expect(await bus.cmd.zcard(keys.analyticsSeries(s)), s).toBe(1);

    await w.record(sample({ ts: now, ...(later as Partial<CycleSample>) }));
    const cutoff = now / 1000 - RETENTION_SEC;
    for (const s of ANALYTICS_SERIES) {
      const stale = await bus.cmd.zrangebyscore(keys.analyticsSeries(s), '-inf', `(${cutoff}`);
      // Was: strike_range, contract_density and staleness (and contract_count after a failure) kept the
      // sample two retentions old.
      expect(stale, s).toEqual([]);
    }
    // The new sample's own values are there.
    expect(await bus.cmd.zcard(keys.analyticsSeries('fetch_latency'))).toBe(1);
  });
});

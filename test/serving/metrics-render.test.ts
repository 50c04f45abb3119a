/**
 * `Metrics.render()`: the registry's exposition text, a metric per turn of the event loop. Its bytes are
 * prom-client's own rendering of the same registry, and the loop turns between metrics.
 */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/serving/metrics.js';
import { turnsDuring } from '../support/turns.js';

describe('Metrics.render', () => {
  it('gives the bytes of registry.metrics(), with values and labels in', async () => {
    const m = new Metrics();
    m.cycleSeconds.observe({ symbol: 'SPX' }, 0.8);
    m.cycleSeconds.observe({ symbol: 'NDX' }, 1.7);
    m.contractsPerSnapshot.observe({ symbol: 'SPX' }, 20_000);
    m.modelPublished.set({ model: 'gex', symbol: 'SPX' }, 1_796_400_000);
    const text = await m.render();
    // The default process metrics move between two readings: compare the rest line by line.
    const stable = (t: string): string[] =>
      t.split('\n').filter((l) => !/^chain_worker_(process|nodejs)_/.test(l));
    expect(stable(text)).toEqual(stable(await m.registry.metrics()));
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('chain_worker_cycle_seconds_bucket{le="1",symbol="SPX"} 1');
    expect(text).toContain('chain_worker_cycle_seconds_count{symbol="NDX"} 1');
    expect(text).toContain(
      'chain_worker_model_published_timestamp_seconds{model="gex",symbol="SPX"} 1796400000',
    );
  });

  it('is the same text without the default metrics, where nothing moves', async () => {
    const m = new Metrics({ defaults: false });
    m.cycleSeconds.observe({ symbol: 'SPX' }, 0.02);
    expect(await m.render()).toBe(await m.registry.metrics());
  });

  it('renders one metric per turn of the event loop', async () => {
    const m = new Metrics();
    const count = m.registry.getMetricsAsArray().length;
    expect(count).toBeGreaterThan(20);
    // registry.metrics() renders every metric in the turn it is called in.
    expect(await turnsDuring(() => m.registry.metrics())).toBeLessThanOrEqual(1);
    expect(await turnsDuring(() => m.render())).toBeGreaterThanOrEqual(count);
  });
});

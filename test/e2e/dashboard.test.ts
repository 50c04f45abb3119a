/**
 * The dashboard end to end in headless Chromium: a real worker stack (simulated market, Redis, model
 * builder) behind `startHttpServer`; the page must draw one bar group per strike and the model's tiles,
 * follow a new cycle without a reload, show a lost stream, and stay quick on a burst chain.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GexModel, HeatmapModel } from '../../src/models/types.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { inspect } from '../../src/serving/inspect.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { redisTargets, type RedisTarget } from '../support/redis.js';
import type { Harness } from '../support/worker-harness.js';
import { cycleAndBuild, depsOf, stack } from '../serving/support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const target = redisTargets()[0] as RedisTarget;

type Strategy = 'butterfly' | 'vertical' | 'single';

/** Tiles the page should draw for one selection, counted from the model. */
function tileCount(hm: HeatmapModel, expiration: string, strategy: Strategy, side: 'call' | 'put'): number {
  const e = hm.expirations[expiration];
  if (!e) return 0;
  if (strategy === 'single') return Object.values(e.single).filter((t) => t[side] !== undefined).length;
  return Object.values(e[strategy][side]).reduce((n, byWidth) => n + Object.keys(byWidth).length, 0);
}

interface ChartState {
  barCount: number;
  gexEpoch: string;
  gexExpiration: string;
  tileCount: number;
  hmEpoch: string;
  hmExpiration: string;
  strategy: Strategy;
  side: 'call' | 'put';
  stream: string;
  echartsBars: number;
  echartsTiles: number;
}

function chartState(page: Page): Promise<ChartState> {
  return page.evaluate(() => {
    const g = document.querySelector<HTMLElement>('[data-testid=gex-chart]') as HTMLElement;
    const m = document.querySelector<HTMLElement>('[data-testid=heatmap-chart]') as HTMLElement;
    const ec = (
      window as unknown as {
        echarts: { getInstanceByDom(el: HTMLElement): { getOption(): { series: { data: unknown[] }[] } } };
      }
    ).echarts;
    const gSeries = ec.getInstanceByDom(g)?.getOption().series ?? [];
    const mSeries = ec.getInstanceByDom(m)?.getOption().series ?? [];
    return {
      barCount: Number(g.dataset.barCount),
      gexEpoch: g.dataset.epochId ?? '',
      gexExpiration: g.dataset.expiration ?? '',
      tileCount: Number(m.dataset.tileCount),
      hmEpoch: m.dataset.epochId ?? '',
      hmExpiration: m.dataset.expiration ?? '',
      strategy: (m.dataset.strategy ?? '') as Strategy,
      side: (m.dataset.side ?? '') as 'call' | 'put',
      stream: document.querySelector<HTMLElement>('[data-testid=stream-status]')?.dataset.state ?? '',
      echartsBars: gSeries[0]?.data.length ?? -1,
      echartsTiles: mSeries[0]?.data.length ?? -1,
    };
  });
}

async function models(url: string, symbol: string): Promise<{ gex: GexModel; heatmap: HeatmapModel }> {
  const [gex, heatmap] = await Promise.all(
    ['gex', 'heatmap'].map((m) =>
      fetch(`${url}/api/models/${m}/${symbol}`).then((r) => r.json() as Promise<unknown>),
    ),
  );
  return { gex: gex as GexModel, heatmap: heatmap as HeatmapModel };
}

/** Waits until both charts show `epoch` (and have finished drawing). */
async function waitForEpoch(page: Page, epoch: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    (e) => {
      const g = document.querySelector<HTMLElement>('[data-testid=gex-chart]');
      const m = document.querySelector<HTMLElement>('[data-testid=heatmap-chart]');
      return (
        g?.dataset.epochId === e &&
        m?.dataset.epochId === e &&
        g.dataset.renderMs !== undefined &&
        m.dataset.renderMs !== undefined
      );
    },
    epoch,
    { timeout, polling: 50 },
  );
}

interface Timing {
  model: string;
  phase: string;
  ms: number;
  parseMs?: number;
  bytes?: number;
  items?: number;
}

describe('dashboard in Chromium', () => {
  let h: Harness;
  let server: HttpServer | undefined;
  let browser: Browser | undefined;
  let url = '';
  const report: Record<string, unknown> = {};

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await stack(target);
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port: 0 });
    url = server.url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      timeout: 30_000,
    });
  }, 90_000);

  afterAll(async () => {
    writeFileSync(resolve(ARTIFACTS, 'dashboard-timings.json'), `${JSON.stringify(report, null, 2)}\n`);
    await browser?.close();
    await server?.close();
    await h?.close();
  }, 60_000);

  /** Opens the page and measures the time until both charts are drawn with the active epoch. */
  async function openPage(label: string): Promise<Page> {
    const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1150 } });
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const epoch = (await h.bus.cmd.hget(h.keys.epochActive, 'SPX')) as string;
    const t0 = Date.now();
    await page.goto(`${url}/#SPX`);
    await waitForEpoch(page, epoch);
    const loadMs = Date.now() - t0;
    const timings = (await page.evaluate(
      () => (window as unknown as { __cw: { timings: unknown[] } }).__cw.timings,
    )) as Timing[];
    report[label] = { loadMs, timings, pageErrors: errors };
    expect(errors).toEqual([]);
    return page;
  }

  it('draws the models, follows live updates without a reload, and shows a lost stream', async () => {
    const page = await openPage('normal_first_load');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid=stream-status]')?.dataset.state === 'live',
    );
    const { gex, heatmap } = await models(url, 'SPX');

    // GEX, "All" tab: one bar group per strike of the model.
    let s = await chartState(page);
    expect(s.gexExpiration).toBe('All');
    expect(s.barCount).toBe(gex.by_strike.length);
    expect(s.echartsBars).toBe(gex.by_strike.length);
    expect(gex.by_strike.length).toBeGreaterThan(10);
    expect(s.gexEpoch).toBe(gex.epoch_id);

    // An expiration tab: that expiration's strikes.
    const exps = Object.keys(gex.by_expiration).sort();
    const tabs = await page.locator('[data-testid=exp-tab]').allTextContents();
    expect(tabs).toEqual(['All', ...exps]);
    const exp = exps[1] as string;
    await page.locator(`[data-testid=exp-tab][data-expiration="${exp}"]`).click();
    await page.waitForFunction(
      (e) => document.querySelector<HTMLElement>('[data-testid=gex-chart]')?.dataset.expiration === e,
      exp,
    );
    s = await chartState(page);
    expect(s.barCount).toBe(gex.by_expiration[exp]?.by_strike.length);
    expect(s.echartsBars).toBe(s.barCount);
    // the tab drives the heatmap too (when that date has tiles)
    if (heatmap.expirations[exp]) expect(s.hmExpiration).toBe(exp);

    // Heatmap: the model's tile count for each selection.
    expect(s.tileCount).toBe(tileCount(heatmap, s.hmExpiration, s.strategy, s.side));
    expect(s.echartsTiles).toBe(s.tileCount);
    expect(s.tileCount).toBeGreaterThan(0);
    for (const [strategy, side] of [
      ['vertical', 'put'],
      ['single', 'put'],
      ['single', 'call'],
      ['butterfly', 'call'],
    ] as const) {
      await page.locator(`[data-testid=heatmap-strategy] button[data-value=${strategy}]`).click();
      await page.locator(`[data-testid=heatmap-side] button[data-value=${side}]`).click();
      s = await chartState(page);
      expect(s.strategy).toBe(strategy);
      expect(s.side).toBe(side);
      expect(s.tileCount, `${strategy} ${side}`).toBe(tileCount(heatmap, s.hmExpiration, strategy, side));
      expect(s.echartsTiles).toBe(s.tileCount);
    }

    // Clicking a tile shows its order.
    const e = heatmap.expirations[s.hmExpiration];
    const strikes = Object.keys(e?.butterfly.call ?? {}).sort((a, b) => Number(a) - Number(b));
    const pixel = await page.evaluate(() => {
      const el = document.querySelector<HTMLElement>('[data-testid=heatmap-chart]') as HTMLElement;
      const ec = (
        window as unknown as {
          echarts: {
            getInstanceByDom(el: HTMLElement): {
              getOption(): { series: { data: number[][] }[] };
              convertToPixel(f: object, v: number[]): number[];
            };
          };
        }
      ).echarts;
      const chart = ec.getInstanceByDom(el);
      const option = chart.getOption() as unknown as {
        series: { data: number[][] }[];
        dataZoom?: { startValue?: number; endValue?: number }[];
      };
      const cells = option.series[0]?.data ?? [];
      // a cell inside the visible (zoomed) strike window
      const z = option.dataZoom?.[0];
      const lo = z?.startValue ?? 0;
      const hi = z?.endValue ?? Number.MAX_SAFE_INTEGER;
      const visible = cells.filter((c) => (c[1] as number) >= lo && (c[1] as number) <= hi);
      const cell = visible[Math.floor(visible.length / 2)] as number[];
      const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [cell[0] as number, cell[1] as number]) as [
        number,
        number,
      ];
      const r = el.getBoundingClientRect();
      return { x: r.left + x, y: r.top + y, cell };
    });
    await page.mouse.click(pixel.x, pixel.y);
    const strike = strikes[pixel.cell[1] as number] as string;
    const width = String(heatmap.widths[pixel.cell[0] as number]);
    const tile = e?.butterfly.call[strike]?.[width];
    expect(tile).toBeDefined();
    await page.waitForFunction(
      (d) => document.querySelector('[data-testid=tile-detail]')?.textContent?.includes(d),
      tile?.description as string,
    );

    // Health panel: a row per symbol with its epoch; fetch latency points.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=health-row]').length === 2);
    const rows = await page.locator('[data-testid=health-row]').evaluateAll((els) =>
      els.map((el) => ({
        symbol: (el as HTMLElement).dataset.symbol,
        epoch: (el as HTMLElement).dataset.epochId,
        health: (el as HTMLElement).dataset.health,
      })),
    );
    const active = await h.bus.cmd.hgetall(h.keys.epochActive);
    expect(rows.map((r) => r.symbol).sort()).toEqual(['NDX', 'SPX']);
    for (const r of rows) expect(r.epoch).toBe(active[r.symbol as string]);
    const view = await inspect(h.bus, h.keys, ['SPX', 'NDX']);
    for (const r of rows) expect(r.health).toBe(view.symbols.find((v) => v.symbol === r.symbol)?.last_health);
    await page.waitForFunction(
      () =>
        Number(document.querySelector<HTMLElement>('[data-testid=latency-chart]')?.dataset.pointCount) >= 2,
    );
    // The "stale" badge follows the models' flag (the simulated market may be closed when this runs).
    expect(await page.locator('[data-testid=stale-badge]').isVisible()).toBe(gex.stale || heatmap.stale);

    // Live: a new market shape, a new cycle and build → the page follows without a reload.
    await page.locator('[data-testid=exp-tab][data-expiration=All]').click();
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });
    const oldEpoch = s.gexEpoch;
    (h.market as SimMarket).adjust({ contractsPerExpiration: 120 });
    await cycleAndBuild(h);
    const next = await models(url, 'SPX');
    expect(next.gex.epoch_id).not.toBe(oldEpoch);
    await waitForEpoch(page, next.gex.epoch_id);
    report.normal_live_update = {
      timings: (
        await page.evaluate(() => (window as unknown as { __cw: { timings: Timing[] } }).__cw.timings)
      ).slice(-4),
    };
    s = await chartState(page);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(s.barCount).toBe(next.gex.by_strike.length);
    expect(s.tileCount).toBe(tileCount(next.heatmap, s.hmExpiration, s.strategy, s.side));
    expect(await page.locator('[data-testid=epoch]').getAttribute('data-epoch-id')).toBe(next.gex.epoch_id);

    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // The stream goes away: a visible "disconnected" state; it comes back by itself.
    const port = Number(new URL(url).port);
    await (server as HttpServer).close();
    server = undefined;
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>('[data-testid=stream-status]')?.dataset.state === 'disconnected',
    );
    expect(await page.locator('[data-testid=stream-banner]').isVisible()).toBe(true);
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-disconnected.png') });
    server = await startHttpServer(depsOf(h), { host: '127.0.0.1', port });
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid=stream-status]')?.dataset.state === 'live',
      null,
      {
        timeout: 20_000,
      },
    );
    expect(await page.locator('[data-testid=stream-banner]').isVisible()).toBe(false);
    await page.close();
  }, 180_000);

  /** A live update to a bigger chain, then a fresh page load on it; both recorded in the report. */
  async function bigChain(
    label: string,
    knobs: { contractsPerExpiration: number; burst: boolean },
  ): Promise<void> {
    const page = await openPage(`${label}_before`);
    (h.market as SimMarket).adjust(knobs);
    const t0 = Date.now();
    await cycleAndBuild(h);
    const big = await models(url, 'SPX');
    await waitForEpoch(page, big.gex.epoch_id, 60_000);
    const cycleToPageMs = Date.now() - t0;
    let s = await chartState(page);
    expect(s.barCount).toBe(big.gex.by_strike.length);
    expect(s.tileCount).toBe(tileCount(big.heatmap, s.hmExpiration, s.strategy, s.side));
    const timings = await page.evaluate(
      () => (window as unknown as { __cw: { timings: Timing[] } }).__cw.timings,
    );
    // What the page spent on the update (fetch + parse + draw of both models), from its own clock.
    report[`${label}_live_update`] = {
      cycleToPageMs,
      timings: timings.filter((t) => t.ms !== undefined).slice(-4),
    };
    await page.close();

    const fresh = await openPage(`${label}_first_load`);
    s = await chartState(fresh);
    expect(s.barCount).toBe(big.gex.by_strike.length);
    expect(s.tileCount).toBe(tileCount(big.heatmap, s.hmExpiration, s.strategy, s.side));
    report[`${label}_models`] = {
      contracts: big.gex.contract_count,
      gex_strikes: big.gex.by_strike.length,
      heatmap_bytes: JSON.stringify(big.heatmap).length,
      heatmap_tiles_rendered: s.tileCount,
    };
    await fresh.screenshot({ path: resolve(ARTIFACTS, `dashboard-${label}.png`), fullPage: true });
    await fresh.close();
    // Bounds generous enough for a loaded CI machine; the report has the real numbers.
    expect((report[`${label}_first_load`] as { loadMs: number }).loadMs).toBeLessThan(15_000);
  }

  it('stays quick on a burst chain and on a 20,000-contract chain', async () => {
    await bigChain('burst', { contractsPerExpiration: 200, burst: true });
    await bigChain('c20k', { contractsPerExpiration: 4000, burst: false });
    expect((report.c20k_models as { contracts: number }).contracts).toBeGreaterThanOrEqual(20_000);
  }, 180_000);
});

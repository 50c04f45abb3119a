/**
 * The Grafana dashboard and the Prometheus alert rules use only metrics that /metrics exposes (names read
 * from the exposition text of a real server's /metrics, histograms expanded to _bucket/_sum/_count), and
 * the rules pass `promtool check rules` when promtool is installed (Debian's `prometheus` package).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';
import { Metrics } from '../../src/serving/metrics.js';
import { buildHttpApp } from '../../src/serving/server.js';
import { redisTargets } from '../support/redis.js';
import { cycleAndBuild, depsOf, stack } from '../serving/support.js';

const run = promisify(execFile);
const DASHBOARD = resolve(PACKAGE_ROOT, 'ops/grafana/chain-worker.json');
const ALERTS = resolve(PACKAGE_ROOT, 'ops/prometheus/alerts.yml');
/** `promtool test rules` cases: series in, alerts expected out. */
const ALERT_TESTS = resolve(PACKAGE_ROOT, 'test/ops/alerts.promtool.yml');
const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];

/** Metric names a scrape of /metrics yields. */
async function exposedNames(): Promise<Set<string>> {
  const h = await stack(single, { build: false });
  // The process's metrics as `chain-worker run` creates them (default Node metrics included).
  const app = buildHttpApp(depsOf(h, { metrics: new Metrics() }));
  try {
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    const names = new Set<string>();
    for (const m of res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string];
      names.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
    }
    return names;
  } finally {
    await app.close();
    await h.close();
  }
}

function usedNames(text: string): string[] {
  return [...new Set([...text.matchAll(/\bchain_worker_[a-z0-9_]+/g)].map((m) => m[0]))].sort();
}

async function hasPromtool(): Promise<boolean> {
  try {
    await run('promtool', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('ops/ files', () => {
  it('the age gauges the alerts use are set by a cycle and a build', async () => {
    const h = await stack(single, { build: false, env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } });
    try {
      const before = Date.now() / 1000;
      await cycleAndBuild(h);
      const text = await h.metrics.registry.metrics();
      const value = (re: RegExp): number => Number(re.exec(text)?.[1]);
      const success = value(/^chain_worker_last_success_timestamp_seconds\{symbol="SPX"\} (\S+)$/m);
      expect(success).toBeGreaterThanOrEqual(before);
      expect(success).toBeLessThanOrEqual(Date.now() / 1000);
      for (const model of ['gex', 'heatmap']) {
        const published = value(
          new RegExp(
            `^chain_worker_model_published_timestamp_seconds\\{model="${model}",symbol="SPX"\\} (\\S+)$`,
            'm',
          ),
        );
        expect(published).toBeGreaterThanOrEqual(success);
      }
    } finally {
      await h.close();
    }
  });

  it('every metric the dashboard and the alerts use is exposed by /metrics', async () => {
    const exposed = await exposedNames();
    const dashboard = readFileSync(DASHBOARD, 'utf8');
    const alerts = readFileSync(ALERTS, 'utf8');
    const used = usedNames(dashboard + alerts);
    expect(used.length).toBeGreaterThanOrEqual(12);
    expect(used.filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('the dashboard has a panel for each required topic, each with a Prometheus query', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dash.uid).toBe('chain-worker');
    const titles = dash.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of [
      'cycle time',
      'retries',
      'health',
      'skipped',
      'event-loop',
      'redis write',
      'model build',
      'sse',
      'leases',
    ])
      expect(titles).toContain(topic);
    for (const p of dash.panels) expect(p.targets.length, p.title).toBeGreaterThan(0);
  });

  it('promtool check rules passes (skipped when promtool is not installed)', async (ctx) => {
    if (!(await hasPromtool())) return ctx.skip();
    const { stdout } = await run('promtool', ['check', 'rules', ALERTS]);
    expect(stdout).toMatch(/SUCCESS: 8 rules found/);
  });

  it('promtool test rules: the alerts fire on the series they are meant for (skipped without promtool)', async (ctx) => {
    if (!(await hasPromtool())) return ctx.skip();
    const out = await run('promtool', ['test', 'rules', ALERT_TESTS]).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    expect(out.stdout).toMatch(/SUCCESS/);
    expect(out.stdout).not.toMatch(/FAILED/);
  });
});

/**
 * The one time unit in Redis: after a `run --once`-style pass (worker, leases, heartbeat, analytics, model
 * builds) every key under the test prefix is walked, and every timestamp chain-worker wrote is Unix
 * seconds. Vendor JSON (raw snapshot keys, `underlying_asset`, chain contracts) is left out: it is stored
 * as fetched. Published model JSON keeps its ISO strings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { redisTargets, type TestBus } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const SEC_MIN = 1e9;
const SEC_MAX = 1e10;

/** A field named like a timestamp: `ts`, `t`, `as_of`, `created_ts`, `last_ts:SPX`, `last_success_ts:NDX`… */
function isTimeName(name: string): boolean {
  if (/_ms(:|$)/.test(name)) return false;
  return /^(ts|t|as_of)$/.test(name) || /_ts(:|$)/.test(name) || /^as_of/.test(name);
}

/** Subtrees that are vendor JSON (stored untouched). */
const VENDOR = new Set(['underlying_asset', 'contracts', 'results']);

interface Finding {
  where: string;
  value: unknown;
}

/**
 * Walks a JSON value: every time-named field must be seconds (or an ISO string in model JSON), and no
 * number anywhere looks like epoch milliseconds (a timestamp under another name).
 */
function walkJson(
  v: unknown,
  where: string,
  out: Finding[],
  named: Finding[],
  checkAllNumbers: boolean,
): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => walkJson(x, `${where}[${i}]`, out, named, checkAllNumbers));
    return;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (VENDOR.has(k)) continue;
      const w = `${where}.${k}`;
      if (isTimeName(k) && x !== null) {
        named.push({ where: w, value: x });
        if (typeof x === 'number') {
          if (!(x >= SEC_MIN && x <= SEC_MAX)) out.push({ where: w, value: x });
        } else if (typeof x === 'string') {
          // A number as text must be seconds; otherwise only an ISO date-time is allowed.
          if (/^\d+(\.\d+)?$/.test(x)) {
            if (!(Number(x) >= SEC_MIN && Number(x) <= SEC_MAX)) out.push({ where: w, value: x });
          } else if (!/^\d{4}-\d\d-\d\dT/.test(x)) out.push({ where: w, value: x });
        } else out.push({ where: w, value: x });
      }
      walkJson(x, w, out, named, checkAllNumbers);
    }
    return;
  }
  // MarketSwarm's heatmap `version` is milliseconds by its contract (the only such field).
  if (checkAllNumbers && typeof v === 'number' && v >= 1e11 && v <= 1e14 && !where.endsWith('.version'))
    out.push({ where, value: v });
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

async function allKeys(bus: TestBus, prefix: string): Promise<string[]> {
  const clients = bus.isCluster
    ? (bus.conn as import('ioredis').Cluster).nodes('master')
    : [bus.conn as import('ioredis').Redis];
  const out: string[] = [];
  for (const c of clients) {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
  }
  return out.sort();
}

describe.each(redisTargets())('time unit on $name', (target) => {
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  afterEach(async () => {
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  it('every timestamp written to Redis after a cycle is Unix seconds (float, ms precision)', async () => {
    // With the model history on: its index is a ZSET scored by publish time and its rows carry times.
    h = await startHarness(target, {
      sim: { contractsPerExpiration: 40 },
      env: { CHAIN_MODEL_HISTORY_SEC: '172800' },
    });
    const hh = h;
    builder = new ModelBuilder({ ...hh, owner: 'b-time' });
    const b = builder;
    const worker = new ChainWorker(
      { ...hh.deps, systemBus: hh.bus, onDirty: async () => void (await b.drain()) },
      { once: true, id: 'w-time' },
    );
    expect(await worker.run()).toBe(EXIT.ok);
    await builder.drain();
    // History writes are queued past the build: wait for both symbols' GEX and heatmap rows.
    for (const model of ['gex', 'heatmap'] as const)
      for (const u of ['SPX', 'NDX'])
        await waitUntil(
          async () => (await hh.bus.conn.zcard(hh.keys.modelHistory(model, u))) > 0,
          20_000,
          `history of ${model} ${u}`,
        );

    const r = hh.bus.cmd;
    const keys = await allKeys(hh.bus, hh.prefix);
    const bad: Finding[] = [];
    const named: Finding[] = [];
    const seen = new Set<string>();
    for (const key of keys) {
      const name = key.slice(hh.prefix.length);
      const type = await r.type(key);
      seen.add(`${type}:${name.split(':').slice(0, 3).join(':')}`);
      if (name.startsWith('massive:chain:snapshot:')) continue; // vendor JSON, byte for byte
      // Models and the history's rows of them carry dollar figures that can look like ms: times by name only.
      const isModel = /^massive:models:|^massive:(gex|heatmap):model:|^massive:history:/.test(name);
      if (type === 'string') {
        const v = tryJson((await r.get(key)) ?? '');
        if (v !== undefined) walkJson(v, name, bad, named, !isModel);
      } else if (type === 'hash') {
        const h2 = await r.hgetall(key);
        for (const [f, v] of Object.entries(h2)) {
          if (isTimeName(f)) {
            named.push({ where: `${name}#${f}`, value: v });
            if (!(Number(v) >= SEC_MIN && Number(v) <= SEC_MAX))
              bad.push({ where: `${name}#${f}`, value: v });
          } else if (/^\d{11,14}(\.\d+)?$/.test(v))
            bad.push({ where: `${name}#${f} (looks like ms)`, value: v });
          else {
            const j = tryJson(v);
            if (j !== null && typeof j === 'object') walkJson(j, `${name}#${f}`, bad, named, true);
          }
        }
      } else if (type === 'zset') {
        const withScores = await hh.bus.conn.zrange(key, 0, -1, 'WITHSCORES');
        for (let i = 0; i < withScores.length; i += 2) {
          const member = withScores[i] as string;
          const score = Number(withScores[i + 1]);
          named.push({ where: `${name} score`, value: score });
          if (!(score >= SEC_MIN && score <= SEC_MAX)) bad.push({ where: `${name} score`, value: score });
          const m = tryJson(member);
          if (m !== undefined) walkJson(m, `${name} member`, bad, named, !isModel);
        }
      } else if (type === 'stream') {
        const entries = await hh.bus.conn.xrange(key, '-', '+');
        for (const [id, fields] of entries) {
          for (let i = 1; i < fields.length; i += 2) {
            const m = tryJson(fields[i] as string);
            if (m !== undefined) walkJson(m, `${name} ${id}`, bad, named, true);
          }
        }
      }
    }
    expect(bad).toEqual([]);
    // The walk really met the timestamps it is about.
    const where = named.map((n) => n.where.replace(hh.prefix, ''));
    for (const expected of [
      /^epoch:meta:.*#created_ts$/,
      /^epoch:meta:.*#last_refresh_ts$/,
      /^epoch:meta:.*#as_of$/,
      /^massive:heartbeat\.ts$/,
      /^massive:heartbeat\.last_cycle\.SPX\.ts$/,
      /^massive:chain:analytics#last_ts:SPX$/,
      /^massive:chain:analytics#last_success_ts:NDX$/,
      /^massive:chain:analytics:fetch_latency score$/,
      /^massive:chain:analytics:fetch_latency member\.t$/,
      /^massive:models:gex:SPX\.ts$/,
      /^massive:history:gex:SPX score$/,
    ]) {
      expect(
        where.some((w) => expected.test(w)),
        `${String(expected)} in ${[...new Set(where.filter((w) => !w.startsWith('epoch:') || w.startsWith('epoch:meta')))].join(', ')}`,
      ).toBe(true);
    }
    // And the values are now, not merely in range.
    const hb = JSON.parse((await r.get(hh.keys.heartbeat)) as string) as { ts: number };
    expect(Math.abs(hb.ts - Date.now() / 1000)).toBeLessThan(60);
    expect(String(hb.ts)).toMatch(/^\d{10}(\.\d{1,3})?$/);
  }, 60_000);
});

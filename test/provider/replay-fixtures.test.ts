/**
 * @module Shared fixtures, the OpenAPI shapes and replay: every fixture parses, the fixture recording is
 * served exactly as the vendor's examples, sim and replay responses match the spec, recordings round-trip.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASSIVE_FIXTURES_DIR } from '../../src/lib/repo-paths.js';
import type { RawContract } from '../../src/provider/massive/types.js';
import {
  runFixtureServer,
  runReplayServer,
  runSimServer,
  type ReplayServer,
} from '../../src/provider/local-api/run.js';
import { captureRecording } from '../../src/provider/replay/capture.js';
import { AAPL_CHAIN_FIXTURES, fixtureRecording } from '../../src/provider/replay/fixture-recording.js';
import {
  loadRecording,
  RecordingError,
  writeRecording,
  type Recording,
} from '../../src/provider/replay/recording.js';
import { ReplayDataset } from '../../src/provider/replay/replay-dataset.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';

const NOW = Date.UTC(2026, 0, 7, 15, 0);

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as T };
}
async function readJsonFile<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}
async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => join(e.parentPath, e.name));
}
const tickerOf = (c: RawContract): string => c.details?.ticker ?? '';
const byTicker = (a: RawContract, b: RawContract): number =>
  tickerOf(a) < tickerOf(b) ? -1 : tickerOf(a) > tickerOf(b) ? 1 : 0;

// ── A small OpenAPI schema check (type, required, enum, items, properties) ──────────────────────────────
interface Schema {
  type?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
}
/** Lists violations; paths use `[]` for array items. `allowMissing(path)` excuses a missing required field. */
function violations(
  schema: Schema,
  value: unknown,
  path: string,
  allowMissing: (path: string, parent: object) => boolean,
): string[] {
  const out: string[] = [];
  const t = schema.type;
  if (t === 'object' || schema.properties) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return [`${path}: expected object`];
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) {
      if (!(r in obj) && !allowMissing(`${path}.${r}`, obj)) out.push(`${path}.${r}: missing`);
    }
    for (const [k, sub] of Object.entries(schema.properties ?? {})) {
      if (k in obj) out.push(...violations(sub, obj[k], `${path}.${k}`, allowMissing));
    }
  } else if (t === 'array') {
    if (!Array.isArray(value)) return [`${path}: expected array`];
    for (const v of value) out.push(...violations(schema.items ?? {}, v, `${path}[]`, allowMissing));
  } else if (t === 'number' && typeof value !== 'number') out.push(`${path}: expected number`);
  else if (t === 'integer' && !Number.isInteger(value))
    out.push(`${path}: expected integer, got ${String(value)}`);
  else if (t === 'string' && typeof value !== 'string') out.push(`${path}: expected string`);
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: ${String(value)} not in enum`);
  return out;
}

interface Spec {
  paths: Record<
    string,
    { get: { responses: { '200': { content: { 'application/json': { schema: Schema } } } } } }
  >;
}
let spec: Spec;
const schemaOf = (path: string): Schema =>
  spec.paths[path]?.get.responses['200'].content['application/json'].schema ?? {};

/**
 * Documented departures of real responses from the spec's `required` lists: greeks `{}` deep in the money,
 * `day` `{}` for a contract that did not trade today, and index options without break-even fields.
 */
const INDEX_OPTION_GAPS = (path: string, parent: object): boolean =>
  /\.greeks\.(delta|gamma|theta|vega)$/.test(path) ||
  (/\.day\.\w+$/.test(path) && Object.keys(parent).length === 0) ||
  /\.break_even_price$/.test(path) ||
  /\.underlying_asset\.change_to_break_even$/.test(path);

beforeAll(async () => {
  spec = await readJsonFile<Spec>(join(MASSIVE_FIXTURES_DIR, 'openapi/massive-openapi.snapshot-subset.json'));
});

describe('shared fixtures', () => {
  it('every JSON file under the fixtures directory parses', async () => {
    const files = await jsonFiles(MASSIVE_FIXTURES_DIR);
    expect(files.length).toBeGreaterThanOrEqual(14);
    for (const f of files) {
      await expect(readJsonFile(f), relative(MASSIVE_FIXTURES_DIR, f)).resolves.toBeDefined();
    }
  });

  it('the fixture recording holds the AAPL chain results, deduplicated by ticker', async () => {
    const rec = fixtureRecording();
    const expected = new Map<string, RawContract>();
    for (const f of AAPL_CHAIN_FIXTURES) {
      const page = await readJsonFile<{ results: RawContract[] }>(join(MASSIVE_FIXTURES_DIR, f));
      for (const c of page.results) if (!expected.has(tickerOf(c))) expected.set(tickerOf(c), c);
    }
    expect(Object.keys(rec.underlyings)).toEqual(['AAPL']);
    expect(rec.underlyings.AAPL?.results).toEqual([...expected.values()]);
    expect(rec.underlyings.AAPL?.underlying_asset).toMatchObject({ ticker: 'AAPL', price: 159.9606 });
    expect(rec.recorded_at).toBe('2022-04-29T17:44:23.172Z');
  });
});

describe('the fixture recording served by the local API', () => {
  let server: ReplayServer;
  beforeAll(async () => {
    server = await runFixtureServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the chain exactly as the fixture files hold it', async () => {
    const python = await readJsonFile<{ results: RawContract[] }>(
      join(MASSIVE_FIXTURES_DIR, 'client-python/v3-snapshot-options-AAPL.chain.json'),
    );
    const { status, body } = await getJson<{ status: string; request_id: string; results: RawContract[] }>(
      `${server.url}/v3/snapshot/options/AAPL?limit=250`,
    );
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['request_id', 'results', 'status']);
    expect(body.results).toEqual([...(fixtureRecording().underlyings.AAPL?.results ?? [])].sort(byTicker));
    expect(body.results.find((c) => tickerOf(c) === 'O:AAPL230616C00150000')).toEqual(python.results[0]);
    expect(
      violations(schemaOf('/v3/snapshot/options/{underlyingAsset}'), body, '$', INDEX_OPTION_GAPS),
    ).toEqual([]);
  });

  it('serves the AAPL contract equal to the fixture result, and finds the malformed-ticker example', async () => {
    const python = await readJsonFile<{ results: RawContract[] }>(
      join(MASSIVE_FIXTURES_DIR, 'client-python/v3-snapshot-options-AAPL.chain.json'),
    );
    const one = await getJson<{ status: string; results: RawContract }>(
      `${server.url}/v3/snapshot/options/AAPL/O:AAPL230616C00150000`,
    );
    expect(one.status).toBe(200);
    expect(one.body.results).toEqual(python.results[0]);
    const odd = await getJson<{ results: RawContract }>(
      `${server.url}/v3/snapshot/options/AAPL/O:AAPL211022C000150000`,
    );
    expect(odd.body.results.details?.expiration_date).toBe('2022-01-21');
    expect(
      violations(
        schemaOf('/v3/snapshot/options/{underlyingAsset}/{optionContract}'),
        one.body,
        '$',
        () => false,
      ),
    ).toEqual([]);
  });

  it('pages the recording with cursors and filters it by expiration', async () => {
    const first = await getJson<{ results: RawContract[]; next_url?: string }>(
      `${server.url}/v3/snapshot/options/AAPL?limit=2`,
    );
    expect(first.body.results).toHaveLength(2);
    const second = await getJson<{ results: RawContract[]; next_url?: string }>(first.body.next_url ?? '');
    expect(second.body.results).toHaveLength(1);
    expect(second.body.next_url).toBeUndefined();
    const jun = await getJson<{ results: RawContract[] }>(
      `${server.url}/v3/snapshot/options/AAPL?expiration_date=2023-06-16`,
    );
    expect(jun.body.results.map(tickerOf)).toEqual(['O:AAPL230616C00150000']);
  });
});

describe('the simulated market matches the vendor shapes', () => {
  it('chain, contract and indices responses satisfy the OpenAPI schemas (with the documented gaps)', async () => {
    const server = await runSimServer({ clock: () => NOW, burst: true });
    try {
      const chain = await getJson<{ results: RawContract[] }>(
        `${server.url}/v3/snapshot/options/I:SPX?expiration_date=2026-01-07&limit=250&sort=strike_price`,
      );
      expect(chain.body.results).toHaveLength(250);
      expect(
        violations(schemaOf('/v3/snapshot/options/{underlyingAsset}'), chain.body, '$', INDEX_OPTION_GAPS),
      ).toEqual([]);
      const t = tickerOf(chain.body.results[100] ?? {});
      const one = await getJson<unknown>(`${server.url}/v3/snapshot/options/I:SPX/${t}`);
      expect(
        violations(
          schemaOf('/v3/snapshot/options/{underlyingAsset}/{optionContract}'),
          one.body,
          '$',
          INDEX_OPTION_GAPS,
        ),
      ).toEqual([]);
      const idx = await getJson<unknown>(`${server.url}/v3/snapshot/indices?ticker.any_of=I:SPX,I:NDX,X`);
      expect(violations(schemaOf('/v3/snapshot/indices'), idx.body, '$', () => false)).toEqual([]);
      // Every sim field name is one the vendor uses (fixture or spec).
      const fixture = (
        await readJsonFile<{ results: RawContract[] }>(
          join(MASSIVE_FIXTURES_DIR, 'client-python/v3-snapshot-options-AAPL.chain.json'),
        )
      ).results[0] as RawContract;
      const specItem =
        schemaOf('/v3/snapshot/options/{underlyingAsset}').properties?.results?.items?.properties ?? {};
      for (const c of chain.body.results) {
        for (const [k, v] of Object.entries(c)) {
          expect(k in fixture || k in specItem, k).toBe(true);
          if (v && typeof v === 'object' && !Array.isArray(v)) {
            const allowed = new Set([
              ...Object.keys((fixture[k] as object | undefined) ?? {}),
              ...Object.keys(specItem[k]?.properties ?? {}),
            ]);
            for (const sub of Object.keys(v)) expect(allowed.has(sub), `${k}.${sub}`).toBe(true);
          }
        }
        expect(c.details?.exercise_style).toBe('european');
        expect(c.underlying_asset).toMatchObject({ ticker: 'I:SPX', timeframe: 'REAL-TIME' });
        expect(c.underlying_asset?.price).toBeUndefined();
      }
    } finally {
      await server.close();
    }
  });
});

describe('recordings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chain-worker-replay-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trip a simulated snapshot: replay serves what the simulator served', async () => {
    const market = new SimMarket({ clock: () => NOW, contractsPerExpiration: 40, seed: 8 });
    const file = join(dir, 'sim.json');
    await writeRecording(file, captureRecording(market));
    const server = await runReplayServer({ file, apiKey: 'k' });
    try {
      const ds = server.replay;
      expect(ds.now()).toBe(NOW);
      expect(ds.generation()).toBe(ds.generation());
      expect(ds.underlyings()).toEqual(['I:SPX', 'I:NDX']);
      expect(ds.expirations('I:SPX')).toEqual(market.expirations('I:SPX', NOW));
      expect(ds.indexValue('I:NDX')).toBe(market.indexValue('I:NDX', NOW));
      const results: RawContract[] = [];
      let url: string | undefined =
        `${server.url}/v3/snapshot/options/I:SPX?expiration_date=2026-01-16&limit=30&apiKey=k`;
      while (url) {
        const res = await request(url, { headers: { authorization: 'Bearer k' } });
        const page = (await res.body.json()) as { results: RawContract[]; next_url?: string };
        results.push(...page.results);
        url = page.next_url;
      }
      expect(results).toEqual([...(market.chain('I:SPX', NOW, '2026-01-16')?.results ?? [])].sort(byTicker));
      const idx = await getJson<{ results: Array<{ value: number }> }>(
        `${server.url}/v3/snapshot/indices?ticker=I:SPX&apiKey=k`,
      );
      expect(idx.body.results[0]?.value).toBe(market.indexValue('I:SPX', NOW));
    } finally {
      await server.close();
    }
  });

  it('loadRecording names the file and the problem', async () => {
    const write = async (name: string, content: string) => {
      const p = join(dir, name);
      await writeFile(p, content);
      return p;
    };
    const missing = join(dir, 'nope.json');
    await expect(loadRecording(missing)).rejects.toThrow(RecordingError);
    await expect(loadRecording(missing)).rejects.toThrow(`Cannot read recording ${missing}`);
    const notJson = await write('bad.json', '{"recorded_at": ');
    await expect(loadRecording(notJson)).rejects.toThrow(/bad\.json is not valid JSON/);
    const base = {
      recorded_at: '2026-01-07T15:00:00Z',
      underlyings: { 'I:SPX': { underlying_asset: { value: 1 }, results: [] as unknown[] } },
    };
    const noTicker = await write(
      'no-ticker.json',
      JSON.stringify({
        ...base,
        underlyings: { 'I:SPX': { underlying_asset: {}, results: [{ details: {} }] } },
      }),
    );
    await expect(loadRecording(noTicker)).rejects.toThrow(
      /no-ticker\.json[\s\S]*details\.ticker string[\s\S]*underlyings\["I:SPX"\]\.results\[0\]\.details\.ticker/,
    );
    const noExpiry = await write(
      'no-exp.json',
      JSON.stringify({
        ...base,
        underlyings: { 'I:SPX': { underlying_asset: {}, results: [{ details: { ticker: 'X' } }] } },
      }),
    );
    await expect(loadRecording(noExpiry)).rejects.toThrow(/no expiration/);
    const badDate = await write('bad-date.json', JSON.stringify({ ...base, recorded_at: 'yesterday' }));
    await expect(loadRecording(badDate)).rejects.toThrow(/recorded_at/);
    const badGreek = await write(
      'bad-greek.json',
      JSON.stringify({
        ...base,
        underlyings: {
          'I:SPX': {
            underlying_asset: {},
            results: [{ details: { ticker: 'O:SPXW260107C06850000' }, greeks: { delta: 'high' } }],
          },
        },
      }),
    );
    await expect(loadRecording(badGreek)).rejects.toThrow(/greeks\.delta/);
    const ok = await write('ok.json', JSON.stringify(base));
    await expect(loadRecording(ok)).resolves.toMatchObject({ recorded_at: base.recorded_at });
    const invalid: Recording = { recorded_at: 'x', underlyings: {} };
    await expect(writeRecording(join(dir, 'w.json'), invalid)).rejects.toThrow(RecordingError);
  });

  it('ReplayDataset answers unknown underlyings with null / empty', () => {
    const ds = new ReplayDataset(fixtureRecording());
    expect(ds.chain('I:SPX', ds.now())).toBeNull();
    expect(ds.expirations('I:SPX')).toEqual([]);
    expect(ds.indexValue('I:SPX')).toBeNull();
    expect(ds.indexValue('AAPL')).toBe(159.9606);
    expect(ds.expirations('AAPL')).toEqual(['2022-01-21', '2023-01-06', '2023-06-16']);
    expect(ds.chain('AAPL', ds.now(), '2030-01-01')?.results).toEqual([]);
  });
});

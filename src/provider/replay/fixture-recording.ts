/**
 * @module A recording assembled from the shared Massive fixtures (real example responses): the AAPL chain
 * results, deduplicated by ticker, so the local API can serve exactly what the vendor's examples show.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MASSIVE_FIXTURES_DIR } from '../../lib/repo-paths.js';
import type { RawContract } from '../massive/types.js';
import { parseRecording, type Recording } from './recording.js';

/** The AAPL chain fixtures, in precedence order (the first occurrence of a ticker wins). */
export const AAPL_CHAIN_FIXTURES = [
  'client-python/v3-snapshot-options-AAPL.chain.json',
  'client-go/v3-snapshot-options-AAPL.chain-page1-with-next_url.json',
  'openapi-examples/options-chain.200.example.json',
] as const;

function readJson(dir: string, file: string): unknown {
  return JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as unknown;
}

/**
 * The fixture recording: `{ AAPL: { underlying_asset, results } }` with `recorded_at` taken from the first
 * result's `underlying_asset.last_updated` (ns). Note the OpenAPI example's ticker `O:AAPL211022C000150000`
 * is malformed (9 strike digits) as published: it stays in, as a contract a client must cope with.
 */
export function fixtureRecording(dir: string = MASSIVE_FIXTURES_DIR): Recording {
  const byTicker = new Map<string, RawContract>();
  for (const file of AAPL_CHAIN_FIXTURES) {
    const page = readJson(dir, file) as { results?: RawContract[] };
    for (const c of page.results ?? []) {
      const ticker = c.details?.ticker;
      if (typeof ticker === 'string' && !byTicker.has(ticker)) byTicker.set(ticker, c);
    }
  }
  const results = [...byTicker.values()];
  const asset = results[0]?.underlying_asset ?? { ticker: 'AAPL' };
  const recordedAtMs = asset.last_updated !== undefined ? Math.floor(asset.last_updated / 1e6) : 0;
  return parseRecording(
    {
      recorded_at: new Date(recordedAtMs).toISOString(),
      underlyings: { AAPL: { underlying_asset: asset, results } },
    },
    `fixtures in ${dir}`,
  );
}

/**
 * The substrate array read back from pre-encoded page writes (wiring/encoded-substrates.ts) is the JSON
 * array of the normalizer's records, byte for byte, for chains around the slice boundary and over several
 * pages; its locating and copying give the event loop turns between slices.
 */
import { describe, expect, it } from 'vitest';
import { normalizeContract } from '../../src/normalizers/contract-normalizer.js';
import type { ParsedContract } from '../../src/provider/massive/types.js';
import { encodedSubstrateArray } from '../../src/wiring/encoded-substrates.js';
import { encodePageWrites, type EncodedRef, type PageWrites } from '../../src/wiring/page-writes.js';
import { turnsDuring } from '../support/turns.js';

const asOf = Date.parse('2026-01-07T15:00:00Z');

function contract(i: number): ParsedContract {
  const strike = 4000 + (i % 400) * 5;
  const type = i % 2 === 0 ? 'C' : 'P';
  return {
    ticker: `O:SPXW260107${type}${String(strike * 1000).padStart(8, '0')}`,
    root: 'SPXW',
    expiration: '2026-01-07',
    type,
    strike,
    fields: {
      bid: i % 11 === 0 ? -1 : 1 + (i % 7), // some negative prices: rejected, not in the array
      ask: 2 + (i % 7),
      midpoint: undefined,
      last: undefined,
      delta: 0.5,
      gamma: i % 3 === 0 ? undefined : 0.01,
      theta: undefined,
      vega: undefined,
      iv: 0.2,
      oi: i,
      volume: undefined,
      ts: null,
    },
  };
}

/** `n` contracts in pages of `pageSize`: the refs of the accepted ones, and their records' JSON array. */
function encodedChain(n: number, pageSize: number): { refs: EncodedRef[]; expected: string } {
  const refs: EncodedRef[] = [];
  const records: string[] = [];
  for (let p = 0; p * pageSize < n; p++) {
    const page = Array.from({ length: Math.min(pageSize, n - p * pageSize) }, (_, k) =>
      contract(p * pageSize + k),
    );
    const writes = encodePageWrites(page, (k) => Buffer.from(`{"n":${p * pageSize + k}}`), {
      prefix: '',
      underlying: 'SPX',
      asOfMs: asOf,
      snapshotSec: 60,
      substrateSec: 120,
    }) as PageWrites & { bytes: Buffer };
    page.forEach((c, index) => {
      const res = normalizeContract(c, { underlying: 'SPX', asOf });
      if (!res.ok) return;
      refs.push({ writes, index });
      records.push(JSON.stringify(res.record));
    });
  }
  return { refs, expected: `[${records.join(',')}]` };
}

describe('encodedSubstrateArray', () => {
  it.each([
    [0, 250],
    [1, 250],
    [999, 250],
    [1_100, 250],
    [2_600, 250],
    [2_600, 2_600],
  ])('%i contracts in pages of %i: the records as one JSON array', async (n, pageSize) => {
    const { refs, expected } = encodedChain(n, pageSize);
    const out = await encodedSubstrateArray(refs, (r) => r);
    expect(Buffer.from(out as Uint8Array).toString()).toBe(expected);
    expect(JSON.parse(expected)).toHaveLength(refs.length);
  });

  it('is null when a contract has no encoded writes', async () => {
    const { refs } = encodedChain(10, 250);
    expect(await encodedSubstrateArray([...refs, undefined], (r) => r)).toBeNull();
  });

  it('gives the event loop turns while locating and while copying', async () => {
    const { refs } = encodedChain(5_000, 250);
    const immediates = await turnsDuring(() => encodedSubstrateArray(refs, (r) => r));
    // 4,545 accepted contracts: 5 slices of 1,000 locating, 5 copying; the other callback ran between them.
    expect(refs).toHaveLength(4_545);
    expect(immediates).toBeGreaterThanOrEqual(2 * 4);
  });
});

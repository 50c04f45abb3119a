import { brotliCompressSync, brotliDecompressSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ContractIndexError,
  decodeContractIndex,
  encodeContractIndex,
} from '../../src/wiring/contract-index.js';

/** A burst-sized index: 5 dates × 2,000 strikes × call/put, in chain order. */
function burstIds(): string[] {
  const ids: string[] = [];
  for (const date of ['261201', '261202', '261203', '261204', '261207'])
    for (let k = 2000; k < 12000; k += 5)
      for (const t of ['C', 'P']) ids.push(`O:SPXW${date}${t}${String(k * 1000).padStart(8, '0')}`);
  return ids;
}

describe('contract index encoding', () => {
  it.each([
    ['empty', [] as string[]],
    ['one id', ['O:SPXW260107C06850000']],
    [
      'AM and PM roots, order kept',
      ['O:SPX260116P06852500', 'O:SPXW260116P06852500', 'O:NDXP260116C21000000'],
    ],
    ['burst', burstIds()],
  ])('%s: Brotli of the newline-joined ids, decoded back in order', async (_name, ids) => {
    const packed = await encodeContractIndex(ids);
    expect(brotliDecompressSync(packed).toString('utf8')).toBe(ids.join('\n'));
    expect(await decodeContractIndex(packed)).toEqual(ids);
  });

  it('a burst index is under a byte per contract (zlib: ~2.6, a JSON array: 24)', async () => {
    const ids = burstIds();
    const packed = await encodeContractIndex(ids);
    const text = Buffer.from(ids.join('\n'));
    expect(JSON.stringify(ids).length / ids.length).toBeGreaterThan(23);
    expect(deflateSync(text).length / ids.length).toBeGreaterThan(1.5);
    expect(packed.length / ids.length).toBeLessThan(1);
  });

  it.each([
    ['empty', [] as string[]],
    ['burst', burstIds()],
  ])('reads a zlib index the versions before Brotli wrote (%s)', async (_name, ids) => {
    const zlib = deflateSync(Buffer.from(ids.join('\n')));
    expect(zlib[0]).toBe(0x78);
    expect(await decodeContractIndex(zlib)).toEqual(ids);
  });

  it('reads an index an earlier version wrote as a JSON array', async () => {
    const ids = ['O:SPXW260107C06850000', 'O:SPX260116P06852500'];
    expect(await decodeContractIndex(Buffer.from(JSON.stringify(ids)))).toEqual(ids);
    expect(await decodeContractIndex(Buffer.from('[]'))).toEqual([]);
  });

  it.each([
    ['not JSON, not zlib', Buffer.from('{not json')],
    ['a JSON array of numbers', Buffer.from('[1,2]')],
    [
      'truncated zlib',
      deflateSync(Buffer.from('O:SPXW260107C06850000\nO:SPX260116P06852500')).subarray(0, 6),
    ],
    ['truncated Brotli', brotliCompressSync(Buffer.from(burstIds().join('\n'))).subarray(0, 40)],
    ['a "[" that is neither JSON nor Brotli', Buffer.from('[O:SPXW260107C06850000')],
  ])('refuses %s with a ContractIndexError', async (_name, raw) => {
    await expect(decodeContractIndex(raw)).rejects.toBeInstanceOf(ContractIndexError);
  });
});

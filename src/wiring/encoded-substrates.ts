/**
 * @module The substrate JSON inside a page's pre-encoded writes (wiring/page-writes.ts), read back without
 * normalizing or stringifying again: for the in-process model builder (models/substrate-handoff.ts). Pure.
 */
import { inSlices } from '../lib/slices.js';
import { WRITE_STRIDE, type EncodedRef } from './page-writes.js';

const CR = 0x0d;

/**
 * The substrate JSON of an accepted contract: the value of its `SET epoch:{id}:contract:{ticker} {json}`
 * command (a view of the page's bytes, not a copy). After the epoch id placeholder come the rest of the
 * key, `\r\n$`, the value's length, `\r\n`, the value.
 */
export function encodedSubstrate(ref: EncodedRef): Buffer {
  const { bytes, offsets } = ref.writes;
  let p = offsets[ref.index * WRITE_STRIDE + 2] as number;
  while (bytes[p] !== CR) p++;
  p += 3;
  let length = 0;
  for (let b = bytes[p] as number; b !== CR; b = bytes[++p] as number) length = length * 10 + (b - 0x30);
  p += 2;
  return (bytes as Buffer).subarray(p, p + length);
}

/**
 * The substrates of `written` (in order) as one JSON array, `[a,b,…]`, in a fresh buffer of its own (it can
 * be transferred to the model thread): the bytes `joinJsonArray` makes of the same keys read from Redis.
 * Null when a contract has no encoded writes. Runs in slices (1,000 contracts per turn of the event loop).
 */
export async function encodedSubstrateArray<T>(
  written: readonly T[],
  encodedOf: (w: T) => EncodedRef | undefined,
): Promise<Uint8Array | null> {
  const parts: Buffer[] = new Array<Buffer>(written.length);
  let size = 2 + Math.max(0, written.length - 1);
  let complete = true;
  await inSlices(written.length, (start, end) => {
    for (let i = start; i < end && complete; i++) {
      const ref = encodedOf(written[i] as T);
      if (ref === undefined) complete = false;
      else {
        const part = encodedSubstrate(ref);
        parts[i] = part;
        size += part.length;
      }
    }
  });
  if (!complete) return null;
  const out = Buffer.allocUnsafeSlow(size);
  let o = 0;
  out[o++] = 0x5b;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[o++] = 0x2c;
    o += (parts[i] as Buffer).copy(out, o);
  }
  out[o] = 0x5d;
  return out;
}

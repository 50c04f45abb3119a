/**
 * @module The substrate JSON inside a page's pre-encoded writes (wiring/page-writes.ts), read back without
 * normalizing or stringifying again: for the in-process model builder (models/substrate-handoff.ts). Pure.
 */
import { inSlices } from '../lib/slices.js';
import { WRITE_STRIDE, type EncodedRef } from './page-writes.js';

const CR = 0x0d;

/**
 * Where the substrate JSON of an accepted contract sits in its page's bytes: the value of its
 * `SET epoch:{id}:contract:{ticker} {json}` command. After the epoch id placeholder come the rest of the
 * key, `\r\n$`, the value's length, `\r\n`, the value. Returns the value's start; its length in `out[0]`.
 */
function substrateAt(bytes: Uint8Array, placeholderAt: number, out: Uint32Array): number {
  let p = placeholderAt;
  while (bytes[p] !== CR) p++;
  p += 3;
  let length = 0;
  for (let b = bytes[p] as number; b !== CR; b = bytes[++p] as number) length = length * 10 + (b - 0x30);
  out[0] = length;
  return p + 2;
}

/** The substrate JSON of an accepted contract (a view of its page's bytes, not a copy). */
export function encodedSubstrate(ref: EncodedRef): Buffer {
  const len = new Uint32Array(1);
  const start = substrateAt(
    ref.writes.bytes,
    ref.writes.offsets[ref.index * WRITE_STRIDE + 2] as number,
    len,
  );
  return (ref.writes.bytes as Buffer).subarray(start, start + (len[0] as number));
}

/**
 * The substrates of `written` (in order) as one JSON array, `[a,b,…]`, in a fresh buffer of its own (it can
 * be transferred to the model thread): the bytes `joinJsonArray` makes of the same keys read from Redis.
 * Null when a contract has no encoded writes. Locating and copying them run in slices (1,000 contracts per
 * turn of the event loop); nothing is allocated per contract.
 */
export async function encodedSubstrateArray<T>(
  written: readonly T[],
  encodedOf: (w: T) => EncodedRef | undefined,
): Promise<Uint8Array | null> {
  const n = written.length;
  const s: ArrayState = {
    refs: new Array<EncodedRef>(n),
    starts: new Uint32Array(n),
    lengths: new Uint32Array(n),
    len: new Uint32Array(1),
    size: 2 + Math.max(0, n - 1),
    complete: true,
    out: EMPTY,
    o: 0,
  };
  await inSlices(n, (start, end) => locateSlice(s, written, encodedOf, start, end));
  if (!s.complete) return null;
  s.out = Buffer.allocUnsafeSlow(s.size);
  s.out[s.o++] = 0x5b;
  // The copy in slices too: ~10 MB at 20,000 contracts held the loop 15–25 ms in one turn.
  await inSlices(n, (start, end) => copySlice(s, start, end));
  s.out[s.o] = 0x5d;
  return s.out;
}

const EMPTY = Buffer.alloc(0);

/** {@link encodedSubstrateArray}'s work in progress. */
interface ArrayState {
  refs: EncodedRef[];
  starts: Uint32Array;
  lengths: Uint32Array;
  len: Uint32Array;
  size: number;
  complete: boolean;
  out: Buffer;
  o: number;
}

// The slices' loops as module-level functions, not closures made per call: a closure's optimized code
// does not outlive the call, and every cycle compiled these loops again (lib/shape-anchors.ts).
function locateSlice<T>(
  s: ArrayState,
  written: readonly T[],
  encodedOf: (w: T) => EncodedRef | undefined,
  start: number,
  end: number,
): void {
  for (let i = start; i < end && s.complete; i++) {
    const ref = encodedOf(written[i] as T);
    if (ref === undefined) {
      s.complete = false;
      return;
    }
    s.refs[i] = ref;
    s.starts[i] = substrateAt(
      ref.writes.bytes,
      ref.writes.offsets[ref.index * WRITE_STRIDE + 2] as number,
      s.len,
    );
    s.lengths[i] = s.len[0] as number;
    s.size += s.len[0] as number;
  }
}

function copySlice(s: ArrayState, start: number, end: number): void {
  const { out, starts, lengths, refs } = s;
  let o = s.o;
  for (let i = start; i < end; i++) {
    if (i > 0) out[o++] = 0x2c;
    const from = starts[i] as number;
    o += (refs[i] as EncodedRef).writes.bytes.copy(out, o, from, from + (lengths[i] as number));
  }
  s.o = o;
}

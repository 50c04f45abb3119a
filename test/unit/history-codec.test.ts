/**
 * The history codec: structural patches give back the new version byte for byte (key order included),
 * records round-trip through brotli, a chain rebuilds the published bytes, and the encoder's keyframe rules.
 */
import { describe, expect, it } from 'vitest';
import { applyPatch, diff, type Json } from '../../src/outputs/history/patch.js';
import { decodeRecord, encodeKeyframe, encodePatch, reconstruct } from '../../src/outputs/history/record.js';
import { HistoryEncoder, KEYFRAME_EVERY, KEYFRAME_MAX_AGE_SEC } from '../../src/outputs/history/encoder.js';

/** Applies diff(prev, next) to a fresh parse of prev and returns the JSON text. */
function roundTrip(prev: Json, next: Json): string {
  const patch = diff(prev, next);
  const target = JSON.parse(JSON.stringify(prev)) as Json;
  return JSON.stringify(applyPatch(target, JSON.parse(JSON.stringify(patch)) as typeof patch));
}

describe('history patches', () => {
  it.each<[string, Json, Json]>([
    ['same scalar', 1, 1],
    ['number change', 1, 2.5],
    ['type change', { a: 1 }, [1]],
    ['null to object', null, { a: 1 }],
    ['a member changes', { a: 1, b: 2 }, { a: 1, b: 3 }],
    ['a member is removed', { a: 1, b: 2, c: 3 }, { a: 1, c: 3 }],
    ['a member is added last', { a: 1 }, { a: 1, b: 2 }],
    ['a member is added first (order kept: whole object)', { b: 1 }, { a: 0, b: 1 }],
    ['same keys, new order', { a: 1, b: 2 }, { b: 2, a: 1 }],
    ['integer-like keys added in the middle', { '6850': 1, '6900': 2 }, { '6850': 1, '6875': 3, '6900': 2 }],
    [
      'non-integer strike key added in the middle',
      { '6850': 1, '6850.5': 2 },
      { '6850': 1, '6850.25': 9, '6850.5': 2 },
    ],
    ['array same length', [1, 2, 3], [1, 5, 3]],
    ['array grows', [1, 2], [1, 2, 3]],
    [
      'array of rows',
      [
        { s: 1, v: 2 },
        { s: 2, v: 3 },
      ],
      [
        { s: 1, v: 2 },
        { s: 2, v: 4 },
      ],
    ],
    ['nested deep change', { x: { y: { z: [1, { w: 'a' }] } } }, { x: { y: { z: [1, { w: 'b' }] } } }],
    [
      '__proto__ as a data key',
      JSON.parse('{"__proto__":1,"a":2}') as Json,
      JSON.parse('{"__proto__":3,"a":2}') as Json,
    ],
    ['strings with escapes', { d: 'BUY 1 "x"\n' }, { d: 'SELL \u2028 é' }],
    ['negative zero stays JSON zero', { v: 0 }, { v: -0 }],
    [
      'table: numeric columns as deltas',
      [
        { k: 1, v: 0.1 },
        { k: 2, v: 123456789.12 },
      ],
      [
        { k: 1, v: 0.3 },
        { k: 2, v: -5.5 },
      ],
    ],
    [
      'table: a column of mixed types',
      [
        { k: 1, v: 'a' },
        { k: 2, v: null },
      ],
      [
        { k: 1, v: 2 },
        { k: 2, v: [1] },
      ],
    ],
    [
      'table: numbers an integer delta cannot carry',
      [{ v: 1e-7 }, { v: 1e300 }],
      [{ v: 2e-7 }, { v: 0.1 + 0.2 }],
    ],
    [
      'table: rows whose keys differ',
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [
        { a: 1, b: 3 },
        { b: 2, a: 5 },
      ],
    ],
    ['table: keys change', [{ a: 1 }, { a: 2 }], [{ b: 1 }, { b: 2 }]],
    [
      'string edit in the middle',
      { d: 'BUY 1 SPXW 07JAN26 6495/6515/6535 CALL BUTTERFLY @ 0.05 CREDIT' },
      { d: 'BUY 1 SPXW 07JAN26 6495/6515/6535 CALL BUTTERFLY @ 0.00 EVEN' },
    ],
    [
      'string edit next to a surrogate pair',
      { d: 'prefix-long-😀-x-suffix-long' },
      { d: 'prefix-long-😁-x-suffix-long' },
    ],
  ])('%s: the patch rebuilds the new JSON exactly', (_, prev, next) => {
    expect(roundTrip(prev, next)).toBe(JSON.stringify(next));
  });

  it('a table patch carries changed columns only, numbers as integer deltas', () => {
    const prev = [
      { strike: 6850, net: 1234.56, vanna: 0 },
      { strike: 6875, net: 0, vanna: 0 },
    ];
    const next = [
      { strike: 6850, net: 1235.01, vanna: 0 },
      { strike: 6875, net: 0, vanna: 0 },
    ];
    expect(diff(prev, next)).toEqual({ c: { net: { n: [2, [45, 0]] } } });
  });

  it('a description whose price changed is an edit of its end', () => {
    const d = diff(
      'BUY 1 SPXW 07JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.40 DEBIT',
      'BUY 1 SPXW 07JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.45 DEBIT',
    );
    expect(d).toEqual({ s: [54, 6, '5'] });
  });

  it('a patch of two versions differing in one tile value carries only that value', () => {
    const tile = (v: number) => ({
      value: v,
      legs: [{ strike: 6850, type: 'C', qty: 1 }],
      description: `@ ${v}`,
    });
    const prev = {
      ts: 't1',
      expirations: { '2026-01-07': { single: { '6850': { call: tile(1.2) }, '6875': { call: tile(0.5) } } } },
    };
    const next = {
      ts: 't2',
      expirations: {
        '2026-01-07': { single: { '6850': { call: tile(1.25) }, '6875': { call: tile(0.5) } } },
      },
    };
    expect(diff(prev, next)).toEqual({
      o: {
        ts: ['t2'],
        expirations: {
          o: {
            '2026-01-07': {
              o: {
                single: { o: { '6850': { o: { call: { o: { value: [1.25], description: ['@ 1.25'] } } } } } },
              },
            },
          },
        },
      },
    });
    expect(diff(prev, prev)).toBeNull();
  });
});

describe('history records', () => {
  it('a keyframe gives back the stored bytes; a chain of patches the last version', () => {
    const v1 = { ts: 'a', rows: [{ s: 1, n: 2 }], m: { '1': 1 } };
    const v2 = { ts: 'b', rows: [{ s: 1, n: 3 }], m: { '1': 1, '2': 2 } };
    const v3 = {
      ts: 'c',
      rows: [
        { s: 1, n: 3 },
        { s: 2, n: 0 },
      ],
      m: { '2': 2 },
    };
    const b1 = Buffer.from(JSON.stringify(v1));
    const k = encodeKeyframe(b1);
    expect(decodeRecord(k)).toMatchObject({ kind: 'keyframe', chain: [] });
    expect(reconstruct([k]).equals(b1)).toBe(true);
    const p2 = encodePatch(['v1'], JSON.stringify(diff(v1, v2)));
    const p3 = encodePatch(['v1', 'v2'], JSON.stringify(diff(v2, v3)));
    expect(decodeRecord(p3)).toMatchObject({ kind: 'patch', chain: ['v1', 'v2'] });
    expect(reconstruct([k, p2]).toString()).toBe(JSON.stringify(v2));
    expect(reconstruct([k, p2, p3]).toString()).toBe(JSON.stringify(v3));
  });

  it.each([
    ['no magic', Buffer.from('{"a":1}')],
    ['too short', Buffer.from('CWH')],
  ])('refuses a record with %s', (_, rec) => {
    expect(() => decodeRecord(rec)).toThrow(/history record/);
  });

  it('refuses a chain that does not start at a keyframe', () => {
    expect(() => reconstruct([encodePatch(['x'], 'null')])).toThrow(/keyframe/);
  });
});

describe('history encoder', () => {
  const doc = (i: number): Uint8Array =>
    new TextEncoder().encode(
      JSON.stringify({ ts: `t${i}`, totals: { net: i }, by_strike: [{ strike: 1, net: i }] }),
    );

  it('keyframe first, then patches; a keyframe every KEYFRAME_EVERY versions; each record rebuilds its version', () => {
    const enc = new HistoryEncoder();
    const records = new Map<string, Buffer>();
    const kinds: string[] = [];
    const t0 = 1_767_800_000_000;
    for (let i = 0; i < KEYFRAME_EVERY + 2; i++) {
      const res = enc.encode({
        stream: 'gex:SPX',
        id: `v${i}`,
        tsMs: t0 + i * 30_000,
        published: doc(i),
        gex: true,
      });
      records.set(res.id, Buffer.from(res.record));
      kinds.push(res.kind === 'keyframe' ? `K:${res.keyframeReason}` : 'P');
      expect(res.values).toMatchObject({ net: i });
      const { chain } = decodeRecord(Buffer.from(res.record));
      const rebuilt = reconstruct([...chain.map((c) => records.get(c) as Buffer), Buffer.from(res.record)]);
      expect(rebuilt.toString()).toBe(new TextDecoder().decode(doc(i)));
    }
    expect(kinds[0]).toBe('K:first');
    expect(kinds.slice(1, KEYFRAME_EVERY)).toEqual(Array(KEYFRAME_EVERY - 1).fill('P'));
    expect(kinds[KEYFRAME_EVERY]).toBe('K:every');
    expect(kinds[KEYFRAME_EVERY + 1]).toBe('P');
  });

  it('a keyframe after KEYFRAME_MAX_AGE_SEC, after a reset, and per stream', () => {
    const enc = new HistoryEncoder();
    const t0 = 1_767_800_000_000;
    const kind = (stream: string, i: number, ts: number) =>
      enc.encode({ stream, id: `${stream}${i}`, tsMs: ts, published: doc(i), gex: false });
    expect(kind('a', 0, t0).kind).toBe('keyframe');
    expect(kind('b', 0, t0).kind).toBe('keyframe');
    expect(kind('a', 1, t0 + 1000).kind).toBe('values');
    expect(kind('a', 2, t0 + KEYFRAME_MAX_AGE_SEC * 1000).keyframeReason).toBe('age');
    enc.reset('a');
    expect(kind('a', 3, t0 + KEYFRAME_MAX_AGE_SEC * 1000 + 1).keyframeReason).toBe('first');
    expect(kind('b', 1, t0 + 1000).kind).toBe('values');
  });

  it('a version whose bytes a parse and stringify do not give back is still kept byte for byte', () => {
    const enc = new HistoryEncoder();
    const first = enc.encode({ stream: 's', id: 'a', tsMs: 1, published: doc(1), gex: false });
    // Spaces and a number spelled 1.50: JSON.stringify would write neither (a values patch of the text).
    const odd = Buffer.from('{"ts": "t2", "totals": {"net": 1.50}}');
    const res = enc.encode({ stream: 's', id: 'b', tsMs: 2, published: new Uint8Array(odd), gex: false });
    expect(reconstruct([Buffer.from(first.record), Buffer.from(res.record)]).equals(odd)).toBe(true);
  });

  it('versions that part outside any container fall back to a structural patch, or a keyframe', () => {
    const enc = new HistoryEncoder();
    const text = (v: string): Uint8Array => new TextEncoder().encode(v);
    enc.encode({ stream: 's', id: 'a', tsMs: 1, published: text('1'), gex: false });
    const res = enc.encode({ stream: 's', id: 'b', tsMs: 2, published: text('[1]'), gex: false });
    expect(res.kind).toBe('patch');
    // A leading space: the structural patch's stringify cannot give it back.
    const odd = enc.encode({ stream: 's', id: 'c', tsMs: 3, published: text(' 2'), gex: false });
    expect(odd).toMatchObject({ kind: 'keyframe', keyframeReason: 'mismatch' });
  });

  it('a version over the limit is not kept, and its stream starts again with a keyframe', () => {
    const text = (v: string): Uint8Array => new TextEncoder().encode(v);
    const limit = doc(1).byteLength + 10;
    const enc = new HistoryEncoder(limit);
    const over = text(`[${'1,'.repeat(60)}1]`);
    expect(over.byteLength).toBeGreaterThan(limit);
    expect(enc.encode({ stream: 's', id: 'a', tsMs: 1, published: doc(1), gex: false }).kind).toBe(
      'keyframe',
    );
    expect(() => enc.encode({ stream: 's', id: 'b', tsMs: 2, published: over, gex: false })).toThrow(
      `a version of ${over.byteLength} bytes is over the history's ${limit}: not kept`,
    );
    expect(enc.encode({ stream: 's', id: 'c', tsMs: 3, published: doc(2), gex: false })).toMatchObject({
      kind: 'keyframe',
      keyframeReason: 'first',
    });
  });
});

describe('reading a damaged record', () => {
  it.each([
    ['inflating past the limit', (r: Buffer) => r, 999_999, 'history record: body over 999999 bytes'],
    [
      'a body that is not brotli',
      (r: Buffer) => Buffer.concat([r.subarray(0, r.length - 8), Buffer.from('not brotli')]),
      undefined,
      /^history record: body does not decompress/,
    ],
  ] as const)('%s is refused, not allocated', (_name, damage, limit, message) => {
    // A megabyte of spaces: a few hundred bytes of brotli.
    const rec = damage(encodeKeyframe(Buffer.alloc(1_000_000, 0x20)));
    expect(rec.length).toBeLessThan(2_000);
    expect(() => decodeRecord(rec, limit)).toThrow(message);
  });

  it('a body of exactly the limit is read', () => {
    const rec = encodeKeyframe(Buffer.alloc(1_000_000, 0x20));
    expect(decodeRecord(rec, 1_000_000).body.equals(Buffer.alloc(1_000_000, 0x20))).toBe(true);
  });
});

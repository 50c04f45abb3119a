/**
 * The history's values patch (values-patch.ts): diff then apply gives back the new version byte for byte;
 * what it stores for each kind of change (a delta, an edit, a literal, a span), and a chain mixing it with
 * the structural patches records written before it.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  applyValues,
  diffValues,
  formatScaled,
  type ValuesPatch,
} from '../../src/outputs/history/values-patch.js';
import { diff } from '../../src/outputs/history/patch.js';
import { encodeKeyframe, encodePatch, reconstruct } from '../../src/outputs/history/record.js';
import { HistoryEncoder } from '../../src/outputs/history/encoder.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The patch, after a JSON round trip (as stored), and the bytes it rebuilds. */
function roundTrip(prev: string, next: string): { patch: ValuesPatch; rebuilt: string } {
  const patch = diffValues(b(prev), b(next));
  if (patch === null) throw new Error('no values patch');
  const stored = JSON.parse(JSON.stringify(patch)) as ValuesPatch;
  return { patch: stored, rebuilt: applyValues(b(prev), stored).toString('utf8') };
}

describe('values patch: round trips', () => {
  it.each<[string, string, string]>([
    ['nothing changed', '{"a":1,"b":"x"}', '{"a":1,"b":"x"}'],
    ['numbers move', '{"a":1.25,"b":-3,"c":0.5}', '{"a":1.3,"b":-2.75,"c":-0.000001}'],
    ['a number becomes null and back', '{"a":1,"b":null}', '{"a":null,"b":2.5}'],
    [
      'exponents and big integers stay literal',
      '{"a":1e21,"b":123456789012345678}',
      '{"a":2e-7,"b":9007199254740993}',
    ],
    ['booleans', '[true,false,null]', '[false,true,true]'],
    [
      'a string edit keeps multibyte characters whole',
      '{"d":"BUY 1 SPX é 0.05 CREDIT"}',
      '{"d":"BUY 1 SPX é 0.10 DEBIT"}',
    ],
    ['escapes', '{"d":"a \\"q\\" \\\\ b"}', '{"d":"a \\"r\\" \\\\ b \\u2028"}'],
    ['an array grows at its end', '{"f":["a","b"],"z":1}', '{"f":["a","b","c"],"z":2}'],
    ['an array shrinks to empty', '{"f":["a","b"],"z":1}', '{"f":[],"z":2}'],
    ['an empty object gains members', '{"o":{},"z":1}', '{"o":{"a":1,"b":2},"z":1}'],
    [
      'members removed at the start (a strike left the window)',
      '{"6500":{"v":1},"6505":{"v":2},"x":3}',
      '{"6505":{"v":5},"x":3}',
    ],
    ['members added at the start', '{"6505":{"v":2},"x":3}', '{"6500":{"v":1},"6505":{"v":2},"x":4}'],
    ['members added at the end', '{"6500":{"v":1}}', '{"6500":{"v":1},"6505":{"v":2}}'],
    ['a member added in the middle', '{"a":1,"c":3}', '{"a":1,"b":2,"c":3}'],
    ['a member renamed: its object is replaced', '{"t":{"a":1,"b":2},"u":1}', '{"t":{"a":1,"x":2},"u":9}'],
    ['a value changes type to an object', '{"a":{"v":1},"b":2}', '{"a":[1,2],"b":3}'],
    ['nested containers part twice', '{"a":{"x":[1,2]},"b":{"y":[3]}}', '{"a":{"x":[1]},"b":{"y":[3,4]}}'],
    ['whitespace and a number spelled 1.50', '{"a": 1.50, "b": [1, 2]}', '{"a": 1.75, "b": [1, 3]}'],
    ['a top-level array of numbers', '[1,2,3]', '[1,2,4,5]'],
  ])('%s', (_, prev, next) => {
    expect(roundTrip(prev, next).rebuilt).toBe(next);
  });

  it('random documents with moved numbers, edited strings and grown or shrunk members round-trip', () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 2 || r < 0.4) return Math.round(rand() * 1e6) / 10 ** Math.floor(rand() * 7) - 5;
      if (r < 0.55) return `BUY ${String(Math.floor(rand() * 10))} SPXW @ ${(rand() * 9).toFixed(2)}`;
      if (r < 0.6) return rand() < 0.5 ? null : true;
      if (r < 0.8) return Array.from({ length: Math.floor(rand() * 5) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let k = 0; k < Math.floor(rand() * 6); k++) o[`${String(6500 + k * 5)}`] = value(depth + 1);
      return o;
    };
    const mutate = (v: unknown): unknown => {
      if (typeof v === 'number') return rand() < 0.5 ? v : Math.round((v + rand()) * 100) / 100;
      if (typeof v === 'string') return rand() < 0.5 ? v : v.replace(/@ .*/, `@ ${(rand() * 9).toFixed(2)}`);
      if (Array.isArray(v)) {
        const out = v.map(mutate);
        if (rand() < 0.2) out.push(value(3));
        if (rand() < 0.2) out.shift();
        return out;
      }
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        const entries = Object.entries(v);
        entries.forEach(([k, x], i) => {
          if (i === 0 && rand() < 0.15) return;
          out[k] = mutate(x);
        });
        if (rand() < 0.15) out.z = value(3);
        return out;
      }
      return v;
    };
    for (let n = 0; n < 300; n++) {
      const prev = JSON.stringify({ t: n, m: value(0), rows: [value(1), value(1)] });
      const next = JSON.stringify(mutate(JSON.parse(prev)));
      expect(roundTrip(prev, next).rebuilt).toBe(next);
    }
  });
});

describe('values patch: what it stores', () => {
  it('numbers as integer deltas at their key group’s decimals, grouped by key, indexes as gaps', () => {
    const { patch } = roundTrip(
      '{"r":[{"k":1,"net":1234.56,"d":"x"},{"k":2,"net":10,"d":"y"}]}',
      '{"r":[{"k":1,"net":1235.01,"d":"x"},{"k":2,"net":10.5,"d":"y"}]}',
    );
    // Values: r[0].k, net, d, r[1].k, net, d → the changed ones are 1 and 4 (gaps 1, 2).
    expect(patch).toEqual({ n: 6, g: [1, 2], d: [2], e: [[45, 50]], s: [] });
  });

  it('a string that keeps its ends is an edit of its middle', () => {
    const { patch } = roundTrip(
      '{"d":"BUY 1 SPXW 07JAN26 6495/6515/6535 CALL BUTTERFLY @ 0.05 CREDIT"}',
      '{"d":"BUY 1 SPXW 07JAN26 6495/6515/6535 CALL BUTTERFLY @ 1.10 DEBIT"}',
    );
    expect(patch.e).toEqual([[[52, 3, '1.10 DEB']]]);
  });

  it('a strike leaving the window is a removal span, not the whole object', () => {
    const prev = '{"bf":{"6500":{"v":1},"6505":{"v":2}}}';
    const { patch } = roundTrip(prev, '{"bf":{"6505":{"v":2},"6510":{"v":3}}}');
    // The removal ends where "6505" starts; the insertion is at the closing brace.
    expect(patch.s).toEqual([
      [prev.indexOf('"6500"'), prev.indexOf('"6505"'), ''],
      [prev.lastIndexOf('}}'), prev.lastIndexOf('}}'), ',"6510":{"v":3}'],
    ]);
    expect(patch.g).toEqual([]);
  });

  it('no values patch when the two part outside any container, or a string never closes', () => {
    expect(diffValues(b('1'), b('[1]'))).toBeNull();
    expect(diffValues(b('{"a":1}'), b(' {"a":1}'))).toBeNull();
    expect(diffValues(b('{"a":"x'), b('{"a":"y'))).toBeNull();
  });

  it.each<[string, string, string]>([
    ['closing brackets that differ', '{"a":1}', '{"a":1]'],
    ['an array closed by a brace', '[1]', '[1}'],
    ['a bracket hidden in a number', '[[1,2],[3,[4,[5]]],{]', '[[1],[3,0[4,[5,6]]],{"k":[]}]'],
  ])('malformed text (%s) gives no values patch, without looping', (_, prev, next) => {
    // A sync loop ignores the test timeout: the vm's timeout interrupts it.
    const run = (): unknown =>
      runInNewContext('f()', { f: () => diffValues(b(prev), b(next)) }, { timeout: 1000 });
    expect(run()).toBeNull();
  });

  it('an object that parts at many members is scanned once, not once per parting', () => {
    // Every other member of 8,000 removed: 4,000 removal spans. Scanning the object to its end at each
    // parting took ~12 s here; one scan takes milliseconds (the vm's timeout interrupts a slow run).
    const all: Record<string, unknown> = {};
    const odd: Record<string, unknown> = {};
    for (let k = 0; k < 8000; k++) {
      all[`k${String(k)}`] = { v: k, d: 'x' };
      if (k % 2 === 1) odd[`k${String(k)}`] = { v: k, d: 'x' };
    }
    const prev = b(JSON.stringify({ m: all }));
    const next = b(JSON.stringify({ m: odd }));
    const patch = runInNewContext(
      'f()',
      { f: () => diffValues(prev, next) },
      { timeout: 2000 },
    ) as ValuesPatch;
    expect(patch.s).toHaveLength(4000);
    expect(applyValues(prev, patch).equals(next)).toBe(true);
  });

  it('refuses to apply a patch to another base', () => {
    const patch = diffValues(b('{"a":1,"b":2}'), b('{"a":1,"b":3}')) as ValuesPatch;
    expect(() => applyValues(b('{"a":1}'), patch)).toThrow(/values patch/);
  });

  it('refuses a corrupt patch (a record read back from Redis) rather than writing wrong bytes', () => {
    const prev = b('{"a":[1.25,2],"b":"BUY 1 SPX @ 1.25 CREDIT","c":[3]}');
    const patch = diffValues(prev, b('{"a":[1.5,2],"b":"BUY 1 SPX @ 1.30 CREDIT","c":[3,4]}')) as ValuesPatch;
    expect(patch).toEqual({ n: 4, g: [0, 1], d: [2, 0], e: [[25], [[15, 8, '30']]], s: [[50, 50, ',4']] });
    const corrupt: unknown[] = [
      { ...patch, d: [[1, 2], 0] },
      { ...patch, d: [1e8, 0] },
      { ...patch, e: [[null], [[15, 8, '30']]] },
      { ...patch, e: [[{ x: 1 }], [[15, 8, '30']]] },
      { ...patch, e: [[0.5], [[15, 8, '30']]] },
      { ...patch, e: [[25], [[15, 8, 5]]] },
      { ...patch, s: [[50, 50.5, 'x']] },
      { ...patch, g: null },
      null,
    ];
    for (const c of corrupt) expect(() => applyValues(prev, c as ValuesPatch)).toThrow(/values patch/);
  });

  it('refuses a corrupt patch with more entries than changes', () => {
    const prev = b('{"a":[1.25,2],"b":"BUY 1 SPX @ 1.25 CREDIT","c":[3]}');
    const patch = diffValues(prev, b('{"a":[1.5,2],"b":"BUY 1 SPX @ 1.30 CREDIT","c":[3,4]}')) as ValuesPatch;
    // One gap where there were two changes: the second group's edit is left over; or an extra delta.
    const corrupt: ValuesPatch[] = [
      { ...patch, g: [0] },
      { ...patch, e: [[25, 7], [[15, 8, '30']]] },
    ];
    for (const c of corrupt) expect(() => applyValues(prev, c)).toThrow(/more entries than changes/);
  });

  it.each<[number, number, string]>([
    [0, 2, '0'],
    [5, 2, '0.05'],
    [-5, 3, '-0.005'],
    [123450, 2, '1234.5'],
    [100, 2, '1'],
    [-1200, 0, '-1200'],
  ])('formatScaled(%d, %d) is %s', (scaled, decimals, text) => {
    expect(formatScaled(scaled, decimals)).toBe(text);
  });
});

describe('values patch in the history', () => {
  it('a chain of keyframe, structural patch (an older record) and values patch rebuilds each version', () => {
    const v1 = { ts: 'a', rows: [{ s: 1, n: 2 }], m: { '1': 1 } };
    const v2 = { ts: 'b', rows: [{ s: 1, n: 3 }], m: { '1': 1, '2': 2 } };
    const v3 = { ts: 'c', rows: [{ s: 1, n: 3.5 }], m: { '2': 2 } };
    const [t1, t2, t3] = [v1, v2, v3].map((v) => JSON.stringify(v)) as [string, string, string];
    const k = encodeKeyframe(b(t1));
    const p2 = encodePatch(['v1'], JSON.stringify(diff(v1, v2)));
    const p3 = encodePatch(['v1', 'v2'], JSON.stringify(diffValues(b(t2), b(t3))), 'values');
    expect(reconstruct([k, p2]).toString()).toBe(t2);
    expect(reconstruct([k, p2, p3]).toString()).toBe(t3);
    const p2v = encodePatch(['v1'], JSON.stringify(diffValues(b(t1), b(t2))), 'values');
    const p3s = encodePatch(['v1', 'v2'], JSON.stringify(diff(v2, v3)));
    expect(reconstruct([k, p2v, p3s]).toString()).toBe(t3);
  });

  it('the encoder stores a heatmap-like version as a values patch much smaller than the document', () => {
    const heatmap = (shift: number, px: number): Uint8Array => {
      const tiles: Record<string, unknown> = {};
      for (let s = 6500 + shift; s < 6700 + shift; s += 5)
        tiles[String(s)] = {
          debit: Math.round((s % 37) * px * 100) / 100,
          description: `BUY 1 SPXW ${String(s)} CALL FLY @ ${px.toFixed(2)}`,
        };
      return new TextEncoder().encode(
        JSON.stringify({ ts: `t${String(shift)}`, tiles, flags: shift ? ['a'] : [] }),
      );
    };
    const enc = new HistoryEncoder();
    enc.encode({ stream: 'heatmap:SPX', id: 'v0', tsMs: 1, published: heatmap(0, 1.25), gex: false });
    const next = heatmap(5, 1.3);
    const res = enc.encode({ stream: 'heatmap:SPX', id: 'v1', tsMs: 2, published: next, gex: false });
    expect(res.kind).toBe('values');
    expect(res.record.byteLength).toBeLessThan(next.byteLength / 4);
  });
});

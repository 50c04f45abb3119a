/** @module ByteWriter and the cents writers give the bytes the straightforward string code gives. */
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/models/byte-writer.js';
import { writeCentsFixed, writeCentsNumber } from '../../src/models/heatmap/cents-text.js';
import { centsIntOfMilli, centsOfMilli } from '../../src/models/heatmap/tiles.js';

const text = (fill: (w: ByteWriter) => void, capacity?: number): string => {
  const w = new ByteWriter(capacity);
  fill(w);
  const b = w.finish();
  expect(b.byteLength).toBe(w.length);
  expect(b.byteOffset).toBe(0);
  expect(b.buffer.byteLength).toBe(w.length);
  return Buffer.from(b).toString('utf8');
};

describe('ByteWriter', () => {
  it.each([
    ['', ''],
    ['ascii', '{"a":1}'],
    ['latin-1', 'caf\u00e9 "x"'],
    ['non-ASCII after ASCII', 'BUY 1 SP\u00c9X\u20ac 16JAN26'],
    ['astral', 'a\u{1f600}b'],
    ['lone surrogate (U+FFFD as TextEncoder)', 'a\ud800b'],
  ])('text: %s is its UTF-8', (_name, s) => {
    const w = new ByteWriter(16);
    w.text('<').text(s).text('>');
    expect(Buffer.from(w.finish())).toEqual(Buffer.from(new TextEncoder().encode(`<${s}>`)));
  });

  it('grows past its capacity and keeps every byte', () => {
    const pieces = Array.from({ length: 5000 }, (_, i) => `${i},\u00e9;`);
    expect(text((w) => pieces.forEach((p) => w.text(p)), 16)).toBe(pieces.join(''));
  });

  it.each([0, 1, 9, 10, 11, 99, 100, 101, 6850, 999_999, 1_000_000, 2 ** 31, 2 ** 53 - 1])(
    'uint(%s) is String(n)',
    (n) => expect(text((w) => w.uint(n), 16)).toBe(String(n)),
  );

  it('setting length back drops what was written since', () => {
    expect(
      text((w) => {
        w.text('keep');
        const mark = w.length;
        w.text(',drop');
        w.length = mark;
        w.byte(0x21);
      }),
    ).toBe('keep!');
  });
});

describe('ByteWriter.take', () => {
  it.each([
    // [what, capacity, written, the writer's own buffer handed over (no copy)]
    ['sized exactly', 20, 'x'.repeat(20), true],
    ['sized above what was written', 64, 'x'.repeat(20), false],
    ['grown past its capacity, then full', 16, 'x'.repeat(32), true],
    ['grown, not full', 16, 'x'.repeat(17), false],
    ['below the 16-byte minimum', 3, 'abc', false],
  ])('%s', (_name, capacity, s, own) => {
    const w = new ByteWriter(capacity);
    w.text(s);
    const before = w.written();
    const b = w.take();
    expect(Buffer.from(b).toString()).toBe(s);
    // Always a buffer of its own, exactly its size (the compat thread transfers it).
    expect([b.byteOffset, b.byteLength, b.buffer.byteLength]).toEqual([0, s.length, s.length]);
    expect(b.buffer === before.buffer).toBe(own);
    // The writer gave it up: what it writes next does not touch the bytes handed over.
    w.length = 0;
    w.text('y'.repeat(s.length));
    expect(Buffer.from(b).toString()).toBe(s);
  });
});

describe('ByteWriter.takeView', () => {
  it.each([
    // [what, capacity, written, maxSlack, the writer's own buffer handed over (a view, no copy)]
    ['full', 20, 20, 0, true],
    ['unused bytes within the slack', 64, 60, 4, true],
    ['unused bytes over the slack: a copy', 64, 59, 4, false],
    ['grown past its capacity (32 of 48 unused)', 16, 17, 8, false],
  ])('%s', (_name, capacity, n, maxSlack, own) => {
    const w = new ByteWriter(capacity);
    w.text('x'.repeat(n));
    const before = w.written();
    const b = w.takeView(maxSlack);
    expect([b.byteOffset, b.byteLength]).toEqual([0, n]);
    expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString()).toBe('x'.repeat(n));
    expect(b.buffer === before.buffer).toBe(own);
    // A copy is exactly its size; a view keeps its buffer's slack.
    expect(b.buffer.byteLength).toBe(own ? before.buffer.byteLength : n);
    // The writer gave it up: what it writes next does not touch the bytes handed over.
    w.length = 0;
    w.text('y'.repeat(n));
    expect(Buffer.from(b).toString()).toBe('x'.repeat(n));
  });
});

describe('cents as text', () => {
  const straight = (c: number): { number: string; fixed: string } => ({
    number: String(c / 100 + 0),
    fixed: Math.abs(c / 100).toFixed(2),
  });
  const cases = [
    0,
    -0,
    1,
    -1,
    5,
    9,
    10,
    11,
    50,
    99,
    100,
    101,
    110,
    250,
    -305,
    1200,
    -1200,
    123_456,
    6_852_50,
    999_999_999,
    1e14 + 1,
    1e15 - 1,
    1e15,
    -1e15 - 7,
    2 ** 53,
  ];
  it.each(cases)('%s cents: String(c/100) and toFixed(2) of |c|/100', (c) => {
    expect(text((w) => writeCentsNumber(w, c))).toBe(straight(c).number);
    expect(text((w) => writeCentsFixed(w, c))).toBe(straight(c).fixed);
  });

  it('every cent value from −200,000 to 200,000 and 10,000 large random ones', () => {
    const values = Array.from({ length: 400_001 }, (_, i) => i - 200_000);
    let seed = 7;
    for (let i = 0; i < 10_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      values.push((seed % 2 ? -1 : 1) * Math.floor((seed / 2 ** 31) * 10 ** (3 + (i % 13))));
    }
    const w = new ByteWriter();
    const f = new ByteWriter();
    for (const c of values) {
      writeCentsNumber(w, c);
      w.byte(0x20);
      writeCentsFixed(f, c);
      f.byte(0x20);
    }
    const s = values.map((c) => straight(c));
    expect(Buffer.from(w.finish()).toString()).toBe(s.map((x) => `${x.number} `).join(''));
    expect(Buffer.from(f.finish()).toString()).toBe(s.map((x) => `${x.fixed} `).join(''));
  });

  it.each([
    [0, 0],
    [-4, 0],
    [5, 1],
    [-5, -1],
    [-25, -3],
    [24, 2],
    [1850 + 2125 - 2 * 2000, -3],
  ])('centsIntOfMilli(%s) = %s, and centsOfMilli is it over 100', (milli, c) => {
    expect(centsIntOfMilli(milli) + 0).toBe(c);
    expect(Object.is(centsOfMilli(milli), c / 100 + 0)).toBe(true);
  });
});

/**
 * joinLines gives the bytes of `lines.join('\n')` (and a trailing newline when asked), whatever the
 * number of lines against its chunk of 1,024, and whatever the characters.
 */
import { describe, expect, it } from 'vitest';
import { joinedRange, joinLines } from '../../src/lib/join-lines.js';
import { joinLinesInSlices } from '../../src/lib/slices.js';

const ids = (n: number, tag = ''): string[] =>
  Array.from({ length: n }, (_, i) => `O:SPXW261203C${String(5000000 + i * 5).padStart(8, '0')}${tag}`);

describe('joinLines', () => {
  it.each([
    ['no lines', ids(0)],
    ['one line', ids(1)],
    ['an empty line among others', ['a', '', 'b']],
    ['one short of a chunk', ids(1023)],
    ['exactly a chunk', ids(1024)],
    ['one over a chunk', ids(1025)],
    ['ten thousand ids (~210 KB)', ids(10_000)],
    ['non-ASCII lines across chunks', ids(2500, 'é€😀')],
  ])('%s: the bytes of join, with and without a trailing newline', (_name, lines) => {
    const joined = lines.join('\n');
    expect(joinLines(lines).equals(Buffer.from(joined))).toBe(true);
    const trailed = lines.length > 0 ? `${joined}\n` : '';
    expect(joinLines(lines, true).equals(Buffer.from(trailed))).toBe(true);
  });
});

describe('joinedRange and joinLinesInSlices: a list joined a range at a time', () => {
  const cases: [string, string[], number][] = [
    ['no lines', ids(0), 3],
    ['one line', ids(1), 3],
    ['ranges of 1', ['a', '', 'b'], 1],
    ['ranges that end on the chunk', ids(3000), 1024],
    ['ranges across chunks', ids(3000), 1500],
    ['one range over the whole list', ids(2049), 10_000],
    ['non-ASCII, uneven ranges', ids(2500, 'é€😀'), 777],
  ];
  it.each(cases)('%s: the ranges concatenated are the bytes of joinLines', async (_name, lines, size) => {
    for (const trailing of [false, true]) {
      const whole = joinLines(lines, trailing);
      const ranges: Buffer[] = [];
      for (let i = 0; i < lines.length; i += size)
        ranges.push(joinedRange(lines, i, Math.min(lines.length, i + size), trailing));
      expect(Buffer.concat(ranges).equals(whole)).toBe(true);
      expect((await joinLinesInSlices(lines, trailing, size)).equals(whole)).toBe(true);
    }
  });
});

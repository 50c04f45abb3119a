/**
 * joinLines gives the bytes of `lines.join('\n')` (and a trailing newline when asked), whatever the
 * number of lines against its chunk of 1,024, and whatever the characters.
 */
import { describe, expect, it } from 'vitest';
import { joinLines } from '../../src/lib/join-lines.js';

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

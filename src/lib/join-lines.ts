/**
 * @module Lists of short strings (contract ids, tickers) joined by newlines as UTF-8 bytes. Pure.
 *
 * Why not `Buffer.from(lines.join('\n'))`: 10,000 contract ids joined are ~210 KB, and a string over 128 KB
 * is a large object for V8, on pages mapped for it alone and unmapped after it; on the virtual machines
 * here the first touch of fresh pages costs up to ~3 ms per MiB (see page-pieces.ts). Joined a chunk of
 * lines at a time, each string stays an ordinary young-generation object.
 */

/** Lines per chunk: ~20–30 KB of text for contract ids. */
const LINES_PER_CHUNK = 1024;

/**
 * The bytes of `lines.join('\n')`, with a newline after the last line too when `trailing` (none for an
 * empty list).
 */
export function joinLines(lines: readonly string[], trailing = false): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < lines.length; i += LINES_PER_CHUNK) {
    const end = Math.min(lines.length, i + LINES_PER_CHUNK);
    const last = end === lines.length;
    parts.push(Buffer.from(`${lines.slice(i, end).join('\n')}${!last || trailing ? '\n' : ''}`));
  }
  return Buffer.concat(parts);
}

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
 * The bytes of lines `[start, end)` as {@link joinLines} writes them: each line and the newline after it,
 * except after the list's last line unless `trailing`. A list's bytes are its consecutive ranges' bytes,
 * concatenated.
 */
export function joinedRange(lines: readonly string[], start: number, end: number, trailing = false): Buffer {
  const parts: Buffer[] = [];
  for (let i = start; i < end; i += LINES_PER_CHUNK) {
    const stop = Math.min(end, i + LINES_PER_CHUNK);
    const last = stop === lines.length;
    parts.push(Buffer.from(`${lines.slice(i, stop).join('\n')}${!last || trailing ? '\n' : ''}`));
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * The bytes of `lines.join('\n')`, with a newline after the last line too when `trailing` (none for an
 * empty list).
 */
export function joinLines(lines: readonly string[], trailing = false): Buffer {
  return joinedRange(lines, 0, lines.length, trailing);
}

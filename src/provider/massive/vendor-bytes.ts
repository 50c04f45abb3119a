/**
 * @module A contract's vendor JSON as the outputs store it: the bytes as fetched, or the vendor object
 * re-serialized when its page could not be split into per-contract bytes. The one place this rule lives:
 * the raw snapshot keys, the page threads' encoded writes and `massive:chain:latest` all use it.
 */
import type { ParsedContract } from './types.js';

/** The contract's vendor JSON, byte for byte as fetched (re-serialized only without raw bytes). */
export function vendorBytes(c: Pick<ParsedContract, 'rawJson' | 'raw'>): Buffer {
  return c.rawJson ?? Buffer.from(JSON.stringify(c.raw ?? {}));
}

/**
 * @module Tests read an epoch's contract index as the worker's readers do (it is stored compressed).
 */
import { decodeContractIndex } from '../../src/wiring/contract-index.js';

/** The ids in the index stored at `key`; throws if the key is absent. */
export async function readIndex(
  r: { getBuffer(key: string): Promise<Buffer | null> },
  key: string,
): Promise<string[]> {
  const raw = await r.getBuffer(key);
  if (raw === null) throw new Error(`no contract index at ${key}`);
  return decodeContractIndex(raw);
}

/** The ids in the index at `key`, or [] when the key is absent. */
export async function readIndexOrEmpty(
  r: { getBuffer(key: string): Promise<Buffer | null> },
  key: string,
): Promise<string[]> {
  const raw = await r.getBuffer(key);
  return raw === null ? [] : decodeContractIndex(raw);
}

/**
 * @module A structural patch between two versions of a published model (parsed JSON), and its application.
 * Pure: no I/O. The patch of two versions that differ in a few tile values carries only those values.
 *
 * A patch node is either `[value]` (replace the whole value) or an object:
 * - `o: {key: node}` for an object: the changed or added members (`x: [keys]` the removed ones);
 * - `a: [[index, node], …]` for an array of unchanged length: the changed elements.
 *
 * Key order is part of the bytes: `applyPatch` then `JSON.stringify` must give the new version byte for
 * byte, so an object whose new key order a patch would not reproduce (added keys that are not last, in
 * JavaScript's own order) is replaced whole. The writer checks every patch by applying it anyway.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export type PatchNode = [Json] | { o?: Record<string, PatchNode>; x?: string[]; a?: [number, PatchNode][] };

/** Sets an own, enumerable property (also for `__proto__`, as JSON.parse makes it), never the prototype. */
function put<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `a` and `b` are the same JSON (key order included). */
function same(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i] as Json, b[i] as Json)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || !same(a[k] as Json, b[k] as Json)) return false;
  }
  return true;
}

/** The key order JavaScript gives `prev`'s keys minus `removed`, then `added` set in that order. */
function orderAfter(prevKeys: string[], removed: Set<string>, added: string[]): string[] {
  const t: Record<string, 1> = {};
  for (const k of prevKeys) if (!removed.has(k)) put(t, k, 1);
  for (const k of added) put(t, k, 1);
  return Object.keys(t);
}

/** The patch that turns `prev` into `next`, or `null` when they are the same. */
export function diff(prev: Json, next: Json): PatchNode | null {
  if (prev === next) return null;
  if (isObject(prev) && isObject(next)) {
    const prevKeys = Object.keys(prev);
    const nextKeys = Object.keys(next);
    const removed = prevKeys.filter((k) => !Object.hasOwn(next, k));
    const added = nextKeys.filter((k) => !Object.hasOwn(prev, k));
    if (removed.length > 0 || added.length > 0) {
      const order = orderAfter(prevKeys, new Set(removed), added);
      if (order.length !== nextKeys.length || order.some((k, i) => k !== nextKeys[i])) return [next];
    } else if (prevKeys.some((k, i) => k !== nextKeys[i])) {
      return [next];
    }
    const o: Record<string, PatchNode> = {};
    let changed = removed.length > 0;
    for (const k of nextKeys) {
      const n = next[k] as Json;
      if (!Object.hasOwn(prev, k)) {
        put(o, k, [n]);
        changed = true;
        continue;
      }
      const d = diff(prev[k] as Json, n);
      if (d !== null) {
        put(o, k, d);
        changed = true;
      }
    }
    if (!changed) return null;
    const node: PatchNode = {};
    if (Object.keys(o).length > 0) node.o = o;
    if (removed.length > 0) node.x = removed;
    return node;
  }
  if (Array.isArray(prev) && Array.isArray(next)) {
    if (prev.length !== next.length) return [next];
    const a: [number, PatchNode][] = [];
    for (let i = 0; i < next.length; i++) {
      const d = diff(prev[i] as Json, next[i] as Json);
      if (d !== null) a.push([i, d]);
    }
    return a.length === 0 ? null : { a };
  }
  return same(prev, next) ? null : [next];
}

/** Applies `patch` to `target` (changed in place where it can be) and returns the new value. */
export function applyPatch(target: Json, patch: PatchNode | null): Json {
  if (patch === null) return target;
  if (Array.isArray(patch)) return patch[0];
  if (patch.a) {
    if (!Array.isArray(target)) throw new Error('history patch: an array patch on a non-array');
    for (const [i, node] of patch.a) target[i] = applyPatch(target[i] as Json, node);
    return target;
  }
  if (!isObject(target)) throw new Error('history patch: an object patch on a non-object');
  for (const k of patch.x ?? []) delete target[k];
  for (const [k, node] of Object.entries(patch.o ?? {})) {
    put(target, k, Object.hasOwn(target, k) ? applyPatch(target[k] as Json, node) : applyPatch(null, node));
  }
  return target;
}

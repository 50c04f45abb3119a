/**
 * @module A structural patch between two versions of a published model (parsed JSON), and its application.
 * Pure: no I/O. The patch of two versions that differ in a few tile values carries only those values.
 *
 * A patch node is either `[value]` (replace the whole value) or an object:
 * - `o: {key: node}` for an object: the changed or added members (`x: [keys]` the removed ones);
 * - `a: [[index, node], …]` for an array of unchanged length: the changed elements;
 * - `c: {key: column}` for an array of unchanged length whose elements are all objects with the same keys in
 *   the same order (a table such as `by_strike`): per changed key, the new column, either `{v: [values]}` or,
 *   when every old and new value is a number with at most 6 decimals, `{n: [decimals, [integer deltas]]}`
 *   (new = (round(old·10^decimals) + delta) / 10^decimals): unchanged zeros and small moves cost a digit;
 * - `s: [p, q, middle]` for a string: the old one's first `p` and last `q` characters around `middle`
 *   (a tile description whose price changed).
 *
 * Key order is part of the bytes: `applyPatch` then `JSON.stringify` must give the new version byte for
 * byte, so an object whose new key order a patch would not reproduce (added keys that are not last, in
 * JavaScript's own order) is replaced whole. The writer checks every patch by applying it anyway.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export type ColumnPatch = { v: Json[] } | { n: [number, number[]] };

export type PatchNode =
  | [Json]
  | {
      o?: Record<string, PatchNode>;
      x?: string[];
      a?: [number, PatchNode][];
      c?: Record<string, ColumnPatch>;
      s?: [number, number, string];
    };

/** Decimals of a finite number's shortest form (null with an exponent or more than 6). */
function decimalsOf(x: number): number | null {
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 53) return 0;
  const t = String(x);
  if (t.includes('e')) return null;
  const dot = t.indexOf('.');
  const d = dot === -1 ? 0 : t.length - dot - 1;
  return d <= 6 ? d : null;
}

/** A numeric column as integer deltas, when every value allows it exactly; else null. */
function numericColumn(prev: readonly Json[], next: readonly Json[]): ColumnPatch | null {
  let dec = 0;
  for (const x of [...prev, ...next]) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    const d = decimalsOf(x);
    if (d === null) return null;
    if (d > dec) dec = d;
  }
  const scale = 10 ** dec;
  const deltas: number[] = [];
  for (let i = 0; i < next.length; i++) {
    const p = Math.round((prev[i] as number) * scale);
    const n = Math.round((next[i] as number) * scale);
    if (!Number.isSafeInteger(p) || !Number.isSafeInteger(n) || (p + (n - p)) / scale !== next[i])
      return null;
    deltas.push(n - p);
  }
  return { n: [dec, deltas] };
}

/** The keys of a table (an array of objects that all have the same keys in the same order), or null. */
function tableKeys(rows: readonly Json[]): string[] | null {
  const first = rows[0];
  if (first === undefined || !isObjectValue(first)) return null;
  const keys = Object.keys(first);
  for (const r of rows) {
    if (!isObjectValue(r)) return null;
    const k = Object.keys(r);
    if (k.length !== keys.length || k.some((x, i) => x !== keys[i])) return null;
  }
  return keys;
}

function isObjectValue(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Column patches of two tables with the same keys and length; null when nothing changed. */
function diffTable(
  prev: JsonObject[],
  next: JsonObject[],
  keys: string[],
): Record<string, ColumnPatch> | null {
  const c: Record<string, ColumnPatch> = {};
  let changed = false;
  for (const k of keys) {
    const before = prev.map((r) => r[k] as Json);
    const after = next.map((r) => r[k] as Json);
    if (after.every((v, i) => same(v, before[i] as Json))) continue;
    put(c, k, numericColumn(before, after) ?? { v: after });
    changed = true;
  }
  return changed ? c : null;
}

function applyColumn(prev: readonly Json[], col: ColumnPatch): Json[] {
  if ('v' in col) return col.v;
  const [dec, deltas] = col.n;
  const scale = 10 ** dec;
  return deltas.map((d, i) => (Math.round((prev[i] as number) * scale) + d) / scale);
}

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
    const keys = tableKeys(next);
    if (keys !== null && prev.length > 1) {
      const prevKeys = tableKeys(prev);
      if (prevKeys !== null && prevKeys.length === keys.length && prevKeys.every((k, i) => k === keys[i])) {
        const c = diffTable(prev as JsonObject[], next as JsonObject[], keys);
        return c === null ? null : { c };
      }
    }
    const a: [number, PatchNode][] = [];
    for (let i = 0; i < next.length; i++) {
      const d = diff(prev[i] as Json, next[i] as Json);
      if (d !== null) a.push([i, d]);
    }
    return a.length === 0 ? null : { a };
  }
  if (typeof prev === 'string' && typeof next === 'string') return diffString(prev, next);
  return same(prev, next) ? null : [next];
}

/** A string edit when the two share more than 8 characters at their ends, else a replacement. */
function diffString(prev: string, next: string): PatchNode | null {
  if (prev === next) return null;
  const max = Math.min(prev.length, next.length);
  let p = 0;
  while (p < max && prev.charCodeAt(p) === next.charCodeAt(p)) p++;
  let q = 0;
  while (q < max - p && prev.charCodeAt(prev.length - 1 - q) === next.charCodeAt(next.length - 1 - q)) q++;
  // Not inside a surrogate pair: a cut there would leave half a character on each side.
  while (p > 0 && isHighSurrogate(next.charCodeAt(p - 1))) p--;
  while (q > 0 && isLowSurrogate(next.charCodeAt(next.length - q))) q--;
  if (p + q <= 8) return [next];
  return { s: [p, q, next.slice(p, next.length - q)] };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Applies `patch` to `target` (changed in place where it can be) and returns the new value. */
export function applyPatch(target: Json, patch: PatchNode | null): Json {
  if (patch === null) return target;
  if (Array.isArray(patch)) return patch[0];
  if (patch.s) {
    if (typeof target !== 'string') throw new Error('history patch: a string patch on a non-string');
    const [p, q, middle] = patch.s;
    return target.slice(0, p) + middle + target.slice(target.length - q);
  }
  if (patch.c) {
    if (!Array.isArray(target)) throw new Error('history patch: a table patch on a non-array');
    const rows = target as JsonObject[];
    for (const [k, col] of Object.entries(patch.c)) {
      const values = applyColumn(
        rows.map((r) => r[k] as Json),
        col,
      );
      rows.forEach((r, i) => put(r, k, values[i] as Json));
    }
    return target;
  }
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

/**
 * @module Opaque pagination cursors: base64url JSON of the whole query, the offset, the walk's instant and
 * the generation, so a `next_url` needs no other parameter and every page of a walk reads the same state.
 */
import { z } from 'zod';
import type { ChainQuery } from './query.js';

export interface CursorState {
  /** Underlying of the walk (must match the path). */
  underlying: string;
  query: ChainQuery;
  offset: number;
  /** The dataset instant the walk started at (epoch ms). */
  now: number;
  /** The dataset generation at `now` when the walk started. */
  generation: string;
}

const rangeOf = <T extends z.ZodType>(t: T) =>
  z.object({ eq: t.optional(), gte: t.optional(), gt: t.optional(), lte: t.optional(), lt: t.optional() });

const cursorSchema = z.object({
  u: z.string(),
  q: z.object({
    expiration: rangeOf(z.string()),
    strike: rangeOf(z.number()),
    contractType: z.enum(['call', 'put']).optional(),
    sort: z.enum(['ticker', 'expiration_date', 'strike_price']),
    order: z.enum(['asc', 'desc']),
    limit: z.number().int().min(1).max(250),
  }),
  o: z.number().int().min(0),
  n: z.number(),
  g: z.string(),
});

/** Encodes a cursor (base64url, no padding). */
export function encodeCursor(c: CursorState): string {
  return Buffer.from(
    JSON.stringify({ u: c.underlying, q: c.query, o: c.offset, n: c.now, g: c.generation }),
    'utf8',
  ).toString('base64url');
}

/** Decodes a cursor, or null when it is not one of ours. */
export function decodeCursor(text: string): CursorState | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = cursorSchema.safeParse(value);
  if (!parsed.success) return null;
  const { u, q, o, n, g } = parsed.data;
  return { underlying: u, query: q, offset: o, now: n, generation: g };
}

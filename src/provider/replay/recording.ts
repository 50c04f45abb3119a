/**
 * @module Recording files: one captured chain snapshot per underlying, replayed by the local API, and
 * (version 2) the stream events received after it, replayed by the local stream server at their times.
 * Format: `{ version?, recorded_at, underlyings: { [symbol]: { underlying_asset, results } }, stream? }`
 * (see README-format.md).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Feed, IndexValueEvent, QuoteEvent, TradeEvent } from '../massive/stream-protocol.js';
import { parseOptionTicker } from '../massive/ticker.js';
import type { RawContract } from '../massive/types.js';

/** One underlying's snapshot: its `underlying_asset` and the raw contracts exactly as the API returned them. */
export interface RecordedChain {
  underlying_asset: NonNullable<RawContract['underlying_asset']>;
  results: RawContract[];
}

/** One stream event as received, `offset_ms` after the capture of the stream began. */
export interface RecordedStreamEvent {
  offset_ms: number;
  feed: Feed;
  /** The vendor's event (`Q`, `T` on `options`; `V` on `indices`) exactly as parsed. */
  event: QuoteEvent | TradeEvent | IndexValueEvent;
}

/** The current version of the format (1: snapshots only; 2: adds `stream`). */
export const RECORDING_VERSION = 2;

export interface Recording {
  /** Format version; absent means 1. */
  version?: 1 | 2;
  /** ISO-8601 instant of the capture: the replayed market's clock. */
  recorded_at: string;
  /** Keyed by vendor symbol, e.g. `I:SPX`, `AAPL`. */
  underlyings: Record<string, RecordedChain>;
  /** Version 2: stream events in `offset_ms` order. */
  stream?: RecordedStreamEvent[];
}

/** A recording that could not be read or does not match the format; the message names the file and field. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const optionalNumber = z.number().optional();

const underlyingAssetSchema = z.looseObject({
  change_to_break_even: optionalNumber,
  last_updated: optionalNumber,
  price: optionalNumber,
  value: optionalNumber,
  ticker: z.string().optional(),
  timeframe: z.string().optional(),
});

const contractSchema = z
  .looseObject({
    break_even_price: optionalNumber,
    day: z.record(z.string(), z.unknown()).optional(),
    details: z.looseObject({
      contract_type: z.string().optional(),
      exercise_style: z.string().optional(),
      expiration_date: z.string().regex(DATE_RE, 'expected a YYYY-MM-DD date').optional(),
      shares_per_contract: optionalNumber,
      strike_price: optionalNumber,
      ticker: z
        .string({ error: 'every contract needs a details.ticker string' })
        .min(1, 'every contract needs a details.ticker string'),
    }),
    fmv: optionalNumber,
    greeks: z
      .looseObject({
        delta: optionalNumber,
        gamma: optionalNumber,
        theta: optionalNumber,
        vega: optionalNumber,
      })
      .optional(),
    implied_volatility: optionalNumber,
    last_quote: z
      .looseObject({
        ask: optionalNumber,
        ask_size: optionalNumber,
        bid: optionalNumber,
        bid_size: optionalNumber,
        last_updated: optionalNumber,
        midpoint: optionalNumber,
        timeframe: z.string().optional(),
      })
      .optional(),
    last_trade: z
      .looseObject({ price: optionalNumber, size: optionalNumber, sip_timestamp: optionalNumber })
      .optional(),
    open_interest: optionalNumber,
    underlying_asset: underlyingAssetSchema.optional(),
  })
  .refine((c) => contractExpiration(c) !== undefined, {
    message: 'no expiration: needs details.expiration_date or a parseable option ticker',
    path: ['details', 'expiration_date'],
  });

const num = z.number();
const ms = z.number().int().nonnegative();
const streamEventSchema = z.discriminatedUnion('ev', [
  z.object({
    ev: z.literal('Q'),
    sym: z.string().min(1),
    bx: num,
    ax: num,
    bp: num,
    ap: num,
    bs: num,
    as: num,
    t: ms,
    q: num,
  }),
  z.object({
    ev: z.literal('T'),
    sym: z.string().min(1),
    x: num,
    p: num,
    s: num,
    c: z.array(num),
    t: ms,
    q: num,
  }),
  z.object({ ev: z.literal('V'), T: z.string().min(1), val: num, t: ms }),
]);

const recordedStreamEventSchema = z
  .object({
    offset_ms: z.number().nonnegative(),
    feed: z.enum(['options', 'indices']),
    event: streamEventSchema,
  })
  .refine((e) => (e.feed === 'indices') === (e.event.ev === 'V'), {
    message: 'V events belong to the indices feed, Q and T to options',
    path: ['feed'],
  });

/** zod schema of a recording file. */
export const recordingSchema = z
  .object({
    version: z.union([z.literal(1), z.literal(2)]).optional(),
    recorded_at: z.iso.datetime({ offset: true, message: 'expected an ISO-8601 date-time' }),
    underlyings: z.record(
      z.string().min(1),
      z.object({ underlying_asset: underlyingAssetSchema, results: z.array(contractSchema) }),
    ),
    stream: z.array(recordedStreamEventSchema).optional(),
  })
  .refine((r) => r.stream === undefined || r.version === 2, {
    message: 'stream events need "version": 2',
    path: ['version'],
  })
  .refine(
    (r) => (r.stream ?? []).every((e, i, all) => i === 0 || (all[i - 1]?.offset_ms ?? 0) <= e.offset_ms),
    { message: 'stream events must be in offset_ms order', path: ['stream'] },
  );

/** A contract's expiration: `details.expiration_date`, else the one in its ticker. */
export function contractExpiration(c: RawContract): string | undefined {
  const date = c.details?.expiration_date;
  if (typeof date === 'string' && DATE_RE.test(date)) return date;
  const ticker = c.details?.ticker;
  return typeof ticker === 'string' ? parseOptionTicker(ticker)?.expiration : undefined;
}

/** Validates a parsed JSON value as a recording; `source` names it in the error. */
export function parseRecording(value: unknown, source = 'recording'): Recording {
  const parsed = recordingSchema.safeParse(value);
  if (!parsed.success)
    throw new RecordingError(`Invalid recording ${source}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Reads and validates a recording file. Throws {@link RecordingError} naming the file and the problem. */
export async function loadRecording(path: string): Promise<Recording> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RecordingError(`Cannot read recording ${path}: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RecordingError(`Recording ${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseRecording(value, path);
}

/**
 * Validates and writes a recording (compact JSON unless `pretty`), atomically: a temporary file beside the
 * target is renamed over it. Creates missing directories.
 */
export async function writeRecording(
  path: string,
  recording: Recording,
  opts: { pretty?: boolean } = {},
): Promise<void> {
  parseRecording(recording, path);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(recording, null, opts.pretty ? 2 : undefined)}\n`, 'utf8');
  await rename(tmp, path);
}

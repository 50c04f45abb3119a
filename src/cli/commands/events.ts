/**
 * @module `chain-worker events [--follow] [--since ID] [--symbol U] [--json]`: prints `massive:events`, one
 * line per event, oldest first (from the start of what the stream keeps, or after `--since`); `--follow`
 * then blocks for new ones until SIGINT/SIGTERM. Resuming with `--since <the last id printed>` loses none
 * and repeats none; an id at or past the newest prints nothing (exit 0), and `--follow` after an id newer than
 * the stream's newest follows from the newest.
 */
import { ConfigError } from '../../config/errors.js';
import {
  compareIds,
  eventMatches,
  isStreamId,
  lastId,
  readAfter,
  readBlocking,
  type StoredEvent,
} from '../../outputs/events/read.js';
import { underlyingOf } from '../../redis/keys.js';
import { configFrom, createRuntime, onShutdownSignals } from '../runtime.js';

export interface EventsFlags {
  config?: string;
  follow?: boolean;
  since?: string;
  symbol?: string;
  json?: boolean;
}

const PAGE = 1_000;
/** One XREAD BLOCK of `--follow` (a signal also ends it at once). */
const FOLLOW_BLOCK_MS = 5_000;

function num(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '—';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '—' : JSON.stringify(v);
}

function counts(g: unknown, part: 'expirations' | 'strikes'): string {
  const x = (g as Record<string, { entered?: unknown[]; left?: unknown[] }> | null)?.[part];
  return `+${x?.entered?.length ?? 0}/-${x?.left?.length ?? 0}`;
}

/** What a line says after the type and symbol. Pure. */
export function summaryOf(type: string, e: Record<string, unknown>): string {
  switch (type) {
    case 'epoch_promoted':
      return `${str(e.epoch_id)} reason=${str(e.reason)} contracts=${num(e.contracts)} prev=${str(e.prev_epoch_id)}${
        e.geometry
          ? ` expirations ${counts(e.geometry, 'expirations')} strikes ${counts(e.geometry, 'strikes')}`
          : ''
      }`;
    case 'health_changed':
      return `${str(e.from)} → ${str(e.to)}`;
    case 'dormant':
      return `${str(e.epoch_id)} dormant_count=${num(e.dormant_count)} ${str(e.error)}`;
    case 'recovered':
      return `${str(e.epoch_id)} (was ${str(e.prev_epoch_id)})`;
    case 'shutdown':
      return `worker=${str(e.worker)} status=${str(e.status)} reason=${str(e.reason)}`;
    case 'zero_gamma_crossed':
      return `${str(e.direction)} spot=${num(e.spot)} zero_gamma=${num(e.zero_gamma)}`;
    case 'regime_changed':
      return `${str(e.from)} → ${str(e.to)} net=${num(e.net)}`;
    case 'wall_moved':
      return `${str(e.wall)} wall ${num(e.from)} → ${num(e.to)}`;
    default:
      return JSON.stringify(e);
  }
}

/** One printed line: `id  time (UTC)  type  symbol  summary`, or the event's JSON with its `id`. Pure. */
export function formatEvent(e: StoredEvent, json: boolean): string {
  if (json) return JSON.stringify({ id: e.id, ...e.event });
  const ts = typeof e.event.ts === 'number' ? new Date(e.event.ts * 1000).toISOString() : '—';
  return `${e.id}  ${ts}  ${e.type.padEnd(18)}  ${(e.symbol ?? '*').padEnd(5)}  ${summaryOf(e.type, e.event)}`;
}

export async function eventsCommand(flags: EventsFlags): Promise<number> {
  const config = configFrom(flags);
  const since = flags.since?.trim();
  if (since !== undefined && !isStreamId(since))
    throw new ConfigError(
      '--since',
      'expected a stream id such as 1764577498123-0 (as printed first on each line)',
      since,
    );
  const symbols = flags.symbol ? new Set([underlyingOf(flags.symbol.trim().toUpperCase())]) : null;
  const rt = await createRuntime({ ...config, logLevel: 'warn' }, 'chain-worker-events');
  let stopped = false;
  let tail: ReturnType<typeof rt.bus.duplicate> | undefined;
  const offSignals = onShutdownSignals(() => {
    stopped = true;
    tail?.disconnect();
  });
  const print = (e: StoredEvent): void => {
    if (eventMatches(e, symbols)) process.stdout.write(`${formatEvent(e, flags.json === true)}\n`);
  };
  try {
    let at = since ?? '0-0';
    if (flags.follow && since !== undefined) {
      // An id newer than the newest entry was never issued by this stream (flushed and refilled, another
      // Redis): following after it would hold back every new event older than it. Follow from the newest
      // entry instead, as the SSE server resumes such a Last-Event-ID.
      const newest = await lastId(rt.bus.cmd, rt.keys);
      if (compareIds(since, newest) > 0) {
        const what = newest === '0-0' ? 'the stream is empty' : `the stream's newest entry (${newest})`;
        process.stderr.write(`chain-worker: --since ${since} is newer than ${what}: following from there\n`);
        at = newest;
      }
    }
    for (;;) {
      const page = await readAfter(rt.bus.cmd, rt.keys, at, PAGE);
      for (const e of page.events) print(e);
      at = page.next;
      if (!page.more) break;
    }
    if (flags.follow) {
      tail = rt.bus.duplicate();
      while (!stopped) {
        try {
          const { events, next } = await readBlocking(tail, rt.keys, at, FOLLOW_BLOCK_MS);
          at = next;
          for (const e of events) print(e);
        } catch (err) {
          if (stopped) break;
          throw err;
        }
      }
    }
    return 0;
  } finally {
    offSignals();
    tail?.disconnect();
    await rt.close();
  }
}

/**
 * @module Capturing the stream for a recording (`chain-worker record --stream-seconds N`): the Massive
 * stream client on both feeds, subscribed to the given channels, keeping every `Q`, `T` and `V` event with
 * its offset from the start of the capture, for N seconds (at most `maxEvents`: a firehose cannot grow the
 * file without limit).
 */
import type { Logger } from '../../lib/logger.js';
import { MassiveStreamClient } from '../massive/stream-client.js';
import type { RecordedStreamEvent } from './recording.js';

export interface StreamCaptureOptions {
  wsUrl: string;
  apiKey: string;
  logger: Logger;
  seconds: number;
  /** `Q.…` and `T.…` channels. */
  options: string[];
  /** `V.…` channels. */
  indices: string[];
  /** @defaultValue 2,000,000 */
  maxEvents?: number;
  silenceMs?: number;
}

export interface StreamCapture {
  events: RecordedStreamEvent[];
  /** Events left out past `maxEvents`. */
  dropped: number;
  /** True when a feed failed for good (auth_failed). */
  failed: boolean;
}

/** Streams for `seconds` and returns what arrived, in receive order. */
export async function captureStream(o: StreamCaptureOptions): Promise<StreamCapture> {
  const max = o.maxEvents ?? 2_000_000;
  const events: RecordedStreamEvent[] = [];
  let dropped = 0;
  let failed = false;
  const t0 = Date.now();
  const client = new MassiveStreamClient({
    baseUrl: o.wsUrl,
    apiKey: o.apiKey,
    logger: o.logger,
    ...(o.silenceMs !== undefined ? { silenceMs: o.silenceMs } : {}),
    onFatal: () => {
      failed = true;
    },
    onEvents: (feed, list, receivedAt) => {
      for (const event of list) {
        if (event.ev === 'status') continue;
        if (events.length >= max) {
          dropped++;
          continue;
        }
        events.push({ offset_ms: Math.max(0, receivedAt - t0), feed, event });
      }
    },
  });
  client.options.setSubscriptions(o.options);
  client.indices.setSubscriptions(o.indices);
  client.start();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  client.close();
  // Two connections interleave: one order by offset (stable, so each feed keeps its own order).
  events.sort((a, b) => a.offset_ms - b.offset_ms);
  return { events, dropped, failed };
}

/**
 * @module Wires the live chain into a running worker: the Massive stream client (both feeds) feeding a
 * {@link LiveChain}. `auth_failed` stops streaming only (logged once by the client); REST snapshots go on
 * and models keep coming from them. Each session that goes live resets the chain's sequence marks of its
 * feed (the server may number a new session afresh).
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import { MassiveStreamClient } from '../provider/massive/stream-client.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import type { ModelObserver } from '../outputs/observers.js';
import { LiveChain } from './live-chain.js';

export interface LiveService {
  readonly chain: LiveChain;
  readonly client: MassiveStreamClient;
  stop(): Promise<void>;
}

export interface StartLiveOptions {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  wsUrl: string;
  /** The API key (the local stream server accepts any key when it has none). */
  apiKey: string;
  /** Outputs told about every live build (the history). */
  observers?: readonly ModelObserver[];
  /** The market's clock (a replay's is its recording's). @defaultValue Date.now */
  clock?: () => number;
  /** Whether this worker holds the symbol's lease: only those are streamed. @defaultValue every symbol */
  holds?: (vendor: string) => boolean;
}

/** Starts streaming and the live build loop. */
export function startLive(o: StartLiveOptions): LiveService {
  // Reconnects counted so far per feed: a connection opened again after an idle spell is not one.
  const reconnects = { options: 0, indices: 0 };
  const client = new MassiveStreamClient({
    baseUrl: o.wsUrl,
    apiKey: o.apiKey,
    logger: o.logger,
    silenceMs: o.config.streamSilenceMs,
    // A connection is open only while it has something to stream: a worker holding no symbol opens none.
    onDemand: true,
    onEvents: (feed, events, at) => chain.onEvents(feed, events, at),
    onState: (feed, state) => {
      // A new session may restart the sequence numbers (LiveChain.newSession).
      if (state === 'live') chain.newSession(feed);
      const n = (feed === 'options' ? client.options : client.indices).stats.reconnects;
      if (state === 'connecting' && n > reconnects[feed]) {
        reconnects[feed] = n;
        o.metrics.streamReconnects.inc({ feed });
      }
    },
  });
  const chain = new LiveChain({
    bus: o.bus,
    keys: o.keys,
    config: o.config,
    logger: o.logger,
    metrics: o.metrics,
    ...(o.observers ? { observers: o.observers } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.holds ? { holds: o.holds } : {}),
    subscriber: {
      setOptions: (p) => client.options.setSubscriptions(p),
      setIndices: (p) => client.indices.setSubscriptions(p),
    },
  });
  client.start();
  chain.start();
  o.logger.info({ url: o.wsUrl, symbols: o.config.symbols }, 'live chain started');
  return {
    chain,
    client,
    async stop() {
      client.close();
      await chain.stop();
    },
  };
}

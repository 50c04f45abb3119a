/**
 * @module Prometheus metrics (prom-client): one registry per process, names prefixed `chain_worker_`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { nextTurn } from '../lib/slices.js';

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  readonly registry = new Registry();
  readonly cycleSeconds = new Histogram({
    name: 'chain_worker_cycle_seconds',
    help: 'Wall time of one symbol cycle (fetch through publish)',
    labelNames: ['symbol'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly pageSeconds = new Histogram({
    name: 'chain_worker_page_seconds',
    help: 'Average time per fetched page in a cycle',
    labelNames: ['symbol'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly contractsPerSnapshot = new Histogram({
    name: 'chain_worker_contracts_per_snapshot',
    help: 'Contracts in one snapshot',
    labelNames: ['symbol'],
    buckets: [0, 100, 500, 1000, 2000, 5000, 10000, 20000, 40000],
    registers: [this.registry],
  });
  readonly pages = new Counter({
    name: 'chain_worker_pages_total',
    help: 'Pages fetched',
    labelNames: ['symbol'],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'chain_worker_retries_total',
    help: 'HTTP retries',
    labelNames: ['symbol'],
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'chain_worker_skipped_contracts_total',
    help: 'Contracts skipped (unparseable or rejected by the normalizer)',
    labelNames: ['symbol', 'reason'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'chain_worker_errors_total',
    help: 'Failed cycles by error kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly health = new Counter({
    name: 'chain_worker_health_total',
    help: 'Cycles by health category',
    labelNames: ['symbol', 'category'],
    registers: [this.registry],
  });
  readonly redisWriteSeconds = new Histogram({
    name: 'chain_worker_redis_write_seconds',
    help: 'Time to write one snapshot’s keys to Redis',
    labelNames: ['symbol'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly modelBuildSeconds = new Histogram({
    name: 'chain_worker_model_build_seconds',
    help: 'Time to build and publish one model',
    labelNames: ['model', 'symbol'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly promotions = new Counter({
    name: 'chain_worker_epoch_promotions_total',
    help: 'Epochs promoted',
    labelNames: ['symbol', 'reason'],
    registers: [this.registry],
  });
  readonly sseClients = new Gauge({
    name: 'chain_worker_sse_clients',
    help: 'Connected SSE clients',
    registers: [this.registry],
  });
  readonly sseDropped = new Counter({
    name: 'chain_worker_sse_dropped_total',
    help: 'SSE clients disconnected for being too slow',
    registers: [this.registry],
  });
  readonly httpConnections = new Gauge({
    name: 'chain_worker_http_connections',
    help: 'Open HTTP connections (SSE included)',
    registers: [this.registry],
  });
  readonly httpRejected = new Counter({
    name: 'chain_worker_http_rejected_total',
    help: 'HTTP requests refused by a guard: host (DNS rebinding), connections or sse_clients (caps)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly leasesHeld = new Gauge({
    name: 'chain_worker_leases_held',
    help: 'Symbols this worker holds a lease for',
    registers: [this.registry],
  });
  // ── live chain (the Massive WebSocket stream) ──────────────────────────────
  readonly streamMessages = new Counter({
    name: 'chain_worker_stream_messages_total',
    help: 'Stream events received, by feed and event type',
    labelNames: ['feed', 'ev'],
    registers: [this.registry],
  });
  readonly streamReconnects = new Counter({
    name: 'chain_worker_stream_reconnects_total',
    help: 'Stream connections re-opened (drop, error, silence)',
    labelNames: ['feed'],
    registers: [this.registry],
  });
  readonly streamDropped = new Counter({
    name: 'chain_worker_stream_dropped_total',
    help: 'Stream quotes dropped: duplicate or out_of_order sequence, unknown contract, buffer overflow, crossed_quote, negative_price',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly streamIvUnsolved = new Counter({
    name: 'chain_worker_stream_iv_unsolved_total',
    help: 'Streamed mids that gave no implied volatility (the snapshot IV was kept)',
    labelNames: ['symbol'],
    registers: [this.registry],
  });
  readonly liveTickToModelSeconds = new Histogram({
    name: 'chain_worker_live_tick_to_model_seconds',
    help: 'From receiving the oldest streamed event in a build to both models published',
    labelNames: ['symbol'],
    buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });
  readonly liveFailures = new Counter({
    name: 'chain_worker_live_failures_total',
    help: 'Live passes that failed (Redis unreachable, a live thread lost or refusing its snapshot): nothing built, the snapshot reloaded next pass',
    labelNames: ['symbol'],
    registers: [this.registry],
  });
  readonly liveBuilds = new Counter({
    name: 'chain_worker_live_builds_total',
    help: 'Live model builds, by what triggered them (quotes, spot, quotes+spot)',
    labelNames: ['symbol', 'trigger'],
    registers: [this.registry],
  });

  /** For "no successful cycle for N intervals" alerts: `time() - this`. */
  readonly lastSuccess = new Gauge({
    name: 'chain_worker_last_success_timestamp_seconds',
    help: 'Unix time of the last cycle that did not fail, per symbol',
    labelNames: ['symbol'],
    registers: [this.registry],
  });
  /** For "model older than M" alerts: `time() - this`. */
  readonly modelPublished = new Gauge({
    name: 'chain_worker_model_published_timestamp_seconds',
    help: 'Unix time this process last published a model',
    labelNames: ['model', 'symbol'],
    registers: [this.registry],
  });

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'chain_worker_' });
  }

  /**
   * The registry's exposition text (`registry.metrics()`'s very bytes), one metric per turn of the event
   * loop: the whole registry at once held the loop 10–16 ms in the live benchmark's worker, where a scrape
   * is rare enough to find the rendering code cold (interpreted) every time, as a 15–60 s scrape interval
   * does.
   */
  async render(): Promise<string> {
    const parts: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      await nextTurn();
      parts.push(await this.registry.getSingleMetricAsString(metric.name));
    }
    return `${parts.join('\n\n')}\n`;
  }
}

/**
 * @module The table of every setting: name, parser, default and meaning. The README's configuration table
 * is printed from it (`chain-worker config --markdown`), so the two never drift.
 */
import { z } from 'zod';
import { parseRedisUrls } from '../redis/redis-url.js';
import { groupDigits } from '../lib/compare.js';

export interface SettingSpec<T> {
  /** Environment variable name; also the key in the config file's `settings` object. */
  name: string;
  schema: z.ZodType<T>;
  default: T | undefined;
  /** What it does and what it accepts; shown in errors and the README. */
  help: string;
  secret?: boolean;
}

/** A plain decimal number: optional minus, digits, optional fraction. No hex, no exponent, no blanks. */
export const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * A number setting: a JSON number from the config file, or a string of plain decimal digits (trimmed).
 * `0x10`, `1e3`, `Infinity` and the empty string are rejected (blank values never get here: loadConfig
 * treats them as unset).
 */
function decimal(min: number, max: number, integer: boolean): z.ZodType<number, number | string> {
  const kind = integer ? 'an integer' : 'a decimal number';
  const range = max === Number.MAX_SAFE_INTEGER ? ` ≥ ${min}` : ` from ${min} to ${groupDigits(max)}`;
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : DECIMAL.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${kind}${range}, plain decimal digits` });
      return z.NEVER;
    }
    return n;
  });
}
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => decimal(min, max, true);
const num = (min: number, max = Number.MAX_SAFE_INTEGER) => decimal(min, max, false);
const bool = z
  .union([
    z.boolean(),
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.enum(['1', '0', 'true', 'false', 'yes', 'no']),
    ),
  ])
  .transform((v) => {
    return v === true || v === '1' || v === 'true' || v === 'yes';
  });
const csvList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const widths = z.union([z.string(), z.array(z.number())]).transform((v, ctx) => {
  const parts = Array.isArray(v)
    ? v
    : v.split(',').map((s) => (DECIMAL.test(s.trim()) ? Number(s.trim()) : NaN));
  if (parts.length === 0 || parts.some((n) => !Number.isFinite(n) || n <= 0)) {
    ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of positive numbers' });
    return z.NEVER;
  }
  return [...new Set(parts)].sort((a, b) => a - b);
});
const symbol = z.string().regex(/^(I:)?[A-Z][A-Z0-9.]{0,9}$/, 'expected tickers like I:SPX or AAPL');

/** Redis URL(s), each checked the way the bus will parse it (port 1–65535, a decimal database number). */
function redisUrls(accepts: string, single = false): z.ZodType<string, string> {
  return z
    .string()
    .regex(/^\s*rediss?:\/\/.+/, accepts)
    .transform((v, ctx) => {
      try {
        const n = parseRedisUrls(v).length;
        if (n === 0) throw new Error('no URL');
        // The bus would connect to the first and ignore the rest without a word.
        if (single && n > 1) throw new Error(`${n} URLs given, the system bus is one server`);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${accepts}: ${(err as Error).message}` });
        return z.NEVER;
      }
      return v.trim();
    });
}

/**
 * The WebSocket base URL, checked the way the stream client will open it (`new URL`, a host, port
 * 1–65535): a value that passed only the shape check made the client throw on its first connect, after
 * Redis and the local API were open.
 */
const wsBaseUrl = z
  .string()
  .regex(/^wss?:\/\/[^/?#]+\/?$/, 'expected ws:// or wss:// host, without a path')
  .transform((v, ctx) => {
    const port = /^wss?:\/\/(?:\[[^\]]*\]|[^:/]*):(\d+)\/?$/.exec(v)?.[1];
    let problem: string | undefined;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))
      problem = `port ${port} is out of range (1-65535)`;
    else {
      try {
        if (new URL(v).hostname === '') problem = 'not a valid URL (no host)';
      } catch {
        problem = 'not a valid URL (expected ws[s]://host[:port])';
      }
    }
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ws:// or wss:// host, without a path: ${problem}` });
      return z.NEVER;
    }
    return v;
  });

function spec<T>(s: SettingSpec<T>): SettingSpec<T> {
  return s;
}

export const SETTINGS = {
  marketRedisUrl: spec({
    name: 'MARKET_REDIS_URL',
    schema: redisUrls('expected redis:// or rediss:// URL(s), comma-separated for a cluster'),
    default: 'redis://127.0.0.1:6379',
    help: 'Market bus (`buses.market-redis.url`). redis:// or rediss:// (TLS); user:password@ and /db allowed. Comma-separated seed nodes with MARKET_REDIS_CLUSTER=1.',
  }),
  marketRedisCluster: spec({
    name: 'MARKET_REDIS_CLUSTER',
    schema: bool,
    default: false,
    help: 'Treat the market bus as a Redis Cluster (`buses.market-redis.cluster`).',
  }),
  systemRedisUrl: spec({
    name: 'SYSTEM_REDIS_URL',
    schema: redisUrls('expected a redis:// or rediss:// URL', true),
    default: undefined,
    help: 'System bus for the heartbeat (`buses.system-redis.url`): one server (not a cluster); defaults to the market bus.',
  }),
  redisTlsCaFile: spec({
    name: 'REDIS_TLS_CA_FILE',
    schema: z.string().min(1),
    default: undefined,
    help: 'PEM file of the CA that signed the Redis servers’ certificates (rediss:// with a private CA).',
  }),
  redisConnectTimeoutMs: spec({
    name: 'REDIS_CONNECT_TIMEOUT_MS',
    schema: int(100, 600_000),
    default: 10_000,
    help: 'How long start-up waits for each Redis bus to answer PING; then exit 5 (Redis unreachable) naming the URL.',
  }),
  keyPrefix: spec({
    name: 'CHAIN_KEY_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9:_-]*$/, 'expected letters, digits, ":", "_" or "-"'),
    default: '',
    help: 'Namespace put before every key and channel (empty in production; tests use it).',
  }),
  symbols: spec({
    name: 'MASSIVE_CHAIN_SYMBOLS',
    schema: csvList.pipe(z.array(symbol).min(1, 'expected at least one symbol')).superRefine((list, ctx) => {
      // One lease, one epoch and one cadence per underlying: the same underlying twice (I:SPX,I:SPX or
      // SPX,I:SPX) ran two cycles of it at once, each promoting its own epoch.
      const seen = new Map<string, string>();
      for (const s of list) {
        const u = s.startsWith('I:') ? s.slice(2) : s;
        const first = seen.get(u);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `expected each underlying once: ${first} and ${s} are both ${u}`,
          });
          return;
        }
        seen.set(u, s);
      }
    }),
    default: ['I:SPX', 'I:NDX'],
    help: 'Underlyings to snapshot, comma-separated, each once (`I:SPX` and `SPX` are one underlying).',
  }),
  intervalSec: spec({
    name: 'MASSIVE_CHAIN_INTERVAL_SEC',
    schema: num(0.1, 86_400),
    default: 30,
    help: 'Base cadence between cycles, seconds (stretched when fetches are slow, see Cadence).',
  }),
  numExpirations: spec({
    name: 'MASSIVE_CHAIN_NUM_EXPIRATIONS',
    schema: int(1, 100),
    default: 5,
    help: 'How many nearest expirations to fetch per symbol.',
  }),
  apiKey: spec({
    name: 'MASSIVE_API_KEY',
    schema: z.string().min(1),
    default: undefined,
    secret: true,
    help: 'Massive API key. Sent only as `Authorization: Bearer`; never logged or stored.',
  }),
  baseUrl: spec({
    name: 'MASSIVE_BASE_URL',
    schema: z.url({ protocol: /^https?$/ }),
    default: 'https://api.massive.com',
    help: 'REST base URL.',
  }),
  provider: spec({
    name: 'MASSIVE_PROVIDER',
    schema: z.enum(['massive', 'sim', 'replay']),
    default: undefined,
    help: '`massive` (the real API), `sim` (local API over a simulated market) or `replay` (local API over MASSIVE_REPLAY_FILE). Default: `massive` with an API key, else `sim`.',
  }),
  replayFile: spec({
    name: 'MASSIVE_REPLAY_FILE',
    schema: z.string().min(1),
    default: undefined,
    help: 'Recording to serve with MASSIVE_PROVIDER=replay.',
  }),
  strikeWindowPct: spec({
    name: 'MASSIVE_STRIKE_WINDOW_PCT',
    schema: num(0, 100),
    default: 0,
    help: 'Fetch only strikes within this percent of spot (0 = off: the full chain of each expiration).',
  }),
  concurrency: spec({
    name: 'MASSIVE_CONCURRENCY',
    schema: int(1, 64),
    default: 10,
    help: 'Concurrent request streams (one stream per expiration).',
  }),
  rateLimit: spec({
    name: 'MASSIVE_RATE_LIMIT_RPS',
    schema: num(0, 10_000),
    default: 100,
    help: 'Request-rate limit, requests per second across all streams (0 = unlimited).',
  }),
  requestTimeoutMs: spec({
    name: 'MASSIVE_REQUEST_TIMEOUT_MS',
    schema: int(100, 600_000),
    default: 10_000,
    help: 'Timeout of one HTTP request, ms.',
  }),
  fetchDeadlineMs: spec({
    name: 'MASSIVE_FETCH_DEADLINE_MS',
    schema: int(100, 3_600_000),
    default: 25_000,
    help: 'Overall deadline of one symbol snapshot, ms; streams cut by it mark the snapshot partial (a stream it cut before its first page failed: when none got a page, the fetch failed).',
  }),
  maxRetries: spec({
    name: 'MASSIVE_MAX_RETRIES',
    schema: int(0, 20),
    default: 4,
    help: 'Retries per request on 429, 5xx, timeouts, connection errors and malformed pages.',
  }),
  maxPagesPerStream: spec({
    name: 'MASSIVE_MAX_PAGES_PER_STREAM',
    schema: int(1, 100_000),
    default: 200,
    help: 'Page cap per expiration stream (250 contracts a page); a capped stream marks the snapshot partial.',
  }),
  expirationCacheSec: spec({
    name: 'MASSIVE_EXPIRATION_CACHE_SEC',
    schema: num(0, 86_400),
    default: 300,
    help: 'How long discovered expirations are reused (also dropped at the New York date change or when one settles).',
  }),
  simSeed: spec({
    name: 'MASSIVE_SIM_SEED',
    schema: int(0),
    default: 42,
    help: 'Seed of the simulated market.',
  }),
  simBurst: spec({
    name: 'MASSIVE_SIM_BURST',
    schema: bool,
    default: false,
    help: 'Simulated burst: about 2,000 contracts per expiration (20,000 for SPX+NDX × 5).',
  }),
  simContractsPerExpiration: spec({
    name: 'MASSIVE_SIM_CONTRACTS_PER_EXPIRATION',
    schema: int(2, 100_000),
    default: 200,
    help: 'Simulated contracts per expiration in normal mode.',
  }),
  simOffHours: spec({
    name: 'MASSIVE_SIM_OFF_HOURS',
    schema: z.enum(['normal', 'empty', 'thin']),
    default: 'normal' as const,
    help: 'Simulated off-hours chain: `empty` (no contracts) or `thin` (one or two expirations).',
  }),
  simLatencyMs: spec({
    name: 'MASSIVE_SIM_LATENCY_MS',
    schema: int(0, 60_000),
    default: 0,
    help: 'Simulated per-page latency, ms.',
  }),
  stream: spec({
    name: 'MASSIVE_STREAM',
    schema: z.enum(['on', 'off']),
    default: 'on' as const,
    help: 'Live chain: quotes and index values from the Massive WebSocket hydrate the active epoch between REST snapshots and models are rebuilt every second (`off`: REST snapshots only).',
  }),
  wsUrl: spec({
    name: 'MASSIVE_WS_URL',
    schema: wsBaseUrl,
    default: undefined,
    help: 'WebSocket base URL (feeds at /options and /indices): `wss://socket.massive.com` (real time, the default with the real API) or `wss://delayed.massive.com` (15-minute delayed). `sim` and `replay` use their in-process stream server (a replay plays the `stream` events of its recording) unless this is set.',
  }),
  streamMaxContracts: spec({
    name: 'MASSIVE_STREAM_MAX_CONTRACTS',
    schema: int(1, 1000),
    default: 1000,
    help: 'Quoted contracts on the one options connection (the vendor allows 1,000), shared evenly by the symbols.',
  }),
  streamSilenceMs: spec({
    name: 'MASSIVE_STREAM_SILENCE_MS',
    schema: int(100, 600_000),
    default: 15_000,
    help: 'A stream connection that receives nothing for this long is closed and reconnected, ms.',
  }),
  streamResubscribePct: spec({
    name: 'MASSIVE_STREAM_RESUBSCRIBE_PCT',
    schema: num(0.01, 50),
    default: 0.5,
    help: 'Choose the quoted contracts again when spot moved more than this percent from the last choice (also on every REST snapshot).',
  }),
  liveModelHz: spec({
    name: 'CHAIN_LIVE_MODEL_HZ',
    schema: num(0.05, 10),
    default: 1,
    help: 'Live model rebuilds per second per symbol at most (only when a quote or the spot changed).',
  }),
  simStreamRate: spec({
    name: 'MASSIVE_SIM_STREAM_RATE',
    schema: int(0, 1_000_000),
    default: 1000,
    help: 'Simulated stream firehose: quote messages per second on the options connection (sim).',
  }),
  snapshotTtlSec: spec({
    name: 'CHAIN_SNAPSHOT_TTL_SEC',
    schema: int(1, 86_400),
    default: 300,
    help: 'TTL of `massive:chain:snapshot:*` keys.',
  }),
  substrateTtlSec: spec({
    name: 'CHAIN_SUBSTRATE_TTL_SEC',
    schema: int(1, 86_400),
    default: 300,
    help: 'TTL of `epoch:{id}:contract:*` substrates and the epoch contract index.',
  }),
  latestMode: spec({
    name: 'CHAIN_LATEST_MODE',
    schema: z.enum(['auto', 'summary', 'full', 'off']),
    default: 'auto' as const,
    help: "`massive:chain:latest` (`{version, ts, contracts, symbols}`): `full` (every contract's vendor JSON under `contracts`, ~0.65 KB per contract, what MarketSwarm reads), `summary` (`contracts` empty: only our per-symbol summaries under `symbols`), `off` (not written); `auto`: `full` with `CHAIN_COMPAT=marketswarm`, else `summary`.",
  }),
  compat: spec({
    name: 'CHAIN_COMPAT',
    schema: z.enum(['marketswarm', 'none']),
    default: 'marketswarm' as const,
    help: "`marketswarm`: also write the keys and channels MarketSwarm's consumers read (`massive:gex:model:{symbol}:calls|puts`, `massive:heatmap:model:{symbol}:latest` + diff channel + replay stream, `massive:model:spot:{symbol}`, the WebSocket list `massive:ws:subscription_list` + `massive:ws:subscription_updated`) and makes `CHAIN_LATEST_MODE=auto` mean `full`; `none` turns them off.",
  }),
  compatReplayMaxLen: spec({
    name: 'CHAIN_COMPAT_REPLAY_MAXLEN',
    schema: int(10, 1_000_000),
    default: 1_000,
    help: "Entries each `massive:heatmap:replay:{symbol}` keeps (`XADD … MAXLEN ~ N`). An entry is one heatmap diff of up to 128 KiB, and a build that reprices every tile writes ~20 of them per symbol, so the worst case is about N × 128 KiB per symbol (MarketSwarm's own 50,000 would allow ~6 GB).",
  }),
  eventsMaxLen: spec({
    name: 'CHAIN_EVENTS_MAXLEN',
    schema: int(100, 10_000_000),
    default: 10_000,
    help: 'Entries `massive:events` keeps (`XADD … MAXLEN ~ N`; about 0.3–2 KB each). Resuming an SSE stream or `events --since` reaches back this far.',
  }),
  eventsZeroGammaBandPct: spec({
    name: 'CHAIN_EVENTS_ZERO_GAMMA_BAND_PCT',
    schema: num(0, 10),
    default: 0.1,
    help: '`zero_gamma_crossed` hysteresis: spot must end a build more than this percent of spot beyond zero gamma to count as on the other side (0.1 = about 6 points on SPX).',
  }),
  eventsRegimeBandPct: spec({
    name: 'CHAIN_EVENTS_REGIME_BAND_PCT',
    schema: num(0, 100),
    default: 5,
    help: '`regime_changed` hysteresis: net GEX must exceed this percent of gross GEX (calls + |puts|) on the other sign.',
  }),
  eventsWallConfirmBuilds: spec({
    name: 'CHAIN_EVENTS_WALL_CONFIRM_BUILDS',
    schema: int(1, 100),
    default: 2,
    help: '`wall_moved` hysteresis: a new call or put wall strike must hold in this many successive GEX builds.',
  }),
  analyticsRetentionSec: spec({
    name: 'CHAIN_ANALYTICS_RETENTION_SEC',
    schema: int(60, 90 * 86_400),
    default: 86_400,
    help: 'Analytics ZSET samples older than this are trimmed.',
  }),
  burstThreshold: spec({
    name: 'CHAIN_BURST_THRESHOLD',
    schema: int(1),
    default: 10_000,
    help: 'Contracts in one snapshot at or above which the cycle counts as a burst.',
  }),
  burstIntervalFactor: spec({
    name: 'CHAIN_BURST_INTERVAL_FACTOR',
    schema: num(1, 100),
    default: 2,
    help: 'Debounce: the interval is multiplied by this while a burst lasts.',
  }),
  burstMaxExpirations: spec({
    name: 'CHAIN_BURST_MAX_EXPIRATIONS',
    schema: int(0, 100),
    default: 0,
    help: 'During a burst fetch at most this many expirations (0 = no cap).',
  }),
  slowFetchMs: spec({
    name: 'CHAIN_SLOW_FETCH_MS',
    schema: int(1),
    default: 5_000,
    help: 'A fetch slower than this is health `slow`.',
  }),
  staleAfterSec: spec({
    name: 'CHAIN_STALE_AFTER_SEC',
    schema: num(1),
    default: 120,
    help: 'A model whose snapshot is older than this is published with `stale: true`.',
  }),
  modelThreads: spec({
    name: 'CHAIN_MODEL_THREADS',
    schema: int(1, 8),
    default: 1,
    help: 'Model threads of a builder: how many epochs (of different symbols) build at once. Each thread adds its own heap (a second one: +20–35 MB peak RSS in the burst benchmark); more than 1 pays only with cores to spare.',
  }),
  pageThreads: spec({
    name: 'CHAIN_PAGE_THREADS',
    schema: int(0, 8),
    default: 0,
    help: 'Threads that decode, normalize and encode the fetched pages (0 = one per core beyond the first, at most two: one on a two-core machine). Each adds its own heap (~10–15 MB of RSS); on two cores a second one made the burst ~3 % faster.',
  }),
  modelHistorySec: spec({
    name: 'CHAIN_MODEL_HISTORY_SEC',
    schema: int(0, 2_592_000),
    default: 172_800,
    help: 'How long every published model version is kept (keyframes and patches, brotli) for `?at=` and `/api/history` (0 = no history).',
  }),
  modelHistoryStreamSec: spec({
    name: 'CHAIN_MODEL_HISTORY_STREAM_SEC',
    schema: num(0, 3_600),
    default: 30,
    help: 'Live (stream) builds are kept in the history at most once per this many seconds per symbol and model (0 = every one); snapshot builds always are.',
  }),
  dormantThreshold: spec({
    name: 'CHAIN_DORMANT_THRESHOLD',
    schema: int(1, 1_000),
    default: 3,
    help: 'Failed cycles in a row after which the active epoch is marked dormant and the heartbeat degraded.',
  }),
  fallbackMaxSec: spec({
    name: 'CHAIN_FALLBACK_MAX_SEC',
    schema: int(0, 86_400),
    default: 1_800,
    help: "How long a prior epoch's keys are kept alive while it is the fallback.",
  }),
  maxConsecutiveFailures: spec({
    name: 'CHAIN_MAX_CONSECUTIVE_FAILURES',
    schema: int(1, 100_000),
    default: 20,
    help: 'Failed cycles in a row (per symbol) that end in a controlled shutdown (exit code 3).',
  }),
  heartbeatSec: spec({
    name: 'CHAIN_HEARTBEAT_SEC',
    schema: num(0.1, 3_600),
    default: 5,
    help: 'Heartbeat period.',
  }),
  heartbeatTtlSec: spec({
    name: 'CHAIN_HEARTBEAT_TTL_SEC',
    schema: int(1, 3_600),
    default: 15,
    help: 'Heartbeat TTL.',
  }),
  leaseTtlSec: spec({
    name: 'CHAIN_LEASE_TTL_SEC',
    schema: num(1, 3_600),
    default: 15,
    help: 'Per-symbol worker lease TTL; renewed every third of it on a timer of its own. A dead worker’s symbols move within TTL + TTL/3 (20 s at 15).',
  }),
  heatmapWindowPct: spec({
    name: 'MASSIVE_HEATMAP_WINDOW_PCT',
    schema: num(0, 100),
    default: 5,
    help: 'Heatmap centres within this percent of spot (0 = every strike).',
  }),
  widthsSpx: spec({
    name: 'MASSIVE_WIDTHS_SPX',
    schema: widths,
    default: [20, 25, 30, 35, 40, 45, 50],
    help: 'Heatmap widths for SPX.',
  }),
  widthsNdx: spec({
    name: 'MASSIVE_WIDTHS_NDX',
    schema: widths,
    default: [50, 100, 150, 200],
    help: 'Heatmap widths for NDX (other underlyings: MASSIVE_WIDTHS_{U}, default 5,10,15,20).',
  }),
  httpToken: spec({
    name: 'CHAIN_WORKER_HTTP_TOKEN',
    schema: z.string().min(8, 'expected at least 8 characters'),
    default: undefined,
    secret: true,
    help: 'Bearer token the HTTP server requires on everything but /healthz.',
  }),
  httpAllowNoToken: spec({
    name: 'CHAIN_HTTP_ALLOW_NO_TOKEN',
    schema: bool,
    default: false,
    help: 'Allow `--http` on a non-loopback address without CHAIN_WORKER_HTTP_TOKEN (otherwise start-up fails, exit 2).',
  }),
  httpAllowedHosts: spec({
    name: 'CHAIN_HTTP_ALLOWED_HOSTS',
    schema: csvList.transform((v) => v.map((h) => h.toLowerCase())),
    default: [] as string[],
    help: 'Host names the HTTP server answers besides loopback names, IP literals and the bound address (DNS-rebinding guard); `*` allows any.',
  }),
  httpMaxSseClients: spec({
    name: 'CHAIN_HTTP_MAX_SSE_CLIENTS',
    schema: int(1, 1_000_000),
    default: 1_000,
    help: 'Concurrent `/events` streams; one more gets 503 `too_many_clients`.',
  }),
  httpMaxConnections: spec({
    name: 'CHAIN_HTTP_MAX_CONNECTIONS',
    schema: int(1, 1_000_000),
    default: 2_000,
    help: 'Open HTTP connections (SSE included); one more gets 503 `too_many_connections` and is closed.',
  }),
  readyMaxAgeSec: spec({
    name: 'CHAIN_READY_MAX_AGE_SEC',
    schema: num(1),
    default: 180,
    help: '/readyz fails when the last successful cycle (or model, for `serve`) is older than this.',
  }),
  heapGrowingPercent: spec({
    name: 'CHAIN_HEAP_GROWING_PERCENT',
    schema: int(0, 400),
    default: 50,
    help: 'V8 heap growing factor, percent over the live heap before a full GC (0 = V8’s dynamic default). Lower trades CPU for peak memory during bursts.',
  }),
  threadNice: spec({
    name: 'CHAIN_THREAD_NICE',
    schema: int(0, 19),
    default: 5,
    help: 'How much every worker thread (page decoders, model, compat, history, live) lowers its own priority (nice value, added to the process’s; 0 = off) so the main thread’s event loop gets a core first. Linux only; a failure is logged once.',
  }),
  mainThreadSched: spec({
    name: 'CHAIN_MAIN_THREAD_SCHED',
    schema: z.enum(['other', 'fifo', 'rr']),
    default: 'other' as const,
    help: '`fifo` or `rr`: the main thread (the event loop) runs at real-time priority 1, the lowest, so it never waits for a core behind normal threads (Redis, the worker threads); threads it starts keep the normal policy. Linux, needs `CAP_SYS_NICE` or `LimitRTPRIO=1`, uses `chrt` (util-linux); a failure is logged and the worker runs as before. `other`: unchanged.',
  }),
  logLevel: spec({
    name: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info' as const,
    help: 'Log level (logs on stdout).',
  }),
  logFormat: spec({
    name: 'LOG_FORMAT',
    schema: z.enum(['auto', 'json', 'pretty']),
    default: 'auto' as const,
    help: '`json` (one JSON object a line), `pretty` (one readable line per event) or `auto`: pretty when stdout is a terminal, else JSON.',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;

/** Settings with no default: absent unless set. */
export type OptionalSettingKey =
  'systemRedisUrl' | 'redisTlsCaFile' | 'apiKey' | 'provider' | 'replayFile' | 'httpToken';

type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K] extends SettingSpec<infer T> ? T : never;

export type Settings = { [K in Exclude<SettingKey, OptionalSettingKey>]: SettingValue<K> } & {
  [K in OptionalSettingKey]?: SettingValue<K>;
};

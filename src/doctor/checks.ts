/**
 * @module The doctor's verdicts: pure functions from gathered facts (INFO fields, an HTTP status, a `Date`
 * header, the configuration, the clock) to checks, each ok / warn / fail with one line of advice.
 * Gathering the facts is `probe.ts`; printing them is `cli/commands/doctor.ts`.
 */
import { redactedConfig, type Config } from '../config/load.js';
import { SETTINGS } from '../config/settings.js';
import { marketSession } from '../domain/market-session.js';
import { RT_PRIORITY, type MainThreadSched, type SchedOutcome } from '../lib/main-thread-sched.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  section: string;
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** One line: what to do about it (or why it is fine). */
  advice: string;
}

/** Fields of `INFO` (all sections) as strings. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export interface RedisFacts {
  /** `market bus` or `system bus`. */
  label: string;
  /** The URL with any password hidden. */
  url: string;
  /** Connection or command failure (unreachable). */
  error?: string;
  info?: Record<string, string>;
  /** Median PING round trip, ms. */
  pingMs?: number;
  /** MARKET_REDIS_CLUSTER is set for this bus. */
  clusterConfigured: boolean;
  /** `CONFIG GET save` (undefined when CONFIG is refused, as on managed services). */
  save?: string;
}

const MIN_VERSION = [6, 2];
const PING_WARN_MS = 10;
const MEMORY_WARN_FRACTION = 0.9;

function versionBelow(v: string, min: number[]): boolean {
  const parts = v.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MB`;
}

/** Reachability, version, mode, memory and eviction, persistence and latency of one Redis. */
export function redisChecks(f: RedisFacts): Check[] {
  const section = `redis (${f.label})`;
  const c = (name: string, status: CheckStatus, detail: string, advice: string): Check => ({
    section,
    name,
    status,
    detail,
    advice,
  });
  if (f.error !== undefined || !f.info) {
    return [
      c(
        'reachable',
        'fail',
        `${f.url}: ${f.error ?? 'no answer'}`,
        'start Redis or fix the URL (MARKET_REDIS_URL / SYSTEM_REDIS_URL); the worker exits 5 without it',
      ),
    ];
  }
  const info = f.info;
  const out: Check[] = [c('reachable', 'ok', f.url, 'connected and authenticated')];
  const version = info.redis_version ?? 'unknown';
  out.push(
    versionBelow(version, MIN_VERSION)
      ? c(
          'version',
          'warn',
          `Redis ${version}`,
          `chain-worker is tested on Redis ≥ ${MIN_VERSION.join('.')}: upgrade`,
        )
      : c('version', 'ok', `Redis ${version}`, 'supported'),
  );
  const isCluster = info.cluster_enabled === '1';
  if (isCluster !== f.clusterConfigured) {
    out.push(
      c(
        'cluster',
        'fail',
        `server is ${isCluster ? 'a cluster node' : 'standalone'}, configured as ${f.clusterConfigured ? 'a cluster' : 'standalone'}`,
        isCluster
          ? 'set MARKET_REDIS_CLUSTER=1 (multi-key scripts fail with CROSSSLOT/MOVED otherwise)'
          : 'unset MARKET_REDIS_CLUSTER: the server is not a cluster',
      ),
    );
  } else {
    out.push(c('cluster', 'ok', isCluster ? 'cluster' : 'standalone', 'matches the configuration'));
  }
  const maxmemory = Number(info.maxmemory ?? 0);
  const used = Number(info.used_memory ?? 0);
  const policy = info.maxmemory_policy ?? 'unknown';
  if (maxmemory === 0) {
    out.push(
      c(
        'memory',
        'ok',
        `no maxmemory, ${mb(used)} used`,
        'no eviction can happen; set maxmemory with noeviction to cap it',
      ),
    );
  } else if (policy.startsWith('allkeys-')) {
    out.push(
      c(
        'memory',
        'warn',
        `maxmemory ${mb(maxmemory)}, policy ${policy}`,
        `${policy} can evict epoch keys of a live epoch: use noeviction (every chain-worker key has a TTL)`,
      ),
    );
  } else if (policy.startsWith('volatile-')) {
    out.push(
      c(
        'memory',
        'warn',
        `maxmemory ${mb(maxmemory)}, policy ${policy}`,
        `${policy} evicts keys with a TTL, which includes every epoch and snapshot key: use noeviction`,
      ),
    );
  } else if (used >= maxmemory * MEMORY_WARN_FRACTION) {
    out.push(
      c(
        'memory',
        'warn',
        `${mb(used)} of ${mb(maxmemory)} used, policy ${policy}`,
        'close to maxmemory: writes will fail (OOM); raise maxmemory or shorten the TTLs',
      ),
    );
  } else {
    out.push(
      c(
        'memory',
        'ok',
        `${mb(used)} of ${mb(maxmemory)} used, policy ${policy}`,
        'nothing is evicted; writes fail loudly if memory runs out',
      ),
    );
  }
  const aof = info.aof_enabled === '1';
  const rdb = f.save === undefined ? 'unknown' : f.save.trim() === '' ? 'off' : `save ${f.save.trim()}`;
  const broken = info.rdb_last_bgsave_status === 'err' || info.aof_last_write_status === 'err';
  out.push(
    broken
      ? c(
          'persistence',
          'warn',
          `RDB ${rdb} (last bgsave ${info.rdb_last_bgsave_status ?? '?'}), AOF ${aof ? 'on' : 'off'} (last write ${info.aof_last_write_status ?? '?'})`,
          'persistence is failing: Redis may refuse writes (stop-writes-on-bgsave-error); check its disk',
        )
      : c(
          'persistence',
          'ok',
          `RDB ${rdb}, AOF ${aof ? 'on' : 'off'}`,
          'optional: a restarted worker rebuilds every key within one cycle',
        ),
  );
  if (f.pingMs !== undefined) {
    const ms = f.pingMs.toFixed(2);
    out.push(
      f.pingMs > PING_WARN_MS
        ? c(
            'latency',
            'warn',
            `PING ${ms} ms`,
            'slow round trips stretch every cycle: run Redis near the worker',
          )
        : c('latency', 'ok', `PING ${ms} ms`, 'Redis answers quickly'),
    );
  }
  return out;
}

export interface MassiveFacts {
  provider: Config['provider'];
  /** The base URL requested (the in-process local API for sim/replay). */
  baseUrl: string;
  keySet: boolean;
  /** The probe's path (no query secrets). */
  path: string;
  /** HTTP status of the probe; undefined when the request failed. */
  status?: number;
  error?: string;
  /** Results in the probe's page. */
  results?: number;
  /** The `Date` response header. */
  dateHeader?: string;
  /** Local clock when the request was sent and when the headers came back, epoch ms. */
  sentMs?: number;
  receivedMs?: number;
  /** A WebSocket stream client exists in this build. */
  streamClient: boolean;
  /** The WebSocket auth probe (massive provider with a key). */
  stream?: { url: string; outcome: 'authenticated' | 'rejected' | 'timeout'; ms: number };
}

const SKEW_WARN_MS = 2_000;
const SKEW_FAIL_MS = 60_000;

/** Clock skew, ms, of the local clock against a `Date` header (1 s resolution: the midpoint of the second). */
export function clockSkewMs(dateHeader: string, sentMs: number, receivedMs: number): number | undefined {
  const server = Date.parse(dateHeader);
  if (!Number.isFinite(server)) return undefined;
  const local = (sentMs + receivedMs) / 2;
  const diff = local - (server + 500);
  // Within the header's one-second resolution plus the round trip there is nothing to report.
  const slack = 500 + (receivedMs - sentMs) / 2;
  return Math.abs(diff) <= slack ? 0 : diff - Math.sign(diff) * slack;
}

/** The API key, one authenticated chain-snapshot request, the clock against the API, the WebSocket. */
export function massiveChecks(f: MassiveFacts): Check[] {
  const section = f.provider === 'massive' ? 'massive' : `massive (${f.provider}: local API)`;
  const c = (name: string, status: CheckStatus, detail: string, advice: string): Check => ({
    section,
    name,
    status,
    detail,
    advice,
  });
  const out: Check[] = [];
  if (f.provider === 'massive') {
    out.push(
      f.keySet
        ? c('api key', 'ok', 'MASSIVE_API_KEY is set', 'sent only as Authorization: Bearer')
        : c(
            'api key',
            'fail',
            'MASSIVE_API_KEY is not set',
            'set MASSIVE_API_KEY, or MASSIVE_PROVIDER=sim to run on the simulated market',
          ),
    );
  } else {
    out.push(
      c(
        'api key',
        'ok',
        f.keySet ? 'MASSIVE_API_KEY is set (the local API checks it)' : 'not needed for the local API',
        `provider ${f.provider}: no real market data; set MASSIVE_API_KEY and MASSIVE_PROVIDER=massive for it`,
      ),
    );
  }
  const what = `GET ${f.baseUrl}${f.path}`;
  if (f.status === undefined) {
    out.push(
      c(
        'options chain snapshot',
        'fail',
        `${what}: ${f.error ?? 'no answer'}`,
        'the API is unreachable: check MASSIVE_BASE_URL, DNS, proxy and firewall',
      ),
    );
  } else if (f.status === 401) {
    out.push(
      c(
        'options chain snapshot',
        'fail',
        `${what}: 401 Unauthorized`,
        'the API rejected the key: check MASSIVE_API_KEY (revoked, mistyped, or for another account)',
      ),
    );
  } else if (f.status === 403) {
    out.push(
      c(
        'options chain snapshot',
        'fail',
        `${what}: 403 Forbidden`,
        'the key is valid but the plan is not entitled to the options chain snapshot: upgrade the options plan',
      ),
    );
  } else if (f.status === 429) {
    out.push(
      c(
        'options chain snapshot',
        'warn',
        `${what}: 429 Too Many Requests`,
        'rate limited right now: lower MASSIVE_RATE_LIMIT_RPS or stop other clients on this key',
      ),
    );
  } else if (f.status >= 200 && f.status < 300) {
    out.push(
      c(
        'options chain snapshot',
        'ok',
        `${what}: ${f.status}, ${f.results ?? 0} result(s)`,
        'the key is entitled to the options chain snapshot',
      ),
    );
  } else {
    out.push(
      c(
        'options chain snapshot',
        'fail',
        `${what}: HTTP ${f.status}`,
        f.status >= 500
          ? 'the API is failing: retry later, check the status page'
          : 'unexpected answer: check MASSIVE_BASE_URL',
      ),
    );
  }
  if (f.dateHeader && f.sentMs !== undefined && f.receivedMs !== undefined) {
    const skew = clockSkewMs(f.dateHeader, f.sentMs, f.receivedMs);
    if (skew === undefined) {
      out.push(c('clock', 'warn', `unparsable Date header "${f.dateHeader}"`, 'cannot compare clocks'));
    } else {
      const s = (skew / 1000).toFixed(1);
      const detail =
        skew === 0
          ? 'within 1 s of the API'
          : `local clock ${skew > 0 ? 'ahead' : 'behind'} by ${s.replace('-', '')} s`;
      const abs = Math.abs(skew);
      out.push(
        abs > SKEW_FAIL_MS
          ? c(
              'clock',
              'fail',
              detail,
              'expirations, staleness and year fractions use the clock: fix NTP (chrony/timedatectl)',
            )
          : abs > SKEW_WARN_MS
            ? c('clock', 'warn', detail, 'staleness and time-to-expiry drift with the clock: enable NTP')
            : c('clock', 'ok', detail, 'in sync'),
      );
    }
  } else if (f.status !== undefined) {
    out.push(c('clock', 'warn', 'no Date header in the answer', 'cannot compare clocks against the API'));
  }
  out.push(websocketCheck(f, c));
  return out;
}

function websocketCheck(
  f: MassiveFacts,
  c: (name: string, status: CheckStatus, detail: string, advice: string) => Check,
): Check {
  if (!f.streamClient) return c('websocket', 'skip', 'no WebSocket stream client in this build', 'REST only');
  if (!f.stream) {
    return f.provider === 'massive'
      ? c('websocket', 'skip', 'not probed (no key, or the REST request failed)', 'fix the REST check first')
      : c(
          'websocket',
          'skip',
          `provider ${f.provider}: the in-process stream is not probed`,
          'nothing to check',
        );
  }
  const s = f.stream;
  if (s.outcome === 'authenticated') {
    return c(
      'websocket',
      'ok',
      `${s.url}: authenticated in ${s.ms} ms`,
      'the key is entitled to the options stream',
    );
  }
  if (s.outcome === 'rejected') {
    return c(
      'websocket',
      'warn',
      `${s.url}: auth_failed`,
      'the key is not entitled to the WebSocket feed: REST snapshots still work, the live chain will not',
    );
  }
  return c(
    'websocket',
    'warn',
    `${s.url}: no answer in ${s.ms} ms`,
    'the stream is unreachable (proxy or firewall on wss://?): REST snapshots still work',
  );
}

/** The New York session now, and the next expirations when the API listed them. */
export function marketChecks(nowMs: number, expirations?: { symbol: string; dates: string[] }): Check[] {
  const s = marketSession(nowMs);
  const at = (ms: number): string =>
    new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(ms)) + ' ET';
  const close =
    s.closeMs !== undefined ? `, closes ${at(s.closeMs)}${s.earlyClose ? ' (early close)' : ''}` : '';
  const detail: Record<typeof s.state, string> = {
    open: `open${close}`,
    'pre-market': `pre-market, opens ${at(s.nextOpenMs)}${close}`,
    'after-hours': `closed for the day${s.earlyClose ? ' (early close)' : ''}, opens ${at(s.nextOpenMs)}`,
    weekend: `weekend, opens ${at(s.nextOpenMs)}`,
    holiday: `exchange holiday, opens ${at(s.nextOpenMs)}`,
  };
  const out: Check[] = [
    {
      section: 'market',
      name: 'new york session',
      status: 'ok',
      detail: `${s.date}: ${detail[s.state]}`,
      advice:
        s.state === 'open'
          ? 'quotes move: models change every cycle'
          : 'outside regular hours quotes barely move: stale models and unchanged epochs are expected',
    },
  ];
  if (expirations) {
    out.push({
      section: 'market',
      name: 'next expirations',
      status: expirations.dates.length > 0 ? 'ok' : 'warn',
      detail: `${expirations.symbol}: ${expirations.dates.join(', ') || 'none listed'}`,
      advice:
        expirations.dates.length > 0
          ? 'what the next cycle fetches'
          : 'the API listed no expirations for this symbol: check MASSIVE_CHAIN_SYMBOLS',
    });
  }
  return out;
}

function show(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v);
}

/** The settings that differ from their defaults (secrets as `[set]`). */
export function configInEffect(config: Config): Check {
  const shown = redactedConfig(config);
  const changed: string[] = [];
  for (const s of Object.values(SETTINGS)) {
    const v = shown[s.name];
    if (s.name === SETTINGS.provider.name) continue; // shown first, resolved
    if (v !== undefined && show(v) !== show(s.default)) changed.push(`${s.name}=${show(v)}`);
  }
  return {
    section: 'config',
    name: 'in effect',
    status: 'ok',
    detail: `provider ${config.provider}; ${changed.length ? changed.join(' ') : 'all defaults'}`,
    advice: '`chain-worker config` prints every setting (secrets hidden)',
  };
}

/** The configuration in effect, then any settings that contradict each other. */
export function configChecks(config: Config): Check[] {
  const c = (name: string, status: CheckStatus, detail: string, advice: string): Check => ({
    section: 'config',
    name,
    status,
    detail,
    advice,
  });
  const out: Check[] = [configInEffect(config)];
  const intervalMs = config.intervalSec * 1000;
  if (config.fetchDeadlineMs > intervalMs) {
    out.push(
      c(
        'interval vs fetch deadline',
        'warn',
        `MASSIVE_CHAIN_INTERVAL_SEC ${config.intervalSec} s < MASSIVE_FETCH_DEADLINE_MS ${config.fetchDeadlineMs} ms`,
        'a slow fetch runs past the interval and the cadence stretches: lower the deadline or raise the interval',
      ),
    );
  }
  if (config.requestTimeoutMs >= config.fetchDeadlineMs) {
    out.push(
      c(
        'request timeout vs fetch deadline',
        'warn',
        `MASSIVE_REQUEST_TIMEOUT_MS ${config.requestTimeoutMs} ≥ MASSIVE_FETCH_DEADLINE_MS ${config.fetchDeadlineMs}`,
        'one slow request uses the whole deadline and retries never run: keep the timeout well under it',
      ),
    );
  }
  if (config.heartbeatTtlSec <= config.heartbeatSec) {
    out.push(
      c(
        'heartbeat ttl vs period',
        'fail',
        `CHAIN_HEARTBEAT_TTL_SEC ${config.heartbeatTtlSec} ≤ CHAIN_HEARTBEAT_SEC ${config.heartbeatSec}`,
        'the heartbeat expires between beats and the worker looks dead: make the TTL at least 2× the period',
      ),
    );
  } else if (config.heartbeatTtlSec < 2 * config.heartbeatSec) {
    out.push(
      c(
        'heartbeat ttl vs period',
        'warn',
        `CHAIN_HEARTBEAT_TTL_SEC ${config.heartbeatTtlSec} < 2 × CHAIN_HEARTBEAT_SEC ${config.heartbeatSec}`,
        'one late beat makes the worker look dead: make the TTL at least 2× the period',
      ),
    );
  }
  if (config.leaseTtlSec < config.heartbeatSec) {
    out.push(
      c(
        'lease ttl vs heartbeat',
        'warn',
        `CHAIN_LEASE_TTL_SEC ${config.leaseTtlSec} < CHAIN_HEARTBEAT_SEC ${config.heartbeatSec}`,
        'a worker can lose its symbols while its heartbeat still says alive: raise the lease TTL',
      ),
    );
  }
  if (config.staleAfterSec < config.intervalSec) {
    out.push(
      c(
        'stale-after vs interval',
        'warn',
        `CHAIN_STALE_AFTER_SEC ${config.staleAfterSec} < MASSIVE_CHAIN_INTERVAL_SEC ${config.intervalSec}`,
        'every model is published stale before the next cycle can refresh it: raise CHAIN_STALE_AFTER_SEC',
      ),
    );
  }
  if (config.readyMaxAgeSec < config.intervalSec) {
    out.push(
      c(
        'readiness vs interval',
        'warn',
        `CHAIN_READY_MAX_AGE_SEC ${config.readyMaxAgeSec} < MASSIVE_CHAIN_INTERVAL_SEC ${config.intervalSec}`,
        '/readyz fails between healthy cycles: raise CHAIN_READY_MAX_AGE_SEC',
      ),
    );
  }
  for (const [name, ttl] of [
    ['CHAIN_SNAPSHOT_TTL_SEC', config.snapshotTtlSec],
    ['CHAIN_SUBSTRATE_TTL_SEC', config.substrateTtlSec],
  ] as const) {
    if (ttl < 2 * config.intervalSec) {
      out.push(
        c(
          `${name.toLowerCase().replace(/_/g, ' ')} vs interval`,
          'warn',
          `${name} ${ttl} < 2 × MASSIVE_CHAIN_INTERVAL_SEC ${config.intervalSec}`,
          'keys can expire before one slow cycle refreshes them: keep TTLs at several intervals',
        ),
      );
    }
  }
  if (out.length === 1) out.push(c('consistency', 'ok', 'no contradictory settings', 'nothing to change'));
  return out;
}

/**
 * CHAIN_MAIN_THREAD_SCHED: whether this process could give its main thread the policy asked for, as the
 * worker does at start-up (`outcome` from trying it here). Never a failure: without it the worker runs at the
 * normal policy.
 */
export function schedCheck(requested: MainThreadSched, outcome: SchedOutcome): Check {
  const base = { section: 'config', name: 'main thread policy' };
  if (requested === 'other')
    return {
      ...base,
      status: 'ok',
      detail: 'normal (CHAIN_MAIN_THREAD_SCHED=other)',
      advice:
        'on a host with few cores, `fifo` keeps the event loop from waiting for a core (README, "How to start it")',
    };
  if (outcome.ok)
    return {
      ...base,
      status: 'ok',
      detail: `SCHED_${requested.toUpperCase()} ${RT_PRIORITY}: set on this process's main thread`,
      advice: 'the worker sets it at start-up when it runs as this user, with these limits',
    };
  return {
    ...base,
    status: 'warn',
    detail: `CHAIN_MAIN_THREAD_SCHED=${requested} not possible here: ${outcome.reason}`,
    advice:
      'grant CAP_SYS_NICE or an RLIMIT_RTPRIO of 1 (systemd LimitRTPRIO=1, docker --cap-add SYS_NICE) and install util-linux, or set it to other',
  };
}

/** The exit code for a set of checks: 1 when any failed. */
export function doctorExitCode(checks: readonly Check[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

/**
 * @module `chain-worker doctor [--json]`: checks Redis (both buses), the Massive API, the market session and
 * the configuration, each ok / warn / fail with one line of advice; exits 1 when any check fails.
 */
import { redactedConfig } from '../../config/load.js';
import {
  configChecks,
  doctorExitCode,
  marketChecks,
  massiveChecks,
  redisChecks,
  schedCheck,
  type Check,
} from '../../doctor/checks.js';
import { setMainThreadSched } from '../../lib/main-thread-sched.js';
import { probeMassive, probeRedis } from '../../doctor/probe.js';
import { probeStream } from '../../doctor/probe-stream.js';
import { configFrom, tlsFrom } from '../runtime.js';

/** The real-time feed's host (the live chain's default). */
const DEFAULT_WS_URL = 'wss://socket.massive.com';

const MARK: Record<Check['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The human report: one block per section, one line per check and its advice under it. */
export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  let section = '';
  for (const c of checks) {
    if (c.section !== section) {
      section = c.section;
      if (lines.length) lines.push('');
      lines.push(section.toUpperCase());
    }
    lines.push(`  ${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
    lines.push(`        ${' '.repeat(width)}  → ${c.advice}`);
  }
  const n = (s: Check['status']): number => checks.filter((c) => c.status === s).length;
  lines.push('', `${n('ok')} ok, ${n('warn')} warnings, ${n('fail')} failed, ${n('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}

export async function doctorCommand(flags: { config?: string; json?: boolean }): Promise<number> {
  const config = configFrom(flags);
  // As `run` reads it: an unreadable file is a bad setting (exit 2), not an internal error.
  const tls = tlsFrom(config);
  const [market, system, massive] = await Promise.all([
    probeRedis({
      label: 'market bus',
      url: config.marketRedisUrl,
      cluster: config.marketRedisCluster,
      ...(tls ? { tls } : {}),
    }),
    config.systemRedisUrl
      ? probeRedis({
          label: 'system bus',
          url: config.systemRedisUrl,
          cluster: false,
          ...(tls ? { tls } : {}),
        })
      : undefined,
    probeMassive(config, { streamClient: true }),
  ]);
  // The WebSocket is probed for the real API only (MASSIVE_WS_URL when the live chain defines it).
  // Only once the REST request with the same key succeeded (a refused key is already a fail).
  const restOk =
    massive.facts.status !== undefined && massive.facts.status >= 200 && massive.facts.status < 300;
  if (config.provider === 'massive' && config.apiKey && restOk) {
    const wsUrl = (config as { wsUrl?: string }).wsUrl ?? DEFAULT_WS_URL;
    massive.facts.stream = await probeStream(wsUrl, config.apiKey);
  }
  // Tried on this process, as `run` does at start-up: the same user and limits give the same outcome.
  const sched = await setMainThreadSched(config.mainThreadSched);
  const checks: Check[] = [
    ...redisChecks(market),
    ...(system
      ? redisChecks(system)
      : [
          {
            section: 'redis (system bus)',
            name: 'reachable',
            status: 'ok' as const,
            detail: 'same as the market bus',
            advice: 'set SYSTEM_REDIS_URL to put the heartbeat on another Redis',
          },
        ]),
    ...massiveChecks(massive.facts),
    ...marketChecks(Date.now(), massive.expirations),
    ...configChecks(config),
    schedCheck(config.mainThreadSched, sched),
  ];
  const code = doctorExitCode(checks);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: code === 0, checks, config: redactedConfig(config) }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(formatChecks(checks));
  }
  return code;
}

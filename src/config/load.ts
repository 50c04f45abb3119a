/**
 * @module Loads configuration: defaults, then the JSON config file, then the environment.
 *
 * The file looks like the seed's: `{"buses": {"market-redis": {"url": …, "cluster": false},
 * "system-redis": {"url": …}}, "settings": {"MASSIVE_CHAIN_SYMBOLS": "I:SPX,I:NDX", …}}`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { underlyingOf } from '../redis/keys.js';
import { ConfigError } from './errors.js';
import { SETTINGS, type SettingKey, type Settings } from './settings.js';

export type ProviderKind = 'massive' | 'sim' | 'replay';

export interface Config extends Settings {
  /** What `massive:chain:latest` holds: `CHAIN_LATEST_MODE` with `auto` resolved against `CHAIN_COMPAT`. */
  chainLatest: 'summary' | 'full' | 'off';
  provider: ProviderKind;
  /** True when the provider was chosen because no API key was set. */
  providerDefaulted: boolean;
  /** Heatmap widths per `{U}`. */
  widths: Record<string, number[]>;
}

const DEFAULT_WIDTHS = [5, 10, 15, 20];

const fileSchema = z
  .object({
    buses: z
      .object({
        'market-redis': z.object({ url: z.string().optional(), cluster: z.boolean().optional() }).optional(),
        'system-redis': z.object({ url: z.string().optional() }).optional(),
      })
      .optional(),
    settings: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.any())]))
      .optional(),
  })
  .strict();

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '--config / CHAIN_WORKER_CONFIG',
      'expected a readable JSON file',
      `${path}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError('--config / CHAIN_WORKER_CONFIG', 'expected valid JSON', path);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new ConfigError(`config file ${where}`, issue?.message ?? 'invalid', path);
  }
  const out: Record<string, unknown> = { ...(parsed.data.settings ?? {}) };
  const market = parsed.data.buses?.['market-redis'];
  if (market?.url !== undefined) out.MARKET_REDIS_URL = market.url;
  if (market?.cluster !== undefined) out.MARKET_REDIS_CLUSTER = market.cluster;
  const system = parsed.data.buses?.['system-redis'];
  if (system?.url !== undefined) out.SYSTEM_REDIS_URL = system.url;
  return out;
}

/** A value that counts as set: `undefined` for absent, empty or only blanks (then the next source or the default applies). */
function present(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

function describe(value: unknown, secret: boolean, secrets: readonly string[] = []): string {
  if (secret) return '[redacted]';
  let s = redactUrl(typeof value === 'string' ? value : JSON.stringify(value));
  // A secret pasted into the wrong setting must not be echoed either.
  for (const x of secrets) if (x.length >= 4) s = s.split(x).join('[redacted]');
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

/**
 * Builds the configuration. Throws {@link ConfigError} naming the first bad setting.
 *
 * @example
 * const config = loadConfig({ env: process.env, configFile: process.env.CHAIN_WORKER_CONFIG });
 */
export function loadConfig(opts: { env?: NodeJS.ProcessEnv; configFile?: string } = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.configFile ? readConfigFile(opts.configFile) : {};
  const known = new Set(Object.values(SETTINGS).map((s) => s.name));
  for (const name of Object.keys(file)) {
    if (!known.has(name) && !/^MASSIVE_WIDTHS_[A-Z0-9]+$/.test(name)) {
      throw new ConfigError(`config file settings.${name}`, 'unknown setting (see `chain-worker config`)');
    }
  }

  const secrets = Object.values(SETTINGS)
    .filter((s) => s.secret === true)
    // The value in force: a blank environment value is unset, so the file's secret applies.
    .map((s) => present(env[s.name]) ?? present(file[s.name]))
    .filter((v): v is string => typeof v === 'string');
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const raw = present(env[spec.name]) ?? present(file[spec.name]);
    if (raw === undefined) {
      values[key] = spec.default;
      continue;
    }
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(
        spec.name,
        `${message}. ${spec.help}`,
        describe(raw, spec.secret === true, secrets),
      );
    }
    values[key] = parsed.data;
  }
  const settings = values as unknown as Settings;

  const providerDefaulted = settings.provider === undefined;
  const provider: ProviderKind = settings.provider ?? (settings.apiKey ? 'massive' : 'sim');
  if (provider === 'replay' && !settings.replayFile) {
    throw new ConfigError(
      'MASSIVE_REPLAY_FILE',
      'required when MASSIVE_PROVIDER=replay: the recording to serve',
    );
  }
  if (provider === 'massive' && !settings.apiKey) {
    throw new ConfigError('MASSIVE_API_KEY', 'required when MASSIVE_PROVIDER=massive');
  }
  if (!settings.marketRedisCluster && settings.marketRedisUrl.includes(',')) {
    throw new ConfigError(
      'MARKET_REDIS_URL',
      'several URLs need MARKET_REDIS_CLUSTER=1',
      describe(settings.marketRedisUrl, false, secrets),
    );
  }

  const widths: Record<string, number[]> = {};
  for (const symbol of settings.symbols) {
    const u = underlyingOf(symbol);
    if (u === 'SPX') widths[u] = settings.widthsSpx;
    else if (u === 'NDX') widths[u] = settings.widthsNdx;
    else {
      const name = `MASSIVE_WIDTHS_${u.replace(/[^A-Z0-9]/g, '')}`;
      const raw = present(env[name]) ?? present(file[name]);
      if (raw === undefined) widths[u] = DEFAULT_WIDTHS;
      else {
        const parsed = SETTINGS.widthsSpx.schema.safeParse(raw);
        if (!parsed.success)
          throw new ConfigError(
            name,
            'expected a comma-separated list of positive numbers',
            describe(raw, false),
          );
        widths[u] = parsed.data;
      }
    }
  }
  const chainLatest =
    settings.latestMode === 'auto'
      ? settings.compat === 'marketswarm'
        ? 'full'
        : 'summary'
      : settings.latestMode;
  return { ...settings, chainLatest, provider, providerDefaulted, widths };
}

/**
 * The configuration as safe to print: secrets replaced by `[set]`, and a secret pasted into another setting
 * (the key in MASSIVE_BASE_URL's query, say) replaced by `[redacted]` there.
 */
export function redactedConfig(config: Config): Record<string, unknown> {
  const values = config as unknown as Record<string, unknown>;
  const secrets = Object.entries(SETTINGS)
    .filter(([, spec]) => spec.secret === true)
    .map(([key]) => values[key])
    .filter((v): v is string => typeof v === 'string' && v.length >= 4);
  const scrub = (v: unknown): unknown => {
    if (typeof v === 'string') return secrets.reduce((s, x) => s.split(x).join('[redacted]'), v);
    return Array.isArray(v) ? v.map(scrub) : v;
  };
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS)) {
    const value = values[key];
    out[spec.name] = spec.secret === true ? (value !== undefined ? '[set]' : value) : scrub(value);
  }
  out.MARKET_REDIS_URL = scrub(redactUrl(config.marketRedisUrl));
  if (config.systemRedisUrl) out.SYSTEM_REDIS_URL = scrub(redactUrl(config.systemRedisUrl));
  return out;
}

/** Hides a password in redis://user:pass@host URLs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@,]*:)[^@/,]*@/g, '$1***@');
}

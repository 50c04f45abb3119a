/**
 * Issue 10, defect 2: an API (or a proxy in front of it) that echoes the `Authorization` header in its
 * 401 and 500 bodies, raw, percent-encoded and JSON-escaped, or in a 200 that is not JSON or is that error
 * body (`status: "ERROR"`, a malformed page whose message quotes the vendor's). The key must
 * reach no error (message, stack, cause chain), no log line, no Redis key or value, no HTTP response of
 * our server and no output stream of the binary (`run`, `inspect`, `fetch`, `record`).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/chain-worker/worker.js';
import { MassiveHttp } from '../../src/provider/massive/http.js';
import { secretScrubber } from '../../src/provider/massive/errors.js';
import { KeySchema } from '../../src/redis/keys.js';
import { BIN, binaryEnv } from '../support/binary.js';
import { captureLogger, dumpPrefix } from '../support/fault-kit.js';
import { cleanupPrefix, openBus, redisTargets, testPrefix } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';

const single = redisTargets()[0] as ReturnType<typeof redisTargets>[number];
/** Characters that encode differently in a URL and in JSON, so every echoed form is distinct. */
const KEY = `mk/live+${randomBytes(12).toString('hex')}=`;
const RANDOM = KEY.slice(8, 32);

/** Every form of the key an echoing server writes back. */
function forms(text: string): string[] {
  return [KEY, encodeURIComponent(KEY), RANDOM, KEY.toLowerCase().slice(8, 32)].filter((f) =>
    text.includes(f),
  );
}

type Mode = '500' | '401' | 'not-json' | 'error-200';
let mode: Mode = '500';
let api: Server;
let apiUrl = '';

function echo(auth: string): string {
  const escaped = JSON.stringify(auth)
    .slice(1, -1)
    .replace(/[/+=]/g, (c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `header was ${auth}; encoded ${encodeURIComponent(auth)}; escaped ${escaped}; lower ${encodeURIComponent(auth).replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase())}`;
}

beforeAll(async () => {
  api = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    if (mode === 'not-json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${auth} is not JSON`);
      return;
    }
    const status = mode === '401' ? 401 : mode === 'error-200' ? 200 : 500;
    // JSON.stringify leaves "/" alone; write the \u-escaped forms into the raw JSON text.
    const body = `{"status":"ERROR","request_id":${JSON.stringify(auth)},"${mode === '401' ? 'message' : 'error'}":"${echo(auth).replace(/"/g, '\\"')}"}`;
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => api.close(r));
});

/** Everything an error carries, cause chain included. */
function errorText(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 8) return String(err);
  const own = Object.getOwnPropertyNames(err).map(
    (k) => `${k}=${String((err as unknown as Record<string, unknown>)[k])}`,
  );
  return [err.message, err.stack ?? '', ...own, errorText(err.cause, depth + 1)].join('\n');
}

describe('an echoed API key (defect 2)', () => {
  it('the scrubber removes raw, bearer, percent-encoded (either case) and escaped forms', () => {
    const scrub = secretScrubber(KEY);
    const text = `${echo(`Bearer ${KEY}`)} ${KEY.toUpperCase()} Bearer%20${encodeURIComponent(KEY).toLowerCase()}`;
    expect(forms(text).length).toBeGreaterThanOrEqual(3);
    const clean = scrub(text);
    expect(forms(clean)).toEqual([]);
    expect(clean).toMatch(/header was \[redacted\]; encoded \[redacted\]; escaped \[redacted\]/);
    expect(scrub('nothing secret here')).toBe('nothing secret here');
  });

  it.each<[Mode, RegExp]>([
    ['500', /Massive API HTTP 500/],
    ['401', /authentication failed \(HTTP 401/],
    ['not-json', /malformed page/],
    ['error-200', /malformed page(.|\n)*status "ERROR"/],
  ])('HTTP layer, %s: the thrown error and every log line are clean', async (m, re) => {
    mode = m;
    const log = captureLogger({ level: 'trace' });
    const http = new MassiveHttp({
      baseUrl: apiUrl,
      apiKey: KEY,
      requestTimeoutMs: 2_000,
      maxRetries: 2,
      rateLimitRps: 0,
      connections: 2,
      logger: log.logger,
      retryBaseMs: 1,
      retryMaxMs: 5,
    });
    try {
      const err = await http
        .getJson('/v3/snapshot/options/I:SPX?limit=250', AbortSignal.timeout(10_000), {
          pages: 0,
          retries: 0,
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      const text = errorText(err);
      expect(text).toMatch(re);
      expect(forms(text)).toEqual([]);
      if (m !== 'not-json') expect(text).toContain('[redacted]');
      expect(forms(log.text())).toEqual([]);
      if (m !== '401') expect(log.text()).toMatch(/massive: retrying/);
    } finally {
      await http.close();
    }
  });

  describe('the real binary', () => {
    const prefix = testPrefix();
    afterAll(async () => {
      const bus = await openBus(single);
      await cleanupPrefix(bus, prefix);
      await bus.close();
    });
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
      binaryEnv({
        MARKET_REDIS_URL: single.url,
        CHAIN_KEY_PREFIX: prefix,
        MASSIVE_PROVIDER: 'massive',
        MASSIVE_BASE_URL: apiUrl,
        MASSIVE_API_KEY: KEY,
        MASSIVE_MAX_RETRIES: '1',
        MASSIVE_CHAIN_SYMBOLS: 'I:SPX',
        MASSIVE_CHAIN_INTERVAL_SEC: '0.2',
        CHAIN_HEARTBEAT_SEC: '0.2',
        LOG_LEVEL: 'trace',
        ...extra,
      });
    const exec = (args: string[], m: Mode): Promise<{ code: number; out: string }> => {
      mode = m;
      return new Promise((resolve) => {
        execFile(BIN, args, { env: env(), timeout: 30_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? Number(err.code) : 0, out: `${stdout}${stderr}` });
        });
      });
    };

    it(
      'run --http: failed cycles (500), every HTTP answer, then the 401 shutdown; Redis, stdout and stderr',
      { timeout: 60_000 },
      async () => {
        mode = '500';
        const srv = createServer();
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        const port = (srv.address() as AddressInfo).port;
        await new Promise((r) => srv.close(r));
        const proc = spawn(BIN, ['run', '--http', `127.0.0.1:${port}`], {
          env: env(),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
        proc.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
        const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
        const bus = await openBus(single);
        const k = new KeySchema(prefix);
        try {
          await waitUntil(
            async () => Number(await bus.cmd.hget(k.analytics, 'failed_cycles')) >= 3,
            20_000,
            'failed cycles',
          );
          const base = `http://127.0.0.1:${port}`;
          const bodies: string[] = [];
          for (const path of [
            '/healthz',
            '/readyz',
            '/metrics',
            '/api/symbols',
            '/api/epochs',
            '/api/models/gex/SPX',
            '/api/analytics/latency',
            '/',
            '/app.js',
          ]) {
            const res = await request(base + path);
            bodies.push(`${path} ${res.statusCode} ${JSON.stringify(res.headers)} ${await res.body.text()}`);
          }
          const events = await request(`${base}/events`, { signal: AbortSignal.timeout(800) }).then(
            async (res) => {
              let text = '';
              try {
                for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
              } catch {
                // the timeout ends the stream
              }
              return text;
            },
            () => '',
          );
          bodies.push(events);
          const all = bodies.join('\n');
          expect(all).toMatch(/"failed_cycles":\d+/);
          expect(forms(all)).toEqual([]);

          mode = '401';
          expect(await exited).toBe(EXIT.auth);
          expect(out).toMatch(/authentication failed/);
          expect(out).toContain('[redacted]');
          expect(forms(out)).toEqual([]);
          const dump = await dumpPrefix(bus, prefix);
          expect(dump.size).toBeGreaterThan(3);
          const values = [...dump.values()].join('\n');
          expect(values).toMatch(
            /HTTP 401, request \[redacted\]\): header was \[redacted\]; encoded \[redacted\]/,
          );
          const leaks = [...dump]
            .filter(([key, v]) => forms(key).length + forms(v).length > 0)
            .map(([key]) => key);
          expect(leaks).toEqual([]);
        } finally {
          proc.kill('SIGKILL');
          await bus.close();
        }
      },
    );

    it('inspect --json, fetch and record print no form of the key', async () => {
      const inspect = await exec(['inspect', '--json'], '500');
      expect(inspect.code).toBe(0);
      expect(inspect.out).toMatch(/"reason": "authentication failed: .*HTTP 401.*header was \[redacted\]/);
      expect(forms(inspect.out)).toEqual([]);
      const out = join(mkdtempSync(join(tmpdir(), 'cw-echo-')), 'rec.json');
      const runs = await Promise.all([
        exec(['fetch', '--symbol', 'I:SPX'], '500'),
        exec(['record', '--out', out], '500'),
      ]);
      runs.push(
        ...(await Promise.all([
          exec(['fetch', '--symbol', 'I:SPX'], '401'),
          exec(['record', '--out', out], '401'),
        ])),
      );
      for (const r of runs) {
        expect(r.code).not.toBe(0);
        expect(r.out).toMatch(/HTTP (500|401)/);
        expect(forms(r.out)).toEqual([]);
      }
    }, 90_000);
  });
});

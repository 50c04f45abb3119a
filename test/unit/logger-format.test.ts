/**
 * Log formats: JSON lines by default when the output is not a terminal, one readable line per event on a
 * terminal or with LOG_FORMAT=pretty, and the secret scrubbing applies to both.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger, isPretty, type LogFormat } from '../../src/lib/logger.js';
import { BIN, binaryEnv } from '../support/binary.js';

const run = promisify(execFile);

function capture(isTTY = false): { lines: string[]; write(s: string): void; isTTY: boolean } {
  const lines: string[] = [];
  return {
    lines,
    isTTY,
    write(s: string) {
      lines.push(...s.split('\n').filter(Boolean));
    },
  };
}

describe('log format', () => {
  it.each<[LogFormat, boolean, boolean]>([
    ['auto', false, false],
    ['auto', true, true],
    ['json', true, false],
    ['json', false, false],
    ['pretty', false, true],
    ['pretty', true, true],
  ])('%s with isTTY=%s is pretty: %s', (format, tty, pretty) => {
    expect(isPretty(format, capture(tty))).toBe(pretty);
  });

  it('json: one parsable object per event', () => {
    const out = capture();
    const log = createLogger({ destination: out, format: 'json' });
    log.info({ symbol: 'SPX', contracts: 1000 }, 'cycle done');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0] as string)).toMatchObject({
      level: 30,
      msg: 'cycle done',
      symbol: 'SPX',
      contracts: 1000,
    });
  });

  it('pretty: one readable line per event with time, level, message and fields', () => {
    const out = capture();
    const log = createLogger({ destination: out, format: 'pretty' });
    log.info({ symbol: 'SPX', contracts: 1000 }, 'cycle done');
    log.warn('slow');
    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chain-worker\): cycle done /);
    expect(out.lines[0]).toContain('"symbol":"SPX"');
    expect(out.lines[0]).toContain('"contracts":1000');
    expect(out.lines[1]).toMatch(/ WARN \(chain-worker\): slow$/);
    expect(out.lines.join('')).not.toContain('\u001b['); // no colour codes off a terminal
  });

  it.each<LogFormat>(['json', 'pretty'])(
    '%s: registered secrets and apiKey fields are scrubbed',
    (format) => {
      const secret = `mk_live_${randomBytes(12).toString('hex')}`;
      const out = capture();
      const log = createLogger({ destination: out, format, secrets: [secret] });
      log.error(
        { url: `https://x/?apiKey=${secret}`, apiKey: 'other-key', headers: { authorization: 'B' } },
        secret,
      );
      log.info({ nested: { detail: `bearer ${secret}` } }, 'request failed');
      const text = out.lines.join('\n');
      expect(out.lines).toHaveLength(2);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('other-key');
      expect(text.split('[redacted]').length - 1).toBeGreaterThanOrEqual(4);
    },
  );

  it('the binary honours LOG_FORMAT=pretty and defaults to JSON off a terminal', async () => {
    const lines = async (extra: Record<string, string>): Promise<string[]> => {
      const { stderr } = await run(BIN, ['fetch', '--symbol', 'I:SPX'], { env: binaryEnv(extra) });
      return stderr.split('\n').filter(Boolean);
    };
    const json = await lines({});
    expect(json.length).toBeGreaterThan(0);
    for (const l of json) expect(() => JSON.parse(l) as unknown).not.toThrow();
    const pretty = await lines({ LOG_FORMAT: 'pretty' });
    expect(pretty.length).toBe(json.length);
    expect(pretty[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(chain-worker\): no MASSIVE_API_KEY set/);
  });
});

/**
 * Start-up failures of the real binary (issue 10, defects 3 and 5): each exits by itself, promptly, with
 * the documented code and one line on stderr naming the cause; nothing opened before the failure keeps
 * the process alive.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/chain-worker/worker.js';
import { BIN, binaryEnv } from '../support/binary.js';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the binary to its end (killed after `limitMs`: a hang shows as code null). */
export function runBinary(args: string[], env: Record<string, string>, limitMs = 20_000): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: binaryEnv(env), timeout: limitMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - t0 });
      },
    );
  });
}

/** stderr is exactly one line starting with `chain-worker: `, and no stack trace. */
function expectOneLine(stderr: string, re: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^chain-worker: /);
  expect(lines[0]).toMatch(re);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('chain-worker config (defect 5)', () => {
  it.each([
    [['config'], { MASSIVE_CHAIN_INTERVAL_SEC: 'abc' }, /MASSIVE_CHAIN_INTERVAL_SEC/],
    [['config'], { MASSIVE_RATE_LIMIT_RPS: '0x10' }, /MASSIVE_RATE_LIMIT_RPS/],
    [['config'], { MARKET_REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /MARKET_REDIS_URL/],
    [['--config', '/nonexistent/chain-worker.json', 'config'], {}, /--config.*nonexistent/],
    [['config'], { CHAIN_WORKER_CONFIG: '/nonexistent/c.json' }, /CHAIN_WORKER_CONFIG.*nonexistent/],
  ])('%j with %j: exit 2, one line naming it', async (args, env, re) => {
    const r = await runBinary(args, env);
    expect(r.code).toBe(EXIT.config);
    expectOneLine(r.stderr, re);
    expect(r.stdout).toBe('');
  });

  it('a good configuration still prints it (exit 0)', async () => {
    const r = await runBinary(['config'], { MASSIVE_RATE_LIMIT_RPS: ' ' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ MASSIVE_RATE_LIMIT_RPS: 100 });
  });
});

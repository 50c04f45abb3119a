/**
 * Helpers for the serving tests: a worker stack with published models, server deps, and a small SSE
 * client over node:http that keeps the raw bytes (to check the framing) and the parsed events.
 */
import { request, type IncomingMessage } from 'node:http';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { HttpServerDeps } from '../../src/serving/server.js';
import type { RedisTarget } from '../support/redis.js';
import { startHarness, type Harness, type HarnessOptions } from '../support/worker-harness.js';

/** Runs one cycle per symbol and builds the models. */
export async function cycleAndBuild(h: Harness, symbols = h.config.symbols): Promise<void> {
  for (const s of symbols) {
    const res = await runCycle(h.deps, s, '');
    if (!res.ok) throw new Error(`cycle ${s} failed: ${JSON.stringify(res)}`);
  }
  await new ModelBuilder({
    bus: h.bus,
    keys: h.keys,
    config: h.config,
    logger: h.logger,
    metrics: h.metrics,
    owner: 't',
  }).drain();
}

export async function stack(
  target: RedisTarget,
  opts: HarnessOptions & { build?: boolean } = {},
): Promise<Harness> {
  const h = await startHarness(target, opts);
  if (opts.build !== false) await cycleAndBuild(h);
  return h;
}

export function depsOf(h: Harness, extra: Partial<HttpServerDeps> = {}): HttpServerDeps {
  return {
    bus: h.bus,
    keys: h.keys,
    config: h.config,
    logger: h.logger,
    metrics: h.metrics,
    mode: 'run',
    lastSuccessTs: () => Date.now(),
    ...extra,
  };
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
  retry?: number;
}

export interface SseBlock {
  lines: string[];
}

/** Splits a stream into complete blocks (each ended by a blank line); returns the unfinished rest. */
export function splitBlocks(text: string): { blocks: string[][]; rest: string } {
  const parts = text.split('\n\n');
  const rest = parts.pop() ?? '';
  return { blocks: parts.map((p) => p.split('\n')), rest };
}

/** Interprets one block as the browser would (comments dropped; null when only comments). */
export function toEvent(lines: string[]): SseEvent | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  let retry: number | undefined;
  let any = false;
  for (const line of lines) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i === -1 ? line : line.slice(0, i);
    let value = i === -1 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    any = true;
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') retry = Number(value);
  }
  return any ? { event, id, data: data.join('\n'), ...(retry !== undefined ? { retry } : {}) } : null;
}

export class SseClient {
  raw = '';
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private rest = '';
  private waiters: (() => void)[] = [];
  ended = false;

  private constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.raw += chunk;
      const { blocks, rest } = splitBlocks(this.rest + chunk);
      this.rest = rest;
      for (const b of blocks) {
        for (const l of b) if (l.startsWith(':')) this.comments.push(l);
        const ev = toEvent(b);
        if (ev) this.events.push(ev);
      }
      this.wake();
    });
    const end = (): void => {
      this.ended = true;
      this.wake();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) =>
        resolve(new SseClient(res)),
      );
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error('SSE request timeout')));
      req.end();
    });
  }

  get status(): number | undefined {
    return this.res.statusCode;
  }

  models(): {
    model: string;
    symbol: string;
    epoch_id: string;
    ts: string | null;
    stale: boolean | null;
    url: string;
  }[] {
    return this.events
      .filter((e) => e.event === 'model')
      .map((e) => JSON.parse(e.data) as ReturnType<SseClient['models']>[number]);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred()` holds (checked on every chunk), or fails after `timeoutMs`. */
  async waitFor(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: timed out waiting for ${what}; got ${this.events.length} events`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.res.destroy();
  }
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

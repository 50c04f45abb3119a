/**
 * The launch carries the memory settings (README "Performance", Memory): `bin/chain-worker`'s interpreter
 * line sets glibc's malloc environment and V8's young-generation size before the process starts; `npm
 * start` runs the bin itself (not `node bin/…`, which would skip the line); the benchmark starts its
 * worker processes with that same line, so the RSS it reports is what a user's process gets.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { asChainWorker, parseLaunchLine } from '../../bench/launch-line.js';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';

const exec = promisify(execFile);

describe('parseLaunchLine', () => {
  it.each([
    ['#!/usr/bin/env node\nx', { command: '/usr/bin/env', arg: 'node' }],
    ['#! /usr/bin/env -S A=1 node --x=2  \n', { command: '/usr/bin/env', arg: '-S A=1 node --x=2' }],
    ['#!/usr/bin/node', { command: '/usr/bin/node', arg: null }],
    ['import x;\n', null],
    ['#!\n', null],
  ])('%j', (text, want) => {
    expect(parseLaunchLine(text)).toEqual(want);
  });
});

describe('bin/chain-worker launch', () => {
  it('a process started the way bin/chain-worker is has the malloc arenas and thresholds and the semi-space cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'launch-'));
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      `console.log(JSON.stringify({ arenas: process.env.MALLOC_ARENA_MAX, mmap: process.env.MALLOC_MMAP_THRESHOLD_, trim: process.env.MALLOC_TRIM_THRESHOLD_, argv: process.execArgv, args: process.argv.slice(2) }));`,
    );
    const run = asChainWorker(probe, ['--x', 'y z']);
    const env = { ...process.env };
    delete env.MALLOC_ARENA_MAX;
    delete env.MALLOC_MMAP_THRESHOLD_;
    delete env.MALLOC_TRIM_THRESHOLD_;
    const { stdout } = await exec(run.command, run.args, { env }).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    const got = JSON.parse(stdout) as {
      arenas: string;
      mmap: string;
      trim: string;
      argv: string[];
      args: string[];
    };
    // One malloc arena shared by every thread, not one per thread each keeping its own high-water mark.
    expect(got.arenas).toBe('1');
    // 2 MiB and 1 GiB: freed blocks under 2 MiB stay in the process for reuse; the larger ones (model
    // documents, history versions, brotli's buffers) are mapped for their use and given back.
    expect(got.mmap).toBe(String(2 * 2 ** 20));
    expect(got.trim).toBe(String(2 ** 30));
    // The main isolate's young generation (1 MB semi-spaces), and every isolate's collections done on its
    // own thread, none waiting for V8's helper threads (see README "Performance").
    expect(got.argv).toEqual(['--max-semi-space-size=1', '--single-threaded-gc']);
    expect(got.args).toEqual(['--x', 'y z']);
  });

  it('npm start runs the bin, so its interpreter line applies', () => {
    const pkg = JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start?.startsWith('./bin/chain-worker ')).toBe(true);
  });
});

describe('young generations under the launch line', () => {
  // The probe churns short-lived objects until each new space is at its largest, then reports its size
  // (MB): the main thread's, and that of a thread started with maxYoungGenerationSizeMb 4 (the model
  // thread's), with or without tuneHeap first.
  const probeText = (heapJs: string, tune: boolean): string => `
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import v8 from 'node:v8';
import { tuneHeap } from ${JSON.stringify(heapJs)};
const churn = () => { let keep = []; for (let i = 0; i < 4e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 1000) keep = []; } };
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;
if (isMainThread) {
  ${tune ? 'tuneHeap(50);' : ''}
  churn();
  const main = newSpace();
  const w = new Worker(new URL(import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  w.on('message', (thread) => console.log(JSON.stringify({ main, thread })));
} else {
  churn();
  parentPort.postMessage(newSpace());
}`;

  it.each([
    [true, { main: 2, thread: 4 }],
    // Without it the flag overrides every thread's limit: each had the main thread's 2 MB.
    [false, { main: 2, thread: 2 }],
  ])('tuneHeap run first: %s → %j', async (tune, want) => {
    const dir = mkdtempSync(join(tmpdir(), 'launch-yg-'));
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, probeText(resolve(PACKAGE_ROOT, 'dist/src/lib/heap.js'), tune));
    const run = asChainWorker(probe, []);
    const { stdout } = await exec(run.command, run.args).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    expect(JSON.parse(stdout)).toEqual(want);
  });
});

/** The fleet heartbeat's composition rules (pure): live entries, worst status, final faulty kept, merge. */
import { describe, expect, it } from 'vitest';
import {
  composeFleet,
  FINAL_KEEP_SEC,
  parseEntry,
  type WorkerEntry,
} from '../../src/wiring/heartbeat-fleet.js';

const NOW = 1_764_577_498.123;
const TTL = 15;
const opts = { ttlSec: TTL, service: 'chain-worker', instance: 'me' };

function e(instance: string, over: Partial<WorkerEntry> = {}): WorkerEntry {
  return {
    instance,
    status: 'ok',
    ts: NOW - 1,
    reason: null,
    provider: 'sim',
    final: false,
    last_cycle: {},
    ...over,
  };
}

describe('composeFleet', () => {
  const cases: {
    name: string;
    entries: Record<string, WorkerEntry | null>;
    status: string;
    reason: string | null;
    workers: string[];
    prune: string[];
    expire: number;
  }[] = [
    {
      name: 'no entry at all',
      entries: {},
      status: 'stopped',
      reason: 'no worker alive',
      workers: [],
      prune: [],
      expire: TTL,
    },
    {
      name: 'one live ok',
      entries: { a: e('a') },
      status: 'ok',
      reason: null,
      workers: ['a'],
      prune: [],
      expire: TTL,
    },
    {
      name: 'worst live status wins',
      entries: { a: e('a'), b: e('b', { status: 'degraded', reason: 'SPX dormant' }) },
      status: 'degraded',
      reason: 'SPX dormant',
      workers: ['a', 'b'],
      prune: [],
      expire: TTL,
    },
    {
      name: 'one stopped, one live: not stopped; the stopped one leaves',
      entries: { a: e('a', { status: 'stopped', final: true }), b: e('b') },
      status: 'ok',
      reason: null,
      workers: ['b'],
      prune: ['a'],
      expire: TTL,
    },
    {
      name: 'all stopped',
      entries: {
        a: e('a', { status: 'stopped', final: true }),
        b: e('b', { status: 'stopped', final: true }),
      },
      status: 'stopped',
      reason: 'no worker alive',
      workers: [],
      prune: ['a', 'b'],
      expire: TTL,
    },
    {
      name: 'all stopped: the reason the last one gave',
      entries: {
        a: e('a', { status: 'stopped', final: true, reason: 'SIGTERM', ts: NOW - 3 }),
        b: e('b', { status: 'stopped', final: true, reason: 'shutdown' }),
      },
      status: 'stopped',
      reason: 'shutdown',
      workers: [],
      prune: ['a', 'b'],
      expire: TTL,
    },
    {
      name: 'a final faulty alone is kept, with its reason, for a day',
      entries: {
        a: e('a', { status: 'faulty', final: true, reason: 'authentication failed', ts: NOW - 3_600 }),
      },
      status: 'faulty',
      reason: 'authentication failed',
      workers: ['a'],
      prune: [],
      expire: FINAL_KEEP_SEC,
    },
    {
      name: 'a clean stop after a final faulty (the restart recovered, then stopped) supersedes it',
      entries: {
        a: e('a', { status: 'faulty', final: true, reason: 'auth', ts: NOW - 60 }),
        b: e('b', { status: 'stopped', final: true, reason: 'shutdown' }),
      },
      status: 'stopped',
      reason: 'shutdown',
      workers: [],
      prune: ['a', 'b'],
      expire: TTL,
    },
    {
      name: 'a final faulty beside a live worker: the live status, the faulty entry still shown',
      entries: { a: e('a', { status: 'faulty', final: true, reason: 'auth' }), b: e('b') },
      status: 'ok',
      reason: null,
      workers: ['a', 'b'],
      prune: [],
      expire: TTL,
    },
    {
      name: 'a final faulty older than a day is dropped',
      entries: { a: e('a', { status: 'faulty', final: true, ts: NOW - FINAL_KEEP_SEC - 1 }) },
      status: 'stopped',
      reason: 'no worker alive',
      workers: [],
      prune: ['a'],
      expire: TTL,
    },
    {
      name: 'a silent worker (killed) is not live after the TTL, and is pruned',
      entries: { a: e('a', { ts: NOW - TTL - 0.5 }), b: e('b', { status: 'degraded' }) },
      status: 'degraded',
      reason: null,
      workers: ['b'],
      prune: ['a'],
      expire: TTL,
    },
    {
      name: 'a live faulty (not yet stopped) counts as live',
      entries: { a: e('a', { status: 'faulty', reason: 'x' }), b: e('b') },
      status: 'faulty',
      reason: 'x',
      workers: ['a', 'b'],
      prune: [],
      expire: TTL,
    },
    {
      name: 'garbage entries are pruned',
      entries: { junk: null, a: e('a') },
      status: 'ok',
      reason: null,
      workers: ['a'],
      prune: ['junk'],
      expire: TTL,
    },
  ];
  it.each(cases)('$name', (c) => {
    const { view, prune, expireSec } = composeFleet(c.entries, NOW, opts);
    expect(view.status).toBe(c.status);
    expect(view.reason).toBe(c.reason);
    expect(Object.keys(view.workers)).toEqual(c.workers);
    expect(prune.sort()).toEqual(c.prune);
    expect(expireSec).toBe(c.expire);
    expect(view.ts).toBe(NOW);
  });

  it('merges last_cycle per symbol by newest, whichever worker ran it; the same view whoever composes', () => {
    const a = e('a', {
      last_cycle: {
        SPX: { ts: NOW - 10, health: 'ok', epoch_id: 'SPX:1:a', latency_ms: 5 },
        NDX: { ts: NOW - 2, health: 'slow', epoch_id: 'NDX:1:a', latency_ms: 9 },
      },
    });
    const b = e('b', {
      provider: 'massive',
      last_cycle: { SPX: { ts: NOW - 1, health: 'ok', epoch_id: 'SPX:2:b', latency_ms: 7 } },
    });
    const byA = composeFleet({ a, b }, NOW, { ...opts, instance: 'a' }).view;
    const byB = composeFleet({ b, a }, NOW, { ...opts, instance: 'b' }).view;
    expect(byA.last_cycle).toEqual({
      NDX: { ts: NOW - 2, health: 'slow', epoch_id: 'NDX:1:a', latency_ms: 9 },
      SPX: { ts: NOW - 1, health: 'ok', epoch_id: 'SPX:2:b', latency_ms: 7 },
    });
    expect(byA.provider).toBe('massive,sim');
    expect(byA.live_workers).toBe(2);
    const { instance: _ia, ...restA } = byA;
    const { instance: _ib, ...restB } = byB;
    expect(JSON.stringify(restA)).toBe(JSON.stringify(restB));
  });

  it('parseEntry refuses what is not an entry', () => {
    expect(parseEntry('nope')).toBeNull();
    expect(parseEntry('{"instance":"a","ts":"1","status":"ok"}')).toBeNull();
    expect(parseEntry('{"instance":"a","ts":1764577498,"status":"bogus"}')).toBeNull();
    expect(parseEntry('{"instance":"a","ts":1764577498,"status":"ok"}')).toEqual({
      instance: 'a',
      status: 'ok',
      ts: 1764577498,
      reason: null,
      provider: '',
      final: false,
      last_cycle: {},
    });
  });
});

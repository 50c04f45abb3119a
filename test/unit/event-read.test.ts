import { describe, expect, it } from 'vitest';
import { formatEvent, summaryOf } from '../../src/cli/commands/events.js';
import { compareIds, eventMatches, isStreamId, parseEntry } from '../../src/outputs/events/read.js';

describe('stream ids', () => {
  it.each<[string | undefined, boolean]>([
    ['1764577498123-0', true],
    ['0-0', true],
    ['1764577498123-12', true],
    ['1764577498123', false],
    ['1-2-3', false],
    ['', false],
    [undefined, false],
    ['abc-1', false],
    ['$', false],
    ['18446744073709551615-18446744073709551615', true], // 2^64 - 1 each
    ['18446744073709551616-0', false], // past what XRANGE takes
    ['1-99999999999999999999', false],
  ])('isStreamId(%j) = %s', (id, want) => {
    expect(isStreamId(id)).toBe(want);
  });

  it.each<[string, string, number]>([
    ['1-0', '1-0', 0],
    ['1-0', '1-1', -1],
    ['2-0', '1-9', 1],
    ['99999999999999-0', '100000000000000-0', -1], // numeric, not text
    ['1-10', '1-9', 1],
  ])('compareIds(%s, %s) = %d', (a, b, want) => {
    expect(compareIds(a, b)).toBe(want);
  });
});

describe('parseEntry and eventMatches', () => {
  it.each<[string, string[], { type: string; symbol: string | null } | null]>([
    ['a symbol event', ['payload', '{"type":"dormant","symbol":"SPX"}'], { type: 'dormant', symbol: 'SPX' }],
    ['worker-wide', ['payload', '{"type":"shutdown","symbol":null}'], { type: 'shutdown', symbol: null }],
    ['not JSON', ['payload', '{nope'], null],
    ['no type', ['payload', '{"symbol":"SPX"}'], null],
    ['no payload field', ['data', '{"type":"x"}'], null],
    ['payload as a value, not a field name', ['x', 'payload'], null],
  ])('%s', (_name, fields, want) => {
    const e = parseEntry('1-0', fields);
    if (want === null) expect(e).toBeNull();
    else expect(e).toMatchObject({ id: '1-0', ...want, json: fields[1] });
  });

  it('a symbol filter passes that symbol and worker-wide events', () => {
    const spx = parseEntry('1-0', ['payload', '{"type":"a","symbol":"SPX"}']);
    const all = parseEntry('2-0', ['payload', '{"type":"shutdown","symbol":null}']);
    if (!spx || !all) throw new Error('parse');
    expect(eventMatches(spx, new Set(['NDX']))).toBe(false);
    expect(eventMatches(spx, new Set(['SPX']))).toBe(true);
    expect(eventMatches(all, new Set(['NDX']))).toBe(true);
    expect(eventMatches(spx, null)).toBe(true);
  });
});

describe('events CLI lines', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'epoch_promoted',
      {
        epoch_id: 'SPX:2:b',
        reason: 'geometry',
        contracts: 1200,
        prev_epoch_id: 'SPX:1:a',
        geometry: {
          expirations: { entered: ['2026-01-09'], left: [] },
          strikes: { entered: [1, 2], left: [3] },
        },
      },
      'SPX:2:b reason=geometry contracts=1200 prev=SPX:1:a expirations +1/-0 strikes +2/-1',
    ],
    [
      'epoch_promoted',
      { epoch_id: 'SPX:1:a', reason: 'first', contracts: 10, prev_epoch_id: null, geometry: null },
      'SPX:1:a reason=first contracts=10 prev=—',
    ],
    ['health_changed', { from: 'ok', to: 'failed' }, 'ok → failed'],
    ['dormant', { epoch_id: 'E', dormant_count: 3, error: 'HTTP 500' }, 'E dormant_count=3 HTTP 500'],
    ['recovered', { epoch_id: 'E2', prev_epoch_id: 'E' }, 'E2 (was E)'],
    [
      'shutdown',
      { worker: 'w', status: 'faulty', reason: 'authentication failed' },
      'worker=w status=faulty reason=authentication failed',
    ],
    [
      'zero_gamma_crossed',
      { direction: 'down', spot: 6891.234, zero_gamma: 6900.4 },
      'down spot=6891.23 zero_gamma=6900.4',
    ],
    [
      'regime_changed',
      { from: 'positive', to: 'negative', net: -1.5e9 },
      'positive → negative net=-1500000000',
    ],
    ['wall_moved', { wall: 'call', from: 6900, to: 6950 }, 'call wall 6900 → 6950'],
    ['something_new', { a: 1 }, '{"a":1}'],
  ])('%s: %s', (type, e, want) => {
    expect(summaryOf(type, e)).toBe(want);
  });

  it('a text line and a JSON line', () => {
    const e = parseEntry('1764577498123-0', [
      'payload',
      '{"type":"wall_moved","symbol":"SPX","epoch_id":"E","ts":1764577498.123,"wall":"put","from":6800,"to":6750}',
    ]);
    if (!e) throw new Error('parse');
    expect(formatEvent(e, false)).toBe(
      '1764577498123-0  2025-12-01T08:24:58.123Z  wall_moved          SPX    put wall 6800 → 6750',
    );
    expect(JSON.parse(formatEvent(e, true))).toEqual({ id: '1764577498123-0', ...e.event });
  });
});

/**
 * The level-event rule (src/outputs/events/levels.ts): sequences of GEX builds in, events out. Each case
 * feeds its builds one after the other through the rule, carrying the state, and lists every event.
 */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_LEVEL_STATE,
  levelEvents,
  parseLevelState,
  type LevelEvent,
  type LevelInput,
  type LevelParams,
  type LevelState,
} from '../../src/outputs/events/levels.js';

const P: LevelParams = { zeroGammaBandPct: 0.1, regimeBandPct: 5, wallConfirmBuilds: 2 };

/** A build: spot and zero gamma (SPX-like: the 0.1 % band is 6 points at 6000), net/gross, walls. */
function b(spot: number | null, zg: number | null, over: Partial<LevelInput> = {}): LevelInput {
  return { spot, zeroGamma: zg, net: 1e9, gross: 4e9, callWall: 6100, putWall: 5900, ...over };
}

function run(builds: LevelInput[], p = P, start: LevelState | null = null): LevelEvent[] {
  let state = start;
  const all: LevelEvent[] = [];
  for (const m of builds) {
    const r = levelEvents(state, m, p);
    all.push(...r.events);
    // The state survives a JSON round trip (it is stored in Redis between builds).
    state = parseLevelState(JSON.stringify(r.state));
    expect(state).toEqual(r.state);
  }
  return all;
}

describe('levelEvents: zero gamma', () => {
  it.each<[string, LevelInput[], LevelEvent[]]>([
    ['the first build only sets the side', [b(6010, 6000)], []],
    [
      'spot falls through zero gamma: one event, on the first build past the band',
      [b(6010, 6000), b(6003, 6000), b(5997, 6000), b(5993, 6000), b(5980, 6000)],
      [{ type: 'zero_gamma_crossed', direction: 'down', spot: 5993, zero_gamma: 6000 }],
    ],
    [
      'jitter inside the band around the level: none',
      [b(6010, 6000), b(5998, 6000), b(6002, 6000), b(5995, 6000), b(6005, 6000), b(5994.5, 6000)],
      [],
    ],
    [
      'down then back up: two events',
      [b(6010, 6000), b(5990, 6000), b(5995, 6000), b(6007, 6000)],
      [
        { type: 'zero_gamma_crossed', direction: 'down', spot: 5990, zero_gamma: 6000 },
        { type: 'zero_gamma_crossed', direction: 'up', spot: 6007, zero_gamma: 6000 },
      ],
    ],
    [
      'zero gamma moves through a still spot: a crossing too',
      [b(6000, 5980), b(6000, 6004), b(6000, 6010)],
      [{ type: 'zero_gamma_crossed', direction: 'down', spot: 6000, zero_gamma: 6010 }],
    ],
    [
      'no root (or no spot) for a while keeps the side',
      [b(6010, 6000), b(6010, null), b(null, 6000), b(5990, 6000)],
      [{ type: 'zero_gamma_crossed', direction: 'down', spot: 5990, zero_gamma: 6000 }],
    ],
    ['a start inside the band sets no side until spot leaves it', [b(6001, 6000), b(5990, 6000)], []],
  ])('%s', (_name, builds, want) => {
    expect(run(builds).filter((e) => e.type === 'zero_gamma_crossed')).toEqual(want);
  });
});

describe('levelEvents: regime', () => {
  const n = (net: number): LevelInput => b(6010, 6000, { net, gross: 100 });
  it.each<[string, LevelInput[], LevelEvent[]]>([
    ['the first build only sets the regime', [n(50)], []],
    [
      'net turns negative past 5 % of gross: one event',
      [n(50), n(3), n(-4), n(-6), n(-40)],
      [{ type: 'regime_changed', from: 'positive', to: 'negative', net: -6 }],
    ],
    ['net jittering around zero: none', [n(20), n(-4), n(4), n(-5), n(5), n(-1)], []],
    ['no gross (an empty chain) keeps the regime', [n(20), b(6010, 6000, { net: 0, gross: 0 }), n(30)], []],
  ])('%s', (_name, builds, want) => {
    expect(run(builds).filter((e) => e.type === 'regime_changed')).toEqual(want);
  });
});

describe('levelEvents: walls', () => {
  const w = (callWall: number | null, putWall: number | null = 5900): LevelInput =>
    b(6010, 6000, { callWall, putWall });
  it.each<[string, LevelInput[], LevelParams, LevelEvent[]]>([
    ['the first build only sets the walls', [w(6100)], P, []],
    [
      'a new call wall that holds two builds moves once',
      [w(6100), w(6150), w(6150), w(6150)],
      P,
      [{ type: 'wall_moved', wall: 'call', from: 6100, to: 6150 }],
    ],
    ['a see-saw between two strikes never moves', [w(6100), w(6150), w(6100), w(6150), w(6100)], P, []],
    [
      'a wall that keeps moving reports where it settled',
      [w(6100), w(6125), w(6150), w(6150)],
      P,
      [{ type: 'wall_moved', wall: 'call', from: 6100, to: 6150 }],
    ],
    [
      'confirm 1: every change moves',
      [w(6100), w(6150), w(6100)],
      { ...P, wallConfirmBuilds: 1 },
      [
        { type: 'wall_moved', wall: 'call', from: 6100, to: 6150 },
        { type: 'wall_moved', wall: 'call', from: 6150, to: 6100 },
      ],
    ],
    [
      'the put wall on its own, a missing wall keeps the count',
      [w(6100, 5900), w(6100, 5850), w(6100, null), w(6100, 5850)],
      P,
      [{ type: 'wall_moved', wall: 'put', from: 5900, to: 5850 }],
    ],
  ])('%s', (_name, builds, p, want) => {
    expect(run(builds, p).filter((e) => e.type === 'wall_moved')).toEqual(want);
  });
});

describe('levelEvents: state', () => {
  it('one build can carry several events, in a fixed order', () => {
    const start = levelEvents(null, b(6010, 6000, { net: 50, gross: 100 }), P).state;
    const moved = levelEvents(start, b(5990, 6000, { net: -50, gross: 100, callWall: 6200 }), {
      ...P,
      wallConfirmBuilds: 1,
    });
    expect(moved.events.map((e) => e.type)).toEqual(['zero_gamma_crossed', 'regime_changed', 'wall_moved']);
  });

  it.each<[string, string | null, LevelState | null]>([
    ['absent', null, null],
    ['not JSON', '{nope', null],
    ['empty object: empty state', '{}', EMPTY_LEVEL_STATE],
    [
      'bad fields dropped',
      '{"side":"left","regime":"negative","call":{"strike":"x"},"put":{"strike":5900,"candidate":5850,"seen":1}}',
      {
        side: null,
        regime: 'negative',
        call: { strike: null, candidate: null, seen: 0 },
        put: { strike: 5900, candidate: 5850, seen: 1 },
      },
    ],
  ])('parseLevelState: %s', (_name, raw, want) => {
    expect(parseLevelState(raw)).toEqual(want);
  });
});

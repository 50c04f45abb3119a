/**
 * @module A deterministic spot path: the log-spot is a sum of value-noise layers (one per tick, minute,
 * hour, day and month) hashed from the seed, so the level at any instant is an O(1) function of time and
 * successive ticks move like a random walk that never strays far from the base level.
 */
import { MS_PER_YEAR } from '../../domain/market-time.js';
import { gaussianOf, hashOf } from './prng.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Layer periods after the per-tick one, with a damping factor on their Brownian amplitude. */
const LAYERS: ReadonlyArray<readonly [period: number, damping: number]> = [
  [MINUTE, 1],
  [HOUR, 1],
  [DAY, 0.8],
  [20 * DAY, 0.35],
];

function layer(seedHash: number, layerIndex: number, period: number, tMs: number): number {
  const x = tMs / period;
  const i = Math.floor(x);
  const f = x - i;
  const a = gaussianOf(hashOf(seedHash, layerIndex, i));
  if (f === 0) return a;
  const b = gaussianOf(hashOf(seedHash, layerIndex, i + 1));
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

/**
 * Spot at time `tMs` (epoch ms, normally a tick start) for an underlying whose path is keyed by `seedHash`.
 * `annualVol` sets the size of the moves; `tickMs` is the period of the finest layer.
 */
export function spotAt(
  baseSpot: number,
  annualVol: number,
  seedHash: number,
  tMs: number,
  tickMs: number,
): number {
  const amp = (period: number): number => annualVol * Math.sqrt(period / MS_PER_YEAR);
  let logMove = amp(tickMs) * layer(seedHash, 0, tickMs, tMs);
  for (let l = 0; l < LAYERS.length; l++) {
    const [period, damping] = LAYERS[l] as readonly [number, number];
    if (period <= tickMs) continue;
    logMove += damping * amp(period) * layer(seedHash, l + 1, period, tMs);
  }
  return baseSpot * Math.exp(logMove);
}

/**
 * @module Level events from successive GEX builds of one symbol: the rule, with hysteresis. Pure: the
 * previous state and the new model's levels in, the events and the next state out (docs/events.md).
 *
 * - `zero_gamma_crossed`: spot is *above* zero gamma once it ends a build more than `zeroGammaBandPct` % of
 *   spot above it, *below* once more than that below; inside the band the side stays what it was. An event
 *   when the side flips (`up`: now above). A band around the level, not a delay: a real crossing is
 *   reported on the first build that clears the band, and quotes jittering around the level report none.
 * - `regime_changed`: the regime is *positive* once net GEX exceeds `regimeBandPct` % of gross GEX
 *   (calls + |puts|), *negative* once below minus that; in between it stays. An event when it flips. The
 *   band is relative to gross so it means the same on SPX and on a thin chain.
 * - `wall_moved`: a new call (put) wall strike must hold in `wallConfirmBuilds` successive builds before it
 *   replaces the confirmed one. Walls jump between strikes of near-equal GEX; a count, not a margin, is
 *   what keeps a see-saw between two strikes silent (A, B, A, B never moves; A, B, B moves once).
 *
 * The first build after no state (a new symbol) sets the state and reports nothing. An unknown level (no
 * spot, no root, no wall) leaves that part of the state as it was.
 */

export type Side = 'above' | 'below';
export type Regime = 'positive' | 'negative';

export interface WallState {
  /** The confirmed wall strike (null: none yet). */
  strike: number | null;
  /** A different strike seen in the latest builds, and in how many successive ones. */
  candidate: number | null;
  seen: number;
}

export interface LevelState {
  side: Side | null;
  regime: Regime | null;
  call: WallState;
  put: WallState;
}

/** What the rule reads of a GEX build (the all-expiration, open-interest model). */
export interface LevelInput {
  spot: number | null;
  zeroGamma: number | null;
  /** Net GEX (calls + puts, puts ≤ 0). */
  net: number;
  /** Gross GEX: calls + |puts|. */
  gross: number;
  callWall: number | null;
  putWall: number | null;
}

export interface LevelParams {
  zeroGammaBandPct: number;
  regimeBandPct: number;
  wallConfirmBuilds: number;
}

export type LevelEvent =
  | { type: 'zero_gamma_crossed'; direction: 'up' | 'down'; spot: number; zero_gamma: number }
  | { type: 'regime_changed'; from: Regime; to: Regime; net: number }
  | { type: 'wall_moved'; wall: 'call' | 'put'; from: number; to: number };

export const EMPTY_LEVEL_STATE: LevelState = {
  side: null,
  regime: null,
  call: { strike: null, candidate: null, seen: 0 },
  put: { strike: null, candidate: null, seen: 0 },
};

function sideOf(spot: number | null, zg: number | null, bandPct: number, prev: Side | null): Side | null {
  if (spot === null || zg === null || !Number.isFinite(spot) || !Number.isFinite(zg)) return prev;
  const band = (Math.abs(spot) * bandPct) / 100;
  if (spot - zg > band) return 'above';
  if (zg - spot > band) return 'below';
  return prev;
}

function regimeOf(net: number, gross: number, bandPct: number, prev: Regime | null): Regime | null {
  if (!Number.isFinite(net) || !Number.isFinite(gross) || gross <= 0) return prev;
  const band = (gross * bandPct) / 100;
  if (net > band) return 'positive';
  if (net < -band) return 'negative';
  return prev;
}

function nextWall(
  prev: WallState,
  seen: number | null,
  confirm: number,
): { state: WallState; moved: { from: number; to: number } | null } {
  if (seen === null || !Number.isFinite(seen)) return { state: prev, moved: null };
  if (prev.strike === null) return { state: { strike: seen, candidate: null, seen: 0 }, moved: null };
  if (seen === prev.strike) return { state: { strike: seen, candidate: null, seen: 0 }, moved: null };
  const count = seen === prev.candidate ? prev.seen + 1 : 1;
  if (count >= confirm)
    return { state: { strike: seen, candidate: null, seen: 0 }, moved: { from: prev.strike, to: seen } };
  return { state: { strike: prev.strike, candidate: seen, seen: count }, moved: null };
}

/** The events one more GEX build produces, and the state after it. `prev` null: no state yet. */
export function levelEvents(
  prev: LevelState | null,
  m: LevelInput,
  p: LevelParams,
): { events: LevelEvent[]; state: LevelState } {
  const before = prev ?? EMPTY_LEVEL_STATE;
  const events: LevelEvent[] = [];
  const side = sideOf(m.spot, m.zeroGamma, p.zeroGammaBandPct, before.side);
  if (
    before.side !== null &&
    side !== null &&
    side !== before.side &&
    m.spot !== null &&
    m.zeroGamma !== null
  )
    events.push({
      type: 'zero_gamma_crossed',
      direction: side === 'above' ? 'up' : 'down',
      spot: m.spot,
      zero_gamma: m.zeroGamma,
    });
  const regime = regimeOf(m.net, m.gross, p.regimeBandPct, before.regime);
  if (before.regime !== null && regime !== null && regime !== before.regime)
    events.push({ type: 'regime_changed', from: before.regime, to: regime, net: m.net });
  const confirm = Math.max(1, Math.floor(p.wallConfirmBuilds));
  const call = nextWall(before.call, m.callWall, confirm);
  if (call.moved) events.push({ type: 'wall_moved', wall: 'call', ...call.moved });
  const put = nextWall(before.put, m.putWall, confirm);
  if (put.moved) events.push({ type: 'wall_moved', wall: 'put', ...put.moved });
  return { events, state: { side, regime, call: call.state, put: put.state } };
}

/** Reads a stored state back (null when absent or unreadable: the next build starts afresh). */
export function parseLevelState(raw: string | null | undefined): LevelState | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<LevelState>;
    const wall = (w: Partial<WallState> | undefined): WallState => ({
      strike: typeof w?.strike === 'number' ? w.strike : null,
      candidate: typeof w?.candidate === 'number' ? w.candidate : null,
      seen: typeof w?.seen === 'number' ? w.seen : 0,
    });
    return {
      side: v.side === 'above' || v.side === 'below' ? v.side : null,
      regime: v.regime === 'positive' || v.regime === 'negative' ? v.regime : null,
      call: wall(v.call),
      put: wall(v.put),
    };
  } catch {
    return null;
  }
}

import { describe, expect, it } from 'vitest';
import { LiveSymbol, type LiveBuildRequest } from '../../src/live/live-symbol.js';
import { LiveThread } from '../../src/live/live-thread.js';
import type { GexModel } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { gamma, years } from '../support/independent-gex.js';

// Wednesday 2026-01-07 10:00 New York; the contracts settle on Friday 16:00 (21:00 UTC).
const NOW = Date.parse('2026-01-07T15:00:00Z');

function contract(id: string, strike: number, type: 'call' | 'put', extra: Partial<ContractSubstrate> = {}) {
  return {
    id,
    underlying: 'SPX',
    root: 'SPXW',
    expiration: '2026-01-09',
    strike,
    type,
    bid: 10,
    ask: 11,
    mid: 10.5,
    last: null,
    delta: 0.5,
    gamma: 0.002,
    theta: -1,
    vega: 2,
    iv: 0.15,
    oi: 1000,
    volume: 40,
    ts: NOW / 1000,
    ...extra,
  } satisfies ContractSubstrate;
}

const BASE: ContractSubstrate[] = [
  contract('O:A', 6800, 'put'),
  contract('O:B', 6850, 'call'),
  contract('O:C', 6900, 'call', { volume: null }),
  contract('O:D', 6950, 'call'),
];

function request(over: Partial<LiveBuildRequest> = {}): LiveBuildRequest {
  return {
    symbol: 'SPX',
    epochId: 'e1',
    asOf: NOW + 1000,
    spot: 6860,
    ts: NOW + 1000,
    stale: false,
    widths: [5, 10],
    windowPct: 0.05,
    quotes: [],
    volumes: [],
    live: { spot_source: 'stream', last_tick_ts: null },
    ...over,
  };
}

const substrates = (r: { substrates: [string, string][] }): Map<string, ContractSubstrate> =>
  new Map(r.substrates.map(([id, json]) => [id, JSON.parse(json) as ContractSubstrate]));

describe('LiveSymbol (the state a live thread keeps)', () => {
  it('returns only the substrates changed since the last build; quotes and volumes persist until a load', () => {
    const s = new LiveSymbol();
    expect(s.load(structuredClone(BASE))).toBe(4);
    const first = s.build(
      request({
        quotes: [{ sym: 'O:B', bid: 30, ask: 31, t: NOW + 500 }],
        volumes: [
          ['O:C', 5],
          ['O:D', 2],
        ],
      }),
    );
    const w = substrates(first);
    expect([...w.keys()].sort()).toEqual(['O:B', 'O:C', 'O:D']);
    expect(w.get('O:B')).toMatchObject({ bid: 30, ask: 31, mid: 30.5, ts: (NOW + 500) / 1000 });
    expect(w.get('O:C')?.volume).toBe(5); // null (no trade today) + 5 streamed
    expect(w.get('O:D')?.volume).toBe(42);
    expect(first.streamed).toBe(1);

    // Nothing new: nothing to write, but the quote and the volumes are still applied.
    const second = s.build(request({ volumes: [['O:D', 3]] }));
    expect([...substrates(second).keys()]).toEqual(['O:D']);
    expect(substrates(second).get('O:D')?.volume).toBe(45);
    expect(second.streamed).toBe(1);
    const gex = JSON.parse(Buffer.from(second.gex).toString('utf8')) as GexModel;
    expect(gex.live).toMatchObject({
      source: 'stream',
      streamed_contracts: 1,
      quote_age_ms: { p50: 500, p95: 500 },
    });

    // A REST snapshot: everything streamed is gone.
    s.load(structuredClone(BASE));
    const third = s.build(request());
    expect(third.substrates).toEqual([]);
    expect(third.streamed).toBe(0);
  });

  it('refuses to build or choose before a snapshot is loaded (an empty chain is a loaded one)', () => {
    const s = new LiveSymbol();
    expect(() => s.build(request())).toThrow(/no snapshot/);
    expect(() => s.choose({ spot: 6860, now: NOW, max: 4 })).toThrow(/no snapshot/);
    expect(s.load([])).toBe(0);
    expect(s.choose({ spot: 6860, now: NOW, max: 4 })).toEqual({ chosen: [], gone: [] });
    expect(s.build(request()).streamed).toBe(0);
  });

  it('chosen again for a live spot, the contracts are scored by their gamma at that spot (independent Black-Scholes)', () => {
    // Calls every 5 points around 6850, the vendor's gamma at the snapshot spot 6850, equal OI and IV.
    const t = years(NOW, contract('x', 1, 'call'));
    const chain = Array.from({ length: 81 }, (_, i) => {
      const k = 6650 + 5 * i;
      return contract(`O:K${k}`, k, 'call', { gamma: gamma(6850, k, t, 0.15) });
    });
    const s = new LiveSymbol();
    s.load(chain);
    const top = (spot: number, n: number): string[] =>
      [...chain]
        .sort((a, b) => gamma(spot, b.strike, t, 0.15) - gamma(spot, a.strike, t, 0.15))
        .slice(0, n)
        .map((c) => c.id)
        .sort();
    const first = s.choose({ spot: 6850, now: NOW, max: 10 });
    expect([...first.chosen].sort()).toEqual(top(6850, 10));
    // Spot 2 % higher: the ten strikes nearest 6987 have more than 1.25× the gamma of the old ones there.
    const moved = s.choose({ spot: 6987, now: NOW, max: 10, liveSpot: true });
    expect([...moved.chosen].sort()).toEqual(top(6987, 10));
    expect(moved.gone.sort()).toEqual(first.chosen.filter((id) => !top(6987, 10).includes(id)).sort());
  });

  it('a contract no longer chosen loses its quote (back to the snapshot IV) and is rewritten once', () => {
    const s = new LiveSymbol();
    s.load(structuredClone(BASE));
    expect(s.choose({ spot: 6860, now: NOW, max: 4 }).chosen).toHaveLength(4);
    s.build(request({ quotes: [{ sym: 'O:D', bid: 40, ask: 41, t: NOW + 500 }] }));
    // Equal gamma × OI and expiration: the strike farthest from spot (6950) goes.
    const { chosen, gone } = s.choose({ spot: 6860, now: NOW, max: 3 });
    expect(chosen.sort()).toEqual(['O:A', 'O:B', 'O:C']);
    expect(gone).toEqual(['O:D']);
    const next = s.build(request());
    expect(next.streamed).toBe(0);
    expect([...substrates(next).keys()]).toEqual(['O:D']);
    expect(substrates(next).get('O:D')).toMatchObject({ bid: 10, ask: 11, mid: 10.5, iv: 0.15 });
  });
});

describe('LiveThread', () => {
  it('on a worker thread answers as the same state in-process does', async () => {
    const script = new URL('../../dist/src/live/live-thread-entry.js', import.meta.url).pathname;
    const threaded = new LiveThread(script);
    const inline = new LiveThread(null);
    try {
      const bytes = (): Uint8Array => new TextEncoder().encode(JSON.stringify(BASE));
      expect(await threaded.load(bytes())).toBe(4);
      expect(await inline.load(bytes())).toBe(4);
      expect(await threaded.choose({ spot: 6860, now: NOW, max: 2 })).toEqual(
        await inline.choose({ spot: 6860, now: NOW, max: 2 }),
      );
      const req = (): LiveBuildRequest =>
        request({ quotes: [{ sym: 'O:B', bid: 30, ask: 31, t: NOW + 500 }], volumes: [['O:C', 5]] });
      const a = await threaded.build(req());
      const b = await inline.build(req());
      expect(Buffer.from(a.gex).toString()).toBe(Buffer.from(b.gex).toString());
      expect(Buffer.from(a.heatmap).toString()).toBe(Buffer.from(b.heatmap).toString());
      expect(a.substrates).toEqual(b.substrates);
      // A corrupt snapshot is refused without killing the thread, and leaves it with no snapshot: no build
      // from an empty chain until the next load.
      await expect(threaded.load(new TextEncoder().encode('[{"id":'))).rejects.toThrow(/snapshot/);
      await expect(inline.load(new TextEncoder().encode('{"id":1}'))).rejects.toThrow(/snapshot/);
      await expect(threaded.build(req())).rejects.toThrow(/no snapshot/);
      await expect(inline.build(req())).rejects.toThrow(/no snapshot/);
      expect(await threaded.load(bytes())).toBe(4);
      expect((await threaded.build(req())).streamed).toBe(1);
    } finally {
      await threaded.close();
      await inline.close();
    }
  });

  it('a thread that died is started again empty: its next build and choice are refused, not built from no contracts', async () => {
    const script = new URL('../../dist/src/live/live-thread-entry.js', import.meta.url).pathname;
    const thread = new LiveThread(script);
    try {
      expect(await thread.load(new TextEncoder().encode(JSON.stringify(BASE)))).toBe(4);
      // The thread dies between two requests (nothing pending to reject).
      const rpc = (thread as unknown as { rpc: { worker: { terminate(): Promise<number> } | undefined } })
        .rpc;
      await rpc.worker?.terminate();
      await new Promise((r) => setTimeout(r, 50));
      await expect(thread.build(request())).rejects.toThrow(/no snapshot/);
      await expect(thread.choose({ spot: 6860, now: NOW, max: 2 })).rejects.toThrow(/no snapshot/);
      // Reloaded: it answers again.
      expect(await thread.load(new TextEncoder().encode(JSON.stringify(BASE)))).toBe(4);
      expect((await thread.build(request())).gex.byteLength).toBeGreaterThan(0);
    } finally {
      await thread.close();
    }
  });
});

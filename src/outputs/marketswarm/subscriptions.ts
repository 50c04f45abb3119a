/**
 * @module MarketSwarm's WebSocket hydration list: SET `massive:ws:subscription_list` holds the contracts
 * worth streaming for every symbol, and `massive:ws:subscription_updated` is PUBLISHed when it changes.
 * Fed by the chain worker after each snapshot (a cycle observer). The choice is the live chain's rule
 * (`chooseSubscriptions`, src/live/subscription.ts) on the snapshot's contracts without greeks
 * (`chooseNearest`, the same choice read in place): nearest expiration first, then strike nearest spot,
 * then ticker, each symbol getting an even share of
 * `MASSIVE_STREAM_MAX_CONTRACTS`. Each symbol replaces only its own members (SREM / SADD per ticker), so
 * workers holding different symbols never erase each other's.
 */
import type { Logger } from '../../lib/logger.js';
import { chooseNearest, perSymbolBudget } from '../../live/subscription.js';
import { parseOptionTicker } from '../../provider/massive/ticker.js';
import type { RedisBus } from '../../redis/bus.js';
import type { KeySchema } from '../../redis/keys.js';
import type { CycleObserver, SnapshotApplied } from '../observers.js';

/**
 * Which of `members` belong to a symbol whose contracts have one of `roots` (`O:{root}{yymmdd}…`). A ticker's
 * root is what lies between `O:` and its last 15 characters (date, side, strike), so only the members whose
 * root is one of `roots` are parsed (to check they are tickers at all).
 */
export function membersOfRoots(members: readonly string[], roots: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of members)
    if (roots.has(m.slice(2, m.length - 15)) && parseOptionTicker(m) !== null) out.push(m);
  return out;
}

/** What to remove and add so the set holds `next` for these roots. Pure. */
export function subscriptionChange(
  current: readonly string[],
  next: readonly string[],
): { add: string[]; remove: string[] } {
  return { add: missingFrom(next, new Set(current)), remove: missingFrom(current, new Set(next)) };
}

/** The members of `list` not in `set`, in order (a loop: see chooseNearest on closures made per call). */
function missingFrom(list: readonly string[], set: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const t of list) if (!set.has(t)) out.push(t);
  return out;
}

function tickerOf(c: { ticker: string }): string {
  return c.ticker;
}

export class MarketSwarmSubscriptions implements CycleObserver {
  readonly name = 'marketswarm-subscriptions';

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly config: { streamMaxContracts: number; symbols: readonly string[] },
    private readonly logger: Pick<Logger, 'debug'>,
  ) {}

  /** The contracts of one snapshot worth streaming, best first. */
  choose(e: Pick<SnapshotApplied, 'contracts' | 'spot' | 'asOf'>): string[] {
    if (e.spot === null || !Number.isFinite(e.spot)) return [];
    const max = perSymbolBudget(this.config.streamMaxContracts, this.config.symbols.length);
    return chooseNearest(e.contracts, tickerOf, { spot: e.spot, now: e.asOf * 1000, max });
  }

  async snapshotApplied(e: SnapshotApplied): Promise<void> {
    // A merged partial snapshot holds part of the chain only: keep the last choice.
    if (e.action === 'merge' || e.contracts.length === 0) return;
    const next = this.choose(e);
    if (next.length === 0) return;
    const roots = new Set<string>();
    for (const c of e.contracts) roots.add(c.root);
    const key = this.keys.wsSubscriptionList;
    const current = membersOfRoots(await this.bus.cmd.smembers(key), roots);
    const { add, remove } = subscriptionChange(current, next);
    if (add.length === 0 && remove.length === 0) return;
    if (remove.length > 0) await this.bus.cmd.srem(key, ...remove);
    if (add.length > 0) await this.bus.cmd.sadd(key, ...add);
    await this.bus.cmd.publish(
      this.keys.wsSubscriptionUpdated,
      JSON.stringify({
        symbol: e.symbol,
        count: next.length,
        added: add.length,
        removed: remove.length,
        ts: e.ts,
      }),
    );
    this.logger.debug(
      { symbol: e.symbol, added: add.length, removed: remove.length },
      'ws subscription list',
    );
  }
}

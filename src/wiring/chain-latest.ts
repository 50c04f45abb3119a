/**
 * @module `massive:chain:latest` in Redis: the document is assembled client-side — bytes concatenated,
 * nothing parsed — SET under a staging key and made current by a script that only compares a revision
 * counter, RENAMEs and records the document's layout (where each symbol's summary and contracts fragment
 * sit in it). Several workers holding different symbols produce one coherent document: a writer takes its
 * own symbols' summaries and fragments from memory and every other symbol's from the current document
 * (GETRANGE at the layout's offsets, read with the revision in one MULTI), and commits only if no other
 * assembly was committed since that read; a stale assembly is assembled again from the new document, so
 * every writer's latest part reaches the document. All keys share the slot of `massive:chain:latest` (hash
 * tag), so this works on a cluster. Each fragment carries a random token in the layout; a store keeps the
 * fragments it read by token and reads a multi-MB fragment again only when its token changed. Redis holds
 * each fragment once (in the document) and a worker uploads it once (with the document), where versions
 * before the layout uploaded each fragment on its own first (the bench's compat burst: 39 → 13 MB).
 * Assemblies of one process wait for its other symbols' cycles in flight (at most {@link ASSEMBLY_WAIT_MS}),
 * so a worker holding several symbols uploads one document per round of cycles, not one per symbol.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../lib/logger.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import {
  decodeLayoutEntry,
  deltaDocument,
  encodeLayoutEntry,
  latestDocument,
  packTickers,
  tickerDelta,
  tickerSetHash,
  unpackTickers,
  type LatestPart,
  type PartRange,
  mergeSorted,
} from './chain-latest-doc.js';

/** A staging key lives at most this long if its writer dies before the commit. */
export const STAGING_TTL_SEC = 60;

/** The longest an assembly waits for the process's other symbols' cycles in flight to write their parts. */
export const ASSEMBLY_WAIT_MS = 1_000;

/** Assemblies in a row that may find the document changed under them before the writer gives up (logged). */
const MAX_STALE = 8;

export interface PartWrite {
  /** `{U}`. */
  underlying: string;
  /** Our per-symbol summary (compact JSON). */
  summary: string;
  /** The `"ticker":vendor,…` fragment, or null to keep the document's (a partial snapshot merged). */
  contracts: Buffer | null;
  /** The symbol's tickers, or null when unchanged by this write (a merge never changes the geometry). */
  tickers: readonly string[] | null;
  /** {@link tickerSetHash} of `tickers`, when the caller has it already (the cycle: its geometry's `sha1`). */
  tickersHash?: string;
  /** Unix seconds. */
  ts: number;
  /**
   * Write `massive:chain:delta:latest` when the ticker set changed (MarketSwarm's inspector reads it:
   * `CHAIN_COMPAT=marketswarm`). Without it the version still moves and `geometry_updated` is published.
   */
  delta: boolean;
  /** The cycle (its symbol) this part ends: assemblies waiting for it go on ({@link ChainLatestStore.begin}). */
  cycle?: string;
}

export type CommitResult = 'stale' | 'current' | 'new_version';

function check<T>(res: [Error | null, unknown][] | null, i: number): T {
  const entry = res?.[i];
  if (!entry) throw new Error('chain:latest transaction aborted');
  if (entry[0]) throw entry[0];
  return entry[1] as T;
}

/** A symbol's entry in the document's layout. */
type LayoutEntry = { token: string; range: PartRange };

/** One of this process's symbols: the newest part written here. */
interface OwnPart {
  summary: Buffer;
  /** Null: the document's fragment of the symbol is kept (a merge). */
  contracts: Buffer | null;
  /** The token of its contracts in the layout; for a merge (contracts kept), the document's, once known. */
  token: string | null;
  /** A document carrying this part was committed (a layout token for it other than ours then means another writer replaced it). */
  committed: boolean;
  /** The ticker set changed and no committed document carries it yet: the set the document had before. */
  base: readonly string[] | null;
  tickers: readonly string[] | null;
  /** {@link tickerSetHash} of `tickers`. */
  hash: string | null;
  delta: boolean;
  /** Bumped on every write: a commit clears `base` only if no newer write came meanwhile. */
  seq: number;
}

/** An assembled document, not yet committed. */
export interface Assembly {
  chunks: Buffer[];
  rev: string;
  version: number;
  layout: string[];
  /** `massive:chain:delta:latest`'s lists when this document changes the ticker set and a delta is asked for. */
  delta: { entered: string[]; exited: string[] } | null;
  /** The own parts it carries: their write sequence, ticker-set hash and layout token. */
  own: Map<string, { seq: number; hash: string | null; tickers: readonly string[] | null; token: string }>;
  /** Symbols the current document holds and this one leaves out ({@link ChainLatestStore.departed}). */
  departed: string[];
}

/** The epoch id in a part's summary (our `latestEntry`), or null (none, or not JSON). */
export function summaryEpochId(summary: Buffer): string | null {
  try {
    const id = (JSON.parse(summary.toString('utf8')) as { epoch_id?: unknown }).epoch_id;
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}

/**
 * Whether bytes read at a layout range look like what the layout says is there: the exact length, a JSON
 * object for a summary, `"ticker":{…}` members for a fragment. Pure.
 */
export function rangeHolds(what: 'summary' | 'contracts', bytes: Buffer, length: number): boolean {
  if (bytes.length !== length || length === 0) return false;
  const first = bytes[0];
  const last = bytes[length - 1];
  return (what === 'summary' ? first === 0x7b : first === 0x22) && last === 0x7d;
}

/** Several symbols' deltas as one (a ticker belongs to one symbol: no repeats), each list sorted. */
function joinDeltas(ds: readonly { entered: string[]; exited: string[] }[]): {
  entered: string[];
  exited: string[];
} {
  if (ds.length === 1) return ds[0] as { entered: string[]; exited: string[] };
  return { entered: mergeSorted(ds.map((d) => d.entered)), exited: mergeSorted(ds.map((d) => d.exited)) };
}

export class ChainLatestStore {
  private running: Promise<void> | undefined;
  private again = false;
  /** The running assembly has begun reading the parts (a part written now needs one more). */
  private reading = false;
  /** Commit outcomes, for tests and logs. */
  readonly commits: Record<CommitResult, number> = { stale: 0, current: 0, new_version: 0 };
  /** Other writers' contracts fragments read from Redis / reused from the cache, for tests and logs. */
  readonly fragments = { read: 0, cached: 0 };
  /** Per symbol held by another writer, the contracts fragment last read and its token. */
  private readonly cache = new Map<string, { token: string; bytes: Buffer }>();
  private readonly own = new Map<string, OwnPart>();
  private seq = 0;
  /** Cycles of this process that began and have not written their part (nor ended). */
  private readonly inflight = new Set<string>();
  private waiters: (() => void)[] = [];
  /** Symbols whose keys from before the layout were removed by this process. */
  private readonly cleaned = new Set<string>();
  /** Symbols whose part this process last stored with its ticker list (`tickers_z`). */
  private readonly listed = new Set<string>();
  /** Per symbol, a fragment buffer of {@link fragmentBuffer}'s that no part and no assembly holds any more. */
  private readonly spare = new Map<string, Buffer>();
  /** Fragment buffers replaced by a newer part while an assembly may still be sending them. */
  private retired: [string, Buffer][] = [];
  /** The memory {@link fragmentBuffer} handed out (only that is ever reused). */
  private readonly pooled = new WeakSet<ArrayBufferLike>();

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly logger?: Pick<Logger, 'debug' | 'warn'>,
  ) {}

  /**
   * A buffer of `size` bytes for the next contracts fragment of `underlying` (the cycle writes it and hands it
   * to {@link write}): the symbol's spare one when it is big enough, else new memory with an eighth to spare.
   * A fragment's buffer becomes spare once a newer part replaced it and no assembly runs (the one under way
   * may still be sending it), so a symbol alternates between two buffers. Why: every new buffer is memory V8
   * counts towards the main heap's next full collection (allocated external memory since the last one),
   * and two new 6 MB fragments per burst cycle brought those collections forward.
   */
  fragmentBuffer(underlying: string, size: number): Buffer {
    const spare = this.spare.get(underlying);
    if (spare && spare.length >= size) {
      this.spare.delete(underlying);
      return spare.subarray(0, size);
    }
    const fresh = Buffer.allocUnsafeSlow(size + (size >> 3));
    this.pooled.add(fresh.buffer);
    return fresh.subarray(0, size);
  }

  /** The whole pooled buffer under `b`, when {@link fragmentBuffer} handed it out. */
  private pooledUnder(b: Buffer | null | undefined): Buffer | null {
    return b && this.pooled.has(b.buffer) ? Buffer.from(b.buffer) : null;
  }

  /** A cycle of `symbol` began: an assembly of this process waits for its part (bounded). */
  begin(symbol: string): void {
    this.inflight.add(symbol);
  }

  /** The cycle of `symbol` ended (its part written, or it failed): assemblies stop waiting for it. */
  end(symbol: string): void {
    if (!this.inflight.delete(symbol) || this.inflight.size > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Stores one symbol's part, then assembles the whole document (or joins the assembly under way). */
  async write(p: PartWrite): Promise<void> {
    await this.writePart(p);
    if (p.cycle !== undefined) this.end(p.cycle);
    await this.assemble();
  }

  /**
   * Records a part: its ticker set in Redis (the next delta's base) when it changed, its summary and
   * fragment here, for the next assembly.
   */
  async writePart(p: PartWrite): Promise<void> {
    const k = this.keys;
    const bus = this.bus;
    const partKey = k.latestPart(p.underlying);
    const prev = this.own.get(p.underlying);
    let base = prev?.base ?? null;
    let hash = prev?.hash ?? null;
    if (!this.cleaned.has(p.underlying)) {
      // Keys of versions before the layout: the fragment's copy, the part's summary and token, the parts set.
      await bus
        .multi()
        .hdel(partKey, 'summary', 'ctoken')
        .del(k.latestContracts(p.underlying), k.latestParts)
        .exec();
      this.cleaned.add(p.underlying);
    }
    if (p.tickers !== null) {
      hash = p.tickersHash ?? tickerSetHash(p.tickers);
      // A plain read, which Redis serves even when it is out of memory (a read queued in a MULTI it refuses).
      const old = await bus.cmd.hget(partKey, 'tickers_hash');
      if (old !== hash) {
        // The set the document carries: the one stored, unless a change not yet committed is pending.
        // A base (even an empty one) marks the change: the version moves. Only a delta reads its tickers.
        base ??= old !== null && p.delta ? await this.previousTickers(partKey) : [];
        await this.storeSet(p.underlying, hash, p.delta ? p.tickers : null);
      } else if (p.delta && !this.listed.has(p.underlying)) {
        // A writer without deltas may have kept only the hash: the list goes in once, the next delta's base.
        await this.storeSet(p.underlying, hash, p.tickers);
      }
    }
    const keep = p.contracts === null;
    const replaced = keep ? null : this.pooledUnder(prev?.contracts);
    if (replaced && replaced.buffer !== p.contracts?.buffer) this.retired.push([p.underlying, replaced]);
    this.own.set(p.underlying, {
      summary: Buffer.from(p.summary),
      contracts: keep ? (prev?.contracts ?? null) : p.contracts,
      token: keep ? (prev?.token ?? null) : randomBytes(8).toString('hex'),
      committed: false,
      base,
      tickers: p.tickers ?? prev?.tickers ?? null,
      hash,
      delta: p.delta,
      seq: ++this.seq,
    });
  }

  /**
   * Stores the part of `u`: its set's hash, and its list (packed) when deltas are written, the only reader
   * of it; without deltas the list is dropped (~2.6 bytes per contract), so no stale one can serve as a base
   * later. A part written before the list was packed held it as JSON under `tickers`.
   */
  private async storeSet(u: string, hash: string, tickers: readonly string[] | null): Promise<void> {
    const partKey = this.keys.latestPart(u);
    const packed = tickers ? await packTickers(tickers) : null;
    const tx = this.bus.multi();
    if (packed) tx.hset(partKey, 'tickers_hash', hash, 'tickers_z', packed).hdel(partKey, 'tickers');
    else tx.hset(partKey, 'tickers_hash', hash).hdel(partKey, 'tickers_z', 'tickers');
    await tx.exec();
    if (packed) this.listed.add(u);
    else this.listed.delete(u);
  }

  /** The ticker set stored in a part (packed, or as JSON by an earlier version); empty when absent. */
  private async previousTickers(partKey: string): Promise<string[]> {
    const [packed, json] = await this.bus.cmd.hmgetBuffer(partKey, 'tickers_z', 'tickers');
    if (packed) return unpackTickers(packed);
    return json ? (JSON.parse(json.toString()) as string[]) : [];
  }

  /**
   * Assembles and commits the document. Concurrent calls in one process coalesce: a call made while an
   * assembly runs is answered by one more assembly that starts after it. An assembly first waits for the
   * process's cycles in flight ({@link begin}) to write their parts, at most {@link ASSEMBLY_WAIT_MS}.
   */
  assemble(): Promise<void> {
    if (this.running) {
      // An assembly still waiting for the cycles in flight will read this part; one under way may not.
      if (this.reading) this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        this.reading = false;
        await this.settled();
        this.reading = true;
        await this.assembleUntilCommitted();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
      // No assembly runs: the fragments replaced meanwhile are sent by none.
      for (const [u, b] of this.retired.splice(0)) this.spare.set(u, b);
    });
    return this.running;
  }

  private settled(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ASSEMBLY_WAIT_MS);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Assembles again while another writer's commit makes this one stale (bounded). */
  private async assembleUntilCommitted(): Promise<void> {
    for (let i = 0; i < MAX_STALE; i++) if ((await this.assembleOnce()) !== 'stale') return;
    this.logger?.warn(
      { attempts: MAX_STALE },
      'massive:chain:latest: every assembly went stale; next part retries',
    );
  }

  /** One assembly: read the document's layout and the other symbols' bytes; SET under a staging key; commit. */
  async assembleOnce(): Promise<CommitResult> {
    return this.commit(await this.prepare());
  }

  /** The assembled document (this process's parts and the current document's others) as one buffer. */
  async read(nowSec = Date.now() / 1000): Promise<{ bytes: Buffer; rev: string; version: number }> {
    const a = await this.prepare(nowSec);
    return { bytes: Buffer.concat(a.chunks), rev: a.rev, version: a.version };
  }

  /**
   * The document to commit: the revision, version and layout read in one MULTI, then (when other symbols
   * are in it) their summaries and changed fragments with GETRANGE, in one MULTI that reads the revision
   * again: a commit in between makes it read once more.
   */
  async prepare(nowSec = Date.now() / 1000): Promise<Assembly> {
    for (;;) {
      const { rev, version, entries } = await this.readLayout();
      const got = await this.readFromDocument(rev, entries);
      if (got === null) continue;
      const departed = await this.departed(got);
      return this.compose(nowSec, rev, version, entries, got, departed);
    }
  }

  /**
   * Other writers' symbols that no worker keeps any more, with the tickers they leave (sorted; empty when
   * no delta is written): those whose summary names an epoch whose contract index expired and that no
   * worker holds (no lease). A worker keeps
   * its active epoch's index alive every cycle, failed ones too (the seed's TTL, `CHAIN_SUBSTRATE_TTL_SEC`),
   * so the index is gone only when no worker has held the symbol for that long; its part would otherwise
   * stay in the document forever, stale contracts under a fresh `ts`.
   */
  private async departed(
    got: ReadonlyMap<string, { summary?: Buffer }>,
  ): Promise<Map<string, readonly string[]>> {
    const out = new Map<string, readonly string[]>();
    const delta = [...this.own.values()].some((m) => m.delta);
    for (const [u, g] of got) {
      if (this.own.has(u) || !g.summary) continue;
      const epochId = summaryEpochId(g.summary);
      if (epochId === null || (await this.bus.cmd.exists(this.keys.epochContracts(epochId))) === 1) continue;
      // A worker that holds the symbol (its lease) is about to write it again (a cadence longer than the TTL).
      if ((await this.bus.cmd.exists(this.keys.workerLease(u))) === 1) continue;
      out.set(u, delta ? await this.previousTickers(this.keys.latestPart(u)) : []);
    }
    return out;
  }

  /**
   * The current document's revision, version and layout; an own symbol whose layout token is not ours
   * any more (another writer replaced it since our part was committed: its lease moved) is forgotten.
   */
  private async readLayout(): Promise<{ rev: string; version: number; entries: Map<string, LayoutEntry> }> {
    const k = this.keys;
    const head = await this.bus.multi().get(k.latestRev).get(k.latestVersion).hgetall(k.latestLayout).exec();
    const entries = new Map<string, LayoutEntry>();
    for (const [u, v] of Object.entries(check<Record<string, string>>(head, 2))) {
      const e = decodeLayoutEntry(v);
      if (!e) continue;
      entries.set(u, e);
      const mine = this.own.get(u);
      if (mine?.committed && mine.token !== e.token) this.own.delete(u);
    }
    return {
      rev: check<string | null>(head, 0) ?? '0',
      version: Number(check<string | null>(head, 1) ?? '0'),
      entries,
    };
  }

  /**
   * Reads from the document what the assembly needs: other symbols' summaries, and a fragment not cached
   * (or an own merge's). Null when a commit came in between (the revision moved).
   */
  private async readFromDocument(
    rev: string,
    entries: ReadonlyMap<string, LayoutEntry>,
  ): Promise<Map<string, { summary?: Buffer; contracts?: Buffer }> | null> {
    const reads: { u: string; what: 'summary' | 'contracts'; range: [number, number]; token: string }[] = [];
    for (const [u, e] of entries) {
      const mine = this.own.get(u);
      if (!mine) reads.push({ u, what: 'summary', range: e.range.summary, token: e.token });
      const needContracts = mine ? mine.contracts === null : this.cache.get(u)?.token !== e.token;
      if (needContracts && e.range.contracts[1] > 0)
        reads.push({ u, what: 'contracts', range: e.range.contracts, token: e.token });
    }
    const got = new Map<string, { summary?: Buffer; contracts?: Buffer }>();
    if (reads.length === 0) return got;
    const k = this.keys;
    const tx = this.bus.multi().get(k.latestRev);
    for (const r of reads) tx.getrangeBuffer(k.latest, r.range[0], r.range[0] + r.range[1] - 1);
    const res = await tx.exec();
    if ((check<string | null>(res, 0) ?? '0') !== rev) return null;
    reads.forEach((r, i) => {
      const bytes = check<Buffer>(res, i + 1);
      if (!rangeHolds(r.what, bytes, r.range[1])) {
        // The layout does not describe this document (written by something else): leave the symbol out.
        this.logger?.warn(
          { symbol: r.u, part: r.what },
          'massive:chain:latest: layout range not in the document',
        );
        return;
      }
      const g = got.get(r.u) ?? {};
      g[r.what] = bytes;
      got.set(r.u, g);
      if (r.what === 'contracts' && !this.own.has(r.u)) {
        this.cache.set(r.u, { token: r.token, bytes });
        this.fragments.read++;
      }
    });
    return got;
  }

  /** The document from this process's parts and the others' bytes read (or cached), with its layout. */
  private compose(
    nowSec: number,
    rev: string,
    version: number,
    entries: ReadonlyMap<string, LayoutEntry>,
    got: ReadonlyMap<string, { summary?: Buffer; contracts?: Buffer }>,
    departed: ReadonlyMap<string, readonly string[]> = new Map(),
  ): Assembly {
    const parts: LatestPart[] = [];
    const tokens = new Map<string, string>();
    const ownParts: Assembly['own'] = new Map();
    let changed = false;
    // Each changed symbol's delta (both lists sorted: tickerDelta's merge walk), joined below.
    const deltas: { entered: string[]; exited: string[] }[] = [];
    for (const [u, mine] of this.own) {
      const contracts = mine.contracts ?? got.get(u)?.contracts ?? null;
      parts.push({ underlying: u, summary: mine.summary, contracts });
      // A merge keeps the document's fragment and its token.
      const token = mine.token ?? entries.get(u)?.token ?? randomBytes(8).toString('hex');
      tokens.set(u, token);
      ownParts.set(u, { seq: mine.seq, hash: mine.hash, tickers: mine.tickers, token });
      if (mine.base !== null) {
        changed = true;
        if (mine.delta) deltas.push(tickerDelta(mine.base, mine.tickers ?? []));
      }
    }
    for (const exited of departed.values()) {
      changed = true;
      if (exited.length > 0) deltas.push({ entered: [], exited: [...exited] });
    }
    for (const [u, e] of entries) {
      if (this.own.has(u) || departed.has(u)) continue;
      const read = got.get(u);
      if (!read?.summary) continue;
      const cached = this.cache.get(u);
      const contracts = read.contracts ?? (cached?.token === e.token ? cached.bytes : null);
      if (contracts && !read.contracts) this.fragments.cached++;
      parts.push({ underlying: u, summary: read.summary, contracts });
      tokens.set(u, e.token);
    }
    const newVersion = changed ? version + 1 : version;
    const doc = latestDocument({ version: newVersion, ts: Math.floor(nowSec), parts });
    const layout: string[] = [];
    for (const [u, r] of doc.ranges) layout.push(u, encodeLayoutEntry(tokens.get(u) ?? 'none', r));
    return {
      chunks: doc.chunks,
      rev,
      version: newVersion,
      layout,
      delta: deltas.length > 0 ? joinDeltas(deltas) : null,
      own: ownParts,
      departed: [...departed.keys()],
    };
  }

  /** Makes an assembly current unless another was committed since it read the document. */
  async commit(a: Assembly): Promise<CommitResult> {
    const k = this.keys;
    if (a.delta) {
      // MarketSwarm's shape; written before the document that carries the version is made current (a stale
      // assembly's delta is written again by the assembly after it).
      await this.bus.setLarge(
        k.latestDelta,
        deltaDocument({ version: a.version, ts: Math.floor(Date.now() / 1000), ...a.delta }),
      );
    }
    const staging = k.latestStaging(randomBytes(6).toString('hex'));
    await this.bus.setLarge(staging, a.chunks, STAGING_TTL_SEC);
    const out = await this.bus.scripts.commitLatest(
      {
        rev: k.latestRev,
        staging,
        latest: k.latest,
        publishedVersion: k.latestPublishedVersion,
        version: k.latestVersion,
        layout: k.latestLayout,
      },
      a.rev,
      a.version,
      k.geometryUpdatedChannel,
      a.layout,
    );
    const result: CommitResult = out === 0 ? 'stale' : out === 2 ? 'new_version' : 'current';
    this.commits[result]++;
    if (result !== 'stale') {
      // The committed document carries these parts' ticker sets: no change pending unless written since.
      for (const [u, c] of a.own) {
        const mine = this.own.get(u);
        if (!mine) continue;
        if (mine.seq === c.seq) {
          mine.committed = true;
          mine.token = c.token;
          mine.base = null;
        } else if (mine.base !== null) {
          // Written again since: its change is now counted from the set just committed.
          mine.base = mine.hash === c.hash ? null : c.tickers;
        }
      }
    }
    if (result !== 'stale' && a.departed.length > 0) {
      // Its ticker set is no delta's base any more: a worker that holds it again starts from none.
      for (const u of a.departed) {
        await this.bus.cmd.del(k.latestPart(u));
        this.cache.delete(u);
      }
      this.logger?.warn(
        { symbols: a.departed },
        'massive:chain:latest: symbols no worker keeps left the document',
      );
    }
    const size = a.chunks.reduce((n, b) => n + b.length, 0);
    this.logger?.debug(
      { result, rev: a.rev, version: a.version, bytes: size },
      'massive:chain:latest assembled',
    );
    return result;
  }
}

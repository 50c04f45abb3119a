/**
 * @module `massive:chain:latest` in Redis: each symbol's writer stores its own part (a HASH), then the
 * whole document is assembled client-side from every part — bytes concatenated, nothing parsed — SET
 * under a staging key and made current by a script that only compares a revision counter and RENAMEs.
 * Several workers holding different symbols produce one coherent document: every part write bumps the
 * revision in the same transaction, an assembly whose parts changed meanwhile is dropped, and the writer
 * of that newer part assembles after it ("the last writer assembles"). All keys share the slot of
 * `massive:chain:latest` (hash tag), so this works on a cluster. Each contracts fragment carries a random
 * token in its part; a store keeps the fragments it wrote or read by token and GETs a multi-MB fragment
 * again only when its token changed, so a worker holding every symbol never reads its own bytes back.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../lib/logger.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import {
  latestChunks,
  packTickers,
  tickerDelta,
  tickerSetHash,
  unpackTickers,
  type LatestPart,
} from './chain-latest-doc.js';

/** A staging or upload key lives at most this long if its writer dies before the commit. */
export const STAGING_TTL_SEC = 60;

export interface PartWrite {
  /** `{U}`. */
  underlying: string;
  /** Our per-symbol summary (compact JSON). */
  summary: string;
  /** The `"ticker":vendor,…` fragment, or null to keep the stored one (a partial snapshot merged). */
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
}

export type CommitResult = 'stale' | 'current' | 'new_version';

function check<T>(res: [Error | null, unknown][] | null, i: number): T {
  const entry = res?.[i];
  if (!entry) throw new Error('chain:latest transaction aborted');
  if (entry[0]) throw entry[0];
  return entry[1] as T;
}

export class ChainLatestStore {
  private running: Promise<void> | undefined;
  private again = false;
  /** Commit outcomes, for tests and logs. */
  readonly commits: Record<CommitResult, number> = { stale: 0, current: 0, new_version: 0 };
  /** Contracts fragments read from Redis / reused from the cache, for tests and logs. */
  readonly fragments = { read: 0, cached: 0 };
  /** Per symbol, the contracts fragment last written or read here and its token. */
  private readonly cache = new Map<string, { token: string; bytes: Buffer }>();

  constructor(
    private readonly bus: RedisBus,
    private readonly keys: KeySchema,
    private readonly logger?: Pick<Logger, 'debug'>,
  ) {}

  /** Stores one symbol's part, then assembles the whole document. */
  async write(p: PartWrite): Promise<void> {
    await this.writePart(p);
    await this.assemble();
  }

  /**
   * Stores a part: summary, contracts fragment and ticker set in one transaction with the revision bump
   * (and the version bump when the ticker set changed, with `massive:chain:delta:latest`).
   */
  async writePart(p: PartWrite): Promise<{ rev: number; version: number | null }> {
    const k = this.keys;
    const client = this.bus.client;
    const partKey = k.latestPart(p.underlying);
    let hash: string | null = null;
    let changed = false;
    let delta: { entered: string[]; exited: string[] } | null = null;
    let packed: Buffer | null = null;
    if (p.tickers !== null) {
      hash = p.tickersHash ?? tickerSetHash(p.tickers);
      const old = await client.hget(partKey, 'tickers_hash');
      if (old !== hash) {
        changed = true;
        if (p.delta) delta = tickerDelta(old === null ? [] : await this.previousTickers(partKey), p.tickers);
        packed = await packTickers(p.tickers);
      }
    }
    const fields: (string | Buffer)[] = ['summary', p.summary];
    const token = p.contracts !== null ? randomBytes(8).toString('hex') : null;
    if (token !== null) fields.push('ctoken', token);
    if (hash !== null && packed !== null) fields.push('tickers_hash', hash, 'tickers_z', packed);
    // The multi-MB fragment goes first under a key of its own (its bytes are not copied on the way: see
    // setLarge), then is RENAMEd into place in the transaction with the rest of the part.
    const upload = p.contracts !== null ? k.latestStaging(randomBytes(6).toString('hex')) : null;
    if (upload !== null && p.contracts !== null)
      await this.bus.setLarge(upload, p.contracts, STAGING_TTL_SEC);
    const tx = client
      .multi()
      .hset(partKey, ...fields)
      .sadd(k.latestParts, p.underlying)
      .incr(k.latestRev);
    if (changed) tx.incr(k.latestVersion);
    if (upload !== null) {
      const fragment = k.latestContracts(p.underlying);
      tx.rename(upload, fragment).persist(fragment);
    }
    // A part written before the list was packed held it as JSON under `tickers`.
    if (packed !== null) tx.hdel(partKey, 'tickers');
    const res = await tx.exec();
    const rev = check<number>(res, 2);
    const version = changed ? check<number>(res, 3) : null;
    // The upload expired (a writer stalled past its TTL): the fragment was not replaced.
    if (upload !== null) check<string>(res, changed ? 4 : 3);
    if (token !== null && p.contracts !== null) this.cache.set(p.underlying, { token, bytes: p.contracts });
    if (delta && version !== null) {
      // MarketSwarm's shape; written before the document that carries the version is made current.
      await this.bus.cmd.set(
        k.latestDelta,
        JSON.stringify({ version, ts: Math.floor(p.ts), entered: delta.entered, exited: delta.exited }),
      );
    }
    return { rev, version };
  }

  /** The ticker set stored in a part (packed, or as JSON by an earlier version); empty when absent. */
  private async previousTickers(partKey: string): Promise<string[]> {
    const [packed, json] = await this.bus.client.hmgetBuffer(partKey, 'tickers_z', 'tickers');
    if (packed) return unpackTickers(packed);
    return json ? (JSON.parse(json.toString()) as string[]) : [];
  }

  /**
   * Assembles and commits the document. Concurrent calls in one process coalesce: a call made while an
   * assembly runs is answered by one more assembly that starts after it.
   */
  assemble(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.assembleOnce();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** One assembly: read the revision, then every part; SET the bytes under a staging key; commit. */
  async assembleOnce(): Promise<CommitResult> {
    const { chunks, rev, version } = await this.readChunks();
    return this.commit(chunks, rev, version);
  }

  /** The assembled document and the revision and version it was read at. */
  async read(nowSec = Date.now() / 1000): Promise<{ bytes: Buffer; rev: string; version: number }> {
    const { chunks, rev, version } = await this.readChunks(nowSec);
    return { bytes: Buffer.concat(chunks), rev, version };
  }

  /** {@link read} with the document as its pieces (the fragments as stored or cached, not copied). */
  async readChunks(nowSec = Date.now() / 1000): Promise<{ chunks: Buffer[]; rev: string; version: number }> {
    const k = this.keys;
    const client = this.bus.client;
    // One connection, in order: the revision is read before the parts, so a part written after the read
    // bumps it past what the commit expects.
    const head = await client.pipeline().get(k.latestRev).get(k.latestVersion).smembers(k.latestParts).exec();
    const rev = check<string | null>(head, 0) ?? '0';
    const version = Number(check<string | null>(head, 1) ?? '0');
    const symbols = check<string[]>(head, 2).sort();
    const pipe = client.pipeline();
    for (const u of symbols) pipe.hmgetBuffer(k.latestPart(u), 'summary', 'ctoken');
    const res = symbols.length > 0 ? await pipe.exec() : [];
    const heads = symbols.map((u, i) => {
      const [summary, token] = check<(Buffer | null)[]>(res, i);
      const t = token ? token.toString() : null;
      const hit = this.cache.get(u);
      return {
        u,
        summary: summary ?? null,
        token: t,
        cached: hit && t !== null && hit.token === t ? hit.bytes : null,
      };
    });
    // Only the fragments whose token changed (or that have none) are read; a part rewritten after its token
    // was read bumped the revision, so such an assembly is dropped at commit.
    const missing = heads.filter((x) => x.summary && !x.cached);
    const getPipe = client.pipeline();
    for (const x of missing) getPipe.getBuffer(k.latestContracts(x.u));
    const got = missing.length > 0 ? await getPipe.exec() : [];
    const fetched = new Map<string, Buffer | null>();
    missing.forEach((x, i) => {
      const bytes = check<Buffer | null>(got, i);
      fetched.set(x.u, bytes);
      if (bytes && x.token !== null) this.cache.set(x.u, { token: x.token, bytes });
    });
    this.fragments.read += missing.length;
    const parts: LatestPart[] = [];
    for (const x of heads) {
      if (!x.summary) continue; // the part was removed meanwhile
      if (x.cached) this.fragments.cached++;
      parts.push({ underlying: x.u, summary: x.summary, contracts: x.cached ?? fetched.get(x.u) ?? null });
    }
    return { chunks: latestChunks({ version, ts: Math.floor(nowSec), parts }), rev, version };
  }

  /** Makes `bytes` (one buffer, or the document's pieces in order) current unless a part changed since `rev` was read. */
  async commit(bytes: Buffer | readonly Buffer[], rev: string, version: number): Promise<CommitResult> {
    const k = this.keys;
    const staging = k.latestStaging(randomBytes(6).toString('hex'));
    await this.bus.setLarge(staging, bytes, STAGING_TTL_SEC);
    const out = await this.bus.scripts.commitLatest(
      { rev: k.latestRev, staging, latest: k.latest, publishedVersion: k.latestPublishedVersion },
      rev,
      version,
      k.geometryUpdatedChannel,
    );
    const result: CommitResult = out === 0 ? 'stale' : out === 2 ? 'new_version' : 'current';
    this.commits[result]++;
    const size = Buffer.isBuffer(bytes) ? bytes.length : bytes.reduce((n, b) => n + b.length, 0);
    this.logger?.debug({ result, rev, version, bytes: size }, 'massive:chain:latest assembled');
    return result;
  }
}

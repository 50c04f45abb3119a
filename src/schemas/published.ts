/**
 * @module JSON Schemas of everything chain-worker publishes, from one source: these zod schemas. The build
 * emits them as JSON Schema 2020-12 into `schemas/*.json` (shipped in the package), the OpenAPI document
 * references them, the typed client is typed from them, and the tests validate real outputs against them.
 *
 * Objects are open (`looseObject`: unknown extra properties are allowed) because the shapes still grow
 * additively: a reader must ignore fields it does not know, and a validator built from these schemas does
 * too. What has landed is required (GEX v2: vanna/charm/delta, per-expiration levels, horizons, by_basis;
 * the fleet heartbeat; substrate volume); fields still being added are optional (the model header's
 * `provider`, `partial`, `missing_expirations`).
 */
import { z } from 'zod';

const isoOrNull = z
  .string()
  .nullable()
  .describe('ISO-8601 UTC instant (null only if the input time was invalid)');
const unixSeconds = z.number().nonnegative().describe('Unix seconds, fractional to the ms');
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .describe('YYYY-MM-DD');
const provider = z.enum(['massive', 'sim', 'replay']);

/** Fields every published model starts with. */
const modelHeader = {
  version: z.number().int().min(1).describe('MODEL_VERSION of the document'),
  symbol: z.string().describe('{U}, e.g. SPX'),
  epoch_id: z.string(),
  ts: isoOrNull.describe('publish time, ISO-8601 UTC'),
  as_of: isoOrNull.describe('snapshot as-of, ISO-8601 UTC'),
  spot: z.number().nullable(),
  stale: z.boolean(),
  contract_count: z.number().int().nonnegative(),
  provider: provider
    .nullable()
    .optional()
    .describe('where the snapshot came from (added with model v2; null when the epoch meta does not say)'),
  partial: z.boolean().optional().describe('the snapshot missed pages or expirations'),
  missing_expirations: z.array(date).optional(),
};

const count = z.number().int().nonnegative();

const gexTotals = z.looseObject({
  net: z.number(),
  calls: z.number(),
  puts: z.number(),
  vanna: z.number(),
  charm: z.number(),
  delta: z.number(),
});
const gexStrikeRow = z.looseObject({
  strike: z.number(),
  call: z.number(),
  put: z.number(),
  net: z.number(),
  vanna: z.number(),
  charm: z.number(),
});
const gexLevels = z.looseObject({
  zero_gamma: z.number().nullable(),
  call_wall: z.number().nullable(),
  put_wall: z.number().nullable(),
  abs_gamma_strike: z.number().nullable(),
});
const gexProfilePoint = z.looseObject({ level: z.number(), net: z.number() });

const gexIncluded = z.looseObject({ aggregates: count, profile: count, delta: count });
const gexHorizon = z.looseObject({
  expirations: z.array(date),
  totals: gexTotals,
  levels: gexLevels,
  share: z.number().min(0).max(1),
});

export const gexModel = z
  .looseObject({
    ...modelHeader,
    model: z.literal('gex'),
    basis: z.literal('oi'),
    units: z.literal('usd_per_1pct'),
    units_vanna: z.literal('usd_delta_per_vol_point'),
    units_charm: z.literal('usd_delta_per_day'),
    units_delta: z.literal('usd_delta'),
    totals: gexTotals,
    levels: gexLevels,
    zero_gamma_roots: z.array(z.number()),
    by_strike: z.array(gexStrikeRow),
    by_expiration: z.record(
      date,
      z.looseObject({
        totals: gexTotals,
        levels: gexLevels,
        zero_gamma_roots: z.array(z.number()),
        by_strike: z.array(gexStrikeRow),
        profile: z.array(gexProfilePoint),
      }),
    ),
    profile: z.array(gexProfilePoint),
    horizons: z.looseObject({ '0dte': gexHorizon, next: gexHorizon, all: gexHorizon }),
    by_basis: z.looseObject({
      volume: z.looseObject({
        totals: gexTotals,
        levels: gexLevels,
        zero_gamma_roots: z.array(z.number()),
        by_strike: z.array(gexStrikeRow),
        included: gexIncluded,
        no_weight: count,
      }),
    }),
    excluded: z.looseObject({
      no_gamma: count,
      no_oi: count,
      no_iv: count,
      no_delta: count,
      expired: count,
      invalid: count,
    }),
    included: gexIncluded,
  })
  .describe('massive:models:gex:{U} and GET /api/models/gex/{symbol}: dealer GEX, US dollars per 1% move');

const tile = z.looseObject({
  value: z.number().describe('net price from mids, USD per share; negative = credit'),
  legs: z.array(z.looseObject({ strike: z.number(), type: z.enum(['C', 'P']), qty: z.number().int() })),
  description: z.string(),
});
const tilesByStrikeWidth = z.record(z.string(), z.record(z.string(), tile));

export const heatmapModel = z
  .looseObject({
    ...modelHeader,
    model: z.literal('heatmap'),
    widths: z.array(z.number().positive()),
    window_pct: z.number().nonnegative(),
    window: z.looseObject({ low: z.number(), high: z.number() }).nullable(),
    expirations: z.record(
      date,
      z.looseObject({
        root: z.string(),
        settlement: z.enum(['AM', 'PM']),
        butterfly: z.looseObject({ call: tilesByStrikeWidth, put: tilesByStrikeWidth }),
        vertical: z.looseObject({ call: tilesByStrikeWidth, put: tilesByStrikeWidth }),
        single: z.record(z.string(), z.looseObject({ call: tile.optional(), put: tile.optional() })),
      }),
    ),
  })
  .describe(
    'massive:models:heatmap:{U} and GET /api/models/heatmap/{symbol}: butterfly/vertical/single tiles',
  );

const vendorNumber = z.number().nullable().describe('null when the vendor did not send it, never 0');

export const substrate = z
  .looseObject({
    id: z.string().describe('option ticker, e.g. O:SPXW260107C06850000'),
    underlying: z.string(),
    root: z.string(),
    expiration: date,
    strike: z.number().positive(),
    type: z.enum(['call', 'put']),
    bid: vendorNumber,
    ask: vendorNumber,
    mid: vendorNumber,
    last: vendorNumber,
    delta: vendorNumber,
    gamma: vendorNumber,
    theta: vendorNumber,
    vega: vendorNumber,
    iv: vendorNumber,
    oi: vendorNumber,
    volume: vendorNumber.describe("the day's traded contracts"),
    ts: unixSeconds.describe('snapshot as-of'),
  })
  .describe('epoch:{epoch_id}:contract:{contract_id}: the normalized contract the model builders read');

const numeric = z.string().regex(/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/);
const secondsString = numeric.describe('Unix seconds as a string (HASH field)');

export const epochMeta = z
  .looseObject({
    symbol: z.string(),
    status: z.string().describe('active, retired, …'),
    geometry_hash: z.string(),
    created_ts: secondsString,
    as_of: secondsString.optional(),
    last_refresh_ts: secondsString.optional(),
    spot: z.string().optional(),
    prev_epoch: z.string().optional(),
    last_health: z.string().optional(),
    writer: z.string().optional(),
    contract_count: numeric.optional(),
    expiration_count: numeric.optional(),
    strike_count: numeric.optional(),
    dormant_count: numeric.optional(),
    forced_dirty: z.enum(['0', '1']).optional(),
    expirations: z.string().optional().describe('JSON array of YYYY-MM-DD'),
  })
  .describe('epoch:meta:{epoch_id}: a HASH; every field is a string, as HGETALL returns it');

const lastCycle = z.record(
  z.string(),
  z.looseObject({
    ts: unixSeconds,
    health: z.string(),
    epoch_id: z.string().nullable(),
    latency_ms: z.number(),
  }),
);
const heartbeatStatus = z.enum(['ok', 'degraded', 'faulty', 'stopped']);

export const heartbeat = z
  .looseObject({
    service: z.string(),
    status: heartbeatStatus,
    ts: unixSeconds,
    reason: z.string().nullable(),
    provider: z.string().nullable(),
    instance: z.string(),
    live_workers: count,
    last_cycle: lastCycle,
    workers: z.record(
      z.string(),
      z.looseObject({
        instance: z.string(),
        status: heartbeatStatus,
        ts: unixSeconds,
        reason: z.string().nullable(),
        provider: z.string(),
        final: z.boolean(),
        last_cycle: lastCycle,
      }),
    ),
  })
  .describe('massive:heartbeat (system bus): STRING JSON with a TTL');

export const chainLatestEntry = z.looseObject({
  symbol: z.string(),
  underlying: z.string(),
  as_of: unixSeconds,
  spot: z.number().nullable(),
  epoch_id: z.string().nullable(),
  health: z.string(),
  contract_count: count,
  pages: count.optional(),
  retries: count.optional(),
  skipped: count.optional(),
  partial: z.boolean().optional(),
  expirations: z.record(date, count).optional(),
  underlying_asset: z.unknown().optional().describe("the vendor's underlying_asset, untouched"),
});

export const chainLatest = z
  .object({
    version: count.describe('bumped when the set of tickers of any symbol changes'),
    ts: z.number().int().describe('assembly time, Unix seconds (integer, as MarketSwarm writes it)'),
    contracts: z
      .record(z.string(), z.unknown())
      .describe('ticker → vendor contract JSON byte for byte (empty with CHAIN_LATEST_MODE=summary)'),
    symbols: z.record(z.string(), chainLatestEntry).describe('{U} → our summary of its last snapshot'),
  })
  .describe(
    'massive:chain:latest: STRING JSON, the latest snapshot of every symbol (MarketSwarm form plus our summaries)',
  );

export const sseHello = z
  .looseObject({
    server: z.number().describe('server start, epoch ms (a change means a new server)'),
    symbols: z.array(z.string()),
    models: z.array(z.enum(['gex', 'heatmap'])),
    resumed_from: z.string().nullable().describe('the Last-Event-ID the client sent (echoed, cut to 64)'),
    events_from: z
      .string()
      .nullable()
      .optional()
      .describe('stream events after this id follow (also the SSE id of hello); null: Redis unreachable'),
  })
  .describe('SSE `hello` event: the first event of every connection');

export const sseModel = z
  .looseObject({
    model: z.enum(['gex', 'heatmap']),
    symbol: z.string(),
    epoch_id: z.string(),
    ts: z.string().nullable(),
    stale: z.boolean().nullable(),
    spot: z.number().nullable(),
    contract_count: z.number().int().nullable(),
    live_source: z.enum(['snapshot', 'stream']).nullable().optional().describe("the model's live.source"),
    last_tick_ts: z.string().nullable().optional().describe("the model's live.last_tick_ts (ISO-8601)"),
    url: z.string().describe('where to GET the document'),
  })
  .describe('SSE `model` event (and massive:models channel note): a model was published; GET `url` for it');

const removedTile = z.union([
  z.tuple([date, z.enum(['butterfly', 'vertical']), z.enum(['call', 'put']), z.string(), z.string()]),
  z.tuple([date, z.literal('single'), z.string(), z.enum(['call', 'put'])]),
]);

export const sseHeatmapDiff = z
  .looseObject({
    symbol: z.string(),
    epoch_id: z.string(),
    base: z
      .object({ epoch_id: z.string(), ts: z.string().nullable() })
      .describe('the version this diff applies to; a client holding another refetches the document'),
    ts: z.string().nullable().describe("the new version's ts"),
    header: z
      .record(z.string(), z.unknown())
      .describe('every top-level field of the new model but expirations'),
    values: z
      .record(date, z.record(z.string(), z.unknown()))
      .describe(
        'per date, tiles whose legs are unchanged and only the price moved: {butterfly|vertical: {side: {strike: {width: value}}}, single: {strike: {side: value}}}; the description\'s price part ("@ 2.35 DEBIT") follows the value',
      ),
    changed: z
      .record(date, z.record(z.string(), z.unknown()))
      .describe(
        'per date, in the heatmap model shape: {butterfly|vertical: {side: {strike: {width: tile}}}, single: {strike: {side: tile}}} with only new or changed tiles, plus root, settlement, density, flags when they changed',
      ),
    removed: z
      .array(removedTile)
      .describe('[date, strategy, side, strike, width] or [date, "single", strike, side]'),
    removed_expirations: z.array(date),
    counts: z.object({
      repriced: z.number().int().min(0),
      changed: z.number().int().min(0),
      removed: z.number().int().min(0),
    }),
  })
  .describe('SSE `heatmap_diff` event: a new heatmap version as the tiles that changed (at most 512 KiB)');

const eventBase = {
  symbol: z.string().describe('{U}, e.g. SPX'),
  epoch_id: z.string().nullable().describe('the epoch the event is about (null: none yet)'),
  ts: unixSeconds.describe('when the event was emitted, Unix seconds'),
};
const changeList = <T extends z.ZodType>(item: T) =>
  z.looseObject({ entered: z.array(item), left: z.array(item) });
const regime = z.enum(['positive', 'negative']);

export const chainEvent = z
  .discriminatedUnion('type', [
    z.looseObject({
      type: z.literal('epoch_promoted'),
      ...eventBase,
      epoch_id: z.string(),
      prev_epoch_id: z.string().nullable(),
      reason: z.enum(['first', 'geometry', 'recovery', 'meta_missing', 'index_missing']),
      contracts: count.describe('contracts the new epoch holds'),
      expirations: z.array(date).describe("the new epoch's expirations"),
      geometry: z
        .looseObject({
          expirations: changeList(date),
          strikes: changeList(z.number()),
          contracts: z.looseObject({ entered: count, left: count }),
        })
        .nullable()
        .describe('what entered and left against the previous epoch (null: no previous epoch index)'),
      health: z.string(),
      partial: z.boolean(),
      spot: z.number().nullable(),
    }),
    z.looseObject({
      type: z.literal('health_changed'),
      ...eventBase,
      from: z.string(),
      to: z.string(),
    }),
    z.looseObject({
      type: z.literal('dormant'),
      ...eventBase,
      dormant_count: count,
      error: z.string(),
    }),
    z.looseObject({
      type: z.literal('recovered'),
      ...eventBase,
      epoch_id: z.string(),
      prev_epoch_id: z.string().nullable(),
    }),
    z.looseObject({
      type: z.literal('shutdown'),
      symbol: z.null().describe('worker-wide: sent to every symbol filter'),
      epoch_id: z.null(),
      ts: unixSeconds,
      worker: z.string(),
      status: z.enum(['stopped', 'faulty']),
      reason: z.string(),
      symbols: z.array(z.looseObject({ symbol: z.string(), epoch_id: z.string().nullable() })),
    }),
    z.looseObject({
      type: z.literal('zero_gamma_crossed'),
      ...eventBase,
      direction: z.enum(['up', 'down']).describe('up: spot is now above zero gamma'),
      spot: z.number(),
      zero_gamma: z.number(),
      as_of: unixSeconds.describe('snapshot time of the GEX build'),
    }),
    z.looseObject({
      type: z.literal('regime_changed'),
      ...eventBase,
      from: regime,
      to: regime,
      net: z.number().describe('net GEX, US dollars per 1%'),
      as_of: unixSeconds,
    }),
    z.looseObject({
      type: z.literal('wall_moved'),
      ...eventBase,
      wall: z.enum(['call', 'put']),
      from: z.number(),
      to: z.number(),
      as_of: unixSeconds,
    }),
  ])
  .describe('massive:events entry (field `payload`) and SSE event of the same name: see docs/events.md');

export type ChainEvent = z.infer<typeof chainEvent>;
export type ChainEventType = ChainEvent['type'];

/** Every event type (`massive:events` entries; SSE event names). */
export const CHAIN_EVENT_TYPES = chainEvent.options.map(
  (o) => o.shape.type.value,
) as readonly ChainEventType[];

const isoInstant = z.string().describe('ISO-8601 UTC instant');
const seriesValue = z.union([z.number(), z.boolean(), z.null()]);

export const historySeries = z
  .looseObject({
    symbol: z.string().describe('{U}, e.g. SPX'),
    model: z.literal('gex'),
    from: isoInstant,
    to: isoInstant,
    fields: z.array(z.string()).describe('the selected fields, in the order asked'),
    step: z
      .number()
      .int()
      .nonnegative()
      .describe('seconds per row bucket, each keeping its last version; 0 = one row per version'),
    versions: count.describe('versions in [from, to] before downsampling'),
    rows: z.array(
      z
        .looseObject({
          ts: isoInstant.describe("the version's publish time (the model's ts)"),
          epoch_id: z.string(),
          trigger: z.enum(['snapshot', 'stream']),
        })
        .catchall(seriesValue)
        .describe('one kept GEX version: ts, epoch_id, trigger and the selected fields (null: no value)'),
    ),
  })
  .describe('GET /api/history/{symbol}: the GEX levels through time, one row per kept version, oldest first');

/** Every published schema by file name (`schemas/<name>.json`). */
export const PUBLISHED_SCHEMAS = {
  'gex-model': gexModel,
  'heatmap-model': heatmapModel,
  substrate,
  'epoch-meta': epochMeta,
  heartbeat,
  'chain-latest': chainLatest,
  'sse-hello': sseHello,
  'sse-model': sseModel,
  'sse-heatmap-diff': sseHeatmapDiff,
  event: chainEvent,
  'history-series': historySeries,
} as const;

export type SchemaName = keyof typeof PUBLISHED_SCHEMAS;

export type GexModelDoc = z.infer<typeof gexModel>;
export type HeatmapModelDoc = z.infer<typeof heatmapModel>;
export type SseModelNote = z.infer<typeof sseModel>;
export type SseHello = z.infer<typeof sseHello>;
export type HistorySeriesDoc = z.infer<typeof historySeries>;

/** The JSON Schema (2020-12) of a published value, with `$id` `chain-worker/schemas/<name>.json`. */
export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  const schema = z.toJSONSchema(PUBLISHED_SCHEMAS[name], { target: 'draft-2020-12', io: 'output' });
  return { $id: `chain-worker/schemas/${name}.json`, title: name, ...schema };
}

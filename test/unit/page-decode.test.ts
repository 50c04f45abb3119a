/**
 * The page decoder (which runs on the page threads) against the reading it replaced: for every page,
 * decodePage + liftContracts give the same contracts, skip reasons, spot and underlying asset as
 * parseContract over JSON.parse of the page, and each contract's raw bytes are its exact slice.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MASSIVE_FIXTURES_DIR } from '../../src/lib/repo-paths.js';
import {
  decodePage,
  decodePageWithWrites,
  PageSyntaxError,
  peekNextUrl,
} from '../../src/provider/massive/page-decode.js';
import { liftContracts } from '../../src/provider/massive/page-lift.js';
import { parseContract, spotFromResult } from '../../src/provider/massive/parse-contract.js';
import { splitResults } from '../../src/provider/massive/split-results.js';
import type { ParsedContract, RawContract } from '../../src/provider/massive/types.js';

/** What the chain client read from a page before decoding moved off the main thread. */
function reference(text: string, keepRaw: boolean): unknown[] {
  const bytes = Buffer.from(text);
  const page = JSON.parse(text) as { results?: unknown[] };
  const results = page.results ?? [];
  const slices = results.length > 0 ? splitResults(bytes) : null;
  const exact = slices !== null && slices.length === results.length;
  const out: unknown[] = [];
  for (let i = 0; i < results.length; i++) {
    const parsed = parseContract(results[i]);
    if (!parsed.ok) {
      out.push({ ok: false, reason: parsed.reason });
      continue;
    }
    const c: ParsedContract = parsed.contract;
    const spot = spotFromResult(c.raw);
    const underlying = c.raw?.underlying_asset;
    if (exact) {
      c.rawJson = slices[i];
      if (!keepRaw) delete c.raw;
    }
    out.push({ ok: true, contract: c, spot, underlying });
  }
  return out;
}

function decoded(text: string, keepRaw: boolean): unknown[] {
  const bytes = Buffer.from(text);
  const page = decodePage(bytes, { keepRaw, wantUnderlying: true });
  return liftContracts(page, bytes).map((r) =>
    r.ok ? { ok: true, contract: r.contract, spot: r.spot, underlying: r.underlying } : r,
  );
}

const contract = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  details: { ticker: 'O:SPXW260107C06850000', contract_type: 'call', strike_price: 6850 },
  last_quote: { bid: 1.5, ask: 1.7, midpoint: 1.6, last_updated: 1767798000000000000 },
  greeks: { delta: 0.5, gamma: 0.01, theta: -1.2, vega: 3.4 },
  implied_volatility: 0.18,
  open_interest: 1200,
  underlying_asset: { ticker: 'I:SPX', value: 6848.25, last_updated: 1767798001000000000 },
  ...over,
});

const PAGES: [string, string][] = [
  ['empty', '{"results":[]}'],
  ['no results key', '{"status":"OK"}'],
  [
    'one contract, numbers as sent',
    JSON.stringify({ results: [contract()], next_url: 'https://x/next?cursor=abc' }),
  ],
  [
    'skips of every kind',
    JSON.stringify({
      results: [
        5,
        null,
        {},
        { details: { ticker: 'NOPE' } },
        contract({ details: { ticker: 'O:SPXW260107C06850000', contract_type: 'put' } }),
        contract({ details: { ticker: 'O:SPXW260107C06850000', contract_type: 'weird' } }),
        contract({ details: { ticker: 'O:SPXW260107C06850000', strike_price: 6851 } }),
        contract({ details: { ticker: 'O:SPXW260107C06850000', expiration_date: '2026-01-08' } }),
        contract({ ticker: 'O:SPX260107P06850000', details: undefined }),
      ],
    }),
  ],
  [
    'values that are not numbers, nulls and missing greeks',
    JSON.stringify({
      results: [
        contract({ greeks: {}, implied_volatility: null, open_interest: '12' }),
        contract({ last_quote: { bid: null, ask: 'x', midpoint: true }, last_trade: { price: { a: 1 } } }),
        contract({ underlying_asset: { ticker: 'AAPL', price: 190.5 } }),
        contract({ underlying_asset: null }),
      ],
    }),
  ],
  [
    'a duplicate ticker is decoded twice (the client counts it)',
    JSON.stringify({ results: [contract(), contract()] }),
  ],
  [
    'exact bytes of numbers',
    '{"results":[{"details":{"ticker":"O:SPX260107C06850000"},"open_interest":1.50e3}]}',
  ],
  [
    'unicode and whitespace',
    '{ "results" : [ {"details":{"ticker":"O:SPX260107C06850000"},"note":"é–ü\\u00e9"} ] }',
  ],
  ['results null (read as none)', '{"status":"OK","results":null}'],
  // Parsed piece by piece, these must still read as JSON.parse reads the whole document.
  [
    "a second results key wins (the first array is not the document's)",
    `{"results":[${JSON.stringify(contract())}],"status":"OK","results":[]}`,
  ],
  [
    'a second results key spelt with an escape wins too',
    `{"results":[${JSON.stringify(contract())}],"res\\u0075lts":[${JSON.stringify(contract({ open_interest: 3 }))}]}`,
  ],
  [
    'a results key inside another object is not the results',
    `{"meta":{"results":[1]},"results":[${JSON.stringify(contract())}],"next_url":"https:\\/\\/x\\/n?a=1\\u0026b=2"}`,
  ],
  ['status DELAYED', JSON.stringify({ status: 'DELAYED', results: [contract()] })],
];

describe('decodePage + liftContracts', () => {
  it.each(PAGES)('%s: the same contracts as the main-thread reading', (_name, text) => {
    for (const keepRaw of [false, true]) expect(decoded(text, keepRaw)).toEqual(reference(text, keepRaw));
  });

  it('keeps each contract raw bytes as a zero-copy slice of the page', () => {
    const text = JSON.stringify({ results: [contract(), contract({ open_interest: 7 })] });
    const bytes = Buffer.from(text);
    const lifted = liftContracts(decodePage(bytes, { keepRaw: false, wantUnderlying: false }), bytes);
    for (const r of lifted) {
      if (!r.ok) throw new Error('expected a contract');
      expect(r.contract.rawJson?.buffer).toBe(bytes.buffer);
      expect(r.contract.raw).toBeUndefined();
      expect(r.underlying).toBeUndefined();
    }
    expect(lifted.map((r) => (r.ok ? (JSON.parse(String(r.contract.rawJson)) as unknown) : null))).toEqual(
      (JSON.parse(text) as { results: unknown[] }).results,
    );
  });

  it('keeps the vendor object when the page cannot be split', () => {
    // `results` appears twice: JSON.parse keeps the last, the byte split finds the first.
    const text = `{"results":[1,2],"results":[${JSON.stringify(contract())}]}`;
    const bytes = Buffer.from(text);
    const page = decodePage(bytes, { keepRaw: false, wantUnderlying: false });
    expect(page.exact).toBe(false);
    const [r] = liftContracts(page, bytes);
    expect(r?.ok && r.contract.rawJson).toBeFalsy();
    expect(r?.ok && (r.contract.raw as RawContract).open_interest).toBe(1200);
  });

  it('reads next_url, and nothing else as one', () => {
    expect(decodePage(Buffer.from('{"results":[],"next_url":"u"}'), opts).nextUrl).toBe('u');
    expect(decodePage(Buffer.from('{"results":[],"next_url":5}'), opts).nextUrl).toBeUndefined();
  });

  it.each([
    ['{"results":['],
    ['not json'],
    ['null'],
    ['7'],
    [''],
    ['[]'],
    ['[{"results":[]}]'],
    ['"OK"'],
    // Pieces that parse one by one, in a document that does not.
    ['{"results":[{"a":1},]}'],
    ['{"results":[{"a":1} {"b":2}]}'],
    ['{"results":[{"a":1}],}'],
    ['{"results":[{"a":1}]]'],
  ])('rejects %j as a syntax error', (text) => {
    expect(() => decodePage(Buffer.from(text), opts)).toThrow(PageSyntaxError);
  });

  it.each([
    [
      '{"status":"ERROR","request_id":"r9","error":"Internal error"}',
      'status "ERROR" (request r9): Internal error',
    ],
    ['{"status":"NOT_FOUND","results":[]}', 'status "NOT_FOUND"'],
    ['{"status":"ok","results":[]}', 'status "ok"'],
    ['{"results":"abc"}', 'results is not a list'],
    ['{"status":"OK","results":{"0":{}}}', 'results is not a list'],
  ])('rejects %s as not a page: %s', (text, message) => {
    expect(() => decodePage(Buffer.from(text), opts)).toThrow(new PageSyntaxError(message));
  });

  it('decodes every real chain fixture like the main-thread reading', () => {
    let n = 0;
    for (const d of ['client-python', 'client-go', 'openapi-examples']) {
      for (const f of readdirSync(join(MASSIVE_FIXTURES_DIR, d))) {
        const text = readFileSync(join(MASSIVE_FIXTURES_DIR, d, f), 'utf8');
        const doc = JSON.parse(text) as { results?: unknown };
        if (!Array.isArray(doc.results)) continue;
        expect(decoded(text, false)).toEqual(reference(text, false));
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(4);
  });
});

const opts = { keepRaw: false, wantUnderlying: false };

describe('contracts lifted with encoded writes read their fields from the page', () => {
  const writes = {
    prefix: '',
    underlying: 'SPX',
    asOfMs: 1767798000000,
    snapshotSec: 300,
    substrateSec: 300,
  };
  const withWrites = (text: string) => {
    const bytes = Buffer.from(text);
    return liftContracts(decodePageWithWrites(bytes, { ...opts, writes }), null);
  };

  it.each(PAGES)('%s: the fields of the plain reading, read in any order', (_name, text) => {
    const plain = decoded(text, false);
    const lifted = withWrites(text);
    expect(lifted).toHaveLength(plain.length);
    // Last to first: each contract finds its own odd values, not the ones after the previous read.
    for (let i = lifted.length - 1; i >= 0; i--) {
      const r = lifted[i];
      const p = plain[i] as { ok: boolean; contract?: ParsedContract };
      expect(r?.ok).toBe(p.ok);
      if (!r?.ok || !p.contract) continue;
      expect(r.contract.fields).toEqual(p.contract.fields);
      expect(r.ts).toBe(p.contract.fields.ts);
      // Nothing kept per contract: the fields are made when read.
      expect(Object.hasOwn(r.contract, 'fields')).toBe(false);
      expect(r.contract.fields).not.toBe(r.contract.fields);
    }
  });

  it('a field set on a contract replaces the view', () => {
    const [r] = withWrites(JSON.stringify({ results: [contract()] }));
    if (!r?.ok) throw new Error('expected a contract');
    const fields = { ...r.contract.fields, bid: 9 };
    r.contract.fields = fields;
    expect(r.contract.fields).toBe(fields);
  });
});

describe('peekNextUrl (a guess, checked against the decoded page)', () => {
  it.each([
    ['{"results":[],"next_url":"https://a/b?cursor=x"}', 'https://a/b?cursor=x'],
    ['{"results":[] , "next_url" :\n "u1" }', 'u1'],
    ['{"next_url":"first","results":[{"next_url":"last"}]}', 'last'],
    ['{"results":[]}', undefined],
    ['{"results":[],"next_url":null}', undefined],
    ['{"results":[],"next_url":"a\\/b"}', undefined],
    ['{"results":[],"next_url":"unterminated', undefined],
    ['{"results":[],"next_url"}', undefined],
  ])('%s → %s', (text, expected) => {
    expect(peekNextUrl(Buffer.from(text))).toBe(expected);
  });
});

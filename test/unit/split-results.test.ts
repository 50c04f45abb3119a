import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MASSIVE_FIXTURES_DIR } from '../../src/lib/repo-paths.js';
import { splitPage, splitResults } from '../../src/provider/massive/split-results.js';

function check(text: string): void {
  const parts = splitResults(Buffer.from(text));
  const doc = JSON.parse(text) as { results: unknown[] };
  expect(parts).not.toBeNull();
  expect(parts?.map((p) => JSON.parse(p.toString()) as unknown)).toEqual(doc.results);
}

describe('splitResults', () => {
  it.each([
    ['{"results":[]}'],
    ['{"results":[{"a":1}]}'],
    ['{"status":"OK","results":[{"a":1},{"b":[1,2,{"c":"]}"}]}],"next_url":"x"}'],
    ['{ "request_id" : "r", "results" : [ {"a":"x\\"y,}]"} , {"b":null} ] }'],
    ['{"meta":{"results":[9]},"results":[{"ok":true}]}'],
    ['{"results":[{"u":"é–ü"},{"v":"\\u00e9"}],"status":"OK"}'],
    ['{\n  "results": [\n    {"a": 1},\n    {"a": 2}\n  ]\n}'],
  ])('splits %s', (text) => check(text));

  it.each([
    ['{}'],
    ['{"results":{}}'],
    ['{"results":[{"a":1}'],
    ['[1,2]'],
    ['{"results":"x"}'],
    ['{"results":[{"a":1},]}'],
    ['{"results":[,{"a":1}]}'],
  ])('returns null for %s', (text) => {
    expect(splitResults(Buffer.from(text))).toBeNull();
  });

  it.each([
    ['{"results":[]}', 11, 13],
    ['{"status":"OK","results" : [ {"a":1} ],"next_url":"x"}', 27, 38],
  ])('finds the array of %s at [%i, %i)', (text, start, end) => {
    const split = splitPage(Buffer.from(text));
    expect(split && [split.start, split.end]).toEqual([start, end]);
    expect(text.slice(start, end)).toMatch(/^\[.*\]$/s);
  });

  it('keeps the exact bytes of each element (no re-encoding of numbers)', () => {
    const parts = splitResults(Buffer.from('{"results":[{"x":1.50,"y":1e3}]}'));
    expect(parts?.[0]?.toString()).toBe('{"x":1.50,"y":1e3}');
  });

  it('splits every real chain fixture', () => {
    const dirs = ['client-python', 'client-go', 'openapi-examples'];
    let n = 0;
    for (const d of dirs) {
      for (const f of readdirSync(join(MASSIVE_FIXTURES_DIR, d))) {
        const text = readFileSync(join(MASSIVE_FIXTURES_DIR, d, f), 'utf8');
        const doc = JSON.parse(text) as { results?: unknown };
        if (!Array.isArray(doc.results)) continue;
        check(text);
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(4);
  });
});

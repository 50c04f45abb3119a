/**
 * The published JSON Schemas: the files the build emits into `schemas/` are the zod source's JSON Schema,
 * a standard 2020-12 validator compiles each, rejects a wrong value, and accepts unknown extra properties
 * (shapes grow additively; readers ignore what they do not know). Real outputs are validated where the
 * tests read them (expectSchema in cli, api and sse tests).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/lib/repo-paths.js';
import { PUBLISHED_SCHEMAS, jsonSchemaOf, type SchemaName } from '../../src/schemas/published.js';

const names = Object.keys(PUBLISHED_SCHEMAS) as SchemaName[];

const substrate = {
  id: 'O:SPXW261204C07350000',
  underlying: 'SPX',
  root: 'SPXW',
  expiration: '2026-12-04',
  strike: 7350,
  type: 'call',
  bid: 0,
  ask: 0.05,
  mid: 0.025,
  last: null,
  delta: 0.01,
  gamma: 0.0001,
  theta: -0.2,
  vega: 0.1,
  iv: 0.07,
  oi: 1666,
  volume: 12,
  ts: 1796115244.117,
};

describe('published JSON Schemas', () => {
  it.each(names)('schemas/%s.json is emitted by the build from the zod source', (name) => {
    const file = JSON.parse(
      readFileSync(resolve(PACKAGE_ROOT, 'schemas', `${name}.json`), 'utf8'),
    ) as unknown;
    expect(file).toEqual(jsonSchemaOf(name));
    expect(file).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `chain-worker/schemas/${name}.json`,
    });
  });

  it('every schema compiles in a standard 2020-12 validator', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const name of names) expect(() => ajv.compile(jsonSchemaOf(name)), name).not.toThrow();
  });

  it.each<[string, unknown, boolean]>([
    ['a real substrate', substrate, true],
    ['with an unknown extra field', { ...substrate, open_interest_change: 3 }, true],
    ['type spelled C', { ...substrate, type: 'C' }, false],
    ['missing gamma', Object.fromEntries(Object.entries(substrate).filter(([k]) => k !== 'gamma')), false],
    ['expiration not a date', { ...substrate, expiration: '20261204' }, false],
    ['ts in ms as a string', { ...substrate, ts: '1796115244117' }, false],
  ])('substrate: %s → valid %s', (_, value, valid) => {
    const validate = new Ajv2020({ strict: false }).compile(jsonSchemaOf('substrate'));
    expect(validate(value)).toBe(valid);
  });

  it('sse-model rejects an unknown model name', () => {
    const validate = new Ajv2020({ strict: false }).compile(jsonSchemaOf('sse-model'));
    const note = {
      model: 'gex',
      symbol: 'SPX',
      epoch_id: 'SPX:1:a',
      ts: null,
      stale: false,
      spot: 1,
      contract_count: 2,
      url: '/api/models/gex/SPX',
    };
    expect(validate(note)).toBe(true);
    expect(validate({ ...note, model: 'vex' })).toBe(false);
  });
});

/**
 * @module `expectSchema(value, 'gex-model')`: validates a real output against the JSON Schema the package
 * ships (emitted from `src/schemas/published.ts`), with a standard JSON Schema 2020-12 validator (ajv), so
 * the tests prove the shipped files work for consumers, not only the zod source.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { jsonSchemaOf, type SchemaName } from '../../src/schemas/published.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const compiled = new Map<SchemaName, ValidateFunction>();

function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) compiled.set(name, (v = ajv.compile(jsonSchemaOf(name))));
  return v;
}

/** Asserts that `value` (a parsed JSON value, or a JSON string) matches the published schema `name`. */
export function expectSchema(value: unknown, name: SchemaName): void {
  const doc: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  const validate = validator(name);
  const ok = validate(doc);
  expect(ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`), name).toEqual(
    [],
  );
}

/**
 * @module Reading an epoch's meta hash for the operator's view without trusting it: a field that is not
 * what the worker writes (a number, a JSON array of strings) reads as absent and is named in `errors`, so
 * one bad epoch is marked in `GET /api/epochs` / `chain-worker inspect` instead of breaking the list.
 */

/** The meta fields as the view needs them; `errors` names each field that could not be read. */
export interface MetaFields {
  created_ts: number | null;
  dormant_count: number | null;
  contract_count: number | null;
  strike_count: number | null;
  expiration_count: number | null;
  expirations: string[] | null;
  missing_expirations: string[] | null;
  spot: number | null;
  last_refresh_ts: number | null;
  errors: string[];
}

const NUMBER_FIELDS = [
  'created_ts',
  'dormant_count',
  'contract_count',
  'strike_count',
  'expiration_count',
] as const;
const LIST_FIELDS = ['expirations', 'missing_expirations'] as const;
const LATE_NUMBER_FIELDS = ['spot', 'last_refresh_ts'] as const;

/** The value as the error shows it: JSON-quoted, cut to 40 characters. */
function shown(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

/** Reads the meta's fields: absent (or '') fields are null, unreadable ones null and listed in `errors`. */
export function readMetaFields(meta: Record<string, string>): MetaFields {
  const errors: string[] = [];
  const num = (field: string): number | null => {
    const raw = meta[field];
    // '' is how the worker writes an absent spot.
    if (raw === undefined || raw === '') return null;
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (Number.isFinite(n)) return n;
    errors.push(`${field}: not a number (got ${shown(raw)})`);
    return null;
  };
  const list = (field: string): string[] | null => {
    const raw = meta[field];
    if (raw === undefined || raw === '') return null;
    try {
      const v = JSON.parse(raw) as unknown;
      if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return v;
    } catch {
      // Reported below.
    }
    errors.push(`${field}: not a JSON array of strings (got ${shown(raw)})`);
    return null;
  };
  const nums = Object.fromEntries(NUMBER_FIELDS.map((f) => [f, num(f)])) as Record<
    (typeof NUMBER_FIELDS)[number],
    number | null
  >;
  const lists = Object.fromEntries(LIST_FIELDS.map((f) => [f, list(f)])) as Record<
    (typeof LIST_FIELDS)[number],
    string[] | null
  >;
  const late = Object.fromEntries(LATE_NUMBER_FIELDS.map((f) => [f, num(f)])) as Record<
    (typeof LATE_NUMBER_FIELDS)[number],
    number | null
  >;
  return { ...nums, ...lists, ...late, errors };
}

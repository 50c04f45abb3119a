/** @module One-line order descriptions a trader can read, e.g. `BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.35 DEBIT`. */
import type { ContractType } from '../../provider/massive/types.js';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/**
 * YYYY-MM-DD → DDMMMYY, the order-ticket form.
 *
 * @example
 * orderExpiry('2026-01-16'); // '16JAN26'
 */
export function orderExpiry(expiration: string): string {
  const [y = '', m = '', d = ''] = expiration.split('-');
  return `${d}${MONTHS[Number(m) - 1] ?? m}${y.slice(2)}`;
}

/** What a tile is: a structure name, or null for a single option. */
export type StructureName = 'BUTTERFLY' | 'VERTICAL' | null;

/**
 * The order line's start, shared by every tile of one root and date.
 *
 * @example
 * orderPrefix('SPXW', '2026-01-16'); // 'BUY 1 SPXW 16JAN26 '
 */
export function orderPrefix(root: string, expiration: string): string {
  return `BUY 1 ${root} ${orderExpiry(expiration)} `;
}

/**
 * What is bought, between the strikes and the price.
 *
 * @example
 * orderWhat('C', 'BUTTERFLY'); // ' CALL BUTTERFLY'
 * orderWhat('P', null); // ' PUT'
 */
export function orderWhat(type: ContractType, structure: StructureName): string {
  const name = type === 'C' ? ' CALL' : ' PUT';
  return structure === null ? name : `${name} ${structure}`;
}

/**
 * The price part: a negative value is a CREDIT of its absolute value, zero is EVEN.
 *
 * @example
 * orderPrice(-0.1); // ' @ 0.10 CREDIT'
 */
export function orderPrice(value: number): string {
  const side = value > 0 ? 'DEBIT' : value < 0 ? 'CREDIT' : 'EVEN';
  return ` @ ${Math.abs(value).toFixed(2)} ${side}`;
}

export interface OrderParts {
  root: string;
  expiration: string;
  type: ContractType;
  /** As the order lists them: a butterfly low/centre/high, a vertical long/short, a single its strike. */
  strikes: readonly number[];
  structure: StructureName;
  /** Net price already rounded to the cent; negative = credit. */
  value: number;
}

/**
 * The whole order line (the tiles build the same line from cached parts).
 *
 * @example
 * orderDescription({ root: 'SPXW', expiration: '2026-01-16', type: 'P', strikes: [6850, 6825],
 *   structure: 'VERTICAL', value: -0.15 }); // 'BUY 1 SPXW 16JAN26 6850/6825 PUT VERTICAL @ 0.15 CREDIT'
 */
export function orderDescription(p: OrderParts): string {
  return (
    orderPrefix(p.root, p.expiration) +
    p.strikes.map(String).join('/') +
    orderWhat(p.type, p.structure) +
    orderPrice(p.value)
  );
}

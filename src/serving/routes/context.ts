/**
 * @module What every route module gets: the server's dependencies, the SSE hub and the symbol rules.
 */
import { underlyingOf } from '../../redis/keys.js';
import type { HttpServerDeps } from '../server.js';
import type { SseHub } from '../sse.js';
import { HttpError } from './errors.js';

export interface ServingContext {
  deps: HttpServerDeps;
  hub: SseHub;
  /** Configured `{U}` symbols, in configuration order. */
  symbols: readonly string[];
  startedMs: number;
}

export function configuredSymbols(deps: HttpServerDeps): string[] {
  return [...new Set(deps.config.symbols.map(underlyingOf))];
}

/** `SPX` or `I:SPX` (any case) → the configured `{U}`; otherwise a 404/400 `unknown_symbol`. */
export function resolveSymbol(ctx: ServingContext, input: string, status = 404): string {
  const u = underlyingOf(input.trim().toUpperCase());
  if (ctx.symbols.includes(u)) return u;
  throw new HttpError(
    status,
    'unknown_symbol',
    `unknown symbol ${JSON.stringify(input.slice(0, 40))}; configured: ${ctx.symbols.join(', ')}`,
  );
}

/** @module API-key check: `?apiKey=` or `Authorization: Bearer <key>`, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { MESSAGES } from './reply.js';

export type AuthResult = { ok: true } | { ok: false; error: string };

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Accepts when either credential equals `apiKey`; always accepts when no key is configured. */
export function checkAuth(
  apiKey: string | undefined,
  params: URLSearchParams,
  headers: IncomingHttpHeaders,
): AuthResult {
  if (apiKey === undefined || apiKey === '') return { ok: true };
  const candidates: string[] = [];
  const query = params.get('apiKey');
  if (query) candidates.push(query);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (bearer?.[1]) candidates.push(bearer[1]);
  if (candidates.length === 0) return { ok: false, error: MESSAGES.noKey };
  const want = digest(apiKey);
  return candidates.some((c) => timingSafeEqual(digest(c), want))
    ? { ok: true }
    : { ok: false, error: MESSAGES.badKey };
}

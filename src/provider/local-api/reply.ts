/** @module What a handler answers (status, JSON body, headers) and the vendor's error bodies. */
import { randomBytes } from 'node:crypto';

/** A JSON reply, not yet serialised. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A random 32-hex-digit request id, like the vendor's. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

/** Vendor error body: `{status, request_id, error | message}`. */
export interface ErrorBody {
  status: string;
  request_id: string;
  error?: string;
  message?: string;
}

/** `{status: "ERROR", request_id, error}` with an HTTP status. */
export function errorReply(
  httpStatus: number,
  requestId: string,
  error: string,
  headers?: Record<string, string>,
): Reply {
  const body: ErrorBody = { status: 'ERROR', request_id: requestId, error };
  return headers ? { status: httpStatus, body, headers } : { status: httpStatus, body };
}

/** `404 {status: "NOT_FOUND", request_id, message}`. */
export function notFoundReply(requestId: string, message: string): Reply {
  const body: ErrorBody = { status: 'NOT_FOUND', request_id: requestId, message };
  return { status: 404, body };
}

export const MESSAGES = {
  noKey: 'API Key was not provided',
  badKey: 'Unknown API Key',
  rateLimited:
    "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue. https://massive.com/pricing",
  internal: 'Internal server error',
  unavailable: 'Service Unavailable',
  notFound: 'Not found',
  contractNotFound: 'Data not found.',
  methodNotAllowed: 'Method not allowed',
} as const;

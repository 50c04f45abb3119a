/**
 * @module What makes a 2xx body a document of the API the client may read: a JSON object whose `status`, if
 * it has one, is a success and whose `results`, if it has them, are a list. Anything else is a malformed
 * page: the HTTP layer retries it, and a chain stream that still gets one fails (the snapshot is marked
 * partial), instead of reading it as an empty answer (a `{"status":"ERROR",…}` body with HTTP 200 ended a
 * stream as if complete) or throwing a TypeError in the caller. Pure: it also runs on the page threads,
 * on the page already parsed (no second reading of the bytes).
 */

/**
 * The top-level `status` values that mean success. The spec's snapshot endpoints (Massive's OpenAPI, in
 * the fixtures) give `status` as a string with the example "OK", the only value in their examples and in
 * the client mocks; the spec's error bodies say "ERROR". "DELAYED" is in none of those files: Massive
 * (ex-Polygon) answers it on other endpoints to a plan with delayed data, and such a plan's chain must not
 * fail page by page, so it is taken as a success too. A document without a `status` (the client-python
 * indices mock has none) is read as before.
 */
export const SUCCESS_STATUSES: ReadonlySet<string> = new Set(['OK', 'DELAYED']);

/**
 * Why `doc` (a parsed 2xx body) is not a document of the API; undefined when it is one. A status that is
 * not a success is quoted with the vendor's request id and message, whole: the HTTP layer scrubs the key
 * from every error it throws, and only a whole echo of it can be recognised.
 */
export function documentProblem(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'the body is not a JSON object';
  const { status, results, request_id: requestId, error, message } = doc as Record<string, unknown>;
  if (typeof status === 'string' && !SUCCESS_STATUSES.has(status)) {
    const said = typeof error === 'string' ? error : typeof message === 'string' ? message : undefined;
    return (
      `status ${JSON.stringify(status)}` +
      (typeof requestId === 'string' ? ` (request ${requestId})` : '') +
      (said !== undefined ? `: ${said}` : '')
    );
  }
  // `results: null` is read as none, like a missing key (an empty answer stays an empty answer).
  if (results !== undefined && results !== null && !Array.isArray(results)) return 'results is not a list';
  return undefined;
}

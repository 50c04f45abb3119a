/**
 * @module What makes a 2xx body a document of the API the client may read. Every endpoint used here answers
 * a JSON object; anything else is a malformed page: the HTTP layer retries it, and a chain stream that
 * still gets one fails (the snapshot is marked partial), instead of reading it as an empty answer or
 * throwing a TypeError in the caller. Pure: it also runs on the page threads.
 */

/** Why `doc` (a parsed 2xx body) is not a document of the API; undefined when it is one. */
export function documentProblem(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'the body is not a JSON object';
  return undefined;
}

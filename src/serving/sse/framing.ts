/**
 * @module SSE framing: one message (`event:`, `id:`, `retry:`, `data:` lines, blank line) or one comment,
 * with CR/LF/NUL kept out of the one-line fields. Pure.
 */

export interface SseFrame {
  event?: string;
  id?: string;
  data?: string;
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** A field value that must stay on one line (`event`, `id`): CR, LF and NUL removed. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\0]/g, '');
}

/**
 * Formats one SSE message: `event:`, `id:`, `retry:`, then the data split on line breaks into several
 * `data:` lines, then the blank line that dispatches it.
 *
 * @example
 * formatSse({ event: 'model', id: '1-2', data: 'a\nb' }); // 'event: model\nid: 1-2\ndata: a\ndata: b\n\n'
 */
export function formatSse(frame: SseFrame): string {
  let out = '';
  if (frame.event !== undefined) out += `event: ${oneLine(frame.event)}\n`;
  if (frame.id !== undefined) out += `id: ${oneLine(frame.id)}\n`;
  if (frame.retry !== undefined && Number.isFinite(frame.retry))
    out += `retry: ${Math.max(0, Math.floor(frame.retry))}\n`;
  if (frame.data !== undefined) for (const line of frame.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment (ignored by EventSource; keeps proxies and idle timers from closing the stream). */
export function formatComment(text: string): string {
  return `${text
    .split(LINE_BREAK)
    .map((l) => `: ${l}\n`)
    .join('')}\n`;
}

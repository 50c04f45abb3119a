/**
 * @module The command-line options every benchmark child process (the burst worker, the fetch child) is
 * started with: where the local API and Redis are, how many runs, and the fetch's concurrency and rate.
 */
export const CHILD_OPTIONS = {
  api: { type: 'string' },
  redis: { type: 'string' },
  runs: { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '10' },
  rate: { type: 'string', default: '250' },
} as const;

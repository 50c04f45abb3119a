/**
 * @module The command-line options every benchmark child process (the burst worker, the fetch child) is
 * started with: where the local API and Redis are, how many runs, and the fetch's concurrency and rate.
 */
export const CHILD_OPTIONS = {
  api: { type: 'string' },
  redis: { type: 'string' },
  runs: { type: 'string', default: '5' },
  /** Burst cycles run and discarded before the measured ones (worker-child). */
  'warm-up': { type: 'string', default: '6' },
  concurrency: { type: 'string', default: '10' },
  rate: { type: 'string', default: '250' },
} as const;

/**
 * @module The machine's cost of touching memory for the first time: a fresh 64 MiB mapping written once
 * (every 4 KiB page faulted in) against the same bytes written again. On bare metal the first pass costs
 * a few times the second; on a virtual machine whose host backs guest memory lazily it can cost ~100×, and
 * then every large buffer a process maps and unmaps per cycle costs CPU (see README "Performance", Memory).
 */

const MIB = 2 ** 20;

export interface FirstTouch {
  /** ms per MiB to write freshly mapped memory (page faults included). */
  first_ms_per_mib: number;
  /** ms per MiB to write the same memory again. */
  again_ms_per_mib: number;
}

/** Min of `runs` passes of each; `Buffer.allocUnsafeSlow` of 64 MiB is mapped fresh by malloc. */
export function firstTouch(runs = 3, mib = 64): FirstTouch {
  let first = Infinity;
  let again = Infinity;
  for (let i = 0; i < runs; i++) {
    const b = Buffer.allocUnsafeSlow(mib * MIB);
    const t0 = performance.now();
    b.fill(1);
    const t1 = performance.now();
    b.fill(2);
    const t2 = performance.now();
    first = Math.min(first, t1 - t0);
    again = Math.min(again, t2 - t1);
  }
  const r = (x: number): number => Math.round((x / mib) * 1000) / 1000;
  return { first_ms_per_mib: r(first), again_ms_per_mib: r(again) };
}

/**
 * @module A push-to-pull queue: producers `push` values (or `fail`/`end`), one consumer iterates them.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private rejecting: ((e: Error) => void) | undefined;
  private error: Error | undefined;
  private done = false;

  push(value: T): void {
    if (this.done) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.rejecting = undefined;
      w({ value, done: false });
    } else this.items.push(value);
  }

  fail(err: Error): void {
    if (this.done) return;
    this.error = err;
    this.done = true;
    const r = this.rejecting;
    this.waiting = this.rejecting = undefined;
    r?.(err);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    const w = this.waiting;
    this.waiting = this.rejecting = undefined;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.error) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.rejecting = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}

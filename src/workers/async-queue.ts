/**
 * An unbounded FIFO consumed as an AsyncIterable by one reader. Producers push, end or fail it;
 * the reader gets every pushed item in order, then the end or the failure. Bounds live upstream
 * (the worker pool's queues), so this never refuses a push.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: { error: Error } | undefined;

  /** `onReturn` runs when the reader stops early (break, return, throw inside for-await). */
  constructor(private readonly onReturn?: () => void) {}

  get closed(): boolean {
    return this.ended || this.failure !== undefined;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    if (this.closed) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** Items already pushed are still delivered; the failure follows them. */
  fail(error: Error): void {
    if (this.closed) return;
    this.failure = { error };
    this.settleWaiter();
  }

  /** Fails now, dropping items not yet read (cancellation: nothing more may be yielded). */
  abort(error: Error): void {
    this.items.length = 0;
    this.ended = false;
    this.failure = { error };
    this.settleWaiter();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    if (this.failure !== undefined) waiter.reject(this.failure.error);
    else waiter.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
        if (this.failure !== undefined) return Promise.reject(this.failure.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        const wasOpen = !this.closed;
        this.items.length = 0;
        this.ended = true;
        this.failure = undefined;
        if (wasOpen) this.onReturn?.();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

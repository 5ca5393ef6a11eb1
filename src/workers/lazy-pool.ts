import { WorkerPool } from './worker-pool.js';
import type { PoolCapacity, WorkerPoolOptions } from './worker-pool.js';

/** A process-wide pool that starts on first use; after close() the next use starts a new one. */
export class LazyPool {
  private pool: WorkerPool | undefined;
  private readonly reserved: PoolCapacity = {};

  constructor(private readonly options: WorkerPoolOptions) {}

  get(): WorkerPool {
    if (this.pool === undefined) {
      this.pool = new WorkerPool(this.options);
      this.pool.reserve(this.reserved);
    }
    return this.pool;
  }

  /** WorkerPool.reserve for the pool now and every later one (the largest reservation wins). */
  reserve(capacity: PoolCapacity): void {
    if (capacity.running !== undefined) this.reserved.running = Math.max(this.reserved.running ?? 0, capacity.running);
    if (capacity.queued !== undefined) this.reserved.queued = Math.max(this.reserved.queued ?? 0, capacity.queued);
    this.pool?.reserve(capacity);
  }

  async close(): Promise<void> {
    const closing = this.pool;
    this.pool = undefined;
    await closing?.close();
  }
}

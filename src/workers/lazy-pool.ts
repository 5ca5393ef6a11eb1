import { WorkerPool } from './worker-pool.js';
import type { WorkerPoolOptions } from './worker-pool.js';

/** A process-wide pool that starts on first use; after close() the next use starts a new one. */
export class LazyPool {
  private pool: WorkerPool | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  get(): WorkerPool {
    this.pool ??= new WorkerPool(this.options);
    return this.pool;
  }

  async close(): Promise<void> {
    const closing = this.pool;
    this.pool = undefined;
    await closing?.close();
  }
}

import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/index.js';

export type Admitted = { ok: true; release(): void } | { ok: false; projectId: string; limit: number };

/**
 * Per-project concurrency limits, counted in the shared store so every process sees the same
 * sessions (docs/protocol-decisions.md#concurrency-limits). Each session holds a slot with a
 * lease; this process's heartbeat renews its slots every third of the lease, so the slots of a
 * process that crashed run out after one lease and free themselves.
 */
export class Admission {
  /** This process, as the holder of its slots. */
  readonly holder = randomUUID();
  private readonly heartbeat: NodeJS.Timeout;
  private held = 0;

  constructor(
    private readonly store: Store,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    this.heartbeat = setInterval(() => {
      if (this.held === 0) return;
      this.store.renewSlots(this.holder, this.leaseMs).catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'could not renew session slots'));
    }, Math.max(100, Math.floor(leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Takes a slot for a session of this project when it has a limit; `release` gives it back once. */
  async admit(sessionId: string, projectId: string | undefined): Promise<Admitted> {
    if (projectId === undefined) return { ok: true, release: () => undefined };
    const project = await this.store.getProject(projectId);
    const limit = project?.concurrencyLimit;
    if (limit === undefined) return { ok: true, release: () => undefined };
    const taken = await this.store.acquireSlot({ sessionId, projectId, holder: this.holder, limit, leaseMs: this.leaseMs });
    if (!taken) return { ok: false, projectId, limit };
    this.held++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.held--;
        this.store.releaseSlot(sessionId).catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'could not release a session slot; its lease will'));
      },
    };
  }

  /** Stops the heartbeat and gives back every slot of this process. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.store.releaseHolder(this.holder).catch(() => undefined);
  }
}

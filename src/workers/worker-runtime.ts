/**
 * The worker side of the engine pool (see worker-pool.ts). A worker module registers one handler
 * per job kind at import time:
 *
 *   registerJobHandler<Payload, Input, Output>('flite.synthesize', async (payload, job) => {
 *     for (const chunk of synth(payload)) {
 *       if (job.signal.aborted) return;
 *       job.emit(chunk, [chunk.buffer]);
 *     }
 *   });
 *
 * A handler's returned promise ends the job; a throw fails it (the worker lives on). CPU-bound
 * handlers should yield now and then (`await yieldToEvents()`) so that a cancel can reach them.
 */
import type { TransferListItem } from 'node:worker_threads';

export interface JobContext<Input = unknown, Output = unknown> {
  /** Aborted when the caller cancels the job (barge-in, session close, pool close). */
  readonly signal: AbortSignal;
  /** Posts one partial result to the caller; ignored once the job is cancelled. */
  emit(result: Output, transfer?: readonly TransferListItem[]): void;
  /** What the caller sent with `PoolJob.send`, in order; ends at `PoolJob.end()` or on cancel. */
  readonly input: AsyncIterable<Input>;
}

export type JobHandler<Payload = unknown, Input = unknown, Output = unknown> = (
  payload: Payload,
  job: JobContext<Input, Output>,
) => Promise<void> | void;

const handlers = new Map<string, JobHandler>();

export function registerJobHandler<Payload, Input, Output>(
  kind: string,
  handler: JobHandler<Payload, Input, Output>,
): void {
  handlers.set(kind, handler as JobHandler);
}

export function jobHandlerFor(kind: string): JobHandler | undefined {
  return handlers.get(kind);
}

/** Lets queued messages (cancel, input) be handled between slices of CPU-bound work. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

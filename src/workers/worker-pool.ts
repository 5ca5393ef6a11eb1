/**
 * A pool of worker threads that runs local engine jobs (VAD, STT, TTS, LLM) for every session of
 * the process, so that inference never runs on the event loop.
 *
 *   const pool = new WorkerPool({
 *     name: 'classic-speak',
 *     modules: [workerModuleUrl(import.meta.url, './flite-worker')],   // the engine's own worker module
 *     size: 2,            // worker threads, started lazily as load requires
 *     jobsPerWorker: 8,   // jobs one worker interleaves (each handler awaits between slices)
 *     maxQueue: 32,       // jobs waiting for a slot; one more throws PoolBusyError
 *   });
 *   const job = pool.run<Payload, Input, Output>('flite.synthesize', payload, { signal });
 *   for await (const chunk of job) { ... }        // partial results, in the order emitted
 *   job.send(frame, [frame.buffer]); job.end();  // optional streaming input to a running job
 *   const last = await pool.request('kind', payload, { signal }); // the last result, or undefined
 *   await pool.close();
 *
 * Workers are modules that call `registerJobHandler(kind, handler)` (worker-runtime.ts); one pool
 * may host several modules, and so several job kinds.
 *
 * - Back-pressure: `run` throws PoolBusyError (synchronously) when `maxQueue` jobs already wait;
 *   `reserve({ running, queued })` raises both bounds, e.g. to the sessions a server admits.
 * - Cancellation: aborting `signal`, calling `job.cancel()` or leaving a for-await early drops a
 *   queued job, or tells the running worker to stop (its handler sees `job.signal` abort). The
 *   iteration then throws the signal's reason (an AbortError by default) and yields nothing more.
 * - Crash isolation: a worker that dies fails its running jobs with WorkerCrashedError and is
 *   replaced; other jobs continue. A worker that fails while loading its modules fails the pool
 *   (later `run` calls throw that error) rather than respawning forever.
 * - Results are not flow-controlled: a job's results wait in memory until read.
 * - Idle workers are unref'd: an idle pool does not keep the process alive; `close()` ends them.
 */
import type { TransferListItem } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { AsyncQueue } from './async-queue.js';
import type { FromWorker, SerializedError, ToWorker } from './worker-messages.js';
import { startWorkerHost } from './worker-host.js';
import type { Isolation, WorkerEnv, WorkerHost } from './worker-host.js';

/** How long close() waits for a worker's cancelled handlers to return before terminating it. */
const CLOSE_GRACE_MS = 2000;

/** The queue is full: the caller should shed load (e.g. refuse the session or warn). */
export class PoolBusyError extends Error {
  readonly code = 'POOL_BUSY';
  constructor(pool: string, maxQueue: number) {
    super(`engine pool "${pool}" is busy: ${maxQueue} jobs already wait`);
    this.name = 'PoolBusyError';
  }
}

/** The worker running the job died (native crash, process.exit, uncaught error). */
export class WorkerCrashedError extends Error {
  constructor(pool: string, detail: string) {
    super(`engine worker of pool "${pool}" crashed: ${detail}`);
    this.name = 'WorkerCrashedError';
  }
}

/** The pool was closed before the job finished, or cannot start workers. */
export class PoolClosedError extends Error {
  constructor(pool: string, reason = 'closed') {
    super(`engine pool "${pool}" is ${reason}`);
    this.name = 'PoolClosedError';
  }
}

/** The job's handler threw inside the worker; `remoteName`/`remoteStack` are the worker's. */
export class JobFailedError extends Error {
  readonly remoteName: string;
  readonly remoteStack: string | undefined;
  constructor(
    readonly kind: string,
    error: SerializedError,
  ) {
    super(`${kind}: ${error.message}`);
    this.name = 'JobFailedError';
    this.remoteName = error.name;
    this.remoteStack = error.stack;
  }
}

export interface WorkerPoolOptions {
  /** For errors and logs. */
  name: string;
  /** Worker modules that register job handlers; build each with `workerModuleUrl`. */
  modules: readonly URL[];
  /** Most worker threads (default: min(2, available cores)). */
  size?: number;
  /** Jobs one worker runs at once, interleaved at their awaits (default 8). */
  jobsPerWorker?: number;
  /** Jobs that may wait for a free slot before `run` throws PoolBusyError (default 64). */
  maxQueue?: number;
  /**
   * 'thread' (default) or 'process': a child process for engines whose native code may abort
   * (a crash or teardown abort in a worker thread would end the whole server).
   */
  isolation?: Isolation;
  /** Extra environment of 'process' workers. */
  env?: WorkerEnv;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Buffers of the payload to move to the worker rather than copy. */
  transfer?: readonly TransferListItem[];
}

export interface PoolJob<Input = unknown, Output = unknown> extends AsyncIterable<Output> {
  /** Streams one input message to the job (buffered while it waits for a worker). */
  send(input: Input, transfer?: readonly TransferListItem[]): void;
  /** No more input: the handler's `job.input` ends. */
  end(): void;
  /** Same as aborting the job's signal. */
  cancel(reason?: unknown): void;
}

/** Bounds a pool must at least allow; see `WorkerPool.reserve`. */
export interface PoolCapacity {
  /** Jobs running at once over all workers. */
  running?: number;
  /** Jobs waiting for a slot. */
  queued?: number;
}

export interface PoolStats {
  workers: number;
  running: number;
  queued: number;
}

/**
 * URL of a module next to `base` (pass `import.meta.url`), with the caller's own extension, so
 * that it resolves to `.ts` under tsx and to `.js` once compiled.
 */
export function workerModuleUrl(base: string, relativeWithoutExtension: string): URL {
  const path = new URL(base).pathname;
  const extension = path.slice(path.lastIndexOf('.'));
  return new URL(relativeWithoutExtension + extension, base);
}

type JobState = 'queued' | 'running' | 'finished';

class Job<Input, Output> implements PoolJob<Input, Output> {
  state: JobState = 'queued';
  worker: PoolWorker | undefined;
  /** Input sent before the job reached a worker. */
  readonly pendingInput: { data: unknown; transfer?: readonly TransferListItem[] }[] = [];
  inputEnded = false;
  /** Untyped inside, so that every Job fits the pool's Job<unknown, unknown> lists. */
  readonly results: AsyncQueue<unknown>;
  private readonly detachSignal: () => void;

  constructor(
    readonly pool: WorkerPool,
    readonly id: number,
    readonly kind: string,
    readonly payload: unknown,
    readonly transfer: readonly TransferListItem[] | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.results = new AsyncQueue<unknown>(() => this.cancel());
    const onAbort = (): void => this.cancel(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.detachSignal = () => signal?.removeEventListener('abort', onAbort);
  }

  send(input: Input, transfer?: readonly TransferListItem[]): void {
    if (this.state === 'finished' || this.inputEnded) return;
    if (this.state === 'queued') this.pendingInput.push(transfer === undefined ? { data: input } : { data: input, transfer });
    else this.worker?.post({ t: 'input', id: this.id, data: input }, transfer);
  }

  end(): void {
    if (this.state === 'finished' || this.inputEnded) return;
    this.inputEnded = true;
    if (this.state === 'running') this.worker?.post({ t: 'end', id: this.id });
  }

  cancel(reason?: unknown): void {
    if (this.state === 'finished') return;
    this.pool.cancelJob(this);
    this.finish();
    this.results.abort(reason instanceof Error ? reason : new DOMException('job cancelled', 'AbortError'));
  }

  finish(): void {
    this.state = 'finished';
    this.detachSignal();
  }

  [Symbol.asyncIterator](): AsyncIterator<Output> {
    return this.results[Symbol.asyncIterator]() as AsyncIterator<Output>;
  }
}

class PoolWorker {
  readonly jobs = new Map<number, Job<unknown, unknown>>();
  ready = false;
  terminating = false;
  lastError: Error | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(readonly thread: WorkerHost) {
    thread.unref();
  }

  /** Forgets a job the worker reports done (or failed); the last one wakes `idle()`. */
  release(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Forgets every job (the worker failed or exited). */
  releaseAll(): void {
    for (const id of [...this.jobs.keys()]) this.release(id);
  }

  /** Resolves once the worker runs no job. */
  idle(): Promise<void> {
    return this.jobs.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  post(message: ToWorker, transfer?: readonly TransferListItem[]): void {
    this.thread.post(message, transfer);
  }

  /** A busy worker keeps the process alive (its callers await it); an idle one does not. */
  updateRef(): void {
    if (this.jobs.size > 0) this.thread.ref();
    else this.thread.unref();
  }
}

export class WorkerPool {
  private readonly size: number;
  private jobsPerWorker: number;
  private maxQueue: number;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job<unknown, unknown>[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.size = Math.max(1, options.size ?? Math.min(2, availableParallelism()));
    this.jobsPerWorker = Math.max(1, options.jobsPerWorker ?? 8);
    this.maxQueue = Math.max(0, options.maxQueue ?? 64);
  }

  get name(): string {
    return this.options.name;
  }

  /** Most worker threads. */
  get threads(): number {
    return this.size;
  }

  stats(): PoolStats {
    let running = 0;
    for (const worker of this.workers) running += worker.jobs.size;
    return { workers: this.workers.length, running, queued: this.queue.length };
  }

  /**
   * Raises the bounds (never lowers them) so that `running` jobs run at once, spread over the
   * workers, and `queued` more may wait: a pool whose jobs last a whole session is sized to the
   * sessions the server admits, so that none is refused a slot a core could serve.
   */
  reserve(capacity: PoolCapacity): void {
    if (capacity.running !== undefined) this.jobsPerWorker = Math.max(this.jobsPerWorker, Math.ceil(capacity.running / this.size));
    if (capacity.queued !== undefined) this.maxQueue = Math.max(this.maxQueue, capacity.queued);
    this.pump();
  }

  /** Starts a job (or queues it); throws PoolBusyError, PoolClosedError or the pool's load failure. */
  run<Payload = unknown, Input = unknown, Output = unknown>(
    kind: string,
    payload: Payload,
    options: RunOptions = {},
  ): PoolJob<Input, Output> {
    if (this.closed) throw new PoolClosedError(this.name);
    if (this.failure !== undefined) throw this.failure;
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new DOMException('job cancelled', 'AbortError');
    const hasFreeSlot = this.queue.length === 0 && (this.workers.length < this.size || this.workers.some((w) => w.jobs.size < this.jobsPerWorker));
    if (!hasFreeSlot && this.queue.length >= this.maxQueue) throw new PoolBusyError(this.name, this.maxQueue);
    const job = new Job<Input, Output>(this, this.nextId++, kind, payload, options.transfer, options.signal);
    this.queue.push(job);
    this.pump();
    return job;
  }

  /** Runs a job without streaming input and resolves with its last result. */
  async request<Payload = unknown, Output = unknown>(
    kind: string,
    payload: Payload,
    options: RunOptions = {},
  ): Promise<Output | undefined> {
    const job = this.run<Payload, never, Output>(kind, payload, options);
    job.end();
    let last: Output | undefined;
    for await (const result of job) last = result;
    return last;
  }

  /**
   * Fails every unfinished job with PoolClosedError and terminates the workers, each once its
   * handlers have returned from their cancellation (up to CLOSE_GRACE_MS): a thread terminated
   * while a handler is inside native code (a VAD or decoder being created) can abort the whole
   * process ("terminate called after throwing an instance of 'Napi::Error'").
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new PoolClosedError(this.name);
    for (const job of this.queue.splice(0)) this.failJob(job, error);
    const workers = this.workers.splice(0);
    for (const worker of workers) {
      worker.terminating = true;
      for (const job of worker.jobs.values()) {
        worker.post({ t: 'cancel', id: job.id });
        this.failJob(job, error);
      }
    }
    await Promise.all(
      workers.map(async (worker) => {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
        await Promise.race([worker.idle(), grace]);
        clearTimeout(timer);
        await worker.thread.terminate();
      }),
    );
  }

  /** Called by a job being cancelled: forget it if queued, else ask its worker to stop it. */
  cancelJob(job: Job<unknown, unknown>): void {
    if (job.state === 'queued') {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
      return;
    }
    // The slot stays taken until the worker confirms the handler returned.
    job.worker?.post({ t: 'cancel', id: job.id });
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed && this.failure === undefined) {
      const worker = this.pickWorker();
      if (worker === undefined) return;
      const job = this.queue.shift() as Job<unknown, unknown>;
      job.state = 'running';
      job.worker = worker;
      worker.jobs.set(job.id, job);
      worker.updateRef();
      worker.post({ t: 'start', id: job.id, kind: job.kind, payload: job.payload }, job.transfer);
      for (const input of job.pendingInput.splice(0)) worker.post({ t: 'input', id: job.id, data: input.data }, input.transfer);
      if (job.inputEnded) worker.post({ t: 'end', id: job.id });
    }
  }

  /** The least loaded worker with a free slot; a new worker rather than sharing one already busy. */
  private pickWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const worker of this.workers) {
      if (worker.jobs.size >= this.jobsPerWorker) continue;
      if (best === undefined || worker.jobs.size < best.jobs.size) best = worker;
    }
    if ((best === undefined || best.jobs.size > 0) && this.workers.length < this.size) return this.spawn();
    return best;
  }

  private spawn(): PoolWorker {
    const entry = workerModuleUrl(import.meta.url, './worker-entry');
    const thread = startWorkerHost(this.options.isolation ?? 'thread', entry, { modules: this.options.modules.map((url) => url.href) }, this.options.env);
    const worker = new PoolWorker(thread);
    this.workers.push(worker);
    thread.onMessage((message) => this.onMessage(worker, message));
    thread.onError((err) => {
      worker.lastError = err;
    });
    thread.onExit((code) => this.onExit(worker, code));
    return worker;
  }

  private onMessage(worker: PoolWorker, message: FromWorker): void {
    switch (message.t) {
      case 'ready':
        worker.ready = true;
        return;
      case 'fatal':
        this.failure = new PoolClosedError(this.name, `unable to load its worker modules: ${message.error.message}`);
        // Jobs already started on this worker fail the same way, whichever message comes first.
        for (const job of [...this.queue.splice(0), ...worker.jobs.values()]) this.failJob(job, this.failure);
        worker.releaseAll();
        worker.lastError = this.failure;
        void worker.thread.terminate();
        return;
      case 'result': {
        const job = worker.jobs.get(message.id);
        if (job !== undefined && job.state === 'running') job.results.push(message.data);
        return;
      }
      case 'done':
      case 'error': {
        const job = worker.jobs.get(message.id);
        if (job === undefined) return;
        worker.release(message.id);
        worker.updateRef();
        if (job.state === 'running') {
          job.finish();
          if (message.t === 'done') job.results.end();
          else job.results.fail(new JobFailedError(job.kind, message.error));
        }
        this.pump();
        return;
      }
    }
  }

  private onExit(worker: PoolWorker, code: number): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) this.workers.splice(index, 1);
    if (worker.terminating) return;
    const detail = worker.lastError?.message ?? `exit code ${code}`;
    const error = worker.lastError instanceof PoolClosedError ? worker.lastError : new WorkerCrashedError(this.name, detail);
    for (const job of worker.jobs.values()) this.failJob(job, error);
    worker.releaseAll();
    if (!worker.ready && this.failure === undefined) {
      this.failure = error;
      for (const job of this.queue.splice(0)) this.failJob(job, error);
    }
    this.pump();
  }

  private failJob(job: Job<unknown, unknown>, error: Error): void {
    if (job.state === 'finished') return;
    job.finish();
    job.results.fail(error);
  }
}

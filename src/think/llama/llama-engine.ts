import { availableParallelism } from 'node:os';
import { randomUUID } from 'node:crypto';
import { WorkerPool, workerModuleUrl } from '../../workers/worker-pool.js';
import type { ChatMessage, ToolDefinition } from '../types.js';
import { LLAMA_JOBS } from './llama-protocol.js';
import type {
  GeneratePayload,
  LlamaEvent,
  LlamaModelSpec,
  LoadPayload,
  LoadResult,
  ReleasePayload,
  SamplingOptions,
} from './llama-protocol.js';

export interface LlamaEngineOptions {
  modelPath: string;
  /** KV-cache tokens per session (default 4096). */
  contextSize?: number;
  /** Sessions holding a sequence at once (default 4); one more gets a clear error. */
  maxSessions?: number;
  /** Inference threads (default: the core count). */
  threads?: number;
  /** A pool that has `llamaWorkerModule()` among its modules; by default the engine makes its own. */
  pool?: WorkerPool;
}

export interface GenerateRequest {
  messages: readonly ChatMessage[];
  tools: readonly ToolDefinition[];
  signal: AbortSignal;
  sampling?: SamplingOptions;
}

/** URL of the worker module that runs llama.cpp, for pools shared with other engines. */
export function llamaWorkerModule(): URL {
  return workerModuleUrl(import.meta.url, './llama-worker');
}

/**
 * One llama.cpp model for the whole process, in a worker thread. Sessions get their own
 * sequence of a shared context (KV cache kept between their turns) and generate concurrently.
 */
export class LlamaEngine {
  readonly spec: LlamaModelSpec;
  private readonly pool: WorkerPool;
  private readonly ownsPool: boolean;
  private loading: Promise<LoadResult> | undefined;

  constructor(options: LlamaEngineOptions) {
    this.spec = {
      modelPath: options.modelPath,
      contextSize: options.contextSize ?? 4096,
      maxSessions: Math.max(1, options.maxSessions ?? 4),
      // llama.cpp's own default (0) measured 450 ms per token here against 4 ms with the core count.
      threads: options.threads ?? availableParallelism(),
    };
    this.ownsPool = options.pool === undefined;
    // One worker: the model is loaded once; its sessions interleave there (llama.cpp batches them).
    // A child process: llama.cpp's addon aborts the whole process when its worker dies mid-reply.
    this.pool =
      options.pool ??
      new WorkerPool({
        name: 'llama',
        modules: [llamaWorkerModule()],
        size: 1,
        jobsPerWorker: this.spec.maxSessions * 2 + 2,
        maxQueue: this.spec.maxSessions * 2,
        isolation: 'process',
      });
  }

  /** Loads the model (once; later calls share the result). A failure is retried on the next call. */
  load(): Promise<LoadResult> {
    if (this.loading === undefined) {
      const loading = this.pool.request<LoadPayload, LoadResult>(LLAMA_JOBS.load, { model: this.spec }).then((r) => {
        if (r === undefined) throw new Error('llama worker returned no load result');
        return r;
      });
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  openSession(): LlamaSession {
    return new LlamaSession(this.pool, this.spec);
  }

  async close(): Promise<void> {
    await this.pool.request(LLAMA_JOBS.unload, {}).catch(() => undefined);
    if (this.ownsPool) await this.pool.close();
  }
}

/** One conversation's handle on the engine; `close` frees its sequence in the worker. */
export class LlamaSession {
  readonly id = randomUUID();
  private closed = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly spec: LlamaModelSpec,
  ) {}

  /** Streams the reply; ends (without more events) when `signal` aborts. */
  generate(request: GenerateRequest): AsyncIterable<LlamaEvent> {
    if (this.closed) throw new Error('LLM session is closed');
    const payload: GeneratePayload = {
      model: this.spec,
      sessionId: this.id,
      messages: request.messages,
      tools: request.tools,
      sampling: request.sampling ?? {},
    };
    const job = this.pool.run<GeneratePayload, never, LlamaEvent>(LLAMA_JOBS.generate, payload, { signal: request.signal });
    job.end();
    return job;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const payload: ReleasePayload = { modelPath: this.spec.modelPath, sessionId: this.id };
    // Best effort: after a worker crash or pool close there is nothing left to free.
    this.pool.request(LLAMA_JOBS.release, payload).catch(() => undefined);
  }
}

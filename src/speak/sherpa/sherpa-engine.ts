import { WorkerPool, workerModuleUrl } from '../../workers/worker-pool.js';
import type { TtsModelFiles } from '../../models/detect.js';
import { SHERPA_TTS_JOB } from './sherpa-worker.js';
import type { SherpaChunk, SherpaSynthesizePayload } from './sherpa-worker.js';

export interface SherpaTtsOptions {
  voice: TtsModelFiles;
  /** ONNX Runtime threads per synthesis (default 1: sentences of several sessions overlap). */
  threads?: number;
  /** Synthesis jobs at once (default 2, one per core). */
  workers?: number;
}

/** A neural voice in worker threads, shared by the process's sessions. */
export class SherpaTtsEngine {
  private readonly pool: WorkerPool;

  constructor(readonly options: SherpaTtsOptions) {
    this.pool = new WorkerPool({
      name: 'sherpa-tts',
      modules: [workerModuleUrl(import.meta.url, './sherpa-worker')],
      size: options.workers ?? 2,
      jobsPerWorker: 1,
      maxQueue: 32,
      isolation: 'process',
    });
  }

  synthesize(text: string, signal: AbortSignal, speakerId = 0, speed = 1): AsyncIterable<SherpaChunk> {
    const payload: SherpaSynthesizePayload = { voice: this.options.voice, text, speakerId, speed, threads: this.options.threads ?? 1 };
    const job = this.pool.run<SherpaSynthesizePayload, never, SherpaChunk>(SHERPA_TTS_JOB, payload, { signal });
    job.end();
    return job;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

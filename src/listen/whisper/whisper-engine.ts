import { WorkerPool, workerModuleUrl } from '../../workers/worker-pool.js';
import type { PoolJob } from '../../workers/worker-pool.js';
import type { TurnSettings } from '../pocketsphinx/listen-job.js';
import { WHISPER_JOBS } from './whisper-protocol.js';
import type { WhisperListenEvent, WhisperListenInput, WhisperListenPayload, WhisperModelSpec, WhisperTranscribePayload } from './whisper-protocol.js';

export interface WhisperEngineOptions {
  modelPath: string;
  /** whisper.cpp threads per transcription (default 2). */
  threads?: number;
  /** Spoken language code (default 'en'). */
  language?: string;
  /** Listening sessions at once (default 8). */
  maxSessions?: number;
}

export function whisperWorkerModule(): URL {
  return workerModuleUrl(import.meta.url, './whisper-worker');
}

/** whisper.cpp (smart-whisper) in one worker thread, shared by the process's sessions. */
export class WhisperEngine {
  readonly model: WhisperModelSpec;
  private readonly pool: WorkerPool;

  constructor(options: WhisperEngineOptions) {
    this.model = { modelPath: options.modelPath, threads: options.threads ?? 2, language: options.language ?? 'en' };
    const sessions = Math.max(1, options.maxSessions ?? 8);
    // A child process, as for the LLM: a native abort in whisper.cpp must not end the server.
    // smart-whisper silences whisper.cpp's own stderr logging only when NODE_ENV is production.
    this.pool = new WorkerPool({
      name: 'whisper',
      modules: [whisperWorkerModule()],
      size: 1,
      jobsPerWorker: sessions + 2,
      maxQueue: sessions,
      isolation: 'process',
      env: { NODE_ENV: 'production' },
    });
  }

  /** One utterance (PCM16 mono 16 kHz) to text. */
  async transcribe(pcm: Int16Array, signal?: AbortSignal): Promise<string> {
    const floats = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) floats[i] = (pcm[i] ?? 0) / 32768;
    const payload: WhisperTranscribePayload = { model: this.model, pcm: floats };
    const text = await this.pool.request<WhisperTranscribePayload, string>(WHISPER_JOBS.transcribe, payload, {
      transfer: [floats.buffer],
      ...(signal === undefined ? {} : { signal }),
    });
    return text ?? '';
  }

  /** A listening session: VAD turn detection and transcription of each turn, in the worker. */
  listen(turn: TurnSettings): PoolJob<WhisperListenInput, WhisperListenEvent> {
    return this.pool.run<WhisperListenPayload, WhisperListenInput, WhisperListenEvent>(WHISPER_JOBS.listen, { model: this.model, turn });
  }

  async close(): Promise<void> {
    await this.pool.request(WHISPER_JOBS.unload, {}).catch(() => undefined);
    await this.pool.close();
  }
}

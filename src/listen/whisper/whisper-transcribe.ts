// Runs inside a worker: one whisper.cpp model per file, shared by the worker's sessions.
// smart-whisper's transcription is native async (off this thread's loop), so VAD keeps flowing.
import { Whisper } from 'smart-whisper';

const WHISPER_CTX_PER_SECOND = 50;
const models = new Map<string, Whisper>();

export interface TranscribeOptions {
  modelPath: string;
  threads: number;
  language: string;
}

function modelFor(path: string): Whisper {
  let model = models.get(path);
  if (model === undefined) {
    // Practically never offload (a reload would add its time to a user's turn); seconds, and
    // kept under the 24.8-day limit of Node timers, past which a timer fires at once.
    model = new Whisper(path, { gpu: false, offload: 20 * 86400 });
    models.set(path, model);
  }
  return model;
}

export async function loadWhisper(path: string): Promise<void> {
  await modelFor(path).load();
}

/**
 * Transcribes one utterance (mono 16 kHz). The encoder window (`audio_ctx`) is sized to the
 * utterance rather than whisper's fixed 30 s, which cuts the encoder cost about in proportion;
 * the token cap stops a runaway decode.
 */
export async function transcribe(pcm: Float32Array, options: TranscribeOptions): Promise<string> {
  const seconds = pcm.length / 16000;
  const audioCtx = Math.min(1500, Math.ceil(seconds * WHISPER_CTX_PER_SECOND) + 32);
  const task = await modelFor(options.modelPath).transcribe(pcm, {
    language: options.language,
    n_threads: options.threads,
    no_timestamps: true,
    single_segment: true,
    suppress_non_speech_tokens: true,
    temperature_inc: 0,
    audio_ctx: audioCtx,
    max_tokens: Math.ceil(seconds * 6) + 16,
    format: 'simple',
  });
  const results = await task.result;
  return results.map((r) => r.text).join('').trim();
}

/** Frees every model of this worker; native finalizers must not run while the thread dies. */
export async function unloadWhisper(): Promise<void> {
  const all = [...models.values()];
  models.clear();
  await Promise.all(all.map((m) => m.free()));
}

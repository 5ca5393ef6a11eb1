// Worker module: sherpa-onnx OfflineTts (Piper/VITS or Kokoro voices), one instance per voice.
import { createRequire } from 'node:module';
import { registerJobHandler } from '../../workers/worker-runtime.js';
import type { TtsModelFiles } from '../../models/detect.js';

const require = createRequire(import.meta.url);

/** The part of sherpa-onnx-node's OfflineTts used here (it ships no type declarations). */
interface OfflineTts {
  sampleRate: number;
  generateAsync(request: {
    text: string;
    sid: number;
    speed: number;
    onProgress?: (info: { samples: Float32Array; progress: number }) => boolean;
  }): Promise<{ samples: Float32Array; sampleRate: number }>;
}

interface SherpaModule {
  OfflineTts: { createAsync(config: Record<string, unknown>): Promise<OfflineTts> };
}

export const SHERPA_TTS_JOB = 'sherpa.synthesize';

export interface SherpaSynthesizePayload {
  voice: TtsModelFiles;
  text: string;
  speakerId: number;
  speed: number;
  threads: number;
}

export interface SherpaChunk {
  samples: Int16Array;
  sampleRate: number;
}

const voices = new Map<string, Promise<OfflineTts>>();

function modelConfig(voice: TtsModelFiles): Record<string, unknown> {
  const common = { model: voice.model, tokens: voice.tokens, ...(voice.dataDir === undefined ? {} : { dataDir: voice.dataDir }) };
  return voice.kind === 'kokoro' ? { kokoro: { ...common, voices: voice.voices } } : { vits: common };
}

function voiceFor(voice: TtsModelFiles, threads: number): Promise<OfflineTts> {
  let tts = voices.get(voice.model);
  if (tts === undefined) {
    const sherpa = require('sherpa-onnx-node') as SherpaModule;
    tts = sherpa.OfflineTts.createAsync({ model: { ...modelConfig(voice), numThreads: threads, provider: 'cpu', debug: false }, maxNumSentences: 1 });
    tts.catch(() => voices.delete(voice.model));
    voices.set(voice.model, tts);
  }
  return tts;
}

function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round((samples[i] ?? 0) * 32767)));
  return out;
}

registerJobHandler<SherpaSynthesizePayload, never, SherpaChunk>(SHERPA_TTS_JOB, async (payload, job) => {
  const tts = await voiceFor(payload.voice, payload.threads);
  if (job.signal.aborted) return;
  // Progress callbacks stream audio as sherpa produces it; returning false stops generation.
  let sent = 0;
  const result = await tts.generateAsync({
    text: payload.text,
    sid: payload.speakerId,
    speed: payload.speed,
    onProgress: ({ samples }) => {
      if (job.signal.aborted) return false;
      if (samples.length > 0) {
        const chunk = toInt16(samples);
        sent += samples.length;
        job.emit({ samples: chunk, sampleRate: tts.sampleRate }, [chunk.buffer as ArrayBuffer]);
      }
      return true;
    },
  });
  if (job.signal.aborted || sent > 0) return;
  const all = toInt16(result.samples);
  job.emit({ samples: all, sampleRate: result.sampleRate }, [all.buffer as ArrayBuffer]);
});

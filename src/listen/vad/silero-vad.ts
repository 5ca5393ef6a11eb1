// Silero VAD (v5, MIT) run by sherpa-onnx-node's Vad; the model file ships in @ricky0123/vad-web.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** sherpa-onnx-node ships no type declarations: the part of its Vad used here. */
export interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isDetected(): boolean;
  isEmpty(): boolean;
  pop(): void;
  reset(): void;
}

interface SherpaModule {
  Vad: new (config: Record<string, unknown>, bufferSizeInSeconds: number) => SherpaVad;
}

/** Silero consumes windows of this many samples at 16 kHz (32 ms). */
export const VAD_WINDOW_SAMPLES = 512;
export const VAD_SAMPLE_RATE = 16000;

export function sileroModelPath(): string {
  return require.resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx');
}

export interface SileroVadOptions {
  /** Speech probability above which a window counts as speech (0..1). */
  threshold: number;
  /** Speech shorter than this never starts an utterance. */
  minSpeechMs: number;
  /** Silence that ends an utterance. */
  minSilenceMs: number;
  /** Longest utterance; longer speech is cut into several. */
  maxSpeechMs: number;
  modelPath?: string;
}

export function createSileroVad(options: SileroVadOptions): SherpaVad {
  const sherpa = require('sherpa-onnx-node') as SherpaModule;
  const config = {
    sileroVad: {
      model: options.modelPath ?? sileroModelPath(),
      threshold: options.threshold,
      minSpeechDuration: options.minSpeechMs / 1000,
      minSilenceDuration: options.minSilenceMs / 1000,
      maxSpeechDuration: options.maxSpeechMs / 1000,
      windowSize: VAD_WINDOW_SAMPLES,
    },
    sampleRate: VAD_SAMPLE_RATE,
    numThreads: 1,
    debug: false,
  };
  // The buffer holds the current segment; it must outlast the longest one.
  return new sherpa.Vad(config, options.maxSpeechMs / 1000 + 5);
}

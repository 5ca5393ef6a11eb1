import { cpus } from 'node:os';
import type { Logger } from '../core/logger.js';
import { LlamaEngine } from '../think/llama/llama-engine.js';
import { SherpaTtsEngine } from '../speak/sherpa/sherpa-engine.js';
import { WhisperEngine } from '../listen/whisper/whisper-engine.js';
import { lacksSimd, whisperSystemInfo } from '../listen/whisper/whisper-simd.js';
import { createWhisperListen } from '../listen/whisper/whisper-listen.js';
import { detectNeuralModels } from '../models/detect.js';
import { createSherpaSpeak } from '../speak/sherpa/sherpa-speak.js';
import { createLlamaThink } from '../think/llama/llama-think.js';
import type { NeuralFactories } from './default-providers.js';

type Env = Readonly<Record<string, string | undefined>>;

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * The neural tier's factories for the model files present (PARLEY_MODELS_DIR or the explicit
 * PARLEY_*_MODEL paths). Each engine is one per process, shared by the sessions, and loads its
 * model on first use; `close` frees their native state.
 */
export function loadNeuralFactories(env: Env, logger: Logger): { factories: NeuralFactories; warm(): Promise<void>; close(): Promise<void> } {
  const models = detectNeuralModels(env);
  const factories: NeuralFactories = {};
  const closers: (() => Promise<void>)[] = [];
  const warmers: (() => Promise<unknown>)[] = [];
  if (models.llm !== undefined) {
    // llama.cpp spin-waits: more threads than cores makes it crawl, so default to the cores.
    const engine = new LlamaEngine({
      modelPath: models.llm,
      threads: positive(env['PARLEY_LLM_THREADS'], cpus().length),
      maxSessions: positive(env['PARLEY_LLM_MAX_SESSIONS'], 4),
    });
    factories.think = (settings, context) => createLlamaThink(settings, context, { engine });
    warmers.push(() => engine.load());
    closers.push(() => engine.close());
  }
  if (models.stt !== undefined) {
    const info = whisperSystemInfo();
    if (info !== undefined && lacksSimd(info)) {
      logger.warn({ whisper: info }, 'whisper.cpp was built without AVX2/FMA and runs several times slower: reinstall with CFLAGS="-O3 -mavx2 -mfma -mf16c" CXXFLAGS="$CFLAGS" npm rebuild smart-whisper');
    }
    const engine = new WhisperEngine({ modelPath: models.stt });
    factories.listen = (settings, context) => createWhisperListen(settings, context, { engine });
    closers.push(() => engine.close());
  }
  if (models.tts !== undefined) {
    const engine = new SherpaTtsEngine({ voice: models.tts });
    factories.speak = (settings, context) => createSherpaSpeak(settings, context, { engine });
    closers.push(() => engine.close());
  }
  // With none found, the CLI has already said so and how to pull them.
  if (Object.keys(factories).length > 0) logger.info({ llm: models.llm, stt: models.stt, tts: models.tts?.model }, 'neural models');
  return {
    factories,
    // The LLM takes seconds to load: before /healthz says ready, not in the first caller's turn.
    warm: async () => {
      await Promise.all(warmers.map((load) => load()));
    },
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/**
 * whisper.cpp behind the listen seam: Silero VAD decides the turns (same settings as the local
 * provider: endpointing, vad_threshold, min_speech_ms, max_speech_ms), and each finished turn is
 * transcribed at once with an encoder window sized to it. No interim transcripts.
 */
import { basename } from 'node:path';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ListenSettings } from '../../protocol/agent-config.js';
import type { WhisperEngine } from './whisper-engine.js';
import { resolveTurnSettings } from '../vad/turn-settings.js';
import { openPoolListen } from '../pool-listen-stream.js';
import type { ListenEvents, ListenProvider } from '../types.js';

export interface WhisperListenOptions {
  /** One per model file and process, shared by every session (runtime/neural.ts builds it). */
  engine: WhisperEngine;
}

export function createWhisperListen(settings: ListenSettings, context: ProviderContext, options: WhisperListenOptions): ListenProvider {
  const label = `whisper/${basename(options.engine.model.modelPath)}`;
  const turn = resolveTurnSettings(settings.provider, context.env);
  return {
    label,
    open: (events: ListenEvents) => openPoolListen(label, () => options.engine.listen(turn), events, context.logger),
  };
}

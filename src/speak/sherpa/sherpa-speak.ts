import { basename, dirname } from 'node:path';
import { ProviderError } from '../../core/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import type { SherpaTtsEngine } from './sherpa-engine.js';
import type { PcmChunk, SpeakProvider } from '../types.js';

export interface SherpaSpeakOptions {
  /** One per voice and process, shared by every session (runtime/neural.ts builds it). */
  engine: SherpaTtsEngine;
}

/**
 * A Piper (VITS) or Kokoro voice through sherpa-onnx, one sentence per call, in a worker.
 * Settings: `speaker_id` (multi-speaker voices), `speed` (1 = normal).
 */
export function createSherpaSpeak(settings: SpeakSettings, _context: ProviderContext, options: SherpaSpeakOptions): SpeakProvider {
  const label = `sherpa/${basename(dirname(options.engine.options.voice.model))}`;
  const p = settings.provider;
  const speakerId = typeof p['speaker_id'] === 'number' ? p['speaker_id'] : 0;
  const speed = typeof p['speed'] === 'number' ? p['speed'] : 1;
  return {
    label,
    async *synthesize(text: string, signal: AbortSignal): AsyncGenerator<PcmChunk> {
      if (signal.aborted || text.trim() === '') return;
      try {
        for await (const chunk of options.engine.synthesize(text, signal, speakerId, speed)) {
          if (signal.aborted) return;
          yield chunk;
        }
      } catch (err) {
        if (signal.aborted) return;
        throw new ProviderError('speak', label, `neural TTS failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
  };
}

import type { SpeakSettings } from '../protocol/agent-config.js';
import type { ProviderContext } from '../core/provider-context.js';
import type { PcmChunk } from '../audio/pcm16.js';

export type { PcmChunk };

/**
 * One TTS voice behind the speak seam. `synthesize` gets one sentence at a time and streams PCM
 * as soon as it has some; it stops once `signal` aborts and throws ProviderError on failure.
 */
export interface SpeakProvider {
  readonly label: string;
  synthesize(text: string, signal: AbortSignal): AsyncIterable<PcmChunk>;
  close?(): void;
}

export type SpeakFactory = (settings: SpeakSettings, context: ProviderContext) => SpeakProvider;

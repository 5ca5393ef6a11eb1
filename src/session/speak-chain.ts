import type { WarningNotice } from '../protocol/errors.js';
import type { PcmChunk, SpeakProvider } from '../speak/types.js';
import { withFallback } from './fallback.js';
import type { FallbackCodes } from './fallback.js';

export const SLOW_SPEAK_MS = 5000;

const SPEAK_CODES: FallbackCodes = {
  stage: 'speak',
  slow: 'SLOW_SPEAK_REQUEST',
  slowDescription: 'produced audio',
  failed: 'SPEAK_REQUEST_FAILED',
  allFailed: 'FAILED_TO_SPEAK',
};

/**
 * Synthesizes sentences with an ordered fallback chain of voices. The chain sticks to the voice
 * that worked last, so later sentences don't pay for a broken one again.
 */
export class SpeakChain {
  private preferred = 0;

  constructor(
    private readonly providers: readonly SpeakProvider[],
    private readonly warn: (notice: WarningNotice) => void,
    private readonly slowMs = SLOW_SPEAK_MS,
  ) {}

  synthesize(text: string, signal: AbortSignal): AsyncGenerator<PcmChunk> {
    return withFallback({
      providers: this.providers,
      from: this.preferred,
      open: (provider) => provider.synthesize(text, signal),
      signal,
      codes: SPEAK_CODES,
      warn: this.warn,
      slowMs: this.slowMs,
      onStarted: (index) => (this.preferred = index),
    });
  }

  close(): void {
    for (const provider of this.providers) provider.close?.();
  }
}

import { isAbortError } from '../core/errors.js';
import { ProtocolError } from '../protocol/errors.js';
import type { WarningNotice } from '../protocol/errors.js';
import type { PcmChunk, SpeakProvider } from '../speak/types.js';

export const SLOW_SPEAK_MS = 5000;

/**
 * Synthesizes one sentence with an ordered fallback chain of voices (protocol.md §3.1.4). A voice
 * that fails before its first chunk gets SPEAK_REQUEST_FAILED and the next is tried; the chain
 * then sticks to the voice that worked, so later sentences don't pay for the broken one again.
 * All failed: FAILED_TO_SPEAK.
 */
export class SpeakChain {
  private preferred = 0;

  constructor(
    private readonly providers: readonly SpeakProvider[],
    private readonly warn: (notice: WarningNotice) => void,
    private readonly slowMs = SLOW_SPEAK_MS,
  ) {}

  async *synthesize(text: string, signal: AbortSignal): AsyncGenerator<PcmChunk> {
    const failures: string[] = [];
    for (let i = this.preferred; i < this.providers.length; i++) {
      const provider = this.providers[i];
      if (provider === undefined) continue;
      let started = false;
      const slow = setInterval(() => {
        this.warn({ code: 'SLOW_SPEAK_REQUEST', description: `${provider.label} has not produced audio yet` });
      }, this.slowMs);
      try {
        for await (const chunk of provider.synthesize(text, signal)) {
          if (signal.aborted) return;
          if (!started) {
            started = true;
            clearInterval(slow);
            this.preferred = i;
          }
          yield chunk;
        }
        return;
      } catch (err) {
        if (signal.aborted || isAbortError(err)) return;
        const reason = err instanceof Error ? err.message : String(err);
        this.warn({ code: 'SPEAK_REQUEST_FAILED', description: `${provider.label} failed: ${reason}` });
        if (started) return;
        failures.push(`${provider.label}: ${reason}`);
      } finally {
        clearInterval(slow);
      }
    }
    throw new ProtocolError('FAILED_TO_SPEAK', `Every speak provider failed (${failures.join('; ')})`);
  }

  close(): void {
    for (const provider of this.providers) provider.close?.();
  }
}

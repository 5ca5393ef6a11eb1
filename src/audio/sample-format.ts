import type { PcmEncoding } from '../protocol/agent-config.js';

/** Rates a client may declare for its own audio and ask for ours (docs/protocol-decisions.md#audio-formats). */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;

const ENCODINGS: readonly PcmEncoding[] = ['linear16', 'mulaw', 'alaw'];

export function bytesPerSample(encoding: PcmEncoding): number {
  return encoding === 'linear16' ? 2 : 1;
}

/** Throws a RangeError naming the problem when the pair cannot be converted here. */
export function assertSupportedFormat(encoding: PcmEncoding, sampleRate: number): void {
  if (!ENCODINGS.includes(encoding)) throw new RangeError(`unsupported audio encoding ${String(encoding)}`);
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new RangeError(`unsupported sample rate ${sampleRate} (${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE} Hz)`);
  }
}

import type { InputEncoding, OutputEncoding, PcmEncoding } from '../protocol/agent-config.js';

/** Rates a client may declare for its own audio and ask for ours (docs/protocol-decisions.md#audio-formats). */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;

const PCM_ENCODINGS: readonly PcmEncoding[] = ['linear16', 'mulaw', 'alaw'];
const INPUT_ENCODINGS: readonly InputEncoding[] = [...PCM_ENCODINGS, 'linear32', 'flac', 'opus', 'ogg-opus'];
const OUTPUT_ENCODINGS: readonly OutputEncoding[] = [...PCM_ENCODINGS, 'opus', 'mp3', 'flac'];

export function isPcmEncoding(encoding: string): encoding is PcmEncoding {
  return (PCM_ENCODINGS as readonly string[]).includes(encoding);
}

export function bytesPerSample(encoding: PcmEncoding): number {
  return encoding === 'linear16' ? 2 : 1;
}

/** Throws a RangeError naming the problem when the pair cannot be converted here. */
export function assertSupportedFormat(encoding: PcmEncoding, sampleRate: number): void {
  if (!PCM_ENCODINGS.includes(encoding)) throw new RangeError(`unsupported audio encoding ${String(encoding)}`);
  assertRate(sampleRate);
}

export function assertSupportedInput(encoding: InputEncoding, sampleRate: number): void {
  if (!INPUT_ENCODINGS.includes(encoding)) throw new RangeError(`unsupported input encoding ${String(encoding)}`);
  assertRate(sampleRate);
}

export function assertSupportedOutput(encoding: OutputEncoding, sampleRate: number): void {
  if (!OUTPUT_ENCODINGS.includes(encoding)) throw new RangeError(`unsupported output encoding ${String(encoding)}`);
  assertRate(sampleRate);
}

function assertRate(sampleRate: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new RangeError(`unsupported sample rate ${sampleRate} (${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE} Hz)`);
  }
}

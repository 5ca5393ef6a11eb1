import type { OutputAudioFormat } from '../protocol/agent-config.js';
import type { PcmChunk } from './pcm16.js';
import { encodeAlaw, encodeMulaw } from './g711.js';
import { pcm16ToBytes } from './pcm16.js';
import { StreamingResampler, prepareResampler } from './resampler.js';
import { assertSupportedFormat, bytesPerSample } from './sample-format.js';
import { wavHeader } from './wav.js';

/** Rates the speak engines produce. */
const ENGINE_RATES = [8000, 16000, 22050, 24000, 44100, 48000];

/** Designs (once per process) the filters from every engine rate to `outputRate`. */
export function prepareOutputRate(outputRate: number): void {
  for (const rate of ENGINE_RATES) prepareResampler(rate, outputRate);
}

/**
 * Longest piece of engine audio converted in one synchronous step. A provider may deliver
 * seconds in one chunk; converting it in slices, with a turn of the event loop between them,
 * keeps each step near a millisecond (bench/audio/resampler.bench.ts: about 0.1 ms per 20 ms).
 */
export const ENCODE_SLICE_MS = 100;

/**
 * Turns the speak stage's PCM (at whatever rate the engine produces) into the bytes the client
 * asked for: linear16 little-endian, mu-law or A-law at the session's output rate, with a WAV
 * header per utterance when the container is `wav`.
 *
 * An utterance is startUtterance(), any number of encode() calls, endUtterance(). A header for a
 * streamed utterance cannot know its length, so it carries WAV_UNKNOWN_SIZE (0xFFFFFFFF) in its
 * RIFF and data sizes.
 *
 * encode() is synchronous for a chunk of up to ENCODE_SLICE_MS; a longer one returns a promise
 * and is converted slice by slice. Calls made before that promise settles are queued behind it,
 * so output order always follows call order. startUtterance() abandons work still queued or in
 * progress: those promises resolve with nothing.
 */
export class OutputEncoder {
  readonly bytesPerSample: number;
  private resampler: StreamingResampler | null = null;
  private pending: Promise<Uint8Array> | null = null;
  /** Bumped by startUtterance(): slices and queued calls of an earlier utterance are dropped. */
  private utterance = 0;
  private closed = false;

  private constructor(readonly format: OutputAudioFormat) {
    this.bytesPerSample = bytesPerSample(format.encoding);
  }

  /**
   * Throws RangeError for a format the protocol does not allow. Designs the filters from the
   * engine rates to this rate (once per process) so that no reply waits for them.
   */
  static create(format: OutputAudioFormat): OutputEncoder {
    assertSupportedFormat(format.encoding, format.sampleRate);
    prepareOutputRate(format.sampleRate);
    return new OutputEncoder({ ...format });
  }

  /** Bytes of encoded audio per millisecond of playback, for the playout clock. */
  get bytesPerMs(): number {
    return (this.format.sampleRate * this.bytesPerSample) / 1000;
  }

  /** Begins an utterance: discards any filter state left by an interrupted one. */
  startUtterance(): Uint8Array {
    this.utterance++;
    this.resampler?.reset();
    return this.format.container === 'wav'
      ? wavHeader({ sampleRate: this.format.sampleRate, encoding: this.format.encoding })
      : new Uint8Array(0);
  }

  encode(chunk: PcmChunk): Promise<Uint8Array> | Uint8Array {
    if (this.closed) throw new Error('OutputEncoder used after close()');
    const utterance = this.utterance;
    if (this.pending !== null) {
      const run = (): Promise<Uint8Array> | Uint8Array => this.encodeNow(chunk, utterance);
      return this.track(this.pending.then(run, run));
    }
    const result = this.encodeNow(chunk, utterance);
    return result instanceof Uint8Array ? result : this.track(result);
  }

  /** Ends an utterance: the audio still inside the resampler's filter, encoded. */
  endUtterance(): Uint8Array {
    if (this.pending !== null) throw new Error('endUtterance() called before the last encode() settled');
    return this.resampler === null ? new Uint8Array(0) : this.toBytes(this.resampler.flush());
  }

  close(): void {
    this.closed = true;
    this.resampler?.destroy();
    this.resampler = null;
  }

  private encodeNow(chunk: PcmChunk, utterance: number): Promise<Uint8Array> | Uint8Array {
    if (this.closed || utterance !== this.utterance) return new Uint8Array(0);
    const tail = this.resampler?.fromRate === chunk.sampleRate ? new Uint8Array(0) : this.switchRate(chunk.sampleRate);
    const slice = Math.ceil((chunk.sampleRate * ENCODE_SLICE_MS) / 1000);
    if (chunk.samples.length <= slice) return concatBytes([tail, this.convert(chunk.samples)]);
    return this.encodeSliced(chunk.samples, slice, tail, utterance);
  }

  /** Replaces the resampler for a new engine rate; returns the old one's tail, encoded. */
  private switchRate(fromRate: number): Uint8Array {
    const tail = this.resampler === null ? new Uint8Array(0) : this.toBytes(this.resampler.flush());
    this.resampler?.destroy();
    this.resampler = new StreamingResampler(fromRate, this.format.sampleRate);
    return tail;
  }

  private async encodeSliced(samples: Int16Array, slice: number, tail: Uint8Array, utterance: number): Promise<Uint8Array> {
    const parts = [tail];
    for (let start = 0; start < samples.length; start += slice) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.closed || utterance !== this.utterance) return new Uint8Array(0);
      parts.push(this.convert(samples.subarray(start, start + slice)));
    }
    return concatBytes(parts);
  }

  private convert(samples: Int16Array): Uint8Array {
    if (this.resampler === null) throw new Error('OutputEncoder closed');
    return this.toBytes(this.resampler.process(samples));
  }

  /** Makes `promise` the one later calls wait for, until it settles with nothing behind it. */
  private track(promise: Promise<Uint8Array>): Promise<Uint8Array> {
    this.pending = promise;
    const clear = (): void => {
      if (this.pending === promise) this.pending = null;
    };
    promise.then(clear, clear);
    return promise;
  }

  private toBytes(samples: Int16Array): Uint8Array {
    switch (this.format.encoding) {
      case 'mulaw':
        return encodeMulaw(samples);
      case 'alaw':
        return encodeAlaw(samples);
      case 'linear16':
        return pcm16ToBytes(samples);
    }
  }
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const filled = parts.filter((p) => p.length > 0);
  if (filled.length <= 1) return filled[0] ?? new Uint8Array(0);
  const out = new Uint8Array(filled.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of filled) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

import type { OutputAudioFormat } from '../protocol/agent-config.js';
import type { PcmChunk } from './pcm16.js';
import { encodeAlaw, encodeMulaw } from './g711.js';
import { pcm16ToBytes } from './pcm16.js';
import { StreamingResampler } from './resampler.js';
import { assertSupportedFormat, bytesPerSample } from './sample-format.js';
import { wavHeader } from './wav.js';

/**
 * Turns the speak stage's PCM (at whatever rate the engine produces) into the bytes the client
 * asked for: linear16 little-endian, mu-law or A-law at the session's output rate, with a WAV
 * header per utterance when the container is `wav`.
 *
 * An utterance is startUtterance(), any number of encode() calls, endUtterance(). A header for a
 * streamed utterance cannot know its length, so it carries WAV_UNKNOWN_SIZE (0xFFFFFFFF) in its
 * RIFF and data sizes.
 *
 * encode() is synchronous once a resampler for the chunk's rate exists; the first chunk at a new
 * rate returns a promise while the converter loads. Calls made before that promise settles are
 * queued behind it, so output order always follows call order.
 */
export class OutputEncoder {
  readonly bytesPerSample: number;
  private resampler: StreamingResampler | null = null;
  private pending: Promise<Uint8Array> | null = null;
  private closed = false;

  private constructor(readonly format: OutputAudioFormat) {
    this.bytesPerSample = bytesPerSample(format.encoding);
  }

  /** Throws RangeError for a format the protocol does not allow. */
  static create(format: OutputAudioFormat): OutputEncoder {
    assertSupportedFormat(format.encoding, format.sampleRate);
    return new OutputEncoder({ ...format });
  }

  /** Bytes of encoded audio per millisecond of playback, for the playout clock. */
  get bytesPerMs(): number {
    return (this.format.sampleRate * this.bytesPerSample) / 1000;
  }

  /** Begins an utterance: discards any filter state left by an interrupted one. */
  startUtterance(): Uint8Array {
    this.resampler?.reset();
    return this.format.container === 'wav'
      ? wavHeader({ sampleRate: this.format.sampleRate, encoding: this.format.encoding })
      : new Uint8Array(0);
  }

  encode(chunk: PcmChunk): Promise<Uint8Array> | Uint8Array {
    if (this.closed) throw new Error('OutputEncoder used after close()');
    if (this.pending !== null) {
      const run = (): Promise<Uint8Array> | Uint8Array => this.encodeNow(chunk);
      return this.track(this.pending.then(run, run));
    }
    const result = this.encodeNow(chunk);
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

  /** Replaces the resampler for a new engine rate; resolves with the old one's tail, encoded. */
  private async switchRate(fromRate: number): Promise<Uint8Array> {
    const next = await StreamingResampler.create(fromRate, this.format.sampleRate);
    if (this.closed) {
      next.destroy();
      throw new Error('OutputEncoder closed while loading a resampler');
    }
    const tail = this.resampler === null ? new Uint8Array(0) : this.toBytes(this.resampler.flush());
    this.resampler?.destroy();
    this.resampler = next;
    return tail;
  }

  private encodeNow(chunk: PcmChunk): Promise<Uint8Array> | Uint8Array {
    if (this.resampler?.fromRate === chunk.sampleRate) return this.toBytes(this.resampler.process(chunk.samples));
    return this.switchRate(chunk.sampleRate).then((tail) =>
      concatBytes(tail, this.toBytes(this.usableResampler().process(chunk.samples))),
    );
  }

  private usableResampler(): StreamingResampler {
    if (this.resampler === null) throw new Error('OutputEncoder closed');
    return this.resampler;
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

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

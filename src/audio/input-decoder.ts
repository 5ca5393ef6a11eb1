import type { InputAudioFormat } from '../protocol/agent-config.js';
import { FlacStreamDecoder, OggOpusDecoder, RawOpusDecoder, badAudio } from './codecs/frame-decoders.js';
import type { FrameDecoder } from './codecs/frame-decoders.js';
import { decodeAlaw, decodeMulaw } from './g711.js';
import { Pcm16Assembler, concatPcm16 } from './pcm16.js';
import { Float32Assembler } from './pcm32.js';
import { StreamingResampler } from './resampler.js';
import { assertSupportedInput } from './sample-format.js';

/** Samples decoded from one client message: at once, or later when the message is large. */
export type DecodedAudio = Int16Array | Promise<Int16Array>;

/**
 * Audio decoded (and post-processed) in one synchronous step, at most. A message of compressed
 * audio may hold minutes; it is decoded frame by frame, with a turn of the event loop after each
 * slice of this length (bench/audio/codecs.bench.ts measures the longest step).
 */
export const DECODE_SLICE_MS = 100;

/**
 * The most audio one message may decode to: a minute, about what the largest linear16 message
 * (PARLEY_MAX_BINARY_FRAME_BYTES, 1 MiB) holds at 8 kHz. A few hundred bytes of FLAC or Opus can
 * claim hours of silence; past this the message is refused with USER_AUDIO_FORMAT.
 */
export const MAX_DECODED_MS_PER_MESSAGE = 60_000;

export interface InputDecoderOptions {
  /**
   * Applied to the decoded samples at the target rate, in order, in slices of up to
   * DECODE_SLICE_MS (the echo suppressor); returns what the listener gets.
   */
  process?: (samples: Int16Array) => Int16Array;
}

type PcmSource = (bytes: Uint8Array) => Int16Array;

/**
 * Turns the client's binary audio frames into mono PCM16 at the rate the listen stage wants:
 * linear16 (little-endian), linear32 (little-endian float), mu-law or A-law at any rate from 8 to
 * 48 kHz, or compressed `flac`, `opus` (one raw packet per message) and `ogg-opus`. PCM frames may
 * end in the middle of a sample; the partial sample waits for the next push.
 *
 * push() returns the samples at once for a PCM message, and for any message whose work fits in
 * one slice; otherwise a promise. Later pushes queue behind it, so output order is arrival order.
 * A stream that does not decode throws (or rejects with) ProtocolError USER_AUDIO_FORMAT.
 */
export class InputDecoder {
  private resampler: StreamingResampler | undefined;
  private pending: Promise<Int16Array> | null = null;
  private closed = false;

  private constructor(
    readonly format: InputAudioFormat,
    private readonly targetRate: number,
    private readonly pcm: PcmSource | undefined,
    private readonly frames: FrameDecoder | undefined,
    private readonly process: ((samples: Int16Array) => Int16Array) | undefined,
  ) {
    if (pcm !== undefined) this.resampler = new StreamingResampler(format.sampleRate, targetRate);
  }

  /** Throws RangeError for a format the protocol does not allow. */
  static create(format: InputAudioFormat, targetRate: number, options: InputDecoderOptions = {}): InputDecoder {
    assertSupportedInput(format.encoding, format.sampleRate);
    const copy = { ...format };
    switch (format.encoding) {
      case 'linear16': {
        const assembler = new Pcm16Assembler();
        return new InputDecoder(copy, targetRate, (bytes) => assembler.push(bytes), undefined, options.process);
      }
      case 'linear32': {
        const assembler = new Float32Assembler();
        return new InputDecoder(copy, targetRate, (bytes) => assembler.push(bytes), undefined, options.process);
      }
      case 'mulaw':
        return new InputDecoder(copy, targetRate, decodeMulaw, undefined, options.process);
      case 'alaw':
        return new InputDecoder(copy, targetRate, decodeAlaw, undefined, options.process);
      case 'opus':
        return new InputDecoder(copy, targetRate, undefined, new RawOpusDecoder(targetRate), options.process);
      case 'ogg-opus':
        return new InputDecoder(copy, targetRate, undefined, new OggOpusDecoder(targetRate), options.process);
      case 'flac':
        return new InputDecoder(copy, targetRate, undefined, new FlacStreamDecoder(), options.process);
    }
  }

  /** Decodes one message; an empty result when it held only part of a sample or frame. */
  push(bytes: Uint8Array): DecodedAudio {
    if (this.closed) throw new Error('InputDecoder used after close()');
    if (this.pending !== null) {
      // The bytes are copied: the transport may reuse its buffer before the queue reaches them.
      const copy = bytes.slice();
      const run = (): DecodedAudio => this.decodeNow(copy);
      return this.track(this.pending.then(run, run));
    }
    const result = this.decodeNow(bytes);
    return result instanceof Int16Array ? result : this.track(result);
  }

  /** The decoder is unusable afterwards; work still queued resolves with nothing. */
  close(): void {
    this.closed = true;
    this.resampler?.destroy();
    this.resampler = undefined;
    this.frames?.close();
  }

  private decodeNow(bytes: Uint8Array): DecodedAudio {
    if (this.closed) return new Int16Array(0);
    if (this.pcm !== undefined) {
      const samples = this.pcm(bytes);
      const rate = this.format.sampleRate;
      const slice = (rate * DECODE_SLICE_MS) / 1000;
      if (samples.length <= slice || rate === this.targetRate) {
        const resampled = samples.length === 0 ? samples : this.resample(samples, rate);
        return this.process === undefined ? resampled : this.processSliced(resampled);
      }
      return this.resampleSliced(samples, slice);
    }
    const frames = this.frames as FrameDecoder;
    frames.feed(bytes);
    return this.decodeFrames(frames, bytes.length);
  }

  /** Frames until a slice is full; the rest after a turn of the event loop. */
  private decodeFrames(frames: FrameDecoder, messageBytes: number): DecodedAudio {
    const parts: Int16Array[] = [];
    let total = 0;
    const slice = (): boolean => {
      let sliceSamples = 0;
      const sliceLimit = (this.targetRate * DECODE_SLICE_MS) / 1000;
      while (sliceSamples < sliceLimit) {
        const frame = frames.next();
        if (frame === undefined) return true;
        const out = this.applyProcess(this.resample(frame.samples, frame.sampleRate));
        parts.push(out);
        sliceSamples += out.length;
        total += out.length;
        if ((total * 1000) / this.targetRate > MAX_DECODED_MS_PER_MESSAGE) {
          throw badAudio(`An audio message of ${messageBytes} bytes decodes to more than ${MAX_DECODED_MS_PER_MESSAGE / 1000} s of audio; send audio as it is captured`);
        }
      }
      return false;
    };
    if (slice()) return concatPcm16(parts);
    return (async () => {
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return new Int16Array(0);
        if (slice()) return concatPcm16(parts);
      }
    })();
  }

  private resample(samples: Int16Array, rate: number): Int16Array {
    if (this.resampler?.fromRate !== rate) {
      if (this.resampler !== undefined && this.pcm === undefined) {
        throw badAudio(`The stream changed its sample rate from ${this.resampler.fromRate} to ${rate} Hz`);
      }
      this.resampler?.destroy();
      this.resampler = new StreamingResampler(rate, this.targetRate);
    }
    return this.resampler.process(samples);
  }

  private applyProcess(samples: Int16Array): Int16Array {
    return this.process === undefined || samples.length === 0 ? samples : this.process(samples);
  }

  /**
   * A long PCM message at another rate (up to 1 MiB: 11 s at 48 kHz, some 70 ms of conversion)
   * is converted and post-processed slice by slice, a turn of the event loop between slices.
   */
  private resampleSliced(samples: Int16Array, slice: number): Promise<Int16Array> {
    return (async () => {
      const parts: Int16Array[] = [];
      for (let start = 0; start < samples.length; start += slice) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return new Int16Array(0);
        parts.push(this.applyProcess(this.resample(samples.subarray(start, start + slice), this.format.sampleRate)));
      }
      return concatPcm16(parts);
    })();
  }

  /** Post-processing of a PCM message, slice by slice. */
  private processSliced(samples: Int16Array): DecodedAudio {
    const slice = (this.targetRate * DECODE_SLICE_MS) / 1000;
    if (samples.length <= slice) return this.applyProcess(samples);
    return (async () => {
      const parts: Int16Array[] = [];
      for (let start = 0; start < samples.length; start += slice) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return new Int16Array(0);
        parts.push(this.applyProcess(samples.subarray(start, start + slice)));
      }
      return concatPcm16(parts);
    })();
  }

  /** Makes `promise` the one later pushes wait for, until it settles with nothing behind it. */
  private track(promise: Promise<Int16Array>): Promise<Int16Array> {
    this.pending = promise;
    const clear = (): void => {
      if (this.pending === promise) this.pending = null;
    };
    promise.then(clear, clear);
    return promise;
  }
}

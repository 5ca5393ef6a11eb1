import type { OutputAudioFormat } from '../protocol/agent-config.js';
import type { PcmChunk } from './pcm16.js';
import { FlacFrameEncoder, Mp3FrameEncoder, OpusFrameEncoder } from './codecs/frame-encoders.js';
import type { FrameEncoder, TimedFrame } from './codecs/frame-encoders.js';
import { encodeAlaw, encodeMulaw } from './g711.js';
import { pcm16ToBytes } from './pcm16.js';
import { StreamingResampler, prepareResampler } from './resampler.js';
import { assertSupportedOutput, bytesPerSample, isPcmEncoding } from './sample-format.js';
import { wavHeader } from './wav.js';

export type { TimedFrame } from './codecs/frame-encoders.js';

/**
 * Encoded agent audio: PCM bytes, which the playout clock may cut at any sample, or whole
 * compressed frames, each sent whole and paced by its duration.
 */
export type EncodedAudio = Uint8Array | TimedFrame[];

/** A compressed frame with the output-rate PCM it holds (for the echo suppressor's reference). */
export interface ReferencedFrame extends TimedFrame {
  pcm?: Int16Array;
}

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

export interface OutputEncoderOptions {
  /** Compressed frames carry the PCM they were made from (ReferencedFrame.pcm). */
  keepPcm?: boolean;
}

/**
 * Turns the speak stage's PCM (at whatever rate the engine produces) into the bytes the client
 * asked for: linear16 little-endian, mu-law or A-law at the session's output rate, with a WAV
 * header per utterance when the container is `wav`; or one compressed stream per utterance
 * (Ogg Opus at 48 kHz, MP3 at 22.05 kHz, FLAC), as whole frames with their durations.
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
  /** Bytes of one sample for the PCM encodings; 1 for the compressed ones, whose frames are whole. */
  readonly bytesPerSample: number;
  private resampler: StreamingResampler | null = null;
  private pending: Promise<EncodedAudio> | null = null;
  /** Bumped by startUtterance(): slices and queued calls of an earlier utterance are dropped. */
  private utterance = 0;
  private closed = false;
  /** Output-rate PCM not yet matched to a compressed frame (keepPcm only). */
  private unframed: Int16Array[] = [];

  private constructor(
    readonly format: OutputAudioFormat,
    private readonly frames: FrameEncoder | undefined,
    private readonly keepPcm: boolean,
  ) {
    this.bytesPerSample = isPcmEncoding(format.encoding) ? bytesPerSample(format.encoding) : 1;
  }

  /**
   * Throws RangeError for a format the protocol does not allow. Designs the filters from the
   * engine rates to this rate (once per process) so that no reply waits for them.
   */
  static create(format: OutputAudioFormat, options: OutputEncoderOptions = {}): OutputEncoder {
    assertSupportedOutput(format.encoding, format.sampleRate);
    prepareOutputRate(format.sampleRate);
    return new OutputEncoder({ ...format }, frameEncoder(format), options.keepPcm === true && !isPcmEncoding(format.encoding));
  }

  /**
   * Bytes of encoded audio per millisecond of playback, for the playout clock: exact for PCM;
   * for compressed audio the nominal rate (the clock paces its frames by their own durations).
   */
  get bytesPerMs(): number {
    if (isPcmEncoding(this.format.encoding)) return (this.format.sampleRate * this.bytesPerSample) / 1000;
    return this.format.bitrate !== undefined ? this.format.bitrate / 8000 : (this.format.sampleRate * 2) / 1000;
  }

  /**
   * Begins an utterance: discards any filter state left by an interrupted one (and its
   * compressed stream), and returns the header the client needs first (WAV, Ogg, FLAC), if any.
   */
  startUtterance(): Uint8Array {
    this.utterance++;
    this.resampler?.reset();
    this.unframed = [];
    if (this.frames !== undefined) return this.frames.start();
    const { encoding } = this.format;
    return this.format.container === 'wav' && isPcmEncoding(encoding) ? wavHeader({ sampleRate: this.format.sampleRate, encoding }) : new Uint8Array(0);
  }

  encode(chunk: PcmChunk): Promise<EncodedAudio> | EncodedAudio {
    if (this.closed) throw new Error('OutputEncoder used after close()');
    const utterance = this.utterance;
    if (this.pending !== null) {
      const run = (): Promise<EncodedAudio> | EncodedAudio => this.encodeNow(chunk, utterance);
      return this.track(this.pending.then(run, run));
    }
    const result = this.encodeNow(chunk, utterance);
    return result instanceof Promise ? this.track(result) : result;
  }

  /** Ends an utterance: the audio still inside the resampler's filter (and the compressed stream's end), encoded. */
  endUtterance(): EncodedAudio {
    if (this.pending !== null) throw new Error('endUtterance() called before the last encode() settled');
    const tail = this.resampler === null ? this.empty() : this.toEncoded(this.resampler.flush());
    if (this.frames === undefined) return tail;
    return this.withPcm([...(tail as TimedFrame[]), ...this.frames.end()]);
  }

  close(): void {
    this.closed = true;
    this.resampler?.destroy();
    this.resampler = null;
    this.frames?.abandon();
    this.unframed = [];
  }

  private empty(): EncodedAudio {
    return this.frames === undefined ? new Uint8Array(0) : [];
  }

  private encodeNow(chunk: PcmChunk, utterance: number): Promise<EncodedAudio> | EncodedAudio {
    if (this.closed || utterance !== this.utterance) return this.empty();
    const tail = this.resampler?.fromRate === chunk.sampleRate ? this.empty() : this.switchRate(chunk.sampleRate);
    const slice = Math.ceil((chunk.sampleRate * ENCODE_SLICE_MS) / 1000);
    if (chunk.samples.length <= slice) return concatEncoded([tail, this.convert(chunk.samples)]);
    return this.encodeSliced(chunk.samples, slice, tail, utterance);
  }

  /** Replaces the resampler for a new engine rate; returns the old one's tail, encoded. */
  private switchRate(fromRate: number): EncodedAudio {
    const tail = this.resampler === null ? this.empty() : this.toEncoded(this.resampler.flush());
    this.resampler?.destroy();
    this.resampler = new StreamingResampler(fromRate, this.format.sampleRate);
    return tail;
  }

  private async encodeSliced(samples: Int16Array, slice: number, tail: EncodedAudio, utterance: number): Promise<EncodedAudio> {
    const parts = [tail];
    for (let start = 0; start < samples.length; start += slice) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.closed || utterance !== this.utterance) return this.empty();
      parts.push(this.convert(samples.subarray(start, start + slice)));
    }
    return concatEncoded(parts);
  }

  private convert(samples: Int16Array): EncodedAudio {
    if (this.resampler === null) throw new Error('OutputEncoder closed');
    return this.toEncoded(this.resampler.process(samples));
  }

  /** Makes `promise` the one later calls wait for, until it settles with nothing behind it. */
  private track(promise: Promise<EncodedAudio>): Promise<EncodedAudio> {
    this.pending = promise;
    const clear = (): void => {
      if (this.pending === promise) this.pending = null;
    };
    promise.then(clear, clear);
    return promise;
  }

  private toEncoded(samples: Int16Array): EncodedAudio {
    if (this.frames !== undefined) {
      if (this.keepPcm && samples.length > 0) this.unframed.push(samples.slice());
      return this.withPcm(this.frames.write(samples));
    }
    switch (this.format.encoding) {
      case 'mulaw':
        return encodeMulaw(samples);
      case 'alaw':
        return encodeAlaw(samples);
      default:
        return pcm16ToBytes(samples);
    }
  }

  /** Gives each frame the PCM it holds, in order, from what was written (keepPcm only). */
  private withPcm(frames: TimedFrame[]): ReferencedFrame[] {
    if (!this.keepPcm) return frames;
    return frames.map((frame) => ({ ...frame, pcm: this.takePcm(Math.round((frame.ms * this.format.sampleRate) / 1000)) }));
  }

  private takePcm(count: number): Int16Array {
    const out = new Int16Array(count);
    let filled = 0;
    while (filled < count && this.unframed.length > 0) {
      const head = this.unframed[0] as Int16Array;
      const take = Math.min(count - filled, head.length);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.unframed.shift();
      else this.unframed[0] = head.subarray(take);
    }
    return out;
  }
}

/** The compressed stream encoder for `format`, or undefined for PCM. */
function frameEncoder(format: OutputAudioFormat): FrameEncoder | undefined {
  switch (format.encoding) {
    case 'opus':
      return new OpusFrameEncoder(format.bitrate ?? 12000);
    case 'mp3':
      return new Mp3FrameEncoder(format.bitrate ?? 48000);
    case 'flac':
      return new FlacFrameEncoder(format.sampleRate);
    default:
      return undefined;
  }
}

function concatEncoded(parts: readonly EncodedAudio[]): EncodedAudio {
  const bytes = parts.filter((p) => p instanceof Uint8Array);
  if (bytes.length === parts.length) return concatBytes(bytes);
  return parts.flatMap((p) => (p instanceof Uint8Array ? [] : p));
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

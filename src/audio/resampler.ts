import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { floatToPcm16 } from './pcm16.js';

type Converter = Awaited<ReturnType<typeof libsamplerate.create>>;

/** libsamplerate's sinc converters, by name. */
export type ResamplerQuality = 'best' | 'medium' | 'fastest';

const CONVERTER_TYPES = {
  best: libsamplerate.ConverterType.SRC_SINC_BEST_QUALITY,
  medium: libsamplerate.ConverterType.SRC_SINC_MEDIUM_QUALITY,
  fastest: libsamplerate.ConverterType.SRC_SINC_FASTEST,
} as const satisfies Record<ResamplerQuality, number>;

/**
 * SRC_SINC_MEDIUM_QUALITY: flat to 3.4 kHz when going down to 8 kHz, where FASTEST is already
 * 8.8 dB down (it also loses 13.8 dB at 7 kHz going 16 k → 24 k); aliasing stays below 16-bit
 * resolution for both. bench/audio/resampler.bench.ts measures MEDIUM at about twice FASTEST's
 * cost and a third of BEST's: 100–200 µs per 20 ms frame in this WASM build, under 1 % of a core
 * per stream.
 */
export const DEFAULT_RESAMPLER_QUALITY: ResamplerQuality = 'medium';

/** Input samples handed to libsamplerate per call: bounds scratch memory and one call's work. */
const CHUNK_SAMPLES = 4096;
/** libsamplerate may emit a sample or two more than input × ratio in one call. */
const OUTPUT_MARGIN = 16;
/** Zero chunks fed to push the filter's tail out; far above any converter's delay. */
const MAX_FLUSH_CHUNKS = 64;

export interface ResamplerOptions {
  quality?: ResamplerQuality;
}

/**
 * Mono 16-bit PCM sample-rate converter that keeps its filter state across calls, so audio
 * cut into chunks of any size comes out as if converted in one piece. Equal rates pass through.
 *
 * libsamplerate delays its output by half its filter length; `flush()` pushes that tail out so
 * that the total output is round(total input × ratio) samples.
 */
export class StreamingResampler {
  readonly ratio: number;
  private readonly inFloat: Float32Array;
  private readonly outFloat: Float32Array;
  private readonly produced = { frames: 0 };
  private samplesIn = 0;
  private samplesOut = 0;
  private destroyed = false;

  private constructor(
    readonly fromRate: number,
    readonly toRate: number,
    private readonly converter: Converter | null,
  ) {
    this.ratio = toRate / fromRate;
    const scratch = converter === null ? 0 : CHUNK_SAMPLES;
    this.inFloat = new Float32Array(scratch);
    this.outFloat = new Float32Array(converter === null ? 0 : Math.ceil(CHUNK_SAMPLES * this.ratio) + OUTPUT_MARGIN);
  }

  static async create(fromRate: number, toRate: number, options: ResamplerOptions = {}): Promise<StreamingResampler> {
    for (const rate of [fromRate, toRate]) {
      if (!Number.isInteger(rate) || rate < 1000 || rate > 192000) throw new RangeError(`unsupported sample rate ${rate}`);
    }
    if (fromRate === toRate) return new StreamingResampler(fromRate, toRate, null);
    const converterType = CONVERTER_TYPES[options.quality ?? DEFAULT_RESAMPLER_QUALITY];
    const converter = await libsamplerate.create(1, fromRate, toRate, { converterType });
    return new StreamingResampler(fromRate, toRate, converter);
  }

  /** Converts the next piece of the stream. With equal rates it returns `samples` itself. */
  process(samples: Int16Array): Int16Array {
    const converter = this.usable();
    if (converter === null) return samples;
    const out = new Int16Array(Math.ceil(samples.length * this.ratio) + OUTPUT_MARGIN);
    let written = 0;
    for (let start = 0; start < samples.length; start += CHUNK_SAMPLES) {
      const count = Math.min(CHUNK_SAMPLES, samples.length - start);
      for (let i = 0; i < count; i++) this.inFloat[i] = (samples[start + i] as number) / 32768;
      written = this.convertChunk(converter, count, out, written);
    }
    this.samplesIn += samples.length;
    this.samplesOut += written;
    return out.subarray(0, written);
  }

  /**
   * Ends the stream: returns the samples still inside the filter, so that the whole output is
   * round(input × ratio) samples long, and resets the state for a new stream.
   */
  flush(): Int16Array {
    const converter = this.usable();
    if (converter === null) return new Int16Array(0);
    const missing = Math.max(0, Math.round(this.samplesIn * this.ratio) - this.samplesOut);
    const out = new Int16Array(missing + this.outFloat.length);
    this.inFloat.fill(0);
    let written = 0;
    for (let round = 0; written < missing && round < MAX_FLUSH_CHUNKS; round++) {
      written = this.convertChunk(converter, CHUNK_SAMPLES, out, written);
    }
    this.reset();
    return out.slice(0, Math.min(written, missing));
  }

  /** Forgets the stream so far (what is inside the filter is dropped), e.g. after a barge-in. */
  reset(): void {
    const converter = this.usable();
    this.samplesIn = 0;
    this.samplesOut = 0;
    // The wrapper has no src_reset; assigning the converter type re-creates libsamplerate's state.
    if (converter !== null) {
      const type = converter.converterType;
      converter.converterType = type;
    }
  }

  /** Frees the converter; the resampler is unusable afterwards. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.converter?.destroy();
  }

  private usable(): Converter | null {
    if (this.destroyed) throw new Error('StreamingResampler used after destroy()');
    return this.converter;
  }

  /** Runs `count` samples of inFloat through the converter, appending to `out` at `offset`. */
  private convertChunk(converter: Converter, count: number, out: Int16Array, offset: number): number {
    converter.full(this.inFloat.subarray(0, count), this.outFloat, this.produced);
    const frames = this.produced.frames;
    for (let i = 0; i < frames; i++) out[offset + i] = floatToPcm16(this.outFloat[i] as number);
    return offset + frames;
  }
}

/**
 * Converts a whole buffer, yielding to the event loop between chunks so that a long buffer
 * does not stall other sessions.
 */
export async function resampleBuffer(
  samples: Int16Array,
  fromRate: number,
  toRate: number,
  options: ResamplerOptions = {},
): Promise<Int16Array> {
  if (fromRate === toRate) return samples.slice();
  const resampler = await StreamingResampler.create(fromRate, toRate, options);
  try {
    const parts: Int16Array[] = [];
    const step = CHUNK_SAMPLES * 8;
    for (let start = 0; start < samples.length; start += step) {
      parts.push(resampler.process(samples.subarray(start, start + step)));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    parts.push(resampler.flush());
    return concatPcm16(parts);
  } finally {
    resampler.destroy();
  }
}

function concatPcm16(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The converter Parley used before src/audio/resampler.ts, kept for comparison: one
 * libsamplerate WASM module per stream (SRC_SINC_MEDIUM_QUALITY, the old default), fed 4096
 * samples per call.
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { floatToPcm16 } from '../../src/audio/pcm16.js';

type Converter = Awaited<ReturnType<typeof libsamplerate.create>>;

const CHUNK_SAMPLES = 4096;
/** libsamplerate may emit a sample or two more than input × ratio in one call. */
const OUTPUT_MARGIN = 16;

export class LibsamplerateResampler {
  private readonly inFloat = new Float32Array(CHUNK_SAMPLES);
  private readonly outFloat: Float32Array;
  private readonly produced = { frames: 0 };

  private constructor(
    private readonly converter: Converter,
    private readonly ratio: number,
  ) {
    this.outFloat = new Float32Array(Math.ceil(CHUNK_SAMPLES * ratio) + OUTPUT_MARGIN);
  }

  static async create(fromRate: number, toRate: number): Promise<LibsamplerateResampler> {
    const converterType = libsamplerate.ConverterType.SRC_SINC_MEDIUM_QUALITY;
    return new LibsamplerateResampler(await libsamplerate.create(1, fromRate, toRate, { converterType }), toRate / fromRate);
  }

  process(samples: Int16Array): Int16Array {
    const out = new Int16Array(Math.ceil(samples.length * this.ratio) + OUTPUT_MARGIN);
    let written = 0;
    for (let start = 0; start < samples.length; start += CHUNK_SAMPLES) {
      const count = Math.min(CHUNK_SAMPLES, samples.length - start);
      for (let i = 0; i < count; i++) this.inFloat[i] = (samples[start + i] as number) / 32768;
      this.converter.full(this.inFloat.subarray(0, count), this.outFloat, this.produced);
      for (let i = 0; i < this.produced.frames; i++) out[written++] = floatToPcm16(this.outFloat[i] as number);
    }
    return out.subarray(0, written);
  }

  destroy(): void {
    this.converter.destroy();
  }
}

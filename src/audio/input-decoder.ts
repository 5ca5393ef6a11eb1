import type { InputAudioFormat } from '../protocol/agent-config.js';
import { decodeAlaw, decodeMulaw } from './g711.js';
import { pcm16FromBytes } from './pcm16.js';
import { StreamingResampler } from './resampler.js';
import { assertSupportedFormat } from './sample-format.js';

/**
 * Turns the client's binary audio frames (linear16 little-endian, mu-law or A-law at any rate
 * from 8 to 48 kHz) into mono PCM16 at the rate the listen stage wants. Frames may end in the
 * middle of a 16-bit sample; the odd byte waits for the next push.
 */
export class InputDecoder {
  /** The first byte of a linear16 sample split across two pushes, or -1. */
  private pendingByte = -1;

  private constructor(
    readonly format: InputAudioFormat,
    private readonly resampler: StreamingResampler,
  ) {}

  static async create(format: InputAudioFormat, targetRate: number): Promise<InputDecoder> {
    assertSupportedFormat(format.encoding, format.sampleRate);
    return new InputDecoder({ ...format }, await StreamingResampler.create(format.sampleRate, targetRate));
  }

  /** Decodes one frame; returns an empty array when the frame held only half a sample. */
  push(bytes: Uint8Array): Int16Array {
    const samples =
      this.format.encoding === 'mulaw' ? decodeMulaw(bytes)
      : this.format.encoding === 'alaw' ? decodeAlaw(bytes)
      : this.decodeLinear16(bytes);
    return samples.length === 0 ? samples : this.resampler.process(samples);
  }

  /** Frees the resampler; the decoder is unusable afterwards. */
  close(): void {
    this.resampler.destroy();
  }

  private decodeLinear16(bytes: Uint8Array): Int16Array {
    if (this.pendingByte < 0) {
      if (bytes.length % 2 === 1) this.pendingByte = bytes[bytes.length - 1] as number;
      return pcm16FromBytes(bytes);
    }
    if (bytes.length === 0) return new Int16Array(0);
    const out = new Int16Array((bytes.length + 1) >> 1);
    out[0] = (((bytes[0] as number) << 24) >> 16) | this.pendingByte;
    const rest = bytes.subarray(1);
    pcm16FromBytes(rest, out.subarray(1));
    this.pendingByte = rest.length % 2 === 1 ? (rest[rest.length - 1] as number) : -1;
    return out;
  }
}

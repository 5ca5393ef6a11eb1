import type { InputAudioFormat } from '../protocol/agent-config.js';
import { decodeAlaw, decodeMulaw } from './g711.js';
import { Pcm16Assembler } from './pcm16.js';
import { StreamingResampler } from './resampler.js';
import { assertSupportedFormat } from './sample-format.js';

/**
 * Turns the client's binary audio frames (linear16 little-endian, mu-law or A-law at any rate
 * from 8 to 48 kHz) into mono PCM16 at the rate the listen stage wants. Frames may end in the
 * middle of a 16-bit sample; the odd byte waits for the next push.
 */
export class InputDecoder {
  private readonly linear16 = new Pcm16Assembler();

  private constructor(
    readonly format: InputAudioFormat,
    private readonly resampler: StreamingResampler,
  ) {}

  /** Throws RangeError for a format the protocol does not allow. */
  static create(format: InputAudioFormat, targetRate: number): InputDecoder {
    assertSupportedFormat(format.encoding, format.sampleRate);
    return new InputDecoder({ ...format }, new StreamingResampler(format.sampleRate, targetRate));
  }

  /** Decodes one frame; returns an empty array when the frame held only half a sample. */
  push(bytes: Uint8Array): Int16Array {
    const samples =
      this.format.encoding === 'mulaw' ? decodeMulaw(bytes)
      : this.format.encoding === 'alaw' ? decodeAlaw(bytes)
      : this.linear16.push(bytes);
    return samples.length === 0 ? samples : this.resampler.process(samples);
  }

  /** The decoder is unusable afterwards. */
  close(): void {
    this.resampler.destroy();
  }
}

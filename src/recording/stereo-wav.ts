import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { wavHeader } from '../audio/wav.js';

const HEADER_BYTES = 44;
const CHANNELS = 2;
const BYTES_PER_FRAME = 2 * CHANNELS;

/** The header of a 16-bit PCM stereo WAV holding `dataBytes` of audio. */
function stereoWavHeader(sampleRate: number, dataBytes: number): Uint8Array {
  return wavHeader({ sampleRate, encoding: 'linear16', channels: CHANNELS, dataBytes });
}

/**
 * A stereo WAV written as it grows; every write goes through the file handle's async calls, and
 * the header is rewritten after every append so the file on disk is always a valid WAV of what it holds.
 */
export class StereoWavFile {
  private dataBytes = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly sampleRate: number,
  ) {}

  static async create(path: string, sampleRate: number): Promise<StereoWavFile> {
    const handle = await open(path, 'wx');
    const file = new StereoWavFile(handle, sampleRate);
    await handle.write(stereoWavHeader(sampleRate, 0), 0, HEADER_BYTES, 0);
    return file;
  }

  /** Appends equal lengths of left and right samples, then makes the header say so. */
  async append(left: Int16Array, right: Int16Array): Promise<void> {
    if (left.length === 0) return;
    const frames = Buffer.alloc(left.length * BYTES_PER_FRAME);
    for (let i = 0; i < left.length; i++) {
      frames.writeInt16LE(left[i] as number, i * BYTES_PER_FRAME);
      frames.writeInt16LE(right[i] ?? 0, i * BYTES_PER_FRAME + 2);
    }
    await this.handle.write(frames, 0, frames.length, HEADER_BYTES + this.dataBytes);
    this.dataBytes += frames.length;
    await this.handle.write(stereoWavHeader(this.sampleRate, this.dataBytes), 0, HEADER_BYTES, 0);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

import { readFile } from 'node:fs/promises';
import type { PcmEncoding } from '../protocol/agent-config.js';
import { decodeAlaw, decodeMulaw } from './g711.js';
import { pcm16FromBytes, pcm16ToBytes } from './pcm16.js';
import { bytesPerSample } from './sample-format.js';

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/**
 * RIFF and data sizes written when the length is unknown (a streamed utterance): 0xFFFFFFFF,
 * the convention of streaming TTS services, which players read as "until the stream ends".
 */
export const WAV_UNKNOWN_SIZE = 0xffffffff;

const FORMAT_CODES: Record<PcmEncoding, number> = { linear16: FORMAT_PCM, mulaw: FORMAT_MULAW, alaw: FORMAT_ALAW };

export interface WavHeaderOptions {
  sampleRate: number;
  encoding: PcmEncoding;
  /** Bytes of audio that follow; omitted for a stream of unknown length. */
  dataBytes?: number;
  /** Interleaved channels; 1 unless given (a session recording has 2). */
  channels?: number;
}

/**
 * A WAV header: 44 bytes for PCM; 46 for G.711, whose non-PCM `fmt ` chunk carries the
 * cbSize field (WAVEFORMATEX) that strict readers expect.
 */
export function wavHeader(opts: WavHeaderOptions): Uint8Array {
  const sampleBytes = bytesPerSample(opts.encoding);
  const channels = opts.channels ?? 1;
  const fmtBytes = opts.encoding === 'linear16' ? 16 : 18;
  const headerBytes = 12 + 8 + fmtBytes + 8;
  const header = new Uint8Array(headerBytes);
  const view = new DataView(header.buffer);
  const known = opts.dataBytes !== undefined;
  const dataBytes = opts.dataBytes ?? WAV_UNKNOWN_SIZE;
  writeTag(header, 0, 'RIFF');
  view.setUint32(4, known ? Math.min(WAV_UNKNOWN_SIZE, headerBytes - 8 + dataBytes) : WAV_UNKNOWN_SIZE, true);
  writeTag(header, 8, 'WAVE');
  writeTag(header, 12, 'fmt ');
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, FORMAT_CODES[opts.encoding], true);
  view.setUint16(22, channels, true);
  view.setUint32(24, opts.sampleRate, true);
  view.setUint32(28, opts.sampleRate * sampleBytes * channels, true);
  view.setUint16(32, sampleBytes * channels, true);
  view.setUint16(34, sampleBytes * 8, true);
  // A G.711 fmt chunk ends with cbSize = 0 (already zero).
  writeTag(header, headerBytes - 8, 'data');
  view.setUint32(headerBytes - 4, dataBytes, true);
  return header;
}

export interface ParsedWav {
  encoding: PcmEncoding;
  sampleRate: number;
  channels: number;
  /** Interleaved audio in `encoding`; a view into the input bytes. */
  data: Uint8Array;
}

/**
 * Reads a WAV file's format and audio, walking its chunks (LIST, fact and others are skipped).
 * A data size beyond the end (streamed files) means "to the end". Accepts 16-bit PCM, 8-bit
 * mu-law and 8-bit A-law, also inside WAVE_FORMAT_EXTENSIBLE.
 */
export function parseWav(bytes: Uint8Array): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || readTag(bytes, 0) !== 'RIFF' || readTag(bytes, 8) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let format: { encoding: PcmEncoding; sampleRate: number; channels: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const tag = readTag(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (tag === 'fmt ') format = parseFormat(view, body, size);
    if (tag === 'data') {
      if (format === undefined) throw new Error('WAV data chunk before its fmt chunk');
      const end = Math.min(bytes.length, body + size);
      const frameBytes = bytesPerSample(format.encoding) * format.channels;
      return { ...format, data: bytes.subarray(body, end - ((end - body) % frameBytes)) };
    }
    offset = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error('WAV file has no data chunk');
}

function parseFormat(view: DataView, at: number, size: number): { encoding: PcmEncoding; sampleRate: number; channels: number } {
  if (size < 16 || at + 16 > view.byteLength) throw new Error('WAV fmt chunk too short');
  let code = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const bits = view.getUint16(at + 14, true);
  // WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of its sub-format GUID.
  if (code === FORMAT_EXTENSIBLE && size >= 40 && at + 26 <= view.byteLength) code = view.getUint16(at + 24, true);
  const encoding =
    code === FORMAT_PCM && bits === 16 ? 'linear16'
    : code === FORMAT_MULAW && bits === 8 ? 'mulaw'
    : code === FORMAT_ALAW && bits === 8 ? 'alaw'
    : undefined;
  if (encoding === undefined) throw new Error(`unsupported WAV format ${code} with ${bits} bits per sample`);
  if (channels < 1 || sampleRate < 1) throw new Error('WAV fmt chunk has no channels or no sample rate');
  return { encoding, sampleRate, channels };
}

/** Decodes a WAV file's audio to mono PCM16, averaging the channels of a multi-channel file. */
export async function readWavFile(path: string): Promise<{ samples: Int16Array; sampleRate: number }> {
  const wav = parseWav(await readFile(path));
  const interleaved =
    wav.encoding === 'linear16' ? pcm16FromBytes(wav.data)
    : wav.encoding === 'mulaw' ? decodeMulaw(wav.data)
    : decodeAlaw(wav.data);
  return { samples: downmix(interleaved, wav.channels), sampleRate: wav.sampleRate };
}

function downmix(interleaved: Int16Array, channels: number): Int16Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Int16Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let ch = 0; ch < channels; ch++) sum += interleaved[frame * channels + ch] as number;
    mono[frame] = Math.round(sum / channels);
  }
  return mono;
}

/** A complete mono 16-bit PCM WAV file. */
export function pcmToWav(samples: Int16Array, sampleRate: number): Uint8Array {
  const header = wavHeader({ sampleRate, encoding: 'linear16', dataBytes: samples.length * 2 });
  const file = new Uint8Array(header.length + samples.length * 2);
  file.set(header);
  pcm16ToBytes(samples, file.subarray(header.length));
  return file;
}

function writeTag(bytes: Uint8Array, at: number, tag: string): void {
  for (let i = 0; i < 4; i++) bytes[at + i] = tag.charCodeAt(i);
}

function readTag(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}

/** Little-endian 16-bit PCM bytes to and from Int16Array, with a fast path for aligned views. */

/** Mono signed 16-bit PCM at the engine's own rate; the encoder converts it to the session's format. */
export interface PcmChunk {
  samples: Int16Array;
  sampleRate: number;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads `bytes.length >> 1` little-endian samples; an odd trailing byte is ignored. */
export function pcm16FromBytes(bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length >> 1)): Int16Array {
  const count = bytes.length >> 1;
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    out.set(new Int16Array(bytes.buffer, bytes.byteOffset, count));
    return out;
  }
  for (let i = 0; i < count; i++) {
    const lo = bytes[2 * i] as number;
    const hi = bytes[2 * i + 1] as number;
    out[i] = ((hi << 24) >> 16) | lo;
  }
  return out;
}

/** Writes the samples as little-endian bytes (a new buffer unless `out` is given). */
export function pcm16ToBytes(samples: Int16Array, out: Uint8Array = new Uint8Array(samples.length * 2)): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN && out.byteOffset % 2 === 0) {
    new Int16Array(out.buffer, out.byteOffset, samples.length).set(samples);
    return out;
  }
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    out[2 * i] = s & 0xff;
    out[2 * i + 1] = (s >> 8) & 0xff;
  }
  return out;
}

/** The parts one after another; a single part is returned as it is, not copied. */
export function concatPcm16(parts: readonly Int16Array[]): Int16Array {
  if (parts.length === 1) return parts[0] as Int16Array;
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Float in [-1, 1) to a rounded, clamped 16-bit sample. */
export function floatToPcm16(value: number): number {
  const scaled = Math.round(value * 32768);
  return scaled > 32767 ? 32767 : scaled < -32768 ? -32768 : scaled;
}

/**
 * Turns a byte stream of little-endian PCM16 (client frames, network chunks) into whole samples:
 * a chunk may end in the middle of a sample, whose first byte waits for the next push. Each push
 * returns new memory, so callers may keep it while the source buffer is reused.
 */
export class Pcm16Assembler {
  /** The first byte of a sample split across two pushes, or -1. */
  private pendingByte = -1;

  /** The whole samples so far; empty when the chunk held only half a sample. */
  push(bytes: Uint8Array): Int16Array {
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

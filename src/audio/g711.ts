/**
 * ITU-T G.711 mu-law and A-law codecs for 16-bit linear PCM, table-driven.
 *
 * The tables are built once from the bit-exact reference algorithms of the ITU-T G.191
 * software tools. Mu-law works on 14-bit and A-law on 13-bit
 * magnitudes, so the encoder tables are indexed by the sample shifted right by 2 or 3: that
 * shift is the reference encoder's own first step, so the result is exact for every input.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 8159;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
const SIGN_BIT = 0x80;

function segmentOf(value: number, segmentEnds: readonly number[]): number {
  let segment = 0;
  while (segment < segmentEnds.length && value > (segmentEnds[segment] ?? 0)) segment++;
  return segment;
}

const MULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/** Reference mu-law encoder for one 14-bit sample (a 16-bit sample shifted right by 2). */
function mulawFrom14Bit(sample14: number): number {
  let magnitude = sample14;
  let mask = 0xff;
  if (magnitude < 0) {
    // G.191 takes the one's complement of negative samples (Sun's g711.c negates, one step off).
    magnitude = ~magnitude;
    mask = 0x7f;
  }
  magnitude = Math.min(magnitude, MULAW_CLIP) + (MULAW_BIAS >> 2);
  const segment = segmentOf(magnitude, MULAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  return ((segment << SEG_SHIFT) | ((magnitude >> (segment + 1)) & QUANT_MASK)) ^ mask;
}

function mulawToLinear(code: number): number {
  const inverted = ~code & 0xff;
  const magnitude = (((inverted & QUANT_MASK) << 3) + MULAW_BIAS) << ((inverted & SEG_MASK) >> SEG_SHIFT);
  return inverted & SIGN_BIT ? MULAW_BIAS - magnitude : magnitude - MULAW_BIAS;
}

/** Reference A-law encoder for one 13-bit sample (a 16-bit sample shifted right by 3). */
function alawFrom13Bit(sample13: number): number {
  let magnitude = sample13;
  let mask = 0xd5;
  if (magnitude < 0) {
    magnitude = -magnitude - 1;
    mask = 0x55;
  }
  const segment = segmentOf(magnitude, ALAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (magnitude >> 1) & QUANT_MASK : (magnitude >> segment) & QUANT_MASK;
  return ((segment << SEG_SHIFT) | mantissa) ^ mask;
}

function alawToLinear(code: number): number {
  const value = code ^ 0x55;
  const segment = (value & SEG_MASK) >> SEG_SHIFT;
  let magnitude = ((value & QUANT_MASK) << 4) + (segment === 0 ? 8 : 0x108);
  if (segment > 1) magnitude <<= segment - 1;
  return value & SIGN_BIT ? magnitude : -magnitude;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

function buildEncodeTable(bits: number, encode: (sample: number) => number): Uint8Array {
  const size = 1 << bits;
  const table = new Uint8Array(size);
  for (let i = 0; i < size; i++) table[i] = encode(i - size / 2);
  return table;
}

const MULAW_DECODE = buildDecodeTable(mulawToLinear);
const ALAW_DECODE = buildDecodeTable(alawToLinear);
/** Indexed by (sample >> 2) + 8192. */
const MULAW_ENCODE = buildEncodeTable(14, mulawFrom14Bit);
/** Indexed by (sample >> 3) + 4096. */
const ALAW_ENCODE = buildEncodeTable(13, alawFrom13Bit);

function decodeWith(table: Int16Array, bytes: Uint8Array, out: Int16Array): Int16Array {
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i] as number] as number;
  return out;
}

/** Mu-law bytes to 16-bit PCM. `out` (at least as long as `bytes`) avoids an allocation. */
export function decodeMulaw(bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  return decodeWith(MULAW_DECODE, bytes, out);
}

/** A-law bytes to 16-bit PCM. `out` (at least as long as `bytes`) avoids an allocation. */
export function decodeAlaw(bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  return decodeWith(ALAW_DECODE, bytes, out);
}

/** 16-bit PCM to mu-law bytes. `out` (at least as long as `samples`) avoids an allocation. */
export function encodeMulaw(samples: Int16Array, out: Uint8Array = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = MULAW_ENCODE[((samples[i] as number) >> 2) + 8192] as number;
  return out;
}

/** 16-bit PCM to A-law bytes. `out` (at least as long as `samples`) avoids an allocation. */
export function encodeAlaw(samples: Int16Array, out: Uint8Array = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = ALAW_ENCODE[((samples[i] as number) >> 3) + 4096] as number;
  return out;
}

/**
 * Writes a tiny random-weight whisper.cpp model in its legacy ggml format (English-only vocab
 * size, so the special token ids are the real ones). One text token is made the decoder's clear
 * favourite, so greedy decoding gives a known transcript ("hello hello ...") whatever the audio.
 */
import { writeFileSync } from 'node:fs';
import { createRng, gaussian } from './rng.js';

const N_VOCAB_EN = 51864;
const N_MELS = 80;
const N_FFT_BINS = 201;

const WORDS = ['hello', 'the', 'weather', 'is', 'sunny', 'today', 'yes', 'no'];

/** IEEE half precision, round-to-nearest; enough for small random weights. */
function toF16(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 2);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i] ?? 0;
    const x = u[0] ?? 0;
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    let h: number;
    if (exp <= 0) h = sign; // flush tiny values to zero
    else if (exp >= 31) h = sign | 0x7c00;
    else h = sign | (exp << 10) | (((x >>> 13) & 0x3ff) + ((x >>> 12) & 1));
    out.writeUInt16LE(Math.min(h, 0xffff), 2 * i);
  }
  return out;
}

export interface RandomWhisperOptions {
  /** Token text the decoder prefers; must be one of the small vocabulary (e.g. ' hello'). */
  favourite?: string;
  seed?: number;
  state?: number;
  heads?: number;
  layers?: number;
}

export function writeRandomWhisperGgml(path: string, options: RandomWhisperOptions = {}): { bytes: number } {
  const { favourite = ' hello', seed = 7, state = 16, heads = 2, layers = 1 } = options;
  const rng = createRng(seed);
  const audioCtx = 1500;
  const textCtx = 448;
  // A byte per id first (ids 0..255), then words with and without a leading space.
  const vocab = [...Array.from({ length: 256 }, (_, b) => String.fromCharCode(b)), ...WORDS.flatMap((w) => [w, ` ${w}`])];
  const favouriteId = vocab.indexOf(favourite);
  if (favouriteId < 0) throw new Error(`favourite "${favourite}" is not in the vocabulary`);

  const parts: Buffer[] = [];
  const i32 = (...values: number[]): void => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => b.writeInt32LE(v, 4 * i));
    parts.push(b);
  };
  const f32 = (a: Float32Array): void => {
    parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  };
  const noise = (n: number, std = 0.02): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = gaussian(rng) * std;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const zeros = (n: number): Float32Array => new Float32Array(n);
  /** ggml dims, innermost first; matrices and convolutions are F16 (ftype 1), as ggml's conv needs. */
  const tensor = (name: string, dims: number[], data: Float32Array): void => {
    const nameBytes = Buffer.from(name, 'utf8');
    const half = dims.length > 1 && !name.endsWith('.bias') && !name.endsWith('positional_embedding');
    i32(dims.length, nameBytes.length, half ? 1 : 0);
    i32(...dims);
    parts.push(nameBytes);
    if (half) parts.push(toF16(data));
    else f32(data);
  };

  parts.push(Buffer.from([0x6c, 0x6d, 0x67, 0x67])); // 'ggml' magic, little-endian u32
  i32(N_VOCAB_EN, audioCtx, state, heads, layers, textCtx, state, heads, layers, N_MELS, 1);
  i32(N_MELS, N_FFT_BINS);
  f32(noise(N_MELS * N_FFT_BINS, 0.01).map(Math.abs));
  i32(vocab.length);
  for (const word of vocab) {
    const b = Buffer.from(word, 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }

  const n = state;
  tensor('encoder.positional_embedding', [n, audioCtx], noise(n * audioCtx));
  tensor('encoder.conv1.weight', [3, N_MELS, n], noise(3 * N_MELS * n));
  tensor('encoder.conv1.bias', [1, n], zeros(n));
  tensor('encoder.conv2.weight', [3, n, n], noise(3 * n * n));
  tensor('encoder.conv2.bias', [1, n], zeros(n));
  tensor('encoder.ln_post.weight', [n], ones(n));
  tensor('encoder.ln_post.bias', [n], zeros(n));
  const block = (prefix: string, cross: boolean): void => {
    tensor(`${prefix}.mlp_ln.weight`, [n], ones(n));
    tensor(`${prefix}.mlp_ln.bias`, [n], zeros(n));
    tensor(`${prefix}.mlp.0.weight`, [n, 4 * n], noise(4 * n * n));
    tensor(`${prefix}.mlp.0.bias`, [4 * n], zeros(4 * n));
    tensor(`${prefix}.mlp.2.weight`, [4 * n, n], noise(4 * n * n));
    tensor(`${prefix}.mlp.2.bias`, [n], zeros(n));
    const attention = (name: string): void => {
      tensor(`${prefix}.${name}_ln.weight`, [n], ones(n));
      tensor(`${prefix}.${name}_ln.bias`, [n], zeros(n));
      tensor(`${prefix}.${name}.query.weight`, [n, n], noise(n * n));
      tensor(`${prefix}.${name}.query.bias`, [n], zeros(n));
      tensor(`${prefix}.${name}.key.weight`, [n, n], noise(n * n));
      tensor(`${prefix}.${name}.value.weight`, [n, n], noise(n * n));
      tensor(`${prefix}.${name}.value.bias`, [n], zeros(n));
      tensor(`${prefix}.${name}.out.weight`, [n, n], noise(n * n));
      tensor(`${prefix}.${name}.out.bias`, [n], zeros(n));
    };
    attention('attn');
    if (cross) attention('cross_attn');
  };
  for (let i = 0; i < layers; i++) block(`encoder.blocks.${i}`, false);

  // Every decoder position carries +1/-1 in dims 0/1, which survive the final LayerNorm; the
  // favourite's (tied) embedding row reads them, so its logit wins at every step.
  const pe = noise(n * textCtx);
  for (let p = 0; p < textCtx; p++) {
    pe[p * n] = 1;
    pe[p * n + 1] = -1;
  }
  tensor('decoder.positional_embedding', [n, textCtx], pe);
  const te = noise(n * N_VOCAB_EN);
  te[favouriteId * n] = 5;
  te[favouriteId * n + 1] = -5;
  tensor('decoder.token_embedding.weight', [n, N_VOCAB_EN], te);
  tensor('decoder.ln.weight', [n], ones(n));
  tensor('decoder.ln.bias', [n], zeros(n));
  for (let i = 0; i < layers; i++) block(`decoder.blocks.${i}`, true);

  const file = Buffer.concat(parts);
  writeFileSync(path, file);
  return { bytes: file.length };
}

/**
 * Writes a tiny random-weight Llama-architecture GGUF (v3) with a byte-level BPE tokenizer and
 * Llama 3.1 special tokens, so node-llama-cpp loads it through the real code path and picks its
 * Llama 3.1 function-calling chat wrapper (by `general.name`). Weights are seeded noise, except
 * that one chosen token is made the model's clear favourite, so that greedy output is known:
 * a word (streaming tests) or `<function=` (tool-call tests).
 */
import { writeFileSync } from 'node:fs';
import { createRng, gaussian } from './rng.js';

const ALIGNMENT = 32;

enum ValueType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

type Value =
  | { type: ValueType.UINT32 | ValueType.INT32 | ValueType.FLOAT32; value: number }
  | { type: ValueType.BOOL; value: boolean }
  | { type: ValueType.STRING; value: string }
  | { type: ValueType.ARRAY; items: ValueType.STRING; value: readonly string[] }
  | { type: ValueType.ARRAY; items: ValueType.INT32; value: readonly number[] };

interface Tensor {
  name: string;
  /** ggml order: innermost dimension first. */
  dims: number[];
  data: Float32Array;
}

/** Grows a little-endian byte buffer. */
class Writer {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  pad(): void {
    const n = (ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT;
    this.bytes(new Uint8Array(n));
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(w: Writer, v: Value): void {
  w.u32(v.type);
  switch (v.type) {
    case ValueType.UINT32:
      w.u32(v.value);
      break;
    case ValueType.INT32:
      w.i32(v.value);
      break;
    case ValueType.FLOAT32:
      w.f32(v.value);
      break;
    case ValueType.BOOL:
      w.bytes(new Uint8Array([v.value ? 1 : 0]));
      break;
    case ValueType.STRING:
      w.str(v.value);
      break;
    case ValueType.ARRAY:
      w.u32(v.items);
      w.u64(v.value.length);
      for (const item of v.value) {
        if (typeof item === 'string') w.str(item);
        else w.i32(item);
      }
      break;
  }
}

/** Serializes metadata and F32 tensors as GGUF v3. */
export function encodeGguf(metadata: Record<string, Value>, tensors: readonly Tensor[]): Buffer {
  const w = new Writer();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    w.str(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    offset += Math.ceil((t.data.byteLength) / ALIGNMENT) * ALIGNMENT;
  }
  w.pad();
  for (const t of tensors) {
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad();
  }
  return w.result();
}

/** GPT-2's reversible byte → printable character map used by byte-level BPE vocabularies. */
export function byteToUnicode(): string[] {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const map: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++);
  return map;
}

const WORDS = [
  'hello', 'the', 'weather', 'is', 'sunny', 'today', 'in', 'paris', 'and', 'oslo', 'what', 'can', 'i', 'do',
  'for', 'you', 'your', 'appointment', 'confirmed', 'thank', 'yes', 'no', 'please', 'city', 'name', 'get',
];

export const LLAMA31_SPECIAL = [
  '<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|eom_id|>',
  '<|python_tag|>', '<|finetune_right_pad_id|>',
];

/** Token list, types and merges of a small byte-level BPE vocabulary (bytes + a few English words). */
function vocabulary(): { tokens: string[]; types: number[]; merges: string[] } {
  const bytes = byteToUnicode();
  const tokens = [...bytes];
  const types = tokens.map(() => 1);
  const known = new Set(tokens);
  const merges: string[] = [];
  const space = bytes[32] ?? 'Ġ';
  for (const word of WORDS.flatMap((w) => [w, space + w])) {
    const chars = [...word];
    let left = chars[0] ?? '';
    for (const next of chars.slice(1)) {
      const merged = left + next;
      if (!known.has(merged)) {
        merges.push(`${left} ${next}`);
        known.add(merged);
        tokens.push(merged);
        types.push(1);
      }
      left = merged;
    }
  }
  for (const special of LLAMA31_SPECIAL) {
    tokens.push(special);
    types.push(3); // CONTROL
  }
  tokens.push('<function=');
  types.push(4); // USER_DEFINED: matched whole when the chat wrapper tokenizes its call prefix
  return { tokens, types, merges };
}

export interface RandomLlamaOptions {
  /** Token text (in vocabulary spelling, e.g. `Ġhello` or `<function=`) the model always prefers. */
  favourite: string;
  seed?: number;
  embedding?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  feedForward?: number;
  contextLength?: number;
}

/** Writes the model to `path`; returns the vocabulary size. */
export function writeRandomLlamaGguf(path: string, options: RandomLlamaOptions): { vocab: number; bytes: number } {
  const { favourite, seed = 1, embedding: nEmbd = 64, layers = 2, heads = 4, kvHeads = 2, feedForward = 128, contextLength = 2048 } = options;
  const { tokens, types, merges } = vocabulary();
  const favouriteId = tokens.indexOf(favourite);
  if (favouriteId < 0) throw new Error(`favourite token "${favourite}" is not in the vocabulary`);
  const nVocab = tokens.length;
  const headDim = nEmbd / heads;
  const nKv = headDim * kvHeads;
  const rng = createRng(seed);
  const noise = (n: number, std: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = gaussian(rng) * std;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

  // Every embedding shares a large component 0, so the final hidden state always points that
  // way; the favourite's output row reads that component, so it wins whatever the context.
  const embd = noise(nEmbd * nVocab, 0.02);
  for (let t = 0; t < nVocab; t++) embd[t * nEmbd] = 1;
  const output = noise(nEmbd * nVocab, 0.02);
  output[favouriteId * nEmbd] = 5;

  const tensors: Tensor[] = [
    { name: 'token_embd.weight', dims: [nEmbd, nVocab], data: embd },
    { name: 'output_norm.weight', dims: [nEmbd], data: ones(nEmbd) },
    { name: 'output.weight', dims: [nEmbd, nVocab], data: output },
  ];
  for (let i = 0; i < layers; i++) {
    tensors.push(
      { name: `blk.${i}.attn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `blk.${i}.attn_q.weight`, dims: [nEmbd, nEmbd], data: noise(nEmbd * nEmbd, 0.02) },
      { name: `blk.${i}.attn_k.weight`, dims: [nEmbd, nKv], data: noise(nEmbd * nKv, 0.02) },
      { name: `blk.${i}.attn_v.weight`, dims: [nEmbd, nKv], data: noise(nEmbd * nKv, 0.02) },
      { name: `blk.${i}.attn_output.weight`, dims: [nEmbd, nEmbd], data: noise(nEmbd * nEmbd, 0.02) },
      { name: `blk.${i}.ffn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `blk.${i}.ffn_gate.weight`, dims: [nEmbd, feedForward], data: noise(nEmbd * feedForward, 0.02) },
      { name: `blk.${i}.ffn_up.weight`, dims: [nEmbd, feedForward], data: noise(nEmbd * feedForward, 0.02) },
      { name: `blk.${i}.ffn_down.weight`, dims: [feedForward, nEmbd], data: noise(feedForward * nEmbd, 0.02) },
    );
  }
  const u32 = (value: number): Value => ({ type: ValueType.UINT32, value });
  const id = (text: string): Value => u32(tokens.indexOf(text));
  const metadata: Record<string, Value> = {
    'general.architecture': { type: ValueType.STRING, value: 'llama' },
    'general.name': { type: ValueType.STRING, value: 'Llama 3.1 Tiny Random' },
    'general.file_type': u32(0),
    'general.alignment': u32(ALIGNMENT),
    'llama.context_length': u32(contextLength),
    'llama.embedding_length': u32(nEmbd),
    'llama.block_count': u32(layers),
    'llama.feed_forward_length': u32(feedForward),
    'llama.attention.head_count': u32(heads),
    'llama.attention.head_count_kv': u32(kvHeads),
    'llama.attention.layer_norm_rms_epsilon': { type: ValueType.FLOAT32, value: 1e-5 },
    'llama.rope.dimension_count': u32(headDim),
    'llama.rope.freq_base': { type: ValueType.FLOAT32, value: 10000 },
    'llama.vocab_size': u32(nVocab),
    'tokenizer.ggml.model': { type: ValueType.STRING, value: 'gpt2' },
    'tokenizer.ggml.pre': { type: ValueType.STRING, value: 'llama-bpe' },
    'tokenizer.ggml.tokens': { type: ValueType.ARRAY, items: ValueType.STRING, value: tokens },
    'tokenizer.ggml.token_type': { type: ValueType.ARRAY, items: ValueType.INT32, value: types },
    'tokenizer.ggml.merges': { type: ValueType.ARRAY, items: ValueType.STRING, value: merges },
    'tokenizer.ggml.bos_token_id': id('<|begin_of_text|>'),
    'tokenizer.ggml.eos_token_id': id('<|eot_id|>'),
    'tokenizer.ggml.padding_token_id': id('<|finetune_right_pad_id|>'),
    'tokenizer.ggml.add_bos_token': { type: ValueType.BOOL, value: true },
  };
  const file = encodeGguf(metadata, tensors);
  writeFileSync(path, file);
  return { vocab: nVocab, bytes: file.length };
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/audio/g711.js';

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('G.711 mu-law', () => {
  it('decodes the reference values', () => {
    // ITU-T G.711 / G.191 reconstruction values, also what sox produces.
    const pairs: [number, number][] = [[0xff, 0], [0x7f, 0], [0x80, 32124], [0x00, -32124], [0xd5, 716], [0x55, -716], [0xaa, 5372], [0xef, 132], [0xfe, 8]];
    for (const [code, value] of pairs) assert.equal(decodeMulaw(Uint8Array.of(code))[0], value, `code 0x${code.toString(16)}`);
  });

  it('encodes the reference values', () => {
    const pairs: [number, number][] = [[0, 0xff], [-1, 0x7f], [32767, 0x80], [-32768, 0x00], [716, 0xd5], [8, 0xfe], [1000, 0xce], [-1000, 0x4e]];
    for (const [sample, code] of pairs) assert.equal(encodeMulaw(Int16Array.of(sample))[0], code, `sample ${sample}`);
  });

  it('re-encodes every code to itself (but negative zero, which becomes zero)', () => {
    const codes = encodeMulaw(decodeMulaw(ALL_CODES));
    for (let c = 0; c < 256; c++) assert.equal(codes[c], c === 0x7f ? 0xff : c);
  });

  it('codes negative samples by their one\'s complement, as ITU-T G.191 does', () => {
    assertOnesComplementSymmetry(encodeMulaw);
  });

  it('is monotonic and its error stays within half a quantization step of the segment', () => {
    const decoded = decodeMulaw(encodeMulaw(ALL_SAMPLES));
    for (let i = 1; i < ALL_SAMPLES.length; i++) assert.ok((decoded[i] as number) >= (decoded[i - 1] as number));
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const x = ALL_SAMPLES[i] as number;
      const error = Math.abs((decoded[i] as number) - x);
      assert.ok(error <= Math.max(8, Math.abs(x) / 16) + 4, `sample ${x} decoded to ${decoded[i]}`);
    }
  });
});

function assertOnesComplementSymmetry(encode: (s: Int16Array) => Uint8Array): void {
  // G.191 codes a negative sample x like the positive ~x (= -x - 1), with the sign bit cleared.
  const positive = encode(ALL_SAMPLES.subarray(32768));
  const negative = encode(ALL_SAMPLES.slice(0, 32768).reverse());
  for (let i = 0; i < 32768; i++) assert.equal(negative[i], (positive[i] as number) & 0x7f, `sample ${-i - 1}`);
}

describe('G.711 A-law', () => {
  it('decodes the reference values', () => {
    const pairs: [number, number][] = [[0xd5, 8], [0x55, -8], [0xaa, 32256], [0x2a, -32256], [0x80, 5504], [0x00, -5504], [0xff, 848], [0x7f, -848]];
    for (const [code, value] of pairs) assert.equal(decodeAlaw(Uint8Array.of(code))[0], value, `code 0x${code.toString(16)}`);
  });

  it('encodes the reference values', () => {
    const pairs: [number, number][] = [[0, 0xd5], [-1, 0x55], [32767, 0xaa], [-32768, 0x2a], [1000, 0xfa], [-1000, 0x7a]];
    for (const [sample, code] of pairs) assert.equal(encodeAlaw(Int16Array.of(sample))[0], code, `sample ${sample}`);
  });

  it('re-encodes every code to itself', () => {
    assert.deepEqual(encodeAlaw(decodeAlaw(ALL_CODES)), ALL_CODES);
  });

  it('codes negative samples by their one\'s complement, as ITU-T G.191 does', () => {
    assertOnesComplementSymmetry(encodeAlaw);
  });

  it('is monotonic and its error stays within half a quantization step of the segment', () => {
    const decoded = decodeAlaw(encodeAlaw(ALL_SAMPLES));
    for (let i = 1; i < ALL_SAMPLES.length; i++) assert.ok((decoded[i] as number) >= (decoded[i - 1] as number));
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const x = ALL_SAMPLES[i] as number;
      const error = Math.abs((decoded[i] as number) - x);
      assert.ok(error <= Math.max(16, Math.abs(x) / 32) + 8, `sample ${x} decoded to ${decoded[i]}`);
    }
  });
});

describe('G.711 buffers', () => {
  it('writes into a caller-provided buffer', () => {
    const out = new Int16Array(4);
    assert.equal(decodeMulaw(Uint8Array.of(0xff, 0x80), out), out);
    assert.deepEqual([...out], [0, 32124, 0, 0]);
  });
});

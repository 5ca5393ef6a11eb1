import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputDecoder } from '../../src/audio/input-decoder.js';
import { encodeAlaw, encodeMulaw, decodeAlaw, decodeMulaw } from '../../src/audio/g711.js';
import { pcm16ToBytes } from '../../src/audio/pcm16.js';
import { resampleBuffer } from '../../src/audio/resampler.js';
import { readWavFile } from '../../src/audio/wav.js';
import { LISTEN_SAMPLE_RATE } from '../../src/listen/types.js';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav';

function tone(rate: number, ms: number): Int16Array {
  return Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => Math.round(9000 * Math.sin((2 * Math.PI * 300 * i) / rate)));
}

/** Splits bytes at deterministic, often odd, offsets, with some empty frames. */
function splitOddly(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let state = 7;
  for (let start = 0; start < bytes.length; ) {
    state = (state * 48271) % 2147483647;
    const size = state % 5 === 0 ? 0 : 1 + (state % 701);
    parts.push(bytes.subarray(start, start + size));
    start += size;
  }
  return parts;
}

/** PCM messages decode at once. */
function pushPcm(decoder: InputDecoder, bytes: Uint8Array): Int16Array {
  const out = decoder.push(bytes);
  assert.ok(out instanceof Int16Array);
  return out;
}

function decodeAll(decoder: InputDecoder, frames: Uint8Array[]): Int16Array {
  const out = frames.map((f) => pushPcm(decoder, f));
  return Int16Array.from(out.flatMap((p) => [...p]));
}

function maxDifference(a: Int16Array, b: Int16Array): number {
  let max = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

describe('InputDecoder', () => {
  it('keeps the odd byte of a linear16 sample split across frames', () => {
    const pcm = Int16Array.from({ length: 4000 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const decoder = InputDecoder.create({ encoding: 'linear16', sampleRate: 16000 }, 16000);
    const frames = splitOddly(pcm16ToBytes(pcm));
    assert.ok(frames.some((f) => f.length % 2 === 1));
    assert.deepEqual(decodeAll(decoder, frames), pcm);
    decoder.close();
  });

  it('returns nothing for a frame holding half a sample', () => {
    const decoder = InputDecoder.create({ encoding: 'linear16', sampleRate: 16000 }, 16000);
    assert.equal(pushPcm(decoder, Uint8Array.of(0x34)).length, 0);
    assert.deepEqual([...pushPcm(decoder, Uint8Array.of(0x12))], [0x1234]);
    decoder.close();
  });

  it('resamples 48 kHz linear16 to 16 kHz as one stream', async () => {
    const pcm = tone(48000, 500);
    const decoder = InputDecoder.create({ encoding: 'linear16', sampleRate: 48000 }, LISTEN_SAMPLE_RATE);
    const streamed = decodeAll(decoder, splitOddly(pcm16ToBytes(pcm)));
    const reference = await resampleBuffer(pcm, 48000, 16000);
    assert.ok(streamed.length > reference.length - 100 && streamed.length <= reference.length);
    assert.ok(maxDifference(streamed, reference) <= 1);
    decoder.close();
  });

  it('converts a 1 MiB linear16 message at 48 kHz in slices, a turn of the event loop apart, as one stream', async () => {
    const pcm = tone(48000, 10_900);
    const whole = InputDecoder.create({ encoding: 'linear16', sampleRate: 48000 }, LISTEN_SAMPLE_RATE);
    const pending = whole.push(pcm16ToBytes(pcm));
    assert.ok(pending instanceof Promise, 'not converted in one synchronous step');
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const sliced = await pending;
    clearInterval(counting);
    assert.ok(turns > 0, 'other work ran while it converted');
    const framed = InputDecoder.create({ encoding: 'linear16', sampleRate: 48000 }, LISTEN_SAMPLE_RATE);
    const reference = decodeAll(framed, splitOddly(pcm16ToBytes(pcm)));
    assert.equal(sliced.length, reference.length);
    assert.ok(maxDifference(sliced, reference) === 0);
    whole.close();
    framed.close();
  });

  for (const [encoding, encode, decode] of [['mulaw', encodeMulaw, decodeMulaw], ['alaw', encodeAlaw, decodeAlaw]] as const) {
    it(`decodes 8 kHz ${encoding} and upsamples it to 16 kHz`, async () => {
      const codes = encode(tone(8000, 400));
      const decoder = InputDecoder.create({ encoding, sampleRate: 8000 }, 16000);
      const streamed = decodeAll(decoder, splitOddly(codes));
      const reference = await resampleBuffer(decode(codes), 8000, 16000);
      assert.ok(streamed.length > reference.length - 200);
      assert.ok(maxDifference(streamed, reference) <= 1);
      decoder.close();
    });
  }

  it('turns telephone audio of real speech back into close to the original', async () => {
    const { samples, sampleRate } = await readWavFile(LIBRIVOX);
    // The telephone band: everything the round trip cannot keep is above 4 kHz.
    const bandLimited = await resampleBuffer(await resampleBuffer(samples, sampleRate, 8000), 8000, sampleRate);
    const phone = encodeMulaw(await resampleBuffer(samples, sampleRate, 8000));
    const decoder = InputDecoder.create({ encoding: 'mulaw', sampleRate: 8000 }, LISTEN_SAMPLE_RATE);
    const decoded = decodeAll(decoder, splitOddly(phone));
    decoder.close();
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < decoded.length; i++) {
      const s = bandLimited[i] as number;
      signal += s * s;
      noise += (s - (decoded[i] as number)) ** 2;
    }
    const snrDb = 10 * Math.log10(signal / noise);
    assert.ok(snrDb > 25, `SNR ${snrDb.toFixed(1)} dB after mu-law and two resamplings`);
  });

  it('refuses formats it cannot decode', () => {
    assert.throws(() => InputDecoder.create({ encoding: 'linear16', sampleRate: 7000 }, 16000), RangeError);
    assert.throws(() => InputDecoder.create({ encoding: 'speex' as 'linear16', sampleRate: 16000 }, 16000), RangeError);
  });

  it('is unusable after close()', () => {
    const decoder = InputDecoder.create({ encoding: 'mulaw', sampleRate: 8000 }, 16000);
    decoder.close();
    assert.throws(() => decoder.push(new Uint8Array(160)), /after close/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENCODE_SLICE_MS, OutputEncoder } from '../../src/audio/output-encoder.js';
import type { EncodedAudio } from '../../src/audio/output-encoder.js';
import { decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/audio/g711.js';
import { pcm16FromBytes } from '../../src/audio/pcm16.js';
import { StreamingResampler, resampleBuffer } from '../../src/audio/resampler.js';
import { WAV_UNKNOWN_SIZE, parseWav } from '../../src/audio/wav.js';
import type { OutputAudioFormat } from '../../src/protocol/agent-config.js';

function tone(rate: number, ms: number, hz = 350): Int16Array {
  return Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)));
}

function concat(parts: readonly EncodedAudio[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map(asBytes)));
}

/** The PCM encodings come out as bytes. */
function asBytes(audio: EncodedAudio): Uint8Array {
  assert.ok(audio instanceof Uint8Array);
  return audio;
}

/** Encodes a whole utterance in 20 ms chunks at `rate`, awaiting each encode. */
async function encodeUtterance(encoder: OutputEncoder, samples: Int16Array, rate: number): Promise<Uint8Array> {
  const parts: EncodedAudio[] = [encoder.startUtterance()];
  const step = rate / 50;
  for (let i = 0; i < samples.length; i += step) parts.push(await encoder.encode({ samples: samples.subarray(i, i + step), sampleRate: rate }));
  parts.push(encoder.endUtterance());
  return concat(parts);
}

const MULAW_8K: OutputAudioFormat = { encoding: 'mulaw', sampleRate: 8000, container: 'none' };

describe('OutputEncoder', () => {
  it('writes linear16 little-endian unchanged at the same rate', async () => {
    const encoder = OutputEncoder.create({ encoding: 'linear16', sampleRate: 24000, container: 'none' });
    assert.equal(encoder.bytesPerMs, 48);
    const pcm = tone(24000, 100);
    const bytes = await encodeUtterance(encoder, pcm, 24000);
    assert.deepEqual(pcm16FromBytes(bytes), pcm);
    encoder.close();
  });

  it('resamples 24 kHz engine audio to 8 kHz mu-law, tail included', async () => {
    const encoder = OutputEncoder.create(MULAW_8K);
    assert.equal(encoder.bytesPerMs, 8);
    const pcm = tone(24000, 1000);
    const bytes = await encodeUtterance(encoder, pcm, 24000);
    assert.equal(bytes.length, 8000, 'one second of audio is 8000 mu-law bytes');
    assert.deepEqual(bytes, encodeMulaw(await resampleBuffer(pcm, 24000, 8000)));
    encoder.close();
  });

  it('is synchronous for a chunk of up to one slice, even the first at a new rate', () => {
    const encoder = OutputEncoder.create(MULAW_8K);
    assert.ok(encoder.encode({ samples: tone(16000, 20), sampleRate: 16000 }) instanceof Uint8Array);
    assert.ok(encoder.encode({ samples: tone(24000, ENCODE_SLICE_MS), sampleRate: 24000 }) instanceof Uint8Array);
    encoder.close();
  });

  it('converts a 30 s chunk one slice per event-loop turn, as if it came in 20 ms chunks', async (t) => {
    const pcm = tone(24000, 30_000);
    const calls: { samples: number; turn: number }[] = [];
    let turn = 0;
    let spinning = true;
    const spin = (): void => {
      turn++;
      if (spinning) setImmediate(spin);
    };
    const process = Object.getOwnPropertyDescriptor(StreamingResampler.prototype, 'process')?.value as (this: StreamingResampler, samples: Int16Array) => Int16Array;
    t.mock.method(StreamingResampler.prototype, 'process', function (this: StreamingResampler, samples: Int16Array) {
      calls.push({ samples: samples.length, turn });
      return process.call(this, samples);
    });
    const encoder = OutputEncoder.create(MULAW_8K);
    encoder.startUtterance();
    spin();
    const pending = encoder.encode({ samples: pcm, sampleRate: 24000 });
    assert.ok(pending instanceof Promise);
    const bytes = concat([await pending, encoder.endUtterance()]);
    spinning = false;
    t.mock.restoreAll();

    const slice = (24000 * ENCODE_SLICE_MS) / 1000;
    const slices = calls.slice(0, -1); // the last call is endUtterance()'s flush
    assert.equal(slices.length, 30_000 / ENCODE_SLICE_MS);
    assert.ok(slices.every((c) => c.samples <= slice), 'no step converts more than one slice');
    for (let i = 1; i < slices.length; i++) assert.ok((slices[i] as { turn: number }).turn > (slices[i - 1] as { turn: number }).turn, `slice ${i} ran in the same turn as the one before`);
    assert.equal(bytes.length, 30 * 8000);
    assert.deepEqual(bytes, await encodeUtterance(OutputEncoder.create(MULAW_8K), pcm, 24000));
    encoder.close();
  });

  it('startUtterance() abandons a long chunk still being converted', async () => {
    const encoder = OutputEncoder.create(MULAW_8K);
    encoder.startUtterance();
    const abandoned = encoder.encode({ samples: tone(24000, 5000, 2000), sampleRate: 24000 });
    const queued = encoder.encode({ samples: tone(24000, 20, 2000), sampleRate: 24000 });
    encoder.startUtterance();
    assert.equal((await abandoned).length, 0);
    assert.equal((await queued).length, 0, 'a call queued behind it belongs to the old utterance too');
    const pcm = tone(24000, 200);
    assert.deepEqual(await encodeUtterance(encoder, pcm, 24000), await encodeUtterance(OutputEncoder.create(MULAW_8K), pcm, 24000));
    encoder.close();
  });

  it('keeps call order when encode() is called again before a promise settles', async () => {
    const pcm = tone(22050, 300);
    const chunks = [0, 1, 2].map((k) => ({ samples: pcm.subarray(k * 2205, (k + 1) * 2205), sampleRate: 22050 }));
    const sequential = OutputEncoder.create(MULAW_8K);
    const expected: EncodedAudio[] = [];
    for (const c of chunks) expected.push(await sequential.encode(c));
    const eager = OutputEncoder.create(MULAW_8K);
    const results = await Promise.all(chunks.map((c) => Promise.resolve(eager.encode(c))));
    assert.deepEqual(results, expected);
    sequential.close();
    eager.close();
  });

  it('follows an engine that changes its rate, flushing the old rate first', async () => {
    const encoder = OutputEncoder.create({ encoding: 'alaw', sampleRate: 16000, container: 'none' });
    assert.equal(encoder.bytesPerMs, 16);
    const parts: EncodedAudio[] = [encoder.startUtterance()];
    parts.push(await encoder.encode({ samples: tone(24000, 200), sampleRate: 24000 }));
    parts.push(await encoder.encode({ samples: tone(8000, 200), sampleRate: 8000 }));
    parts.push(encoder.endUtterance());
    assert.equal(concat(parts).length, 2 * 3200);
    encoder.close();
  });

  it('starts each utterance with a WAV header of unknown length when the container is wav', async () => {
    const encoder = OutputEncoder.create({ encoding: 'mulaw', sampleRate: 8000, container: 'wav' });
    const file = await encodeUtterance(encoder, tone(8000, 100), 8000);
    const view = new DataView(file.buffer, file.byteOffset);
    assert.equal(view.getUint32(4, true), WAV_UNKNOWN_SIZE);
    const wav = parseWav(file);
    assert.equal(wav.encoding, 'mulaw');
    assert.equal(wav.data.length, 800);
    assert.deepEqual(decodeMulaw(wav.data), decodeMulaw(encodeMulaw(tone(8000, 100))));
    assert.deepEqual(encoder.startUtterance(), file.subarray(0, file.length - 800), 'every utterance gets a header');
    encoder.close();
  });

  it('sends no header without a container', () => {
    const encoder = OutputEncoder.create({ encoding: 'linear16', sampleRate: 16000, container: 'none' });
    assert.equal(encoder.startUtterance().length, 0);
    encoder.close();
  });

  it('startUtterance() discards what an interrupted utterance left in the filter', async () => {
    const interrupted = OutputEncoder.create(MULAW_8K);
    interrupted.startUtterance();
    await interrupted.encode({ samples: tone(24000, 300, 2000), sampleRate: 24000 });
    const fresh = OutputEncoder.create(MULAW_8K);
    const pcm = tone(24000, 200);
    assert.deepEqual(await encodeUtterance(interrupted, pcm, 24000), await encodeUtterance(fresh, pcm, 24000));
    interrupted.close();
    fresh.close();
  });

  it('encodes A-law', async () => {
    const encoder = OutputEncoder.create({ encoding: 'alaw', sampleRate: 8000, container: 'none' });
    const pcm = tone(8000, 60);
    assert.deepEqual(await encodeUtterance(encoder, pcm, 8000), encodeAlaw(pcm));
    encoder.close();
  });

  it('refuses unsupported formats and use after close()', () => {
    assert.throws(() => OutputEncoder.create({ encoding: 'linear16', sampleRate: 96000, container: 'none' }), RangeError);
    const encoder = OutputEncoder.create(MULAW_8K);
    encoder.close();
    assert.throws(() => encoder.encode({ samples: tone(8000, 20), sampleRate: 8000 }), /after close/);
  });
});

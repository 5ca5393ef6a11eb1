import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingResampler, prepareResampler, resampleBuffer } from '../../src/audio/resampler.js';
import { concatPcm16 } from '../../src/audio/pcm16.js';
import { toneAmplitude } from '../support/tone-level.js';

const RATES = [8000, 16000, 24000, 44100, 48000];
const TONE_HZ = 440;
const AMPLITUDE = 12000;

function sine(rate: number, ms: number, hz = TONE_HZ): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  return Int16Array.from({ length: n }, (_, i) => Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * i) / rate)));
}

/** Deterministic chunk sizes from 1 to 1500 samples. */
function* chunkSizes(seed: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 16807) % 2147483647;
    yield 1 + (state % 1500);
  }
}

function processInChunks(resampler: StreamingResampler, input: Int16Array, seed: number): Int16Array {
  const parts: Int16Array[] = [];
  const sizes = chunkSizes(seed);
  for (let start = 0; start < input.length; ) {
    const size = sizes.next().value as number;
    parts.push(resampler.process(input.subarray(start, start + size)));
    start += size;
  }
  parts.push(resampler.flush());
  return concatPcm16(parts);
}

/** Rising zero crossings per second over the middle of the signal. */
function measuredFrequency(samples: Int16Array, rate: number): number {
  const from = Math.floor(samples.length * 0.1);
  const to = Math.floor(samples.length * 0.9);
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = from + 1; i < to; i++) {
    if ((samples[i - 1] as number) < 0 && (samples[i] as number) >= 0) {
      if (first < 0) first = i;
      else crossings++;
      last = i;
    }
  }
  return (crossings * rate) / (last - first);
}

/** Level of the `hz` component relative to `AMPLITUDE`, in dB. */
function levelDb(samples: Int16Array, rate: number, hz: number): number {
  const amplitude = toneAmplitude(samples, rate, hz);
  return 20 * Math.log10(Math.max(amplitude, 1e-9) / AMPLITUDE);
}

function convert(input: Int16Array, from: number, to: number): Int16Array {
  const resampler = new StreamingResampler(from, to);
  return Int16Array.from([...resampler.process(input), ...resampler.flush()]);
}

describe('StreamingResampler', () => {
  for (const from of RATES) {
    for (const to of RATES) {
      if (from === to) continue;
      it(`${from} → ${to} Hz: chunked equals one-shot, keeps the tone, runs smoothly`, async () => {
        const input = sine(from, 500);
        const resampler = new StreamingResampler(from, to);
        const chunked = processInChunks(resampler, input, from + to);
        resampler.destroy();
        const oneShot = await resampleBuffer(input, from, to);

        assert.equal(chunked.length, Math.round((input.length * to) / from));
        assert.deepEqual(chunked, oneShot);

        assert.ok(Math.abs(measuredFrequency(chunked, to) - TONE_HZ) < 2, 'tone frequency preserved');

        // A pure tone's slope never exceeds 2π·f·A per second; a click at a chunk seam would.
        const maxStep = ((2 * Math.PI * TONE_HZ * AMPLITUDE) / to) * 1.05 + 2;
        const edge = Math.ceil(to / 100);
        for (let i = edge; i < chunked.length - edge; i++) {
          const step = Math.abs((chunked[i] as number) - (chunked[i - 1] as number));
          assert.ok(step <= maxStep, `jump of ${step} at sample ${i}`);
        }
      });
    }
  }

  it('tracks input × ratio while streaming, holding back only the filter delay', () => {
    const resampler = new StreamingResampler(16000, 24000);
    let input = 0;
    let output = 0;
    for (let frame = 0; frame < 50; frame++) {
      output += resampler.process(sine(16000, 20)).length;
      input += 320;
      const expected = input * 1.5;
      assert.ok(output <= expected && output >= expected - 120, `frame ${frame}: ${output} of ${expected}`);
    }
    resampler.destroy();
  });

  it('passes audio through unchanged when the rates are equal', () => {
    const resampler = new StreamingResampler(16000, 16000);
    const input = sine(16000, 20);
    assert.equal(resampler.process(input), input);
    assert.equal(resampler.flush().length, 0);
    resampler.destroy();
  });

  it('reset() forgets the previous stream', () => {
    const fresh = new StreamingResampler(24000, 8000);
    const reused = new StreamingResampler(24000, 8000);
    reused.process(sine(24000, 100, 1000));
    reused.reset();
    const input = sine(24000, 100);
    assert.deepEqual(reused.process(input), fresh.process(input));
    assert.deepEqual(reused.flush(), fresh.flush());
    fresh.destroy();
    reused.destroy();
  });

  it('refuses use after destroy()', () => {
    const resampler = new StreamingResampler(8000, 16000);
    resampler.destroy();
    resampler.destroy();
    assert.throws(() => resampler.process(sine(8000, 20)), /after destroy/);
  });

  it('resampleBuffer() lets the event loop run while converting a long buffer', async () => {
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    spin();
    const out = await resampleBuffer(sine(48000, 10_000), 48000, 16000);
    spinning = false;
    assert.equal(out.length, 160_000);
    assert.ok(turns > 5, `the event loop turned ${turns} times`);
  });

  // 11025 → 48000 and 47999 → 8000 reduce to more phases than the table holds: interpolated rows.
  for (const [from, to] of [[22050, 8000], [11025, 48000], [47999, 8000], [32000, 44100]] as const) {
    it(`${from} → ${to} Hz: every chunking, down to single samples, gives the same samples`, () => {
      const input = sine(from, 300, 1234);
      const whole = convert(input, from, to);
      assert.equal(whole.length, Math.round((input.length * to) / from));
      for (const seed of [1, 99, 4242]) assert.deepEqual(processInChunks(new StreamingResampler(from, to), input, seed), whole);
      const bySample = new StreamingResampler(from, to);
      const parts: number[] = [];
      for (let i = 0; i < 2000; i++) parts.push(...bySample.process(input.subarray(i, i + 1)));
      parts.push(...bySample.process(input.subarray(2000)), ...bySample.flush());
      assert.deepEqual(Int16Array.from(parts), whole);
    });
  }

  it('flush() brings every stream to exactly round(input × ratio) samples and starts a new one', () => {
    const resampler = new StreamingResampler(44100, 8000);
    for (const length of [0, 1, 5, 6, 441, 1000, 44101]) {
      const input = sine(44100, 1000).subarray(0, length);
      const out = [...resampler.process(input), ...resampler.flush()];
      assert.equal(out.length, Math.round((length * 8000) / 44100), `${length} input samples`);
      assert.deepEqual(Int16Array.from(out), convert(input, 44100, 8000), 'state after flush() is that of a new stream');
    }
  });

  it('24 → 8 kHz keeps the telephone band flat and lets nothing alias into it', () => {
    for (const hz of [300, 1000, 3400]) {
      const gain = levelDb(convert(sine(24000, 500, hz), 24000, 8000), 8000, hz);
      assert.ok(Math.abs(gain) < 0.1, `${hz} Hz: ${gain.toFixed(3)} dB`);
    }
    // Above 4 kHz a tone folds back: 5 kHz to 3 kHz, 4.6 to 3.4, 7.5 to 0.5.
    for (const hz of [4600, 5000, 7500]) {
      const alias = levelDb(convert(sine(24000, 500, hz), 24000, 8000), 8000, 8000 - hz);
      assert.ok(alias < -85, `${hz} Hz aliases to ${8000 - hz} Hz at ${alias.toFixed(1)} dB`);
    }
  });

  it('16 → 24 kHz keeps 7 kHz and leaves no image above 8 kHz', () => {
    const out = convert(sine(16000, 500, 7000), 16000, 24000);
    assert.ok(Math.abs(levelDb(out, 24000, 7000)) < 0.1);
    // Upsampling mirrors a 7 kHz tone about the old Nyquist frequency, to 9 kHz.
    assert.ok(levelDb(out, 24000, 9000) < -85);
  });

  it('keeps per-stream state small: the filter is shared by the rate pair', () => {
    prepareResampler(48000, 8000);
    const streams = Array.from({ length: 200 }, () => new StreamingResampler(48000, 8000));
    const before = process.memoryUsage().arrayBuffers;
    const more = Array.from({ length: 200 }, () => new StreamingResampler(48000, 8000));
    const perStream = (process.memoryUsage().arrayBuffers - before) / more.length;
    assert.ok(perStream < 4096, `${perStream} bytes of buffers per stream`);
    assert.equal(streams.length + more.length, 400);
  });

  it('refuses rates outside 1–192 kHz', () => {
    assert.throws(() => new StreamingResampler(999, 16000), RangeError);
    assert.throws(() => prepareResampler(16000, 8000.5), RangeError);
  });
});

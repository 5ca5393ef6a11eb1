import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingResampler, resampleBuffer } from '../../src/audio/resampler.js';

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
  const out = new Int16Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
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

describe('StreamingResampler', () => {
  for (const from of RATES) {
    for (const to of RATES) {
      if (from === to) continue;
      it(`${from} → ${to} Hz: chunked equals one-shot, keeps the tone, runs smoothly`, async () => {
        const input = sine(from, 500);
        const resampler = await StreamingResampler.create(from, to);
        const chunked = processInChunks(resampler, input, from + to);
        resampler.destroy();
        const oneShot = await resampleBuffer(input, from, to);

        assert.equal(chunked.length, Math.round((input.length * to) / from));
        assert.equal(oneShot.length, chunked.length);
        let maxDiff = 0;
        for (let i = 0; i < chunked.length; i++) maxDiff = Math.max(maxDiff, Math.abs((chunked[i] as number) - (oneShot[i] as number)));
        assert.ok(maxDiff <= 1, `chunked differs from one-shot by ${maxDiff}`);

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

  it('tracks input × ratio while streaming, holding back only the filter delay', async () => {
    const resampler = await StreamingResampler.create(16000, 24000);
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

  it('passes audio through unchanged when the rates are equal', async () => {
    const resampler = await StreamingResampler.create(16000, 16000);
    const input = sine(16000, 20);
    assert.equal(resampler.process(input), input);
    assert.equal(resampler.flush().length, 0);
    resampler.destroy();
  });

  it('reset() forgets the previous stream', async () => {
    const fresh = await StreamingResampler.create(24000, 8000);
    const reused = await StreamingResampler.create(24000, 8000);
    reused.process(sine(24000, 100, 1000));
    reused.reset();
    const input = sine(24000, 100);
    assert.deepEqual(reused.process(input), fresh.process(input));
    assert.deepEqual(reused.flush(), fresh.flush());
    fresh.destroy();
    reused.destroy();
  });

  it('refuses use after destroy()', async () => {
    const resampler = await StreamingResampler.create(8000, 16000);
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
});

// The pre-gate before Silero (src/listen/vad/vad-segmenter.ts) never loses or moves an utterance:
// on every speech fixture, Silero asleep on quiet windows hears the same utterances as Silero run
// on every window. Also where each utterance's speech ended, in samples, which latency counts from.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { InputDecoder } from '../../../src/audio/input-decoder.js';
import { VadSegmenter } from '../../../src/listen/vad/vad-segmenter.js';
import { DEFAULT_TURN_SETTINGS } from '../../../src/listen/vad/turn-settings.js';
import { cardsClips, fixturePath, librivoxClips, readPcm16 } from '../../support/fixtures.js';

const RATE = 16000;
const LEAD = RATE;
const TAIL = RATE * 1.5;

/** The utterances a segmenter finds: the sample of the window that started each, and where its speech ended. */
function utterances(samples: Int16Array, ungated: boolean): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  let written = 0;
  const segmenter = new VadSegmenter(
    DEFAULT_TURN_SETTINGS,
    {
      start: () => found.push({ start: written, end: -1 }),
      audio: () => undefined,
      end: (speechEndSample) => {
        const last = found.at(-1);
        if (last !== undefined) last.end = speechEndSample;
      },
    },
    ungated,
  );
  try {
    for (let offset = 0; offset < samples.length; offset += 320) {
      written = Math.min(samples.length, offset + 320);
      segmenter.write(samples.subarray(offset, offset + 320));
    }
  } finally {
    segmenter.close();
  }
  return found;
}

/** A second of quiet, the clip, a second and a half of quiet; the quiet is a noise floor of `noiseDbfs` (none: digital silence). */
function onLine(clip: Int16Array, noiseDbfs?: number): Int16Array {
  const out = new Int16Array(LEAD + clip.length + TAIL);
  out.set(clip, LEAD);
  if (noiseDbfs === undefined) return out;
  // A fixed linear congruential sequence: the same noise on every run.
  let seed = 1;
  const amplitude = 32768 * 10 ** (noiseDbfs / 20) * Math.sqrt(12);
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = Math.max(-32768, Math.min(32767, (out[i] ?? 0) + Math.round((seed / 0x7fffffff - 0.5) * amplitude)));
  }
  return out;
}

/** A clip as a phone line carries it (sox to 8 kHz mu-law), decoded as the server decodes a call. */
async function phoneLine(path: string): Promise<Int16Array> {
  const mulaw = execFileSync('sox', ['-V1', path, '-t', 'raw', '-r', '8000', '-e', 'mu-law', '-c', '1', '-']);
  const decoder = InputDecoder.create({ encoding: 'mulaw', sampleRate: 8000 }, RATE);
  try {
    return await decoder.push(new Uint8Array(mulaw));
  } finally {
    decoder.close();
  }
}

test('Silero woken by the pre-gate hears the same utterances as Silero on every window, on every speech fixture', async () => {
  const clips = [...librivoxClips(), ...cardsClips(), { id: 'jfk', path: await fixturePath('jfk') }];
  const goforward = readPcm16(await fixturePath('goforward')).samples;
  const cases: [string, Int16Array][] = [['goforward', onLine(goforward)], ['goforward over -65 dBFS noise', onLine(goforward, -65)]];
  for (const clip of clips) {
    const { samples } = readPcm16(clip.path);
    cases.push([clip.id, onLine(samples)], [`${clip.id} over -65 dBFS noise`, onLine(samples, -65)], [`${clip.id} over -58 dBFS noise`, onLine(samples, -58)], [`${clip.id} as 8 kHz mu-law`, onLine(await phoneLine(clip.path))]);
  }
  const differ: string[] = [];
  let heard = 0;
  for (const [name, samples] of cases) {
    const awake = utterances(samples, true);
    const gated = utterances(samples, false);
    heard += awake.length;
    if (JSON.stringify(gated) !== JSON.stringify(awake)) differ.push(`${name}: ${JSON.stringify(gated)} instead of ${JSON.stringify(awake)}`);
  }
  assert.ok(heard >= cases.length, 'every case holds speech');
  assert.deepEqual(differ, []);
});

test('an utterance ends where its speech did, before the endpointing silence, in samples of the stream', async () => {
  const { samples } = readPcm16(await fixturePath('goforward'));
  // The last 20 ms frame above -40 dBFS: where the speech ends.
  let last = 0;
  for (let f = 0; (f + 1) * 320 <= samples.length; f++) {
    let sum = 0;
    for (let i = f * 320; i < (f + 1) * 320; i++) sum += (samples[i] ?? 0) ** 2;
    if (Math.sqrt(sum / 320) > 32768 * 10 ** (-40 / 20)) last = (f + 1) * 320;
  }
  const [utterance, ...more] = utterances(onLine(samples), false);
  assert.deepEqual(more, []);
  assert.ok(utterance !== undefined);
  const speechEnd = LEAD + last;
  // Silero lets go within a few windows of the speech's end; the turn is reported an endpointing later.
  assert.ok(Math.abs(utterance.end - speechEnd) <= 8 * 512, `speech ended at ${utterance.end}, the audio's at ${speechEnd}`);
  assert.ok(utterance.end < speechEnd + (DEFAULT_TURN_SETTINGS.endpointingMs * RATE) / 2000, 'not at the end of the endpointing silence');
});

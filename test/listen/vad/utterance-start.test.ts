// min_speech_ms decides whether a sound is long enough to be speech; it must not move where an
// utterance's audio begins (src/listen/vad/vad-segmenter.ts, PRE_SPEECH_MS). The recognizer's
// reading of a turn hangs on its first frames: 24 ms more of them turned JFK's third utterance
// from "white your country can do for you" into garbage (docs/turn-taking.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VadSegmenter } from '../../../src/listen/vad/vad-segmenter.js';
import { DEFAULT_TURN_SETTINGS } from '../../../src/listen/vad/turn-settings.js';
import { fixturePath, librivoxClips, readPcm16 } from '../../support/fixtures.js';

const RATE = 16000;

/** The stream sample at which each utterance's audio (its pre-roll first) begins, at `minSpeechMs`. */
function utteranceStarts(samples: Int16Array, minSpeechMs: number): number[] {
  const starts: number[] = [];
  let written = 0;
  const segmenter = new VadSegmenter({ ...DEFAULT_TURN_SETTINGS, minSpeechMs }, {
    // The pre-roll ends with the window just written.
    start: (preRoll) => starts.push(written - preRoll.length),
    audio: () => undefined,
    end: () => undefined,
  });
  try {
    for (let offset = 0; offset < samples.length; offset += 512) {
      written = Math.min(samples.length, offset + 512);
      segmenter.write(samples.subarray(offset, offset + 512));
    }
  } finally {
    segmenter.close();
  }
  return starts;
}

test('an utterance heard at several min_speech_ms begins at the same sample at each (real speech)', async () => {
  const clips = [await fixturePath('jfk'), ...librivoxClips().slice(0, 2).map((clip) => clip.path)];
  for (const path of clips) {
    const clip = readPcm16(path).samples;
    const line = new Int16Array(RATE + clip.length + RATE * 1.5);
    line.set(clip, RATE);
    const at160 = utteranceStarts(line, 160);
    assert.ok(at160.length > 0, `${path}: no utterance`);
    for (const minSpeechMs of [100, 200, 250]) assert.deepEqual(utteranceStarts(line, minSpeechMs), at160, `${path} at min_speech_ms ${minSpeechMs}`);
  }
});

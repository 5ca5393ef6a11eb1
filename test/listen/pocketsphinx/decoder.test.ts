// One pocketsphinx decoder's readings do not depend on what it decoded before (issue 11's
// deterministic recognition): decoders are shared by the sessions of a thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PocketsphinxDecoder } from '../../../src/listen/pocketsphinx/decoder.js';
import type { Reading, Search } from '../../../src/listen/pocketsphinx/decoder.js';
import { CARDS_GRAMMAR, cardsClips, librivoxClips, readPcm16 } from '../../support/fixtures.js';

/** 32 ms: the windows the VAD hands an utterance over in. */
const WINDOW = 512;
const windows = (samples: Int16Array): number[] => Array.from({ length: Math.ceil(samples.length / WINDOW) }, () => WINDOW);

test('state carry-over: a decoder reads a clip the same (words and score), whole or live, freshly loaded or after any other utterance, any search', () => {
  const cards = readFileSync(CARDS_GRAMMAR, 'utf8');
  const speech = [librivoxClips()[0]!, cardsClips()[0]!, librivoxClips()[2]!].map((c) => readPcm16(c.path).samples);
  const [probe, card] = [readPcm16(librivoxClips()[1]!.path).samples, readPcm16(cardsClips()[4]!.path).samples];
  const read = (decoder: PocketsphinxDecoder): Reading[] => {
    const live = (search: Search, samples: Int16Array): Reading => decoder.decode(search, samples, decoder.initialMean, windows(samples));
    return [decoder.decode('lm', probe), live('lm', probe), decoder.decode({ jsgf: cards }, card), live({ jsgf: cards }, card), live('lm', card)];
  };
  const fresh = read(PocketsphinxDecoder.load());
  assert.ok(fresh[0]!.text.split(' ').length > 5, 'the probe is heard as speech');
  // Live decodes of other speech before (the front end's noise tracking and its first frames
  // carried over), in the search of the probe or another.
  const used = PocketsphinxDecoder.load();
  for (const [n, other] of speech.entries()) {
    used.decode(n % 2 === 0 ? 'lm' : { jsgf: cards }, other, used.initialMean, windows(other));
    assert.deepEqual(read(used), fresh, `after utterance ${n}`);
  }
});

test('state carry-over: the phone loop reads a clip the same after other utterances', () => {
  const probe = readPcm16(cardsClips()[2]!.path).samples;
  const loop = PocketsphinxDecoder.loadPhoneLoop();
  const live = (samples: Int16Array): Reading => loop.decode('phones', samples, loop.initialMean, windows(samples));
  const first = [loop.decode('phones', probe), live(probe)];
  for (const clip of librivoxClips().slice(0, 2)) {
    live(readPcm16(clip.path).samples);
    assert.deepEqual([loop.decode('phones', probe), live(probe)], first);
  }
});

test('scoring every senone changes a reading\'s score, never its words or where they lie', () => {
  const cards = readFileSync(CARDS_GRAMMAR, 'utf8');
  const plain = PocketsphinxDecoder.load();
  const all = PocketsphinxDecoder.load(undefined, { scoreAllSenones: true });
  for (const [search, clip] of [['lm', librivoxClips()[1]!], [{ jsgf: cards }, cardsClips()[3]!]] as const) {
    const samples = readPcm16(clip.path).samples;
    const [a, b] = [plain.decode(search, samples), all.decode(search, samples)];
    assert.ok(a.text !== '', 'the clip is heard');
    assert.deepEqual({ ...b, score: a.score }, a);
    // Relative to the best of every senone, not only of those the search touched: lower.
    assert.ok(b.score < a.score, `${b.score} < ${a.score}`);
  }
});

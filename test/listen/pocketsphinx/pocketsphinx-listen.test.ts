import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MAX_GRAMMAR_CHARS, createLocalListen, createLocalListenFactory } from '../../../src/listen/pocketsphinx/pocketsphinx-listen.js';
import { closeClassicPools } from '../../../src/runtime/classic-pools.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ProviderContext } from '../../../src/core/provider-context.js';
import type { ListenSettings } from '../../../src/protocol/agent-config.js';
import { CARDS_GRAMMAR, JFK_TRANSCRIPT, cardsClips, fixturePath, librivoxClips, readPcm16 } from '../../support/fixtures.js';
import { wordErrors } from '../../support/wer.js';
import { concat, listenTo, silence } from './pocketsphinx-listen-support.js';

after(closeClassicPools);

function context(env: Record<string, string> = {}): ProviderContext {
  return { env, logger: silentLogger(), warn: () => {} };
}

const settings = (extra: Record<string, unknown> = {}): ListenSettings => ({ provider: { type: 'local', ...extra } });

test('open-vocabulary WER on real speech (LibriVox ×5 + JFK) is within 5 points of the measured 39.8 %', async () => {
  const clips = [...librivoxClips(), { id: 'jfk', path: await fixturePath('jfk'), transcript: JFK_TRANSCRIPT }];
  const provider = createLocalListen(settings(), context());
  let errors = 0;
  let words = 0;
  for (const clip of clips) {
    const heard = await listenTo(provider, concat([silence(500), readPcm16(clip.path).samples, silence(1500)]));
    assert.ok(heard.turns.length >= 1, `${clip.id}: no turn detected`);
    const counted = wordErrors(clip.transcript, heard.turns.join(' '));
    errors += counted.errors;
    words += counted.words;
  }
  const wer = (100 * errors) / words;
  assert.ok(wer <= 44.8, `WER ${wer.toFixed(1)} % over ${words} words`);
});

test('the VAD cuts a recording of five utterances into five turns, each opened by speechStarted', async () => {
  const clips = librivoxClips();
  const audio = concat(clips.flatMap((clip) => [silence(1500), readPcm16(clip.path).samples]).concat([silence(1500)]));
  const heard = await listenTo(createLocalListen(settings(), context()), audio);
  const kinds = heard.events.filter((e) => e.t !== 'interim').map((e) => e.t);
  assert.deepEqual(kinds, clips.flatMap(() => ['speechStarted', 'endOfTurn']));
  assert.ok(heard.events.some((e) => e.t === 'interim'), 'partial transcripts while the user speaks');
  assert.ok(heard.turns.every((text) => text !== ''));
});

test('silence and a click shorter than min_speech_ms start no turn', async () => {
  const click = new Int16Array(1600).map((_, i) => (i % 2 === 0 ? 12000 : -12000));
  const speech = readPcm16(librivoxClips()[1]?.path ?? '').samples;
  const audio = concat([silence(1000), click, silence(1500), speech, silence(1500)]);
  const heard = await listenTo(createLocalListen(settings(), context()), audio);
  assert.deepEqual(
    heard.events.filter((e) => e.t !== 'interim').map((e) => e.t),
    ['speechStarted', 'endOfTurn'],
    'only the speech makes a turn',
  );
});

test('with the cards JSGF grammar the cards clips are recognized almost perfectly', async () => {
  const grammar = readFileSync(CARDS_GRAMMAR, 'utf8');
  const provider = createLocalListenFactory({ grammar })(settings(), context());
  assert.match(provider.label, /grammar/);
  let errors = 0;
  let words = 0;
  for (const clip of cardsClips()) {
    const heard = await listenTo(provider, concat([silence(500), readPcm16(clip.path).samples, silence(1500)]));
    const counted = wordErrors(clip.transcript, heard.turns.join(' '));
    errors += counted.errors;
    words += counted.words;
  }
  assert.ok((100 * errors) / words <= 10, `cards WER ${((100 * errors) / words).toFixed(1)} %`);
});

test('endpointing (session setting, else env) decides how much silence ends the turn', async () => {
  const speech = readPcm16(librivoxClips()[1]?.path ?? '').samples;
  const audio = concat([silence(500), speech, silence(1000)]);
  const turnsEnded = async (extra: Record<string, unknown>, env: Record<string, string>): Promise<number> => {
    let started = 0;
    let ended = 0;
    const stream = await createLocalListen(settings(extra), context(env)).open({
      speechStarted: () => started++,
      interim: () => {},
      endOfTurn: () => ended++,
      failed: (error) => assert.fail(error),
    });
    try {
      stream.write(audio);
      const deadline = Date.now() + 20000;
      while (started === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // Until the turn ends, or long enough for the clip to be heard through at a real-time
      // factor of 0.5 (a fixed 2.5 s fell short where pocketsphinx ran at 0.52).
      const heard = Date.now() + 8000;
      while (ended === 0 && Date.now() < heard) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(started, 1);
      return ended;
    } finally {
      stream.close();
    }
  };
  assert.equal(await turnsEnded({ endpointing: 300 }, { PARLEY_ENDPOINTING_MS: '1800' }), 1, '1 s of silence > 300 ms');
  assert.equal(await turnsEnded({}, { PARLEY_ENDPOINTING_MS: '1800' }), 0, '1 s of silence < 1800 ms');
});

test('forceEndTurn finalizes the utterance without waiting for silence', async () => {
  const speech = readPcm16(librivoxClips()[1]?.path ?? '').samples;
  const texts: string[] = [];
  let started = 0;
  const stream = await createLocalListen(settings(), context()).open({
    speechStarted: () => started++,
    interim: () => {},
    endOfTurn: (text) => texts.push(text),
    failed: (error) => assert.fail(error),
  });
  try {
    stream.write(concat([silence(300), speech]));
    assert.equal(stream.forceEndTurn(), true);
    const deadline = Date.now() + 30000;
    while (texts.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(started, 1);
    assert.equal(texts.length, 1);
    assert.ok(wordErrors('he was not an ill disposed young man', texts[0] ?? '').errors <= 4, texts[0]);
  } finally {
    stream.close();
  }
});

test('an invalid grammar fails open() with a ProviderError, a bad setting with INVALID_SETTINGS', async () => {
  const provider = createLocalListenFactory({ grammar: '#JSGF V1.0; grammar broken; public <a> = ( ;' })(settings(), context());
  await assert.rejects(provider.open({ speechStarted() {}, interim() {}, endOfTurn() {}, failed() {} }), {
    name: 'ProviderError',
  });
  assert.throws(() => createLocalListen(settings({ vad_threshold: 3 }), context()), { code: 'INVALID_SETTINGS' });
});

test('a grammar longer than the bound is INVALID_SETTINGS naming where it came from, before any thread compiles it', () => {
  const huge = `#JSGF V1.0; grammar huge; public <a> = ${Array.from({ length: MAX_GRAMMAR_CHARS / 4 }, (_, i) => `w${i}`).join(' | ')};`;
  assert.ok(huge.length > MAX_GRAMMAR_CHARS);
  assert.throws(() => createLocalListen(settings({ grammar: huge }), context()), { code: 'INVALID_SETTINGS', message: /agent\.listen\.provider\.grammar has \d+ characters/ });
  assert.throws(() => createLocalListenFactory({ grammar: huge })(settings(), context()), { code: 'INVALID_SETTINGS', message: /compiled from agent\.think\.provider\.rules/ });
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomWhisperGgml } from '../../support/random-models/whisper-ggml.js';
import { librivoxClips, readPcm16 } from '../../support/fixtures.js';
import { concat, listenTo, silence } from '../pocketsphinx/pocketsphinx-listen-support.js';
import { WhisperEngine } from '../../../src/listen/whisper/whisper-engine.js';
import { createWhisperListen } from '../../../src/listen/whisper/whisper-listen.js';
import { silentLogger } from '../../../src/core/logger.js';

const modelPath = join(mkdtempSync(join(tmpdir(), 'parley-whisper-')), 'ggml-random.bin');
let engine: WhisperEngine;
const ctx = { env: {}, logger: silentLogger(), warn: () => undefined };

before(() => {
  writeRandomWhisperGgml(modelPath, { favourite: ' hello' });
  engine = new WhisperEngine({ modelPath, threads: 2 });
});
after(() => engine.close());

test('the random ggml model loads in smart-whisper and an utterance transcribes in the worker', async () => {
  const clip = librivoxClips()[0];
  assert.ok(clip !== undefined);
  const text = await engine.transcribe(readPcm16(clip.path).samples);
  assert.match(text, /^hello( hello)*$/);
});

test('each VAD turn is transcribed as soon as it ends, in order', async () => {
  const clips = librivoxClips().slice(0, 2).map((c) => readPcm16(c.path).samples);
  const audio = concat([silence(500), ...clips.flatMap((c) => [c, silence(1500)])]);
  const provider = createWhisperListen({ provider: { type: 'whisper', endpointing: 700 } }, ctx, { engine });
  const heard = await listenTo(provider, audio);
  assert.equal(heard.events[0]?.t, 'speechStarted');
  assert.ok(heard.turns.length >= 2, `turns: ${JSON.stringify(heard.turns)}`);
  for (const turn of heard.turns) assert.match(turn, /^hello( hello)*$/);
});

test('forceEndTurn finalizes the utterance in progress', async () => {
  const clip = librivoxClips()[1];
  assert.ok(clip !== undefined);
  const speech = readPcm16(clip.path).samples;
  const provider = createWhisperListen({ provider: { type: 'whisper' } }, ctx, { engine });
  const texts: string[] = [];
  let started = 0;
  const ended = new Promise<void>((resolve, reject) => {
    void provider
      .open({
        speechStarted: () => started++,
        interim: () => undefined,
        endOfTurn: (text) => {
          texts.push(text);
          resolve();
        },
        failed: reject,
      })
      .then((stream) => {
        stream.write(speech.subarray(0, Math.floor(speech.length / 2)));
        setTimeout(() => assert.equal(stream.forceEndTurn(), true), 300);
        void ended.finally(() => stream.close());
      });
  });
  await ended;
  assert.equal(started, 1);
  assert.match(texts[0] ?? '', /^hello/);
});

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFliteSpeak } from '../../../src/speak/flite/flite-speak.js';
import { createLocalListen } from '../../../src/listen/pocketsphinx/pocketsphinx-listen.js';
import { closeClassicPools } from '../../../src/runtime/classic-pools.js';
import { silentLogger } from '../../../src/core/logger.js';
import type { ProviderContext } from '../../../src/core/provider-context.js';
import type { PcmChunk } from '../../../src/speak/types.js';
import { wordErrors } from '../../support/wer.js';
import { concat, listenTo, silence } from '../../listen/pocketsphinx/pocketsphinx-listen-support.js';

after(closeClassicPools);

const context = (env: Record<string, string> = {}): ProviderContext => ({ env, logger: silentLogger(), warn: () => {} });

async function speak(text: string, provider: Record<string, unknown> = {}, signal = new AbortController().signal): Promise<PcmChunk[]> {
  const chunks: PcmChunk[] = [];
  for await (const chunk of createFliteSpeak({ provider: { type: 'flite', ...provider } }, context()).synthesize(text, signal)) {
    chunks.push(chunk);
  }
  return chunks;
}

test('a synthesized sentence transcribes back through pocketsphinx', async () => {
  const sentence = 'Your appointment with doctor Smith is confirmed for Tuesday morning at ten thirty downtown';
  const chunks = await speak(sentence);
  assert.ok(chunks.length > 10, 'streamed in several chunks');
  assert.ok(chunks.every((c) => c.sampleRate === 16000));
  const audio = concat([silence(500), ...chunks.map((c) => c.samples), silence(1500)]);
  const seconds = audio.length / 16000;
  assert.ok(seconds > 5 && seconds < 9, `${seconds} s of audio`);
  const heard = await listenTo(createLocalListen({ provider: { type: 'local' } }, context()), audio);
  const { errors, words } = wordErrors(sentence, heard.turns.join(' '));
  assert.ok(errors / words <= 0.25, `heard "${heard.turns.join(' ')}"`);
});

test('voices are selected by voice, by model name, and fall back to rms', async () => {
  const lengths = async (provider: Record<string, unknown>): Promise<number> =>
    (await speak('Hello there, how are you?', provider)).reduce((n, c) => n + c.samples.length, 0);
  const kal16 = await lengths({ voice: 'kal16' });
  const slt = await lengths({ model: 'flite-slt' });
  const rms = await lengths({ model: 'aura-asteria-en' });
  assert.equal(await lengths({}), rms);
  assert.notEqual(kal16, slt);
  assert.notEqual(slt, rms);
  assert.equal(createFliteSpeak({ provider: { type: 'flite', model: 'awb' } }, context()).label, 'flite/awb');
  assert.equal(createFliteSpeak({ provider: { type: 'flite' } }, context({ PARLEY_FLITE_VOICE: 'slt' })).label, 'flite/slt');
  assert.throws(() => createFliteSpeak({ provider: { type: 'flite', voice: 'nope' } }, context()), { code: 'INVALID_SETTINGS' });
});

test('aborting mid-sentence stops the stream without an error', async () => {
  const controller = new AbortController();
  const chunks: PcmChunk[] = [];
  const provider = createFliteSpeak({ provider: { type: 'flite' } }, context());
  for await (const chunk of provider.synthesize('This sentence is long enough to produce many chunks of audio for the test.', controller.signal)) {
    chunks.push(chunk);
    if (chunks.length === 2) controller.abort();
  }
  assert.equal(chunks.length, 2);
  assert.deepEqual(await speak('   '), [], 'blank text makes no audio');
});

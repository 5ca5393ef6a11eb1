// Turn-taking with real speech through the local listener (Silero VAD + pocketsphinx, its open
// language model), on the session harness's fake clock: every figure is in the test's audio time.
// Speech is espeak-ng's (test/support/spoken-phrases.ts) or human (Debian pocketsphinx-testdata).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { concatPcm16 } from '../../src/audio/pcm16.js';
import { SessionHarness } from '../support/session-harness.js';
import { inlineLocalListen } from '../support/inline-local-listen.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { heldEndpoint } from '../support/held-endpoint.js';
import { fixturePath, readPcm16, TESTDATA_DIR } from '../support/fixtures.js';
import { spoken } from '../support/spoken-phrases.js';

const GREETING = 'Hello there, this is a rather long greeting. It goes on for a while. And then some more. Still talking here.';
/** The scripted voice speaks 40 ms per character. */
const MS_PER_CHAR = 40;

function providers(): ReturnType<typeof scriptedProviders> {
  const registry = scriptedProviders();
  registry.listen.register('local', inlineLocalListen);
  return registry;
}

const agent = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  listen: { provider: { type: 'local' } },
  think: { provider: { type: 'scripted' } },
  speak: { provider: { type: 'scripted' } },
  greeting: GREETING,
  ...extra,
});

/** 20 ms frames of a clip above about -40 dBFS. */
function voicedFrames(samples: Int16Array): number[] {
  const frames: number[] = [];
  for (let start = 0; start + 320 <= samples.length; start += 320) {
    let energy = 0;
    for (let i = start; i < start + 320; i++) energy += (samples[i] ?? 0) ** 2;
    if (Math.sqrt(energy / 320) > 330) frames.push(start);
  }
  if (frames.length === 0) throw new Error('no speech in the clip');
  return frames;
}

/** Where speech begins in a clip (ms): its first voiced frame. */
const speechStartMs = (samples: Int16Array): number => (voicedFrames(samples)[0] ?? 0) / 16;

/** A clip from its first voiced frame to its last: the pauses around it are the test's. */
function voiced(samples: Int16Array): Int16Array {
  const frames = voicedFrames(samples);
  return samples.slice(frames[0], (frames.at(-1) ?? 0) + 320);
}

const pause = (ms: number): Int16Array => new Int16Array(ms * 16);

/** The greeting went out whole, nothing dropped and nothing twice, and every sentence of it was heard whole. */
function assertWholeGreeting(h: SessionHarness): void {
  const sentences = h.texts('assistant');
  assert.equal(sentences.join(' '), GREETING);
  const expected = sentences.reduce((n, s) => n + s.length * MS_PER_CHAR, 0);
  assert.ok(Math.abs(h.agentAudioMs() - expected) <= 20, `${h.agentAudioMs()} ms of agent audio, ${expected} expected`);
  assert.deepEqual(h.heard('assistant'), sentences);
}

/** The longest stretch, between `fromMs` and `toMs` on the fake clock, with no agent audio sent. */
function longestGap(h: SessionHarness, fromMs: number, toMs: number): number {
  const sent = h.out.flatMap((o) => (o.kind === 'audio' && o.atMs >= fromMs && o.atMs <= toMs ? [o.atMs] : []));
  let gap = 0;
  for (let i = 1; i < sent.length; i++) gap = Math.max(gap, (sent[i] ?? 0) - (sent[i - 1] ?? 0));
  return gap;
}

describe('turn-taking with real speech through the local listener', () => {
  it('"mm-hmm" during agent speech does not interrupt and starts no turn', async () => {
    const h = await SessionHarness.open({ agent: agent(), providers: providers() });
    await h.hearSilence(1000);
    // espeak-ng's "mm-hmm", heard by the open language model as "you".
    await h.hear(spoken('mm-hmm'));
    await h.hearSilenceUntil(() => h.events('AgentAudioDone').length > 0);
    assert.deepEqual(h.events('UserStartedSpeaking'), []);
    assert.deepEqual(h.texts('user'), []);
    assert.deepEqual(h.events('Warning'), [], 'no NO_SPEECH_RECOGNIZED either');
    assertWholeGreeting(h);
    assert.deepEqual(h.states, ['thinking', 'speaking', 'idle']);
    h.close();
  });

  it('a cough-like burst is a false interruption: the agent pauses at its onset, resumes, and the rest of the sentence is heard and committed', async () => {
    const h = await SessionHarness.open({ agent: agent(), providers: providers() });
    await h.hearSilence(1000);
    // A short croaked "kuh" (0.3 s): Silero takes it for speech, pocketsphinx hears "the".
    const burst = spoken('kuh', 'wideband', 'en-us+croak');
    const burstAt = h.audioMs;
    await h.hear(burst);
    await h.hearSilenceUntil(() => h.events('AgentAudioDone').length > 0);
    assert.deepEqual(h.events('UserStartedSpeaking'), []);
    assert.deepEqual(h.texts('user'), []);
    assert.ok(longestGap(h, burstAt, burstAt + 3000) >= 300, 'the agent fell silent at the onset');
    assertWholeGreeting(h);
    await h.send({ type: 'InjectUserMessage', content: 'next' });
    await h.next('ConversationText', (e) => e.type === 'ConversationText' && e.content === 'You said: next.');
    assert.deepEqual(h.requests().at(-1)?.messages.filter((m) => m.role !== 'system'), [
      { role: 'assistant', content: GREETING },
      { role: 'user', content: 'next' },
    ]);
    h.close();
  });

  it('a real question interrupts: the agent stops within 300 ms of the speech start in audio time, and only the heard part is history', async () => {
    const h = await SessionHarness.open({ agent: agent(), providers: providers() });
    await h.hearSilence(1000);
    const question = spoken('wait, what time is it');
    const startedAt = h.audioMs + speechStartMs(question);
    await h.hear(question);
    await h.hearSilenceUntil(() => h.events('AgentStartedSpeaking').length === 2);
    assert.equal(h.events('UserStartedSpeaking').length, 1);
    const [user] = h.texts('user');
    assert.ok(user !== undefined && user !== '', 'the question is a turn');
    const replyAt = h.timeOf('ConversationText', (e) => e.type === 'ConversationText' && e.role === 'user') ?? Infinity;
    // Greeting audio sent after the question began, up to its answer.
    const afterStart = h.out.reduce((n, o) => n + (o.kind === 'audio' && o.atMs > startedAt && o.atMs < replyAt ? o.ms : 0), 0);
    assert.ok(afterStart <= 300, `the agent sent ${afterStart} ms of audio after the question began`);
    const heard = h.heard('assistant').join(' ');
    assert.ok(GREETING.startsWith(heard) && heard.length < GREETING.length, `only the heard part: "${heard}"`);
    h.close();
  });

  describe('a slow server-side function', () => {
    let functions: Awaited<ReturnType<typeof heldEndpoint>>;
    before(async () => {
      functions = await heldEndpoint();
    });
    after(() => functions.close());

    it('the filler is spoken once during a slow server-side function, and is history as heard', async () => {
      const h = await SessionHarness.open({
        agent: agent({ greeting: undefined, think: { provider: { type: 'scripted' }, functions: [{ name: 'forward', description: 'd', endpoint: { url: `${functions.url}/forward` } }] } }),
        providers: providers(),
      });
      // A person saying "go forward ten meters" (pocketsphinx-testdata); the scripted LLM calls the function it names.
      await h.hear(readPcm16(await fixturePath('goforward')).samples);
      await h.hearSilenceUntil(() => functions.requests.length === 1);
      // Past the filler's delay twice over: it is still said once.
      await h.hearSilence(4000);
      functions.requests[0]?.release(JSON.stringify({ moved: 10 }));
      await h.hearSilenceUntil(() => h.texts('assistant').length === 2 && h.events('AgentAudioDone').length > 0);
      assert.deepEqual(h.texts('assistant'), ['One moment.', 'The result is {"moved":10}.']);
      assert.deepEqual(h.heard('assistant'), ['One moment.', 'The result is {"moved":10}.']);
      const shape = h.history().map((i) => (i.kind === 'text' ? `${i.role}: ${i.content}` : `calls: ${i.calls.map((c) => c.name).join()}`));
      assert.deepEqual(shape.slice(1), ['assistant: One moment.', 'calls: forward', 'assistant: The result is {"moved":10}.']);
      h.close();
    });
  });

  it('a dictated phone number is not cut off at its pauses', async () => {
    const h = await SessionHarness.open({ agent: agent({ greeting: undefined }), providers: providers() });
    // Real digit strings (pocketsphinx-testdata): "two nine three four zero", "five five", with a
    // pause longer than the endpointing silence (700 ms) between the groups.
    const group = voiced(readPcm16(`${TESTDATA_DIR}/tidigits/dhd.2934z.raw`).samples);
    const fives = voiced(readPcm16(`${TESTDATA_DIR}/cards/004.wav`).samples);
    await h.hear(concatPcm16([pause(300), group, pause(900), fives, pause(900), group]));
    await h.hearSilenceUntil(() => h.events('AgentAudioDone').length > 0);
    const turns = h.texts('user');
    assert.equal(turns.length, 1, `one turn: ${JSON.stringify(turns)}`);
    const digits = (turns[0] ?? '').split(' ');
    assert.ok(digits.length >= 10 && digits.slice(0, 5).join(' ') === 'two nine three four zero', `the whole number: "${turns[0]}"`);
    assert.deepEqual(h.texts('assistant'), [`You said: ${turns[0]}.`]);
    h.close();
  });
});

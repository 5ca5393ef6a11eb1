// One test per race of the conversation engine, on the session harness's fake clock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeepgramListen } from '../../src/listen/cloud/deepgram.js';
import { SessionHarness } from '../support/session-harness.js';
import { scriptedProviders, thinkClosed } from '../support/scripted-providers.js';
import { heldEndpoint } from '../support/held-endpoint.js';
import { WsFake } from '../providers/fakes/ws.js';

const GREETING = 'Hello there, this is a rather long greeting. It goes on for a while. And then some more. Still talking here.';
const scripted = (extra: Record<string, unknown> = {}) => ({ provider: { type: 'scripted', ...extra } });

/** A loud 16 kHz tone: the scripted listener hears it as speech (and the session as voiced audio). */
function tone(ms: number): Int16Array {
  const samples = new Int16Array((ms * 16000) / 1000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return samples;
}

describe('races of the conversation engine', () => {
  let functions: Awaited<ReturnType<typeof heldEndpoint>>;
  before(async () => {
    functions = await heldEndpoint();
  });
  after(() => functions.close());

  it('race: a user turn landing in the same tick as the barge-in still gets the heard part of the interrupted reply into its LLM request', async () => {
    const h = await SessionHarness.open({ agent: { listen: scripted(), think: scripted({ model: 'handover' }), speak: scripted(), greeting: GREETING } });
    await h.until(() => h.agentAudioMs() >= 1000);
    // InjectUserMessage interrupts and starts the next reply in one step.
    await h.send({ type: 'InjectUserMessage', content: 'hi' });
    await h.next('ConversationText', (e) => e.type === 'ConversationText' && e.content === 'You said: hi.');
    const request = h.requests('scripted/handover').at(-1);
    const messages = request?.messages.filter((m) => m.role !== 'system') ?? [];
    assert.deepEqual(messages.map((m) => m.role), ['assistant', 'user'], 'what the user heard, then what the user said');
    const heard = messages[0]?.content ?? '';
    assert.ok(heard.length > 0 && heard.length < GREETING.length && GREETING.startsWith(heard), `only the heard start of the greeting: "${heard}"`);
    assert.deepEqual(h.heard('user'), ['hi']);
    const userAt = h.events('History').findIndex((e) => e.item.kind === 'text' && e.item.role === 'user');
    assert.ok(h.events('History').slice(0, userAt).every((e) => e.item.kind === 'text' && e.item.role === 'assistant'), 'the heard greeting comes before the user turn');
    h.close();
  });

  it('race: UpdateThink during a tool round: the reply finishes with the LLM it started with, which is closed only after it', async () => {
    const think = (model: string) => ({ ...scripted({ model }), functions: [{ name: 'lookup', description: 'd', endpoint: { url: `${functions.url}/lookup` } }] });
    const h = await SessionHarness.open({ agent: { listen: scripted(), think: think('swap-old'), speak: scripted() } });
    const closedBefore = thinkClosed.length;
    await h.send({ type: 'InjectUserMessage', content: 'please lookup my order' });
    await h.next('FunctionCallRequest');
    await h.send({ type: 'UpdateThink', think: think('swap-new') });
    assert.equal(h.events('ThinkUpdated').length, 1);
    assert.deepEqual(thinkClosed.slice(closedBefore), [], 'the LLM of the reply in flight is still open');
    await h.until(() => functions.requests.length === 1);
    functions.requests.at(-1)?.release(JSON.stringify({ order: 'shipped' }));
    await h.next('AgentAudioDone');
    assert.deepEqual(h.texts('assistant'), ['The result is {"order":"shipped"}.']);
    assert.equal(h.requests('scripted/swap-old').length, 2, 'both rounds of the reply went to the old LLM');
    await h.advance(10);
    assert.deepEqual(thinkClosed.slice(closedBefore), ['scripted/swap-old'], 'closed once its reply was done');
    await h.send({ type: 'InjectUserMessage', content: 'hello again' });
    await h.next('ConversationText', (e) => e.type === 'ConversationText' && e.content === 'You said: hello again.');
    assert.equal(h.requests().at(-1)?.label, 'scripted/swap-new');
    assert.deepEqual(h.events('Warning'), []);
    h.close();
  });

  it('race: the user barges in during a server-side call: the call runs to completion and its call and result enter history', async () => {
    const h = await SessionHarness.open({
      agent: { listen: scripted(), think: { ...scripted({ model: 'refunds' }), functions: [{ name: 'refund', description: 'd', endpoint: { url: `${functions.url}/refund` } }] }, speak: scripted() },
    });
    const before = functions.requests.length;
    await h.send({ type: 'InjectUserMessage', content: 'please refund my order' });
    await h.next('FunctionCallRequest');
    await h.until(() => functions.requests.length === before + 1);
    await h.send({ type: 'InjectUserMessage', content: 'oh and hurry up' });
    await h.next('ConversationText', (e) => e.type === 'ConversationText' && e.content === 'You said: oh and hurry up.');
    functions.requests.at(-1)?.release(JSON.stringify({ refund: 'issued', id: 42 }));
    const response = await h.next('FunctionCallResponse');
    assert.ok(response.type === 'FunctionCallResponse' && response.content.includes('issued'));
    const calls = await h.next('History', (e) => e.type === 'History' && e.item.kind === 'functions');
    assert.ok(calls.type === 'History' && calls.item.kind === 'functions');
    assert.deepEqual(calls.item.calls.map((c) => [c.name, c.response]), [['refund', response.content]]);
    assert.equal(functions.requests.at(-1)?.abandoned, false, 'the endpoint was not cut off');
    await h.next('AgentAudioDone');
    await h.send({ type: 'InjectUserMessage', content: 'thanks' });
    await h.next('ConversationText', (e) => e.type === 'ConversationText' && e.content === 'You said: thanks.');
    const request = h.requests('scripted/refunds').at(-1);
    const tool = request?.messages.find((m) => m.role === 'tool');
    assert.ok(tool !== undefined && tool.content.includes('issued'), 'the LLM learns the result');
    const asked = request?.messages.find((m) => m.role === 'assistant' && (m.toolCalls?.length ?? 0) > 0);
    assert.equal(asked?.role === 'assistant' ? asked.toolCalls?.[0]?.name : undefined, 'refund');
    assert.equal(functions.requests.length, before + 1, 'called once');
    h.close();
  });

  it('race: a listener that reports a speech start and no words (Nova SpeechStarted, then UtteranceEnd) does not leave the user holding the floor', async () => {
    const nova = await WsFake.start();
    nova.onConnection = (ws) => {
      ws.once('message', () => {
        ws.send(JSON.stringify({ type: 'SpeechStarted', channel: [0], timestamp: 0.1 }));
        ws.send(JSON.stringify({ type: 'Results', is_final: true, speech_final: true, channel: { alternatives: [{ transcript: '' }] } }));
        ws.send(JSON.stringify({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: 0 }));
      });
    };
    const providers = scriptedProviders();
    providers.listen.register('deepgram', createDeepgramListen);
    const h = await SessionHarness.open({
      agent: { listen: { provider: { type: 'deepgram', model: 'nova-3' } }, think: scripted(), speak: scripted() },
      providers,
      env: { DEEPGRAM_API_KEY: 'dg-key', DEEPGRAM_BASE_URL: nova.url.replace('ws', 'http') },
    });
    await h.hearSilence(100);
    await h.next('Warning', (e) => e.type === 'Warning' && e.code === 'NO_SPEECH_RECOGNIZED');
    assert.deepEqual(h.states, ['user_speaking', 'idle']);
    await h.send({ type: 'InjectAgentMessage', message: 'Are you still there?' });
    await h.next('AgentAudioDone');
    assert.deepEqual(h.events('InjectionRefused'), []);
    assert.deepEqual(h.texts('assistant'), ['Are you still there?']);
    h.close();
    await nova.close();
  });

  it('race: UpdateListen while the user speaks: the utterance in flight ends on the listener it started on, and the new one hears the next', async () => {
    const h = await SessionHarness.open({ agent: { listen: scripted({ transcripts: ['the first listener heard this'] }), think: scripted(), speak: scripted() } });
    await h.hear(tone(300));
    assert.equal(h.events('UserStartedSpeaking').length, 1);
    await h.send({ type: 'UpdateListen', listen: scripted({ transcripts: ['the second listener heard this'] }) });
    assert.equal(h.events('ListenUpdated').length, 1, 'acknowledged at once');
    await h.hear(tone(300));
    await h.hearSilence(700);
    await h.next('AgentAudioDone');
    await h.hear(tone(300));
    await h.hearSilence(700);
    await h.next('ConversationText', (e) => e.type === 'ConversationText' && e.content === 'You said: the second listener heard this.');
    assert.deepEqual(h.texts('user'), ['the first listener heard this', 'the second listener heard this']);
    assert.equal(h.events('UserStartedSpeaking').length, 2);
    h.close();
  });

  it('the agent state is explicit and follows the floor: idle → user speaking → thinking → speaking → idle, and an interruption hands the floor back', async () => {
    const h = await SessionHarness.open({ agent: { listen: scripted({ transcripts: ['tell me a story', 'stop'], interim_after_ms: 300 }), think: scripted(), speak: scripted() } });
    assert.deepEqual(h.states, []);
    await h.hear(tone(400));
    await h.hearSilence(700);
    await h.next('AgentStartedSpeaking');
    assert.deepEqual(h.states, ['user_speaking', 'thinking', 'speaking']);
    await h.advance(1000);
    // A real interruption (long enough, with words): the floor goes back to the user.
    await h.hear(tone(800));
    assert.deepEqual(h.states.slice(3), ['user_speaking']);
    await h.hearSilence(700);
    await h.next('AgentAudioDone');
    assert.deepEqual(h.states, ['user_speaking', 'thinking', 'speaking', 'user_speaking', 'thinking', 'speaking', 'idle']);
    assert.deepEqual(h.texts('user'), ['tell me a story', 'stop']);
    h.close();
  });

  it('race: an eager reply thought during the silence is held until the turn ends with the same words, then goes out without asking again', async () => {
    const h = await SessionHarness.open({
      agent: { listen: scripted({ transcripts: ['what time is it'], interim_after_ms: 400, eager_reply_ms: 200 }), think: scripted({ model: 'eager' }), speak: scripted() },
    });
    await h.hear(tone(600));
    await h.hearSilence(300);
    assert.equal(h.requests('scripted/eager').length, 1, 'thinking began before the end of the turn');
    assert.deepEqual(h.texts('assistant'), [], 'and said nothing yet');
    assert.equal(h.agentAudioMs(), 0);
    await h.hearSilence(400);
    await h.next('AgentAudioDone');
    assert.deepEqual(h.texts('user'), ['what time is it']);
    assert.deepEqual(h.texts('assistant'), ['You said: what time is it.']);
    assert.equal(h.requests('scripted/eager').length, 1, 'the eager request was the reply');
    const userAt = h.timeOf('ConversationText', (e) => e.type === 'ConversationText' && e.role === 'user') ?? Infinity;
    assert.ok(h.out.every((o) => o.kind !== 'audio' || o.atMs >= userAt), 'no agent audio before the turn was confirmed');
    assert.deepEqual(h.heard('assistant'), ['You said: what time is it.']);
    h.close();
  });

  it('race: the user goes on after an eager reply began: it is thrown away unheard, and the whole turn is answered', async () => {
    const h = await SessionHarness.open({
      agent: { listen: scripted({ transcripts: ['what time is it in paris'], interim_after_ms: 400, eager_reply_ms: 200 }), think: scripted({ model: 'eager-dropped', first_token_delay_ms: 50 }), speak: scripted() },
    });
    await h.hear(tone(600));
    await h.hearSilence(300);
    assert.equal(h.requests('scripted/eager-dropped').length, 1, 'an eager request went out');
    await h.hear(tone(400));
    await h.hearSilence(700);
    await h.next('AgentAudioDone');
    assert.deepEqual(h.texts('assistant'), ['You said: what time is it in paris.'], 'one reply, nothing of the eager one');
    assert.equal(h.requests('scripted/eager-dropped').length, 2, 'the whole turn was asked again');
    assert.deepEqual(h.history().map((i) => (i.kind === 'text' ? `${i.role}: ${i.content}` : 'calls')), ['user: what time is it in paris', 'assistant: You said: what time is it in paris.']);
    h.close();
  });
});

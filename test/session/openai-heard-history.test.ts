// With a fake OpenAI-compatible LLM (a real HTTP server speaking the chat completions stream,
// recording every request) behind the real open_ai think provider: after an interruption, the next
// request holds the heard part of the interrupted reply, before the user's new message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenAiThink } from '../../src/think/cloud/openai.js';
import { HttpFake, sseEvent, startSse } from '../providers/fakes/http.js';
import { SessionHarness } from '../support/session-harness.js';
import { scriptedProviders } from '../support/scripted-providers.js';

const REPLY = 'The weather today is sunny and warm. Tomorrow brings clouds in the morning and rain later on. The weekend looks dry again.';

function tone(ms: number): Int16Array {
  const samples = new Int16Array((ms * 16000) / 1000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return samples;
}

interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
}

describe('history sent to an OpenAI-compatible LLM after an interruption', () => {
  let llm: HttpFake;
  before(async () => {
    llm = await HttpFake.start();
    llm.handler = (_req, res, body) => {
      const request = JSON.parse(body) as ChatRequest;
      const last = request.messages.at(-1)?.content ?? '';
      const text = last.includes('weather') ? REPLY : `About "${last}": fine.`;
      startSse(res);
      for (const word of text.split(/(?<= )/)) sseEvent(res, { id: 'c', object: 'chat.completion.chunk', created: 1, model: request.model, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] });
      sseEvent(res, { id: 'c', object: 'chat.completion.chunk', created: 1, model: request.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      sseEvent(res, '[DONE]');
      res.end();
    };
  });
  after(() => llm.close());

  it('the next request holds the heard part of the interrupted reply, then the user\'s new message', async () => {
    const providers = scriptedProviders();
    providers.think.register('open_ai', createOpenAiThink('open_ai'));
    const h = await SessionHarness.open({
      agent: {
        listen: { provider: { type: 'scripted', transcripts: ['and what about tomorrow then'], interim_after_ms: 300 } },
        think: { provider: { type: 'open_ai', model: 'fake-model' }, endpoint: { url: `${llm.url}/v1/chat/completions`, headers: {} }, prompt: 'You are brief.' },
        speak: { provider: { type: 'scripted' } },
      },
      providers,
    });
    await h.send({ type: 'InjectUserMessage', content: 'how is the weather' });
    await h.hearSilenceUntil(() => h.agentAudioMs() >= 2000);
    // The user talks over the reply, long enough and with words: an interruption.
    await h.hear(tone(800));
    await h.hearSilenceUntil(() => llm.requests.length === 2 && h.events('AgentAudioDone').length > 0);
    assert.equal(h.events('UserStartedSpeaking').length, 1);
    const [first, second] = llm.requests.map((r) => JSON.parse(r.body) as ChatRequest);
    assert.deepEqual(first?.messages, [
      { role: 'system', content: 'You are brief.' },
      { role: 'user', content: 'how is the weather' },
    ]);
    const messages = second?.messages ?? [];
    assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    const heard = messages[2]?.content ?? '';
    assert.ok(heard.length > 0 && heard.length < REPLY.length && REPLY.startsWith(heard), `the heard part of the reply: "${heard}"`);
    assert.equal(heard, h.heard('assistant').filter((text) => REPLY.includes(text)).join(' '), 'what History said was heard');
    assert.deepEqual(messages[3], { role: 'user', content: 'and what about tomorrow then' });
    h.close();
  });
});

/**
 * One whole conversation, driven through an official Deepgram SDK against a real Parley server
 * (scripted providers stand in for the engines): settings, greeting audio in the requested format,
 * user audio from a real speech fixture, transcript, reply, a client-side function call round
 * trip, barge-in mid-reply, an injection, update acks and a clean close.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RunningServer } from '../../src/server/index.js';
import { silence } from '../support/agent-socket.js';
import type { Json } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { scriptedProviders, thinkRequests } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

export const TRANSCRIPTS = ['go forward ten meters', 'get weather in Paris please', 'tell me a story', 'are you there'];
export const STORY_END = 'That was the end of the story.';

export interface OutputFormat {
  encoding: 'linear16' | 'mulaw' | 'alaw';
  sampleRate: number;
  container: 'none' | 'wav';
}

/** What the scenario needs from an SDK; each adapter maps it to that SDK's real API. */
export interface SdkAdapter {
  readonly dialect: 'ea' | 'v1';
  connect(url: string, key: string, log: EventLog): Promise<void>;
  sendSettings(options: { greeting: string; output: OutputFormat }): void;
  sendAudio(bytes: Buffer): void;
  respondToFunction(request: Json, content: string): void;
  injectAgentMessage(text: string): void;
  updatePrompt(text: string): void;
  updateSpeak(model: string): void;
  keepAlive(): void;
  close(): void;
}

/** V1 settings as Deepgram's own examples write them (nova-3, gpt-4o-mini, aura-2), without `type`. */
export function v1Settings(greeting: string, output: OutputFormat): { audio: Record<string, unknown>; agent: Record<string, unknown> } {
  return {
    audio: {
      input: { encoding: 'linear16', sample_rate: 16000 },
      output: { encoding: output.encoding, sample_rate: output.sampleRate, container: output.container },
    },
    agent: {
      listen: { provider: { type: 'deepgram', model: 'nova-3' } },
      think: {
        provider: { type: 'open_ai', model: 'gpt-4o-mini' },
        prompt: 'You are a helpful assistant.',
        functions: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { query: { type: 'string' } } } }],
      },
      speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
      greeting,
    },
  };
}

/** The event surface of the 3.x/4.x SDKs' AgentLiveClient. */
interface LegacyAgentClient {
  on(event: string, listener: (data: unknown) => void): unknown;
}

/**
 * Records everything a 3.x/4.x agent client hands the application (every AgentEvents name:
 * JSON events, and Audio as binary); resolves when it opens.
 */
export function recordLegacyAgent(agent: LegacyAgentClient, events: Record<string, string>, log: EventLog): Promise<void> {
  for (const name of Object.values(events)) {
    if (name === 'Open' || name === 'Close') continue;
    agent.on(name, (data: unknown) => {
      if (name === 'Audio') log.audio(data as Buffer);
      else if (typeof data === 'object' && data !== null && 'type' in data) log.event(data as Json);
    });
  }
  return new Promise((resolve) => agent.on('Open', () => resolve()));
}

type Entry = { kind: 'event'; event: Json } | { kind: 'audio'; bytes: Buffer };

/** Everything the SDK handed the application, in order. */
export class EventLog {
  readonly entries: Entry[] = [];
  private waiters: { match: (e: Json) => boolean; resolve: (e: Json) => void }[] = [];
  closed = false;

  event(event: Json): void {
    this.entries.push({ kind: 'event', event });
    this.waiters = this.waiters.filter((w) => (w.match(event) ? (w.resolve(event), false) : true));
  }

  audio(bytes: Buffer): void {
    this.entries.push({ kind: 'audio', bytes });
  }

  events(type?: string): Json[] {
    return this.entries.flatMap((e) => (e.kind === 'event' && (type === undefined || e.event.type === type) ? [e.event] : []));
  }

  mark(): number {
    return this.entries.length;
  }

  audioSince(mark: number): Buffer[] {
    return this.entries.slice(mark).flatMap((e) => (e.kind === 'audio' ? [e.bytes] : []));
  }

  eventsSince(mark: number, type: string): Json[] {
    return this.entries.slice(mark).flatMap((e) => (e.kind === 'event' && e.event.type === type ? [e.event] : []));
  }

  /** The next event of `type` after `mark` that matches. */
  waitFor(type: string, mark = 0, match: (e: Json) => boolean = () => true, timeoutMs = 30_000): Promise<Json> {
    const seen = this.eventsSince(mark, type).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}; saw ${this.events().map((e) => e.type).join(', ')}`)), timeoutMs);
      this.waiters.push({
        match: (e) => e.type === type && match(e),
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}

const BYTES_PER_SAMPLE = { linear16: 2, mulaw: 1, alaw: 1 } as const;
/** The scripted voice speaks 40 ms per character. */
const SCRIPTED_MS_PER_CHAR = 40;

function assertAudioFormat(chunks: Buffer[], text: string, output: OutputFormat): void {
  let bytes = Buffer.concat(chunks);
  if (output.container === 'wav') {
    assert.equal(bytes.toString('ascii', 0, 4), 'RIFF', 'a WAV header starts the utterance');
    assert.equal(bytes.readUInt16LE(20), { linear16: 1, alaw: 6, mulaw: 7 }[output.encoding], 'WAV format code');
    assert.equal(bytes.readUInt32LE(24), output.sampleRate, 'WAV sample rate');
    bytes = bytes.subarray(44);
  }
  const expected = (text.length * SCRIPTED_MS_PER_CHAR * output.sampleRate * BYTES_PER_SAMPLE[output.encoding]) / 1000;
  assert.ok(Math.abs(bytes.length - expected) < expected * 0.05, `audio length ${bytes.length} should be about ${expected} bytes`);
}

async function stream(adapter: SdkAdapter, pcm: Buffer, speed = 6): Promise<void> {
  const frame = 640;
  for (let offset = 0; offset < pcm.length; offset += frame) {
    adapter.sendAudio(pcm.subarray(offset, offset + frame));
    if ((offset / frame) % 5 === 4) await new Promise((r) => setTimeout(r, 100 / speed));
  }
}

const texts = (events: Json[], role: string): string[] => events.filter((e) => e.role === role).map((e) => String(e.content));

export async function runConversation(adapter: SdkAdapter, output: OutputFormat): Promise<void> {
  const server: RunningServer = await startTestServer({ idleTimeoutMs: 60_000, apiKeys: ['sdk-key'] }, scriptedProviders({ transcripts: TRANSCRIPTS, standIn: true }));
  const log = new EventLog();
  try {
    const speech = readFileSync(await fixturePath('goforward'));
    const utterance = Buffer.concat([speech, silence(900)]);
    await adapter.connect(server.url, 'sdk-key', log);
    await log.waitFor('Welcome');
    adapter.sendSettings({ greeting: 'Hello, how can I help?', output });
    await log.waitFor('SettingsApplied');

    // Greeting: text, then audio in the requested format, then AgentAudioDone.
    const greetingText = await log.waitFor('ConversationText', 0, (e) => e.role === 'assistant');
    assert.equal(greetingText.content, 'Hello, how can I help?');
    await log.waitFor('AgentAudioDone');
    assertAudioFormat(log.audioSince(0), 'Hello, how can I help?', output);

    // A user turn from real speech: UserStartedSpeaking, the transcript, the reply, its audio.
    let mark = log.mark();
    await stream(adapter, utterance);
    await log.waitFor('UserStartedSpeaking', mark);
    const heard = await log.waitFor('ConversationText', mark, (e) => e.role === 'user');
    assert.equal(heard.content, TRANSCRIPTS[0]);
    const reply = await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant');
    assert.equal(reply.content, `You said: ${TRANSCRIPTS[0]}.`);
    await log.waitFor('AgentAudioDone', mark);
    assert.ok(log.audioSince(mark).length > 0, 'reply audio arrived');

    // A client-side function call round trip.
    mark = log.mark();
    await stream(adapter, utterance);
    const request = await log.waitFor('FunctionCallRequest', mark);
    adapter.respondToFunction(request, 'sunny and 21 degrees');
    const result = await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant');
    assert.equal(result.content, 'The result is sunny and 21 degrees.');
    await log.waitFor('AgentAudioDone', mark);

    // Barge-in mid-reply: the history keeps only what was heard.
    mark = log.mark();
    await stream(adapter, utterance);
    await log.waitFor('AgentStartedSpeaking', mark);
    await new Promise((r) => setTimeout(r, 1500));
    const bargeMark = log.mark();
    await stream(adapter, utterance);
    await log.waitFor('UserStartedSpeaking', bargeMark);
    const answer = await log.waitFor('ConversationText', bargeMark, (e) => e.role === 'assistant');
    assert.equal(answer.content, `You said: ${TRANSCRIPTS[3]}.`);
    await log.waitFor('AgentAudioDone', bargeMark);
    const storyRequest = thinkRequests.findLast((r) => r.messages.some((m) => m.role === 'user' && m.content === TRANSCRIPTS[3]));
    assert.ok(storyRequest !== undefined);
    const toldStory = storyRequest.messages.findLast((m) => m.role === 'assistant' && m.content.startsWith('Once upon a time'));
    assert.ok(toldStory !== undefined, 'the LLM sees the heard part of the story');
    assert.ok(!toldStory.content.includes(STORY_END), 'the unheard end of the story is not in the LLM history');
    assert.ok(toldStory.content.length > 10, 'the heard part of the story is kept');
    if (adapter.dialect === 'v1') {
      const storyHistory = texts(log.eventsSince(mark, 'History'), 'assistant').filter((t) => !t.startsWith('You said'));
      assert.ok(storyHistory.length > 0, 'History events report what was heard');
      assert.ok(!storyHistory.join(' ').includes(STORY_END), 'History events hold only the spoken part');
      assert.equal(`${storyHistory.join(' ')}`, toldStory.content);
    }

    // An injection is spoken.
    mark = log.mark();
    adapter.injectAgentMessage('This is an injected message.');
    const injected = await log.waitFor('ConversationText', mark, (e) => e.role === 'assistant');
    assert.equal(injected.content, 'This is an injected message.');
    await log.waitFor('AgentAudioDone', mark);

    // Updates are acknowledged.
    mark = log.mark();
    adapter.updatePrompt('Be even briefer.');
    await log.waitFor(adapter.dialect === 'ea' ? 'InstructionsUpdated' : 'PromptUpdated', mark);
    adapter.updateSpeak('aura-luna-en');
    await log.waitFor('SpeakUpdated', mark);
    adapter.keepAlive();

    assert.deepEqual(log.events('Error'), []);
    adapter.close();
    const deadline = Date.now() + 5000;
    while (server.sessionCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.sessionCount(), 0, 'the session ended with the client close');
  } finally {
    await server.close();
  }
}

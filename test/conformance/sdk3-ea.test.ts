import { describe, it } from 'node:test';
import { AgentEvents, createClient } from 'dg3';
import type { AgentLiveClient } from 'dg3';
import { recordLegacyAgent, runConversation } from './driver.js';
import type { EventLog, SdkAdapter } from './driver.js';
import type { Json } from '../support/agent-socket.js';

/** @deepgram/sdk 3.12.1: the Early Access generation on /agent. */
class Sdk3Adapter implements SdkAdapter {
  readonly dialect = 'ea';
  private agent: AgentLiveClient | undefined;

  connect(url: string, key: string, log: EventLog): Promise<void> {
    const client = createClient(key, { agent: { websocket: { options: { url } } } });
    const agent = client.agent();
    this.agent = agent;
    return recordLegacyAgent(agent, AgentEvents, log);
  }

  sendSettings({ output }: Parameters<SdkAdapter['sendSettings']>[0]): void {
    this.agent?.configure({
      audio: {
        input: { encoding: 'linear16', sampleRate: 16000 },
        output: { encoding: output.encoding, sampleRate: output.sampleRate, container: output.container },
      },
      agent: {
        listen: { model: 'nova-2' },
        think: {
          provider: { type: 'open_ai' },
          model: 'gpt-4o-mini',
          instructions: 'You are a helpful assistant.',
          functions: [
            { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } },
          ],
        },
        speak: { model: 'aura-asteria-en' },
      },
      // EA had no greeting: a trailing assistant message with replay makes the agent speak first.
      context: { messages: [{ role: 'assistant', content: 'Hello, how can I help?' }], replay: true },
    } as unknown as Parameters<AgentLiveClient['configure']>[0]);
  }

  sendAudio(bytes: Buffer): void {
    this.agent?.send(new Uint8Array(bytes).buffer);
  }

  respondToFunction(request: Json, content: string): void {
    this.agent?.functionCallResponse({ function_call_id: String(request.function_call_id), output: content });
  }

  injectAgentMessage(text: string): void {
    this.agent?.injectAgentMessage(text);
  }

  updatePrompt(text: string): void {
    this.agent?.updateInstructions(text);
  }

  updateSpeak(model: string): void {
    this.agent?.updateSpeak(model);
  }

  keepAlive(): void {
    this.agent?.keepAlive();
  }

  close(): void {
    this.agent?.disconnect();
  }
}

describe('@deepgram/sdk 3.12.1 (EA, /agent)', () => {
  it('holds a whole conversation: linear16 24 kHz out', async () => {
    await runConversation(new Sdk3Adapter(), { encoding: 'linear16', sampleRate: 24000, container: 'none' });
  });
});

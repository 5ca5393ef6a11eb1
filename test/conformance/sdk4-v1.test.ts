import { describe, it } from 'node:test';
import { AgentEvents, createClient } from 'dg4';
import type { AgentLiveClient } from 'dg4';
import { runConversation } from './driver.js';
import type { EventLog, SdkAdapter } from './driver.js';
import type { Json } from '../support/agent-socket.js';

/** @deepgram/sdk 4.11.3: V1 on /v1/agent/converse, pointed at Parley by agent.websocket.options.url. */
class Sdk4Adapter implements SdkAdapter {
  readonly dialect = 'v1';
  private agent: AgentLiveClient | undefined;

  connect(url: string, key: string, log: EventLog): Promise<void> {
    const client = createClient({ key, agent: { websocket: { options: { url } } } });
    const agent = client.agent();
    this.agent = agent;
    for (const name of Object.values(AgentEvents)) {
      if (name === AgentEvents.Open || name === AgentEvents.Close) continue;
      agent.on(name, (data: unknown) => {
        if (name === AgentEvents.Audio) log.audio(data as Buffer);
        else if (typeof data === 'object' && data !== null && 'type' in data) log.event(data as Json);
      });
    }
    return new Promise((resolve) => agent.on(AgentEvents.Open, () => resolve()));
  }

  sendSettings({ greeting, output }: Parameters<SdkAdapter['sendSettings']>[0]): void {
    this.agent?.configure({
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: output.encoding, sample_rate: output.sampleRate, container: output.container } },
      agent: {
        language: 'en',
        listen: { provider: { type: 'deepgram', model: 'nova-3' } },
        think: {
          provider: { type: 'open_ai', model: 'gpt-4o-mini' },
          prompt: 'You are a helpful assistant.',
          functions: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { query: { type: 'string' } } } }],
        },
        speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
        greeting,
      },
      mips_opt_out: true,
    } as unknown as Parameters<AgentLiveClient['configure']>[0]);
  }

  sendAudio(bytes: Buffer): void {
    this.agent?.send(new Uint8Array(bytes).buffer);
  }

  respondToFunction(request: Json, content: string): void {
    const [call] = request.functions as { id: string; name: string }[];
    this.agent?.functionCallResponse({ id: call?.id ?? '', name: call?.name ?? '', content });
  }

  injectAgentMessage(text: string): void {
    this.agent?.injectAgentMessage(text);
  }

  updatePrompt(text: string): void {
    this.agent?.updatePrompt(text);
  }

  updateSpeak(model: string): void {
    this.agent?.updateSpeak({ provider: { type: 'deepgram', model } } as Parameters<AgentLiveClient['updateSpeak']>[0]);
  }

  keepAlive(): void {
    this.agent?.keepAlive();
  }

  close(): void {
    this.agent?.disconnect();
  }
}

describe('@deepgram/sdk 4.11.3 (V1)', () => {
  it('holds a whole conversation: mulaw 8 kHz out, as telephony asks', async () => {
    await runConversation(new Sdk4Adapter(), { encoding: 'mulaw', sampleRate: 8000, container: 'none' });
  });
});

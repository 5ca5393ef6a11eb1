import { describe, it } from 'node:test';
import { AgentEvents, createClient } from 'dg4';
import type { AgentLiveClient } from 'dg4';
import { recordLegacyAgent, runConversation, v1Settings } from './driver.js';
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
    return recordLegacyAgent(agent, AgentEvents, log);
  }

  sendSettings({ greeting, output }: Parameters<SdkAdapter['sendSettings']>[0]): void {
    const { audio, agent } = v1Settings(greeting, output);
    // As 4.11.3's types invited: agent.language and the misspelled top-level mips_opt_out.
    this.agent?.configure({ audio, agent: { language: 'en', ...agent }, mips_opt_out: true });
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
    this.agent?.updateSpeak({ provider: { type: 'deepgram', model } });
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

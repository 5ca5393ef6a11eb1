import { describe, it } from 'node:test';
import { DeepgramClient } from '@deepgram/sdk';
import { runConversation, v1Settings } from './driver.js';
import type { EventLog, SdkAdapter } from './driver.js';
import type { Json } from '../support/agent-socket.js';

type Socket = Awaited<ReturnType<DeepgramClient['agent']['v1']['connect']>>;

/** @deepgram/sdk 5.x (latest): V1, pointed at Parley by baseUrl. */
class Sdk5Adapter implements SdkAdapter {
  readonly dialect = 'v1';
  private socket: Socket | undefined;
  /** Blobs are read asynchronously; keep audio in arrival order with the JSON events. */
  private chain: Promise<void> = Promise.resolve();

  async connect(url: string, key: string, log: EventLog): Promise<void> {
    const client = new DeepgramClient({ apiKey: key, baseUrl: url });
    const socket = await client.agent.v1.connect({ reconnectAttempts: 0 });
    this.socket = socket;
    socket.on('message', (message: unknown) => {
      this.chain = this.chain.then(async () => {
        if (message instanceof Blob) log.audio(Buffer.from(await message.arrayBuffer()));
        else log.event(message as Json);
      });
    });
    const opened = new Promise<void>((resolve) => socket.on('open', () => resolve()));
    socket.connect();
    await opened;
  }

  sendSettings({ greeting, output }: Parameters<SdkAdapter['sendSettings']>[0]): void {
    this.socket?.sendSettings({ type: 'Settings', ...v1Settings(greeting, output) } as unknown as Parameters<Socket['sendSettings']>[0]);
  }

  sendAudio(bytes: Buffer): void {
    this.socket?.sendMedia(bytes);
  }

  respondToFunction(request: Json, content: string): void {
    const [call] = request.functions as { id: string; name: string }[];
    this.socket?.sendFunctionCallResponse({ type: 'FunctionCallResponse', id: call?.id ?? '', name: call?.name ?? '', content });
  }

  injectAgentMessage(text: string): void {
    this.socket?.sendInjectAgentMessage({ type: 'InjectAgentMessage', message: text });
  }

  updatePrompt(text: string): void {
    this.socket?.sendUpdatePrompt({ type: 'UpdatePrompt', prompt: text });
  }

  updateSpeak(model: string): void {
    this.socket?.sendUpdateSpeak({ type: 'UpdateSpeak', speak: { provider: { type: 'deepgram', model } } });
  }

  keepAlive(): void {
    this.socket?.sendKeepAlive({ type: 'KeepAlive' });
  }

  close(): void {
    this.socket?.close();
  }
}

describe('@deepgram/sdk 5.x (V1)', () => {
  it('holds a whole conversation: WAV-contained linear16 16 kHz out', async () => {
    await runConversation(new Sdk5Adapter(), { encoding: 'linear16', sampleRate: 16000, container: 'wav' });
  });
});

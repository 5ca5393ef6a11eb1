/**
 * A small protocol-faithful V1 Voice Agent server for client tests: auth by header, subprotocol
 * or `?token=`, Welcome at once, acks for every update, a scripted agent that "hears" audio by
 * energy and answers with a tone, client-side function calls and injections. It records every
 * frame it received so tests can check what the client put on the wire.
 */
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

export type Received = { kind: 'json'; message: Record<string, unknown> } | { kind: 'binary'; bytes: Buffer };

export interface FakeSession {
  socket: WebSocket;
  received: Received[];
  request: IncomingMessage;
  protocol: string;
  send(message: Record<string, unknown>): void;
}

export interface FakeServer {
  url: string;
  sessions: FakeSession[];
  /** Resolves with the next session that connects. */
  nextSession(): Promise<FakeSession>;
  close(): Promise<void>;
}

export const FAKE_KEY = 'test-key';
const OUTPUT_RATE_DEFAULT = 24000;

function authorized(request: IncomingMessage): boolean {
  const header = request.headers.authorization;
  if (header && /^(token|bearer)\s+/i.test(header)) return header.split(/\s+/)[1] === FAKE_KEY;
  const protocols = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (protocols[0] === 'token' || protocols[0] === 'bearer') return protocols[1] === FAKE_KEY;
  return new URL(request.url ?? '/', 'http://x').searchParams.get('token') === FAKE_KEY;
}

function tone(ms: number, rate: number): Buffer {
  const samples = Math.round((ms / 1000) * rate);
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return out;
}

function rms(pcm: Buffer): number {
  let sum = 0;
  const n = pcm.length >> 1;
  for (let i = 0; i < n; i++) sum += pcm.readInt16LE(i * 2) ** 2;
  return n === 0 ? 0 : Math.sqrt(sum / n);
}

/** A client message field as text: strings as they are, nothing as '', anything else as JSON. */
function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One connection's scripted agent. */
class Agent {
  readonly #session: FakeSession;
  #settings: Record<string, unknown> | undefined;
  #inputRate = 16000;
  #outputRate = OUTPUT_RATE_DEFAULT;
  #speaking = false;
  #userSpeaking = false;
  #voicedMs = 0;
  #silentMs = 0;
  #heardMs = 0;
  #pendingCall: { id: string; name: string } | undefined;
  #turn = 0;

  constructor(session: FakeSession) {
    this.#session = session;
  }

  onJson(message: Record<string, unknown>): void {
    const send = (m: Record<string, unknown>): void => this.#session.send(m);
    const type = message['type'];
    if (!this.#settings && type !== 'Settings') {
      send({ type: 'Error', code: 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', description: 'Settings first' });
      return;
    }
    switch (type) {
      case 'Settings': {
        if (this.#settings) {
          send({ type: 'Error', code: 'SETTINGS_ALREADY_APPLIED', description: 'already applied' });
          return;
        }
        this.#settings = message;
        const audio = (message['audio'] ?? {}) as { input?: { sample_rate?: number }; output?: { sample_rate?: number } };
        this.#inputRate = audio.input?.sample_rate ?? 16000;
        this.#outputRate = audio.output?.sample_rate ?? OUTPUT_RATE_DEFAULT;
        send({ type: 'SettingsApplied' });
        const greeting = (message['agent'] as { greeting?: string } | undefined)?.greeting;
        if (greeting) this.#speak(greeting);
        return;
      }
      case 'UpdatePrompt':
        return send({ type: 'PromptUpdated' });
      case 'UpdateThink':
        return send({ type: 'ThinkUpdated' });
      case 'UpdateSpeak':
        return send({ type: 'SpeakUpdated' });
      case 'UpdateListen':
        return send({ type: 'ListenUpdated' });
      case 'KeepAlive':
      case 'ForceEndTurn':
        return;
      case 'InjectUserMessage':
        return this.#userSaid(textOf(message['content']));
      case 'InjectAgentMessage': {
        const text = textOf(message['message'] ?? message['content']);
        if ((this.#speaking || this.#userSpeaking) && message['behavior'] !== 'interrupt') {
          send({ type: 'Warning', code: 'INJECT_AGENT_MESSAGE_DURING_AGENT_SPEECH', description: 'agent is speaking' });
          send({ type: 'InjectionRefused', message: 'agent is speaking' });
          return;
        }
        return this.#speak(text);
      }
      case 'FunctionCallResponse': {
        const call = this.#pendingCall;
        if (!call || message['id'] !== call.id) return;
        this.#pendingCall = undefined;
        const content = textOf(message['content']);
        send({
          type: 'History',
          function_calls: [{ id: call.id, name: call.name, client_side: true, arguments: '{"city":"Paris"}', response: content }],
        });
        return this.#speak(`The function said ${content}.`);
      }
      default:
        send({ type: 'Error', code: 'UNPARSABLE_CLIENT_MESSAGE', description: `unknown type ${String(type)}` });
    }
  }

  onAudio(bytes: Buffer): void {
    if (!this.#settings) {
      this.#session.send({ type: 'Error', code: 'NON_SETTINGS_MESSAGE_BEFORE_SETTINGS', description: 'Settings first' });
      return;
    }
    const ms = (bytes.length / 2 / this.#inputRate) * 1000;
    const voiced = rms(bytes) > 300;
    if (voiced) {
      this.#voicedMs += ms;
      this.#silentMs = 0;
      if (!this.#userSpeaking && this.#voicedMs >= 60) {
        this.#userSpeaking = true;
        this.#heardMs = 0;
        this.#speaking = false;
        this.#session.send({ type: 'UserStartedSpeaking' });
      }
    } else {
      this.#silentMs += ms;
      if (this.#silentMs > 100) this.#voicedMs = 0;
    }
    if (this.#userSpeaking) {
      this.#heardMs += ms;
      if (this.#silentMs >= 500) {
        this.#userSpeaking = false;
        this.#userSaid(`I heard ${Math.round((this.#heardMs - this.#silentMs) / 100) / 10} seconds`);
      }
    }
  }

  #userSaid(text: string): void {
    const send = (m: Record<string, unknown>): void => this.#session.send(m);
    this.#turn += 1;
    send({ type: 'ConversationText', role: 'user', content: text });
    send({ type: 'History', role: 'user', content: text });
    const think = ((this.#settings?.['agent'] ?? {}) as { think?: { functions?: { name: string }[] } }).think;
    const fn = think?.functions?.[0];
    if (fn && /weather/i.test(text)) {
      send({ type: 'AgentThinking', content: 'I should call a function.' });
      this.#pendingCall = { id: `call_${this.#turn}`, name: fn.name };
      send({
        type: 'FunctionCallRequest',
        functions: [{ id: this.#pendingCall.id, name: fn.name, arguments: '{"city":"Paris"}', client_side: true }],
      });
      return;
    }
    this.#speak(`Reply number ${this.#turn}.`);
  }

  #speak(text: string): void {
    const send = (m: Record<string, unknown>): void => this.#session.send(m);
    this.#speaking = true;
    send({ type: 'ConversationText', role: 'assistant', content: text });
    send({ type: 'History', role: 'assistant', content: text });
    send({ type: 'AgentStartedSpeaking', total_latency: 0.25, tts_latency: 0.05, ttt_latency: 0.1 });
    const audio = tone(300, this.#outputRate);
    const frame = Math.round(this.#outputRate * 0.02) * 2;
    for (let offset = 0; offset < audio.length; offset += frame) {
      if (this.#session.socket.readyState === this.#session.socket.OPEN) {
        this.#session.socket.send(audio.subarray(offset, offset + frame));
      }
    }
    send({ type: 'AgentAudioDone' });
    send({ type: 'LatencyReport', total_latency: 0.25, tts_latency: 0.05, ttt_text_latency: 0.1 });
    this.#speaking = false;
  }
}

export async function startFakeServer(): Promise<FakeServer> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const sessions: FakeSession[] = [];
  const waiters: ((session: FakeSession) => void)[] = [];

  http.on('upgrade', (request, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path !== '/v1/agent/converse') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    if (!authorized(request)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const session: FakeSession = {
        socket: ws,
        received: [],
        request,
        protocol: ws.protocol,
        send: (m) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
        },
      };
      const agent = new Agent(session);
      ws.on('message', (data, isBinary) => {
        const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
        if (isBinary) {
          session.received.push({ kind: 'binary', bytes });
          agent.onAudio(bytes);
          return;
        }
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
        } catch {
          session.send({ type: 'Error', code: 'UNPARSABLE_CLIENT_MESSAGE', description: 'not JSON' });
          return;
        }
        session.received.push({ kind: 'json', message });
        agent.onJson(message);
      });
      session.send({ type: 'Welcome', request_id: randomUUID() });
      sessions.push(session);
      waiters.shift()?.(session);
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    sessions,
    nextSession: () => new Promise((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

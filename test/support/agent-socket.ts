import WebSocket from 'ws';

export type Json = Record<string, unknown> & { type: string };

/** Either a JSON event or a binary audio frame, in arrival order. */
export type Received = { kind: 'event'; event: Json } | { kind: 'audio'; bytes: Buffer };

/**
 * A plain `ws` client for tests: records everything the server sends, in order, and lets a test
 * wait for a given event.
 */
export class AgentSocket {
  readonly received: Received[] = [];
  closeCode: number | undefined;
  private waiters: { match: (event: Json) => boolean; resolve: (event: Json) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.received.push({ kind: 'audio', bytes: data });
        return;
      }
      const event = JSON.parse(data.toString('utf8')) as Json;
      this.received.push({ kind: 'event', event });
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(event)) return true;
        w.resolve(event);
        return false;
      });
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const resolve of this.closeWaiters) resolve(code);
    });
  }

  static open(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<AgentSocket> {
    const ws = new WebSocket(url, options.protocols, options);
    const socket = new AgentSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Records a socket opened elsewhere (call it in the socket's open handler, before any message). */
  static wrap(ws: WebSocket): AgentSocket {
    return new AgentSocket(ws);
  }

  send(message: Json): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  sendAudio(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  events(type?: string): Json[] {
    return this.received.flatMap((r) => (r.kind === 'event' && (type === undefined || r.event.type === type) ? [r.event] : []));
  }

  audioBytes(): number {
    return this.received.reduce((n, r) => n + (r.kind === 'audio' ? r.bytes.length : 0), 0);
  }

  /** Resolves once at least `atLeast` bytes of agent audio have arrived; rejects after `timeoutMs`. */
  async waitForAudio(atLeast: number, timeoutMs = 10_000): Promise<void> {
    for (let waited = 0; this.audioBytes() < atLeast; waited += 20) {
      if (waited >= timeoutMs) throw new Error(`only ${this.audioBytes()} of ${atLeast} bytes of agent audio arrived`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves with the first event (already received or future) of this type that matches. */
  waitFor(type: string, match: (event: Json) => boolean = () => true, timeoutMs = 20_000): Promise<Json> {
    const seen = this.events(type).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.nextEvent(type, match, timeoutMs);
  }

  /** Resolves with the next future event of this type that matches. */
  nextEvent(type: string, match: (event: Json) => boolean = () => true, timeoutMs = 20_000): Promise<Json> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}; got ${this.events().map((e) => e.type).join(', ')}`)), timeoutMs);
      this.waiters.push({
        match: (event) => event.type === type && match(event),
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  closed(): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): void {
    this.ws.close();
  }
}

/** Mono PCM16 silence of the given length. */
export function silence(ms: number, sampleRate = 16000): Buffer {
  return Buffer.alloc(Math.round((ms * sampleRate) / 1000) * 2);
}

/** Streams PCM bytes in 20 ms frames, `speed` times faster than real time. */
export async function streamAudio(socket: AgentSocket, pcm: Uint8Array, options: { sampleRate?: number; bytesPerSample?: number; speed?: number } = {}): Promise<void> {
  const { sampleRate = 16000, bytesPerSample = 2, speed = 4 } = options;
  const frame = (sampleRate / 50) * bytesPerSample;
  for (let offset = 0; offset < pcm.length; offset += frame) {
    socket.sendAudio(pcm.subarray(offset, offset + frame));
    if ((offset / frame) % 5 === 4) await new Promise((r) => setTimeout(r, 100 / speed));
  }
}

import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { wsText } from '../../../src/providers/ws-stream.js';

/**
 * A local WebSocket server standing in for a provider. `refuse` answers the upgrade with an HTTP
 * error (how Deepgram, ElevenLabs and Cartesia reject a bad key); `onConnection` plays the
 * provider's side of the protocol. Records upgrade requests and notices client-side closes.
 */
export class WsFake {
  onConnection: (socket: WebSocket, req: IncomingMessage) => void = () => undefined;
  refuse: { status: number; body: string } | undefined;
  /** Never complete the upgrade: a server that does not answer. */
  hang = false;
  readonly upgrades: IncomingMessage[] = [];
  readonly received: (string | Buffer)[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();
  private closeWaiters: (() => void)[] = [];
  private closes = 0;

  private constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.upgrades.push(req);
      if (this.hang) return;
      if (this.refuse !== undefined) {
        const { status, body } = this.refuse;
        socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data, isBinary) => this.received.push(isBinary ? (data as Buffer) : wsText(data)));
        ws.on('close', () => {
          this.closes++;
          for (const wake of this.closeWaiters.splice(0)) wake();
        });
        this.onConnection(ws, req);
      });
    });
  }

  static async start(): Promise<WsFake> {
    const fake = new WsFake(createServer());
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get lastUpgrade(): IncomingMessage {
    const last = this.upgrades.at(-1);
    if (last === undefined) throw new Error('no upgrade reached the fake');
    return last;
  }

  reset(): void {
    this.upgrades.length = 0;
    this.received.length = 0;
    this.closes = 0;
    this.refuse = undefined;
    this.hang = false;
    this.onConnection = () => undefined;
  }

  /** Resolves once a connection closed (client or server side). */
  waitForClose(): Promise<void> {
    if (this.closes > 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/**
 * A local HTTP server standing in for a provider. Each test sets `handler`; the fake records
 * requests and notices when a client drops a response before it ended (a cancelled stream).
 */
export class HttpFake {
  handler: Handler = (_req, res) => {
    res.statusCode = 404;
    res.end();
  };
  readonly requests: RecordedRequest[] = [];
  private aborted = 0;
  private abortWaiters: (() => void)[] = [];

  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /**
   * `http2`: cleartext HTTP/2 (the AWS SDK's Bedrock client speaks only that); its compatibility
   * API has the same request and response methods the handlers use.
   */
  static async start(options: { http2?: boolean } = {}): Promise<HttpFake> {
    const server: Server = options.http2 === true ? createH2Server() : createServer();
    const fake = new HttpFake(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.on('close', () => {
          if (!res.writableEnded) fake.onAbort();
        });
        void Promise.resolve(fake.handler(req, res, body)).catch(() => res.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get lastRequest(): RecordedRequest {
    const last = this.requests.at(-1);
    if (last === undefined) throw new Error('no request reached the fake');
    return last;
  }

  /** Resolves once a client closed a connection whose response had not ended. */
  waitForAbort(): Promise<void> {
    if (this.aborted > 0) return Promise.resolve();
    return new Promise((resolve) => this.abortWaiters.push(resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.aborted = 0;
  }

  private onAbort(): void {
    this.aborted++;
    for (const wake of this.abortWaiters.splice(0)) wake();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

export function sseEvent(res: ServerResponse, data: unknown, event?: string): void {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  res.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${text}\n\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ProviderKind } from '../core/errors.js';
import { ProviderError } from '../core/errors.js';
import { quoteBody } from './bounded-body.js';
import { redact } from './errors.js';
import type { OutboundGuard } from './outbound.js';

const MAX_REFUSAL_BODY_BYTES = 4096;
/** Largest message a provider may send (ws's own default is 100 MiB); a vendor's audio chunks are far smaller. */
export const MAX_PROVIDER_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Messages read but not yet consumed: past this the socket stops reading, and TCP holds the rest back. */
export const MAX_QUEUED_PROVIDER_BYTES = 8 * 1024 * 1024;

export interface WsOptions {
  kind: ProviderKind;
  provider: string;
  url: string;
  headers: Record<string, string>;
  /** The URL may be the client's choice: connect only where the guard allows. */
  guard: OutboundGuard;
  signal: AbortSignal;
  secrets: readonly (string | undefined)[];
  /** Called once the socket is open, to send the request. */
  onOpen(socket: WebSocket): void;
}

function byteLength(data: WebSocket.RawData): number {
  return Array.isArray(data) ? data.reduce((n, part) => n + part.byteLength, 0) : data.byteLength;
}

/** A text frame's payload as UTF-8 text, whichever form `ws` delivered it in (a Buffer by default). */
export function wsText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

/**
 * The start of a refused upgrade's body, quoted for a description: only the first few KiB are
 * kept, however much the server sends.
 */
export function readRefusal(res: IncomingMessage, done: (body: string) => void): void {
  const parts: Buffer[] = [];
  let kept = 0;
  res.on('data', (part: Buffer) => {
    if (kept < MAX_REFUSAL_BODY_BYTES) parts.push(part);
    kept += part.byteLength;
  });
  res.on('end', () => done(quoteBody(Buffer.concat(parts).toString('utf8'), 300)));
}

/** The error a socket that could not open or closed abnormally stands for. */
export function wsFailure(
  kind: ProviderKind,
  provider: string,
  what: string,
  secrets: readonly (string | undefined)[],
  status?: number,
): ProviderError {
  return new ProviderError(kind, provider, redact(`${provider}: ${what}`, secrets), status === undefined ? {} : { status });
}

/**
 * Opens a WebSocket and yields its messages until the server closes normally. A refused upgrade
 * (401, 429 ...) keeps its HTTP status; an abnormal close or socket error throws ProviderError.
 * Leaving the loop early, or aborting, terminates the socket.
 */
export async function* wsMessages(options: WsOptions): AsyncGenerator<WebSocket.RawData, void, undefined> {
  const { kind, provider, secrets } = options;
  const queue: WebSocket.RawData[] = [];
  let queuedBytes = 0;
  let ended = false;
  let failure: ProviderError | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const socket = new WebSocket(options.url, { headers: options.headers, maxPayload: MAX_PROVIDER_MESSAGE_BYTES, ...options.guard.socketOptions(options.url) });
  socket.on('unexpected-response', (_req, res) => {
    readRefusal(res, (body) => {
      failure ??= wsFailure(kind, provider, `connection refused with HTTP ${res.statusCode ?? 0}: ${body}`, secrets, res.statusCode);
      ended = true;
      notify();
      socket.terminate();
    });
  });
  socket.on('open', () => options.onOpen(socket));
  socket.on('message', (data) => {
    queue.push(data);
    queuedBytes += byteLength(data);
    if (queuedBytes > MAX_QUEUED_PROVIDER_BYTES) socket.pause();
    notify();
  });
  socket.on('error', (err) => {
    failure ??= wsFailure(kind, provider, `connection failed: ${err.message}`, secrets);
    ended = true;
    notify();
  });
  socket.on('close', (code, reason) => {
    if (code !== 1000 && code !== 1005) {
      failure ??= wsFailure(kind, provider, `connection closed with code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''}`, secrets);
    }
    ended = true;
    notify();
  });
  const onAbort = (): void => {
    ended = true;
    notify();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (true) {
      if (options.signal.aborted) return;
      const next = queue.shift();
      if (next !== undefined) {
        queuedBytes -= byteLength(next);
        if (socket.isPaused && queuedBytes <= MAX_QUEUED_PROVIDER_BYTES / 2) socket.resume();
        yield next;
        continue;
      }
      if (ended) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    socket.removeAllListeners('message');
    socket.on('error', () => undefined);
    if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  }
}

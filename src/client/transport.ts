/**
 * Opens the WebSocket: the `ws` package in Node (it can send an Authorization header), the
 * runtime's own WebSocket elsewhere (browsers authenticate with the `token, <key>` subprotocol).
 * Only the structural surface below is used, so this file needs neither DOM nor Node types.
 */

export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string | Uint8Array | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => SocketLike;

/** How the key travels: an Authorization header (Node only), the subprotocol pair, or `?token=`. */
export type AuthMode = 'header' | 'subprotocol' | 'query';

export interface Credentials {
  key?: string;
  /** A temporary JWT; sent with the `Bearer`/`bearer` scheme and preferred over `key`. */
  accessToken?: string;
}

export const OPEN = 1;

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

async function socketConstructor(override: SocketConstructor | undefined): Promise<SocketConstructor> {
  if (override) return override;
  if (isNode()) {
    const mod = await import('ws');
    return mod.WebSocket as unknown as SocketConstructor;
  }
  const native = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (!native) throw new Error('no WebSocket implementation in this runtime; pass options.WebSocket');
  return native;
}

export function defaultAuthMode(override: SocketConstructor | undefined): AuthMode {
  return !override && isNode() ? 'header' : 'subprotocol';
}

export async function openSocket(
  url: string,
  credentials: Credentials,
  auth: AuthMode,
  override: SocketConstructor | undefined,
): Promise<SocketLike> {
  const Ctor = await socketConstructor(override);
  const scheme = credentials.accessToken ? 'bearer' : 'token';
  const secret = credentials.accessToken ?? credentials.key;
  if (!secret) return new Ctor(url);
  if (auth === 'header') {
    const value = `${scheme === 'bearer' ? 'Bearer' : 'Token'} ${secret}`;
    return new Ctor(url, undefined, { headers: { Authorization: value } });
  }
  if (auth === 'subprotocol') return new Ctor(url, [scheme, secret]);
  const withToken = new URL(url);
  withToken.searchParams.set('token', secret);
  return new Ctor(withToken.toString());
}

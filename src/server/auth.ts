import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The credential a client offered, from (in order) the Authorization header (`Token` or `Bearer`,
 * any case), the `Sec-WebSocket-Protocol` pair `token, <key>` / `bearer, <jwt>` used by browsers,
 * or the `?token=` query parameter (docs/protocol-decisions.md#credentials-and-refusals-at-the-upgrade).
 */
export function offeredCredential(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^\s*(token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (match?.[2] !== undefined) return match[2];
  }
  const protocols = (request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const scheme = protocols.findIndex((p) => /^(token|bearer)$/i.test(p));
  if (scheme >= 0 && protocols[scheme + 1] !== undefined) return protocols[scheme + 1];
  return url.searchParams.get('token') ?? undefined;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True when no keys are configured, or the offered credential is one of them. */
export function isAuthorized(keys: readonly string[], credential: string | undefined): boolean {
  if (keys.length === 0) return true;
  if (credential === undefined) return false;
  return keys.some((key) => same(key, credential));
}

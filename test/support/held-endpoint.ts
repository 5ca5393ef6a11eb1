import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldRequest {
  url: string;
  /** Answers the request with `body`. */
  release(body: string): void;
  /** Whether the caller gave up (closed the connection) before the answer. */
  abandoned: boolean;
}

/**
 * A server-side function endpoint on 127.0.0.1 that answers each request only when the test
 * releases it, and records whether the caller gave up first.
 */
export async function heldEndpoint(): Promise<{ url: string; requests: HeldRequest[]; close(): Promise<void> }> {
  const requests: HeldRequest[] = [];
  const server = createServer((req, res) => {
    const held: HeldRequest = { url: req.url ?? '', release: (body) => res.end(body), abandoned: false };
    req.on('close', () => (held.abandoned = !res.writableEnded));
    requests.push(held);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves once `requests` holds `count` of them. */
export async function heldRequests(requests: readonly HeldRequest[], count: number, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; requests.length < count; waited += 10) {
    if (waited >= timeoutMs) throw new Error(`only ${requests.length} of ${count} requests reached the endpoint`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

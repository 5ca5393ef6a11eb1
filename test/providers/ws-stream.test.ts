// A provider's WebSocket (which a client's settings may point anywhere) cannot make the server
// hold more than a bounded amount of what it sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ProviderError } from '../../src/core/errors.js';
import { outboundGuard } from '../../src/providers/outbound.js';
import { MAX_PROVIDER_MESSAGE_BYTES, MAX_QUEUED_PROVIDER_BYTES, wsMessages } from '../../src/providers/ws-stream.js';
import { FAKES_ALLOWED } from './helpers.js';

async function flooder(send: (socket: import('ws').WebSocket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  server.on('connection', send);
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

const options = (url: string, signal: AbortSignal) => ({
  kind: 'speak' as const,
  provider: 'flood',
  url,
  headers: {},
  guard: outboundGuard(FAKES_ALLOWED),
  signal,
  secrets: [],
  onOpen: () => undefined,
});

test('a provider that sends faster than its messages are read is held back by TCP: the messages read stay under the bound', async () => {
  const chunk = Buffer.alloc(256 * 1024, 1);
  const total = 4 * (MAX_QUEUED_PROVIDER_BYTES / chunk.length);
  let sent = 0;
  const server = await flooder((socket) => {
    const pump = (): void => {
      // Sends as fast as the socket drains, as a hostile endpoint would.
      while (sent < total && socket.bufferedAmount < 1024 * 1024) {
        socket.send(chunk);
        sent++;
      }
      if (sent < total) setTimeout(pump, 1);
      else socket.close(1000);
    };
    pump();
  });
  const controller = new AbortController();
  const messages = wsMessages(options(server.url, controller.signal));
  const first = await messages.next();
  assert.equal(first.done, false);
  // The consumer stalls for a while, as a session paced by its playout clock does.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const sentWhileStalled = sent;
  assert.ok(sentWhileStalled < total, `the provider could send everything (${sentWhileStalled}/${total} chunks) while nobody read`);
  let received = 1;
  for await (const message of messages) {
    void message;
    received++;
  }
  assert.equal(received, total, 'nothing is lost once reading resumes');
  await server.close();
});

test('one message larger than the bound closes the provider socket with a ProviderError', async () => {
  const server = await flooder((socket) => socket.send(Buffer.alloc(MAX_PROVIDER_MESSAGE_BYTES + 1)));
  const messages = wsMessages(options(server.url, new AbortController().signal));
  await assert.rejects(
    (async () => {
      for await (const message of messages) void message;
    })(),
    (err: unknown) => err instanceof ProviderError && /Max payload size exceeded/.test(err.message),
  );
  await server.close();
});

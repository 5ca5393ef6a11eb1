import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { STATES, assertCaseOutcome, assertNothingAboveWarn, capturingLogger, enterState, frame, fuzzParameters, probe, until, validSettings } from './support.js';
import type { Dialect, Frame, FuzzClient } from './support.js';

/** A real WebSocket client that records the server's events and close code. */
class WireClient implements FuzzClient {
  readonly events: Record<string, unknown>[] = [];
  closeCode: number | undefined;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) this.events.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    });
    ws.on('close', (code) => {
      this.closeCode = code;
    });
    ws.on('error', () => undefined);
  }

  static open(url: string): Promise<WireClient> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WireClient(ws)));
      ws.once('error', reject);
    });
  }

  send(f: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(f.bytes, { binary: f.kind === 'binary' });
  }

  async close(): Promise<void> {
    this.ws.close();
    await until(() => this.closeCode !== undefined, 'the close');
  }
}

/** Sessions driven at once in each run, on one server. */
const PARALLEL = 4;

describe('fuzz: real WebSockets, several sessions in parallel', () => {
  const { logger, lines } = capturingLogger();
  const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1', idleTimeoutMs: 60_000, maxBinaryFrameBytes: 64 * 1024 };
  const maxPayload = 2 * Math.max(config.maxTextFrameBytes, config.maxBinaryFrameBytes);
  let server: RunningServer;
  before(async () => {
    server = await startServer({ config, providers: scriptedProviders({ standIn: true }), createAudio: sessionAudioFactory(config.playoutLeadMs), logger, env: {} });
  });
  after(() => server.close());

  it('end only the fuzzed session, with coded events, while a bystander keeps talking', async () => {
    const bystander = await WireClient.open(`${server.url}/v1/agent/converse`);
    bystander.send({ kind: 'text', bytes: Buffer.from(JSON.stringify(validSettings('v1'))) });
    await until(() => bystander.events.some((e) => e['type'] === 'SettingsApplied'), 'the bystander settings');

    const oneCase = fc.record({
      path: fc.constantFrom('/v1/agent/converse', '/agent'),
      dialect: fc.constantFrom<Dialect>('v1', 'ea'),
      state: fc.constantFrom(...STATES),
      frames: fc.array(frame(config.maxBinaryFrameBytes), { minLength: 1, maxLength: 5 }),
    });
    const { numRuns, ...parameters } = fuzzParameters(1 / 6);
    await fc.assert(
      fc.asyncProperty(fc.array(oneCase, { minLength: PARALLEL, maxLength: PARALLEL }), async (cases) => {
        await Promise.all(
          cases.map(async ({ path, dialect, state, frames }) => {
            const client = await WireClient.open(`${server.url}${path}`);
            try {
              await enterState(client, dialect, state);
              for (const f of frames) client.send(f);
              await probe(client, dialect, state, frames);
              assertCaseOutcome(client, frames, maxPayload);
            } finally {
              await client.close();
            }
          }),
        );
        assertNothingAboveWarn(lines);
      }),
      // Each run drives PARALLEL sessions; a failure is reported as it is, without shrinking over the network.
      { ...parameters, numRuns: Math.max(1, Math.round(numRuns / PARALLEL)), endOnFailure: true },
    );

    const from = bystander.events.length;
    bystander.send({ kind: 'text', bytes: Buffer.from(JSON.stringify({ type: 'InjectUserMessage', content: 'still here' })) });
    await until(() => bystander.events.slice(from).some((e) => e['type'] === 'ConversationText' && e['content'] === 'You said: still here.'), 'the bystander reply');
    assert.deepEqual(bystander.events.filter((e) => e['type'] === 'Error'), []);
    await bystander.close();
    await until(() => server.sessionCount() === 0, 'every session to be freed');
    assertNothingAboveWarn(lines);
  });
});

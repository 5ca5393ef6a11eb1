import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { Connection } from '../../src/server/connection.js';
import type { ConnectionDeps } from '../../src/server/connection.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { MemorySocket, STATES, assertCaseOutcome, assertNothingAboveWarn, capturingLogger, enterState, frame, fuzzParameters, probe } from './support.js';
import type { Dialect } from './support.js';

/** Rejections and exceptions nobody handled while a case ran: each is a crash waiting to happen. */
const unhandled: unknown[] = [];
const record = (err: unknown): void => {
  unhandled.push(err);
};

describe('fuzz: connections in memory, every dialect and session state', () => {
  const { logger, lines } = capturingLogger();
  const config = { ...loadServerConfig({}), idleTimeoutMs: 60_000, maxBinaryFrameBytes: 64 * 1024 };
  const metrics = new ServerMetrics();
  const open = new Set<Connection>();
  let deps: ConnectionDeps;
  before(() => {
    deps = { config, providers: scriptedProviders({ standIn: true }), metrics, logger, env: {}, createAudio: sessionAudioFactory(config.playoutLeadMs) };
    process.on('unhandledRejection', record);
    process.on('uncaughtException', record);
  });
  after(() => {
    process.off('unhandledRejection', record);
    process.off('uncaughtException', record);
  });

  it('answer random and mutated frames with coded events, and free every session', async () => {
    const dialect = fc.constantFrom<Dialect>('v1', 'ea');
    const state = fc.constantFrom(...STATES);
    const frames = fc.array(frame(config.maxBinaryFrameBytes), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(dialect, state, frames, async (dialect, state, frames) => {
        lines.length = 0;
        const socket = new MemorySocket();
        const connection = new Connection(socket as unknown as WebSocket, dialect, deps, (c) => open.delete(c));
        open.add(connection);
        try {
          await enterState(socket, dialect, state);
          for (const f of frames) socket.send(f);
          await probe(socket, dialect, state, frames);
          assertCaseOutcome(socket, frames);
          assertNothingAboveWarn(lines);
          assert.deepEqual(unhandled, []);
        } finally {
          socket.close(1000);
        }
        assert.equal(open.has(connection), false, 'the session was freed');
      }),
      fuzzParameters(1 / 6),
    );
  });
});

// The server's log lines: readable text for a person at a terminal, JSON for machines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createLogger, logFormat, textLine } from '../../src/core/logger.js';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import { AgentSocket } from '../support/agent-socket.js';
import { scriptedProviders } from '../support/scripted-providers.js';

test('the log format is text on a terminal and JSON otherwise, unless PARLEY_LOG_FORMAT says', () => {
  assert.equal(logFormat({}, true), 'text');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ PARLEY_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ PARLEY_LOG_FORMAT: 'text' }, false), 'text');
  assert.equal(logFormat({ PARLEY_LOG_FORMAT: 'fancy' }, false), 'json');
});

test('a text line holds the time, level, message and fields, and secrets are redacted before it is written', () => {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    written.push(chunk);
    return true;
  });
  try {
    createLogger('info', 'text').info({ session: 'ab12', key: 'sk-secret', path: '/v1/agent converse' }, 'session opened');
  } finally {
    process.stdout.write = write;
  }
  assert.equal(written.length, 1);
  assert.match(written[0] ?? '', /^\d\d:\d\d:\d\d INFO {2}session opened {2}session=ab12 key=\[redacted\] path="\/v1\/agent converse"\n$/);
  assert.doesNotMatch(written[0] ?? '', /sk-secret/);
  assert.equal(textLine('not json\n'), 'not json\n');
});

test("a client's protocol mistake is logged at debug, not at info", async () => {
  const lines: Array<{ level: number; msg: string; code?: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const config = { ...loadServerConfig({}), port: 0, host: '127.0.0.1' };
  const server = await startServer({ config, providers: scriptedProviders(), createAudio: sessionAudioFactory(config.playoutLeadMs), logger, env: {} });
  try {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.sendRaw('{ not json');
    await socket.waitFor('Error');
    await socket.closed();
    const mistake = lines.filter((l) => l.code === 'UNPARSABLE_CLIENT_MESSAGE');
    assert.equal(mistake.length, 1, 'logged once');
    assert.equal(mistake[0]?.level, 20, 'at debug');
    assert.ok(lines.some((l) => l.level === 30 && l.msg === 'session opened'), 'the session itself is still an info line');
  } finally {
    await server.close();
  }
});

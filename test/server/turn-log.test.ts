import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { sessionAudioFactory } from '../../src/runtime/session-audio.js';
import { loadServerConfig } from '../../src/server/config.js';
import { startServer } from '../../src/server/index.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { END_SILENCE_MS, scriptedProviders } from '../support/scripted-providers.js';

const HEARD = 'go forward ten meters';

type Line = Record<string, unknown>;

/** One conversation (a greeting, then one spoken turn) on a server logging at info into `lines`. */
async function converse(env: Record<string, string>): Promise<Line[]> {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const config = { ...loadServerConfig(env), port: 0, host: '127.0.0.1' };
  const server = await startServer({ config, providers: scriptedProviders(), createAudio: sessionAudioFactory(config.playoutLeadMs), logger, env: {} });
  try {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000, container: 'none' } },
      agent: {
        listen: { provider: { type: 'scripted', transcripts: [HEARD] } },
        think: { provider: { type: 'scripted' } },
        speak: { provider: { type: 'scripted' } },
        greeting: 'Hello.',
      },
    });
    await socket.waitFor('LatencyReport');
    await streamAudio(socket, Buffer.concat([readFileSync(await fixturePath('goforward')), silence(END_SILENCE_MS + 400)]), { speed: 4 });
    await socket.waitFor('LatencyReport', (e) => socket.events('LatencyReport').indexOf(e) === 1);
    socket.close();
    await socket.closed();
  } finally {
    await server.close();
  }
  return lines;
}

describe('the log: one info line per turn', () => {
  it('says each reply with its figures, and none of the words unless PARLEY_LOG_TRANSCRIPTS is on', async () => {
    const lines = await converse({});
    const turns = lines.filter((line) => line['msg'] === 'turn');
    assert.equal(turns.length, 2, 'the greeting and the answer');
    const [greeting, answer] = turns;
    assert.equal(greeting?.['level'], 30);
    assert.equal(greeting?.['turn'], 1);
    assert.equal(greeting?.['answers'], 'agent');
    assert.equal(greeting?.['stt_ms'], undefined, 'a greeting answers no speech');
    assert.equal(answer?.['turn'], 2);
    assert.equal(answer?.['answers'], 'user');
    assert.ok(typeof answer?.['session'] === 'string', 'the line names its session');
    assert.ok(Number(answer?.['stt_ms']) >= END_SILENCE_MS, `stt_ms ${String(answer?.['stt_ms'])} holds the endpointing`);
    assert.ok(Number(answer?.['total_ms']) >= Number(answer?.['stt_ms']));
    const words = lines.filter((line) => JSON.stringify(line).includes(HEARD) || JSON.stringify(line).includes('Hello.'));
    assert.deepEqual(words, [], 'no user or agent words in the log');
  });

  it('with PARLEY_LOG_TRANSCRIPTS=on, each ConversationText is logged with its turn', async () => {
    const lines = await converse({ PARLEY_LOG_TRANSCRIPTS: 'on' });
    const texts = lines.filter((line) => line['msg'] === 'conversation text').map((line) => [line['turn'], line['role'], line['content']]);
    assert.deepEqual(texts.slice(0, 2), [
      [1, 'assistant', 'Hello.'],
      [2, 'user', HEARD],
    ]);
  });
});

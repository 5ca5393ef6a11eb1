import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { AgentSocket, silence, streamAudio } from '../support/agent-socket.js';
import { fixturePath } from '../support/fixtures.js';
import { END_SILENCE_MS } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';

/** The scripted recognizer's known delay after the endpointing silence. */
const TRANSCRIBE_MS = 150;
/** The fields of a V1 LatencyReport (docs/protocol-decisions.md#latency-events-on-every-turn). */
const V1_FIELDS = ['stt_latency', 'ttt_token_latency', 'ttt_text_latency', 'ttt_tool_latency', 'ttt_thinking_latency', 'tts_latency', 'total_latency'];


describe('latency counted from the end of the user speech', () => {
  let server: RunningServer;
  let speech: Buffer;
  before(async () => {
    server = await startTestServer();
    speech = readFileSync(await fixturePath('goforward'));
  });
  after(() => server.close());

  it('holds endpointing and transcription: stt_latency sent, total_latency at least their sum, in the events and the histogram', async () => {
    const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    socket.send({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000, container: 'none' } },
      agent: {
        listen: { provider: { type: 'scripted', transcripts: ['go forward ten meters'], transcribe_ms: TRANSCRIBE_MS } },
        think: { provider: { type: 'scripted' } },
        speak: { provider: { type: 'scripted' } },
        greeting: 'Hello.',
      },
    });
    // The greeting's report: a reply to no speech has no stt_latency.
    const greeting = await socket.waitFor('LatencyReport');
    assert.equal(greeting['stt_latency'], undefined);
    await streamAudio(socket, Buffer.concat([speech, silence(END_SILENCE_MS + 400)]), { speed: 4 });
    const started = await socket.waitFor('AgentStartedSpeaking', (e) => socket.events('AgentStartedSpeaking').indexOf(e) === 1);
    const report = await socket.nextEvent('LatencyReport');
    const floor = (END_SILENCE_MS + TRANSCRIBE_MS) / 1000;
    assert.equal(typeof report['stt_latency'], 'number');
    assert.ok((report['stt_latency'] as number) >= floor, `stt_latency ${String(report['stt_latency'])} s holds the ${floor} s of endpointing and transcription`);
    assert.ok((report['total_latency'] as number) >= (report['stt_latency'] as number), 'total_latency holds stt_latency');
    assert.ok((started['total_latency'] as number) >= floor, `AgentStartedSpeaking total_latency ${String(started['total_latency'])} s holds them too`);
    assert.deepEqual(Object.keys(report).filter((key) => key !== 'type' && !V1_FIELDS.includes(key)), []);
    socket.close();
    await socket.closed();
    // The histogram counts the answered speech only, not the greeting.
    const metrics = await (await fetch(`${server.url.replace(/^ws/, 'http')}/metrics`)).text();
    const count = Number(/^parley_turn_latency_seconds_count (\S+)$/m.exec(metrics)?.[1]);
    const sum = Number(/^parley_turn_latency_seconds_sum (\S+)$/m.exec(metrics)?.[1]);
    assert.equal(count, 1);
    assert.ok(sum >= floor, `histogram sum ${sum} s holds the ${floor} s`);
  });
});

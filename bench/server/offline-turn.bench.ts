/**
 * End to end with the embedded classic engines, as `npm start` runs: a spoken question streamed
 * in real time over a WebSocket; the figure is the time from the end of the user's speech (the
 * last voiced frame sent) to the first byte of the agent's answer, over repeated turns. The
 * endpointing silence the turn detector waits for is the floor of that figure and is printed
 * beside it, measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import { createFliteSpeak } from '../../src/speak/flite/flite-speak.js';
import { AgentSocket, silence } from '../../test/support/agent-socket.js';
import { printTable, summarize } from '../harness.js';

const TURNS = 12;
const QUESTIONS = ['What time is it?', 'What is your name?', 'How are you?', 'What day is it?'];

async function speak(text: string): Promise<Buffer> {
  const voice = createFliteSpeak({ provider: { type: 'flite', voice: 'rms' } }, { env: {}, logger: silentLogger(), warn: () => undefined });
  const chunks: Buffer[] = [];
  for await (const chunk of voice.synthesize(text, new AbortController().signal)) {
    chunks.push(Buffer.from(chunk.samples.buffer, chunk.samples.byteOffset, chunk.samples.byteLength));
  }
  return Buffer.concat(chunks);
}

/** Streams 20 ms frames at real time; resolves with the send time of the last frame. */
async function realTime(socket: AgentSocket, pcm: Buffer): Promise<number> {
  const frame = 640;
  const start = performance.now();
  let last = start;
  for (let i = 0, offset = 0; offset < pcm.length; i++, offset += frame) {
    const due = start + i * 20;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    socket.sendAudio(pcm.subarray(offset, offset + frame));
    last = performance.now();
  }
  return last;
}

export default async function (): Promise<void> {
  const endpointingMs = Number(process.env['PARLEY_ENDPOINTING_MS'] ?? 700);
  const parley = await startParley({ env: { PATH: process.env['PATH'], PARLEY_ENDPOINTING_MS: String(endpointingMs) }, overrides: { port: 0 }, logger: silentLogger() });
  const socket = await AgentSocket.open(`${parley.server.url}/v1/agent/converse`);
  socket.send({
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: { listen: { provider: { type: 'local' } }, think: { provider: { type: 'rules' } }, speak: { provider: { type: 'flite' } } },
  });
  await socket.waitFor('SettingsApplied');
  const questions = await Promise.all(QUESTIONS.map(speak));
  const endToFirstAudio: number[] = [];
  const serverTotal: number[] = [];
  for (let turn = 0; turn < TURNS; turn++) {
    const question = questions[turn % questions.length] as Buffer;
    const mark = socket.received.length;
    const speechEnd = await realTime(socket, question);
    const firstAudio = new Promise<number>((resolve) => {
      socket.ws.once('message', function check(this: unknown, _data: unknown, isBinary: boolean) {
        if (isBinary) resolve(performance.now());
        else socket.ws.once('message', check);
      });
    });
    await realTime(socket, silence(Math.max(1500, endpointingMs + 800)));
    const heardAt = await firstAudio;
    endToFirstAudio.push(heardAt - speechEnd);
    const started = await socket.waitFor('AgentStartedSpeaking', (e) => socket.events('AgentStartedSpeaking').indexOf(e) >= socket.received.slice(0, mark).filter((r) => r.kind === 'event' && r.event.type === 'AgentStartedSpeaking').length);
    serverTotal.push(Number(started.total_latency) * 1000);
    await socket.waitFor('AgentAudioDone', () => true);
    await new Promise((r) => setTimeout(r, 300));
  }
  socket.close();
  await parley.close();
  const e2e = summarize(endToFirstAudio);
  const server = summarize(serverTotal);
  printTable(`Offline agent turn (pocketsphinx + rules + flite), ${TURNS} spoken turns in real time`, [
    { figure: 'end of user speech → first agent audio (ms)', median: e2e.median, p95: e2e.p95, min: e2e.min, max: e2e.max },
    { figure: 'of which endpointing silence (ms, configured floor)', median: endpointingMs, p95: endpointingMs, min: endpointingMs, max: endpointingMs },
    { figure: 'server-reported total_latency: end of speech (as the VAD places it) → first audio (ms)', median: server.median, p95: server.p95, min: server.min, max: server.max },
  ]);
}

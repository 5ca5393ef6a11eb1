/**
 * What eager replies save (docs/turn-taking.md#eager-replies): a user turn streamed at real time
 * over a WebSocket, answered by an LLM whose first token takes BENCH_LLM_MS (default 300); the
 * figure is the wait from the end of the user's speech (the last voiced frame sent) to the first
 * byte of the answer, with eager replies off and on (eager_reply_ms BENCH_EAGER_MS, default 250).
 * The listener is the scripted one: its interim transcript equals its final, as a streaming cloud
 * recognizer's mostly does, and it ends a turn after 600 ms of silence. A third run pauses inside
 * each turn, longer than the eager silence and shorter than the endpointing: the eager reply is
 * thrown away, and the figure to watch is the LLM requests per turn.
 *
 *   npm run bench -- eager
 */
import { performance } from 'node:perf_hooks';
import { AgentSocket } from '../../test/support/agent-socket.js';
import { startTestServer } from '../../test/support/test-server.js';
import { printTable, summarize } from '../harness.js';
import type { Row } from '../harness.js';
import { thinkRequests } from '../../test/support/scripted-providers.js';

const TURNS = Number(process.env['BENCH_TURNS'] ?? 8);
const LLM_MS = Number(process.env['BENCH_LLM_MS'] ?? 300);
const EAGER_MS = Number(process.env['BENCH_EAGER_MS'] ?? 250);
const FRAME_BYTES = 640;
// Complete questions: one ending on a digit would wait for its rest (cut-off protection).
const CITIES = ['paris', 'london', 'tokyo', 'chicago', 'lima', 'oslo', 'cairo', 'delhi'];

function tone(ms: number): Buffer {
  const samples = new Int16Array((ms * 16000) / 1000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return Buffer.from(samples.buffer);
}

/** Streams 20 ms frames at real time until `until()` holds (or the audio runs out); resolves with the send time of the last frame. */
async function realTime(socket: AgentSocket, pcm: Buffer | 'silence', until: () => boolean = () => false, maxMs = 15_000): Promise<number> {
  const start = performance.now();
  let last = start;
  const silence = Buffer.alloc(FRAME_BYTES);
  for (let i = 0; ; i++) {
    const offset = i * FRAME_BYTES;
    if (pcm !== 'silence' && offset >= pcm.length) return last;
    if (until() || i * 20 > maxMs) return last;
    const wait = start + i * 20 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    socket.sendAudio(pcm === 'silence' ? silence : pcm.subarray(offset, offset + FRAME_BYTES));
    last = performance.now();
  }
}

async function run(name: string, eagerMs: number, turn: Buffer): Promise<Row> {
  const server = await startTestServer({ idleTimeoutMs: 60_000 });
  const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
  const label = `scripted/eager-bench-${name}`;
  socket.send({
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: {
      listen: { provider: { type: 'scripted', transcripts: Array.from({ length: TURNS }, (_, n) => `what is the weather in ${CITIES[n % CITIES.length] ?? ''}`), interim_after_ms: 400, eager_reply_ms: eagerMs } },
      think: { provider: { type: 'scripted', model: label.slice('scripted/'.length), first_token_delay_ms: LLM_MS } },
      speak: { provider: { type: 'scripted' } },
    },
  });
  await socket.waitFor('SettingsApplied');
  const waits: number[] = [];
  const requestsBefore = thinkRequests.filter((r) => r.label === label).length;
  for (let n = 0; n < TURNS; n++) {
    const done = socket.events('AgentAudioDone').length;
    let firstAudio: number | undefined;
    const onMessage = (_data: unknown, isBinary: boolean): void => {
      if (isBinary && firstAudio === undefined) firstAudio = performance.now();
    };
    socket.ws.on('message', onMessage);
    const speechEnd = await realTime(socket, turn);
    await realTime(socket, 'silence', () => socket.events('AgentAudioDone').length > done);
    socket.ws.off('message', onMessage);
    if (firstAudio === undefined) throw new Error(`${name}: turn ${n + 1} got no answer`);
    waits.push(firstAudio - speechEnd);
  }
  const requests = thinkRequests.filter((r) => r.label === label).length - requestsBefore;
  socket.close();
  await server.close();
  const stats = summarize(waits);
  return { run: name, 'eager_reply_ms': eagerMs, 'end of speech → first audio, median ms': stats.median, 'p95 ms': stats.p95, 'LLM requests per turn': requests / TURNS };
}

export default async function (): Promise<void> {
  const whole = tone(800);
  const paused = Buffer.concat([tone(500), Buffer.alloc((400 * 16000 * 2) / 1000), tone(300)]);
  const rows = [await run('off', 0, whole), await run('on', EAGER_MS, whole), await run('on, pause inside the turn', EAGER_MS, paused)];
  printTable(`Eager replies (${TURNS} turns each; LLM first token ${LLM_MS} ms; listener endpointing 600 ms)`, rows);
}

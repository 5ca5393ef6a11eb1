/**
 * Load with remote providers: how much Parley itself adds to a turn, and whether audio keeps
 * flowing, as concurrent sessions grow. Three processes: this one (the callers), the server
 * (parley-process.ts) and fake providers with fixed delays (fake-providers.ts: transcription
 * 100 ms, first LLM token 200 ms, first TTS audio 80 ms). Each caller streams real speech at real
 * time (the cards clips, 16 kHz), three turns; during the second answer it speaks again (a
 * barge-in). Parley's overhead per turn = the caller's wait from the end of its speech to the
 * first agent audio byte, less the known delays: endpointing (700 ms of silence) and the three
 * providers'. Prints a table, then one JSON object.
 *
 *   BENCH_SESSIONS=1,50,100,200 npm run bench -- load
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { AgentSocket } from '../../test/support/agent-socket.js';
import { cardsClips, readPcm16 } from '../../test/support/fixtures.js';
import { printTable, summarize } from '../harness.js';
import { DELAYS } from './fake-providers.js';
import { ParleyProcess } from './load.js';

const FRAME_MS = 20;
const FRAME_BYTES = 640;
const ENDPOINTING_MS = 700;
const KNOWN_MS = ENDPOINTING_MS + DELAYS.transcribeMs + DELAYS.firstTokenMs + DELAYS.firstAudioMs;
/** The energy detector's start (100 ms voiced) and level (−45 dBFS): where it sees speech begin and end. */
const DETECTOR_START_MS = 100;
const VOICED_RMS = 32768 * 10 ** (-45 / 20);
const ANSWER_TIMEOUT_MS = 20_000;
/** A gap in agent audio longer than the playout lead plus a frame is heard as a stall. */
const STALL_MS = 250;
const MB = 1024 * 1024;

type Output = 'linear16-16k' | 'mulaw-8k';
const OUTPUTS: Record<Output, { encoding: string; sample_rate: number; bytesPerMs: number }> = {
  'linear16-16k': { encoding: 'linear16', sample_rate: 16000, bytesPerMs: 32 },
  'mulaw-8k': { encoding: 'mulaw', sample_rate: 8000, bytesPerMs: 8 },
};

interface Clip {
  audio: Buffer;
  /** Where the speech in it ends (the last voiced frame), ms. */
  speechEndMs: number;
}

function clips(): Clip[] {
  return cardsClips().map((clip) => {
    const { samples } = readPcm16(clip.path);
    let last = 0;
    for (let f = 0; (f + 1) * 320 <= samples.length; f++) {
      let energy = 0;
      for (let i = f * 320; i < (f + 1) * 320; i++) energy += (samples[i] ?? 0) ** 2;
      if (Math.sqrt(energy / 320) > VOICED_RMS) last = f + 1;
    }
    return { audio: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength), speechEndMs: last * FRAME_MS };
  });
}

const SILENCE = Buffer.alloc(FRAME_BYTES);

interface Outcome {
  opened: boolean;
  turns: number;
  answered: number;
  overheadMs: number[];
  bargeInMs: number[];
  replies: number;
  stalledReplies: number;
}

/** One caller on the shared 20 ms clock: speech while a clip is queued, silence otherwise. */
class Caller {
  socket: AgentSocket | undefined;
  readonly outcome: Outcome = { opened: false, turns: 0, answered: 0, overheadMs: [], bargeInMs: [], replies: 0, stalledReplies: 0 };
  private clip: Clip | undefined;
  private offset = 0;
  private onSpeechEnd: ((at: number) => void) | undefined;
  private onClipEnd: (() => void) | undefined;

  tick(now: number): void {
    const socket = this.socket;
    if (socket === undefined || socket.closeCode !== undefined) return;
    const clip = this.clip;
    if (clip === undefined) return socket.sendAudio(SILENCE);
    socket.sendAudio(clip.audio.subarray(this.offset, this.offset + FRAME_BYTES));
    this.offset += FRAME_BYTES;
    if (this.onSpeechEnd !== undefined && this.offset >= (clip.speechEndMs * FRAME_BYTES) / FRAME_MS) {
      this.onSpeechEnd(now + FRAME_MS);
      this.onSpeechEnd = undefined;
    }
    if (this.offset >= clip.audio.length) {
      this.clip = undefined;
      this.onClipEnd?.();
    }
  }

  /** Queues a clip; resolves with the wall time at which its speech ended (as the caller hears it). */
  say(clip: Clip): { speechEnd: Promise<number>; clipEnd: Promise<void> } {
    this.clip = clip;
    this.offset = 0;
    return {
      speechEnd: new Promise((resolve) => (this.onSpeechEnd = resolve)),
      clipEnd: new Promise((resolve) => (this.onClipEnd = resolve)),
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Agent audio arrivals of one reply: the first byte, the last, and whether a gap was a stall. */
function watchAudio(socket: AgentSocket): { first: () => number | undefined; last: () => number | undefined; bytes: () => number; stalled: () => boolean; stop: () => void } {
  let first: number | undefined;
  let last: number | undefined;
  let bytes = 0;
  let stalled = false;
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    if (!isBinary) return;
    const now = performance.now();
    if (last !== undefined && now - last > STALL_MS) stalled = true;
    first ??= now;
    last = now;
    bytes += data.length;
  };
  socket.ws.on('message', onMessage);
  return { first: () => first, last: () => last, bytes: () => bytes, stalled: () => stalled, stop: () => socket.ws.off('message', onMessage) };
}

async function runCaller(caller: Caller, url: string, output: Output, speech: Clip[], index: number, startDelayMs: number): Promise<void> {
  await sleep(startDelayMs);
  const socket = await AgentSocket.open(`${url}/v1/agent/converse`).catch(() => undefined);
  if (socket === undefined) return;
  caller.socket = socket;
  const { encoding, sample_rate } = OUTPUTS[output];
  socket.send({
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding, sample_rate, container: 'none' } },
    agent: {
      listen: { provider: { type: 'open_ai', model: 'whisper-1' } },
      think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' } },
      speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
    },
  });
  if ((await socket.waitFor('SettingsApplied', () => true, 30_000).catch(() => undefined)) === undefined) return socket.close();
  caller.outcome.opened = true;
  const clip = (turn: number): Clip => speech[(index + turn) % speech.length] as Clip;
  for (let turn = 0; turn < 2; turn++) {
    caller.outcome.turns++;
    const done = socket.events('AgentAudioDone').length;
    const audio = watchAudio(socket);
    const spoken = caller.say(clip(turn));
    const speechEnd = await spoken.speechEnd;
    const replied = await (turn === 0
      ? socket.waitFor('AgentAudioDone', () => socket.events('AgentAudioDone').length > done, ANSWER_TIMEOUT_MS)
      : socket.waitFor('AgentStartedSpeaking', () => true, ANSWER_TIMEOUT_MS)
    ).catch(() => undefined);
    const firstAt = audio.first();
    if (replied !== undefined && firstAt !== undefined) {
      caller.outcome.answered++;
      caller.outcome.overheadMs.push(firstAt - speechEnd - KNOWN_MS);
    }
    if (turn === 0) {
      caller.outcome.replies++;
      if (audio.stalled()) caller.outcome.stalledReplies++;
      audio.stop();
      await spoken.clipEnd;
      await sleep(300);
      continue;
    }
    // The second answer: half a second of it, then the caller speaks over it.
    for (let waited = 0; audio.bytes() < 500 * OUTPUTS[output].bytesPerMs && waited < ANSWER_TIMEOUT_MS; waited += 20) await sleep(20);
    await spoken.clipEnd;
    caller.outcome.turns++;
    const barge = caller.say(clip(turn + 1));
    const bargeStart = performance.now();
    const thirdDone = socket.events('AgentAudioDone').length;
    await socket.waitFor('UserStartedSpeaking', () => true, ANSWER_TIMEOUT_MS).catch(() => undefined);
    await sleep(600);
    const lastOfInterrupted = audio.last();
    audio.stop();
    if (lastOfInterrupted !== undefined) caller.outcome.bargeInMs.push(Math.max(0, lastOfInterrupted - (bargeStart + DETECTOR_START_MS)));
    const third = watchAudio(socket);
    const thirdEnd = await barge.speechEnd;
    const answered = await socket.waitFor('AgentAudioDone', () => socket.events('AgentAudioDone').length > thirdDone, ANSWER_TIMEOUT_MS).catch(() => undefined);
    const thirdFirst = third.first();
    if (answered !== undefined && thirdFirst !== undefined) {
      caller.outcome.answered++;
      caller.outcome.overheadMs.push(thirdFirst - thirdEnd - KNOWN_MS);
    }
    caller.outcome.replies++;
    if (third.stalled()) caller.outcome.stalledReplies++;
    third.stop();
  }
  if (process.env['BENCH_DEBUG'] !== undefined) console.log(socket.events().map((e) => e.type === 'ConversationText' ? `${e.type}:${String(e.role)}:${String(e.content)}` : e.type).join(' | '));
  socket.close();
  await socket.closed();
}

async function startFakes(): Promise<{ url: string; stop: () => void }> {
  const child = fork(fileURLToPath(new URL('./fake-providers.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.on('message', (m: { t: string; port: number }) => m.t === 'listening' && resolve(m.port)));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.send('stop') };
}

export default async function (): Promise<void> {
  const counts = (process.env['BENCH_SESSIONS'] ?? '1,50,100,200').split(',').map(Number);
  const outputs = (process.env['BENCH_OUTPUTS'] ?? 'linear16-16k,mulaw-8k').split(',') as Output[];
  const fakes = await startFakes();
  const server = await ParleyProcess.start({
    PARLEY_MAX_SESSIONS: String(Math.max(...counts)),
    OPENAI_API_KEY: 'fake',
    OPENAI_BASE_URL: `${fakes.url}/v1`,
    DEEPGRAM_API_KEY: 'fake',
    DEEPGRAM_BASE_URL: fakes.url,
  });
  const speech = clips();
  const rows = [];
  const results = [];
  for (const output of outputs) {
    for (const sessions of counts) {
      const callers = Array.from({ length: sessions }, () => new Caller());
      const baseline = await server.measure();
      const started = performance.now();
      let running = true;
      let frame = 0;
      const ticking = (async () => {
        while (running) {
          const due = Math.floor((performance.now() - started) / FRAME_MS);
          for (; frame < due; frame++) for (const caller of callers) caller.tick(performance.now());
          await sleep(started + (frame + 1) * FRAME_MS - performance.now());
        }
      })();
      await Promise.all(callers.map((caller, i) => runCaller(caller, server.url, output, speech, i, (i * 3000) / sessions)));
      running = false;
      await ticking;
      const seconds = (performance.now() - started) / 1000;
      const after = await server.measure();
      await server.idle();
      const outcomes = callers.map((c) => c.outcome);
      const overhead = outcomes.flatMap((o) => o.overheadMs);
      const barge = outcomes.flatMap((o) => o.bargeInMs);
      const o = overhead.length > 0 ? summarize(overhead) : undefined;
      const b = barge.length > 0 ? summarize(barge) : undefined;
      const result = {
        output,
        sessions,
        opened: outcomes.filter((x) => x.opened).length,
        turns: `${outcomes.reduce((n, x) => n + x.answered, 0)}/${outcomes.reduce((n, x) => n + x.turns, 0)}`,
        'overhead p50 ms': o?.median ?? NaN,
        'overhead p95 ms': o?.p95 ?? NaN,
        'loop delay p99 ms': after.loop.p99Ms,
        'loop delay max ms': after.loop.maxMs,
        'barge-in p95 ms': b?.p95 ?? NaN,
        'stalled replies': `${outcomes.reduce((n, x) => n + x.stalledReplies, 0)}/${outcomes.reduce((n, x) => n + x.replies, 0)}`,
        'cpu ms per session-s': (after.cpuMs - baseline.cpuMs) / (sessions * seconds),
        'rss MB': after.memory.rss / MB,
      };
      rows.push(result);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  }
  await server.stop();
  fakes.stop();
  printTable(
    `Load with remote providers (fake, own process: transcription ${DELAYS.transcribeMs} ms, first token ${DELAYS.firstTokenMs} ms, first audio ${DELAYS.firstAudioMs} ms); overhead = end of speech → first agent audio − ${KNOWN_MS} ms known`,
    rows,
  );
  console.log(JSON.stringify({ benchmark: 'load', results }));
}

/**
 * Load with remote providers: how much Parley itself adds to a turn, and whether audio keeps
 * flowing, as concurrent sessions grow. Three processes: this one (the callers), the server
 * (parley-process.ts, a fresh one for every row) and fake providers with fixed delays
 * (fake-providers.ts: transcription 100 ms, first LLM token 200 ms, first TTS audio 80 ms).
 *
 * Each caller opens its session, listens to silence until every caller is in (the idle figures),
 * then streams real speech at real time (the cards clips, 16 kHz) for three turns: an answer heard
 * to its end, a second one that it interrupts half a second in by speaking again, and the answer
 * to that. A caller is a live microphone: each 20 ms frame goes out once its 20 ms have passed (a
 * clip's last, short frame is padded with silence, so the stream keeps its frame grid). Callers'
 * microphones are not in step: caller i's frames end i × 20/N ms into each 20 ms, as independent
 * devices' would (BENCH_IN_STEP=1 sends every caller's frame at the same moment, the worst case:
 * the server then reads N frames in one burst every 20 ms). Every figure is the caller's, from what
 * its socket received:
 *   turns                 answered turns (AgentStartedSpeaking and audio after the speech) / turns spoken
 *   overhead              end of the caller's speech (the end of its last frame above −45 dBFS, the
 *                         energy detector's level, on the caller's real-time clock) → first agent
 *                         audio byte, less the known delays: endpointing (700 ms of silence) and
 *                         the three providers'
 *   barge-in              the server's detector's sight of the interrupting speech (the frame on
 *                         which EnergyTurnDetector fires, sent) → the last byte of the interrupted answer
 *   stalled replies       replies whose audio ran dry at the caller: a player that starts with the
 *                         first byte and plays without pause would have waited (by more than one
 *                         frame) for the next one; the interrupted reply counts up to the barge-in
 *   rss per idle session  server RSS after GC with every session open and silent, less before any
 *   rss per talking       the largest server RSS sampled while talking, less before any session
 *   first / later turns   overhead median of each caller's first answered turn, and of its later ones
 *   stt / ttt / tts       the server's own LatencyReport, each stage less its known delay: where the
 *                         overhead lies (stt: endpointing and transcription; ttt: first token; tts: first audio)
 *   loop lateness         the server's event loop: how late a timer due every LOOP_RESOLUTION_MS
 *                         fired (monitorEventLoopDelay records the whole interval between firings,
 *                         so an idle loop would read the resolution itself; loop-lateness.ts
 *                         subtracts it)
 *   callers / fakes cpu   what the other two processes took of the same cores (% of one), and their
 *                         own event-loop lateness (the callers' delays what they see, the fakes' what they answer)
 * Prints a table, then one JSON object. BENCH_CPU_PROF=dir writes the server's CPU profiles there;
 * BENCH_STALLS=1 prints where in its reply each stall fell.
 *
 *   BENCH_SESSIONS=1,50,100,200 BENCH_OUTPUTS=linear16-16k,mulaw-8k npm run bench -- load
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { cardsClips, readPcm16 } from '../../test/support/fixtures.js';
import { printTable, summarize } from '../harness.js';
import { DELAYS } from './fake-providers.js';
import { ParleyProcess } from './load.js';
import { LOOP_RESOLUTION_MS, loopLatenessMs } from './loop-lateness.js';
import { EnergyTurnDetector } from '../../src/listen/cloud/energy-turn-detector.js';

const FRAME_MS = 20;
const FRAME_BYTES = 640;
const ENDPOINTING_MS = 700;
const KNOWN_MS = ENDPOINTING_MS + DELAYS.transcribeMs + DELAYS.firstTokenMs + DELAYS.firstAudioMs;
/** The energy detector's level (−45 dBFS): where the speech of a clip ends. */
const VOICED_RMS = 32768 * 10 ** (-45 / 20);
const ANSWER_TIMEOUT_MS = 20_000;
/** A player's wait past this for the next audio is a stall (one frame of network jitter is not). */
const STALL_TOLERANCE_MS = FRAME_MS;
/** Callers' starts are spread over this, as are their first turns. */
const SPREAD_MS = 3000;
/** Silence every session listens to once all are open, before the idle measure. */
const IDLE_MS = 2000;
const MB = 1024 * 1024;

type Output = 'linear16-16k' | 'mulaw-8k';
const OUTPUTS: Record<Output, { encoding: string; sample_rate: number; bytesPerMs: number }> = {
  'linear16-16k': { encoding: 'linear16', sample_rate: 16000, bytesPerMs: 32 },
  'mulaw-8k': { encoding: 'mulaw', sample_rate: 8000, bytesPerMs: 8 },
};

interface Clip {
  audio: Buffer;
  /** The frame on whose arrival the server's detector sees the speech begin. */
  detectedFrame: number;
  /** Where the speech in it ends (after the last voiced frame), ms. */
  speechEndMs: number;
}

/** The frame of `samples` (after silence, as a caller sends it) at which the server's energy detector calls the start of speech. */
function detectedFrame(samples: Int16Array): number {
  let frame = 0;
  let detected: number | undefined;
  const detector = new EnergyTurnDetector({ speechStart: () => (detected ??= frame), speechEnd: () => undefined });
  for (let k = 0; k < 50; k++) detector.write(new Int16Array(320));
  for (; detected === undefined && (frame + 1) * 320 <= samples.length; frame++) detector.write(samples.subarray(frame * 320, (frame + 1) * 320));
  return detected ?? 0;
}

function clips(): Clip[] {
  return cardsClips().map((clip) => {
    const { samples: recorded } = readPcm16(clip.path);
    // Whole frames: a microphone's stream goes on in the same grid after the speech.
    const samples = new Int16Array(Math.ceil(recorded.length / 320) * 320);
    samples.set(recorded);
    let last = 0;
    for (let f = 0; (f + 1) * 320 <= samples.length; f++) {
      let energy = 0;
      for (let i = f * 320; i < (f + 1) * 320; i++) energy += (samples[i] ?? 0) ** 2;
      if (Math.sqrt(energy / 320) > VOICED_RMS) last = f + 1;
    }
    return { audio: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength), detectedFrame: detectedFrame(samples), speechEndMs: last * FRAME_MS };
  });
}

const SILENCE = Buffer.alloc(FRAME_BYTES);

/** One reply's audio as the caller receives it, played by a player that never pauses. */
class ReplyAudio {
  started = false;
  first: number | undefined;
  last: number | undefined;
  bytes = 0;
  stalls = 0;
  /** Arrivals from then on are not judged (the interrupted reply, from the barge-in). */
  judgeUntil = Infinity;
  private playedTo = 0;

  constructor(private readonly bytesPerMs: number) {}

  arrived(now: number, length: number): void {
    const ms = length / this.bytesPerMs;
    if (this.first === undefined) {
      this.first = now;
      this.playedTo = now;
    } else if (now > this.playedTo + STALL_TOLERANCE_MS && now < this.judgeUntil) {
      this.stalls++;
      if (process.env['BENCH_STALLS'] !== undefined) console.error(`stall: ${(this.playedTo - this.first).toFixed(0)} ms into the reply, ${(now - this.playedTo).toFixed(0)} ms late, a ${ms.toFixed(0)} ms message`);
    }
    this.playedTo = Math.max(this.playedTo, now) + ms;
    this.last = now;
    this.bytes += length;
  }
}

interface Outcome {
  opened: boolean;
  turns: number;
  answered: number;
  overheadMs: number[];
  bargeInMs: number[];
  replies: number;
  stalledReplies: number;
  warnings: Map<string, number>;
  /** The server's own LatencyReport of each answered turn, less the known delays of each stage (ms). */
  stages: { stt: number[]; ttt: number[]; tts: number[] };
}

/** One figure (median or p95) of each group of values, "a / b / c" as the table shows them. */
const figures = (groups: number[][], pick: 'median' | 'p95'): string =>
  groups.map((values) => (values.length > 0 ? summarize(values)[pick] : NaN).toFixed(0)).join(' / ');

/** Each stage's overhead, "stt / ttt / tts". */
const stageFigures = (outcomes: Outcome[], pick: 'median' | 'p95'): string =>
  figures((['stt', 'ttt', 'tts'] as const).map((stage) => outcomes.flatMap((x) => x.stages[stage])), pick);

/** Median overhead of each caller's first answered turn and of its later ones, "first / later": a first-turn penalty shows here. */
const firstAndLater = (outcomes: Outcome[]): string =>
  figures([outcomes.flatMap((x) => x.overheadMs.slice(0, 1)), outcomes.flatMap((x) => x.overheadMs.slice(1))], 'median');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * One caller on the shared 20 ms clock: speech while a clip is queued, silence otherwise. A plain
 * `ws` client that keeps counts and the current reply's timing only, so that 200 of them cost
 * this process little.
 */
class Caller {
  readonly outcome: Outcome = { opened: false, turns: 0, answered: 0, overheadMs: [], bargeInMs: [], replies: 0, stalledReplies: 0, warnings: new Map(), stages: { stt: [], ttt: [], tts: [] } };
  private ws: WebSocket | undefined;
  private readonly counts = new Map<string, number>();
  /** The reply audio goes to; the next one takes over at its AgentStartedSpeaking. */
  private reply: ReplyAudio | undefined;
  private nextReply: ReplyAudio | undefined;
  private clip: Clip | undefined;
  private offset = 0;
  private onDetected: ((at: number) => void) | undefined;
  private onSpeechEnd: ((at: number) => void) | undefined;
  private onClipEnd: (() => void) | undefined;
  /** Conditions waited for, checked at every message (no polling timers: 200 callers wait at once). */
  private waiters: { ready: () => boolean; resolve: (met: boolean) => void; timer: NodeJS.Timeout }[] = [];

  constructor(private readonly bytesPerMs: number) {}

  private until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { ready, resolve, timer: setTimeout(() => this.settle(waiter, false), timeoutMs) };
      this.waiters.push(waiter);
    });
  }

  private settle(waiter: Caller['waiters'][number], met: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.resolve(met);
  }

  private check(): void {
    for (const waiter of this.waiters) if (waiter.ready()) this.settle(waiter, true);
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  async open(url: string, output: Output): Promise<boolean> {
    const ws = new WebSocket(`${url}/v1/agent/converse`);
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
      ws.once('open', () => clearTimeout(timer));
    });
    if (!opened) {
      ws.terminate();
      return false;
    }
    this.ws = ws;
    ws.on('error', () => undefined);
    ws.on('close', () => this.check());
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.reply?.arrived(performance.now(), data.length);
        if (this.waiters.length > 0) this.check();
        return;
      }
      const event = JSON.parse(data.toString('utf8')) as { type: string; code?: string; stt_latency?: number; ttt_token_latency?: number; tts_latency?: number };
      if (event.type === 'LatencyReport' && event.stt_latency !== undefined) {
        const { stages } = this.outcome;
        stages.stt.push(event.stt_latency * 1000 - ENDPOINTING_MS - DELAYS.transcribeMs);
        if (event.ttt_token_latency !== undefined) stages.ttt.push(event.ttt_token_latency * 1000 - DELAYS.firstTokenMs);
        if (event.tts_latency !== undefined) stages.tts.push(event.tts_latency * 1000 - DELAYS.firstAudioMs);
      }
      this.counts.set(event.type, this.count(event.type) + 1);
      if (event.type === 'Warning' || event.type === 'Error') {
        const key = `${event.type === 'Error' ? 'Error ' : ''}${String(event.code)}`;
        this.outcome.warnings.set(key, (this.outcome.warnings.get(key) ?? 0) + 1);
      }
      if (event.type === 'AgentStartedSpeaking' && this.nextReply !== undefined) {
        this.reply = this.nextReply;
        this.reply.started = true;
        this.nextReply = undefined;
      }
      this.check();
    });
    const { encoding, sample_rate } = OUTPUTS[output];
    ws.send(
      JSON.stringify({
        type: 'Settings',
        audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding, sample_rate, container: 'none' } },
        agent: {
          listen: { provider: { type: 'open_ai', model: 'whisper-1' } },
          think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' } },
          speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
        },
      }),
    );
    this.outcome.opened = await this.until(() => this.count('SettingsApplied') > 0 || this.count('Error') > 0 || ws.readyState !== WebSocket.OPEN, 30_000) && this.count('SettingsApplied') > 0;
    return this.outcome.opened;
  }

  /** Sends the frame captured by `capturedAt` (its end on the real-time clock); `now` is when it goes out. */
  tick(now: number, capturedAt: number): void {
    const ws = this.ws;
    // A socket the server closed still plays its clip out (unsent), so that the caller's turns end.
    const open = ws !== undefined && ws.readyState === WebSocket.OPEN;
    const clip = this.clip;
    if (clip === undefined) {
      if (open) ws.send(SILENCE, { binary: true });
      return;
    }
    if (open) ws.send(clip.audio.subarray(this.offset, this.offset + FRAME_BYTES), { binary: true });
    const at = this.offset / FRAME_BYTES;
    this.offset += FRAME_BYTES;
    if (at === clip.detectedFrame) this.onDetected?.(now);
    // The speech ended with this frame's last sample, spoken by the time the frame was due (a late send is the caller's own delay).
    if (at + 1 === clip.speechEndMs / FRAME_MS) this.onSpeechEnd?.(capturedAt);
    if (this.offset >= clip.audio.length) {
      this.clip = undefined;
      this.onClipEnd?.();
    }
  }

  /** Queues a clip: when the detector sees its speech begin, when the speech ends and when the clip is sent (wall time, as the caller sends it). */
  say(clip: Clip): { detected: Promise<number>; speechEnd: Promise<number>; clipEnd: Promise<void> } {
    this.clip = clip;
    this.offset = 0;
    return {
      detected: new Promise((resolve) => (this.onDetected = resolve)),
      speechEnd: new Promise((resolve) => (this.onSpeechEnd = resolve)),
      clipEnd: new Promise((resolve) => (this.onClipEnd = resolve)),
    };
  }

  /** The reply to the turn about to be spoken: it starts at the next AgentStartedSpeaking. */
  expectReply(): ReplyAudio {
    this.nextReply = new ReplyAudio(this.bytesPerMs);
    return this.nextReply;
  }

  /** A turn: answered when its reply started and its first audio came after the speech. */
  async answered(reply: ReplyAudio, speechEnd: number): Promise<boolean> {
    this.outcome.turns++;
    if (!(await this.until(() => reply.first !== undefined, ANSWER_TIMEOUT_MS))) return false;
    this.outcome.answered++;
    this.outcome.overheadMs.push((reply.first as number) - speechEnd - KNOWN_MS);
    return true;
  }

  judged(reply: ReplyAudio): void {
    this.outcome.replies++;
    if (reply.stalls > 0) this.outcome.stalledReplies++;
  }

  async converse(speech: Clip[], index: number): Promise<void> {
    const clip = (turn: number): Clip => speech[(index + turn) % speech.length] as Clip;
    // The first answer, heard to its end.
    const first = this.expectReply();
    const done = this.count('AgentAudioDone');
    const one = this.say(clip(0));
    if (await this.answered(first, await one.speechEnd)) {
      await this.until(() => this.count('AgentAudioDone') > done, ANSWER_TIMEOUT_MS);
      this.judged(first);
    }
    await one.clipEnd;
    await sleep(300);
    // The second, interrupted half a second in.
    const second = this.expectReply();
    const two = this.say(clip(1));
    const secondAnswered = await this.answered(second, await two.speechEnd);
    if (secondAnswered) await this.until(() => second.bytes >= 500 * this.bytesPerMs, ANSWER_TIMEOUT_MS);
    await two.clipEnd;
    const third = this.expectReply();
    const doneBefore = this.count('AgentAudioDone');
    const interrupting = this.say(clip(2));
    const onset = await interrupting.detected;
    second.judgeUntil = onset;
    if (secondAnswered) {
      const interrupted = this.count('AgentAudioDone') === doneBefore;
      await sleep(600);
      if (interrupted && second.last !== undefined) this.outcome.bargeInMs.push(Math.max(0, second.last - onset));
      this.judged(second);
    }
    // The answer to the interruption.
    const thirdDone = this.count('AgentAudioDone');
    if (await this.answered(third, await interrupting.speechEnd)) {
      await this.until(() => this.count('AgentAudioDone') > thirdDone, ANSWER_TIMEOUT_MS);
      this.judged(third);
    }
  }

  close(): Promise<void> {
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => ws.terminate(), 5000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close();
    });
  }
}

interface Fakes {
  url: string;
  /** CPU ms of the fakes' process so far, and its loop lateness p99 since the previous call. */
  cpu: () => Promise<{ ms: number; loopP99Ms: number }>;
  stop: () => void;
}

async function startFakes(): Promise<Fakes> {
  const child = fork(fileURLToPath(new URL('./fake-providers.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.on('message', (m: { t: string; port: number }) => m.t === 'listening' && resolve(m.port)));
  const cpu = (): Promise<{ ms: number; loopP99Ms: number }> =>
    new Promise((resolve) => {
      const onMessage = (m: { t: string; ms: number; loopP99Ms: number }): void => {
        if (m.t !== 'cpu') return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send('cpu');
    });
  return { url: `http://127.0.0.1:${port}`, cpu, stop: () => child.send('stop') };
}

const cpuNow = (): number => {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
};

async function row(fakes: Fakes, output: Output, sessions: number, speech: Clip[]): Promise<Record<string, string | number>> {
  const fakesUrl = fakes.url;
  const server = await ParleyProcess.start({
    PARLEY_MAX_SESSIONS: String(sessions),
    OPENAI_API_KEY: 'fake',
    OPENAI_BASE_URL: `${fakesUrl}/v1`,
    DEEPGRAM_API_KEY: 'fake',
    DEEPGRAM_BASE_URL: fakesUrl,
  });
  const callers = Array.from({ length: sessions }, () => new Caller(OUTPUTS[output].bytesPerMs));
  const baseline = await server.measure();
  const started = performance.now();
  let running = true;
  const inStep = process.env['BENCH_IN_STEP'] !== undefined;
  // Every caller's frames in the order they are due: send n is caller n % N's frame ⌊n / N⌋, whose
  // end falls (n % N) × 20/N ms into its 20 ms (0 in step); each wake sends only what has come due.
  let send = 0;
  const dueAt = (n: number): number => started + (inStep ? 0 : ((n % sessions) * FRAME_MS) / sessions) + (Math.floor(n / sessions) + 1) * FRAME_MS;
  const ticking = (async () => {
    while (running) {
      const now = performance.now();
      for (; dueAt(send) <= now; send++) (callers[send % sessions] as Caller).tick(now, dueAt(send));
      await sleep(dueAt(send) - performance.now());
    }
  })();
  await Promise.all(callers.map(async (caller, i) => sleep((i * SPREAD_MS) / sessions).then(() => caller.open(server.url, output))));
  await sleep(IDLE_MS);
  const idle = await server.measure();
  let talkingRss = idle.memory.rss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      talkingRss = Math.max(talkingRss, await server.rss());
      await sleep(500);
    }
  })();
  const talkStarted = performance.now();
  const callersCpu = cpuNow();
  const fakesCpu = (await fakes.cpu()).ms;
  const callersLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  callersLoop.enable();
  await Promise.all(
    callers.map(async (caller, i) => {
      if (!caller.outcome.opened) return;
      await sleep((i * SPREAD_MS) / sessions);
      await caller.converse(speech, i);
    }),
  );
  const seconds = (performance.now() - talkStarted) / 1000;
  callersLoop.disable();
  const callersCpuPercent = (cpuNow() - callersCpu) / 10 / seconds;
  const fakesAfter = await fakes.cpu();
  const fakesCpuPercent = (fakesAfter.ms - fakesCpu) / 10 / seconds;
  sampling = false;
  await sampler;
  const after = await server.measure();
  running = false;
  await ticking;
  await Promise.all(callers.map((caller) => caller.close()));
  await server.stop();
  const outcomes = callers.map((c) => c.outcome);
  const opened = outcomes.filter((x) => x.opened).length;
  const overhead = outcomes.flatMap((o) => o.overheadMs);
  const barge = outcomes.flatMap((o) => o.bargeInMs);
  const o = overhead.length > 0 ? summarize(overhead) : undefined;
  const b = barge.length > 0 ? summarize(barge) : undefined;
  const warnings = new Map<string, number>();
  for (const outcome of outcomes) for (const [code, n] of outcome.warnings) warnings.set(code, (warnings.get(code) ?? 0) + n);
  const sum = (pick: (x: Outcome) => number): number => outcomes.reduce((n, x) => n + pick(x), 0);
  return {
    output,
    sessions,
    opened,
    turns: `${sum((x) => x.answered)}/${sum((x) => x.turns)}`,
    'overhead p50 ms': o?.median ?? NaN,
    'overhead p95 ms': o?.p95 ?? NaN,
    'first / later turns overhead p50 ms': firstAndLater(outcomes),
    'loop lateness p99 ms': after.loop.p99Ms,
    'loop lateness max ms': after.loop.maxMs,
    // Where the overhead lies, by the server's own LatencyReport: each stage less its known delay.
    'stt / ttt / tts overhead p50 ms': stageFigures(outcomes, 'median'),
    'stt / ttt / tts overhead p95 ms': stageFigures(outcomes, 'p95'),
    'barge-in p95 ms': b?.p95 ?? NaN,
    'stalled replies': `${sum((x) => x.stalledReplies)}/${sum((x) => x.replies)}`,
    'cpu ms per session-s': (after.cpuMs - idle.cpuMs) / (opened * seconds),
    'rss MB per idle session': (idle.memory.rss - baseline.memory.rss) / MB / Math.max(1, opened),
    'rss MB per talking session': (talkingRss - baseline.memory.rss) / MB / Math.max(1, opened),
    // The other two processes on the same cores, and this one's own lag (it delays what the callers see).
    'callers cpu %': callersCpuPercent,
    'callers loop p99 ms': loopLatenessMs(callersLoop.percentile(99)),
    'fakes cpu %': fakesCpuPercent,
    'fakes loop p99 ms': fakesAfter.loopP99Ms,
    'warnings, errors': [...warnings].map(([code, n]) => `${code}×${n}`).join(' ') || '-',
  };
}

export default async function (): Promise<void> {
  const counts = (process.env['BENCH_SESSIONS'] ?? '1,50,100,200').split(',').map(Number);
  const outputs = (process.env['BENCH_OUTPUTS'] ?? 'linear16-16k,mulaw-8k').split(',') as Output[];
  const fakes = await startFakes();
  const speech = clips();
  const results = [];
  for (const output of outputs) {
    for (const sessions of counts) {
      const result = await row(fakes, output, sessions, speech);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  }
  fakes.stop();
  printTable(
    `Load with remote providers (fake, own process: transcription ${DELAYS.transcribeMs} ms, first token ${DELAYS.firstTokenMs} ms, first audio ${DELAYS.firstAudioMs} ms); overhead = end of speech → first agent audio − ${KNOWN_MS} ms known; loop lateness = timer delay past its ${LOOP_RESOLUTION_MS} ms interval`,
    results,
  );
  console.log(JSON.stringify({ benchmark: 'load', results }));
}

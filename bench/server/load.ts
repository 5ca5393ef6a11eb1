/**
 * Load of real callers for the capacity and memory benchmarks: a Parley with the embedded engines
 * in a child process (parley-process.ts), and sessions that stream real recorded speech
 * (test/support/fixtures.ts) as telephone audio (mulaw 8 kHz) in 20 ms frames at real time,
 * silence between their turns as a live microphone would, and wait for each spoken answer.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { encodeMulaw } from '../../src/audio/g711.js';
import { resampleBuffer } from '../../src/audio/resampler.js';
import { AgentSocket } from '../../test/support/agent-socket.js';
import { CARD_RULES, cardsClips, librivoxClips, readPcm16 } from '../../test/support/fixtures.js';
import type { ServerMeasure } from './parley-process.js';

const FRAME_MS = 20;
const FRAME_BYTES = 160;
/** A turn not answered this long after its speech ended counts as unanswered. */
const ANSWER_TIMEOUT_MS = 15_000;
/** A server whose engines have not loaded by then is reported, not waited for. */
const START_TIMEOUT_MS = 120_000;

/**
 * 'grammar': the cards clips, answered by a rules agent whose patterns are the recognizer's JSGF
 * grammar (what the default rules agent does); 'open': the LibriVox clips on pocketsphinx's open
 * language model (a rules agent without grammar, as with a cloud LLM), answered by its fallback.
 */
export type LoadMode = 'grammar' | 'open';

export class ParleyProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static start(env: Record<string, string> = {}): Promise<ParleyProcess> {
    const child = fork(fileURLToPath(new URL('./parley-process.ts', import.meta.url)), {
      // BENCH_CPU_PROF=dir: the server's CPU profile is written there when it stops.
      // BENCH_SERVER_FLAGS: more node/V8 flags for the server (e.g. --trace-gc), space-separated.
      execArgv: [
        '--expose-gc',
        ...(process.env['BENCH_CPU_PROF'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]),
        ...(process.env['BENCH_SERVER_FLAGS'] ?? '').split(' ').filter((flag) => flag !== ''),
        '--import',
        'tsx',
      ],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      // Seen once: the engines' warm-up never ended and /healthz said "starting" for good.
      const stuck = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the Parley process was not ready ${START_TIMEOUT_MS / 1000} s after its start (engines still loading)`));
      }, START_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(stuck);
        reject(new Error(`the Parley process exited with ${code}`));
      });
      child.on('message', (message: { t: string; url?: string }) => {
        if (message.t !== 'listening' || message.url === undefined) return;
        clearTimeout(stuck);
        resolve(new ParleyProcess(child, message.url));
      });
    });
  }

  measure(): Promise<ServerMeasure> {
    return new Promise((resolve) => {
      const onMessage = (message: ServerMeasure): void => {
        if (message.t !== 'measure') return;
        this.child.off('message', onMessage);
        resolve(message);
      };
      this.child.on('message', onMessage);
      this.child.send('measure');
    });
  }

  /** The server's RSS now, without a collection first (cheap enough to sample under load). */
  rss(): Promise<number> {
    return new Promise((resolve) => {
      const onMessage = (message: { t: string; rss?: number }): void => {
        if (message.t !== 'rss') return;
        this.child.off('message', onMessage);
        resolve(message.rss ?? NaN);
      };
      this.child.on('message', onMessage);
      this.child.send('rss');
    });
  }

  /** Resolves once the server holds no session (closing ones finish asynchronously). */
  async idle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.measure()).sessions > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.send('stop');
    });
  }
}

/** The clips of a mode as mulaw 8 kHz, with the Settings think provider that answers them. */
export async function speechFor(mode: LoadMode): Promise<{ clips: Buffer[]; think: Record<string, unknown> }> {
  const sources = mode === 'grammar' ? cardsClips() : librivoxClips();
  const clips = await Promise.all(
    sources.map(async (clip) => {
      const { samples, sampleRate } = readPcm16(clip.path);
      return Buffer.from(encodeMulaw(await resampleBuffer(samples, sampleRate, 8000)));
    }),
  );
  const rules = mode === 'grammar' ? CARD_RULES : { ...CARD_RULES, grammar: false };
  return { clips, think: { provider: { type: 'rules', rules } } };
}

const SILENCE_FRAME = Buffer.from(encodeMulaw(new Int16Array(FRAME_BYTES)));

export interface SessionOutcome {
  /** Welcome + SettingsApplied came; else why not (HTTP status, Error code). */
  opened: boolean;
  refusal?: string;
  turns: number;
  answered: number;
  /** End of a clip's audio sent → first byte of the spoken answer, per answered turn (< 0: the clip's trailing silence ended the turn). */
  latenciesMs: number[];
}

/** One caller: `turns` clips, each followed by silence until the answer has been played. */
class Caller {
  socket: AgentSocket | undefined;
  readonly outcome: SessionOutcome = { opened: false, turns: 0, answered: 0, latenciesMs: [] };
  private queue: Buffer | undefined;
  private offset = 0;
  private speechEnded: (() => void) | undefined;

  /** The next 20 ms frame: speech while a clip is queued, else silence. */
  tick(): void {
    const socket = this.socket;
    if (socket === undefined || socket.closeCode !== undefined) return;
    if (this.queue === undefined) {
      socket.sendAudio(SILENCE_FRAME);
      return;
    }
    socket.sendAudio(this.queue.subarray(this.offset, this.offset + FRAME_BYTES));
    this.offset += FRAME_BYTES;
    if (this.offset >= this.queue.length) {
      this.queue = undefined;
      this.speechEnded?.();
    }
  }

  say(clip: Buffer): Promise<void> {
    this.queue = clip;
    this.offset = 0;
    return new Promise((resolve) => (this.speechEnded = resolve));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function runCaller(caller: Caller, url: string, clips: Buffer[], think: Record<string, unknown>, index: number, turns: number, startDelayMs: number): Promise<void> {
  await sleep(startDelayMs);
  try {
    caller.socket = await AgentSocket.open(`${url}/v1/agent/converse`);
  } catch (err) {
    caller.outcome.refusal = (err as Error).message;
    return;
  }
  const socket = caller.socket;
  socket.send({
    type: 'Settings',
    audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'linear16', sample_rate: 24000, container: 'none' } },
    agent: { listen: { provider: { type: 'pocketsphinx' } }, think, speak: { provider: { type: 'flite' } } },
  });
  const applied = await Promise.race([socket.waitFor('SettingsApplied', () => true, 30_000).then(() => 'ok'), socket.waitFor('Error', () => true, 30_000).then((e) => String(e['code'] ?? e['description']))]).catch((err: Error) => err.message);
  if (applied !== 'ok') {
    caller.outcome.refusal = applied;
    socket.close();
    return;
  }
  caller.outcome.opened = true;
  for (let turn = 0; turn < turns; turn++) {
    caller.outcome.turns++;
    const done = socket.events('AgentAudioDone').length;
    let firstAudioAt: number | undefined;
    const onMessage = (_data: unknown, isBinary: boolean): void => {
      if (isBinary && firstAudioAt === undefined) firstAudioAt = performance.now();
    };
    socket.ws.on('message', onMessage);
    // A clip's own trailing silence may end the turn, and the answer begin, before the clip does.
    await caller.say(clips[(index + turn) % clips.length] as Buffer);
    const ended = performance.now();
    const answer = await socket.waitFor('AgentAudioDone', () => socket.events('AgentAudioDone').length > done, ANSWER_TIMEOUT_MS).catch(() => undefined);
    socket.ws.off('message', onMessage);
    if (answer !== undefined && firstAudioAt !== undefined) {
      caller.outcome.answered++;
      caller.outcome.latenciesMs.push(firstAudioAt - ended);
    }
    await sleep(500);
  }
  socket.close();
  await socket.closed();
}

export interface LoadResult {
  outcomes: SessionOutcome[];
  /** Server CPU (event loop and engine threads) over the run, in % of one core. */
  serverCpuPercent: number;
}

/**
 * `sessions` callers, their starts spread over `spreadMs`, each saying `turns` clips and waiting
 * for each answer; resolves when all have hung up.
 */
export async function runLoad(server: ParleyProcess, mode: LoadMode, sessions: number, turns: number, spreadMs = 3000): Promise<LoadResult> {
  const { clips, think } = await speechFor(mode);
  const callers = Array.from({ length: sessions }, () => new Caller());
  const before = await server.measure();
  const started = performance.now();
  // One clock for every caller, corrected for drift, as real-time microphones would send.
  let frame = 0;
  let running = true;
  const clock = async (): Promise<void> => {
    while (running) {
      const due = Math.floor((performance.now() - started) / FRAME_MS);
      for (; frame < due; frame++) for (const caller of callers) caller.tick();
      await sleep(started + (frame + 1) * FRAME_MS - performance.now());
    }
  };
  const ticking = clock();
  await Promise.all(callers.map((caller, i) => runCaller(caller, server.url, clips, think, i, turns, (i * spreadMs) / sessions)));
  running = false;
  await ticking;
  const after = await server.measure();
  const seconds = (performance.now() - started) / 1000;
  return { outcomes: callers.map((c) => c.outcome), serverCpuPercent: ((after.cpuMs - before.cpuMs) / 10) / seconds };
}

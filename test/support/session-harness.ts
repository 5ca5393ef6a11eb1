/**
 * The session without a socket, on a fake clock (node:test mock.timers): client messages and
 * audio in, the events and agent audio the client would get out, and the think requests the
 * scripted LLM saw, all stamped with the fake clock's time. Audio goes in 20 ms frame by 20 ms
 * frame with the clock advanced by each frame, so a stamp is also a position in the user's
 * audio: tests measure in audio time, and a run comes out the same every time.
 *
 *   const h = await SessionHarness.open({ agent: { listen: ..., think: ..., speak: ..., greeting: 'Hi' } });
 *   await h.until(() => h.agentAudioMs() >= 1000);
 *   await h.send({ type: 'InjectUserMessage', content: 'hi' });
 *   await h.hear(speech);                  // PCM16 16 kHz, at real time on the fake clock
 *   h.events('ConversationText'); h.requests(); h.history();
 *   h.close();
 *
 * Real parts inside: the session, its responses and utterances, the output encoder and the
 * playout clock; providers are whatever the test registers (scripted ones by default).
 */
import { mock } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { InputDecoder } from '../../src/audio/input-decoder.js';
import { OutputEncoder } from '../../src/audio/output-encoder.js';
import { PlayoutClock } from '../../src/audio/playout-clock.js';
import type { HistoryItem } from '../../src/protocol/agent-config.js';
import { DEFAULT_CLIENT_LIMITS } from '../../src/protocol/limits.js';
import { normalizeV1Settings } from '../../src/protocol/normalize.js';
import { parseClientMessage } from '../../src/protocol/parse.js';
import type { ServerEvent } from '../../src/protocol/server-events.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import { LISTEN_SAMPLE_RATE } from '../../src/listen/types.js';
import type { AgentStateName } from '../../src/session/agent-state.js';
import type { Providers } from '../../src/session/provider-registry.js';
import { Session } from '../../src/session/session.js';
import { DEFAULT_TURN_TAKING } from '../../src/session/turn-taking.js';
import type { TurnTaking } from '../../src/session/turn-taking.js';
import { scriptedProviders, thinkRequests } from './scripted-providers.js';

/** One thing the client got, in order, at the fake clock's time (ms since the harness opened). */
export type Out = { kind: 'event'; event: ServerEvent; atMs: number } | { kind: 'audio'; ms: number; atMs: number } | { kind: 'fatal'; error: ProtocolError; atMs: number };

export interface HarnessOptions {
  /** The V1 Settings' `agent` block. */
  agent: Record<string, unknown>;
  providers?: Providers;
  turnTaking?: Partial<TurnTaking>;
  env?: Record<string, string | undefined>;
  playoutLeadMs?: number;
  synthesisAheadMs?: number;
  functionTimeoutMs?: number;
}

let faked = false;

/**
 * Fakes the timers and Date for the rest of the process, once: resetting and enabling them again
 * leaves timers that fetch (undici) armed on the first fake clock in the second one's queue,
 * where they stop later timers from firing (seen with Node 20.20).
 */
function fakeClock(): void {
  if (faked) return;
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  faked = true;
}

/** The fake clock moves in steps this long while a test waits; each step lets promises and I/O run. */
const STEP_MS = 5;
const FRAME_SAMPLES = LISTEN_SAMPLE_RATE / 50;
const OUTPUT = { encoding: 'linear16', sample_rate: 16000 } as const;

export class SessionHarness {
  private readonly firstRequest = thinkRequests.length;
  /** User audio written so far, in ms: the test's own audio clock. */
  audioMs = 0;

  private constructor(
    private readonly session: Session,
    readonly out: Out[],
    /** The agent's states, in order, from the first change. */
    readonly states: AgentStateName[],
    /** Whether the session asked to end (a client's Close). */
    readonly ended: { value: boolean },
  ) {}

  static async open(options: HarnessOptions): Promise<SessionHarness> {
    fakeClock();
    const startedAt = Date.now();
    const { value: config } = normalizeV1Settings(
      { type: 'Settings', audio: { input: { encoding: 'linear16', sample_rate: LISTEN_SAMPLE_RATE }, output: OUTPUT }, agent: options.agent },
      DEFAULT_CLIENT_LIMITS,
    );
    const encoder = OutputEncoder.create(config.output);
    const decoder = InputDecoder.create(config.input, LISTEN_SAMPLE_RATE);
    const out: Out[] = [];
    const states: AgentStateName[] = [];
    const ended = { value: false };
    const now = (): number => Date.now() - startedAt;
    const clock = new PlayoutClock({
      leadMs: options.playoutLeadMs ?? 200,
      bytesPerMs: encoder.bytesPerMs,
      send: (frame) => out.push({ kind: 'audio', ms: frame.length / encoder.bytesPerMs, atMs: now() }),
      now: () => Date.now(),
    });
    const session = new Session({
      config,
      providers: options.providers ?? scriptedProviders(),
      io: {
        emit: (event) => out.push({ kind: 'event', event, atMs: now() }),
        sendAudio: () => undefined,
        fatal: (error) => out.push({ kind: 'fatal', error, atMs: now() }),
        end: () => (ended.value = true),
      },
      audio: {
        decode: (bytes) => decoder.push(bytes),
        encoder,
        clock,
        close() {
          clock.stop();
          decoder.close();
          encoder.close();
        },
      },
      logger: silentLogger(),
      env: { PARLEY_ALLOWED_HOSTS: '127.0.0.1', ...options.env },
      functionTimeoutMs: options.functionTimeoutMs ?? 10_000,
      synthesisAheadMs: options.synthesisAheadMs ?? 3000,
      maxFunctionResultBytes: 64 * 1024,
      limits: DEFAULT_CLIENT_LIMITS,
      turnTaking: { ...DEFAULT_TURN_TAKING, ...options.turnTaking },
      onAgentState: (state) => states.push(state),
    });
    const harness = new SessionHarness(session, out, states, ended);
    await session.start();
    out.push({ kind: 'event', event: { type: 'SettingsApplied' }, atMs: now() });
    session.settingsApplied();
    await harness.settle();
    return harness;
  }

  /** A client message, as the server would parse it. */
  async send(message: Record<string, unknown> & { type: string }): Promise<void> {
    await this.session.handle(parseClientMessage(JSON.stringify(message)));
    await this.settle();
  }

  /** User audio (PCM16 mono 16 kHz), one 20 ms frame per 20 ms of the fake clock. */
  async hear(samples: Int16Array): Promise<void> {
    for (let start = 0; start < samples.length; start += FRAME_SAMPLES) {
      const frame = samples.slice(start, start + FRAME_SAMPLES);
      this.session.audio(new Uint8Array(frame.buffer));
      const ms = (frame.length * 1000) / LISTEN_SAMPLE_RATE;
      this.audioMs += ms;
      await this.advance(ms);
    }
  }

  /** Silence for the user's microphone. */
  hearSilence(ms: number): Promise<void> {
    return this.hear(new Int16Array(Math.round((ms * LISTEN_SAMPLE_RATE) / 1000)));
  }

  /**
   * Silence from the user's microphone until `done()` holds, as a client streams it while it
   * waits: a listener ends a turn only on the silence it hears.
   */
  async hearSilenceUntil(done: () => boolean, maxMs = 30_000): Promise<void> {
    for (let waited = 0; !done(); waited += 20) {
      if (waited >= maxMs) throw new Error(`not within ${maxMs} ms of silence; got ${this.summary().join(', ')}`);
      await this.hearSilence(20);
    }
  }

  /** Moves the fake clock on by `ms`, letting timers, promises and I/O run at every step. */
  async advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= STEP_MS) {
      mock.timers.tick(Math.min(STEP_MS, left));
      await this.settle();
    }
  }

  /** Advances the clock until `done()` holds; throws after `maxMs` of fake time, listing what came out. */
  async until(done: () => boolean, maxMs = 30_000): Promise<void> {
    for (let waited = 0; !done(); waited += STEP_MS) {
      if (waited >= maxMs) throw new Error(`not within ${maxMs} ms; got ${this.summary().join(', ')}`);
      await this.advance(STEP_MS);
    }
  }

  /** Advances the clock until an event of this type (that matches) is out, and returns it. */
  async next(type: ServerEvent['type'], match: (event: ServerEvent) => boolean = () => true, maxMs?: number): Promise<ServerEvent> {
    let found: ServerEvent | undefined;
    await this.until(() => (found = this.events(type).find(match)) !== undefined, maxMs);
    return found as ServerEvent;
  }

  events<T extends ServerEvent['type']>(type?: T): Extract<ServerEvent, { type: T }>[] {
    return this.out.flatMap((o) => (o.kind === 'event' && (type === undefined || o.event.type === type) ? [o.event as Extract<ServerEvent, { type: T }>] : []));
  }

  /** ConversationText contents of one role, in order. */
  texts(role: 'user' | 'assistant'): string[] {
    return this.events('ConversationText').flatMap((e) => (e.role === role ? [e.content] : []));
  }

  /** History events' text items of one role, in order. */
  heard(role: 'user' | 'assistant'): string[] {
    return this.events('History').flatMap((e) => (e.item.kind === 'text' && e.item.role === role ? [e.item.content] : []));
  }

  /** Milliseconds of agent audio sent, in all or after the fake clock's time `sinceMs`. */
  agentAudioMs(sinceMs = -Infinity): number {
    return this.out.reduce((n, o) => n + (o.kind === 'audio' && o.atMs >= sinceMs ? o.ms : 0), 0);
  }

  /** The fake clock's time at the first event that matches. */
  timeOf(type: ServerEvent['type'], match: (event: ServerEvent) => boolean = () => true): number | undefined {
    return this.out.find((o) => o.kind === 'event' && o.event.type === type && match(o.event))?.atMs;
  }

  /** Think requests the scripted LLMs received since this harness opened. */
  requests(label?: string): typeof thinkRequests {
    return thinkRequests.slice(this.firstRequest).filter((r) => label === undefined || r.label === label);
  }

  /** The conversation as the LLM will see it next. */
  history(): readonly HistoryItem[] {
    return this.session.history();
  }

  /** Fatal errors the session raised. */
  fatals(): ProtocolError[] {
    return this.out.flatMap((o) => (o.kind === 'fatal' ? [o.error] : []));
  }

  /** Event types in order, audio runs as one "audio" each: what a failure message shows. */
  summary(): string[] {
    const lines: string[] = [];
    for (const o of this.out) {
      const line = o.kind === 'audio' ? 'audio' : o.kind === 'fatal' ? `fatal:${o.error.code}` : o.event.type;
      if (line !== 'audio' || lines.at(-1) !== 'audio') lines.push(line);
    }
    return lines;
  }

  close(): void {
    this.session.close();
  }

  /** Lets promises and pending I/O callbacks run (setImmediate is not faked). */
  private async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

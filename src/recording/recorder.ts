import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.js';
import { concatPcm16 } from '../audio/pcm16.js';
import { StreamingResampler } from '../audio/resampler.js';
import type { ServerEvent } from '../protocol/server-events.js';
import type { SessionAudio } from '../session/session.js';
import type { AudioEncoder, PlayoutClockLike } from '../session/utterance.js';
import type { PcmChunk } from '../speak/types.js';
import { StereoWavFile } from './stereo-wav.js';
import { Track } from './track.js';
import { TranscriptBuilder } from './transcript.js';

/** The recording's rate: the listen rate, at which the user's audio already is. */
const RECORDING_SAMPLE_RATE = 16_000;
/** How often what is settled goes to disk: a crash loses at most this plus FLUSH_LAG_MS. */
const FLUSH_INTERVAL_MS = 1000;
/**
 * How far behind the present the written part stays. Agent audio is sent ahead of playout, and
 * a barge-in takes back what the listener (a phone line's buffer included) had not heard yet.
 */
const FLUSH_LAG_MS = 1000;
/** How far a client sending faster than real time may run ahead on the timeline before its audio is left out. */
const MAX_USER_AHEAD_MS = 30_000;
/**
 * A client's audio later than this behind its own timeline is a pause (push to talk, a client
 * that sends nothing while the agent speaks) and resumes at its arrival; anything less is
 * network jitter, which must not shift the rest of the call.
 */
const USER_PAUSE_MS = 500;

const SAMPLES_PER_MS = RECORDING_SAMPLE_RATE / 1000;

export interface RecordingTarget {
  dir: string;
  session: string;
  path: string;
  call?: Record<string, string>;
}

/** Engine audio waiting to be matched with the frames that carry it. */
interface PendingPcm {
  samples: Int16Array;
  sampleRate: number;
  offset: number;
}

/** Where a stretch of the current utterance's audio lies on the timeline. */
interface Segment {
  /** Position in the utterance (ms of its audio). */
  audioMs: number;
  /** Position on the recording's timeline (samples). */
  sample: number;
}

/**
 * Records one session (docs/recordings.md): a stereo WAV, the user on the left and the agent on
 * the right as it was played, and a JSON transcript, both written while the session runs.
 *
 * The user's audio is placed as it arrives (contiguous, or after a pause at its arrival time).
 * The agent's is placed frame by frame where the playout clock sends it, which is where the
 * listener hears it, and a barge-in silences what the clock says was not heard. The agent's
 * samples come from the speak stage's PCM (the encoder's input), so any output encoding records
 * the same way.
 */
export class SessionRecorder {
  private readonly origin = performance.now();
  private readonly startedAtEpochMs = Date.now();
  private readonly user = new Track();
  private readonly agent = new Track();
  private readonly transcript: TranscriptBuilder;
  private readonly timer: NodeJS.Timeout;
  /** Where the user's next sample goes; undefined before the first. */
  private userCursor: number | undefined;
  /** Where the next agent frame's audio starts (timing); where its samples go (after the resampler's delay). */
  private agentCursor = 0;
  private agentWrite = 0;
  private segments: Segment[] = [];
  private utteranceMs = 0;
  private pcm: PendingPcm[] = [];
  /** Engine samples owed to frames already sent (fractions carried over). */
  private owed = 0;
  private resampler: StreamingResampler | undefined;
  private readonly raw = new WeakSet<Uint8Array>();
  /** When client audio held back until the session started arrived (performance.now()). */
  private readonly arrivals = new WeakMap<Uint8Array, number>();
  /** Durations of whole compressed frames, which their size does not tell. */
  private readonly frameMs = new WeakMap<Uint8Array, number>();
  private bytesPerMs = 1;
  private flushed = 0;
  private writes: Promise<void> = Promise.resolve();
  private dirty = true;
  private failed = false;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly wav: StereoWavFile,
    private readonly jsonPath: string,
    private readonly logger: Logger,
    target: RecordingTarget,
    wavName: string,
  ) {
    this.transcript = new TranscriptBuilder({
      session: target.session,
      path: target.path,
      startedAt: new Date(this.startedAtEpochMs).toISOString(),
      startedAtEpochMs: this.startedAtEpochMs,
      audio: { file: wavName, sampleRate: RECORDING_SAMPLE_RATE, channels: ['user', 'agent'] },
      ...(target.call === undefined ? {} : { call: target.call }),
    });
    this.timer = setInterval(() => this.flush(this.nowSample() - FLUSH_LAG_MS * SAMPLES_PER_MS), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Creates `<stamp>-<session>.wav` and `.json` in `dir` (made if missing). */
  static async open(target: RecordingTarget, logger: Logger): Promise<SessionRecorder> {
    await mkdir(target.dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const base = `${stamp}-${target.session.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}`;
    const wav = await StereoWavFile.create(join(target.dir, `${base}.wav`), RECORDING_SAMPLE_RATE);
    const recorder = new SessionRecorder(wav, join(target.dir, `${base}.json`), logger, target, `${base}.wav`);
    recorder.writeTranscript();
    return recorder;
  }

  /** Wraps the send callback given to the audio factory: sees each agent frame as it goes out. */
  sending(send: (frame: Uint8Array) => void): (frame: Uint8Array) => void {
    return (frame) => {
      if (!this.raw.has(frame)) this.agentFrame(this.frameMs.get(frame) ?? frame.length / this.bytesPerMs);
      send(frame);
    };
  }

  /** Wraps the session's audio: the user's decoded audio, the agent's PCM, the clock's interruptions. */
  audio(audio: SessionAudio): SessionAudio {
    this.bytesPerMs = audio.encoder.bytesPerMs;
    const encoder: AudioEncoder = {
      get bytesPerMs() {
        return audio.encoder.bytesPerMs;
      },
      startUtterance: () => {
        this.pcm = [];
        this.owed = 0;
        return audio.encoder.startUtterance();
      },
      encode: (chunk: PcmChunk) => {
        this.pcm.push({ samples: chunk.samples, sampleRate: chunk.sampleRate, offset: 0 });
        return audio.encoder.encode(chunk);
      },
      endUtterance: () => audio.encoder.endUtterance(),
    };
    const inner = audio.clock;
    const clock: PlayoutClockLike = {
      startUtterance: () => {
        this.segments = [];
        this.utteranceMs = 0;
        this.resampler?.reset();
        inner.startUtterance();
      },
      enqueue: (bytes) => inner.enqueue(bytes),
      enqueueFrame: (bytes, ms, pcm) => {
        this.frameMs.set(bytes, ms);
        inner.enqueueFrame(bytes, ms, pcm);
      },
      enqueueRaw: (bytes) => {
        this.raw.add(bytes);
        inner.enqueueRaw(bytes);
      },
      endUtterance: () => inner.endUtterance(),
      playedMs: () => inner.playedMs(),
      drained: () => inner.drained(),
      interrupt: () => {
        const played = inner.interrupt();
        this.agentInterrupted(played);
        return played;
      },
      pause: () => inner.pause(),
      resume: () => inner.resume(),
    };
    return {
      decode: (bytes) => {
        const arrived = this.arrivals.get(bytes);
        const decoded = audio.decode(bytes);
        if (decoded instanceof Int16Array) {
          this.userAudio(decoded, arrived);
          return decoded;
        }
        return decoded.then((samples) => {
          this.userAudio(samples, arrived);
          return samples;
        });
      },
      encoder,
      clock,
      close: () => audio.close(),
    };
  }

  /**
   * Client audio that waited for the session to start, about to be handed to it: it goes on the
   * timeline where it arrived (`atMs`, performance.now()), not where it is decoded.
   */
  arrived(bytes: Uint8Array, atMs: number): void {
    this.arrivals.set(bytes, atMs);
  }

  /** Every event the session sends its client. */
  event(event: ServerEvent): void {
    this.transcript.event(event, this.nowMs());
    this.dirty = true;
  }

  /** A key the caller pressed. */
  dtmf(digit: string): void {
    this.transcript.dtmf(digit, this.nowMs());
    this.dirty = true;
  }

  /** Writes what is left and closes the files; safe to call twice. */
  close(): Promise<void> {
    this.closed ??= this.finish();
    return this.closed;
  }

  private async finish(): Promise<void> {
    clearInterval(this.timer);
    const now = this.nowSample();
    // Agent audio sent ahead of the present was never played.
    this.agent.clearFrom(now);
    this.transcript.end(Date.now(), performance.now() - this.origin);
    this.dirty = true;
    this.flush(Math.max(now, this.user.extent));
    await this.writes;
    await this.wav.close().catch(() => undefined);
  }

  private nowMs(): number {
    return Math.round(performance.now() - this.origin);
  }

  private nowSample(): number {
    return Math.round((performance.now() - this.origin) * SAMPLES_PER_MS);
  }

  private userAudio(samples: Int16Array, arrivedAt?: number): void {
    if (samples.length === 0) return;
    const now = arrivedAt === undefined ? this.nowSample() : Math.round((arrivedAt - this.origin) * SAMPLES_PER_MS);
    // A stream's audio follows on from the sample before, wherever jitter puts its arrival; the
    // first, and the first after a pause, ended as it arrived.
    const arrival = now - samples.length;
    const cursor = this.userCursor;
    const at = cursor === undefined || arrival - cursor > USER_PAUSE_MS * SAMPLES_PER_MS ? arrival : cursor;
    if (at - now > MAX_USER_AHEAD_MS * SAMPLES_PER_MS) return;
    this.user.write(at, samples);
    this.userCursor = at + samples.length;
  }

  /** A frame of `ms` of agent audio left: its PCM is placed where the listener hears it. */
  private agentFrame(ms: number): void {
    const now = this.nowSample();
    const at = Math.max(now, this.agentCursor);
    // The listener ran out of audio and heard silence until now (as the playout clock counts it).
    if (at > this.agentCursor) this.agentWrite += at - this.agentCursor;
    const last = this.segments.at(-1);
    if (last === undefined || at !== this.agentCursor) this.segments.push({ audioMs: this.utteranceMs, sample: at });
    this.utteranceMs += ms;
    this.agentCursor = at + Math.round(ms * SAMPLES_PER_MS);
    const samples = this.takePcm(ms);
    this.agent.write(this.agentWrite, samples);
    this.agentWrite += samples.length;
  }

  /** The engine PCM behind `ms` of sent audio, at the recording's rate. */
  private takePcm(ms: number): Int16Array {
    const parts: Int16Array[] = [];
    let remainingMs = ms;
    while (remainingMs > 0 && this.pcm.length > 0) {
      const head = this.pcm[0] as PendingPcm;
      const exact = (remainingMs * head.sampleRate) / 1000 + this.owed;
      const whole = Math.floor(exact);
      const take = Math.min(whole, head.samples.length - head.offset);
      if (take === whole) {
        this.owed = exact - whole;
        remainingMs = 0;
      } else {
        this.owed = 0;
        remainingMs = ((exact - take) * 1000) / head.sampleRate;
      }
      parts.push(this.resample(head.samples.subarray(head.offset, head.offset + take), head.sampleRate));
      head.offset += take;
      if (head.offset >= head.samples.length) this.pcm.shift();
    }
    return concatPcm16(parts);
  }

  private resample(samples: Int16Array, sampleRate: number): Int16Array {
    if (sampleRate === RECORDING_SAMPLE_RATE) return samples;
    if (this.resampler?.fromRate !== sampleRate) {
      this.resampler?.destroy();
      this.resampler = new StreamingResampler(sampleRate, RECORDING_SAMPLE_RATE);
    }
    return this.resampler.process(samples);
  }

  /** A barge-in: what was sent past the heard point never reached the listener. */
  private agentInterrupted(playedMs: number): void {
    this.pcm = [];
    this.owed = 0;
    const segment = [...this.segments].reverse().find((s) => s.audioMs <= playedMs);
    if (segment !== undefined) {
      const cut = segment.sample + Math.round((playedMs - segment.audioMs) * SAMPLES_PER_MS);
      this.agent.clearFrom(cut);
      this.agentCursor = Math.min(this.agentCursor, cut);
      this.agentWrite = Math.min(this.agentWrite, cut);
    }
    this.segments = [];
    this.utteranceMs = 0;
  }

  /** Queues the settled audio up to `position` and, when it changed, the transcript. */
  private flush(position: number): void {
    if (this.failed) return;
    if (position > this.flushed) {
      const left = this.user.take(position);
      const right = this.agent.take(position);
      this.flushed = position;
      this.queue(() => this.wav.append(left, right));
    }
    if (this.dirty) this.writeTranscript();
  }

  private writeTranscript(): void {
    this.dirty = false;
    const text = JSON.stringify(this.transcript.transcript, null, 2);
    const temporary = `${this.jsonPath}.tmp`;
    // Written aside and renamed over: the file on disk is always a whole transcript.
    this.queue(async () => {
      await writeFile(temporary, text);
      await rename(temporary, this.jsonPath);
    });
  }

  private queue(write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((err: unknown) => {
      if (this.failed) return;
      this.failed = true;
      this.logger.warn({ err: (err as Error).message }, 'recording stopped: writing failed');
    });
  }
}


/** Who gets recorded (PARLEY_RECORD): every session, or only those that ask. */
export type RecordPolicy = 'all' | 'requested';

/** The recordings of a server: opens one per session the policy allows, and waits for them at shutdown. */
export class Recordings {
  private readonly open = new Set<SessionRecorder>();

  constructor(
    private readonly dir: string,
    private readonly policy: RecordPolicy,
    private readonly logger: Logger,
  ) {}

  /** A recorder for the session, or undefined when it is not to be recorded or the files could not be made. */
  async start(target: Omit<RecordingTarget, 'dir'>, requested: boolean): Promise<SessionRecorder | undefined> {
    if (this.policy === 'requested' && !requested) return undefined;
    try {
      const recorder = await SessionRecorder.open({ ...target, dir: this.dir }, this.logger);
      this.open.add(recorder);
      return recorder;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, dir: this.dir }, 'session not recorded: the files could not be created');
      return undefined;
    }
  }

  /** Ends a session's recording. */
  finish(recorder: SessionRecorder | undefined): void {
    if (recorder === undefined) return;
    void recorder.close().finally(() => this.open.delete(recorder));
  }

  /** Waits for every recording still being written. */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((recorder) => recorder.close()));
  }
}

/** Whether a client asked for its session to be recorded (`record=true`, `1` or `yes`). */
export function asksForRecording(value: string | null | undefined): boolean {
  return value !== null && value !== undefined && /^(true|1|yes)$/i.test(value.trim());
}

/**
 * A carrier's side of a media stream, written from Twilio's and Telnyx's documented message
 * formats (docs/telephony.md): it opens the stream like the carrier does, sends the caller's
 * audio as base64 G.711 in 20 ms `media` messages at real time (silence when the caller says
 * nothing, as a live line does), and plays the agent's audio like a phone line: each frame after
 * a jitter delay, in order, echoing each `mark` once the audio before it has played. `clear`
 * drops what is queued and returns the queued marks, as both carriers document.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { Transcript } from '../../src/recording/transcript.js';
import { join } from 'node:path';
import WebSocket from 'ws';

export type Carrier = 'twilio' | 'telnyx';

export interface PhoneClientOptions {
  carrier: Carrier;
  /** Custom parameters of the start message. */
  parameters?: Record<string, string>;
  /** How long the line holds audio before playing it. */
  jitterMs?: number;
  /** Whether the line echoes marks (a one-way or misconfigured stream does not). */
  echoMarks?: boolean;
  /** Telnyx stream codec; Twilio always streams mu-law. */
  codec?: 'PCMU' | 'PCMA';
  headers?: Record<string, string>;
}

export interface Received {
  at: number;
  message: Record<string, unknown> & { event: string };
}

interface LineItem {
  at: number;
  kind: 'audio' | 'mark';
  bytes?: Buffer;
  name?: string;
}

const FRAME_BYTES = 160;

export class PhoneClient {
  readonly received: Received[] = [];
  /** Agent audio the line played, in order, with the time each frame started playing. */
  readonly played: { at: number; bytes: Buffer }[] = [];
  /** Names of marks echoed because their audio played, and of those returned by a clear. */
  readonly echoed: { name: string; played: boolean; at: number }[] = [];
  /** Times `clear` arrived, with the audio the line had played and received by then (bytes). */
  readonly clears: { at: number; playedBytes: number; receivedBytes: number }[] = [];
  closeCode: number | undefined;
  closeReason = '';
  /** Media messages (20 ms each) the caller's line has sent. */
  mediaSent = 0;
  private line: LineItem[] = [];
  private lineEnd = 0;
  private mic: { bytes: Buffer; first: boolean }[] = [];
  /** Times (client ms) at which the first frame of each say() went out. */
  readonly saidAt: number[] = [];
  private micTimer: NodeJS.Timeout | undefined;
  private lineTimer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private chunk = 0;
  private readonly started = performance.now();
  /** Date.now() at the client's time 0, to compare its times with a recording's. */
  readonly epoch = Date.now();
  private closeWaiters: (() => void)[] = [];
  readonly streamId = `MZ${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`;

  private constructor(
    readonly ws: WebSocket,
    private readonly options: PhoneClientOptions,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) throw new Error('a carrier never receives binary frames');
      this.onMessage(JSON.parse(data.toString('utf8')) as Received['message']);
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString('utf8');
      this.stopTimers();
      for (const resolve of this.closeWaiters) resolve();
    });
  }

  /** Opens the stream and sends `connected` and `start`, then streams the caller's line. */
  static async call(url: string, options: PhoneClientOptions): Promise<PhoneClient> {
    const client = await PhoneClient.open(url, options);
    client.sendStart();
    client.startTimers();
    return client;
  }

  /** Opens the stream without the start message (for tests of refusals). */
  static async open(url: string, options: PhoneClientOptions): Promise<PhoneClient> {
    const ws = new WebSocket(url, { headers: options.headers ?? {} });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return new PhoneClient(ws, options);
  }

  /** Milliseconds since the client was made. */
  now(): number {
    return performance.now() - this.started;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendStart(parameters = this.options.parameters ?? {}): void {
    const seq = String(++this.sequence);
    if (this.options.carrier === 'twilio') {
      this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
      this.send({
        event: 'start',
        sequenceNumber: seq,
        start: {
          accountSid: 'AC00000000000000000000000000000000',
          streamSid: this.streamId,
          callSid: 'CA00000000000000000000000000000000',
          tracks: ['inbound'],
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          customParameters: parameters,
        },
        streamSid: this.streamId,
      });
    } else {
      this.send({ event: 'connected', version: '1.0.0' });
      this.send({
        event: 'start',
        sequence_number: seq,
        start: {
          user_id: '3e6f995f-85f7-4705-9741-53b116d28237',
          call_control_id: 'v3:test-call',
          client_state: 'aGVsbG8=',
          media_format: { encoding: this.options.codec ?? 'PCMU', sample_rate: 8000, channels: 1 },
          custom_parameters: parameters,
        },
        stream_id: this.streamId,
      });
    }
  }

  /** Queues the caller's audio (G.711 at 8 kHz) to go out after what is already queued. */
  say(audio: Buffer): void {
    for (let offset = 0; offset < audio.length; offset += FRAME_BYTES) this.mic.push({ bytes: audio.subarray(offset, offset + FRAME_BYTES), first: offset === 0 });
  }

  /** Resolves once everything queued with say() has been sent. */
  async said(): Promise<void> {
    while (this.mic.length > 0) await sleep(20);
  }

  dtmf(digit: string): void {
    const seq = String(++this.sequence);
    if (this.options.carrier === 'twilio') this.send({ event: 'dtmf', streamSid: this.streamId, sequenceNumber: seq, dtmf: { track: 'inbound_track', digit } });
    else this.send({ event: 'dtmf', stream_id: this.streamId, occurred_at: new Date().toISOString(), sequence_number: seq, dtmf: { digit } });
  }

  /** The carrier ends the stream (the caller hung up). */
  hangUp(): void {
    const seq = String(++this.sequence);
    if (this.options.carrier === 'twilio') this.send({ event: 'stop', sequenceNumber: seq, stop: { accountSid: 'AC0', callSid: 'CA0' }, streamSid: this.streamId });
    else this.send({ event: 'stop', sequence_number: seq, stop: { user_id: 'u', call_control_id: 'v3:test-call' }, stream_id: this.streamId });
  }

  closed(): Promise<void> {
    if (this.closeCode !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** Agent media messages, with arrival times and decoded payloads. */
  media(): { at: number; bytes: Buffer }[] {
    return this.received.filter((r) => r.message.event === 'media').map((r) => ({ at: r.at, bytes: Buffer.from(String((r.message['media'] as { payload: string }).payload), 'base64') }));
  }

  receivedBytes(): number {
    return this.media().reduce((n, m) => n + m.bytes.length, 0);
  }

  playedBytes(): number {
    return this.played.reduce((n, p) => n + p.bytes.length, 0);
  }

  /**
   * The agent's replies as the line got them: runs of media messages with no gap longer than
   * `gapMs`, each with what followed its last frame.
   */
  replies(gapMs = 400): { frames: { at: number; bytes: Buffer }[]; next: string | undefined }[] {
    const replies: { frames: { at: number; bytes: Buffer }[]; next: string | undefined }[] = [];
    let current: { frames: { at: number; bytes: Buffer }[]; next: string | undefined } | undefined;
    let lastMediaIndex = -1;
    this.received.forEach((r, index) => {
      if (r.message.event !== 'media') return;
      const frame = { at: r.at, bytes: Buffer.from(String((r.message['media'] as { payload: string }).payload), 'base64') };
      if (current === undefined || r.at - (current.frames.at(-1)?.at ?? 0) > gapMs) {
        if (current !== undefined) current.next = this.received[lastMediaIndex + 1]?.message.event;
        current = { frames: [], next: undefined };
        replies.push(current);
      }
      current.frames.push(frame);
      lastMediaIndex = index;
    });
    if (current !== undefined) current.next = this.received[lastMediaIndex + 1]?.message.event;
    return replies;
  }

  /** Resolves once the line has played `ms` of agent audio (8 bytes per ms). */
  async waitForPlayed(ms: number, timeoutMs = 20_000): Promise<void> {
    for (let waited = 0; this.playedBytes() < ms * 8; waited += 20) {
      if (waited > timeoutMs) throw new Error(`the line played only ${this.playedBytes() / 8} of ${ms} ms`);
      await sleep(20);
    }
  }

  /** Resolves once `count` replies have arrived and the last has gone quiet for `gapMs`. */
  async waitForReplies(count: number, timeoutMs = 30_000, gapMs = 400): Promise<void> {
    for (let waited = 0; ; waited += 50) {
      const replies = this.replies(gapMs);
      const last = replies.at(-1)?.frames.at(-1)?.at ?? 0;
      if (replies.length >= count && this.now() - last > gapMs) return;
      if (waited > timeoutMs) throw new Error(`${replies.length} of ${count} replies arrived`);
      await sleep(50);
    }
  }

  close(): void {
    this.stopTimers();
    this.ws.close();
  }

  private onMessage(message: Received['message']): void {
    const at = this.now();
    this.received.push({ at, message });
    if (message.event === 'media') {
      const bytes = Buffer.from(String((message['media'] as { payload: string }).payload), 'base64');
      const start = Math.max(this.lineEnd, at + (this.options.jitterMs ?? 100));
      this.line.push({ at: start, kind: 'audio', bytes });
      this.lineEnd = start + bytes.length / 8;
    } else if (message.event === 'mark') {
      this.line.push({ at: Math.max(this.lineEnd, at), kind: 'mark', name: String((message['mark'] as { name: string }).name) });
    } else if (message.event === 'clear') {
      const playedBytes = this.playedBytes();
      this.clears.push({ at, playedBytes, receivedBytes: this.receivedBytes() });
      const dropped = this.line;
      this.line = [];
      this.lineEnd = at;
      for (const item of dropped) if (item.kind === 'mark') this.echo(item.name as string, false);
    }
  }

  private echo(name: string, played: boolean): void {
    this.echoed.push({ name, played, at: this.now() });
    if (this.options.echoMarks === false || this.ws.readyState !== WebSocket.OPEN) return;
    const seq = String(++this.sequence);
    if (this.options.carrier === 'twilio') this.send({ event: 'mark', sequenceNumber: seq, streamSid: this.streamId, mark: { name } });
    else this.send({ event: 'mark', sequence_number: seq, stream_id: this.streamId, mark: { name } });
  }

  private startTimers(): void {
    const silence = Buffer.alloc(FRAME_BYTES, this.options.codec === 'PCMA' ? 0xd5 : 0xff);
    let sent = 0;
    const origin = performance.now();
    // Real time: as many frames as the clock says, whatever the timer's jitter.
    this.micTimer = setInterval(() => {
      const due = Math.floor((performance.now() - origin) / 20);
      for (; sent < due && this.ws.readyState === WebSocket.OPEN; sent++) {
        const next = this.mic.shift();
        if (next?.first === true) this.saidAt.push(this.now());
        const payload = (next?.bytes ?? silence).toString('base64');
        const seq = String(++this.sequence);
        const chunk = String(++this.chunk);
        const timestamp = String(sent * 20);
        this.mediaSent++;
        if (this.options.carrier === 'twilio') this.send({ event: 'media', sequenceNumber: seq, media: { track: 'inbound', chunk, timestamp, payload }, streamSid: this.streamId });
        else this.send({ event: 'media', sequence_number: seq, media: { track: 'inbound', chunk, timestamp, payload }, stream_id: this.streamId });
      }
    }, 10);
    this.lineTimer = setInterval(() => {
      const now = this.now();
      while (this.line.length > 0 && (this.line[0] as LineItem).at <= now) {
        const item = this.line.shift() as LineItem;
        if (item.kind === 'audio') this.played.push({ at: item.at, bytes: item.bytes as Buffer });
        else this.echo(item.name as string, true);
      }
    }, 5);
  }

  private stopTimers(): void {
    clearInterval(this.micTimer);
    clearInterval(this.lineTimer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A clip converted by sox (Debian) to headerless 8 kHz G.711, as a phone line carries it. */
export function telephoneAudio(wavPath: string, dir: string, encoding: 'u-law' | 'a-law' = 'u-law'): Buffer {
  const out = join(dir, `${wavPath.replace(/[^A-Za-z0-9]/g, '_')}.${encoding}`);
  execFileSync('sox', [wavPath, '-t', 'raw', '-r', '8000', '-c', '1', '-e', encoding, out]);
  return readFileSync(out);
}

/** A loud tone as 8 kHz mu-law (the scripted listener hears any loud sound as speech), via sox. */
export function toneAudio(ms: number, dir: string): Buffer {
  const out = join(dir, `tone-${ms}.ul`);
  execFileSync('sox', ['-n', '-t', 'raw', '-r', '8000', '-c', '1', '-e', 'u-law', out, 'synth', String(ms / 1000), 'sine', '440', 'vol', '0.5']);
  return readFileSync(out);
}

/** Decodes G.711 with sox (an independent decoder) to PCM16 at 8 kHz. */
export function decodeLine(bytes: Buffer, dir: string, encoding: 'u-law' | 'a-law' = 'u-law'): Int16Array {
  const input = join(dir, `line-${process.pid}-${Date.now()}.${encoding}`);
  const output = `${input}.s16`;
  writeFileSync(input, bytes);
  execFileSync('sox', ['-t', 'raw', '-r', '8000', '-c', '1', '-e', encoding, input, '-t', 'raw', '-e', 'signed', '-b', '16', output]);
  const pcm = readFileSync(output);
  return new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
}

/** G.711 silence at 8 kHz. */
export function lineSilence(ms: number, encoding: 'u-law' | 'a-law' = 'u-law'): Buffer {
  return Buffer.alloc(ms * 8, encoding === 'a-law' ? 0xd5 : 0xff);
}

/** Least-squares slope of arrival time against audio position: 1 is real time. */
export function pace(frames: readonly { at: number; bytes: Buffer }[]): number {
  const points = frames.map((frame, i) => ({ x: i * 20, y: frame.at }));
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxy / sxx;
}

/** The finished transcript of the call on stream `stream`, recorded in `dir`. */
export async function callTranscript(dir: string, stream: string, timeoutMs = 10_000): Promise<Transcript> {
  for (let waited = 0; ; waited += 50) {
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
      const transcript = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Transcript;
      if (transcript.call?.['stream'] === stream && transcript.endedAt !== null) return transcript;
    }
    if (waited > timeoutMs) throw new Error('no finished transcript');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}


// Compressed agent audio (docs/protocol-decisions.md#compressed-audio): each utterance is one
// whole stream (an Ogg Opus stream, a FLAC stream, a run of MP3 frames), cut into frames that are
// sent whole, each with the playback time it holds, so that the playout clock paces by duration
// and a barge-in drops whole frames. The native encoder lives only while its utterance does.
import { ProtocolError } from '../../protocol/errors.js';
import {
  MPEG_MODE_MONO,
  OPE_SET_COMMENT_PADDING_REQUEST,
  OPE_SET_DECISION_DELAY_REQUEST,
  OPE_SET_MUXING_DELAY_REQUEST,
  OPUS_SET_BITRATE_REQUEST,
  OPUS_SET_COMPLEXITY_REQUEST,
  flac,
  flacCallbacks,
  lame,
  opusenc,
  readNative,
  withFlacEncoder,
} from './native.js';
import type { Pointer } from './native.js';

/** Whole compressed frames (an Ogg page, an MP3 or FLAC frame) with the milliseconds each plays. */
export interface TimedFrame {
  bytes: Uint8Array;
  ms: number;
}

/** One utterance's stream at a time: start, write any number of times, end (or abandon). */
export interface FrameEncoder {
  /** Starts a stream; returns its header (sent as is, with no duration). */
  start(): Uint8Array;
  /** Mono PCM16 at the output rate; returns the frames now complete. */
  write(samples: Int16Array): TimedFrame[];
  /** Ends the stream: its last frames. */
  end(): TimedFrame[];
  /** Drops the stream in progress (a barge-in): nothing more of it comes out. */
  abandon(): void;
}

/** libopusenc (pull API): pages of at most 60 ms, decisions made every 20 ms packet. */
const OPUS_PAGE_SAMPLES = 2880;
/** libopus's default (10) costs about twice as much CPU per frame for speech that sounds the same. */
const OPUS_COMPLEXITY = 5;
const OPUS_DECISION_SAMPLES = 960;

export class OpusFrameEncoder implements FrameEncoder {
  private encoder: Pointer | undefined;
  private comments: Pointer | undefined;
  /** Granule position (48 kHz samples) reached by the pages so far, pre-skip included. */
  private granule = 0;
  private readonly page: Pointer[] = [null];
  private readonly length = [0];
  /** Samples written to the current stream: libopusenc aborts the process when asked to drain an empty one. */
  private written = 0;

  constructor(private readonly bitrate: number) {}

  start(): Uint8Array {
    this.abandon();
    const lib = opusenc();
    const error = [0];
    this.comments = lib.commentsCreate();
    this.encoder = lib.createPull(this.comments, 48000, 1, 0, error);
    if (this.encoder === null || error[0] !== 0) {
      this.abandon();
      throw new ProtocolError('FAILED_TO_SPEAK', `The Opus encoder could not start: ${lib.strerror(error[0] ?? -1)}`);
    }
    lib.ctlInt(this.encoder, OPUS_SET_BITRATE_REQUEST, this.bitrate);
    lib.ctlInt(this.encoder, OPUS_SET_COMPLEXITY_REQUEST, OPUS_COMPLEXITY);
    lib.ctlInt(this.encoder, OPE_SET_DECISION_DELAY_REQUEST, OPUS_DECISION_SAMPLES);
    lib.ctlInt(this.encoder, OPE_SET_MUXING_DELAY_REQUEST, OPUS_PAGE_SAMPLES);
    lib.ctlInt(this.encoder, OPE_SET_COMMENT_PADDING_REQUEST, 0);
    lib.flushHeader(this.encoder);
    this.written = 0;
    const headers = this.pages(false).map((p) => p.bytes);
    // The first page holds OpusHead: its pre-skip (bytes 10-11 of the packet) is never heard.
    this.granule = headers[0] === undefined ? 0 : preSkip(headers[0]);
    return concat(headers);
  }

  write(samples: Int16Array): TimedFrame[] {
    if (this.encoder === undefined || samples.length === 0) return [];
    opusenc().write(this.encoder, samples, samples.length);
    this.written += samples.length;
    return this.pages(false);
  }

  end(): TimedFrame[] {
    if (this.encoder === undefined) return [];
    if (this.written === 0) {
      this.abandon();
      return [];
    }
    opusenc().drain(this.encoder);
    const last = this.pages(true);
    this.abandon();
    return last;
  }

  abandon(): void {
    if (this.encoder !== undefined) opusenc().destroy(this.encoder);
    if (this.comments !== undefined) opusenc().commentsDestroy(this.comments);
    this.encoder = undefined;
    this.comments = undefined;
  }

  private pages(flush: boolean): TimedFrame[] {
    const out: TimedFrame[] = [];
    const lib = opusenc();
    while (this.encoder !== undefined && lib.getPage(this.encoder, this.page, this.length, flush ? 1 : 0) === 1) {
      const bytes = readNative(this.page[0] ?? null, this.length[0] ?? 0);
      const granule = oggGranule(bytes);
      const ms = granule > this.granule ? ((granule - this.granule) * 1000) / 48000 : 0;
      if (granule > this.granule) this.granule = granule;
      out.push({ bytes, ms });
    }
    return out;
  }
}

/** The granule position of an Ogg page (bytes 6-13), or -1 when no packet ends on it. */
function oggGranule(page: Uint8Array): number {
  if (page.length < 14) return -1;
  return Number(new DataView(page.buffer, page.byteOffset, page.byteLength).getBigInt64(6, true));
}

function preSkip(headerPage: Uint8Array): number {
  const body = 27 + (headerPage[26] ?? 0);
  return body + 12 <= headerPage.length ? ((headerPage[body + 10] ?? 0) | ((headerPage[body + 11] ?? 0) << 8)) : 0;
}

/** MPEG-2 Layer III at 22.05 kHz: 576 samples a frame. LAME is told to keep each frame whole (no bit reservoir). */
const MP3_RATE = 22050;
const MP3_FRAME_SAMPLES = 576;

export class Mp3FrameEncoder implements FrameEncoder {
  private gfp: Pointer | undefined;
  private out = new Uint8Array(0);
  /** Bytes of a frame LAME has begun but not finished. */
  private partial = new Uint8Array(0);
  private written = 0;

  constructor(private readonly bitrate: number) {}

  start(): Uint8Array {
    this.abandon();
    const lib = lame();
    const gfp = lib.init();
    lib.setInSamplerate(gfp, MP3_RATE);
    lib.setOutSamplerate(gfp, MP3_RATE);
    lib.setNumChannels(gfp, 1);
    lib.setMode(gfp, MPEG_MODE_MONO);
    lib.setBrate(gfp, this.bitrate / 1000);
    lib.setQuality(gfp, 7);
    lib.setWriteVbrTag(gfp, 0);
    lib.setDisableReservoir(gfp, 1);
    if (lib.initParams(gfp) < 0) {
      lib.close(gfp);
      throw new ProtocolError('FAILED_TO_SPEAK', 'The MP3 encoder could not start');
    }
    this.gfp = gfp;
    this.written = 0;
    return new Uint8Array(0);
  }

  write(samples: Int16Array): TimedFrame[] {
    if (this.gfp === undefined || samples.length === 0) return [];
    // LAME's documented worst case for one call.
    const size = Math.ceil(1.25 * samples.length) + 7200;
    if (this.out.length < size) this.out = new Uint8Array(size);
    const written = lame().encode(this.gfp, samples, samples, samples.length, this.out, this.out.length);
    this.written += samples.length;
    return this.frames(written);
  }

  end(): TimedFrame[] {
    if (this.gfp === undefined) return [];
    if (this.written === 0) {
      // Nothing to end: flushing would pad an empty utterance to a frame of silence.
      this.abandon();
      return [];
    }
    if (this.out.length < 7200) this.out = new Uint8Array(7200);
    const frames = this.frames(lame().flush(this.gfp, this.out, this.out.length));
    this.abandon();
    return frames;
  }

  abandon(): void {
    if (this.gfp !== undefined) lame().close(this.gfp);
    this.gfp = undefined;
    this.partial = new Uint8Array(0);
  }

  /**
   * Cuts LAME's output into frames by their headers. LAME reports no frame boundaries, and a
   * Layer III header gives the frame's length directly, so this small parser stands in.
   */
  private frames(written: number): TimedFrame[] {
    if (written <= 0) return [];
    const bytes = concat([this.partial, this.out.subarray(0, written)]);
    const frames: TimedFrame[] = [];
    let offset = 0;
    for (;;) {
      const length = mp3FrameLength(bytes, offset);
      if (length === undefined || offset + length > bytes.length) break;
      frames.push({ bytes: bytes.slice(offset, offset + length), ms: (MP3_FRAME_SAMPLES * 1000) / MP3_RATE });
      offset += length;
    }
    this.partial = bytes.slice(offset);
    return frames;
  }
}

/** MPEG-2 Layer III bitrates (kbit/s) by header index. */
const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/** Length of the MPEG-2 Layer III frame at `offset`, or undefined when no header is there yet. */
function mp3FrameLength(bytes: Uint8Array, offset: number): number | undefined {
  if (offset + 4 > bytes.length) return undefined;
  const b1 = bytes[offset + 1] ?? 0;
  const b2 = bytes[offset + 2] ?? 0;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) throw new Error('MP3 encoder output lost frame sync');
  const kbps = MPEG2_L3_KBPS[b2 >> 4] ?? 0;
  return Math.floor((72_000 * kbps) / MP3_RATE) + ((b2 >> 1) & 1);
}

/** FLAC frames of about 60 ms; level 5 is libFLAC's default. */
const FLAC_FRAME_MS = 60;
const FLAC_COMPRESSION = 5;

export class FlacFrameEncoder implements FrameEncoder {
  private encoder: Pointer | undefined;
  private written: TimedFrame[] = [];
  private samples = new Int32Array(0);
  private readonly onWrite = (buffer: Pointer, bytes: number, samples: number): number => {
    this.written.push({ bytes: readNative(buffer, bytes), ms: (samples * 1000) / this.sampleRate });
    return 0;
  };

  constructor(private readonly sampleRate: number) {}

  start(): Uint8Array {
    this.abandon();
    const lib = flac();
    const encoder = lib.encoderNew();
    lib.encoderSetChannels(encoder, 1);
    lib.encoderSetBitsPerSample(encoder, 16);
    lib.encoderSetSampleRate(encoder, this.sampleRate);
    lib.encoderSetCompressionLevel(encoder, FLAC_COMPRESSION);
    lib.encoderSetBlocksize(encoder, Math.round((this.sampleRate * FLAC_FRAME_MS) / 1000 / 16) * 16);
    lib.encoderSetStreamableSubset(encoder, 1);
    const status = withFlacEncoder(this.onWrite, () => lib.encoderInitStream(encoder, flacCallbacks().encoderWrite, null, null, null, null));
    if (status !== 0) {
      lib.encoderDelete(encoder);
      throw new ProtocolError('FAILED_TO_SPEAK', `The FLAC encoder could not start (status ${status})`);
    }
    this.encoder = encoder;
    // Metadata ("fLaC" and STREAMINFO, with an unknown length) is written at init.
    return concat(this.take().map((f) => f.bytes));
  }

  write(samples: Int16Array): TimedFrame[] {
    const encoder = this.encoder;
    if (encoder === undefined || samples.length === 0) return [];
    if (this.samples.length < samples.length) this.samples = new Int32Array(samples.length);
    const wide = this.samples.subarray(0, samples.length);
    wide.set(samples);
    withFlacEncoder(this.onWrite, () => flac().encoderProcess(encoder, wide, wide.length));
    return this.take();
  }

  end(): TimedFrame[] {
    const encoder = this.encoder;
    if (encoder === undefined) return [];
    withFlacEncoder(this.onWrite, () => flac().encoderFinish(encoder));
    const last = this.take();
    this.abandon();
    return last;
  }

  abandon(): void {
    if (this.encoder !== undefined) flac().encoderDelete(this.encoder);
    this.encoder = undefined;
    this.written = [];
  }

  private take(): TimedFrame[] {
    const frames = this.written;
    this.written = [];
    return frames;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// Compressed client audio (docs/protocol-decisions.md#compressed-audio), decoded one frame or
// packet per call so that the caller can slice a large message across turns of the event loop.
// A stream that does not decode is a client's mistake: Error USER_AUDIO_FORMAT, naming why.
import { ProtocolError } from '../../protocol/errors.js';
import {
  FLAC_DECODER_ABORTED,
  FLAC_READ_ABORT,
  FLAC_READ_CONTINUE,
  FLAC_TELL_OK,
  FLAC_WRITE_CONTINUE,
  OGG_STREAM_STATE_BYTES,
  OGG_SYNC_STATE_BYTES,
  allocNative,
  flac,
  flacCallbacks,
  freeNative,
  nativeInt32,
  nativePointers,
  ogg,
  opus,
  readNative,
  readNativeSize,
  withFlacDecoder,
  writeNative,
  writeNativeSize,
  writeNativeU64,
} from './native.js';
import type { OggPacketRef, OggPageRef, Pointer } from './native.js';

/** Mono PCM16 decoded from one frame or packet, at the stream's own rate. */
export interface DecodedFrame {
  samples: Int16Array;
  sampleRate: number;
}

/** A compressed stream: bytes in as they arrive, frames out one at a time. */
export interface FrameDecoder {
  feed(bytes: Uint8Array): void;
  /** The next decoded frame, or undefined when more bytes are needed. Throws USER_AUDIO_FORMAT. */
  next(): DecodedFrame | undefined;
  close(): void;
}

export function badAudio(description: string): ProtocolError {
  return new ProtocolError('USER_AUDIO_FORMAT', description);
}

/** Opus decodes straight to the listen rate (one of the rates libopus decodes to natively). */
const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];
/** The longest Opus packet holds 120 ms. */
const OPUS_MAX_PACKET_MS = 120;

class OpusPacketDecoder {
  private readonly state: Pointer;
  private readonly pcm: Int16Array;

  constructor(readonly sampleRate: number) {
    if (!OPUS_RATES.includes(sampleRate)) throw new RangeError(`Opus decodes to ${OPUS_RATES.join(', ')} Hz, not ${sampleRate}`);
    const error = [0];
    this.state = opus().decoderCreate(sampleRate, 1, error);
    if (this.state === null || error[0] !== 0) throw new Error(`opus_decoder_create failed: ${opus().strerror(error[0] ?? -1)}`);
    this.pcm = new Int16Array((sampleRate * OPUS_MAX_PACKET_MS) / 1000);
  }

  decode(packet: Uint8Array | { pointer: Pointer; length: number }, what: string): Int16Array {
    const lib = opus();
    const count =
      packet instanceof Uint8Array
        ? lib.decode(this.state, packet, packet.length, this.pcm, this.pcm.length, 0)
        : lib.decodeNative(this.state, packet.pointer, packet.length, this.pcm, this.pcm.length, 0);
    if (count < 0) throw badAudio(`${what} is not an Opus packet (${lib.strerror(count)})`);
    return this.pcm.slice(0, count);
  }

  close(): void {
    opus().decoderDestroy(this.state);
  }
}

/**
 * `opus`: each binary message is one raw Opus packet, as RTP and WebRTC carry them
 * (docs/protocol-decisions.md#compressed-audio); packets cannot be told apart inside a message.
 */
export class RawOpusDecoder implements FrameDecoder {
  private readonly decoder: OpusPacketDecoder;
  private readonly packets: Uint8Array[] = [];
  private count = 0;

  constructor(sampleRate: number) {
    this.decoder = new OpusPacketDecoder(sampleRate);
  }

  feed(bytes: Uint8Array): void {
    // An empty message carries no packet (libopus would take it for a lost one).
    if (bytes.length > 0) this.packets.push(bytes);
  }

  next(): DecodedFrame | undefined {
    const packet = this.packets.shift();
    if (packet === undefined) return undefined;
    this.count++;
    return { samples: this.decoder.decode(packet, `Audio message ${this.count} (${packet.length} bytes)`), sampleRate: this.decoder.sampleRate };
  }

  close(): void {
    this.packets.length = 0;
    this.decoder.close();
  }
}

/** libogg keeps what it has not framed yet; a client may not make it hold more than this without a page. */
const MAX_UNFRAMED_OGG_BYTES = 256 * 1024;

/**
 * `ogg-opus`: an Ogg Opus stream (RFC 7845) cut anywhere across messages. libogg frames the
 * pages (and checks their CRCs); a new beginning-of-stream page starts a new chained stream.
 */
export class OggOpusDecoder implements FrameDecoder {
  private readonly sync: Pointer;
  private stream: Pointer | undefined;
  private serial = 0;
  /** Packets of the current stream seen so far: 0 = OpusHead, 1 = OpusTags, then audio. */
  private packetsSeen = 0;
  /** Samples at the start of the stream the encoder asked to drop (its pre-skip), at the decode rate. */
  private skip = 0;
  private unframed = 0;
  private readonly decoder: OpusPacketDecoder;
  private readonly page: Partial<OggPageRef> = {};
  private readonly packet: Partial<OggPacketRef> = {};
  private closed = false;

  constructor(sampleRate: number) {
    this.decoder = new OpusPacketDecoder(sampleRate);
    this.sync = allocNative(OGG_SYNC_STATE_BYTES);
    ogg().syncInit(this.sync);
  }

  feed(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.closed) return;
    const lib = ogg();
    const buffer = lib.syncBuffer(this.sync, bytes.length);
    if (buffer === null) throw badAudio('The Ogg stream could not be buffered');
    writeNative(buffer, bytes);
    lib.syncWrote(this.sync, bytes.length);
    this.unframed += bytes.length;
  }

  next(): DecodedFrame | undefined {
    const lib = ogg();
    for (;;) {
      if (this.stream !== undefined) {
        const got = lib.streamPacketout(this.stream, this.packet);
        if (got < 0) throw badAudio('The Ogg Opus stream has a gap between its pages');
        if (got === 1) {
          const samples = this.onPacket(this.packet as OggPacketRef);
          if (samples !== undefined) return { samples, sampleRate: this.decoder.sampleRate };
          continue;
        }
      }
      const paged = lib.syncPageout(this.sync, this.page);
      if (paged < 0) throw badAudio('The audio is not an Ogg stream, or it lost sync (a page failed its checksum)');
      if (paged === 0) {
        if (this.unframed > MAX_UNFRAMED_OGG_BYTES) throw badAudio(`No Ogg page in the last ${MAX_UNFRAMED_OGG_BYTES} bytes of audio`);
        return undefined;
      }
      const page = this.page as OggPageRef;
      this.unframed = 0;
      const stream = lib.pageBos(page) !== 0 ? this.beginStream(lib.pageSerialno(page)) : this.stream;
      if (stream === undefined) throw badAudio('The Ogg stream does not start with a beginning-of-stream page');
      if (lib.pageSerialno(page) !== this.serial) continue; // another logical stream: not ours
      if (lib.streamPagein(stream, page) < 0) throw badAudio('An Ogg page could not be read');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.endStream();
    ogg().syncClear(this.sync);
    freeNative(this.sync);
    this.decoder.close();
  }

  private beginStream(serial: number): Pointer {
    this.endStream();
    const stream = allocNative(OGG_STREAM_STATE_BYTES);
    ogg().streamInit(stream, serial);
    this.stream = stream;
    this.serial = serial;
    this.packetsSeen = 0;
    return stream;
  }

  private endStream(): void {
    if (this.stream === undefined) return;
    ogg().streamClear(this.stream);
    freeNative(this.stream);
    this.stream = undefined;
  }

  /** The decoded samples of an audio packet; undefined for the two header packets. */
  private onPacket(packet: OggPacketRef): Int16Array | undefined {
    const index = this.packetsSeen++;
    if (index === 0) {
      const head = readNative(packet.packet, Math.min(packet.bytes, 19));
      if (head.length < 19 || new TextDecoder().decode(head.subarray(0, 8)) !== 'OpusHead') {
        throw badAudio('The Ogg stream is not Opus (its first packet is not OpusHead)');
      }
      const channels = head[9] ?? 0;
      const family = head[18] ?? 0;
      if (family !== 0 || channels > 2) throw badAudio(`Ogg Opus with ${channels} channels (mapping family ${family}) is not supported; send mono or stereo`);
      const preSkip = (head[10] ?? 0) | ((head[11] ?? 0) << 8);
      this.skip = Math.round((preSkip * this.decoder.sampleRate) / 48000);
      return undefined;
    }
    if (index === 1) return undefined;
    const samples = this.decoder.decode({ pointer: packet.packet, length: packet.bytes }, `Ogg Opus packet ${index - 1}`);
    if (this.skip === 0) return samples;
    const dropped = Math.min(this.skip, samples.length);
    this.skip -= dropped;
    return samples.subarray(dropped);
  }
}

/** FLAC metadata a stream may carry before its first frame (its largest legal block is 16 MiB). */
const MAX_FLAC_METADATA_BYTES = 256 * 1024;
/** Bytes that may wait for one FLAC frame to complete: above any legal frame of mono or stereo up to 48 kHz. */
const MAX_FLAC_FRAME_BYTES = 1024 * 1024;
const MAX_FLAC_RATE = 48000;
const FLAC_ERRORS = ['it lost sync', 'a frame header is corrupt', 'a frame failed its checksum', 'it cannot be parsed', 'its metadata is corrupt'];

/**
 * `flac`: a FLAC stream ("fLaC", metadata, frames) cut anywhere across messages. libFLAC pulls
 * its input; a frame that is not complete yet makes the read abort, and the decoder is flushed and
 * fed again from the end of the last whole frame once more bytes arrive.
 */
export class FlacStreamDecoder implements FrameDecoder {
  private readonly decoder: Pointer;
  /** Bytes from `base` (the stream offset of buffer[0]) on. */
  private buffer = new Uint8Array(0);
  private base = 0;
  /** Stream offset libFLAC reads from next. */
  private readAt = 0;
  /** Stream offset right after the last whole frame (or the metadata). */
  private frameEnd = 0;
  private metadataDone = false;
  private decoded: DecodedFrame | undefined;
  private failure: string | undefined;
  private closed = false;
  private readonly callbacks = {
    read: (target: Pointer, bytes: Pointer): number => {
      const wanted = readNativeSize(bytes);
      const available = this.base + this.buffer.length - this.readAt;
      if (available <= 0) {
        writeNativeSize(bytes, 0);
        return FLAC_READ_ABORT;
      }
      const count = Math.min(wanted, available);
      const start = this.readAt - this.base;
      writeNative(target, this.buffer.subarray(start, start + count));
      writeNativeSize(bytes, count);
      this.readAt += count;
      return FLAC_READ_CONTINUE;
    },
    tell: (offset: Pointer): number => {
      writeNativeU64(offset, this.readAt);
      return FLAC_TELL_OK;
    },
    write: (buffer: Pointer): number => {
      this.decoded = this.frame(buffer);
      return this.decoded === undefined ? 1 : FLAC_WRITE_CONTINUE;
    },
    error: (status: number): void => {
      this.failure ??= FLAC_ERRORS[status] ?? `libFLAC error ${status}`;
    },
  };

  constructor() {
    const lib = flac();
    this.decoder = lib.decoderNew();
    const cb = flacCallbacks();
    const status = withFlacDecoder(this.callbacks, () => lib.decoderInitStream(this.decoder, cb.read, null, cb.tell, null, null, cb.write, null, cb.error, null));
    if (status !== 0) {
      lib.decoderDelete(this.decoder);
      throw new Error(`FLAC__stream_decoder_init_stream failed (${status})`);
    }
  }

  feed(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.closed) return;
    const keep = this.buffer.subarray(this.frameEnd - this.base);
    const merged = new Uint8Array(keep.length + bytes.length);
    merged.set(keep);
    merged.set(bytes, keep.length);
    this.base = this.frameEnd;
    this.buffer = merged;
  }

  next(): DecodedFrame | undefined {
    if (this.closed) return undefined;
    if (!this.metadataDone && !this.readMetadata()) return undefined;
    if (this.frameEnd >= this.base + this.buffer.length) return undefined;
    const lib = flac();
    this.decoded = undefined;
    const ok = withFlacDecoder(this.callbacks, () => lib.processSingle(this.decoder));
    if (this.failure !== undefined) throw badAudio(`The FLAC stream is corrupt: ${this.failure}`);
    const frame = this.decoded as DecodedFrame | undefined;
    if (ok !== 0 && frame !== undefined) {
      const position: (number | bigint)[] = [0];
      if (withFlacDecoder(this.callbacks, () => lib.decodePosition(this.decoder, position)) === 0) throw new Error('libFLAC did not report its decode position');
      this.frameEnd = Number(position[0]);
      return frame;
    }
    // The frame is not complete: start again from its first byte once more arrives.
    if (lib.decoderState(this.decoder) === FLAC_DECODER_ABORTED) lib.decoderFlush(this.decoder);
    this.readAt = this.frameEnd;
    const waiting = this.base + this.buffer.length - this.frameEnd;
    if (waiting > MAX_FLAC_FRAME_BYTES) throw badAudio(`No complete FLAC frame in ${waiting} bytes of audio`);
    return undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    withFlacDecoder(this.callbacks, () => flac().decoderDelete(this.decoder));
    this.buffer = new Uint8Array(0);
  }

  /**
   * Reads the metadata once all of it has arrived: its block headers give its length, so a
   * stream that claims megabytes of metadata is refused before libFLAC reads any of it.
   */
  private readMetadata(): boolean {
    const bytes = this.buffer;
    if (bytes.length >= 4 && new TextDecoder().decode(bytes.subarray(0, 4)) !== 'fLaC') throw badAudio('The audio is not a FLAC stream (it does not start with "fLaC")');
    let offset = 4;
    for (;;) {
      if (offset + 4 > bytes.length) return false;
      const header = bytes[offset] ?? 0;
      const length = ((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0);
      offset += 4 + length;
      if (offset > MAX_FLAC_METADATA_BYTES) throw badAudio(`The FLAC stream claims more than ${MAX_FLAC_METADATA_BYTES} bytes of metadata`);
      if ((header & 0x80) !== 0) break;
    }
    if (offset > bytes.length) return false;
    this.readAt = 0;
    const ok = withFlacDecoder(this.callbacks, () => flac().processMetadata(this.decoder));
    if (this.failure !== undefined || ok === 0) throw badAudio(`The FLAC stream's metadata is corrupt${this.failure === undefined ? '' : `: ${this.failure}`}`);
    this.metadataDone = true;
    this.frameEnd = offset;
    this.readAt = offset;
    // libFLAC may have read past the metadata; it is fed again from the first frame.
    flac().decoderFlush(this.decoder);
    return true;
  }

  /** Mono PCM16 of the frame libFLAC just decoded; undefined (with the reason kept) when it cannot be served. */
  private frame(buffer: Pointer): DecodedFrame | undefined {
    const lib = flac();
    const channels = lib.channels(this.decoder);
    const bits = lib.bitsPerSample(this.decoder);
    const rate = lib.sampleRate(this.decoder);
    const count = lib.blocksize(this.decoder);
    if (channels > 2) this.failure = `it has ${channels} channels (send mono or stereo)`;
    else if (rate < 8000 || rate > MAX_FLAC_RATE) this.failure = `its sample rate is ${rate} Hz (8000 to ${MAX_FLAC_RATE})`;
    if (this.failure !== undefined) return undefined;
    const planes = nativePointers(buffer, channels).map((p) => nativeInt32(p, count));
    const samples = new Int16Array(count);
    const shift = bits - 16;
    for (let i = 0; i < count; i++) {
      let sum = 0;
      for (const plane of planes) sum += plane[i] as number;
      const mono = sum / channels;
      const value = shift >= 0 ? mono / 2 ** shift : mono * 2 ** -shift;
      samples[i] = value > 32767 ? 32767 : value < -32768 ? -32768 : Math.round(value);
    }
    return { samples, sampleRate: rate };
  }
}

// koffi bindings to Debian's codec libraries (libopus0, libopusenc0, libogg0, libflac12,
// libmp3lame0, libspeexdsp1), each loaded on first use. Only the calls Parley makes are declared;
// the prototypes follow each library's installed header. All calls are made from the thread that
// owns the session (the event loop), each for one frame or page, so none blocks for long.
import koffi from 'koffi';

/** A native pointer as koffi hands it out (null for NULL). */
export type Pointer = object | null;

function lazy<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= load());
}

/** Copies `bytes` into native memory at `pointer`. */
export function writeNative(pointer: Pointer, bytes: Uint8Array): void {
  if (bytes.length > 0) new Uint8Array(koffi.view(pointer, bytes.length)).set(bytes);
}

/** A copy of `length` bytes of native memory at `pointer`. */
export function readNative(pointer: Pointer, length: number): Uint8Array {
  return length === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(pointer, length)).slice();
}

export function allocNative(bytes: number): Pointer {
  const pointer = koffi.alloc('uint8_t', bytes) as Pointer;
  new Uint8Array(koffi.view(pointer, bytes)).fill(0);
  return pointer;
}

export function freeNative(pointer: Pointer): void {
  koffi.free(pointer);
}

export const opus = lazy(() => {
  const lib = koffi.load('libopus.so.0');
  return {
    decoderCreate: lib.func('void *opus_decoder_create(int32_t fs, int channels, _Out_ int *error)') as (fs: number, channels: number, error: number[]) => Pointer,
    decoderDestroy: lib.func('void opus_decoder_destroy(void *st)') as (st: Pointer) => void,
    /** Raw packet from JS memory. */
    decode: lib.func('int opus_decode(void *st, const uint8_t *data, int32_t len, _Out_ int16_t *pcm, int frameSize, int fec)') as (
      st: Pointer, data: Uint8Array, len: number, pcm: Int16Array, frameSize: number, fec: number) => number,
    /** Packet from native memory (an Ogg packet). */
    decodeNative: lib.func('int opus_decode(void *st, void *data, int32_t len, _Out_ int16_t *pcm, int frameSize, int fec)') as (
      st: Pointer, data: Pointer, len: number, pcm: Int16Array, frameSize: number, fec: number) => number,
    strerror: lib.func('const char *opus_strerror(int error)') as (error: number) => string,
  };
});

export const OPUS_SET_BITRATE_REQUEST = 4002;
export const OPUS_SET_COMPLEXITY_REQUEST = 4010;
export const OPE_SET_DECISION_DELAY_REQUEST = 14000;
export const OPE_SET_MUXING_DELAY_REQUEST = 14002;
export const OPE_SET_COMMENT_PADDING_REQUEST = 14004;

export const opusenc = lazy(() => {
  const lib = koffi.load('libopusenc.so.0');
  const ctl = lib.func('int ope_encoder_ctl(void *enc, int request, ...)');
  return {
    commentsCreate: lib.func('void *ope_comments_create(void)') as () => Pointer,
    commentsDestroy: lib.func('void ope_comments_destroy(void *comments)') as (comments: Pointer) => void,
    createPull: lib.func('void *ope_encoder_create_pull(void *comments, int32_t rate, int channels, int family, _Out_ int *error)') as (
      comments: Pointer, rate: number, channels: number, family: number, error: number[]) => Pointer,
    ctlInt: (enc: Pointer, request: number, value: number): number => ctl(enc, request, 'int32_t', value) as number,
    flushHeader: lib.func('int ope_encoder_flush_header(void *enc)') as (enc: Pointer) => number,
    write: lib.func('int ope_encoder_write(void *enc, const int16_t *pcm, int samplesPerChannel)') as (enc: Pointer, pcm: Int16Array, samples: number) => number,
    drain: lib.func('int ope_encoder_drain(void *enc)') as (enc: Pointer) => number,
    getPage: lib.func('int ope_encoder_get_page(void *enc, _Out_ void **page, _Out_ int32_t *len, int flush)') as (
      enc: Pointer, page: Pointer[], len: number[], flush: number) => number,
    destroy: lib.func('void ope_encoder_destroy(void *enc)') as (enc: Pointer) => void,
    strerror: lib.func('const char *ope_strerror(int error)') as (error: number) => string,
  };
});

/** sizeof(ogg_sync_state) and sizeof(ogg_stream_state) are 32 and 408 on x86-64; the blocks are larger to be safe. */
export const OGG_SYNC_STATE_BYTES = 64;
export const OGG_STREAM_STATE_BYTES = 512;

// Registered by name for the prototypes below.
koffi.struct('parley_ogg_page', { header: 'void *', header_len: 'long', body: 'void *', body_len: 'long' });
koffi.struct('parley_ogg_packet', {
  packet: 'void *',
  bytes: 'long',
  b_o_s: 'long',
  e_o_s: 'long',
  granulepos: 'int64_t',
  packetno: 'int64_t',
});

export interface OggPageRef {
  header: Pointer;
  header_len: number;
  body: Pointer;
  body_len: number;
}

export interface OggPacketRef {
  packet: Pointer;
  bytes: number;
  b_o_s: number;
  e_o_s: number;
  granulepos: number | bigint;
  packetno: number | bigint;
}

export const ogg = lazy(() => {
  const lib = koffi.load('libogg.so.0');
  return {
    syncInit: lib.func('int ogg_sync_init(void *oy)') as (oy: Pointer) => number,
    syncClear: lib.func('int ogg_sync_clear(void *oy)') as (oy: Pointer) => number,
    syncBuffer: lib.func('void *ogg_sync_buffer(void *oy, long size)') as (oy: Pointer, size: number) => Pointer,
    syncWrote: lib.func('int ogg_sync_wrote(void *oy, long bytes)') as (oy: Pointer, bytes: number) => number,
    syncPageout: lib.func('int ogg_sync_pageout(void *oy, _Out_ parley_ogg_page *og)') as (oy: Pointer, og: Partial<OggPageRef>) => number,
    pageSerialno: lib.func('int ogg_page_serialno(const parley_ogg_page *og)') as (og: OggPageRef) => number,
    pageBos: lib.func('int ogg_page_bos(const parley_ogg_page *og)') as (og: OggPageRef) => number,
    streamInit: lib.func('int ogg_stream_init(void *os, int serialno)') as (os: Pointer, serial: number) => number,
    streamClear: lib.func('int ogg_stream_clear(void *os)') as (os: Pointer) => number,
    streamPagein: lib.func('int ogg_stream_pagein(void *os, parley_ogg_page *og)') as (os: Pointer, og: OggPageRef) => number,
    streamPacketout: lib.func('int ogg_stream_packetout(void *os, _Out_ parley_ogg_packet *op)') as (os: Pointer, op: Partial<OggPacketRef>) => number,
  };
});

// libFLAC's stream decoder and encoder callbacks. Pointers stay `void *` so the
// callbacks read and write native memory through views.
const FlacReadCb = koffi.proto('int parley_flac_read_cb(void *decoder, void *buffer, void *bytes, void *client)');
const FlacTellCb = koffi.proto('int parley_flac_tell_cb(void *decoder, void *offset, void *client)');
const FlacWriteCb = koffi.proto('int parley_flac_write_cb(void *decoder, void *frame, void *buffer, void *client)');
const FlacErrorCb = koffi.proto('void parley_flac_error_cb(void *decoder, int status, void *client)');
const FlacEncoderWriteCb = koffi.proto('int parley_flac_encoder_write_cb(void *encoder, void *buffer, size_t bytes, uint32_t samples, uint32_t frame, void *client)');

export interface FlacDecoderCallbacks {
  read(buffer: Pointer, bytes: Pointer): number;
  tell(offset: Pointer): number;
  write(buffer: Pointer): number;
  error(status: number): void;
}

export const FLAC_READ_CONTINUE = 0;
export const FLAC_READ_ABORT = 2;
export const FLAC_WRITE_CONTINUE = 0;
export const FLAC_TELL_OK = 0;
export const FLAC_DECODER_ABORTED = 7;

export const flac = lazy(() => {
  const lib = koffi.load('libFLAC.so.12');
  return {
    decoderNew: lib.func('void *FLAC__stream_decoder_new(void)') as () => Pointer,
    decoderDelete: lib.func('void FLAC__stream_decoder_delete(void *decoder)') as (decoder: Pointer) => void,
    decoderInitStream: lib.func(
      'int FLAC__stream_decoder_init_stream(void *decoder, parley_flac_read_cb *read, void *seek, parley_flac_tell_cb *tell, void *length, void *eof, parley_flac_write_cb *write, void *metadata, parley_flac_error_cb *error, void *client)',
    ) as (decoder: Pointer, read: unknown, seek: null, tell: unknown, length: null, eof: null, write: unknown, metadata: null, error: unknown, client: null) => number,
    processSingle: lib.func('int FLAC__stream_decoder_process_single(void *decoder)') as (decoder: Pointer) => number,
    processMetadata: lib.func('int FLAC__stream_decoder_process_until_end_of_metadata(void *decoder)') as (decoder: Pointer) => number,
    decoderFlush: lib.func('int FLAC__stream_decoder_flush(void *decoder)') as (decoder: Pointer) => number,
    decoderState: lib.func('int FLAC__stream_decoder_get_state(void *decoder)') as (decoder: Pointer) => number,
    decodePosition: lib.func('int FLAC__stream_decoder_get_decode_position(void *decoder, _Out_ uint64_t *position)') as (decoder: Pointer, position: (number | bigint)[]) => number,
    channels: lib.func('uint32_t FLAC__stream_decoder_get_channels(void *decoder)') as (decoder: Pointer) => number,
    bitsPerSample: lib.func('uint32_t FLAC__stream_decoder_get_bits_per_sample(void *decoder)') as (decoder: Pointer) => number,
    sampleRate: lib.func('uint32_t FLAC__stream_decoder_get_sample_rate(void *decoder)') as (decoder: Pointer) => number,
    blocksize: lib.func('uint32_t FLAC__stream_decoder_get_blocksize(void *decoder)') as (decoder: Pointer) => number,

    encoderNew: lib.func('void *FLAC__stream_encoder_new(void)') as () => Pointer,
    encoderDelete: lib.func('void FLAC__stream_encoder_delete(void *encoder)') as (encoder: Pointer) => void,
    encoderSetChannels: lib.func('int FLAC__stream_encoder_set_channels(void *encoder, uint32_t value)') as (encoder: Pointer, value: number) => number,
    encoderSetBitsPerSample: lib.func('int FLAC__stream_encoder_set_bits_per_sample(void *encoder, uint32_t value)') as (encoder: Pointer, value: number) => number,
    encoderSetSampleRate: lib.func('int FLAC__stream_encoder_set_sample_rate(void *encoder, uint32_t value)') as (encoder: Pointer, value: number) => number,
    encoderSetCompressionLevel: lib.func('int FLAC__stream_encoder_set_compression_level(void *encoder, uint32_t value)') as (encoder: Pointer, value: number) => number,
    encoderSetBlocksize: lib.func('int FLAC__stream_encoder_set_blocksize(void *encoder, uint32_t value)') as (encoder: Pointer, value: number) => number,
    encoderSetStreamableSubset: lib.func('int FLAC__stream_encoder_set_streamable_subset(void *encoder, int value)') as (encoder: Pointer, value: number) => number,
    encoderInitStream: lib.func(
      'int FLAC__stream_encoder_init_stream(void *encoder, parley_flac_encoder_write_cb *write, void *seek, void *tell, void *metadata, void *client)',
    ) as (encoder: Pointer, write: unknown, seek: null, tell: null, metadata: null, client: null) => number,
    encoderProcess: lib.func('int FLAC__stream_encoder_process_interleaved(void *encoder, const int32_t *buffer, uint32_t samples)') as (
      encoder: Pointer, buffer: Int32Array, samples: number) => number,
    encoderFinish: lib.func('int FLAC__stream_encoder_finish(void *encoder)') as (encoder: Pointer) => number,
  };
});

/**
 * libFLAC calls back into JS only from inside a call Parley makes, on the same thread, so one
 * registered callback of each kind serves every stream: the stream making the call sets itself as
 * the target first (koffi allows a bounded number of registered callbacks).
 */
let flacDecoderTarget: FlacDecoderCallbacks | undefined;
let flacEncoderTarget: ((buffer: Pointer, bytes: number, samples: number) => number) | undefined;

export const flacCallbacks = lazy(() => ({
  read: koffi.register((_d: Pointer, buffer: Pointer, bytes: Pointer) => flacDecoderTarget?.read(buffer, bytes) ?? FLAC_READ_ABORT, koffi.pointer(FlacReadCb)),
  tell: koffi.register((_d: Pointer, offset: Pointer) => flacDecoderTarget?.tell(offset) ?? 1, koffi.pointer(FlacTellCb)),
  write: koffi.register((_d: Pointer, _frame: Pointer, buffer: Pointer) => flacDecoderTarget?.write(buffer) ?? 1, koffi.pointer(FlacWriteCb)),
  error: koffi.register((_d: Pointer, status: number) => flacDecoderTarget?.error(status), koffi.pointer(FlacErrorCb)),
  encoderWrite: koffi.register(
    (_e: Pointer, buffer: Pointer, bytes: number | bigint, samples: number) => flacEncoderTarget?.(buffer, Number(bytes), samples) ?? 1,
    koffi.pointer(FlacEncoderWriteCb),
  ),
}));

/** Runs `call` with `target` receiving the decoder callbacks it causes. */
export function withFlacDecoder<T>(target: FlacDecoderCallbacks, call: () => T): T {
  const previous = flacDecoderTarget;
  flacDecoderTarget = target;
  try {
    return call();
  } finally {
    flacDecoderTarget = previous;
  }
}

/** Runs `call` with `target` receiving the encoder's written bytes. */
export function withFlacEncoder<T>(target: (buffer: Pointer, bytes: number, samples: number) => number, call: () => T): T {
  const previous = flacEncoderTarget;
  flacEncoderTarget = target;
  try {
    return call();
  } finally {
    flacEncoderTarget = previous;
  }
}

/** Decodes a native array of `count` pointers. */
export function nativePointers(pointer: Pointer, count: number): Pointer[] {
  return koffi.decode(pointer, 'void *', count) as Pointer[];
}

export function nativeInt32(pointer: Pointer, count: number): Int32Array {
  return new Int32Array(koffi.view(pointer, count * 4));
}

export function writeNativeU64(pointer: Pointer, value: number): void {
  koffi.encode(pointer, 'uint64_t', value);
}

export function readNativeSize(pointer: Pointer): number {
  return Number(koffi.decode(pointer, 'size_t'));
}

export function writeNativeSize(pointer: Pointer, value: number): void {
  koffi.encode(pointer, 'size_t', value);
}

export const MPEG_MODE_MONO = 3;

export const lame = lazy(() => {
  const lib = koffi.load('libmp3lame.so.0');
  return {
    init: lib.func('void *lame_init(void)') as () => Pointer,
    close: lib.func('int lame_close(void *gfp)') as (gfp: Pointer) => number,
    setInSamplerate: lib.func('int lame_set_in_samplerate(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setOutSamplerate: lib.func('int lame_set_out_samplerate(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setNumChannels: lib.func('int lame_set_num_channels(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setMode: lib.func('int lame_set_mode(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setBrate: lib.func('int lame_set_brate(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setQuality: lib.func('int lame_set_quality(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setWriteVbrTag: lib.func('int lame_set_bWriteVbrTag(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    setDisableReservoir: lib.func('int lame_set_disable_reservoir(void *gfp, int value)') as (gfp: Pointer, value: number) => number,
    initParams: lib.func('int lame_init_params(void *gfp)') as (gfp: Pointer) => number,
    encode: lib.func('int lame_encode_buffer(void *gfp, const int16_t *left, const int16_t *right, int samples, _Out_ uint8_t *mp3buf, int size)') as (
      gfp: Pointer, left: Int16Array, right: Int16Array, samples: number, out: Uint8Array, size: number) => number,
    flush: lib.func('int lame_encode_flush(void *gfp, _Out_ uint8_t *mp3buf, int size)') as (gfp: Pointer, out: Uint8Array, size: number) => number,
  };
});

export const SPEEX_ECHO_SET_SAMPLING_RATE = 24;

export const speexdsp = lazy(() => {
  const lib = koffi.load('libspeexdsp.so.1');
  return {
    echoInit: lib.func('void *speex_echo_state_init(int frameSize, int filterLength)') as (frame: number, filter: number) => Pointer,
    echoDestroy: lib.func('void speex_echo_state_destroy(void *st)') as (st: Pointer) => void,
    echoCtlInt: lib.func('int speex_echo_ctl(void *st, int request, _Inout_ int *value)') as (st: Pointer, request: number, value: number[]) => number,
    echoCancel: lib.func('void speex_echo_cancellation(void *st, const int16_t *rec, const int16_t *play, _Out_ int16_t *out)') as (
      st: Pointer, rec: Int16Array, play: Int16Array, out: Int16Array) => void,
  };
});

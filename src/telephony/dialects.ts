import { z } from 'zod';
import { ProtocolError } from '../protocol/errors.js';
import { describeIssues } from '../protocol/parse.js';

/** Most custom parameters a start message may carry (docs/telephony.md#refusals-and-limits). */
const MAX_PARAMETERS = 32;
/** Longest custom parameter name and value, in characters. */
const MAX_PARAMETER_NAME_CHARS = 128;
const MAX_PARAMETER_VALUE_CHARS = 2048;
/** Longest DTMF digit or mark name a message may carry. */
const MAX_NAME_CHARS = 256;
/** Longest stream identifier. */
const MAX_ID_CHARS = 256;

/** A phone line's audio: G.711, the same both ways. */
export interface LineFormat {
  encoding: 'mulaw' | 'alaw';
  sampleRate: number;
}

/** A media stream message, whichever carrier sent it. */
export type PhoneEvent =
  | { kind: 'connected' }
  | { kind: 'start'; streamId: string; callId: string | undefined; parameters: Record<string, string>; format: LineFormat }
  /** `payload` is base64 and not yet checked; only the caller's own track is `inbound`. */
  | { kind: 'media'; payload: string; inbound: boolean }
  | { kind: 'mark'; name: string }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'stop' }
  /** The carrier reports a problem with the stream (Telnyx `error`). */
  | { kind: 'error'; description: string }
  /** An event of no consequence to the call, or one a newer version of the protocol added. */
  | { kind: 'other'; event: string };

/** How one carrier's media stream protocol reads and writes (docs/telephony.md). */
export interface PhoneDialect {
  readonly name: 'twilio' | 'telnyx';
  parse(message: unknown): PhoneEvent;
  media(streamId: string, payload: string): string;
  mark(streamId: string, name: string): string;
  clear(streamId: string): string;
}

const id = z.string().max(MAX_ID_CHARS);
const name = z.string().min(1).max(MAX_NAME_CHARS);
const parameterValue = z.union([z.string(), z.number(), z.boolean()]).transform(String).pipe(z.string().max(MAX_PARAMETER_VALUE_CHARS));

/** Custom parameters as an object, or (Telnyx Call Control) a list of `{name, value}`. */
const parameters = z
  .union([
    z.record(z.string().max(MAX_PARAMETER_NAME_CHARS), parameterValue),
    z.array(z.looseObject({ name: z.string().max(MAX_PARAMETER_NAME_CHARS), value: parameterValue })).transform((list) => Object.fromEntries(list.map((p) => [p.name, p.value]))),
  ])
  .refine((record) => Object.keys(record).length <= MAX_PARAMETERS, { message: `at most ${MAX_PARAMETERS} custom parameters are accepted` });

const envelope = z.looseObject({ event: z.string().max(MAX_NAME_CHARS) });

function read<S extends z.ZodType>(schema: S, message: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(message);
  if (!result.success) throw new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', `Invalid ${what} message: ${describeIssues(result.error)}`);
  return result.data;
}

const twilioStart = z.looseObject({
  streamSid: id.optional(),
  start: z.looseObject({
    streamSid: id.optional(),
    callSid: id.optional(),
    customParameters: parameters.optional(),
    mediaFormat: z.looseObject({ encoding: z.string(), sampleRate: z.number(), channels: z.number().optional() }).optional(),
  }),
});
const media = z.looseObject({ media: z.looseObject({ payload: z.string(), track: z.string().optional() }) });
const mark = z.looseObject({ mark: z.looseObject({ name }) });
const dtmf = z.looseObject({ dtmf: z.looseObject({ digit: z.string().max(MAX_NAME_CHARS) }) });

/** The events both carriers write alike: all but `start` (and Telnyx's `error`). */
function sharedEvent(event: string, message: unknown): PhoneEvent {
  switch (event) {
    case 'connected':
      return { kind: 'connected' };
    case 'media': {
      const body = read(media, message, 'media').media;
      return { kind: 'media', payload: body.payload, inbound: body.track === undefined || body.track === 'inbound' || body.track === 'inbound_track' };
    }
    case 'mark':
      return { kind: 'mark', name: read(mark, message, 'mark').mark.name };
    case 'dtmf':
      return { kind: 'dtmf', digit: read(dtmf, message, 'dtmf').dtmf.digit };
    case 'stop':
      return { kind: 'stop' };
    default:
      return { kind: 'other', event };
  }
}

/** Twilio Media Streams (docs/telephony.md#twilio): bidirectional streams from `<Connect><Stream>`. */
export const twilio: PhoneDialect = {
  name: 'twilio',
  parse(message) {
    const { event } = read(envelope, message, 'media stream');
    switch (event) {
      case 'start': {
        const start = read(twilioStart, message, 'start');
        const format = start.start.mediaFormat;
        // Twilio documents one format for the stream; anything else cannot be read.
        if (format !== undefined && (format.encoding !== 'audio/x-mulaw' || format.sampleRate !== 8000 || (format.channels ?? 1) !== 1)) {
          throw new ProtocolError('USER_AUDIO_FORMAT', `start.mediaFormat ${format.encoding.slice(0, 32)} at ${format.sampleRate} Hz is not the audio/x-mulaw 8000 Hz mono that Parley reads`);
        }
        return {
          kind: 'start',
          streamId: start.start.streamSid ?? start.streamSid ?? '',
          callId: start.start.callSid,
          parameters: start.start.customParameters ?? {},
          format: { encoding: 'mulaw', sampleRate: 8000 },
        };
      }
      default:
        return sharedEvent(event, message);
    }
  },
  media: (streamSid, payload) => JSON.stringify({ event: 'media', streamSid, media: { payload } }),
  mark: (streamSid, name) => JSON.stringify({ event: 'mark', streamSid, mark: { name } }),
  clear: (streamSid) => JSON.stringify({ event: 'clear', streamSid }),
};

const telnyxStart = z.looseObject({
  stream_id: id.optional(),
  start: z.looseObject({
    call_control_id: id.optional(),
    custom_parameters: parameters.optional(),
    media_format: z.looseObject({ encoding: z.string(), sample_rate: z.coerce.number(), channels: z.coerce.number().optional() }).optional(),
  }),
});
const telnyxError = z.looseObject({ payload: z.looseObject({ code: z.unknown().optional(), title: z.string().optional(), detail: z.string().optional() }).optional() });

/** Telnyx codecs Parley reads and writes: G.711 only (L16 on RTP is big-endian, G.722 and Opus need codecs Parley lacks). */
const TELNYX_CODECS: Readonly<Record<string, LineFormat['encoding']>> = { PCMU: 'mulaw', PCMA: 'alaw' };

/** Telnyx media streaming (docs/telephony.md#telnyx), in `rtp` bidirectional mode. */
export const telnyx: PhoneDialect = {
  name: 'telnyx',
  parse(message) {
    const { event } = read(envelope, message, 'media stream');
    switch (event) {
      case 'start': {
        const start = read(telnyxStart, message, 'start');
        const format = start.start.media_format ?? { encoding: 'PCMU', sample_rate: 8000, channels: 1 };
        const encoding = TELNYX_CODECS[format.encoding.toUpperCase()];
        if (encoding === undefined || (format.sample_rate !== 8000 && format.sample_rate !== 16000) || (format.channels ?? 1) !== 1) {
          throw new ProtocolError(
            'USER_AUDIO_FORMAT',
            `start.media_format ${format.encoding.slice(0, 32)} at ${format.sample_rate} Hz is not supported: stream PCMU or PCMA at 8000 or 16000 Hz, mono`,
          );
        }
        return {
          kind: 'start',
          streamId: start.stream_id ?? '',
          callId: start.start.call_control_id,
          parameters: start.start.custom_parameters ?? {},
          format: { encoding, sampleRate: format.sample_rate },
        };
      }
      case 'error': {
        const body = read(telnyxError, message, 'error').payload;
        return { kind: 'error', description: [body?.title, body?.detail].filter((part) => part !== undefined).join(': ').slice(0, 512) };
      }
      default:
        return sharedEvent(event, message);
    }
  },
  media: (_streamId, payload) => JSON.stringify({ event: 'media', media: { payload } }),
  mark: (_streamId, name) => JSON.stringify({ event: 'mark', mark: { name } }),
  clear: () => JSON.stringify({ event: 'clear' }),
};

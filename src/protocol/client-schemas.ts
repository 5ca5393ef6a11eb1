import { z } from 'zod';

/**
 * Zod schemas of every client message of both generations (docs/protocol-decisions.md#lenient-parsing).
 * Objects are loose: real SDKs send extra keys, which Parley ignores.
 * Value checks (supported encodings, known providers) happen in normalize, which reports
 * INVALID_SETTINGS; a schema violation here is UNPARSABLE_CLIENT_MESSAGE.
 */

const stringMap = z.record(z.string(), z.string());

const providerBlock = z.looseObject({ type: z.string(), model: z.string().optional() });

const audioInput = z.looseObject({
  encoding: z.string().optional(),
  sample_rate: z.number().int().positive().optional(),
  sampleRate: z.number().int().positive().optional(),
  /** Parley's own (docs/protocol-decisions.md#echo-suppression). */
  echo_suppression: z.boolean().optional(),
});

const audioOutput = z.looseObject({
  encoding: z.string().optional(),
  sample_rate: z.number().int().positive().optional(),
  sampleRate: z.number().int().positive().optional(),
  bitrate: z.number().int().positive().optional(),
  container: z.string().optional(),
});

const audio = z.looseObject({ input: audioInput.optional(), output: audioOutput.optional() });

/** EA function headers were `[{key, value}]`; V1 made them a map. Both are accepted everywhere. */
const headerList = z.array(z.looseObject({ key: z.string(), value: z.string() }));
const headers = z.union([stringMap, headerList]);

/**
 * A URL a client gives for a provider or a function: bounded, as every client text the server
 * works on is (8 KiB, a common request-line limit of HTTP servers).
 */
export const MAX_URL_CHARS = 8192;
const url = z.string().max(MAX_URL_CHARS, `a URL may have at most ${MAX_URL_CHARS} characters`);

const functionEndpoint = z.looseObject({
  url,
  method: z.string().optional(),
  headers: headers.optional(),
});

const functionDefinition = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  endpoint: functionEndpoint.optional(),
  defer_until_eot: z.boolean().optional(),
  // EA server-side function fields, tolerated on V1 too.
  url: url.optional(),
  method: z.string().optional(),
  headers: headers.optional(),
});

const endpoint = z.looseObject({ url, headers: headers.optional() });

export const thinkSettingsSchema = z.looseObject({
  provider: providerBlock,
  endpoint: endpoint.optional(),
  prompt: z.string().optional(),
  instructions: z.string().optional(),
  functions: z.array(functionDefinition).optional(),
  context_length: z.union([z.number().int().min(2), z.literal('max')]).optional(),
});

export const speakSettingsSchema = z.looseObject({ provider: providerBlock, endpoint: endpoint.optional() });

export const listenSettingsSchema = z.looseObject({ provider: providerBlock, endpoint: endpoint.optional() });

const historyText = z.looseObject({
  type: z.literal('History').optional(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
});

const historyFunctions = z.looseObject({
  type: z.literal('History').optional(),
  function_calls: z.array(
    z.looseObject({
      id: z.string(),
      name: z.string(),
      client_side: z.boolean(),
      arguments: z.string(),
      response: z.string(),
      thought_signature: z.string().optional(),
    }),
  ),
});

export const historyItemSchema = z.union([historyText, historyFunctions]);

const oneOrMany = <T extends z.ZodType>(schema: T) => z.union([schema, z.array(schema).min(1)]);

const flags = z.looseObject({ history: z.boolean().optional() });

const v1Agent = z.looseObject({
  language: z.union([z.string(), z.looseObject({ type: z.string() })]).optional(),
  listen: listenSettingsSchema.optional(),
  think: oneOrMany(thinkSettingsSchema).optional(),
  speak: oneOrMany(speakSettingsSchema).optional(),
  greeting: z.string().optional(),
  context: z.looseObject({ messages: z.array(historyItemSchema).optional() }).optional(),
  mip_opt_out: z.boolean().optional(),
});

export const v1SettingsSchema = z.looseObject({
  type: z.literal('Settings'),
  tags: z.array(z.string()).optional(),
  experimental: z.boolean().optional(),
  flags: flags.optional(),
  settings: z.looseObject({ flags: flags.optional() }).optional(),
  mip_opt_out: z.boolean().optional(),
  mips_opt_out: z.boolean().optional(),
  audio: audio.optional(),
  // A string is a saved agent id (not supported: reported as AGENT_ID_NOT_SUPPORTED).
  agent: z.union([v1Agent, z.string()]),
  greeting: z.string().optional(),
});

const eaAgent = z.looseObject({
  listen: z.looseObject({ model: z.string().optional(), keyterms: z.array(z.string()).optional() }).optional(),
  think: z
    .looseObject({
      provider: z.looseObject({
        type: z.string(),
        url: url.optional(),
        key: z.string().optional(),
        headers: headers.optional(),
      }),
      model: z.string().optional(),
      instructions: z.string().optional(),
      functions: z.array(functionDefinition).optional(),
    })
    .optional(),
  speak: z
    .looseObject({
      model: z.string().optional(),
      provider: z.union([z.string(), providerBlock]).optional(),
      voice_id: z.string().optional(),
    })
    .optional(),
});

export const eaSettingsSchema = z.looseObject({
  type: z.literal('SettingsConfiguration'),
  audio: audio.optional(),
  agent: eaAgent.optional(),
  context: z
    .looseObject({
      messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.string() })).optional(),
      replay: z.boolean().optional(),
    })
    .optional(),
});

/** Every non-settings client message, keyed by its `type` (both generations). */
export const commandSchemas = {
  UpdatePrompt: z.looseObject({ prompt: z.string().optional(), instructions: z.string().optional() }),
  UpdateInstructions: z.looseObject({ instructions: z.string() }),
  UpdateThink: z.looseObject({ think: oneOrMany(thinkSettingsSchema) }),
  UpdateSpeak: z.looseObject({ speak: oneOrMany(speakSettingsSchema).optional(), model: z.string().optional() }),
  UpdateListen: z.looseObject({ listen: listenSettingsSchema }),
  InjectUserMessage: z.looseObject({ content: z.string() }),
  InjectAgentMessage: z.looseObject({
    message: z.string().optional(),
    content: z.string().optional(),
    behavior: z.enum(['default', 'queue', 'interrupt']).optional(),
  }),
  FunctionCallResponse: z.looseObject({
    id: z.string().optional(),
    name: z.string().optional(),
    content: z.string().optional(),
    function_call_id: z.string().optional(),
    output: z.string().optional(),
    thought_signature: z.string().optional(),
  }),
  KeepAlive: z.looseObject({}),
  ForceEndTurn: z.looseObject({}),
  Close: z.looseObject({}),
} as const;

export type CommandType = keyof typeof commandSchemas;
export type V1Settings = z.infer<typeof v1SettingsSchema>;
export type EaSettings = z.infer<typeof eaSettingsSchema>;
export type RawThinkSettings = z.infer<typeof thinkSettingsSchema>;
export type RawSpeakSettings = z.infer<typeof speakSettingsSchema>;
export type RawListenSettings = z.infer<typeof listenSettingsSchema>;
export type RawFunctionDefinition = z.infer<typeof functionDefinition>;
export type RawHeaders = z.infer<typeof headers>;
export type RawHistoryItem = z.infer<typeof historyItemSchema>;
export type RawHistoryFunctions = z.infer<typeof historyFunctions>;

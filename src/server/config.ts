import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_CLIENT_LIMITS } from '../protocol/limits.js';
import type { ClientLimits } from '../protocol/limits.js';
import { describeIssues } from '../protocol/parse.js';
import { parseAllowedHosts } from '../providers/outbound.js';
import { DEFAULT_TURN_TAKING } from '../session/turn-taking.js';
import type { TurnTaking } from '../session/turn-taking.js';
import { MIN_SECRET_CHARS } from './tokens.js';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

/**
 * Sessions one core carries with the embedded engines, every turn answered and the median answer
 * under a second after the end of speech: `BENCH_MODE=grammar npm run bench -- capacity` on the
 * 2-core reference machine answered 60/60 turns at 30 sessions (652 ms median) and 80/80 at 40
 * (1.1 s), and fell behind at 50 (README "Benchmarks"). Remote providers cost far less: raise it.
 */
const SESSIONS_PER_CORE = 16;
const DEFAULT_MAX_SESSIONS = SESSIONS_PER_CORE * availableParallelism();

/** Every server setting, read from the environment (README "Configuration" lists them). */
const schema = z.object({
  PORT: int(8080),
  HOST: z.string().default('127.0.0.1'),
  PARLEY_API_KEYS: z.string().default(''),
  PARLEY_IDLE_TIMEOUT_MS: int(10_000, 1),
  PARLEY_MAX_SESSION_MS: int(2 * 60 * 60 * 1000, 1),
  PARLEY_SESSION_WARNING_MS: int(5 * 60 * 1000),
  PARLEY_MAX_SESSIONS: int(DEFAULT_MAX_SESSIONS, 1),
  PARLEY_MAX_TEXT_FRAME_BYTES: int(256 * 1024, 1024),
  PARLEY_MAX_BINARY_FRAME_BYTES: int(1024 * 1024, 1024),
  PARLEY_MAX_JSON_DEPTH: int(DEFAULT_CLIENT_LIMITS.maxJsonDepth, 8),
  PARLEY_MAX_INJECT_CHARS: int(DEFAULT_CLIENT_LIMITS.maxInjectChars, 1),
  PARLEY_MAX_FUNCTIONS: int(DEFAULT_CLIENT_LIMITS.maxFunctions, 0),
  PARLEY_MAX_CONVERSATION_CHARS: int(DEFAULT_CLIENT_LIMITS.maxConversationChars, 1),
  PARLEY_MAX_QUEUED_INJECTIONS: int(DEFAULT_CLIENT_LIMITS.maxQueuedInjections, 0),
  PARLEY_PLAYOUT_LEAD_MS: int(200, 0),
  PARLEY_ECHO_SUPPRESSION: z.enum(['on', 'off']).default('off'),
  PARLEY_SYNTHESIS_AHEAD_MS: int(3000, 500),
  PARLEY_MAX_CLIENT_BUFFER_BYTES: int(4 * 1024 * 1024, 64 * 1024),
  PARLEY_CLIENT_BUFFER_GRACE_MS: int(5000, 0),
  PARLEY_FUNCTION_TIMEOUT_MS: int(10_000, 1),
  PARLEY_MAX_FUNCTION_RESULT_BYTES: int(64 * 1024, 1),
  PARLEY_ALLOWED_HOSTS: z.string().default('').superRefine((text, ctx) => {
    try {
      parseAllowedHosts(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  PARLEY_DRAIN_TIMEOUT_MS: int(30_000, 0),
  PARLEY_MIN_INTERRUPTION_MS: int(DEFAULT_TURN_TAKING.minInterruptionMs, 0),
  PARLEY_MIN_INTERRUPTION_WORDS: int(DEFAULT_TURN_TAKING.minInterruptionWords, 1),
  PARLEY_FALSE_INTERRUPTION_MS: int(DEFAULT_TURN_TAKING.falseInterruptionMs, 0),
  PARLEY_SUSTAINED_INTERRUPTION_MS: int(DEFAULT_TURN_TAKING.sustainedInterruptionMs, 0),
  PARLEY_BACKCHANNELS: z.string().default(DEFAULT_TURN_TAKING.backchannels.join(',')),
  PARLEY_FILLER: z.string().default(DEFAULT_TURN_TAKING.filler),
  PARLEY_FILLER_AFTER_MS: int(DEFAULT_TURN_TAKING.fillerAfterMs, 0),
  PARLEY_UNFINISHED_HOLD_MS: int(DEFAULT_TURN_TAKING.unfinishedHoldMs, 0),
  PARLEY_EAGER_REPLY_MS: int(DEFAULT_TURN_TAKING.eagerReplyMs, 0),
  PARLEY_WEB_DIR: z.string().optional(),
  PARLEY_ADMIN_KEY: z.string().optional(),
  PARLEY_TOKEN_SECRET: z
    .string()
    .optional()
    .refine((secret) => secret === undefined || secret === '' || secret.length >= MIN_SECRET_CHARS, `PARLEY_TOKEN_SECRET must have at least ${MIN_SECRET_CHARS} characters`),
  PARLEY_SLOT_LEASE_MS: int(30_000, 500),
  PARLEY_AGENTS_FILE: z.string().optional(),
  PARLEY_RECORD_DIR: z.string().optional(),
  PARLEY_RECORD: z.enum(['all', 'requested']).default('all'),
  PARLEY_LOG_TRANSCRIPTS: z.enum(['on', 'off']).default('off'),
});

export interface ServerConfig {
  port: number;
  host: string;
  /** Empty: any client is accepted (a warning is logged at start). */
  apiKeys: string[];
  idleTimeoutMs: number;
  maxSessionMs: number;
  /** How long before the session limit MAXIMUM_SESSION_LENGTH_APPROACHING is sent. */
  sessionWarningMs: number;
  maxSessions: number;
  maxTextFrameBytes: number;
  maxBinaryFrameBytes: number;
  /** Bounds inside messages (docs/protocol-decisions.md#message-limits). */
  limits: ClientLimits;
  playoutLeadMs: number;
  /** Echo suppression for agent-path sessions whose settings do not say (docs/protocol-decisions.md#echo-suppression). */
  echoSuppression: boolean;
  /** How far synthesis may run ahead of what the listener has heard; at least 500, well over the default playout lead. */
  synthesisAheadMs: number;
  /** Bytes queued for one client past which it is closed; past half of it, agent audio is dropped (docs/protocol-decisions.md#slow-clients). */
  maxClientBufferBytes: number;
  /** How long a client may stay over half of maxClientBufferBytes. */
  clientBufferGraceMs: number;
  functionTimeoutMs: number;
  maxFunctionResultBytes: number;
  drainTimeoutMs: number;
  /** Turn-taking defaults of every session (docs/turn-taking.md); settings may override each. */
  turnTaking: TurnTaking;
  webDir?: string;
  /** PARLEY_ADMIN_KEY: the credential of the management API (`/v1/projects`); unset, it is off. */
  adminKey?: string;
  /** PARLEY_TOKEN_SECRET: signs granted tokens; unset, a secret kept in the store (docs/security.md#projects-keys-and-tokens). */
  tokenSecret?: string;
  /** How long a session's concurrency slot outlives its process's last heartbeat (a crashed process). */
  slotLeaseMs: number;
  /** Agents for phone calls, name → V1 Settings (docs/telephony.md#which-agent-answers); unset: the embedded local agent. */
  agentsFile?: string;
  /** Where recordings go (docs/recordings.md); unset: nothing is recorded. */
  recordDir?: string;
  /** `all` sessions, or only those that ask (`record=true`). */
  record: 'all' | 'requested';
  /** PARLEY_LOG_TRANSCRIPTS: the words of each turn go into the log too (off: a turn's line has figures only). */
  logTranscripts: boolean;
}

export function loadServerConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new Error(`Invalid configuration: ${describeIssues(parsed.error)}`);
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys: e.PARLEY_API_KEYS.split(',').map((k) => k.trim()).filter((k) => k !== ''),
    idleTimeoutMs: e.PARLEY_IDLE_TIMEOUT_MS,
    maxSessionMs: e.PARLEY_MAX_SESSION_MS,
    sessionWarningMs: e.PARLEY_SESSION_WARNING_MS,
    maxSessions: e.PARLEY_MAX_SESSIONS,
    maxTextFrameBytes: e.PARLEY_MAX_TEXT_FRAME_BYTES,
    maxBinaryFrameBytes: e.PARLEY_MAX_BINARY_FRAME_BYTES,
    limits: {
      maxJsonDepth: e.PARLEY_MAX_JSON_DEPTH,
      maxInjectChars: e.PARLEY_MAX_INJECT_CHARS,
      maxFunctions: e.PARLEY_MAX_FUNCTIONS,
      maxConversationChars: e.PARLEY_MAX_CONVERSATION_CHARS,
      maxQueuedInjections: e.PARLEY_MAX_QUEUED_INJECTIONS,
    },
    playoutLeadMs: e.PARLEY_PLAYOUT_LEAD_MS,
    echoSuppression: e.PARLEY_ECHO_SUPPRESSION === 'on',
    synthesisAheadMs: e.PARLEY_SYNTHESIS_AHEAD_MS,
    maxClientBufferBytes: e.PARLEY_MAX_CLIENT_BUFFER_BYTES,
    clientBufferGraceMs: e.PARLEY_CLIENT_BUFFER_GRACE_MS,
    functionTimeoutMs: e.PARLEY_FUNCTION_TIMEOUT_MS,
    maxFunctionResultBytes: e.PARLEY_MAX_FUNCTION_RESULT_BYTES,
    drainTimeoutMs: e.PARLEY_DRAIN_TIMEOUT_MS,
    turnTaking: {
      minInterruptionMs: e.PARLEY_MIN_INTERRUPTION_MS,
      minInterruptionWords: e.PARLEY_MIN_INTERRUPTION_WORDS,
      falseInterruptionMs: e.PARLEY_FALSE_INTERRUPTION_MS,
      sustainedInterruptionMs: e.PARLEY_SUSTAINED_INTERRUPTION_MS,
      backchannels: e.PARLEY_BACKCHANNELS.split(',').map((b) => b.trim()).filter((b) => b !== ''),
      filler: e.PARLEY_FILLER.trim(),
      fillerAfterMs: e.PARLEY_FILLER_AFTER_MS,
      unfinishedHoldMs: e.PARLEY_UNFINISHED_HOLD_MS,
      eagerReplyMs: e.PARLEY_EAGER_REPLY_MS,
    },
    ...(e.PARLEY_WEB_DIR === undefined ? {} : { webDir: e.PARLEY_WEB_DIR }),
    ...(e.PARLEY_ADMIN_KEY === undefined || e.PARLEY_ADMIN_KEY === '' ? {} : { adminKey: e.PARLEY_ADMIN_KEY }),
    ...(e.PARLEY_TOKEN_SECRET === undefined || e.PARLEY_TOKEN_SECRET === '' ? {} : { tokenSecret: e.PARLEY_TOKEN_SECRET }),
    slotLeaseMs: e.PARLEY_SLOT_LEASE_MS,
    ...(e.PARLEY_AGENTS_FILE === undefined || e.PARLEY_AGENTS_FILE === '' ? {} : { agentsFile: e.PARLEY_AGENTS_FILE }),
    ...(e.PARLEY_RECORD_DIR === undefined || e.PARLEY_RECORD_DIR === '' ? {} : { recordDir: e.PARLEY_RECORD_DIR }),
    record: e.PARLEY_RECORD,
    logTranscripts: e.PARLEY_LOG_TRANSCRIPTS === 'on',
  };
}

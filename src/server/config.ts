import { z } from 'zod';
import { describeIssues } from '../protocol/parse.js';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

/** Every server setting, read from the environment (README "Configuration" lists them). */
const schema = z.object({
  PORT: int(8080),
  HOST: z.string().default('127.0.0.1'),
  PARLEY_API_KEYS: z.string().default(''),
  PARLEY_IDLE_TIMEOUT_MS: int(10_000, 1),
  PARLEY_MAX_SESSION_MS: int(2 * 60 * 60 * 1000, 1),
  PARLEY_SESSION_WARNING_MS: int(5 * 60 * 1000),
  PARLEY_MAX_SESSIONS: int(100, 1),
  PARLEY_MAX_TEXT_FRAME_BYTES: int(256 * 1024, 1024),
  PARLEY_MAX_BINARY_FRAME_BYTES: int(1024 * 1024, 1024),
  PARLEY_PLAYOUT_LEAD_MS: int(200, 0),
  PARLEY_FUNCTION_TIMEOUT_MS: int(10_000, 1),
  PARLEY_DRAIN_TIMEOUT_MS: int(30_000, 0),
  PARLEY_WEB_DIR: z.string().optional(),
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
  playoutLeadMs: number;
  functionTimeoutMs: number;
  drainTimeoutMs: number;
  webDir?: string;
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
    playoutLeadMs: e.PARLEY_PLAYOUT_LEAD_MS,
    functionTimeoutMs: e.PARLEY_FUNCTION_TIMEOUT_MS,
    drainTimeoutMs: e.PARLEY_DRAIN_TIMEOUT_MS,
    ...(e.PARLEY_WEB_DIR === undefined ? {} : { webDir: e.PARLEY_WEB_DIR }),
  };
}

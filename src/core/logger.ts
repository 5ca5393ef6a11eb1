import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Paths that may hold secrets; pino replaces their values before a line is written. */
const REDACT = [
  'key',
  'apiKey',
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  '*.key',
  '*.apiKey',
  '*.token',
  '*.authorization',
  '*.headers',
  'endpoint.headers',
  'credentials',
  '*.credentials',
];

export function createLogger(level = process.env['PARLEY_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

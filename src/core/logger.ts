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

/** JSON lines (for machines), or one readable line per entry (for a person at a terminal). */
export type LogFormat = 'json' | 'text';

export function createLogger(level = process.env['PARLEY_LOG_LEVEL'] ?? 'info', format: LogFormat = 'json'): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  return format === 'json' ? pino(options) : pino(options, { write: (line: string) => process.stdout.write(textLine(line)) });
}

/** PARLEY_LOG_FORMAT when set (json or text), else text on a terminal and JSON otherwise. */
export function logFormat(env: Readonly<Record<string, string | undefined>>, stdoutIsTty = process.stdout.isTTY === true): LogFormat {
  const chosen = env['PARLEY_LOG_FORMAT'];
  if (chosen === 'json' || chosen === 'text') return chosen;
  return stdoutIsTty ? 'text' : 'json';
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/**
 * A pino JSON line as "12:04:05 INFO  session opened  session=ab12 dialect=v1". Written here
 * rather than with pino-pretty, which is not a dependency; pino has already redacted the line.
 */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 19) : '--:--:--';
  const level = (LEVELS[Number(entry['level'])] ?? String(entry['level'])).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !PINO_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? (/\s/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value)}`);
  const msg = typeof entry['msg'] === 'string' ? entry['msg'] : JSON.stringify(entry['msg'] ?? '');
  return `${time} ${level} ${msg}${fields.length === 0 ? '' : '  ' + fields.join(' ')}\n`;
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

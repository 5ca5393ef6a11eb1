import type { z } from 'zod';
import { ProtocolError } from './errors.js';
import { commandSchemas, eaSettingsSchema, v1SettingsSchema } from './client-schemas.js';
import { DEFAULT_CLIENT_LIMITS, nestsDeeperThan } from './limits.js';
import type { CommandType, EaSettings, V1Settings } from './client-schemas.js';

/** A client text frame, parsed and schema-checked, not yet normalized. */
export type ClientMessage =
  | { type: 'Settings'; settings: V1Settings }
  | { type: 'SettingsConfiguration'; settings: EaSettings }
  | { [K in CommandType]: { type: K; body: z.infer<(typeof commandSchemas)[K]> } }[CommandType];

function isCommandType(type: string): type is CommandType {
  return Object.hasOwn(commandSchemas, type);
}

type Issue = z.core.$ZodIssue;

/**
 * For a union that failed, the branch that got furthest explains the problem best: e.g. for
 * `agent` (object or agent-id string) the object branch's field error, not "Invalid input".
 */
function leafIssues(issue: Issue, prefix: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const depth = (branch: Issue[]): number => Math.max(...branch.map((i) => i.path.length + (i.code === 'invalid_union' ? 1 : 0)));
    const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
    if (depth(best) > 0) return best.flatMap((i) => leafIssues(i, path));
  }
  return [{ path, message: issue.message }];
}

/** Readable schema errors: each names the field and what was expected. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .flatMap((issue) => leafIssues(issue, prefix === '' ? [] : [prefix]))
    .slice(0, 3)
    .map(({ path, message }) => {
      const field = path.map(String).join('.');
      const text = message.replace(/^Invalid input: /, '');
      return field === '' ? text : `${field}: ${text}`;
    })
    .join('; ');
}

function unparsable(message: string): ProtocolError {
  return new ProtocolError('UNPARSABLE_CLIENT_MESSAGE', message);
}

function check<S extends z.ZodType>(schema: S, data: unknown, type: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) throw unparsable(`Invalid ${type} message: ${describeIssues(result.error)}`);
  return result.data;
}

/** Parses one text frame; throws ProtocolError UNPARSABLE_CLIENT_MESSAGE with a readable reason. */
export function parseClientMessage(text: string, maxJsonDepth = DEFAULT_CLIENT_LIMITS.maxJsonDepth): ClientMessage {
  if (nestsDeeperThan(text, maxJsonDepth)) {
    throw unparsable(`The message nests objects and arrays more than ${maxJsonDepth} levels deep (the limit)`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw unparsable(`The message is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw unparsable('The message must be a JSON object with a "type" field');
  }
  const type = (data as { type?: unknown }).type;
  if (typeof type !== 'string') throw unparsable('type: expected a string naming the message type');
  if (type === 'Settings') return { type, settings: check(v1SettingsSchema, data, type) };
  if (type === 'SettingsConfiguration') return { type, settings: check(eaSettingsSchema, data, type) };
  if (!isCommandType(type)) {
    throw unparsable(`Unknown message type "${type}"`);
  }
  return { type, body: check(commandSchemas[type], data, type) } as ClientMessage;
}

export function isSettingsMessage(message: ClientMessage): message is Extract<ClientMessage, { type: 'Settings' | 'SettingsConfiguration' }> {
  return message.type === 'Settings' || message.type === 'SettingsConfiguration';
}

import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { AgentConfig } from '../protocol/agent-config.js';
import { v1SettingsSchema } from '../protocol/client-schemas.js';
import type { V1Settings } from '../protocol/client-schemas.js';
import { ProtocolError } from '../protocol/errors.js';
import { normalizeV1Settings } from '../protocol/normalize.js';
import { describeIssues } from '../protocol/parse.js';

/** Largest agents file read; an operator's file, bounded all the same. */
const MAX_AGENTS_FILE_BYTES = 4 * 1024 * 1024;

/** Name of the agent that answers when a call names none (docs/telephony.md#which-agent-answers). */
const DEFAULT_AGENT = 'default';

/**
 * The agent a call gets when no agents file is configured: the embedded local engines, which
 * need no key and no network (README "Engines: offline by default").
 */
const EMBEDDED_AGENT: V1Settings = {
  type: 'Settings',
  agent: {
    listen: { provider: { type: 'local' } },
    think: { provider: { type: 'local' } },
    speak: { provider: { type: 'local' } },
    greeting: 'Hello! How can I help you?',
  },
};

/** Waits this long after a change before reading, so an editor's several writes are read once. */
const RELOAD_SETTLE_MS = 100;

/** The agent a call gets, with what the bridge reads beyond the Settings themselves. */
export interface PhoneAgent {
  /** The name the call asked for (or `default`), for logs and the recording. */
  name: string;
  settings: V1Settings;
  /** Where it came from: the agents file, or the stored agent with this id. */
  source: { kind: 'file' } | { kind: 'stored'; id: string };
  /** The server-side function a keypad entry calls instead of becoming a user message (docs/telephony.md#dtmf). */
  dtmfFunction?: string;
}

/**
 * The stored agents of the caller's project (when the server has a store), looked up by
 * id or name: the `agent` block of a V1 Settings, or undefined when the project has none so named.
 */
export type StoredAgents = (name: string) => Promise<{ id: string; agent: Record<string, unknown> } | undefined>;

/** `agent.dtmf` (docs/telephony.md#dtmf): Parley's own, so a misspelt key is refused rather than ignored. */
const dtmfOptionSchema = z.strictObject({ function: z.string().min(1).max(64) });

/**
 * The function an agent block's `dtmf` option names, checked against the agent's own functions
 * (those of its first think provider, which a session calls); undefined without the option.
 * Throws with a readable reason.
 */
export function dtmfFunction(agent: unknown, config: AgentConfig): string | undefined {
  const option = typeof agent === 'object' && agent !== null ? (agent as Record<string, unknown>)['dtmf'] : undefined;
  if (option === undefined) return undefined;
  const parsed = dtmfOptionSchema.safeParse(option);
  if (!parsed.success) throw new Error(`dtmf: ${describeIssues(parsed.error)}; expected {"function": "<one of the agent's functions>"}`);
  const name = parsed.data.function;
  const fn = config.think[0]?.functions.find((f) => f.name === name);
  if (fn === undefined) throw new Error(`dtmf.function "${name}" is not one of the agent's functions (think.functions)`);
  if (fn.endpoint === undefined) throw new Error(`dtmf.function "${name}" has no endpoint: a keypad entry is a server-side call`);
  return name;
}

/**
 * Checks Settings as a call's agent: valid Settings, only server-side functions (a phone call has
 * no client to run one), and a valid `dtmf` option. Throws with a readable reason.
 */
function phoneAgent(name: string, raw: unknown, source: PhoneAgent['source']): PhoneAgent {
  const candidate = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { type: 'Settings', ...raw } : raw;
  const parsed = v1SettingsSchema.safeParse(candidate);
  if (!parsed.success) throw new Error(describeIssues(parsed.error));
  const { value } = normalizeV1Settings(parsed.data);
  const clientSide = value.think.flatMap((think) => think.functions).find((fn) => fn.endpoint === undefined);
  if (clientSide !== undefined) throw new Error(`function "${clientSide.name}" has no endpoint, and a phone call has no client to run it`);
  const dtmf = dtmfFunction(parsed.data.agent, value);
  return { name, settings: parsed.data, source, ...(dtmf === undefined ? {} : { dtmfFunction: dtmf }) };
}

/**
 * Agent configurations for phone calls, by name: V1 Settings read from PARLEY_AGENTS_FILE
 * (a JSON object, name → Settings), or the embedded local agent when there is no file. The file
 * is read at start (a bad file stops the server with the reason) and again whenever it changes;
 * a bad edit is logged and the agents read before stay in force.
 */
export class AgentDirectory {
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  private constructor(
    private agents: ReadonlyMap<string, PhoneAgent>,
    private readonly path: string | undefined,
  ) {}

  /** The embedded local agent only. */
  static embedded(): AgentDirectory {
    return new AgentDirectory(new Map([[DEFAULT_AGENT, { name: DEFAULT_AGENT, settings: EMBEDDED_AGENT, source: { kind: 'file' } }]]), undefined);
  }

  /** Reads the file (throws with a readable reason) and watches it for changes. */
  static async open(path: string, logger: Logger): Promise<AgentDirectory> {
    const directory = new AgentDirectory(await readAgents(path), path);
    directory.watch(logger);
    return directory;
  }

  /** The names a call may ask for, in the file's order. */
  names(): string[] {
    return [...this.agents.keys()];
  }

  /**
   * The agent a call asks for (docs/telephony.md#which-agent-answers). With `stored` (the
   * server's store, for the caller's project), a stored agent of that id or name comes first, so
   * a project's own agents win over the operator's file; then the file's agent of that name.
   * Without a name: a stored agent named `default`, else the file's `default`, else the file's
   * first. None: INVALID_SETTINGS naming the file's agents. A stored agent that cannot run a
   * call (a client-side function, a bad `dtmf`) is INVALID_SETTINGS saying why.
   */
  async settings(name: string | undefined, stored?: StoredAgents): Promise<PhoneAgent> {
    const found = stored === undefined ? undefined : await stored(name ?? DEFAULT_AGENT);
    if (found !== undefined) {
      try {
        return phoneAgent(name ?? DEFAULT_AGENT, { type: 'Settings', agent: found.agent }, { kind: 'stored', id: found.id });
      } catch (err) {
        throw new ProtocolError('INVALID_SETTINGS', `Stored agent ${found.id}: ${(err as Error).message}`);
      }
    }
    const chosen = name ?? (this.agents.has(DEFAULT_AGENT) ? DEFAULT_AGENT : this.names()[0]);
    const agent = chosen === undefined ? undefined : this.agents.get(chosen);
    if (agent === undefined) {
      const known = this.names().slice(0, 10).map((n) => `"${n}"`).join(', ');
      const where = stored === undefined ? 'the agents file' : 'this project or the agents file';
      throw new ProtocolError('INVALID_SETTINGS', `No agent named "${(name ?? '').slice(0, 64)}" in ${where}; it has ${known === '' ? 'none' : known}`);
    }
    return agent;
  }

  close(): void {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private watch(logger: Logger): void {
    const path = this.path;
    if (path === undefined) return;
    // The folder is watched, not the file: editors replace a file by renaming over it, which
    // ends a watch on the file itself.
    const folder = path.slice(0, Math.max(0, path.lastIndexOf('/'))) || '.';
    const file = path.slice(path.lastIndexOf('/') + 1);
    this.watcher = watch(folder, { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== file) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(path, logger), RELOAD_SETTLE_MS);
      this.reloadTimer.unref();
    });
    this.watcher.on('error', (err) => logger.warn({ err: err.message, path }, 'agents file: watching stopped'));
  }

  private async reload(path: string, logger: Logger): Promise<void> {
    try {
      this.agents = await readAgents(path);
      logger.info({ path, agents: this.names() }, 'agents file reloaded');
    } catch (err) {
      logger.warn({ path, reason: (err as Error).message }, 'agents file not reloaded; the agents read before stay in force');
    }
  }
}

/** Parses and checks every agent of the file, so a call never meets a broken one. */
async function readAgents(path: string): Promise<Map<string, PhoneAgent>> {
  const size = (await stat(path)).size;
  if (size > MAX_AGENTS_FILE_BYTES) throw new Error(`${path}: ${size} bytes is more than the ${MAX_AGENTS_FILE_BYTES} an agents file may have`);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${path}: expected a JSON object of agent name → V1 Settings`);
  const agents = new Map<string, PhoneAgent>();
  for (const [name, raw] of Object.entries(data as Record<string, unknown>)) {
    try {
      agents.set(name, phoneAgent(name, raw, { kind: 'file' }));
    } catch (err) {
      throw new Error(`${path}: agent "${name}": ${(err as Error).message}`, { cause: err });
    }
  }
  if (agents.size === 0) throw new Error(`${path}: no agents`);
  return agents;
}

import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../core/logger.js';
import { v1SettingsSchema } from '../protocol/client-schemas.js';
import type { V1Settings } from '../protocol/client-schemas.js';
import { ProtocolError } from '../protocol/errors.js';
import { normalizeV1Settings } from '../protocol/normalize.js';
import { describeIssues } from '../protocol/parse.js';

/** Largest agents file read; an operator's file, bounded all the same. */
export const MAX_AGENTS_FILE_BYTES = 4 * 1024 * 1024;

/** Name of the agent that answers when a call names none (docs/telephony.md#which-agent-answers). */
export const DEFAULT_AGENT = 'default';

/**
 * The agent a call gets when no agents file is configured: the embedded local engines, which
 * need no key and no network (README "Engines: offline by default").
 */
export const EMBEDDED_AGENT: V1Settings = {
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
    private agents: ReadonlyMap<string, V1Settings>,
    private readonly path: string | undefined,
  ) {}

  /** The embedded local agent only. */
  static embedded(): AgentDirectory {
    return new AgentDirectory(new Map([[DEFAULT_AGENT, EMBEDDED_AGENT]]), undefined);
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
   * The Settings of the named agent; without a name, the one named `default`, else the file's
   * first. An unknown name is INVALID_SETTINGS naming the agents there are.
   */
  settings(name: string | undefined): { name: string; settings: V1Settings } {
    const chosen = name ?? (this.agents.has(DEFAULT_AGENT) ? DEFAULT_AGENT : this.names()[0]);
    const settings = chosen === undefined ? undefined : this.agents.get(chosen);
    if (chosen === undefined || settings === undefined) {
      const known = this.names().slice(0, 10).map((n) => `"${n}"`).join(', ');
      throw new ProtocolError('INVALID_SETTINGS', `No agent named "${(name ?? '').slice(0, 64)}" in the agents file; it has ${known === '' ? 'none' : known}`);
    }
    return { name: chosen, settings };
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
async function readAgents(path: string): Promise<Map<string, V1Settings>> {
  const size = (await stat(path)).size;
  if (size > MAX_AGENTS_FILE_BYTES) throw new Error(`${path}: ${size} bytes is more than the ${MAX_AGENTS_FILE_BYTES} an agents file may have`);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${path}: expected a JSON object of agent name → V1 Settings`);
  const agents = new Map<string, V1Settings>();
  for (const [name, raw] of Object.entries(data as Record<string, unknown>)) {
    const candidate = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { type: 'Settings', ...raw } : raw;
    const parsed = v1SettingsSchema.safeParse(candidate);
    if (!parsed.success) throw new Error(`${path}: agent "${name}": ${describeIssues(parsed.error)}`);
    try {
      const { value } = normalizeV1Settings(parsed.data);
      // A phone call has no client to run a function; only server-side ones can be called.
      const clientSide = value.think.flatMap((think) => think.functions).find((fn) => fn.endpoint === undefined);
      if (clientSide !== undefined) throw new Error(`function "${clientSide.name}" has no endpoint, and a phone call has no client to run it`);
    } catch (err) {
      throw new Error(`${path}: agent "${name}": ${(err as Error).message}`, { cause: err });
    }
    agents.set(name, parsed.data);
  }
  if (agents.size === 0) throw new Error(`${path}: no agents`);
  return agents;
}

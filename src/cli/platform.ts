import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DEFAULT_CLIENT_LIMITS } from '../protocol/limits.js';
import { checkedAgentConfig, usageJson, usageReportJson } from '../server/admin.js';
import { describeStore, hashSecret, newKeySecret, openStore, parseDuration, parseExpiry } from '../store/index.js';
import type { Project, Store } from '../store/index.js';

/** `parley keys`, `parley usage`, `parley agents`: the store of this environment, no server needed. */

const MAX_AGENT_FILE_BYTES = 1024 * 1024;

/** Runs a command on the store; a mistake is said in one line (exit status 1), never as a stack. */
async function withStore(work: (store: Store) => Promise<void>): Promise<void> {
  try {
    const store = await openStore(process.env);
    if (store === undefined) throw new Error('the store is off (PARLEY_STORE=off)');
    try {
      await work(store);
    } finally {
      await store.close();
    }
  } catch (err) {
    console.error(`parley: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

/** A project by id or by name; undefined when none matches. */
async function findProject(store: Store, idOrName: string): Promise<Project | undefined> {
  const byId = await store.getProject(idOrName);
  if (byId !== undefined) return byId;
  const named = (await store.listProjects()).filter((p) => p.name === idOrName);
  if (named.length > 1) throw new Error(`${named.length} projects are named "${idOrName}": give the project id (${named.map((p) => p.id).join(', ')})`);
  return named[0];
}

async function project(store: Store, idOrName: string): Promise<Project> {
  const found = await findProject(store, idOrName);
  if (found === undefined) throw new Error(`no project "${idOrName}" (parley keys create --project ${idOrName} creates it)`);
  return found;
}

const positive = (what: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a whole number of at least 1, not "${value}"`);
  return n;
};

/** `--since 7d` (that long ago) or an ISO time. */
function parseSince(text: string, now = Date.now()): number {
  const back = parseDuration(text);
  if (back !== undefined) return now - back;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) throw new Error(`--since "${text}" is neither a duration (7d, 12h) nor an ISO 8601 time`);
  return at;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

export function registerPlatformCommands(program: Command): void {
  const keys = program.command('keys').description(`API keys of projects (store: ${describeStore(process.env)})`);
  keys
    .command('create')
    .description('create a key for a project (created if new) and print it: it is shown only this once')
    .requiredOption('--project <project>', 'project id or name')
    .option('--concurrency <n>', "the project's limit of concurrent agent sessions", positive('--concurrency'))
    .option('--expires <when>', 'expiry: a duration (30d, 12h) or an ISO 8601 time')
    .option('--comment <text>', 'what the key is for', '')
    .action((opts: { project: string; concurrency?: number; expires?: string; comment: string }) =>
      withStore(async (store) => {
        const expiresAt = opts.expires === undefined ? undefined : parseExpiry(opts.expires);
        const existing = await findProject(store, opts.project);
        const target = existing ?? (await store.createProject({ name: opts.project, ...(opts.concurrency === undefined ? {} : { concurrencyLimit: opts.concurrency }) }));
        if (existing !== undefined && opts.concurrency !== undefined) await store.setConcurrencyLimit(target.id, opts.concurrency);
        const secret = newKeySecret();
        const key = await store.createKey({ projectId: target.id, secretHash: hashSecret(secret), comment: opts.comment, ...(expiresAt === undefined ? {} : { expiresAt }) });
        const limit = opts.concurrency ?? target.concurrencyLimit;
        console.error(`${existing === undefined ? 'created project' : 'project'} ${target.name} (${target.id}), concurrency ${limit ?? 'unlimited'}`);
        console.error(`key ${key.id}, expires ${iso(expiresAt)}; the key follows, shown only now:`);
        console.log(secret);
      }),
    );
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--project <project>', 'project id or name')
    .action((opts: { project?: string }) =>
      withStore(async (store) => {
        const projects = new Map((await store.listProjects()).map((p) => [p.id, p]));
        const only = opts.project === undefined ? undefined : await project(store, opts.project);
        const now = Date.now();
        for (const key of await store.listKeys(only?.id)) {
          const status = key.revokedAt !== undefined ? 'revoked' : key.expiresAt !== undefined && key.expiresAt <= now ? 'expired' : 'active';
          console.log([key.id, projects.get(key.projectId)?.name ?? key.projectId, status, `created ${iso(key.createdAt)}`, `expires ${iso(key.expiresAt)}`, key.comment].join('\t'));
        }
      }),
    );
  keys
    .command('revoke <id>')
    .description('revoke a key: it, and every token granted with it, is refused from now on')
    .action((id: string) =>
      withStore(async (store) => {
        if (!(await store.revokeKey(id))) throw new Error(`no active key ${id}`);
        console.error(`revoked ${id}`);
      }),
    );

  program
    .command('usage')
    .description('usage totals: connection time (the billing unit), audio, turns, LLM tokens')
    .option('--project <project>', 'project id or name (default: every session)')
    .option('--since <when>', 'sessions started since: a duration back (7d, 12h) or an ISO 8601 time')
    .option('--json', 'print JSON')
    .action((opts: { project?: string; since?: string; json?: boolean }) =>
      withStore(async (store) => {
        const only = opts.project === undefined ? undefined : await project(store, opts.project);
        const start = opts.since === undefined ? undefined : parseSince(opts.since);
        const totals = await store.usage({ ...(only === undefined ? {} : { projectId: only.id }), ...(start === undefined ? {} : { start }) });
        const report = { project_id: only?.id ?? null, since: start === undefined ? null : iso(start), ...usageReportJson(totals) };
        if (opts.json === true) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        console.log(`${only === undefined ? 'all projects' : `project ${only.name}`}${start === undefined ? '' : ` since ${iso(start)}`}`);
        for (const [label, figures] of [["total", usageJson(totals)], ["operator's LLM", report.think.operator], ["client's own LLM", report.think.client]] as const) {
          console.log(
            `${label.padEnd(17)} ${figures.sessions} sessions, ${figures.connection_seconds} s connected (${figures.hours} h), audio in ${figures.audio_in_seconds} s, out ${figures.audio_out_seconds} s, ${figures.turns} turns, LLM tokens ${figures.llm_input_tokens} in / ${figures.llm_output_tokens} out`,
          );
        }
      }),
    );

  const agents = program.command('agents').description('stored agent configurations, used by a Settings whose agent is their id');
  agents
    .command('create')
    .description('store an agent: the file is a V1 Settings message (its agent block is kept) or the agent block itself; prints its id')
    .requiredOption('--project <project>', 'project id or name')
    .requiredOption('--file <settings.json>', 'the settings file')
    .option('--name <name>', 'a label, kept as metadata.name')
    .action((opts: { project: string; file: string; name?: string }) =>
      withStore(async (store) => {
        const text = await readFile(opts.file, 'utf8');
        if (Buffer.byteLength(text) > MAX_AGENT_FILE_BYTES) throw new Error(`${opts.file} is over ${MAX_AGENT_FILE_BYTES} bytes`);
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch (err) {
          throw new Error(`${opts.file}: not valid JSON (${(err as Error).message})`, { cause: err });
        }
        const settings = data as { type?: unknown; agent?: unknown };
        const block = typeof data === 'object' && data !== null && settings.type === 'Settings' ? settings.agent : data;
        const config = checkedAgentConfig(block as Record<string, unknown>, DEFAULT_CLIENT_LIMITS);
        const target = await project(store, opts.project);
        const created = await store.createAgent({ projectId: target.id, config, ...(opts.name === undefined ? {} : { metadata: { name: opts.name } }) });
        console.log(created.id);
      }),
    );
  agents
    .command('list')
    .requiredOption('--project <project>', 'project id or name')
    .action((opts: { project: string }) =>
      withStore(async (store) => {
        for (const agent of await store.listAgents((await project(store, opts.project)).id)) {
          console.log([agent.id, agent.metadata['name'] ?? '', iso(agent.createdAt)].join('\t'));
        }
      }),
    );
  agents
    .command('delete <id>')
    .requiredOption('--project <project>', 'project id or name')
    .action((id: string, opts: { project: string }) =>
      withStore(async (store) => {
        if (!(await store.deleteAgent((await project(store, opts.project)).id, id))) throw new Error(`no agent ${id} in project ${opts.project}`);
        console.error(`deleted ${id}`);
      }),
    );
}

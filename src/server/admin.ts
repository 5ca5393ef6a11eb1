import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AgentConfig } from '../protocol/agent-config.js';
import { ProtocolError } from '../protocol/errors.js';
import { normalizeV1Settings } from '../protocol/normalize.js';
import { describeIssues, parseClientMessage } from '../protocol/parse.js';
import type { ClientLimits } from '../protocol/limits.js';
import type { ApiKey, Project, Store, StoredAgent, ThinkTier, UsageFigures, UsageTotals } from '../store/index.js';
import { hashSecret, newKeySecret } from '../store/index.js';
import { dtmfFunction } from '../telephony/agents.js';
import type { Access } from './access.js';
import { isAuthorized, offeredCredential } from './auth.js';
import type { TokenSigner } from './tokens.js';

export interface AdminDeps {
  store: Store | undefined;
  access: Access;
  signer: () => Promise<TokenSigner>;
  /** PARLEY_ADMIN_KEY; without it the management API is off. */
  adminKey: string | undefined;
  /** Largest request body: a stored agent must fit in a Settings text frame anyway. */
  maxBodyBytes: number;
  limits: ClientLimits;
}

/** A refusal with Deepgram's REST error shape, `{err_code, err_msg}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const MAX_GRANT_TTL_S = 3600;
const DEFAULT_GRANT_TTL_S = 30;

const grantBody = z.looseObject({ ttl_seconds: z.number().int().min(1).max(MAX_GRANT_TTL_S).optional() });
/** Bounds that keep every number within the store's integer columns. */
const MAX_CONCURRENCY_LIMIT = 1_000_000;
const MAX_KEY_TTL_S = 100 * 365 * 24 * 3600;
const concurrencyLimit = z.number().int().min(1).max(MAX_CONCURRENCY_LIMIT).nullable().optional();
const projectBody = z.looseObject({ name: z.string().min(1).max(200), concurrency_limit: concurrencyLimit });
const projectPatch = z.looseObject({ name: z.string().min(1).max(200).optional(), concurrency_limit: concurrencyLimit });
const keyBody = z.looseObject({
  comment: z.string().max(500).optional(),
  expiration_date: z.string().max(64).optional(),
  time_to_live_in_seconds: z.number().int().min(1).max(MAX_KEY_TTL_S).optional(),
});
const agentBody = z.looseObject({
  config: z.union([z.string(), z.record(z.string(), z.unknown())]),
  metadata: z.record(z.string().max(200), z.string().max(1000)).optional(),
});

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

function projectJson(project: Project): Record<string, unknown> {
  return { project_id: project.id, name: project.name, concurrency_limit: project.concurrencyLimit ?? null, created: iso(project.createdAt) };
}

function keyJson(key: ApiKey): Record<string, unknown> {
  return { api_key_id: key.id, comment: key.comment, created: iso(key.createdAt), expiration_date: iso(key.expiresAt), revoked: iso(key.revokedAt) };
}

function agentJson(agent: StoredAgent): Record<string, unknown> {
  return { agent_id: agent.id, config: agent.config, metadata: agent.metadata, created_at: iso(agent.createdAt) };
}

/** Usage in protocol units: seconds, and hours of connection time (the billing unit). */
export interface UsageJson {
  sessions: number;
  hours: number;
  connection_seconds: number;
  audio_in_seconds: number;
  audio_out_seconds: number;
  turns: number;
  llm_input_tokens: number;
  llm_output_tokens: number;
}

export function usageJson(figures: UsageFigures): UsageJson {
  const seconds = (ms: number): number => Math.round(ms) / 1000;
  return {
    sessions: figures.sessions,
    hours: Math.round((figures.connectionMs / 3_600_000) * 1e6) / 1e6,
    connection_seconds: seconds(figures.connectionMs),
    audio_in_seconds: seconds(figures.audioInMs),
    audio_out_seconds: seconds(figures.audioOutMs),
    turns: figures.turns,
    llm_input_tokens: figures.llmInputTokens,
    llm_output_tokens: figures.llmOutputTokens,
  };
}

/** Totals and their split by think tier, as the management API and `parley usage --json` report them. */
export function usageReportJson(totals: UsageTotals): UsageJson & { think: Record<ThinkTier, UsageJson> } {
  return { ...usageJson(totals), think: { operator: usageJson(totals.byThinkTier.operator), client: usageJson(totals.byThinkTier.client) } };
}

/**
 * A usage bound from the query string: an ISO time, or a date (`2026-01-31`). A date as the end
 * means the end of that day, as Deepgram's usage pages read it.
 */
function usageBound(text: string | null, end: boolean): number | undefined {
  if (text === null || text === '') return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) throw new HttpError(400, 'INVALID_QUERY', `${end ? 'end' : 'start'} "${text.slice(0, 64)}" is not a date or an ISO 8601 time`);
  return end && /^\d{4}-\d{2}-\d{2}$/.test(text) ? at + 86_400_000 : at;
}

async function readJson(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body is over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body is over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'the body is not valid JSON');
  }
}

function parsed<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) throw new HttpError(400, 'INVALID_REQUEST', describeIssues(result.error));
  return result.data;
}

/**
 * The agent block of a Settings message, checked as a session would check it, so a stored agent
 * that could never start a session is refused when it is stored.
 */
export function checkedAgentConfig(config: string | Record<string, unknown>, limits: ClientLimits): Record<string, unknown> {
  let agent: unknown = config;
  if (typeof config === 'string') {
    try {
      agent = JSON.parse(config);
    } catch {
      throw new HttpError(400, 'INVALID_REQUEST', 'config: not valid JSON');
    }
  }
  if (typeof agent !== 'object' || agent === null || Array.isArray(agent)) throw new HttpError(400, 'INVALID_REQUEST', 'config: the agent block of a Settings message, an object');
  let checked: AgentConfig;
  try {
    const message = parseClientMessage(JSON.stringify({ type: 'Settings', agent }), limits.maxJsonDepth);
    if (message.type !== 'Settings') return agent as Record<string, unknown>;
    checked = normalizeV1Settings(message.settings, limits).value;
  } catch (err) {
    if (err instanceof ProtocolError) throw new HttpError(400, 'INVALID_REQUEST', `config: ${err.message}`);
    throw err;
  }
  // Only phone calls read `dtmf` (docs/telephony.md#dtmf): a broken one is refused here, not at a call.
  try {
    dtmfFunction(agent, checked);
  } catch (err) {
    throw new HttpError(400, 'INVALID_REQUEST', `config: ${(err as Error).message}`);
  }
  return agent as Record<string, unknown>;
}

/** A path segment as text; a broken %-escape is the client's mistake, a 404 like any unknown id. */
function pathPart(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(404, 'NOT_FOUND', 'the path has a broken %-escape');
  }
}

const PROJECTS = /^\/v1\/projects(?:\/([^/]+)(?:\/(keys|agents|usage)(?:\/([^/]+))?)?)?\/?$/;

/**
 * `POST /v1/auth/grant` and the management API under `/v1/projects`, shaped like Deepgram's
 * (docs/protocol-decisions.md#projects-keys-and-the-management-api). False when the path is
 * neither.
 */
export async function serveAdmin(deps: AdminDeps, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const grant = /^\/v1\/auth\/grant\/?$/.test(path);
  const match = PROJECTS.exec(path);
  if (!grant && match === null) return false;
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    response.end(JSON.stringify(body));
  };
  try {
    if (grant) json(200, await grantToken(deps, request, url));
    else json(...(await manage(deps, request, url, match as RegExpExecArray)));
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    // The request body may still be arriving: the answer closes the connection rather than read it.
    json(err.status, { err_code: err.code, err_msg: err.message }, { ...err.headers, ...(err.status === 413 ? { connection: 'close' } : {}) });
  }
  return true;
}

async function grantToken(deps: AdminDeps, request: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  if (request.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use POST', { allow: 'POST' });
  const principal = await deps.access.authenticate(offeredCredential(request, url), { keysOnly: true });
  if (principal === undefined) throw new HttpError(401, 'INVALID_AUTH', 'a valid API key is needed (Authorization: Token <key>)', { 'www-authenticate': 'Token' });
  const body = parsed(grantBody, await readJson(request, deps.maxBodyBytes));
  const ttl = body.ttl_seconds ?? DEFAULT_GRANT_TTL_S;
  const signer = await deps.signer();
  const token = await signer.sign({ expiresAt: Date.now() + ttl * 1000, ...(principal.keyId === undefined ? {} : { keyId: principal.keyId }), ...(principal.projectId === undefined ? {} : { projectId: principal.projectId }) });
  return { access_token: token, expires_in: ttl };
}

async function manage(deps: AdminDeps, request: IncomingMessage, url: URL, match: RegExpExecArray): Promise<[number, unknown]> {
  if (deps.adminKey === undefined) throw new HttpError(403, 'ADMIN_API_OFF', 'the management API is off: set PARLEY_ADMIN_KEY on the server');
  if (!isAuthorized([deps.adminKey], offeredCredential(request, url))) {
    throw new HttpError(401, 'INVALID_AUTH', 'the management API needs the admin key (Authorization: Token <PARLEY_ADMIN_KEY>)', { 'www-authenticate': 'Token' });
  }
  const store = deps.store;
  if (store === undefined) throw new HttpError(503, 'STORE_OFF', 'this server has no store (PARLEY_STORE=off)');
  const [, projectId, collection, itemId] = match;
  const method = request.method ?? 'GET';
  const body = async (): Promise<unknown> => readJson(request, deps.maxBodyBytes);
  const notAllowed = (allow: string): never => {
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allow}`, { allow });
  };

  if (projectId === undefined) {
    if (method === 'GET') return [200, { projects: (await store.listProjects()).map(projectJson) }];
    if (method !== 'POST') return notAllowed('GET, POST');
    const input = parsed(projectBody, await body());
    const created = await store.createProject({ name: input.name, ...(input.concurrency_limit == null ? {} : { concurrencyLimit: input.concurrency_limit }) });
    return [200, projectJson(created)];
  }
  const project = await store.getProject(pathPart(projectId));
  if (project === undefined) throw new HttpError(404, 'PROJECT_NOT_FOUND', `no project "${projectId.slice(0, 64)}"`);

  if (collection === undefined) {
    if (method === 'GET') return [200, projectJson(project)];
    if (method !== 'PATCH') return notAllowed('GET, PATCH');
    const input = parsed(projectPatch, await body());
    if (input.concurrency_limit !== undefined) await store.setConcurrencyLimit(project.id, input.concurrency_limit ?? undefined);
    return [200, projectJson((await store.getProject(project.id)) ?? project)];
  }

  if (collection === 'usage') {
    if (method !== 'GET' || itemId !== undefined) return notAllowed('GET');
    const start = usageBound(url.searchParams.get('start'), false);
    const end = usageBound(url.searchParams.get('end'), true);
    const totals = await store.usage({ projectId: project.id, ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) });
    return [200, { project_id: project.id, start: iso(start), end: iso(end), ...usageReportJson(totals) }];
  }

  if (collection === 'keys') {
    if (itemId === undefined) {
      if (method === 'GET') return [200, { api_keys: (await store.listKeys(project.id)).map((key) => ({ api_key: keyJson(key) })) }];
      if (method !== 'POST') return notAllowed('GET, POST');
      const input = parsed(keyBody, await body());
      let expiresAt: number | undefined;
      if (input.expiration_date !== undefined) {
        expiresAt = Date.parse(input.expiration_date);
        if (!Number.isFinite(expiresAt) || expiresAt <= Date.now()) throw new HttpError(400, 'INVALID_REQUEST', 'expiration_date: an ISO 8601 time in the future');
      } else if (input.time_to_live_in_seconds !== undefined) {
        expiresAt = Date.now() + input.time_to_live_in_seconds * 1000;
      }
      const secret = newKeySecret();
      const key = await store.createKey({ projectId: project.id, secretHash: hashSecret(secret), ...(input.comment === undefined ? {} : { comment: input.comment }), ...(expiresAt === undefined ? {} : { expiresAt }) });
      // The only time the secret leaves the server.
      return [200, { ...keyJson(key), key: secret }];
    }
    const key = await store.getKey(pathPart(itemId));
    if (key === undefined || key.projectId !== project.id) throw new HttpError(404, 'KEY_NOT_FOUND', `no key "${itemId.slice(0, 64)}" in this project`);
    if (method === 'GET') return [200, { api_key: keyJson(key) }];
    if (method !== 'DELETE') return notAllowed('GET, DELETE');
    await store.revokeKey(key.id);
    return [200, { message: 'Key revoked: it and every token granted with it are refused from now on' }];
  }

  if (itemId === undefined) {
    if (method === 'GET') return [200, { agents: (await store.listAgents(project.id)).map(agentJson) }];
    if (method !== 'POST') return notAllowed('GET, POST');
    const input = parsed(agentBody, await body());
    const created = await store.createAgent({ projectId: project.id, config: checkedAgentConfig(input.config, deps.limits), ...(input.metadata === undefined ? {} : { metadata: input.metadata }) });
    return [200, agentJson(created)];
  }
  const agent = await store.getAgent(pathPart(itemId));
  if (agent === undefined || agent.projectId !== project.id) throw new HttpError(404, 'AGENT_NOT_FOUND', `no agent "${itemId.slice(0, 64)}" in this project`);
  if (method === 'GET') return [200, agentJson(agent)];
  if (method !== 'DELETE') return notAllowed('GET, DELETE');
  await store.deleteAgent(project.id, agent.id);
  return [200, { message: 'Agent deleted' }];
}

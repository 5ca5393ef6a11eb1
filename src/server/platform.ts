import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/index.js';
import type { StoredAgents } from '../telephony/agents.js';
import type { CallAdmission } from '../telephony/phone-call.js';
import { Access } from './access.js';
import type { Principal } from './access.js';
import { serveAdmin } from './admin.js';
import { Admission } from './admission.js';
import { offeredCredential } from './auth.js';
import type { ServerConfig } from './config.js';
import { MAX_AGENT_ID_CHARS } from './connection.js';
import type { ConnectionDeps } from './connection.js';
import { TokenSigner, newTokenSecret } from './tokens.js';
import { UsageMeter } from './usage-meter.js';

/** Name of the token signing secret in the shared store (docs/security.md#projects-keys-and-tokens). */
const TOKEN_SECRET_NAME = 'token-signing-key';

export type Admitted =
  | {
      ok: true;
      /** What the session's connection needs: its usage meter and stored agents. */
      deps: Pick<ConnectionDeps, 'meter' | 'resolveAgent'>;
      /** Gives the project's slot back (the socket closed, whether or not a session began). */
      release(): void;
      /** The session ended: its slot goes back and its usage is written. */
      ended(sessionId: string): void;
    }
  | { ok: false; status: number; reason: string; body?: Record<string, unknown> };

/** A session's hold on its project: its slot, and (with a store) the meter its usage record is made from. */
type Held =
  | { ok: true; meter: UsageMeter | undefined; release(): void; ended(sessionId: string): void }
  | { ok: false; projectId: string; limit: number };

/** What a refused limit says, at the upgrade (429's body) and in a phone stream's close reason. */
function limitMessage(projectId: string, limit: number): string {
  return `Project ${projectId} already has ${limit} concurrent agent sessions, its limit; try again when one ends`;
}

/**
 * Projects, keys, tokens, limits, usage and stored agents for one server: everything the store
 * adds to the plain server, behind four calls the listener makes.
 */
export class Platform {
  private readonly access: Access;
  private readonly admission: Admission | undefined;
  private signerPromise: Promise<TokenSigner> | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly store: Store | undefined,
    private readonly logger: Logger,
  ) {
    this.access = new Access(config.apiKeys, store, () => this.signer());
    this.admission = store === undefined ? undefined : new Admission(store, config.slotLeaseMs, logger);
  }

  /**
   * The signing key of granted tokens: PARLEY_TOKEN_SECRET, else one secret kept in the shared
   * store (so every process verifies what any process granted), else one per process.
   */
  private signer(): Promise<TokenSigner> {
    this.signerPromise ??= (async () => {
      const secret = this.config.tokenSecret ?? (this.store === undefined ? newTokenSecret() : await this.store.sharedSecret(TOKEN_SECRET_NAME, newTokenSecret));
      return new TokenSigner(secret);
    })();
    // A store that could not answer is asked again next time.
    this.signerPromise.catch(() => (this.signerPromise = undefined));
    return this.signerPromise;
  }

  /** Logs at start whether clients need a credential. */
  async announce(): Promise<void> {
    if (!(await this.access.required())) this.logger.warn('no API keys (PARLEY_API_KEYS, or keys in the store): any client may connect');
  }

  /** Whether a credential may use the paths that need one (settings discovery). */
  async authorizes(credential: string | undefined): Promise<boolean> {
    return (await this.access.authenticate(credential)) !== undefined;
  }

  /** `/v1/auth/grant` and `/v1/projects/...`; false for any other path. */
  serveHttp(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    return serveAdmin(
      { store: this.store, access: this.access, signer: () => this.signer(), adminKey: this.config.adminKey, maxBodyBytes: this.config.maxTextFrameBytes, limits: this.config.limits },
      request,
      response,
    );
  }

  /**
   * Admits an agent session at the upgrade: its credential (401), the server's own capacity
   * (`full`: 503), then its project's concurrency limit (429 with a JSON body naming it).
   */
  async admit(request: IncomingMessage, url: URL, full: () => boolean): Promise<Admitted> {
    const principal = await this.access.authenticate(offeredCredential(request, url));
    if (principal === undefined) return { ok: false, status: 401, reason: 'Unauthorized' };
    if (full()) return { ok: false, status: 503, reason: 'Service Unavailable' };
    const held = await this.hold(principal);
    if (!held.ok) {
      return {
        ok: false,
        status: 429,
        reason: 'Too Many Requests',
        body: {
          err_code: 'TOO_MANY_REQUESTS',
          err_msg: limitMessage(held.projectId, held.limit),
          limit: 'concurrent_sessions',
          limit_value: held.limit,
          project_id: held.projectId,
        },
      };
    }
    const deps: Pick<ConnectionDeps, 'meter' | 'resolveAgent'> = held.meter === undefined ? {} : { meter: held.meter, resolveAgent: (id) => this.storedAgent(id, principal) };
    return { ok: true, deps, release: () => held.release(), ended: (sessionId) => held.ended(sessionId) };
  }

  /**
   * A phone stream at its upgrade (docs/telephony.md#authentication): a credential offered
   * there is checked now (undefined: refuse with 401). The rest waits for the start message,
   * whose `token` parameter may be the only key a carrier can send: the answer is the check made
   * then, which admits the call like an agent session (its key, then its project's limit) and
   * counts its usage from now, when the stream opened.
   */
  async phoneUpgrade(credential: string | undefined): Promise<((token: string | undefined) => Promise<CallAdmission>) | undefined> {
    const atUpgrade = await this.access.authenticate(credential);
    if (credential !== undefined && atUpgrade === undefined) return undefined;
    const openedAt = Date.now();
    return async (token) => {
      const principal = atUpgrade ?? (await this.access.authenticate(token));
      if (principal === undefined) return { ok: false, status: 401, description: 'offer a key as ?token= in the stream URL or as the token parameter' };
      const held = await this.hold(principal, openedAt);
      if (!held.ok) return { ok: false, status: 429, description: limitMessage(held.projectId, held.limit) };
      const agents: StoredAgents = (name) => this.phoneAgent(name, principal);
      return { ok: true, ...(held.meter === undefined ? {} : { meter: held.meter, agents }), ended: (callId) => held.ended(callId) };
    };
  }

  /**
   * Takes the principal's project slot (when it has a limit) and, with a store, a usage meter;
   * `ended` gives the slot back and writes the usage record, once.
   */
  private async hold(principal: Principal, startedAt?: number): Promise<Held> {
    const slot = this.admission === undefined ? undefined : await this.admission.admit(randomUUID(), principal.projectId);
    if (slot !== undefined && !slot.ok) return { ok: false, projectId: slot.projectId, limit: slot.limit };
    const release = (): void => {
      if (slot?.ok === true) slot.release();
    };
    const store = this.store;
    if (store === undefined) return { ok: true, meter: undefined, release, ended: release };
    const meter = new UsageMeter(startedAt);
    let ended = false;
    return {
      ok: true,
      meter,
      release,
      ended: (sessionId) => {
        if (ended) return;
        ended = true;
        release();
        // One row per session, written when it ends: a crash loses only the sessions in flight.
        store.recordUsage(meter.record(sessionId, principal)).catch((err: unknown) => this.logger.warn({ err: (err as Error).message, session: sessionId }, 'could not write the usage record'));
      },
    };
  }

  /**
   * The stored agent a phone call names (docs/telephony.md#which-agent-answers): by id, if it is
   * the caller's project's (a static key may use any, as on the agent paths), else the newest of
   * the project's agents whose `metadata.name` it is.
   */
  private async phoneAgent(name: string, principal: Principal): Promise<{ id: string; agent: Record<string, unknown> } | undefined> {
    const store = this.store;
    if (store === undefined || name.length > MAX_AGENT_ID_CHARS) return undefined;
    const byId = await this.storedAgent(name, principal);
    if (byId !== undefined) return { id: name, agent: byId };
    if (principal.projectId === undefined) return undefined;
    const named = (await store.listAgents(principal.projectId)).filter((agent) => agent.metadata['name'] === name).at(-1);
    return named === undefined ? undefined : { id: named.id, agent: named.config };
  }

  /** A stored agent's block, when it belongs to the session's project (a static key may use any). */
  private async storedAgent(id: string, principal: Principal): Promise<Record<string, unknown> | undefined> {
    const agent = await this.store?.getAgent(id);
    if (agent === undefined) return undefined;
    if (principal.projectId !== undefined && agent.projectId !== principal.projectId) return undefined;
    return agent.config;
  }

  async close(): Promise<void> {
    await this.admission?.close();
  }
}

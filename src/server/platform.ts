import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/index.js';
import { Access } from './access.js';
import type { Principal } from './access.js';
import { serveAdmin } from './admin.js';
import { Admission } from './admission.js';
import { offeredCredential } from './auth.js';
import type { ServerConfig } from './config.js';
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
    const slot = this.admission === undefined ? undefined : await this.admission.admit(randomUUID(), principal.projectId);
    if (slot !== undefined && !slot.ok) {
      return {
        ok: false,
        status: 429,
        reason: 'Too Many Requests',
        body: {
          err_code: 'TOO_MANY_REQUESTS',
          err_msg: `Project ${slot.projectId} already has ${slot.limit} concurrent agent sessions, its limit; try again when one ends`,
          limit: 'concurrent_sessions',
          limit_value: slot.limit,
          project_id: slot.projectId,
        },
      };
    }
    const store = this.store;
    const release = (): void => {
      if (slot?.ok === true) slot.release();
    };
    if (store === undefined) return { ok: true, deps: {}, release, ended: release };
    const meter = new UsageMeter();
    let ended = false;
    return {
      ok: true,
      deps: { meter, resolveAgent: (id) => this.storedAgent(id, principal) },
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

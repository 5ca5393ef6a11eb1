import type { Store } from '../store/index.js';
import { hashSecret } from '../store/index.js';
import { isAuthorized } from './auth.js';
import { looksLikeToken } from './tokens.js';
import type { TokenSigner } from './tokens.js';

/** Who a session or request belongs to. No project: a static PARLEY_API_KEYS key, or an open server. */
export interface Principal {
  projectId?: string;
  keyId?: string;
  /** The credential was a granted token, not a key (a token cannot ask for another). */
  viaToken?: boolean;
}

/** The key is usable now: not revoked, not past its expiry. */
function active(key: { revokedAt?: number; expiresAt?: number }, now: number): boolean {
  return key.revokedAt === undefined && (key.expiresAt === undefined || key.expiresAt > now);
}

/**
 * Decides who a credential is (docs/security.md#projects-keys-and-tokens): a granted token
 * (verified, and its key must still be active), a static key, or a store key found by its hash.
 * Without static keys and without any active store key, every client is let in, as before the store.
 */
export class Access {
  constructor(
    private readonly staticKeys: readonly string[],
    private readonly store: Store | undefined,
    private readonly signer: () => Promise<TokenSigner>,
  ) {}

  /** Whether a client must offer a credential at all. */
  async required(): Promise<boolean> {
    return this.staticKeys.length > 0 || (this.store !== undefined && (await this.store.hasActiveKeys()));
  }

  /** The principal, or undefined: refuse with 401. `keysOnly` refuses tokens (asking for a grant). */
  async authenticate(credential: string | undefined, options: { keysOnly?: boolean } = {}, now = Date.now()): Promise<Principal | undefined> {
    if (credential !== undefined && looksLikeToken(credential)) {
      if (options.keysOnly === true) return undefined;
      const check = await (await this.signer()).verify(credential, now);
      if (!check.ok) return undefined;
      const { keyId, projectId } = check.claims;
      if (keyId === undefined) return { viaToken: true };
      const key = await this.store?.getKey(keyId);
      if (key === undefined || !active(key, now)) return undefined;
      return { keyId, viaToken: true, ...(projectId === undefined ? {} : { projectId }) };
    }
    if (credential !== undefined && this.staticKeys.length > 0 && isAuthorized(this.staticKeys, credential)) return {};
    if (credential !== undefined && this.store !== undefined) {
      const key = await this.store.findKeyByHash(hashSecret(credential));
      // A revoked or expired key is refused even where anonymous clients are let in.
      if (key !== undefined) return active(key, now) ? { projectId: key.projectId, keyId: key.id } : undefined;
    }
    return (await this.required()) ? undefined : {};
  }
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived access tokens from `POST /v1/auth/grant` (docs/protocol-decisions.md#short-lived-tokens):
 * compact JWTs signed with HMAC-SHA256. Written with node:crypto rather than a JWT library because
 * Parley only ever verifies its own tokens of one fixed shape: the header must be exactly the one
 * it writes, so no `alg` a client chooses is ever honoured.
 */

/** Claims Parley puts in a token: which key granted it (`sub`), its project, and when it ends. */
export interface TokenClaims {
  /** The store key that asked for the token; absent for a static PARLEY_API_KEYS key. */
  keyId?: string;
  projectId?: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'expired' | 'invalid' };

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
/** A token is at most this long; anything longer is not one of Parley's. */
const MAX_TOKEN_CHARS = 2048;
export const MIN_SECRET_CHARS = 32;

function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

/** Whether a credential is shaped like one of Parley's tokens (so it is verified, never taken as a key). */
export function looksLikeToken(credential: string): boolean {
  return credential.startsWith(`${HEADER}.`);
}

/** A fresh signing secret for a store that has none yet. */
export function newTokenSecret(): string {
  return randomBytes(32).toString('hex');
}

export class TokenSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < MIN_SECRET_CHARS) throw new Error(`the token secret must have at least ${MIN_SECRET_CHARS} characters`);
    this.key = Buffer.from(secret, 'utf8');
  }

  private signature(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }

  sign(claims: TokenClaims, now = Date.now()): string {
    const payload = {
      iss: 'parley',
      sub: claims.keyId ?? 'static',
      ...(claims.projectId === undefined ? {} : { prj: claims.projectId }),
      iat: Math.floor(now / 1000),
      // Whole seconds, as JWTs write them, rounded up so a token never ends before its TTL.
      exp: Math.ceil(claims.expiresAt / 1000),
      jti: randomBytes(9).toString('base64url'),
    };
    const body = `${HEADER}.${base64url(JSON.stringify(payload))}`;
    return `${body}.${this.signature(body).toString('base64url')}`;
  }

  verify(token: string, now = Date.now()): TokenCheck {
    const invalid: TokenCheck = { ok: false, reason: 'invalid' };
    if (token.length > MAX_TOKEN_CHARS) return invalid;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) return invalid;
    const body = `${parts[0]}.${parts[1]}`;
    const given = Buffer.from(parts[2] as string, 'base64url');
    const expected = this.signature(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    } catch {
      return invalid;
    }
    if (typeof payload !== 'object' || payload === null) return invalid;
    const { sub, prj, exp } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || typeof exp !== 'number' || (prj !== undefined && typeof prj !== 'string')) return invalid;
    const expiresAt = exp * 1000;
    if (expiresAt <= now) return { ok: false, reason: 'expired' };
    return { ok: true, claims: { expiresAt, ...(sub === 'static' ? {} : { keyId: sub }), ...(prj === undefined ? {} : { projectId: prj }) } };
  }
}

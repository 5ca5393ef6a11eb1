import { randomBytes } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';

/**
 * Short-lived access tokens from `POST /v1/auth/grant` (docs/protocol-decisions.md#short-lived-tokens):
 * JWTs signed with HMAC-SHA256 (jose). Only HS256 and Parley's own issuer are accepted, so no
 * `alg` a client chooses is ever honoured.
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

const ISSUER = 'parley';
/** The protected header of every token Parley writes, base64url-encoded: how a token is told from a key. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
/** A token is at most this long; anything longer is not one of Parley's. */
const MAX_TOKEN_CHARS = 2048;
export const MIN_SECRET_CHARS = 32;

/** Whether a credential is shaped like one of Parley's tokens (so it is verified, never taken as a key). */
export function looksLikeToken(credential: string): boolean {
  return credential.startsWith(`${HEADER}.`);
}

/** A fresh signing secret for a store that has none yet. */
export function newTokenSecret(): string {
  return randomBytes(32).toString('hex');
}

export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    if (secret.length < MIN_SECRET_CHARS) throw new Error(`the token secret must have at least ${MIN_SECRET_CHARS} characters`);
    this.key = new TextEncoder().encode(secret);
  }

  sign(claims: TokenClaims, now = Date.now()): Promise<string> {
    return new SignJWT(claims.projectId === undefined ? {} : { prj: claims.projectId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(claims.keyId ?? 'static')
      .setIssuedAt(Math.floor(now / 1000))
      // Whole seconds, as JWTs write them, rounded up so a token never ends before its TTL.
      .setExpirationTime(Math.ceil(claims.expiresAt / 1000))
      .setJti(randomBytes(9).toString('base64url'))
      .sign(this.key);
  }

  async verify(token: string, now = Date.now()): Promise<TokenCheck> {
    if (token.length > MAX_TOKEN_CHARS || !looksLikeToken(token)) return { ok: false, reason: 'invalid' };
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(now),
        clockTolerance: 0,
      });
      const { sub, prj, exp } = payload;
      if (typeof sub !== 'string' || typeof exp !== 'number' || (prj !== undefined && typeof prj !== 'string')) return { ok: false, reason: 'invalid' };
      return { ok: true, claims: { expiresAt: exp * 1000, ...(sub === 'static' ? {} : { keyId: sub }), ...(prj === undefined ? {} : { projectId: prj }) } };
    } catch (err) {
      return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
    }
  }
}

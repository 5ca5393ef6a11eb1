import { createHash, randomBytes } from 'node:crypto';

/**
 * A new API key: 20 random bytes as 40 hex characters, the length of Deepgram's keys, so
 * clients that check the shape accept it.
 */
export function newKeySecret(): string {
  return randomBytes(20).toString('hex');
}

/**
 * What the store keeps of a key. The secret is 160 random bits, so a fast hash cannot be
 * reversed by guessing and needs no salt or stretching (docs/security.md#projects-keys-and-tokens);
 * being deterministic, it is also the index the key is found by.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A duration (`90s`, `12h`, `30d`, `2w`) in milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const duration = /^(\d+)([smhdw])$/.exec(text.trim());
  return duration === null ? undefined : Number(duration[1]) * (UNIT_MS[duration[2] as string] as number);
}

/**
 * An expiry given as a duration from now or an ISO 8601 time; the result is milliseconds since
 * the epoch. Throws a readable error for anything else or the past.
 */
export function parseExpiry(text: string, now = Date.now()): number {
  const duration = parseDuration(text);
  const at = duration === undefined ? Date.parse(text) : now + duration;
  if (!Number.isFinite(at)) throw new Error(`expiry "${text}" is neither a duration (30d, 12h, 90m) nor an ISO 8601 time`);
  if (at <= now) throw new Error(`expiry "${text}" is in the past`);
  return at;
}

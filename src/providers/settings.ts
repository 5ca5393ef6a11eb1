import type { Endpoint, ProviderSettings } from '../protocol/agent-config.js';

/** Default idle timeout of a provider request when neither settings nor env set one. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 15000;

export function str(provider: ProviderSettings, field: string): string | undefined {
  const value = provider[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function num(provider: ProviderSettings, field: string): number | undefined {
  const value = provider[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function strList(provider: ProviderSettings, field: string): string[] {
  const value = provider[field];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Idle timeout of one request: `provider.timeout_ms`, else env PARLEY_PROVIDER_TIMEOUT_MS, else
 * the default. Short values make fallback chains fast when a provider hangs.
 */
export function timeoutMs(provider: ProviderSettings, env: Readonly<Record<string, string | undefined>>): number {
  const fromSettings = num(provider, 'timeout_ms');
  if (fromSettings !== undefined && fromSettings > 0) return fromSettings;
  const fromEnv = Number(env['PARLEY_PROVIDER_TIMEOUT_MS']);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_PROVIDER_TIMEOUT_MS;
}

/** Header lookup ignoring case, as HTTP does. */
export function header(endpoint: Endpoint | undefined, name: string): string | undefined {
  if (endpoint === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(endpoint.headers)) {
    if (key.toLowerCase() === wanted && value !== '') return value;
  }
  return undefined;
}

/** Endpoint headers without the named ones (those a client library sets itself from the key). */
export function headersWithout(endpoint: Endpoint | undefined, names: readonly string[]): Record<string, string> {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return Object.fromEntries(Object.entries(endpoint?.headers ?? {}).filter(([key]) => !drop.has(key.toLowerCase())));
}

/** The token of an `Authorization: Bearer x` / `Token x` header value, or the value itself. */
export function bearer(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:bearer|token)\s+(.+)$/i.exec(value.trim());
  return match?.[1] ?? value.trim();
}

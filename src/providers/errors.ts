import { ProviderError } from '../core/errors.js';
import type { ProviderKind } from '../core/errors.js';
import { outboundRefusalIn } from './outbound.js';

const MAX_DETAIL = 300;

/** Replaces every secret in `text` so that keys never reach logs or client warnings. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** HTTP status carried by an SDK error (openai, anthropic, genai: `status`; AWS: `$metadata`). */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { status?: unknown; statusCode?: unknown; $metadata?: { httpStatusCode?: unknown } };
  for (const candidate of [record.status, record.statusCode, record.$metadata?.httpStatusCode]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}

function detailOf(err: unknown): string {
  const raw = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const oneLine = raw.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL)}…` : oneLine;
}

export interface FailureContext {
  kind: ProviderKind;
  provider: string;
  secrets: readonly (string | undefined)[];
  /** Set when a Watchdog timeout caused the failure. */
  timeoutMs?: number;
}

/** Turns whatever a client library threw into one readable ProviderError. */
export function toProviderError(err: unknown, ctx: FailureContext): ProviderError {
  // A timed-out stream may look like any failure (or a clean early end): name the real cause.
  if (ctx.timeoutMs !== undefined) {
    return new ProviderError(ctx.kind, ctx.provider, `${ctx.provider}: no response within ${ctx.timeoutMs} ms`);
  }
  if (err instanceof ProviderError) return err;
  // SDKs wrap a refused connection as a generic "Connection error": say what was refused.
  const refused = outboundRefusalIn(err);
  if (refused !== undefined) return new ProviderError(ctx.kind, ctx.provider, `${ctx.provider}: ${refused.message}`);
  const status = statusOf(err);
  const what = status === undefined ? 'request failed' : `request failed with HTTP ${status}`;
  const message = redact(`${ctx.provider}: ${what}: ${detailOf(err)}`, ctx.secrets);
  return new ProviderError(ctx.kind, ctx.provider, message, status === undefined ? {} : { status });
}

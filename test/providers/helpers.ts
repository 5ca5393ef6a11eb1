import type { ProviderContext } from '../../src/core/provider-context.js';
import { silentLogger } from '../../src/core/logger.js';
import type { WarningNotice } from '../../src/protocol/errors.js';

/** Lets providers reach the fakes, which listen on loopback (the outbound guard refuses it otherwise). */
export const FAKES_ALLOWED = { PARLEY_ALLOWED_HOSTS: '127.0.0.1' };

/**
 * A provider context whose env holds only what the test passes (never the real process env),
 * plus FAKES_ALLOWED.
 */
export function testContext(env: Record<string, string> = {}): ProviderContext & { warnings: WarningNotice[] } {
  const warnings: WarningNotice[] = [];
  return { env: { ...FAKES_ALLOWED, ...env }, logger: silentLogger(), warn: (notice) => warnings.push(notice), warnings };
}

/** Short idle timeout so the hang tests end quickly. */
export const TEST_TIMEOUT_MS = 400;

export async function collect<T>(items: AsyncIterable<T>, onItem?: () => void): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
    onItem?.();
  }
  return out;
}

import { isAbortError } from '../core/errors.js';
import { ProtocolError } from '../protocol/errors.js';
import type { WarningNotice } from '../protocol/errors.js';
import type { ThinkEvent, ThinkProvider, ThinkRequest } from '../think/types.js';

export const SLOW_THINK_MS = 5000;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Streams from an ordered fallback chain of LLMs (protocol.md §3.1.3). A provider that fails before
 * its first event gets THINK_REQUEST_FAILED and the next one is tried; when all failed, the chain
 * throws FAILED_TO_THINK. A failure after the first event ends the stream with a warning: what was
 * already said stands. SLOW_THINK_REQUEST is raised every `slowMs` until the first event.
 */
export async function* thinkWithFallback(
  providers: readonly ThinkProvider[],
  request: ThinkRequest,
  warn: (notice: WarningNotice) => void,
  slowMs = SLOW_THINK_MS,
): AsyncGenerator<ThinkEvent> {
  const failures: string[] = [];
  for (const provider of providers) {
    let started = false;
    const slow = setInterval(() => {
      warn({ code: 'SLOW_THINK_REQUEST', description: `${provider.label} has not answered yet` });
    }, slowMs);
    try {
      for await (const event of provider.stream(request)) {
        if (request.signal.aborted) return;
        if (!started) {
          started = true;
          clearInterval(slow);
        }
        yield event;
      }
      return;
    } catch (err) {
      if (request.signal.aborted || isAbortError(err)) return;
      warn({ code: 'THINK_REQUEST_FAILED', description: `${provider.label} failed: ${reason(err)}` });
      if (started) return;
      failures.push(`${provider.label}: ${reason(err)}`);
    } finally {
      clearInterval(slow);
    }
  }
  throw new ProtocolError('FAILED_TO_THINK', `Every think provider failed (${failures.join('; ')})`);
}

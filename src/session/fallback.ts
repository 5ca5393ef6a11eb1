import { isAbortError } from '../core/errors.js';
import type { ErrorCode, WarningCode } from '../protocol/codes.js';
import { ProtocolError } from '../protocol/errors.js';
import type { WarningNotice } from '../protocol/errors.js';

/** How one stage reports its fallback chain (docs/protocol-decisions.md#fallback-chains). */
export interface FallbackCodes {
  stage: 'think' | 'speak';
  /** Raised every slowMs until a provider's first item. */
  slow: WarningCode;
  /** What a slow provider has not done yet, e.g. "answered". */
  slowDescription: string;
  failed: WarningCode;
  allFailed: ErrorCode;
}

export interface FallbackRun<Provider, Item> {
  providers: readonly Provider[];
  /** Index of the first provider to try. */
  from?: number;
  open: (provider: Provider) => AsyncIterable<Item>;
  signal: AbortSignal;
  codes: FallbackCodes;
  warn: (notice: WarningNotice) => void;
  slowMs: number;
  /** The provider at this index produced its first item. */
  onStarted?: (index: number) => void;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Streams from an ordered fallback chain. A provider that fails before its first item gets the
 * stage's failure warning and the next one is tried; when all failed, the chain throws the stage's
 * fatal code. A failure after the first item ends the stream with a warning: what was already
 * produced stands. An abort ends the stream quietly.
 */
export async function* withFallback<Provider extends { readonly label: string }, Item>(
  run: FallbackRun<Provider, Item>,
): AsyncGenerator<Item> {
  const { providers, signal, codes, warn } = run;
  const failures: string[] = [];
  for (let i = run.from ?? 0; i < providers.length; i++) {
    const provider = providers[i];
    if (provider === undefined) continue;
    let started = false;
    const slow = setInterval(() => {
      warn({ code: codes.slow, description: `${provider.label} has not ${codes.slowDescription} yet` });
    }, run.slowMs);
    try {
      for await (const item of run.open(provider)) {
        if (signal.aborted) return;
        if (!started) {
          started = true;
          clearInterval(slow);
          run.onStarted?.(i);
        }
        yield item;
      }
      return;
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return;
      warn({ code: codes.failed, description: `${provider.label} failed: ${reason(err)}` });
      if (started) return;
      failures.push(`${provider.label}: ${reason(err)}`);
    } finally {
      clearInterval(slow);
    }
  }
  throw new ProtocolError(codes.allFailed, `Every ${codes.stage} provider failed (${failures.join('; ')})`);
}

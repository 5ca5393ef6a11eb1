import type { ProviderKind } from '../core/errors.js';
import { toProviderError } from './errors.js';
import { Watchdog } from './watchdog.js';

export interface GuardOptions {
  kind: ProviderKind;
  provider: string;
  timeoutMs: number;
  secrets: readonly (string | undefined)[];
  signal: AbortSignal;
}

/**
 * Runs one streaming provider request under a Watchdog: every item restarts the idle timer,
 * nothing is yielded once the caller aborts (the stream just ends), and any failure leaves as
 * one ProviderError with the secrets scrubbed.
 */
export async function* guarded<T>(
  options: GuardOptions,
  run: (signal: AbortSignal, watchdog: Watchdog) => AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  const watchdog = new Watchdog(options.timeoutMs, options.signal);
  try {
    for await (const item of run(watchdog.signal, watchdog)) {
      if (options.signal.aborted) return;
      watchdog.pause();
      yield item;
      watchdog.kick();
    }
    // Some clients end a stream quietly when its request is aborted; a timeout is still a failure.
    if (watchdog.timedOut) throw new Error('timed out');
    watchdog.complete();
  } catch (err) {
    if (options.signal.aborted) return;
    throw toProviderError(err, {
      kind: options.kind,
      provider: options.provider,
      secrets: options.secrets,
      ...(watchdog.timedOut ? { timeoutMs: options.timeoutMs } : {}),
    });
  } finally {
    watchdog.dispose();
  }
}

import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/logger.js';
import type { ProviderContext } from '../core/provider-context.js';
import type { Providers } from '../session/provider-registry.js';
import { LISTEN_SAMPLE_RATE } from '../listen/types.js';
import { warmGrammarChecks } from '../listen/pocketsphinx/pocketsphinx-listen.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Loads the local engines before the first caller needs them: one word synthesized, one
 * listener opened on a moment of silence, the grammar checks' decoders. The first session then
 * starts as fast as any other.
 */
export async function warmUp(providers: Providers, env: Env, logger: Logger): Promise<void> {
  const started = performance.now();
  const context: ProviderContext = { env, logger, warn: () => undefined };
  const speak = providers.speak.lookup({ provider: { type: 'local' } })({ provider: { type: 'local' } }, context);
  const listen = providers.listen.lookup({ provider: { type: 'local' } })({ provider: { type: 'local' } }, context);
  const signal = new AbortController().signal;
  try {
    await Promise.all([
      (async () => {
        for await (const chunk of speak.synthesize('Ready.', signal)) void chunk;
      })(),
      (async () => {
        const stream = await listen.open({ speechStarted: () => undefined, interim: () => undefined, endOfTurn: () => undefined, failed: () => undefined });
        stream.write(new Int16Array(LISTEN_SAMPLE_RATE / 10));
        stream.close();
      })(),
      warmGrammarChecks(),
    ]);
  } finally {
    speak.close?.();
    listen.close?.();
  }
  logger.info({ ms: Math.round(performance.now() - started) }, 'engines loaded');
}

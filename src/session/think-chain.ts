import type { WarningNotice } from '../protocol/errors.js';
import type { ThinkEvent, ThinkProvider, ThinkRequest } from '../think/types.js';
import { withFallback } from './fallback.js';
import type { FallbackCodes } from './fallback.js';

export const SLOW_THINK_MS = 5000;

const THINK_CODES: FallbackCodes = {
  stage: 'think',
  slow: 'SLOW_THINK_REQUEST',
  slowDescription: 'answered',
  failed: 'THINK_REQUEST_FAILED',
  allFailed: 'FAILED_TO_THINK',
};

/** Streams one LLM request from an ordered fallback chain of LLMs. */
export function thinkWithFallback(
  providers: readonly ThinkProvider[],
  request: ThinkRequest,
  warn: (notice: WarningNotice) => void,
  slowMs = SLOW_THINK_MS,
): AsyncGenerator<ThinkEvent> {
  return withFallback({ providers, open: (provider) => provider.stream(request), signal: request.signal, codes: THINK_CODES, warn, slowMs });
}

/** Which stage of the pipeline a provider serves. */
export type ProviderKind = 'listen' | 'think' | 'speak';

/**
 * A provider failed. The session turns it into the protocol's Warning (and tries the next
 * provider of a fallback list) or Error (when all failed); it never crashes the process.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderKind,
    readonly provider: string,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.status = options?.status;
  }
  readonly status: number | undefined;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'APIUserAbortError');
}

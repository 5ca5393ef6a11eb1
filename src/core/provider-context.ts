import type { Logger } from 'pino';
import type { WarningNotice } from '../protocol/errors.js';
import type { AgentConfig } from '../protocol/agent-config.js';

/** What a provider factory may use: server-side configuration, a logger, and a way to warn. */
export interface ProviderContext {
  /** Server-side secrets and settings (OPENAI_API_KEY, PARLEY_* ...). Never logged. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Tell the session's client something non-fatal, e.g. that a local engine stands in. */
  warn(notice: WarningNotice): void;
  /** The session's settings, for providers that depend on another stage (e.g. a grammar from the rules). */
  readonly agent?: Readonly<AgentConfig>;
  /** LLM tokens one request used, where the provider reports them (the session's usage record). */
  reportTokens?(tokens: { inputTokens: number; outputTokens: number }): void;
}

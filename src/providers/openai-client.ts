import OpenAI from 'openai';
import type { Endpoint } from '../protocol/agent-config.js';
import { keyMayGoTo, serverKeyFor } from './keys.js';
import { outboundGuard } from './outbound.js';
import { dropEnvHeaders } from './sdk-env.js';
import { bearer, header, headersWithout } from './settings.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface OpenAiClientOptions {
  /** The provider type whose server key may go to `baseURL` (open_ai, groq, x_ai). */
  type: string;
  baseURL: string;
  endpoint: Endpoint | undefined;
  env: Env;
  defaultQuery?: Record<string, string>;
}

/**
 * An OpenAI SDK client for Parley's providers: the client's own key or, only where it may go
 * (README "Keys stay home"), the server's; requests through the outbound guard; no retries (the
 * session runs the fallback chain) and no SDK logging. Away from home the SDK's own reading of
 * process.env (OPENAI_ADMIN_KEY, which would replace the Authorization header, OPENAI_ORG_ID,
 * OPENAI_PROJECT_ID, OPENAI_CUSTOM_HEADERS) is switched off.
 */
export function openAiClient(options: OpenAiClientOptions): { client: OpenAI; apiKey: string } {
  const { type, baseURL, endpoint, env } = options;
  const home = keyMayGoTo(type, baseURL, env);
  // Self-hosted servers (Ollama, vLLM) need no key, but the SDK insists on one.
  const apiKey = bearer(header(endpoint, 'authorization')) ?? serverKeyFor(type, baseURL, env) ?? 'none';
  const client = new OpenAI({
    apiKey,
    baseURL,
    defaultHeaders: { ...(home ? {} : dropEnvHeaders('OPENAI_CUSTOM_HEADERS')), ...headersWithout(endpoint, ['authorization']) },
    ...(home ? {} : { adminAPIKey: null, organization: null, project: null }),
    defaultQuery: options.defaultQuery ?? {},
    maxRetries: 0,
    fetch: outboundGuard(env).fetch,
    logLevel: 'off',
  });
  return { client, apiKey };
}

import type { Endpoint, ProviderSettings } from '../protocol/agent-config.js';
import { header } from './settings.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Server-side env variables that hold the key of each managed provider type (any of them). */
const KEY_ENV: Record<string, readonly (readonly string[])[]> = {
  open_ai: [['OPENAI_API_KEY']],
  anthropic: [['ANTHROPIC_API_KEY']],
  google: [['GOOGLE_API_KEY'], ['GEMINI_API_KEY']],
  groq: [['GROQ_API_KEY']],
  x_ai: [['XAI_API_KEY']],
  deepgram: [['DEEPGRAM_API_KEY']],
  eleven_labs: [['ELEVENLABS_API_KEY'], ['ELEVEN_LABS_API_KEY']],
  cartesia: [['CARTESIA_API_KEY']],
  aws_bedrock: [['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
  aws_polly: [['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
};

/** The first env value set among `names`. */
export function envKey(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/**
 * Whether the server holds a key for this managed provider type. The session uses it to stand a
 * local engine in for a managed provider that this deployment has no account with.
 */
export function hasManagedKey(type: string, env: Env): boolean {
  const sets = KEY_ENV[type];
  return sets !== undefined && sets.some((names) => names.every((name) => envKey(env, name) !== undefined));
}

/**
 * Whether these settings can reach their provider: the client brought its own key (endpoint
 * headers or AWS credentials), points at its own server (self-hosted OpenAI-compatible servers
 * usually need no key), or the server holds a managed key.
 */
export function canAuthenticate(
  settings: { provider: ProviderSettings; endpoint?: Endpoint },
  env: Env,
): boolean {
  const { provider, endpoint } = settings;
  if (typeof provider['credentials'] === 'object' && provider['credentials'] !== null) return true;
  for (const name of ['authorization', 'x-api-key', 'api-key', 'xi-api-key', 'x-goog-api-key']) {
    if (header(endpoint, name) !== undefined) return true;
  }
  if (provider.type === 'open_ai' && endpoint !== undefined && !isOfficialHost(endpoint.url, 'api.openai.com')) return true;
  return hasManagedKey(provider.type, env);
}

export function isOfficialHost(url: string, host: string): boolean {
  try {
    return new URL(url).hostname === host;
  } catch {
    return false;
  }
}

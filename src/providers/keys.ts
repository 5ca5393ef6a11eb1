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
 * Where each managed provider's server key may go: the provider's own API (origins, or for AWS
 * the service's regional hosts) and the base URL an operator configured in the server env.
 */
interface Home {
  origins?: readonly string[];
  host?: RegExp;
  baseEnv?: string;
}

const HOMES: Record<string, Home> = {
  open_ai: { origins: ['https://api.openai.com'], baseEnv: 'OPENAI_BASE_URL' },
  anthropic: { origins: ['https://api.anthropic.com'], baseEnv: 'ANTHROPIC_BASE_URL' },
  google: { origins: ['https://generativelanguage.googleapis.com'] },
  groq: { origins: ['https://api.groq.com'] },
  x_ai: { origins: ['https://api.x.ai'] },
  deepgram: { origins: ['https://api.deepgram.com'], baseEnv: 'DEEPGRAM_BASE_URL' },
  eleven_labs: { origins: ['https://api.elevenlabs.io'] },
  cartesia: { origins: ['https://api.cartesia.ai'] },
  aws_bedrock: { host: /^bedrock-runtime(?:-fips)?\.[a-z]{2}(?:-[a-z]+)+-\d\.amazonaws\.com$/ },
  aws_polly: { host: /^polly(?:-fips)?\.[a-z]{2}(?:-[a-z]+)+-\d\.amazonaws\.com$/ },
};

/** A URL's origin with ws(s) read as http(s), the same server; undefined when it does not parse. */
export function originOf(url: string): { origin: string; url: URL } | undefined {
  try {
    const parsed = new URL(url.trim());
    const scheme = parsed.protocol === 'wss:' ? 'https:' : parsed.protocol === 'ws:' ? 'http:' : parsed.protocol;
    if (scheme !== 'https:' && scheme !== 'http:') return undefined;
    return { origin: `${scheme}//${parsed.host}`, url: parsed };
  } catch {
    return undefined;
  }
}

/** The provider's own API: one of its origins, or (AWS) one of its hosts over https on the default port. */
function isProviderApi(home: Home, target: { origin: string; url: URL }): boolean {
  if (home.origins?.includes(target.origin) === true) return true;
  return home.host !== undefined && target.url.protocol === 'https:' && target.url.port === '' && home.host.test(target.url.hostname);
}

/**
 * THE rule for server keys: a key the server holds for `type` may go to `targetUrl` only when its
 * origin (scheme, host and port; ws and http count as one) is the provider's official API, or is
 * the origin of the base URL the operator set in the server env (OPENAI_BASE_URL,
 * ANTHROPIC_BASE_URL, DEEPGRAM_BASE_URL). Anything a client chose gets no server key.
 */
export function keyMayGoTo(type: string, targetUrl: string, env: Env): boolean {
  const home = HOMES[type];
  const target = originOf(targetUrl);
  if (home === undefined || target === undefined) return false;
  if (isProviderApi(home, target)) return true;
  const base = home.baseEnv === undefined ? undefined : envKey(env, home.baseEnv);
  const configured = base === undefined ? undefined : originOf(base);
  return configured !== undefined && configured.origin === target.origin;
}

/** The server's key for `type` when it may go to `targetUrl` (see `keyMayGoTo`), else undefined. */
export function serverKeyFor(type: string, targetUrl: string, env: Env): string | undefined {
  return keyMayGoTo(type, targetUrl, env) ? envKey(env, ...(KEY_ENV[type] ?? []).flat()) : undefined;
}

/** The base URL an operator set for `type` in the server env (OPENAI_BASE_URL, ...), if any. */
export function operatorBaseUrl(type: string, env: Env): string | undefined {
  const name = HOMES[type]?.baseEnv;
  return name === undefined ? undefined : envKey(env, name);
}

/**
 * Whether these settings can reach their provider: the client brought its own key (endpoint
 * headers or AWS credentials), points an open_ai provider at its own server (self-hosted
 * OpenAI-compatible servers usually need no key; they get none of the server's), or the server
 * holds a managed key that may go where the settings point (`keyMayGoTo`).
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
  if (provider.type === 'open_ai' && endpoint !== undefined && !isOpenAiApi(endpoint.url)) return true;
  // Without an endpoint the provider calls its own API or the operator's base URL: both home.
  if (endpoint !== undefined && !keyMayGoTo(provider.type, endpoint.url, env)) return false;
  return hasManagedKey(provider.type, env);
}

/** Whether the URL is OpenAI's own API; any other open_ai endpoint is a self-hosted server. */
function isOpenAiApi(url: string): boolean {
  const target = originOf(url);
  return target !== undefined && HOMES['open_ai'] !== undefined && isProviderApi(HOMES['open_ai'], target);
}

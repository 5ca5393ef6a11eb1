// Deepgram's API as both listen and speak reach it.
import { operatorBaseUrl } from './keys.js';
import { trimTrailingSlashes } from '../core/url-path.js';

/** Base of Deepgram's API: `endpoint.url`, env DEEPGRAM_BASE_URL (tests, proxies) or the public one. */
export function deepgramBase(url: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const raw = url ?? operatorBaseUrl('deepgram', env) ?? 'https://api.deepgram.com';
  const parsed = new URL(raw.replace(/^ws/, 'http'));
  return `${parsed.origin}${trimTrailingSlashes(parsed.pathname).replace(/\/v\d+\/(speak|listen)$/, '')}`;
}

/** What one settings discovery list holds (GET /v1/agent/settings/<stage>/models). */
export interface OfferedModel {
  id: string;
  name: string;
  provider: string;
}

export type Stage = 'listen' | 'think' | 'speak';

/** The HTTP address of the server behind an agent URL, path prefix kept, agent path dropped. */
export function httpBase(agentUrl: string): string {
  const url = new URL(agentUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/(v1\/agent\/converse|agent)$/, '');
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/$/, '');
}

const authHeaders = (key: string): Record<string, string> => (key ? { authorization: `Token ${key}` } : {});

/** One discovery list; throws with the reason in words. */
export async function fetchModels(agentUrl: string, key: string, stage: Stage): Promise<OfferedModel[]> {
  const response = await fetch(`${httpBase(agentUrl)}/v1/agent/settings/${stage}/models`, { headers: authHeaders(key), cache: 'no-store' });
  if (response.status === 401) throw new Error(key ? 'the server did not accept the API key' : 'the server needs an API key to list them');
  if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
  const body = (await response.json()) as { models?: unknown };
  if (!Array.isArray(body.models)) throw new Error('the server sent no model list');
  return body.models.filter(
    (m): m is OfferedModel =>
      typeof m === 'object' && m !== null && typeof (m as OfferedModel).id === 'string' && typeof (m as OfferedModel).provider === 'string',
  );
}

/**
 * Why a WebSocket closed before it opened. A browser sees only close 1006 for a refused upgrade,
 * so the page asks over HTTP: a no-cors request fails only when nothing answers, and the
 * discovery endpoint checks the key as the agent path does
 * (docs/protocol-decisions.md#settings-discovery-and-why-a-session-failed).
 */
export async function whyRefused(agentUrl: string, key: string): Promise<string> {
  const base = httpBase(agentUrl);
  try {
    await fetch(`${base}/healthz`, { mode: 'no-cors', cache: 'no-store' });
  } catch {
    return `Can't reach ${agentUrl}: is the server running, and is the address right (Settings → Server URL)?`;
  }
  try {
    const response = await fetch(`${base}/v1/agent/settings/think/models`, { headers: authHeaders(key), cache: 'no-store' });
    if (response.status === 401) {
      return key ? 'This server did not accept the API key: check it in Settings.' : 'This server needs an API key: enter it in Settings.';
    }
  } catch {
    // A server without the discovery endpoints (or without CORS for them) can say no more.
  }
  return `The server at ${agentUrl} refused the session: it may be full or shutting down, or the path may be wrong.`;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OfferedModels } from '../runtime/offered-models.js';
import { offeredCredential } from './auth.js';

const PATH = /^\/v1\/agent\/settings\/(listen|think|speak)\/models\/?$/;

/**
 * The settings discovery endpoints (`GET /v1/agent/settings/{listen,think,speak}/models`, shaped as
 * Deepgram's think models list). They need the same credential as the agent
 * paths when keys are set, and allow any origin, since the credential is a header and never a
 * cookie (docs/protocol-decisions.md#settings-discovery-and-why-a-session-failed).
 * False when the path is not one of them.
 */
export async function serveDiscovery(
  models: OfferedModels,
  authorizes: (credential: string | undefined) => Promise<boolean>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const stage = PATH.exec(url.pathname)?.[1] as keyof OfferedModels | undefined;
  if (stage === undefined) return false;
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization', 'access-control-max-age': '600' };
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors, ...headers });
    response.end(request.method === 'HEAD' ? undefined : JSON.stringify(body));
  };
  if (request.method === 'OPTIONS') {
    response.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, HEAD' });
    response.end();
    return true;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    json(405, { err_code: 'METHOD_NOT_ALLOWED', err_msg: 'use GET' }, { allow: 'GET, HEAD, OPTIONS' });
    return true;
  }
  if (!(await authorizes(offeredCredential(request, url)))) {
    json(401, { err_code: 'INVALID_AUTH', err_msg: 'this server needs an API key (Authorization: Token <key>)' }, { 'www-authenticate': 'Token' });
    return true;
  }
  json(200, { models: models[stage] });
  return true;
}

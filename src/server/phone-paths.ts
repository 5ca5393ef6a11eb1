import type { IncomingMessage } from 'node:http';
import { telnyx, twilio } from '../telephony/dialects.js';
import type { PhoneDialect } from '../telephony/dialects.js';
import { offeredCredential } from './auth.js';

/** The carrier a path serves (`/twilio`, `/telnyx`, also after a path prefix), if any. */
export function phoneDialectForPath(pathname: string): PhoneDialect | undefined {
  const path = pathname.replace(/\/+$/, '');
  if (path.endsWith('/twilio')) return twilio;
  if (path.endsWith('/telnyx')) return telnyx;
  return undefined;
}

/**
 * Who may open a phone stream (docs/telephony.md#authentication), with the agent paths' own check
 * (`authorizes`: static keys, the store's keys and granted tokens). A credential at the upgrade
 * (`?token=`, an Authorization header, or Telnyx's stream auth token header) is checked there
 * (`false`: refuse with 401; `undefined`: admitted). Carriers often cannot set either, so when
 * keys are needed and none came, the start message must offer one as its `token` parameter: the
 * check is returned for then.
 */
export async function phoneAuthorization(
  authorizes: (credential: string | undefined) => Promise<boolean>,
  request: IncomingMessage,
  url: URL,
): Promise<((credential: string | undefined) => Promise<boolean>) | false | undefined> {
  const header = request.headers['x-telnyx-streaming-auth-token'];
  const offered = offeredCredential(request, url) ?? (typeof header === 'string' ? header : undefined);
  if (offered !== undefined) return (await authorizes(offered)) ? undefined : false;
  return (await authorizes(undefined)) ? undefined : authorizes;
}

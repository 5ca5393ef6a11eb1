import type { IncomingMessage } from 'node:http';
import { telnyx, twilio } from '../telephony/dialects.js';
import type { PhoneDialect } from '../telephony/dialects.js';
import { offeredCredential } from './auth.js';
import { trimTrailingSlashes } from '../core/url-path.js';

/** The carrier a path serves (`/twilio`, `/telnyx`, also after a path prefix), if any. */
export function phoneDialectForPath(pathname: string): PhoneDialect | undefined {
  const path = trimTrailingSlashes(pathname);
  if (path.endsWith('/twilio')) return twilio;
  if (path.endsWith('/telnyx')) return telnyx;
  return undefined;
}

/**
 * The credential a phone stream offers at its upgrade (docs/telephony.md#authentication): the
 * agent paths' (`?token=`, an Authorization header) or Telnyx's stream auth token header. Carriers
 * often cannot send one there; the start message's `token` parameter is checked then instead.
 */
export function phoneCredential(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers['x-telnyx-streaming-auth-token'];
  return offeredCredential(request, url) ?? (typeof header === 'string' ? header : undefined);
}

import type { ListenSettings, SpeakSettings, ThinkSettings } from '../protocol/agent-config.js';
import { ProtocolError } from '../protocol/errors.js';
import type { OutboundGuard } from '../providers/outbound.js';

interface SteerableSettings {
  listen?: ListenSettings;
  think?: readonly ThinkSettings[];
  speak?: readonly SpeakSettings[];
}

/** Every URL in the settings that the client chose, named by its field. */
function steeredUrls(settings: SteerableSettings): { field: string; url: string }[] {
  const at = (stage: string, list: readonly unknown[], i: number): string => (list.length > 1 ? `${stage}[${i}]` : stage);
  const urls: { field: string; url: string }[] = [];
  if (settings.listen?.endpoint !== undefined) urls.push({ field: 'listen.endpoint.url', url: settings.listen.endpoint.url });
  (settings.think ?? []).forEach((think, i, list) => {
    if (think.endpoint !== undefined) urls.push({ field: `${at('think', list, i)}.endpoint.url`, url: think.endpoint.url });
    think.functions.forEach((fn, j) => {
      if (fn.endpoint !== undefined) urls.push({ field: `${at('think', list, i)}.functions[${j}].endpoint.url`, url: fn.endpoint.url });
    });
  });
  (settings.speak ?? []).forEach((speak, i, list) => {
    if (speak.endpoint !== undefined) urls.push({ field: `${at('speak', list, i)}.endpoint.url`, url: speak.endpoint.url });
  });
  return urls;
}

/**
 * Refuses, as INVALID_SETTINGS, settings whose URLs are off limits as written (a loopback,
 * private or metadata address, `localhost`): the client hears it at once rather than at the
 * first request. Names are checked again on the address they resolve to (providers/outbound.ts).
 */
export function checkSteeredUrls(settings: SteerableSettings, guard: OutboundGuard): void {
  for (const { field, url } of steeredUrls(settings)) {
    const refusal = guard.refusalOf(url);
    if (refusal !== undefined) throw new ProtocolError('INVALID_SETTINGS', `${field}: ${refusal}`);
  }
}

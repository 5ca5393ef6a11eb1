import { ProviderError } from '../../core/errors.js';
import { quoteBody, readTextUpTo } from '../../providers/bounded-body.js';
import { redact } from '../../providers/errors.js';
import type { OutboundGuard } from '../../providers/outbound.js';
import type { PcmChunk } from '../types.js';
import { Pcm16Assembler } from '../../audio/pcm16.js';

/** The guard cuts an error body to this (64 KiB); reading it needs no other bound. */
const ERROR_DETAIL_BYTES = 64 * 1024;

/** The readable part of a provider's JSON error body, whatever its shape. */
export function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const candidates = [body['err_msg'], body['message'], body['detail'], body['error'], body['Message']];
    for (const candidate of candidates) {
      if (typeof candidate === 'string' && candidate !== '') return candidate;
      if (typeof candidate === 'object' && candidate !== null) {
        const nested = (candidate as Record<string, unknown>)['message'] ?? (candidate as Record<string, unknown>)['status'];
        if (typeof nested === 'string') return nested;
        return JSON.stringify(candidate).slice(0, 300);
      }
    }
  } catch {
    // Not JSON: the text itself.
  }
  return quoteBody(text, 300);
}

/**
 * POSTs a synthesis request and streams the raw PCM16 response as it arrives. A non-2xx answer
 * becomes a ProviderError with the status and the provider's own message.
 */
export async function* fetchPcm(
  guard: OutboundGuard,
  provider: string,
  url: string,
  init: RequestInit,
  sampleRate: number,
  secrets: readonly (string | undefined)[],
): AsyncIterable<PcmChunk> {
  // The guard's request, not fetch: audio chunks through a Node stream (no web streams per chunk).
  const response = await guard.request(url, init);
  if (response.status < 200 || response.status >= 300) {
    // The guard has already cut an error body to a size fit to read whole.
    const detail = errorDetail(await readTextUpTo(response.body, ERROR_DETAIL_BYTES).then(({ text }) => text, () => ''));
    throw new ProviderError(
      'speak',
      provider,
      redact(`${provider}: request failed with HTTP ${response.status}: ${detail}`, secrets),
      { status: response.status },
    );
  }
  const assembler = new Pcm16Assembler();
  for await (const bytes of response.body as AsyncIterable<Buffer>) {
    const samples = assembler.push(bytes);
    if (samples.length > 0) yield { samples, sampleRate };
  }
}

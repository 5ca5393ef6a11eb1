/**
 * Reads a response body as UTF-8 text, at most `maxBytes` of it: a hostile or broken server can
 * answer with any size, and `response.text()` would hold all of it. The rest is cancelled.
 */
export async function readTextUpTo(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  if (response.body === null) return { text: '', complete: true };
  const decoder = new TextDecoder();
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), complete: true };
      const room = maxBytes - bytes;
      bytes += value.byteLength;
      if (value.byteLength > room) {
        text += decoder.decode(value.subarray(0, room));
        return { text, complete: false };
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A server's error body for a description: one line, a few hundred characters. */
export function quoteBody(text: string, maxChars = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > maxChars ? `${line.slice(0, maxChars)}…` : line;
}

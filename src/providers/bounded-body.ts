/**
 * Reads a body (a fetch Response's, or a Node stream) as UTF-8 text, at most `maxBytes` of it: a
 * hostile or broken server can answer with any size, and reading it whole would hold all of it.
 * The rest is cancelled.
 */
export async function readTextUpTo(body: AsyncIterable<Uint8Array> | null, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  if (body === null) return { text: '', complete: true };
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  // Leaving the loop early cancels a web stream and destroys a Node one.
  for await (const value of body) {
    const room = maxBytes - bytes;
    bytes += value.byteLength;
    if (value.byteLength > room) return { text: text + decoder.decode(value.subarray(0, room)), complete: false };
    text += decoder.decode(value, { stream: true });
  }
  return { text: text + decoder.decode(), complete: true };
}

/** A server's error body for a description: one line, a few hundred characters. */
export function quoteBody(text: string, maxChars = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > maxChars ? `${line.slice(0, maxChars)}…` : line;
}

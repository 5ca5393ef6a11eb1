/**
 * Cuts streamed LLM text into sentences so each can go to TTS as soon as it is complete.
 * A sentence ends at . ! ? … (optionally followed by quotes/brackets) before whitespace, or at a
 * newline. Common abbreviations and decimal numbers do not end a sentence. Very long runs
 * without an end mark are cut at a clause boundary (else a space, else anywhere) so speech does
 * not wait for them, and so that no sentence, even of a single injected text, is long: a local
 * engine synthesizes a whole sentence at once (src/session/utterance.ts).
 */

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'no', 'approx', 'dept', 'inc', 'ltd', 'co',
]);

const MAX_SENTENCE_CHARS = 220;
const END = /[.!?…]+["'”’)\]]*(?=\s)|\n+/g;

export class SentenceSplitter {
  private buffer = '';

  /** Adds a text delta; returns the sentences it completed (trimmed, non-empty). */
  push(delta: string): string[] {
    this.buffer += delta;
    const sentences: string[] = [];
    let start = 0;
    END.lastIndex = 0;
    for (let match = END.exec(this.buffer); match !== null; match = END.exec(this.buffer)) {
      const end = match.index + match[0].length;
      if (match[0].startsWith('.') && this.isAbbreviation(this.buffer.slice(start, match.index))) continue;
      this.emit(this.buffer.slice(start, end), sentences);
      start = end;
    }
    this.buffer = this.buffer.slice(start);
    while (this.buffer.length > MAX_SENTENCE_CHARS) {
      const cut = cutPoint(this.buffer);
      this.emit(this.buffer.slice(0, cut), sentences);
      this.buffer = this.buffer.slice(cut);
    }
    return sentences;
  }

  /** The remaining text at the end of the stream. */
  flush(): string[] {
    const rest: string[] = [];
    this.emit(this.buffer, rest);
    this.buffer = '';
    return rest;
  }

  private isAbbreviation(text: string): boolean {
    const lastWord = /([\p{L}.]+)$/u.exec(text)?.[1]?.toLowerCase() ?? '';
    // A lone letter is an initial ("J. Smith").
    return ABBREVIATIONS.has(lastWord) || (lastWord.length === 1 && lastWord !== 'i');
  }

  private emit(text: string, into: string[]): void {
    let rest = text.trim();
    while (rest.length > MAX_SENTENCE_CHARS) {
      const cut = cutPoint(rest);
      into.push(rest.slice(0, cut).trim());
      rest = rest.slice(cut).trim();
    }
    if (rest !== '') into.push(rest);
  }
}

/** Where to cut a run longer than MAX_SENTENCE_CHARS: after a clause, else at a space, else at the limit. */
function cutPoint(text: string): number {
  const window = text.slice(0, MAX_SENTENCE_CHARS);
  const clause = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
  if (clause > 40) return clause + 1;
  const space = window.lastIndexOf(' ');
  if (space > 0) return space;
  // Not inside a surrogate pair.
  const last = text.charCodeAt(MAX_SENTENCE_CHARS - 1);
  return last >= 0xd800 && last <= 0xdbff ? MAX_SENTENCE_CHARS - 1 : MAX_SENTENCE_CHARS;
}

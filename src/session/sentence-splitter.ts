/**
 * Cuts streamed LLM text into sentences so each can go to TTS as soon as it is complete.
 * A sentence ends at . ! ? … (optionally followed by quotes/brackets) before whitespace, or at a
 * newline. Common abbreviations and decimal numbers do not end a sentence. Very long runs
 * without an end mark are cut at a clause boundary so speech does not wait for them.
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
    if (this.buffer.length > MAX_SENTENCE_CHARS) this.cutLongRun(sentences);
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

  private cutLongRun(sentences: string[]): void {
    const window = this.buffer.slice(0, MAX_SENTENCE_CHARS);
    const clause = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    const cut = clause > 40 ? clause + 1 : window.lastIndexOf(' ');
    if (cut <= 0) return;
    this.emit(this.buffer.slice(0, cut), sentences);
    this.buffer = this.buffer.slice(cut);
  }

  private emit(text: string, into: string[]): void {
    const sentence = text.trim();
    if (sentence !== '') into.push(sentence);
  }
}

// Spoken numbers and the arithmetic of the rules engine's `compute` (rules-schema.ts): speech
// recognizers write numbers as words, typed text as digits, so both are read.

const UNITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** The largest number a `number` slot takes. */
export const MAX_SPOKEN_NUMBER = 100;

/** 0 to 100 in words, as a recognizer writes them ("twenty one", "one hundred"). */
function spelled(n: number): string {
  if (n < 20) return UNITS[n] ?? '';
  if (n === 100) return 'one hundred';
  const ones = n % 10;
  return `${TENS[Math.floor(n / 10) - 2] ?? ''}${ones === 0 ? '' : ` ${UNITS[ones] ?? ''}`}`;
}

const VALUES = new Map<string, number>();
for (let n = 0; n <= MAX_SPOKEN_NUMBER; n++) {
  VALUES.set(spelled(n), n);
  VALUES.set(String(n), n);
}
VALUES.set('a hundred', 100);

/** What a `number` slot may take: every spelling of 0 to 100, words and digits. */
export function numberWords(): string[] {
  return [...VALUES.keys()];
}

/** The operator words `compute` understands, each with its operation. */
const OPERATORS: [string, (a: number, b: number) => number][] = [
  ['plus', (a, b) => a + b],
  ['minus', (a, b) => a - b],
  ['times', (a, b) => a * b],
  ['multiplied by', (a, b) => a * b],
  ['divided by', (a, b) => a / b],
];

/**
 * Evaluates "<number> <operator> <number>" ("twenty one plus three", "7 divided by 2") and
 * returns the result as a voice should say it, or undefined when it is not such a sum or has no
 * finite result (a division by zero).
 */
export function computeSpoken(expression: string): string | undefined {
  const text = expression.trim().toLowerCase().replace(/\s+/g, ' ');
  for (const [word, operation] of OPERATORS) {
    const at = text.indexOf(` ${word} `);
    if (at < 0) continue;
    const left = VALUES.get(text.slice(0, at));
    const right = VALUES.get(text.slice(at + word.length + 2));
    if (left === undefined || right === undefined) return undefined;
    const result = operation(left, right);
    if (!Number.isFinite(result)) return undefined;
    const rounded = Math.round(result * 100) / 100;
    return rounded < 0 ? `minus ${-rounded}` : String(rounded);
  }
  return undefined;
}

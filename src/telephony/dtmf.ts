/** The keys of a telephone keypad (and the four of the extended one). */
const DIGIT = /^[0-9*#A-D]$/;

/** A pause this long after the last key ends an entry (docs/telephony.md#dtmf). */
const DTMF_PAUSE_MS = 1500;
/** Keys in one entry; more are sent as another. */
const MAX_DTMF_DIGITS = 32;

export function isDtmfDigit(digit: string): boolean {
  return DIGIT.test(digit);
}

/** The user message an entry becomes (docs/telephony.md#dtmf). */
export function dtmfMessage(digits: string): string {
  return `The caller pressed ${digits}`;
}

/**
 * Gathers keypresses into one entry: `#` ends it at once, otherwise a pause of DTMF_PAUSE_MS
 * does, so "1234#" reaches the conversation as one user message, not five.
 */
export class DtmfCollector {
  private digits = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly entered: (digits: string) => void) {}

  press(digit: string): void {
    this.digits += digit;
    clearTimeout(this.timer);
    if (digit === '#' || this.digits.length >= MAX_DTMF_DIGITS) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => this.flush(), DTMF_PAUSE_MS);
  }

  /** Stops; returns how many keys were pressed and never entered. */
  close(): number {
    clearTimeout(this.timer);
    const pending = this.digits.length;
    this.digits = '';
    return pending;
  }

  private flush(): void {
    clearTimeout(this.timer);
    const digits = this.digits;
    this.digits = '';
    if (digits !== '') this.entered(digits);
  }
}

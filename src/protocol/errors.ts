import type { ErrorCode, WarningCode } from './codes.js';

/** A client message or setting that cannot be honoured; carries the protocol code to report. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** A non-fatal condition worth telling the client about. */
export interface WarningNotice {
  code: WarningCode;
  description: string;
}

// The admin API's two kinds of answer besides a JSON object: a refusal (a row of the error table)
// and a raw answer (another media type, or JSON with its own status).
import { ERRORS, errorCode, type ErrorCode, type ErrorStatus } from '../errors.js';

/**
 * An admin API refusal: a row of the error table (by code, or by status for its default code) and
 * a sentence. Answered as `{"error": <sentence>, "code": <code>, "param"?: <the parameter at fault>}`.
 */
export class HttpError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(
    codeOrStatus: ErrorCode | ErrorStatus,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.code = errorCode(codeOrStatus);
    this.status = ERRORS[this.code].status;
  }

  body(): { error: string; code: ErrorCode; param?: string } {
    return { error: this.message, code: this.code, ...(this.param ? { param: this.param } : {}) };
  }
}

/** A non-JSON answer (e.g. Prometheus text), or a JSON one with its own status. */
export class RawResponse {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: string,
  ) {}
}

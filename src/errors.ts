// Every way a request can end without reaching the upstream, in one closed table. Stages return
// one of these codes; pipeline/respond.ts turns it into a status and a page. The error table in
// docs/request-flow.md is this table.

export const ERRORS = {
  route_not_found: { status: 404, title: 'Not found', detail: 'No application is configured for this host and path.' },
  bad_request: { status: 400, title: 'Bad request', detail: 'The request could not be understood.' },
  unauthenticated: { status: 401, title: 'Sign-in required', detail: 'A valid session or token is required.' },
  headers_too_large: { status: 431, title: 'Request headers too large', detail: 'The request has more header fields than the gateway accepts.' },
  not_implemented: { status: 501, title: 'Not implemented', detail: 'The request uses a transfer coding the gateway does not support.' },
  request_timeout: { status: 408, title: 'Request timeout', detail: 'The request body did not arrive in time.' },
  too_many_requests: { status: 429, title: 'Too many requests', detail: 'This client address has too many requests in flight.' },
  forbidden: { status: 403, title: 'Access denied', detail: 'You do not have access to this application.' },
  upstream_unavailable: { status: 502, title: 'Bad gateway', detail: 'The application could not be reached.' },
  upstream_timeout: { status: 504, title: 'Gateway timeout', detail: 'The application did not answer in time.' },
  service_unavailable: { status: 503, title: 'Service unavailable', detail: 'The gateway cannot serve this request right now.' },
  internal_error: { status: 500, title: 'Internal error', detail: 'The gateway failed; the request id identifies the log line.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Credential failures: a closed set, produced in auth/ and nowhere else. */
export const TOKEN_REASONS = [
  'token_missing',
  'token_malformed',
  'token_too_large',
  'bad_signature',
  'alg_not_allowed',
  'expired',
  'not_yet_valid',
  'issuer_mismatch',
  'audience_mismatch',
  'unknown_key',
  'keys_unavailable',
  'revoked',
  'conflicting_credentials',
] as const;
export type TokenReason = (typeof TOKEN_REASONS)[number];

/** A stage's "no": an expected outcome, not an exception. */
export interface Rejection {
  code: ErrorCode;
  /** Machine-readable reason (e.g. a TokenReason, `encoded_slash`, `no_policy_matched`). */
  reason: string;
  /** Shown to the client when safe (bad_request details, say). */
  message?: string;
  /** Extra response headers (WWW-Authenticate, Location …). */
  headers?: Record<string, string>;
  /** Redirect target instead of a page (browser login). */
  redirect?: string;
}

export function reject(code: ErrorCode, reason: string, extra: Omit<Rejection, 'code' | 'reason'> = {}): Rejection {
  return { code, reason, ...extra };
}

// Every way a request can end in an error, on every surface (data listener, parser-level refusals,
// admin API, sign-in pages, SCIM), in one closed table: code → status → title and default message.
// Stages return one of these codes and pipeline/respond.ts turns it into a page; the admin API
// answers `{"error": <sentence>, "code": <code>}`; sign-in pages and SCIM bodies take their status
// from here. The error table in docs/request-flow.md is this table.

export const ERRORS = {
  // The request path (data listener), and Node's parser refusals on it.
  route_not_found: { status: 404, title: 'Not found', detail: 'No application is configured for this host and path.' },
  bad_request: { status: 400, title: 'Bad request', detail: 'The request could not be understood.' },
  unauthenticated: { status: 401, title: 'Sign-in required', detail: 'A valid session or token is required.' },
  headers_too_large: { status: 431, title: 'Request headers too large', detail: 'The request headers are larger or more numerous than the gateway accepts.' },
  not_implemented: { status: 501, title: 'Not implemented', detail: 'The request uses a transfer coding the gateway does not support.' },
  request_timeout: { status: 408, title: 'Request timeout', detail: 'The request did not arrive in time.' },
  too_many_requests: { status: 429, title: 'Too many requests', detail: 'This client address has too many requests in flight.' },
  forbidden: { status: 403, title: 'Access denied', detail: 'You do not have access to this application.' },
  upstream_unavailable: { status: 502, title: 'Bad gateway', detail: 'The application could not be reached.' },
  upstream_timeout: { status: 504, title: 'Gateway timeout', detail: 'The application did not answer in time.' },
  service_unavailable: { status: 503, title: 'Service unavailable', detail: 'The gateway cannot serve this request right now.' },
  internal_error: { status: 500, title: 'Internal error', detail: 'The gateway failed; the request id identifies the log line.' },
  // The admin API, sign-in endpoints and SCIM.
  invalid_parameter: { status: 400, title: 'Invalid parameter', detail: 'A parameter or body field is missing or malformed.' },
  not_found: { status: 404, title: 'Not found', detail: 'No such resource.' },
  method_not_allowed: { status: 405, title: 'Method not allowed', detail: 'This endpoint does not answer that method.' },
  conflict: { status: 409, title: 'Conflict', detail: 'The resource conflicts with one that exists, or changed meanwhile.' },
  precondition_failed: { status: 412, title: 'Precondition failed', detail: 'The resource is not at the version the request names.' },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body is larger than the endpoint accepts.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', detail: 'The request body is not of a type the endpoint reads.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;
/** A status some code of the table answers with (and no other). */
export type ErrorStatus = (typeof ERRORS)[ErrorCode]['status'];

/**
 * The code a surface that speaks in statuses (an admin route's HttpError(404, …), a SCIM error, a
 * sign-in page) answers with: each status in the table has exactly one default code.
 */
const CODE_OF_STATUS: Record<ErrorStatus, ErrorCode> = {
  400: 'invalid_parameter',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'headers_too_large',
  500: 'internal_error',
  501: 'not_implemented',
  502: 'upstream_unavailable',
  503: 'service_unavailable',
  504: 'upstream_timeout',
};

/** A code, or a status given by its default code: always a row of the table. */
export function errorCode(codeOrStatus: ErrorCode | ErrorStatus): ErrorCode {
  return typeof codeOrStatus === 'number' ? CODE_OF_STATUS[codeOrStatus] : codeOrStatus;
}

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
  /** The session's identity could not be refreshed for longer than refresh_max_stale (the IdP unreachable). */
  'identity_stale',
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
